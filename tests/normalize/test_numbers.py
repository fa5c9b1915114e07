from __future__ import annotations

import pytest

from core.normalize import (
    canonical_doc_no,
    find_doc_nos,
    find_meetings,
    find_proposal_no,
    normalize_index_no,
    parse_doc_no,
    parse_index_no,
    parse_meeting,
)
from core.records import Meeting

# --------------------------------------------------------------------------- 文号


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("厦医保函〔2025〕33号", "厦医保函〔2025〕33号", id="hexagonal"),
        pytest.param("厦医保函[2025]33号", "厦医保函〔2025〕33号", id="ascii-square"),
        pytest.param("厦医保函［2025］33号", "厦医保函〔2025〕33号", id="fullwidth-square"),
        pytest.param("厦医保函(2025)33号", "厦医保函〔2025〕33号", id="ascii-paren"),
        pytest.param("厦医保函（2025）33号", "厦医保函〔2025〕33号", id="fullwidth-paren"),
        pytest.param("厦医保函【2025】33号", "厦医保函〔2025〕33号", id="lenticular"),
        pytest.param("厦医保函﹝2025﹞33号", "厦医保函〔2025〕33号", id="small-tortoise"),
        pytest.param("厦医保函〖2025〗33号", "厦医保函〔2025〕33号", id="white-lenticular"),
        pytest.param("厦医保函〔2025〕第33号", "厦医保函〔2025〕33号", id="di"),
        pytest.param("厦医保函〔2025〕033号", "厦医保函〔2025〕33号", id="zero-padding"),
        pytest.param("厦医保函〔 2025 〕 第 033 号", "厦医保函〔2025〕33号", id="spaces"),
        pytest.param("厦医保函〔２０２５〕３３号", "厦医保函〔2025〕33号", id="fullwidth-digits"),
        pytest.param("宁医保函〔2025〕116号", "宁医保函〔2025〕116号", id="ningde"),
        pytest.param("国卫医政医疗便函〔2024〕162号", "国卫医政医疗便函〔2024〕162号", id="long-prefix"),
        pytest.param("国家医疗保障局公告2026年第10号", "国家医疗保障局公告〔2026〕10号", id="year-style"),
        pytest.param("无", None, id="none-word"),
        pytest.param("", None, id="empty"),
    ],
)
def test_canonical_doc_no(raw: str, canonical: str | None) -> None:
    assert canonical_doc_no(raw) == canonical


def test_parse_doc_no_keeps_raw() -> None:
    doc = parse_doc_no("厦医保函［2025］033号")
    assert doc is not None
    assert (doc.prefix, doc.year, doc.seq, doc.raw) == ("厦医保函", 2025, 33, "厦医保函［2025］033号")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "根据《中山市基本医疗保险办法》(中府〔2021〕87号)、《办法》(中府〔2021〕88号)",
            ["中府〔2021〕87号", "中府〔2021〕88号"],
            id="in-parens",
        ),
        pytest.param("根据中府〔2022〕133号文件", ["中府〔2022〕133号"], id="prefix-cut-genju"),
        pytest.param("按照国办发[2014]46号的要求", ["国办发〔2014〕46号"], id="prefix-cut-anzhao"),
        pytest.param("没有文号的句子。", [], id="none"),
    ],
)
def test_find_doc_nos(text: str, expected: list[str]) -> None:
    assert [d.canonical for d in find_doc_nos(text)] == expected


# --------------------------------------------------------------------------- 索引号


@pytest.mark.parametrize(
    ("text", "style", "org", "year", "seq"),
    [
        pytest.param("XM00149-09-01-2025-007", "fujian", "XM00149", 2025, "007", id="xiamen"),
        pytest.param("ND00263-0200-2025-00071", "fujian", "ND00263", 2025, "00071", id="ningde"),
        pytest.param(
            "114403006955506492/2021-00426", "credit", "114403006955506492", 2021, "00426", id="credit-code"
        ),
        pytest.param("000014672/2025-00123", "credit", "000014672", 2025, "00123", id="org-code-9"),
        pytest.param("123456/2019-00448", "credit", "123456", 2019, "00448", id="org-code-6"),
        pytest.param(
            "索引号：ＸＭ00149-09-01-2025-007", "fujian", "XM00149", 2025, "007", id="labelled-fullwidth"
        ),
    ],
)
def test_parse_index_no(text: str, style: str, org: str, year: int, seq: str) -> None:
    parsed = parse_index_no(text)
    assert parsed is not None
    assert (parsed.style, parsed.org, parsed.year, parsed.seq) == (style, org, year, seq)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(" XM00149-09-01-2025-007 ", "XM00149-09-01-2025-007", id="trimmed"),
        pytest.param("330201-01-02-03-20250101-001", "330201-01-02-03-20250101-001", id="unknown-kept"),
        pytest.param("ABC 123", "ABC123", id="unknown-spaces-removed"),
        pytest.param("无", None, id="none-word"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_normalize_index_no(text: str | None, expected: str | None) -> None:
    assert normalize_index_no(text) == expected


# --------------------------------------------------------------------------- proposal number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("关于市十六届人大五次会议第2025010号建议答复的函", "2025010", id="title-7"),
        pytest.param("(第0105号)收悉", "0105", id="zero-padded"),
        pytest.param("(建议第 1472 号)", "1472", id="spaces"),
        pytest.param("关于省十四届人大一次会议“123号”建议的答复", "123", id="quoted"),
        pytest.param("关于湖北省政协十二届一次会议第20180329号提案的答复", "20180329", id="eight-digits"),
        pytest.param("第０１０５号", "0105", id="fullwidth"),
        pytest.param("您提出的提案收悉", None, id="none"),
    ],
)
def test_find_proposal_no(text: str, expected: str | None) -> None:
    assert find_proposal_no(text) == expected


