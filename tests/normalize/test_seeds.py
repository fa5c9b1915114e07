"""The five seed pages end to end: the facts of spec §13 must come out of ``build_record``."""

from __future__ import annotations

import pytest

from core.normalize import build_record, find_doc_nos, fold
from core.records import (
    KIND_PROPOSAL_REPLY,
    KIND_REPORT,
    KIND_SUGGESTION_REPLY,
    DocumentRecord,
    Meeting,
)

from .seeds import seed_page

SEEDS = ("000", "001", "002", "003", "004")
CHROME_WORDS = ("当前位置", "扫一扫", "[打印]", "字号", "分享", "相关文章", "附件", "发布时间", "信息来源")


def record(seed: str, *, full_width: bool = False, meta_in_body: bool = False) -> DocumentRecord:
    return build_record(
        seed_page(seed, full_width=full_width, meta_in_body=meta_in_body), bureau=None, region_code=None
    )


@pytest.fixture(scope="module", params=[False, True], ids=["ascii", "fullwidth"])
def full_width(request: pytest.FixtureRequest) -> bool:
    return request.param


# --------------------------------------------------------------------------- 000 Zhongshan reply


def test_000_zhongshan_suggestion_reply(full_width: bool) -> None:
    r = record("000", full_width=full_width)
    assert r.kind == KIND_SUGGESTION_REPLY
    assert r.title == "中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函"
    assert r.title_tag == "建议提案"
    assert r.bureau == "中山市医疗保障局"
    assert r.meeting == Meeting("city", "npc", 16, 5, False, "市十六届人大五次会议")
    assert r.proposal_no == "2025010"
    assert r.deputies == ["黄彩欢"]
    assert fold(r.proposal_title or "") == "关于提升基层医院(服务能力)相关问题的建议"
    assert r.adoption == ["部分采纳", "部分采纳", "吸收采纳", "部分采纳", "部分采纳", "部分采纳"]
    assert r.adoption.count("部分采纳") == 5
    assert r.signed_on == "2025-09-08"
    assert r.published_on == "2025-09-16"
    assert r.doc_no is None
    assert r.index_no is None
    assert r.reply_class is None


def test_000_cited_doc_nos() -> None:
    body = record("000").body_text
    assert [d.canonical for d in find_doc_nos(body)] == [
        "中府〔2021〕87号",
        "中府〔2021〕88号",
        "中府〔2022〕133号",
    ]


def test_000_outline(full_width: bool) -> None:
    outline = [(level, fold(h)) for level, h in record("000", full_width=full_width).outline]
    assert [h for level, h in outline if level == 1] == [
        "一、对建议内容的总体表态",
        "二、对建议内容的归纳分析",
        "三、对建议内容的回应",
    ]
    level2 = [h for level, h in outline if level == 2]
    assert len(level2) == 6
    assert level2[0].startswith("(一)关于扩大药品集采品种配送渠道")
    assert level2[3] == "(四)关于借鉴东莞市每月公布预结算参数的建议。"
    assert [h for level, h in outline if level == 3] == [
        "1.构建“线上+线下”立体化服务网络。",
        "2.优化线上服务体验。",
        "3.兜底保障结算权益。",
    ]


def test_000_body_text() -> None:
    r = record("000")
    lines = r.body_text.split("\n")
    assert lines[0] == "黄彩欢代表:"
    assert lines[-2:] == ["中山市医疗保障局", "2025年9月8日"]
    assert "【建议提案】" not in r.body_text
    for word in CHROME_WORDS:
        assert word not in r.body_text, word


# --------------------------------------------------------------------------- 001 Sichuan reply


def test_001_sichuan_proposal_reply_without_number(full_width: bool) -> None:
    r = record("001", full_width=full_width)
    assert r.kind == KIND_PROPOSAL_REPLY
    assert r.proposal_no is None
    assert r.meeting is None
    assert r.doc_no is None
    assert r.reply_class is None
    assert r.deputies == ["刘建辉"]
    assert fold(r.proposal_title or "") == "关于完善医保DRG支付结算,促进“医、保、患”三方共赢的提案"
    assert r.signed_on == "2025-06-30"
    assert r.bureau == "四川省医疗保障局"
    assert r.title == ""
    assert r.adoption == []


def test_001_outline_cuts_run_in_headings(full_width: bool) -> None:
    outline = [(level, fold(h)) for level, h in record("001", full_width=full_width).outline]
    assert outline[:3] == [
        (1, "一、建立健全DRG/DIP协同沟通机制"),
        (2, "(一)积极推进会商协同机制。"),
        (2, "(二)优化完善支付方式改革核心要素动态调整机制。"),
    ]
    assert [h for level, h in outline if level == 1] == [
        "一、建立健全DRG/DIP协同沟通机制",
        "二、持续推动数据要素赋能绩效评价和基金监管",
        "三、关于建立职工和居民医保统筹调剂基金池方面",
        "四、关于对多系统疾病治疗患者减免起付线工作方面",
    ]


def test_001_chrome_removed() -> None:
    body = record("001").body_text
    assert body.startswith("刘建辉委员:\n您提出的《")
    assert "分享到" not in body


# --------------------------------------------------------------------------- 002 Xiamen reply


def test_002_xiamen_grid_metadata(full_width: bool) -> None:
    r = record("002", full_width=full_width)
    assert r.kind == KIND_SUGGESTION_REPLY
    assert r.index_no == "XM00149-09-01-2025-007"
    assert r.theme == "人大"
    assert r.bureau == "厦门市医疗保障局"
    assert r.doc_no == "厦医保函〔2025〕33号"
    assert r.doc_no_raw == "厦医保函〔2025〕33号"
    assert r.generated_on == "2025-05-06"
    assert r.published_on == "2025-05-07"
    assert r.signed_on == "2025-05-06"
    assert r.validity == "有效"
    assert r.title == "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函"
    assert r.title_tag is None


