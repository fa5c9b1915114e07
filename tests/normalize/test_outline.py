from __future__ import annotations

import pytest

from core.normalize import heading_level, outline


@pytest.mark.parametrize(
    ("paragraph", "level"),
    [
        pytest.param("一、对建议内容的总体表态", 1, id="l1"),
        pytest.param("十二、其他", 1, id="l1-twelve"),
        pytest.param("（一）关于扩大药品集采品种配送渠道的建议", 2, id="l2-fullwidth"),
        pytest.param("(一)医保部门开展医保基金综合治理的情况", 2, id="l2-ascii"),
        pytest.param("（十）其他", 2, id="l2-ten"),
        pytest.param("1.实施稳健筹资政策", 3, id="l3-dot"),
        pytest.param("1．实施稳健筹资政策", 3, id="l3-fullwidth-dot"),
        pytest.param("1、实施稳健筹资政策", 3, id="l3-dunhao"),
        pytest.param("12.第十二项", 3, id="l3-two-digits"),
        pytest.param("（1）细项", 4, id="l4-paren-digit"),
        pytest.param("①细项", 4, id="l4-circled"),
        pytest.param("一是持续优化医保基金总额预算管理。", None, id="yishi-not-heading"),
        pytest.param("1.5亿元用于……", None, id="decimal"),
        pytest.param("2025年我市……", None, id="year"),
        pytest.param("一、", None, id="bare-number"),
        pytest.param("我市通过差异化报销……", None, id="text"),
    ],
)
def test_heading_level(paragraph: str, level: int | None) -> None:
    assert heading_level(paragraph) == level


@pytest.mark.parametrize(
    ("paragraph", "heading"),
    [
        pytest.param("一、办理工作背景", "一、办理工作背景", id="whole-short"),
        pytest.param(
            "（一）积极推进会商协同机制。2025年3月，省医保局……召开会议。",
            "（一）积极推进会商协同机制。",
            id="cut-at-first-full-stop",
        ),
        pytest.param(
            "(二)关于提高镇区二甲综合医院的医院系数,不比同级别医院的专科医院低的建议。",
            "(二)关于提高镇区二甲综合医院的医院系数,不比同级别医院的专科医院低的建议。",
            id="ends-with-full-stop",
        ),
        pytest.param("1.为什么要出台？主要是……", "1.为什么要出台？", id="question-mark"),
        pytest.param("  2.优化线上服务体验。以“粤医保”为例  ", "2.优化线上服务体验。", id="trimmed"),
        pytest.param(
            "三、关于“加强医保政策培训与指导”问题", "三、关于“加强医保政策培训与指导”问题", id="no-stop"
        ),
    ],
)
def test_outline_heading_cut(paragraph: str, heading: str) -> None:
    result = outline([paragraph])
    assert len(result) == 1
    assert result[0][1] == heading


def test_outline_order_and_levels() -> None:
    paragraphs = [
        "黄彩欢代表：",
        "一、总体情况",
        "正文。",
        "（一）第一点。正文。",
        "1.细则。",
        "一是不算标题。",
        "二、下一步",
    ]
    assert outline(paragraphs) == [
        (1, "一、总体情况"),
        (2, "（一）第一点。"),
        (3, "1.细则。"),
        (1, "二、下一步"),
    ]
