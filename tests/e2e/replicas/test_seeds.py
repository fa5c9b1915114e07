"""The five seed documents, served on their portals in each family's real markup."""

from __future__ import annotations

import re

import httpx
import lxml.html
import pytest

from replicas.server import ReplicaServer
from tests.replicas.helpers import (
    assert_in_order,
    client,
    decode,
    doc_url,
    header_charset,
    meta_charset,
    page,
    visible_text,
)

SEED_IDS = {"000": 2025010, "001": 1, "002": 2934567, "003": 1728394, "004": 2140001}
SEED_PORTALS = {
    "000": "guangdong_zhongshan",
    "001": "sichuan",
    "002": "fujian_xiamen",
    "003": "fujian_ningde",
    "004": "guangdong_zhongshan",
}


def get(server: ReplicaServer, doc_id: int, variant: str | None = None) -> tuple[int, str, httpx.Response]:
    """(status, decoded markup, response) of a document's page (its primary URL by default)."""
    with client() as c:
        resp = c.get(doc_url(server, doc_id, variant))
    return resp.status_code, decode(resp), resp


@pytest.mark.parametrize("seed", sorted(SEED_IDS))
def test_seed_is_served_on_its_portal(replicas: ReplicaServer, seed: str) -> None:
    doc = replicas.world.doc(SEED_IDS[seed])
    assert doc.seed is not None
    assert doc.seed.startswith(seed)
    assert doc.portal_id == SEED_PORTALS[seed]
    status, markup, _ = get(replicas, doc.doc_id)
    assert status == 200
    text = visible_text(markup)
    assert doc.display_title in text
    assert_in_order(text, [b.text for b in doc.blocks])
    listed = page(replicas, doc.portal_id, replicas.world.site(doc.portal_id).column_path(doc.column))
    assert doc.title in decode(listed)


@pytest.mark.parametrize("seed", ["000", "001", "002", "003"])
def test_seed_bodies_use_fullwidth_punctuation(replicas: ReplicaServer, seed: str) -> None:
    doc = replicas.world.doc(SEED_IDS[seed])
    body = doc.body_text
    for char in "，：（）":
        assert char in body
    # ASCII punctuation survives only between digits (ratios such as 1:2:7)
    assert not re.search(r"[(),;]|(?<!\d):|:(?!\d)", body)
    _, markup, _ = get(replicas, doc.doc_id)
    assert "，" in markup
    assert "（" in markup


def test_xiamen_seed_grid_metadata(replicas: ReplicaServer) -> None:
    status, markup, resp = get(replicas, SEED_IDS["002"])
    assert status == 200
    assert header_charset(resp) == "utf-8"
    tree = lxml.html.fromstring(markup)
    cells = tree.xpath("//table[@class='xxgk_table']//tr/*")
    grid = {cells[i].text_content(): cells[i + 1].text_content() for i in range(0, len(cells) - 1, 2)}
    assert grid["索 引 号"] == "XM00149-09-01-2025-007"
    assert grid["文 号"] == "厦医保函〔2025〕33号"
    assert grid["主题分类"] == "人大"
    assert grid["发布机构"] == "厦门市医疗保障局"
    assert grid["生成日期"] == "2025-05-06"
    assert grid["有效性"] == "有效"
    assert grid["标 题"] == "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函"
    # the grid sits above the title; the body repeats the 文号 centred, then the reply class
    assert markup.index("xxgk_table") < markup.index('<h1 class="article_title">')
    body = tree.xpath("//div[@class='TRS_Editor']")[0].text_content()
    assert_in_order(body, ["厦医保函〔2025〕33号", "答复类别：C类", "叶少静代表："])
    assert '<p style="text-align: center;">厦医保函〔2025〕33号</p>' in markup
    for chrome in (
        "发布时间：2025-05-07 16:18",
        "字号：",
        "分享：",
        "附件：",
        "扫一扫在手机上查看当前页面",
        "[打印]",
        "相关文章",
    ):
        assert chrome in markup
    assert '<meta name="ArticleTitle"' in markup
    assert '<meta name="PubDate"' not in markup  # this Fujian template omits it