def test_002_xiamen_reply_fields(full_width: bool) -> None:
    r = record("002", full_width=full_width)
    assert r.meeting == Meeting("city", "npc", 16, 5, False, "市十六届人大五次会议")
    assert r.proposal_no == "0105"
    assert r.reply_class == "C"
    assert r.deputies == ["叶少静"]
    assert fold(r.proposal_title or "") == "关于在我市即将步入老龄化背景下,进一步优化医疗保障的建议"
    assert r.adoption == []


def test_002_outline_and_body(full_width: bool) -> None:
    r = record("002", full_width=full_width)
    assert [fold(h) for level, h in r.outline if level == 1] == [
        "一、办理工作背景",
        "二、措施与成效",
        "三、存在的问题及今后推动计划",
    ]
    assert [fold(h) for level, h in r.outline if level == 2][:3] == [
        "(一)医保部门开展医保基金综合治理的情况",
        "(二)卫生健康部门加强医疗机构药品监管和指导的情况",
        "(三)金融监管部门推动提升商业保险保障服务水平的情况",
    ]
    lines = r.body_text.split("\n")
    assert lines[0] == "厦医保函〔2025〕33号"
    assert lines[-1] == "2025年5月6日"
    for word in (*CHROME_WORDS, "索 引 号", "有效性"):
        assert word not in r.body_text, word


# --------------------------------------------------------------------------- 003 Ningde reply


NINGDE_DEPUTIES = [
    "林洪棋", "李英妹", "吴元邦", "陈久斌", "陈兆树", "陈秋玲", "陈俊忠", "陈楠",
    "林圣涵", "林容", "林梅芳", "林翠花", "郑倩倩", "黄林敏", "黄祖落", "黄银义",
]  # fmt: skip


def test_003_ningde_bullet_metadata(full_width: bool) -> None:
    r = record("003", full_width=full_width)
    assert r.index_no == "ND00263-0200-2025-00071"
    assert r.doc_no == "宁医保函〔2025〕116号"
    assert r.bureau == "宁德市医疗保障局"
    assert r.generated_on == "2025-08-11"
    assert r.published_on == "2025-08-18"
    assert r.validity == "有效"
    assert r.title == "关于市五届人大四次会议第1472号建议的答复"


def test_003_ningde_reply_fields(full_width: bool) -> None:
    r = record("003", full_width=full_width)
    assert r.kind == KIND_SUGGESTION_REPLY
    assert r.meeting == Meeting("city", "npc", 5, 4, False, "市五届人大四次会议")
    assert r.proposal_no == "1472"
    assert len(r.deputies) == 16
    assert r.deputies == NINGDE_DEPUTIES
    assert fold(r.proposal_title or "") == "完善医保基金管理,切实保障民生福祉"
    assert r.contacts == {"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"}
    assert r.public_marker == "主动公开"
    assert r.signed_on == "2025-08-11"
    assert r.reply_class is None


def test_003_outline_has_eight_sections() -> None:
    level1 = [h for level, h in record("003").outline if level == 1]
    assert len(level1) == 8
    assert level1[0] == "一、关于“优化医保基金预算分配机制”的问题"
    assert level1[-1] == "八、下一步工作安排"


def test_003_body_text() -> None:
    r = record("003")
    lines = r.body_text.split("\n")
    assert lines[0] == "宁医保函〔2025〕116号"
    assert lines[1].endswith("黄银义代表:")
    assert lines[-3:] == ["宁德市医疗保障局", "2025年8月11日", "(此件主动公开)"]
    assert "联 系 人:陈 玮" in lines  # display form: spaces collapsed, not removed
    for word in (*CHROME_WORDS, "索 引 号", "发文字号", "•"):
        assert word not in r.body_text, word


@pytest.mark.parametrize("seed", ["002", "003"])
def test_metadata_block_inside_body_is_cut(seed: str) -> None:
    """A spider that passes the whole container (metadata block included) gets the same record."""
    assert record(seed, meta_in_body=True) == record(seed)


# --------------------------------------------------------------------------- 004 work report


def test_004_work_report_is_negative_control(full_width: bool) -> None:
    r = record("004", full_width=full_width)
    assert r.kind == KIND_REPORT
    assert r.deputies == []
    assert r.proposal_no is None
    assert r.proposal_title is None
    assert r.meeting is None
    assert r.adoption == []
    assert r.reply_class is None
    assert r.signed_on == "2022-08-10"
    assert r.bureau == "中山市医疗保障局"
    assert [fold(h) for level, h in r.outline if level == 1] == [
        "一、上半年重点工作",
        "二、存在问题",
        "三、下半年工作计划",
    ]
    assert len([1 for level, _ in r.outline if level == 2]) == 7


# --------------------------------------------------------------------------- width invariance


@pytest.mark.parametrize("seed", SEEDS)
def test_full_width_gives_same_record(seed: str) -> None:
    """Full-width punctuation (as real pages print it) yields the same facts; display fields
    keep the page's width and are equal after folding."""
    ascii_rec = record(seed).to_dict()
    wide_rec = record(seed, full_width=True).to_dict()
    for key in ("body_text", "proposal_title", "title"):
        assert fold(wide_rec.pop(key) or "") == fold(ascii_rec.pop(key) or ""), key
    assert [(lv, fold(h)) for lv, h in wide_rec.pop("outline")] == [
        (lv, fold(h)) for lv, h in ascii_rec.pop("outline")
    ]
    assert wide_rec == ascii_rec


def test_full_width_body_keeps_page_width() -> None:
    body = record("003", full_width=True).body_text
    assert "代表：" in body
    assert "（此件主动公开）" in body