# --------------------------------------------------------------------------- meetings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "市十六届人大五次会议",
            Meeting("city", "npc", 16, 5, False, "市十六届人大五次会议"),
            id="city-npc",
        ),
        pytest.param(
            "市政协十四届四次会议",
            Meeting("city", "cppcc", 14, 4, False, "市政协十四届四次会议"),
            id="city-cppcc",
        ),
        pytest.param(
            "省十四届人大三次会议",
            Meeting("province", "npc", 14, 3, False, "省十四届人大三次会议"),
            id="province-npc",
        ),
        pytest.param(
            "省政协十三届三次会议",
            Meeting("province", "cppcc", 13, 3, False, "省政协十三届三次会议"),
            id="province-cppcc",
        ),
        pytest.param(
            "十四届全国人大三次会议",
            Meeting("national", "npc", 14, 3, False, "十四届全国人大三次会议"),
            id="national-npc",
        ),
        pytest.param(
            "全国政协十四届三次会议",
            Meeting("national", "cppcc", 14, 3, False, "全国政协十四届三次会议"),
            id="national-cppcc",
        ),
        pytest.param(
            "政协中山市第十三届委员会第四次会议",
            Meeting("city", "cppcc", 13, 4, False, "政协中山市第十三届委员会第四次会议"),
            id="formal-cppcc",
        ),
        pytest.param(
            "中山市第十六届人民代表大会第五次会议",
            Meeting("city", "npc", 16, 5, False, "中山市第十六届人民代表大会第五次会议"),
            id="formal-npc",
        ),
        pytest.param(
            "省十四届人大常委会第十次会议",
            Meeting("province", "npc", 14, 10, True, "省十四届人大常委会第十次会议"),
            id="standing-committee",
        ),
        pytest.param(
            "第十四届全国人民代表大会第三次会议",
            Meeting("national", "npc", 14, 3, False, "第十四届全国人民代表大会第三次会议"),
            id="national-formal",
        ),
        pytest.param(
            "关于湖北省政协十二届一次会议第20180329号提案的答复",
            Meeting("province", "cppcc", 12, 1, False, "湖北省政协十二届一次会议"),
            id="in-title-province-name",
        ),
        pytest.param(
            "市住房和城市更新局对市政协十四届四次会议第20250688号提案的答复",
            Meeting("city", "cppcc", 14, 4, False, "市政协十四届四次会议"),
            id="after-dui",
        ),
        pytest.param(
            "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函",
            Meeting("city", "npc", 16, 5, False, "市十六届人大五次会议"),
            id="after-org-guanyu",
        ),
        pytest.param(
            "广西壮族自治区第十四届人民代表大会第三次会议",
            Meeting("province", "npc", 14, 3, False, "广西壮族自治区第十四届人民代表大会第三次会议"),
            id="autonomous-region",
        ),
        pytest.param(
            "区五届人大四次会议", Meeting("county", "npc", 5, 4, False, "区五届人大四次会议"), id="district"
        ),
        pytest.param(
            "北京市十六届人大三次会议",
            Meeting("province", "npc", 16, 3, False, "北京市十六届人大三次会议"),
            id="municipality-is-province",
        ),
        pytest.param("十四届三次会议", Meeting(None, "npc", 14, 3, False, "十四届三次会议"), id="no-scope"),
        pytest.param("您提出的提案收悉", None, id="none"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_meeting(text: str, expected: Meeting | None) -> None:
    assert parse_meeting(text) == expected


def test_parse_meeting_keeps_display_width() -> None:
    meeting = parse_meeting("关于市政协十四届四次会议（第二十次）")
    assert meeting is not None
    assert meeting.text == "市政协十四届四次会议"


def test_find_meetings_in_order() -> None:
    text = "按照《关于办理市十六届人大五次会议代表建议的通知》和市政协十四届四次会议的安排"
    assert [(m.body, m.term, m.session) for m in find_meetings(text)] == [("npc", 16, 5), ("cppcc", 14, 4)]
