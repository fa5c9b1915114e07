from __future__ import annotations

from typing import Any

import pytest

from core.normalize import build_record, listing_fields, meta_tag_fields, url_date
from core.records import (
    KIND_NOTICE,
    KIND_POLICY,
    KIND_PROPOSAL_REPLY,
    KIND_SUGGESTION_REPLY,
    Attachment,
    DocumentRecord,
    RawPage,
)

REPLY_BODY = """
<p style="text-align:center">厦医保函〔2025〕33号</p>
<p>答复类别：C类</p>
<p>叶少静代表：</p>
<p>&emsp;&emsp;《关于进一步优化医疗保障的建议》（第0105号）收悉。现答复如下：</p>
<p>&emsp;&emsp;一、办理工作背景</p>
<p>&emsp;&emsp;部分采纳该建议。我局接到该建议后……</p>
<p>&emsp;&emsp;厦门市医疗保障局<br>2025年5月6日</p>
"""


def page(**kwargs: Any) -> RawPage:
    defaults: dict[str, Any] = {
        "portal_id": "xm-ybj",
        "column": "jytabl",
        "column_kind": "replies",
        "url": "http://ybj.xm.test/zwgk/jytabl/202505/t20250507_1.htm",
        "status": 200,
        "html": "",
    }
    defaults.update(kwargs)
    return RawPage(**defaults)


def build(**kwargs: Any) -> DocumentRecord:
    return build_record(page(**kwargs), bureau=None, region_code=None)


# --------------------------------------------------------------------------- a Fujian TRS page


FUJIAN_CONTAINER = """
<div class="xxgk_head"><table>
  <tr><th>索 引 号</th><td>XM00149-09-01-2025-007</td><th>主题分类</th><td>人大</td></tr>
  <tr><th>发布机构</th><td>厦门市医疗保障局</td><th>文 号</th><td>厦医保函〔2025〕33号</td></tr>
  <tr><th>生成日期</th><td colspan="3">2025-05-06</td></tr>
  <tr><th>标 题</th><td colspan="3">厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函</td></tr>
  <tr><th>有效性</th><td colspan="3">有效</td></tr>
</table></div>
<h1 class="article_title">厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函</h1>
<div class="article_info">发布时间：2025-05-07 16:18　字号：<a>大</a> <a>中</a> <a>小</a>　分享：</div>
<div class="TRS_Editor">{body}</div>
<div class="fj">附件：</div>
<div class="ewm">扫一扫在手机上查看当前页面</div>
<div class="btns">[打印] [关闭]</div>
<script>var x = "发布时间：1999-01-01";</script>
"""


def test_fujian_container_with_table_and_chrome() -> None:
    r = build(body_html=FUJIAN_CONTAINER.format(body=REPLY_BODY))
    assert r.kind == KIND_SUGGESTION_REPLY
    assert r.title == "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函"
    assert r.index_no == "XM00149-09-01-2025-007"
    assert r.doc_no == "厦医保函〔2025〕33号"
    assert r.theme == "人大"
    assert r.validity == "有效"
    assert r.generated_on == "2025-05-06"
    assert r.published_on == "2025-05-07"
    assert r.signed_on == "2025-05-06"
    assert r.bureau == "厦门市医疗保障局"
    assert r.reply_class == "C"
    assert r.proposal_no == "0105"
    assert r.deputies == ["叶少静"]
    assert r.adoption == ["部分采纳"]
    assert r.outline == [(1, "一、办理工作背景")]
    assert r.body_text == "\n".join(
        [
            "厦医保函〔2025〕33号",
            "答复类别：C类",
            "叶少静代表：",
            "《关于进一步优化医疗保障的建议》（第0105号）收悉。现答复如下：",
            "一、办理工作背景",
            "部分采纳该建议。我局接到该建议后……",
            "厦门市医疗保障局",
            "2025年5月6日",
        ]
    )


# --------------------------------------------------------------------------- gkmlpt listing


GKMLPT_LISTING = {
    "id": 4942475,
    "title": "中山市医疗保障局关于印发定点医药机构管理办法的通知",
    "identifier": "114403006955506492/2021-00426",
    "document_number": "中医保〔2021〕8号",
    "publisher": "中山市医疗保障局",
    "date": 1630512000,
    "create_time": 1630598400,
    "classify_theme_name": "卫生、体育",
    "is_expired": 0,
    "is_abolished": 0,
}