def test_ningde_seed_gbk_bullets(replicas: ReplicaServer) -> None:
    doc = replicas.world.doc(SEED_IDS["003"])
    _, _, resp = get(replicas, doc.doc_id)
    raw = resp.content
    content_type = resp.headers["content-type"]
    assert content_type == "text/html"  # no charset in the header
    assert meta_charset(raw) == "gb2312"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    markup = raw.decode("gbk")
    text = visible_text(markup)
    # U+2002/U+2003 (and the bullet) are not in GBK: the page carries them as &#8194; / &#8195; / &#8226;
    assert "索&#8194;引&#8194;号" in markup
    bullets = [li.text_content() for li in lxml.html.fromstring(markup).xpath("//ul[@class='xxgk-list']/li")]
    assert "• 索\u2002引\u2002号：ND00263-0200-2025-00071" in bullets
    assert "• 发文字号：宁医保函〔2025〕116号" in bullets
    assert "• 标\u2003\u2003题：关于市五届人大四次会议第1472号建议的答复" in bullets
    assert "• 有\u2002效\u2002性：有效" in bullets
    assert any("\u2002" in b.split("：")[0] for b in bullets)
    assert any("\u2003" in b.split("：")[0] for b in bullets)
    salutation = "、".join(doc.deputies) + "代表："
    assert len(doc.deputies) == 16
    assert_in_order(
        text,
        [salutation, "领导署名：陈玉良", "联系电话：0593-2079766", "宁德市医疗保障局", "（此件主动公开）"],
    )
    assert "相关文章" in text
    assert "扫一扫在手机上查看当前页面" in text


def test_sichuan_seed_has_no_metadata_and_no_charset(replicas: ReplicaServer) -> None:
    doc = replicas.world.doc(SEED_IDS["001"])
    status, markup, resp = get(replicas, doc.doc_id)
    assert status == 200
    assert resp.headers["content-type"] == "text/html"
    assert b"charset" not in resp.content
    assert "ETag" not in resp.headers
    assert "Last-Modified" in resp.headers
    assert "索引号" not in markup
    assert "索 引 号" not in markup
    assert "分享到" in markup
    assert 'id="cmsArticleContent"' in markup
    text = visible_text(markup)
    assert_in_order(text, ["分享到", "刘建辉委员：", "四川省医疗保障局", "2025年6月30日"])
    assert doc.meeting is None
    assert doc.proposal_no is None


def test_zhongshan_seed_title_tag_on_every_url(replicas: ReplicaServer) -> None:
    doc = replicas.world.doc(SEED_IDS["000"])
    assert set(replicas.world.urls(doc.doc_id)) == {"gkmlpt", "nfcms", "mobile"}
    for variant in ("gkmlpt", "nfcms", "mobile"):
        status, markup, _ = get(replicas, doc.doc_id, variant)
        assert status == 200
        title = lxml.html.fromstring(markup).findtext(".//title")
        assert title == "【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函"
        text = visible_text(markup)
        assert_in_order(text, ["黄彩欢代表：", "部分采纳", "吸收采纳", "中山市医疗保障局", "2025年9月8日"])
    _, nfcms, _ = get(replicas, doc.doc_id, "nfcms")
    assert "信息来源：本网" in nfcms
    assert "发布日期：2025-09-16" in nfcms
    assert "&nbsp;>&nbsp;" in nfcms  # breadcrumb separators
    assert "索引号" not in nfcms  # the NFCMS layer shows no 信息公开 table


def test_zhongshan_report_seed_is_not_a_reply(replicas: ReplicaServer) -> None:
    doc = replicas.world.doc(SEED_IDS["004"])
    status, markup, _ = get(replicas, doc.doc_id, "nfcms")
    assert status == 200
    assert "【建议提案】" not in markup
    assert lxml.html.fromstring(markup).findtext(".//title") == "中山市医疗保障局2022年上半年工作总结"
    truth = replicas.world.truth(doc.doc_id)
    assert truth["kind"] == "report"
    assert truth["deputies"] == []


def test_sichuan_declares_no_charset_anywhere(replicas: ReplicaServer) -> None:
    site = replicas.world.site("sichuan")
    with client() as c:
        for path in ("/", site.column_path("jyta"), site.column_path("zcwj")):
            resp = c.get(replicas.urls["sichuan"] + path)
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "text/html"
            assert b"charset" not in resp.content
            resp.content.decode("utf-8")  # UTF-8 all the same
