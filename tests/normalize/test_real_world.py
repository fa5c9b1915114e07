"""Real-world conventions: one row per convention real 医保局 pages use (see ``real_world_cases``)."""

from __future__ import annotations

import pytest

from core.normalize import (
    build_record,
    desktop_url,
    find_contacts,
    find_proposal_title,
    find_public_marker,
    find_reply_class,
    find_salutation,
    find_signature,
    is_article_url,
    parse_article_url,
    parse_meeting,
    parse_salutation,
)
from core.normalize.metadata import canonical_metadata
from core.records import RawPage

from .real_world_cases import CASES, Case, check

SIXTEEN = ("林洪棋", "李英妹", "吴元邦", "陈久斌", "陈兆树", "陈秋玲", "陈俊忠", "陈楠", "林圣涵", "林容", "林梅芳",
           "林翠花", "郑倩倩", "黄林敏", "黄祖落", "黄银义")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_real_world_convention(case: Case) -> None:
    assert check(case) == {}, case.convention


def test_every_row_checks_something_and_ids_are_unique() -> None:
    assert all(case.expect for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES)


# --------------------------------------------------------------------------- detail URL shapes

URLS = [
    ("http://www.nhsa.gov.cn/art/2021/10/25/art_110_7245.html", "hanweb", "2021-10-25", 2021, False),
    ("https://ybj.jinhua.gov.cn/art/2023/5/16/art_1229154590_4092528.html", "hanweb", "2023-05-16", 2023, False),
    ("http://www.x.gov.cn/jcms_files/jcms1/web3/site/art/2019/03/08/art_12_3456.html", "hanweb", "2019-03-08",
     2019, False),
    ("http://ylbz.xm.gov.cn/zwgk/zfxxgk/bg/202301/t20230106_2713432.htm", "trs", "2023-01-06", 2023, False),
    ("https://ylbzj.cq.gov.cn/zwgk_535/zfxxgkml/202301/t20230131_11549147_wap.html", "trs", "2023-01-31", 2023,
     True),
    ("https://ylbzj.cq.gov.cn/zwgk_535/zfxxgkml/202301/t20230131_11549147.html", "trs", "2023-01-31", 2023, False),
    ("http://www.qingdao.gov.cn/zwgk/xxgk/ybj/gzbg/202301/t20230118_6815992.shtml", "trs", "2023-01-18", 2023,
     False),
    ("http://www.gz.gov.cn/gzybj/gkmlpt/content/5/5511/post_5511415.html", "gkmlpt", None, None, False),
    ("http://www.gz.gov.cn/gzybj/gkmlpt/content/5/5511/mpost_5511415.html", "gkmlpt", None, None, True),
    ("http://www.heshan.gov.cn/zwgk/xxgk/hssylbzj/content/post_2166613.html", "nfcms", None, None, False),
    ("http://www.zs.gov.cn/ybj/zwgk/zcwj/qtwj/content/mpost_2417055.html", "nfcms", None, None, True),
    ("http://www.jyg.gov.cn/ybj/zwxxgk/zfxxgknb/art/2024/art_0f3c9a1e5b7d4c2a8e6f1b9d3c5a7e20.html",
     "hanweb_year", None, 2024, False),
    ("http://ylbzj.nantong.gov.cn/ntsylbzj/xwfbh/content/3f2a9c1e-5b7d-4c2a-8e6f-1b9d3c5a7e20.html", "jiangsu",
     None, None, False),
    ("http://ylbzj.sc.gov.cn/scylbzj/c108923/2025/7/4/5ca3e1f0c2b94d8e8f0a1b2c3d4ea8e6.shtml", "sichuan",
     "2025-07-04", 2025, False),
    ("http://www.xx.gov.cn/zwgk/show-10245.html", "show", None, None, False),
    ("http://www.xx.gov.cn/xxgk-show-88231.html", "show", None, None, False),
    ("http://www.xx.gov.cn/News/Detail/20240428093015.html", "news_detail", "2024-04-28", 2024, False),
    ("http://www.xx.gov.cn/news/detail/1714267815000.html", "news_detail", "2024-04-28", 2024, False),
    ("http://www.xx.gov.cn/module/xxgk/infodetail.jsp?infoid=12&area=11350203MB1234567X", "xxgk_jsp", None, None,
     False),
]  # fmt: skip