def test_gkmlpt_listing_fields() -> None:
    r = build(
        listing=GKMLPT_LISTING,
        column_kind="policies",
        body_html="<p>各定点医药机构：</p><p>现印发给你们。</p>",
    )
    assert r.kind == KIND_POLICY
    assert r.title == GKMLPT_LISTING["title"]
    assert r.index_no == "114403006955506492/2021-00426"
    assert r.doc_no == "中医保〔2021〕8号"
    assert r.doc_no_raw == "中医保〔2021〕8号"
    assert r.bureau == "中山市医疗保障局"
    assert r.generated_on == "2021-09-02"
    assert r.published_on == "2021-09-03"
    assert r.theme == "卫生、体育"
    assert r.validity == "有效"
    assert r.deputies == []
    assert r.adoption == []


@pytest.mark.parametrize(
    ("flags", "meta_validity", "expected"),
    [
        pytest.param({"is_abolished": 1, "is_expired": 0}, None, "废止", id="abolished"),
        pytest.param({"is_abolished": 0, "is_expired": 1}, None, "失效", id="expired"),
        pytest.param({"is_abolished": "1", "is_expired": "1"}, None, "废止", id="both-abolished-wins"),
        pytest.param({"is_abolished": 1, "is_expired": 0}, "有效", "废止", id="flag-beats-stale-table"),
        pytest.param({"is_abolished": 0, "is_expired": 0}, "失效", "失效", id="table-beats-default"),
        pytest.param({"is_abolished": 0, "is_expired": 0}, None, "有效", id="default-valid"),
        pytest.param({}, None, None, id="no-flags"),
    ],
)
def test_gkmlpt_validity(flags: dict[str, Any], meta_validity: str | None, expected: str | None) -> None:
    meta = {"有效性": meta_validity} if meta_validity else {}
    r = build(listing={"title": "某通知", **flags}, meta_table=meta, column_kind="policies")
    assert r.validity == expected


def test_listing_fields_html_list_date_is_publication() -> None:
    assert listing_fields({"title": "x", "date": "2025-05-07"}) == {
        "title": "x",
        "published_on": "2025-05-07",
    }


def test_meta_tag_fields_case_insensitive() -> None:
    assert meta_tag_fields(
        {"articletitle": " 标题 ", "PUBDATE": "2025-05-07 16:18", "ContentSource": "本网"}
    ) == {
        "title": "标题",
        "published_on": "2025-05-07 16:18",
        "source": "本网",
    }


# --------------------------------------------------------------------------- trust order


@pytest.mark.parametrize(
    ("kwargs", "title", "tag"),
    [
        pytest.param(
            {
                "meta_table": {"标    题": "元数据标题"},
                "meta_tags": {"ArticleTitle": "meta标题"},
                "listing": {"title": "列表标题"},
                "title": "页面标题",
            },
            "元数据标题", None, id="metadata-first",
        ),
        pytest.param(
            {"meta_tags": {"ArticleTitle": "meta标题"}, "listing": {"title": "列表标题"}, "title": "页面标题"},
            "meta标题", None, id="meta-tag-second",
        ),
        pytest.param({"listing": {"title": "列表标题"}, "title": "页面标题"}, "列表标题", None, id="listing-third"),
        pytest.param(
            {"listing": {"title": "关于市十六届人大五次会议第…"}, "title": "页面标题"},
            "页面标题", None, id="truncated-listing-skipped",
        ),
        pytest.param(
            {"meta_tags": {"ArticleTitle": "关于某事的答复函"}, "title": "【建议提案】关于某事的答复函"},
            "关于某事的答复函", "建议提案", id="tag-from-h1",
        ),
        pytest.param(
            {"title": "【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函"},
            "中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函", "建议提案", id="tag-stripped",
        ),
        pytest.param(
            {"body_html": "<p>【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函</p><p>正文。</p>"},
            "中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函", "建议提案", id="body-title-line",
        ),
    ],
)  # fmt: skip
def test_title_trust_order(kwargs: dict[str, Any], title: str, tag: str | None) -> None:
    r = build(**kwargs)
    assert r.title == title
    assert r.title_tag == tag
    assert "【" not in r.title


