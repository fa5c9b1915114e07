"""Unit tests of core.diff_render: stable plain text, ANSI colours, e-mail-safe and escaped HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from core.diff_render import render_html, render_text
from core.diffing import diff_versions
from tests.diffing.helpers import PARAGRAPHS, record, sub

SCRIPT = "<script>alert('x')</script>"


def _changes():
    new = sub(4, "0.66", "0.68")
    new[7] = new[7].replace("市医保局", "市卫健委")
    new = [*new[:9], *new[10:], "四、附则。本办法由市医疗保障局负责解释。"]
    return diff_versions(record(), record(new, validity="失效", attachments=[]))


EXPECTED_TEXT = """\
摘要：正文修改 2 处、新增 1 段、删除 1 段（一、总体要求；二、工作措施；三、本通知自印发之日起施…等）：基准等级系数 0.66 → 0.68；有效性 有效 → 失效；附件删除 附件1.pdf

信息变更
- 有效性：有效
+ 有效性：失效
- 附件：附件1.pdf

数字变化
  基准等级系数 0.66 → 0.68

【一、总体要求 / （一）基准等级系数。】
~ （一）基准等级系数。三级医疗机构基准等级系数为[-0.66-]{+0.68+}，二级医疗机构为0.58。

【二、工作措施 / （一）加强基金监管。】
~ （一）加强基金监管。各统筹区应当加强对定点医疗机构的稽核，严肃查处欺诈骗保行为，对违规机构予以通报。监管结果由市[-医保局-]{+卫健委+}负责汇总并向社会公开。对屡查屡犯的机构依法暂停医保服务协议。

【三、本通知自印发之日起施行。】
- 三、本通知自印发之日起施行。

【四、附则。】
+ 四、附则。本办法由市医疗保障局负责解释。
"""


def test_render_text_is_stable() -> None:
    assert render_text(_changes()) == EXPECTED_TEXT
    assert render_text(_changes()) == render_text(_changes())


LONG = "".join(f"第{n}项，各统筹区应当按照省级病种目录库执行，不得自行调整。" for n in range(1, 9))


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        pytest.param(
            False, "~ ……第4项，各统筹区应当按照[-省-]{+市+}级病种目录库执行，不得自行调整。……\n", id="trimmed"
        ),
        pytest.param(
            True,
            "~ "
            + LONG.replace("第4项，各统筹区应当按照省级", "第4项，各统筹区应当按照[-省-]{+市+}级")
            + "\n",
            id="full",
        ),
    ],
)
def test_render_text_trims_long_paragraphs_to_changed_sentences(full, expected) -> None:
    new = LONG.replace("第4项，各统筹区应当按照省级", "第4项，各统筹区应当按照市级")
    text = render_text(diff_versions(record([LONG]), record([new])), full=full)
    assert text.endswith(expected)


def test_render_text_color() -> None:
    text = render_text(_changes(), color=True)
    assert "\x1b[31m- 有效性：有效\x1b[0m" in text
    assert "\x1b[32m+ 有效性：失效\x1b[0m" in text
    assert "\x1b[31m\x1b[9m0.66\x1b[0m\x1b[32m0.68\x1b[0m" in text
    assert "[-" not in text
    assert "{+" not in text
    assert "\x1b" not in render_text(_changes())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(record(), record(), "摘要：无实质变化\n", id="empty"),
        pytest.param(None, record(), "摘要：新文档\n", id="new"),
        pytest.param(
            record(attachments=[{"name": "a.pdf", "sha256": "1"}]),
            record(attachments=[{"name": "a.pdf", "sha256": "2"}]),
            "摘要：附件更新 a.pdf\n\n信息变更\n~ 附件（内容更新）：a.pdf\n",
            id="attachment-replaced",
        ),
    ],
)
def test_render_text_small_cases(old, new, expected) -> None:
    assert render_text(diff_versions(old, new)) == expected


def test_render_text_drops_terminal_control_characters() -> None:
    cs = diff_versions(record(), record([*PARAGRAPHS, "恶意\x1b[2J内容\x07。"]))
    text = render_text(cs, color=True)
    assert "\x1b[2J" not in text
    assert "\x07" not in text
    assert "恶意[2J内容。" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data) -> None:
        self.text.append(data)


def _hostile():
    new = sub(7, "严肃查处", f"严肃查处{SCRIPT}")
    new.append(f"五、{SCRIPT}<img src=x onerror=alert(1)>")
    return diff_versions(
        record(),
        record(new, validity=f"失效{SCRIPT}", attachments=[{"name": f"{SCRIPT}.pdf", "sha256": "9"}]),
    )


def test_render_html_escapes_everything_from_the_page() -> None:
    html = render_html(
        _hostile(),
        title=f"通知{SCRIPT}",
        url="https://ybj.example.gov.cn/a?x=1&y=<2>",
        archive_url="javascript:alert(1)",
    )
    assert "<script" not in html.lower()
    assert "<img" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;" in html
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "table",
        "tr",
        "td",
        "th",
        "div",
        "span",
        "a",
    }
    assert not parser.attrs & {"class", "onerror", "onclick", "src"}
    text = "".join(parser.text)
    assert f"通知{SCRIPT}" in text  # shown to the reader as text
    assert f"五、{SCRIPT}<img src=x onerror=alert(1)>" in text
    assert 'href="https://ybj.example.gov.cn/a?x=1&amp;y=&lt;2&gt;"' not in html  # not a safe URL: no link


def test_render_html_is_email_safe() -> None:
    html = render_html(
        _changes(),
        title="宁德市医疗保障局关于调整DIP基准等级系数的通知",
        url="https://ybj.example.gov.cn/zcwj/t1.html",
        archive_url="https://watch.example.org/d/1",
    )
    assert '<meta charset="utf-8">' in html
    assert "<style" not in html
    assert "<link" not in html
    assert "<script" not in html
    assert '<a href="https://ybj.example.gov.cn/zcwj/t1.html"' in html
    assert '<a href="https://watch.example.org/d/1"' in html
    deleted = '<span style="background-color:#ffebe9;color:#82071e;text-decoration:line-through">'
    inserted = '<span style="background-color:#e6ffec;color:#055d20;text-decoration:none">'
    assert f"{deleted}0.66</span>{inserted}0.68</span>" in html  # in the paragraph and the figures table
    assert html.count(f"{deleted}0.66</span>") == 2
    assert f"{deleted}有效</span>" in html
    assert "一、总体要求 / （一）基准等级系数。" in html
    assert html.count("<table") == html.count("</table>")