@pytest.mark.parametrize(("url", "shape", "date", "year", "mobile"), URLS, ids=[u[0].split("/", 3)[3] for u in URLS])
def test_article_url_shapes(url: str, shape: str, date: str | None, year: int | None, mobile: bool) -> None:
    parsed = parse_article_url(url)
    assert parsed is not None
    assert (parsed.shape, parsed.date, parsed.year, parsed.mobile) == (shape, date, year, mobile)
    assert is_article_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.nhsa.gov.cn/col/col110/index.html",
        "http://ylbz.xm.gov.cn/zwgk/zfxxgk/bg/index_1.htm",
        "http://www.gz.gov.cn/gzybj/gkmlpt/index",
        "http://www.xx.gov.cn/module/xxgk/infodetail.jsp?infoid=12",  # no area: not the 信息公开 module
        "",
        None,
    ],
)
def test_not_article_urls(url: str | None) -> None:
    assert parse_article_url(url) is None
    assert not is_article_url(url)


@pytest.mark.parametrize(
    ("url", "desktop"),
    [
        ("https://ylbzj.cq.gov.cn/a/202301/t20230131_11549147_wap.html",
         "https://ylbzj.cq.gov.cn/a/202301/t20230131_11549147.html"),
        ("http://www.zs.gov.cn/ybj/qtwj/content/mpost_2417055.html?x=1",
         "http://www.zs.gov.cn/ybj/qtwj/content/post_2417055.html?x=1"),
        ("http://ylbz.xm.gov.cn/zwgk/202301/t20230106_2713432.htm", "http://ylbz.xm.gov.cn/zwgk/202301/t20230106_2713432.htm"),
    ],
)  # fmt: skip
def test_desktop_url(url: str, desktop: str) -> None:
    assert desktop_url(url) == desktop


# --------------------------------------------------------------------------- the same rules, field by field


@pytest.mark.parametrize(
    ("text", "title", "no"),
    [
        ("您提出的关于加快长期护理保险扩面的建议收悉。", "关于加快长期护理保险扩面的建议", None),
        ("您在全国两会期间提出的关于完善医保目录的建议已收悉，", "关于完善医保目录的建议", None),
        ("您所提的关于提高门诊报销比例的建议收悉。", "关于提高门诊报销比例的建议", None),
        ("您提出的“关于完善门诊共济保障的建议”收悉", "关于完善门诊共济保障的建议", None),
        ("您提出的“关于制定《医疗保障基金使用监督条例》实施细则的建议”收悉", "关于制定《医疗保障基金使用监督条例》实施细则的建议", None),
        ("您提出的关于制定《医疗保障基金使用监督条例》实施细则的建议收悉", "关于制定《医疗保障基金使用监督条例》实施细则的建议", None),
        ("您提出的“关于推进“互联网+医疗”服务医保支付的建议”收悉", "关于推进“互联网+医疗”服务医保支付的建议", None),
        ("您提出的关于推进“互联网+医疗”服务医保支付的建议收悉", "关于推进“互联网+医疗”服务医保支付的建议", None),
        ("《关于优化备案的建议》(455号)收悉", "关于优化备案的建议", "455"),
        ("《关于优化备案的建议》（第1234号）收悉", "关于优化备案的建议", "1234"),
        ("《关于优化备案的提案》第5034号(医药卫生类212号)收悉", "关于优化备案的提案", "5034"),
        ("《关于优化备案的提案》（第5034号（医药卫生类212号））收悉", "关于优化备案的提案", "5034"),
        ("《关于优化备案的提案》（提案第20250050号）均已收悉", "关于优化备案的提案", "20250050"),
        # not an opening: a quotation or a plain mention without 收悉
        ("我们认真学习了“关于完善门诊共济保障的建议”。", None, None),
        ("您提出的关于加快长期护理保险扩面的建议很有针对性。", None, None),
    ],
)  # fmt: skip
def test_find_proposal_title_real_forms(text: str, title: str | None, no: str | None) -> None:
    assert find_proposal_title(text) == (title, no)