@pytest.mark.parametrize(
    ("kwargs", "bureau_arg", "expected"),
    [
        pytest.param(
            {"meta_table": {"发布机构": "甲局"}}, "参数局", "甲局", id="printed-issuer-beats-argument"
        ),
        pytest.param(
            {"listing": {"publisher": "乙局"}}, "参数局", "乙局", id="listing-publisher-beats-argument"
        ),
        pytest.param(
            {"meta_tags": {"ContentSource": "丙局"}, "body_html": REPLY_BODY},
            "参数局",
            "参数局",
            id="argument-beats-weak",
        ),
        pytest.param(
            {"meta_table": {"发文机关": "甲局"}, "listing": {"publisher": "乙局"}},
            None,
            "甲局",
            id="metadata-issuer",
        ),
        pytest.param({"listing": {"publisher": "乙局"}}, None, "乙局", id="listing-publisher"),
        pytest.param({"meta_tags": {"ContentSource": "丙局"}}, None, "丙局", id="content-source"),
        pytest.param(
            {"meta_tags": {"ContentSource": "本网"}, "body_html": REPLY_BODY},
            None,
            "厦门市医疗保障局",
            id="signature",
        ),
        pytest.param({}, None, None, id="nothing"),
    ],
)
def test_bureau_fallbacks(kwargs: dict[str, Any], bureau_arg: str | None, expected: str | None) -> None:
    r = build_record(page(**kwargs), bureau=bureau_arg, region_code="350200")
    assert r.bureau == expected
    assert r.region_code == "350200"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {
                "meta_table": {"发布日期": "2025年05月01日"},
                "meta_tags": {"PubDate": "2025-05-02 10:00"},
                "listing": {"date": "2025-05-03"},
                "body_html": "<p>发布时间：2025-05-04 16:18</p>",
            },
            "2025-05-01", id="metadata-first",
        ),
        pytest.param(
            {
                "meta_tags": {"PubDate": "2025-05-02 10:00"},
                "listing": {"date": "2025-05-03"},
                "body_html": "<p>发布时间：2025-05-04 16:18</p>",
            },
            "2025-05-02", id="pubdate-second",
        ),
        pytest.param(
            {"listing": {"date": "2025-05-03"}, "body_html": "<p>发布时间：2025-05-04 16:18</p>"},
            "2025-05-03", id="listing-third",
        ),
        pytest.param({"body_html": "<p>信息来源：本网 发布日期：2025-09-16 分享：</p>"}, "2025-09-16", id="header-line"),
        pytest.param(
            {"body_html": "<p>发布时间：2025-05-04 16:18</p>"}, "2025-05-04", id="header-line-before-url",
        ),
        pytest.param({"body_html": "<p>正文。</p>"}, "2025-05-07", id="url-last-resort"),
        pytest.param(
            {"body_html": "<p>本办法自发布日期：2025-01-01起施行。</p>", "url": "http://x.test/a.html"},
            None, id="not-from-running-text",
        ),
    ],
)  # fmt: skip
def test_published_on_order(kwargs: dict[str, Any], expected: str | None) -> None:
    assert build(**kwargs).published_on == expected


# --------------------------------------------------------------------------- doc numbers and body


@pytest.mark.parametrize(
    ("body", "doc_no", "raw"),
    [
        pytest.param(
            "<p>厦医保函［2025］033号</p><p>正文。</p>",
            "厦医保函〔2025〕33号",
            "厦医保函［2025］033号",
            id="square",
        ),
        pytest.param(
            "<p>中医保（2025）第8号</p><p>正文。</p>",
            "中医保〔2025〕8号",
            "中医保（2025）第8号",
            id="paren-di",
        ),
        pytest.param("<p>正文引用中府〔2021〕87号。</p>", None, None, id="cited-not-own"),
    ],
)
def test_doc_no_from_first_body_line(body: str, doc_no: str | None, raw: str | None) -> None:
    r = build(body_html=body, column_kind="policies")
    assert (r.doc_no, r.doc_no_raw) == (doc_no, raw)


def test_metadata_doc_no_beats_body_line() -> None:
    r = build(meta_table={"发文字号": "宁医保函〔2025〕116号"}, body_html="<p>宁医保函〔2025〕117号</p>")
    assert r.doc_no == "宁医保函〔2025〕116号"


