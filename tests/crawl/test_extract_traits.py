"""Shared-trait extraction (``spiders.extract``) on small pages that exercise its fast paths: the attachment
links found among many others in one search, the metadata block's labels tested by their first character."""

from __future__ import annotations

import sys

from parsel import Selector

from core.records import Attachment
from spiders import extract


def page(body: str) -> Selector:
    return Selector(text=f"<html><head><title>t</title></head><body>{body}</body></html>")


def test_whitespace_is_every_space_character() -> None:
    assert set(extract._WHITESPACE) == {ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace()}


def test_attachments_among_many_links_in_page_order_each_once() -> None:
    nav = "".join(f'<a href="/col/{i}.html">栏目{i}</a>' for i in range(120))
    body = (
        nav
        + '<a href="files/A.PDF">附件1：评分表</a>'
        + '<a href="/x/download.html">not a file</a>'
        + '<a href="/downfile.jsp?id=7"><b>附件2</b></a>'
        + '<a href="files/A.PDF">the same file again</a>'
        + '<a href="files/table.xlsx?v=2"></a>'
        + '<a href="files/report.pdf.html">a page about a PDF</a>'
        + '<a href="files/B.docx">附件3</a><a>no href</a><a href="">empty</a>'
    )
    found = extract.attachments(page(body), "http://bureau.example/art/2025/1/1/a.html")
    assert found == [
        Attachment(name="附件1：评分表", url="http://bureau.example/art/2025/1/1/files/A.PDF"),
        Attachment(name="附件2", url="http://bureau.example/downfile.jsp?id=7"),
        Attachment(name="table.xlsx?v=2", url="http://bureau.example/art/2025/1/1/files/table.xlsx?v=2"),
        Attachment(name="附件3", url="http://bureau.example/art/2025/1/1/files/B.docx"),
    ]


def test_attachment_links_to_one_target_take_the_first_links_name() -> None:
    body = '<a href="a.doc">第一</a><a href="b.html">x</a><a href="a.doc">第二</a><a href="c.zip">第三</a>'
    found = extract.attachments(page(body), "http://h.example/p/")
    assert [(a.name, a.url) for a in found] == [
        ("第一", "http://h.example/p/a.doc"),
        ("第三", "http://h.example/p/c.zip"),
    ]


def test_attachments_with_chinese_file_names_and_upper_case() -> None:
    body = '<a href="/a.html">首页</a><a href="/files/附件一.PDF">附件一</a><a href="/files/名单.Xls?x=1">名单</a>'
    found = extract.attachments(page(body), "http://h.example/")
    assert [a.url for a in found] == [
        "http://h.example/files/附件一.PDF",
        "http://h.example/files/名单.Xls?x=1",
    ]


def test_attachment_pattern_is_lower_case() -> None:
    """The joined targets are searched lower-cased with a case-sensitive copy of the pattern when they are ASCII."""
    assert extract.ATTACHMENT_HREF.pattern == extract.ATTACHMENT_HREF.pattern.lower()


def test_no_attachments() -> None:
    assert extract.attachments(page('<a href="/a.html">a</a>'), "http://h.example/") == []
    assert extract.attachments(page("<p>no links</p>"), "http://h.example/") == []


def test_metadata_block_labels_in_cells_and_in_one_text() -> None:
    body = (
        "<script>var 索引号 = '：x';</script>"
        "<table><tr><td>索\u2002引\u2002号：</td><td>11350200-2025-001</td><td>发布机构</td><td>厦门市医疗保障局</td></tr>"
        "<tr><td>生成日期</td><td>2025-06-01</td></tr></table>"
        "<div>• 发文字号：医保函〔2021〕135号 | 主题分类：医疗保障</div>"
        "<p>根据有关规定：现将文号通知如下。</p>"
        "<div>有效性</div><div>有效</div>"
    )
    assert extract.metadata_block(page(body)) == {
        "索引号": "11350200-2025-001",
        "发布机构": "厦门市医疗保障局",
        "生成日期": "2025-06-01",
        "发文字号": "医保函〔2021〕135号",
        "主题分类": "医疗保障",
        "有效性": "有效",
    }