@pytest.mark.parametrize(
    ("paragraphs", "marks_in", "expected"),
    [
        (["〔A〕", "〔公开〕", "某某代表："], None, "A"),
        (["〔主动公开〕〔C〕"], None, "C"),
        (["〔B〕　　　　〔主动公开〕"], None, "B"),
        (["D", "某某代表："], None, "D"),
        (["（A类）"], None, "A"),
        (["(丙类)"], None, "C"),
        (["宁医保函〔2024〕88号（B类）"], None, "B"),
        (["办理类别：A"], None, "A"),
        (["答复类别：B类"], None, "B"),
        # a lone letter below the opening is not a mark
        (["某某代表：", "您提出的《关于某事的建议》收悉。", "A"], 2, None),
        # a class word inside running text is not a mark
        (["我市将乙类药品（B类）纳入报销范围，群众反映良好，报销比例提高到百分之七十以上。"], None, None),
        (["〔2024〕"], None, None),
        (["AB"], None, None),
    ],
)  # fmt: skip
def test_find_reply_class_marks(paragraphs: list[str], marks_in: int | None, expected: str | None) -> None:
    assert find_reply_class(paragraphs, marks_in=marks_in) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["〔A〕", "〔公开〕"], "公开"),
        (["〔主动公开〕"], "主动公开"),
        (["〔依申请公开〕"], "依申请公开"),
        (["（此件主动公开）"], "主动公开"),
        (["〔2024〕年度公开情况"], None),
    ],
)
def test_public_marker_marks(lines: list[str], expected: str | None) -> None:
    assert find_public_marker(lines) == expected


@pytest.mark.parametrize(
    ("paragraphs", "names", "role"),
    [
        (["陈伟代表", "您提出的《关于某事的建议》收悉。"], ["陈伟"], "代表"),
        (["陈伟、李娜代表", "你们提出的关于某事的建议收悉。"], ["陈伟", "李娜"], "代表"),
        (["、".join(SIXTEEN) + "代表", "你们提出的《关于某事的建议》收悉。"], list(SIXTEEN), "代表"),
        (["张**代表：", "正文"], ["张**"], "代表"),
        (["***委员：", "正文"], ["***"], "委员"),
        (["民进市委会：", "正文"], ["民进市委会"], "organisation"),
        (["民革市委会", "贵会提出的《关于某事的提案》收悉。"], ["民革市委会"], "organisation"),
    ],
)
def test_find_salutation_real_forms(paragraphs: list[str], names: list[str], role: str) -> None:
    found = find_salutation(paragraphs)
    assert found is not None
    assert (found.names, found.role) == (names, role)


@pytest.mark.parametrize(
    "paragraphs",
    [
        ["人大代表", "积极参政议政，提出了许多建议。"],  # no colon and no opening after it
        ["尊敬的人大代表", "您好！"],
        ["市民政局：", "你局转来的提案收悉。"],  # an office is no deputy or proposer
        ["市卫生健康委：", "王芳委员提出的《关于某事的提案》收悉。"],
        ["厦门市发展和改革委员会：", "正文。"],
        ["一、关于代表", "您提出的建议收悉。"],
    ],
)
def test_no_salutation(paragraphs: list[str]) -> None:
    assert find_salutation(paragraphs) is None