def test_unparseable_metadata_doc_no_keeps_raw() -> None:
    r = build(meta_table={"文号": "内部文件"}, column_kind="policies")
    assert (r.doc_no, r.doc_no_raw) == (None, "内部文件")


def test_policy_document_gets_no_reply_fields() -> None:
    body = "<p>各有关单位：</p><p>该问题已解决。部分采纳。</p><p>答复类别：A类</p><p>联系人：张三 联系电话：0760-88888888</p>"
    r = build(
        meta_table={"文号": "中医保〔2025〕1号", "标题": "关于某事的通知"},
        column_kind="policies",
        body_html=body,
    )
    assert r.kind == KIND_POLICY
    assert (r.adoption, r.reply_class, r.deputies, r.proposal_no) == ([], None, [], None)
    assert r.contacts == {"contact": "张三", "phone": "0760-88888888"}


def test_notice_without_doc_no() -> None:
    r = build(title="关于开展医保缴费工作的通知", column_kind="policies", body_html="<p>正文。</p>")
    assert r.kind == KIND_NOTICE


def test_proposal_reply_with_session_in_opening_sentence() -> None:
    body = "<p>民盟中山市委员会：</p><p>贵委在市政协十四届四次会议上提出的《关于某事的提案》（第20250050号）收悉。</p>"
    r = build(title="答复函", body_html=body, column_kind="replies")
    assert r.kind == KIND_PROPOSAL_REPLY
    assert r.deputies == ["民盟中山市委员会"]
    assert r.proposal_no == "20250050"
    assert r.meeting is not None
    assert (r.meeting.body, r.meeting.term, r.meeting.session) == ("cppcc", 14, 4)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://ybj.xm.gov.cn/zwgk/jytabl/202505/t20250507_2934567.htm", "2025-05-07", id="trs"),
        pytest.param(
            "http://x.gov.cn/zwgk/gzdt/202512/t20251212_2971480.shtml", "2025-12-12", id="trs-shtml"
        ),
        pytest.param(
            "http://rst.sc.gov.cn/rst/gsgg/2025/12/1/5ca3e1f0c2b94d8e8f0a1b2c3d4ea8e6.shtml",
            "2025-12-01",
            id="sichuan",
        ),
        pytest.param(
            "http://www.nhsa.gov.cn/art/2025/5/7/art_84242_11778517.html", "2025-05-07", id="hanweb"
        ),
        pytest.param("http://www.zs.gov.cn/ybj/qtwj/content/post_2417055.html", None, id="nfcms-has-none"),
        pytest.param("", None, id="empty"),
    ],
)
def test_url_date(url: str, expected: str | None) -> None:
    assert url_date(url) == expected


def test_attachment_link_lines_leave_the_body() -> None:
    attachment = Attachment(name="附件2：办理情况统计表.xlsx", url="http://x.test/2.xlsx")
    body = (
        "<p>正文。</p><p>附件1：评分表.pdf</p><p>附件2：办理情况统计表.xlsx</p><p>附件：</p><p>说明.docx</p>"
    )
    r = build(body_html=body, attachments=[attachment], column_kind="policies")
    assert r.body_text == "正文。"
    assert r.attachments == [attachment]


def test_passthrough_fields() -> None:
    attachment = Attachment(name="附件1.pdf", url="http://x.test/P020250507.pdf")
    r = build(attachments=[attachment], body_html="")
    assert r.attachments == [attachment]
    assert r.portal_id == "xm-ybj"
    assert r.url.endswith("t20250507_1.htm")
    assert r.body_text == ""
    assert r.title == ""
    assert r.outline == []


def test_body_text_is_display_form_without_title_and_chrome() -> None:
    body = (
        "<div>当前位置：首页&nbsp;&gt;&nbsp;政务公开</div>"
        "<h1>关于某事的通知</h1>"
        "<p>字号：大 中 小</p>"
        "<p>&#12288;&#12288;各单位：</p>"
        "<p>&#12288;&#12288;现将有关事项通知如下：（一）……</p>"
        "<p>浏览次数：123</p>"
        "<p>相关文章</p><p>关于另一事的通知</p>"
    )
    r = build(meta_tags={"ArticleTitle": "关于某事的通知"}, body_html=body, column_kind="policies")
    assert r.body_text == "各单位：\n现将有关事项通知如下：（一）……"