def test_colon_is_required_unless_asked() -> None:
    assert parse_salutation("陈伟代表") is None
    assert parse_salutation("陈伟代表", colon=False) is not None


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (["（联系人及电话：林强 0592-5301234）"], {"contact": "林强", "phone": "0592-5301234"}),
        (["(联系人和电话：欧阳明，0591-87654321)"], {"contact": "欧阳明", "phone": "0591-87654321"}),
        (["联系人：王丽；联系电话：12345678"], {"contact": "王丽", "phone": "12345678"}),
    ],
)
def test_contacts_real_forms(paragraphs: list[str], expected: dict[str, str]) -> None:
    assert find_contacts(paragraphs) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全国政协十三届三次会议", ("national", "cppcc", 13, 3)),
        ("政协十三届全国委员会第三次会议", ("national", "cppcc", 13, 3)),
        ("政协第十四届全国委员会第二次会议", ("national", "cppcc", 14, 2)),
        ("中国人民政治协商会议第十四届全国委员会第二次会议", ("national", "cppcc", 14, 2)),
        ("十四届全国人大二次会议", ("national", "npc", 14, 2)),
        ("第十四届全国人民代表大会第二次会议", ("national", "npc", 14, 2)),
        ("区十届人大三次会议", ("county", "npc", 10, 3)),
        ("县政协十一届二次会议", ("county", "cppcc", 11, 2)),
    ],
)
def test_meetings_real_forms(text: str, expected: tuple[str, str, int, int]) -> None:
    meeting = parse_meeting(text)
    assert meeting is not None
    assert (meeting.level, meeting.body, meeting.term, meeting.session) == expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (["正文。", "厦门市医疗保障局", "2025年5月20日", "附件1：考核办法", *["第一条　内容。"] * 50],
         ("厦门市医疗保障局", "2025-05-20")),
        # the attachment has a signature of its own: the letter's comes first, before 附件
        (["正文。", "厦门市医疗保障局", "2025年5月20日", "附件", "申报单位承诺书", "某某医院", "2025年6月1日"],
         ("厦门市医疗保障局", "2025-05-20")),
        # a long letter: the signature is found however far from the end
        (["厦门市医疗保障局", "2025年5月20日", *["第一条　内容。"] * 80], ("厦门市医疗保障局", "2025-05-20")),
    ],
)  # fmt: skip
def test_signature_before_attachment(paragraphs: list[str], expected: tuple[str, str]) -> None:
    assert find_signature(paragraphs) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"索引号": "2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：医疗保障"},
         {"index_no": "2021-05-00144", "doc_no": "医保函〔2021〕135号", "theme": "医疗保障"}),
        ({"索 引 号": "000014672/2023-00265 | 发文字号：国医保规〔2023〕3号 | 发布日期：2023-03-02"},
         {"index_no": "000014672/2023-00265", "doc_no": "国医保规〔2023〕3号", "published_on": "2023-03-02"}),
        # a run-on pair never beats the page's own cell of a stronger label
        ({"索引号": "X1 发文字号：医保函〔2021〕1号", "文号": "医保函〔2021〕135号"},
         {"index_no": "X1", "doc_no": "医保函〔2021〕135号"}),
        # 文号 inside a title without a colon is no label
        ({"标题": "关于规范文号 管理的通知"}, {"title": "关于规范文号 管理的通知"}),
    ],
)  # fmt: skip
def test_canonical_metadata_cuts_run_on_values(table: dict[str, str], expected: dict[str, str]) -> None:
    assert canonical_metadata(table) == expected


def test_wap_copy_and_desktop_page_give_the_same_record() -> None:
    body = "<p>根据有关规定，现将新增定点医药机构名单公告如下。</p>"
    wap, desk = (
        build_record(RawPage("p", "c", "policies", url, 200, "", title="关于公布名单的公告", body_html=body))
        for url in ("http://h.gov.cn/a/202301/t20230131_1_wap.html", "http://h.gov.cn/a/202301/t20230131_1.html")
    )
    assert {**wap.to_dict(), "url": ""} == {**desk.to_dict(), "url": ""}
    assert wap.published_on == "2023-01-31"


def test_spider_metadata_block_ends_a_value_at_the_next_label() -> None:
    """The spiders' trait-based metadata reader: labels sharing one text node (any padding, •/| separators)."""
    from parsel import Selector

    from spiders.extract import metadata_block

    html = (
        "<div>索引号：2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：医疗保障</div>"
        "<div>• 发布机构：国家医疗保障局 | 有\u3000效\u3000性：已修改</div>"
        "<p>标题：关于规范文号 管理的通知</p>"
        "<table><tr><td>成文日期：</td><td>2021-10-20</td></tr></table>"
    )
    assert metadata_block(Selector(text=html)) == {
        "索引号": "2021-05-00144", "发文字号": "医保函〔2021〕135号", "主题分类": "医疗保障",
        "发布机构": "国家医疗保障局", "有效性": "已修改", "标题": "关于规范文号 管理的通知", "成文日期": "2021-10-20",
    }  # fmt: skip
