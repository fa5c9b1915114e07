from __future__ import annotations

import pytest

from core.normalize import (
    find_adoption,
    find_contacts,
    find_proposal_title,
    find_public_marker,
    find_reply_class,
    parse_reply_title,
    split_title_tag,
)


@pytest.mark.parametrize(
    ("title", "bare", "tag"),
    [
        pytest.param(
            "【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函",
            "中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函",
            "建议提案",
            id="zhongshan-tag",
        ),
        pytest.param(" 【政协提案】 关于某事的答复 ", "关于某事的答复", "政协提案", id="padded"),
        pytest.param(
            "关于市五届人大四次会议第1472号建议的答复",
            "关于市五届人大四次会议第1472号建议的答复",
            None,
            id="no-tag",
        ),
        pytest.param("", "", None, id="empty"),
    ],
)
def test_split_title_tag(title: str, bare: str, tag: str | None) -> None:
    assert split_title_tag(title) == (bare, tag)


@pytest.mark.parametrize(
    ("title", "org", "session", "no", "kind", "tail"),
    [
        pytest.param(
            "【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函",
            "中山市医疗保障局", "市十六届人大五次会议", "2025010", "建议", "答复的函",
            id="seed-000",
        ),
        pytest.param(
            "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函",
            "厦门市医疗保障局", "市十六届人大五次会议", "0105", "建议", "办理情况答复的函",
            id="seed-002",
        ),
        pytest.param(
            "关于市五届人大四次会议第1472号建议的答复", None, "市五届人大四次会议", "1472", "建议", "的答复",
            id="seed-003",
        ),
        pytest.param(
            "关于湖北省政协十二届一次会议第20180329号提案的答复",
            None, "湖北省政协十二届一次会议", "20180329", "提案", "的答复",
            id="hubei",
        ),
        pytest.param(
            "市住房和城市更新局对市政协十四届四次会议第20250688号提案的答复",
            "市住房和城市更新局", "市政协十四届四次会议", "20250688", "提案", "的答复",
            id="dui",
        ),
        pytest.param(
            "关于省十四届人大一次会议“123号”建议的答复", None, "省十四届人大一次会议", "123", "建议", "的答复",
            id="quoted-no",
        ),
        pytest.param(
            "关于省政协十二届二次会议第20240123号提案的会办意见",
            None, "省政协十二届二次会议", "20240123", "提案", "的会办意见",
            id="co-handler",
        ),
        pytest.param(
            "关于市十六届人大五次会议第 0105 号建议的答复（全文）",
            None, "市十六届人大五次会议", "0105", "建议", "的答复(全文)",
            id="spaces-and-suffix",
        ),
    ],
)  # fmt: skip
def test_parse_reply_title(title: str, org: str | None, session: str, no: str, kind: str, tail: str) -> None:
    parsed = parse_reply_title(title)
    assert parsed is not None
    assert (parsed.org, parsed.session, parsed.no, parsed.kind, parsed.tail) == (org, session, no, kind, tail)


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("2022年上半年工作总结和下半年工作计划", id="report"),
        pytest.param("关于印发《医疗保障基金使用监督管理办法》的通知", id="policy"),
        pytest.param("关于刘建辉委员提案的答复", id="no-number"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_reply_title_rejects(title: str) -> None:
    assert parse_reply_title(title) is None


@pytest.mark.parametrize(
    ("text", "title", "no"),
    [
        pytest.param(
            "您提出的《关于提升基层医院(服务能力)相关问题的建议》(建议第2025010号)收悉。经综合……",
            "关于提升基层医院(服务能力)相关问题的建议", "2025010", id="zhongshan",
        ),
        pytest.param(
            "您提出的《关于提升基层医院（服务能力）相关问题的建议》（建议第2025010号）收悉。",
            "关于提升基层医院（服务能力）相关问题的建议", "2025010", id="zhongshan-fullwidth",
        ),
        pytest.param(
            "《关于在我市即将步入老龄化背景下,进一步优化医疗保障的建议》(第0105号)收悉。现答复如下:",
            "关于在我市即将步入老龄化背景下,进一步优化医疗保障的建议", "0105", id="xiamen",
        ),
        pytest.param(
            "《完善医保基金管理,切实保障民生福祉》(第1472号)建议收悉,代表们……",
            "完善医保基金管理,切实保障民生福祉", "1472", id="ningde",
        ),
        pytest.param(
            "您提出的《关于完善医保DRG支付结算,促进“医、保、患”三方共赢的提案》收悉,经研究,",
            "关于完善医保DRG支付结算,促进“医、保、患”三方共赢的提案", None, id="sichuan-no-number",
        ),
        pytest.param("您的来信收悉。", None, None, id="no-title"),
        pytest.param("根据《社会保险法》规定。", None, None, id="no-receipt"),
    ],
)  # fmt: skip
def test_find_proposal_title(text: str, title: str | None, no: str | None) -> None:
    assert find_proposal_title(text) == (title, no)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("答复类别：C类", "C", id="fullwidth"),
        pytest.param("答复类别:C类", "C", id="ascii"),
        pytest.param("答复类别： Ａ类", "A", id="fullwidth-letter"),
        pytest.param("办理结果：B", "B", id="result"),
        pytest.param("答复类型:d类", "D", id="lowercase"),
        pytest.param("答复类别：甲类", "A", id="jia"),
        pytest.param("答复类别：乙类", "B", id="yi"),
        pytest.param("答复类别：丙类", "C", id="bing"),
        pytest.param("答复类别：丁类", "D", id="ding"),
        pytest.param("主题分类：人大", None, id="theme-not-class"),
        pytest.param("主题分类：A类", None, id="theme-letter-not-class"),
        pytest.param("正文没有类别。", None, id="none"),
    ],
)
def test_find_reply_class(text: str, expected: str | None) -> None:
    assert find_reply_class(text) == expected
    assert find_reply_class(["正文。", text]) == expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["部分采纳该建议。按照目前的采购政策……", "吸收采纳该建议。我市自2019年开始……"],
            ["部分采纳", "吸收采纳"],
            id="zhongshan-paragraph-start",
        ),
        pytest.param(["（一）已采纳。正文"], ["已采纳"], id="after-heading-number"),
        pytest.param(["对您的建议，我局予以采纳。"], ["予以采纳"], id="preceded-by-jianyi"),
        pytest.param(["该建议已列入工作计划。"], ["已列入工作计划"], id="plan"),
        pytest.param(["我们将基本采纳您的建议。"], ["基本采纳"], id="followed-by-ninde-jianyi"),
        pytest.param(
            ["该提案留作参考。", "暂不采纳该意见。"], ["留作参考", "暂不采纳"], id="reference-and-not"
        ),
        pytest.param(["正在研究解决该建议提出的问题。"], ["正在研究解决"], id="researching"),
        pytest.param(["我局已解决群众反映的就医难题。"], [], id="running-text-ignored"),
        pytest.param(["数据可作为参考依据。"], [], id="reference-running-text"),
        pytest.param(["对意见采纳情况进行公示。"], [], id="not-vocabulary"),
    ],
)
def test_find_adoption(paragraphs: list[str], expected: list[str]) -> None:
    assert find_adoption(paragraphs) == expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["领导署名：陈玉良", "联 系 人：陈 \u00a0玮", "联系电话：0593-2079766"],
            {"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"},
            id="ningde",
        ),
        pytest.param(
            ["领导署名:陈玉良", "联 系 人:陈  玮", "联系电话:0593-2079766"],
            {"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"},
            id="ningde-ascii",
        ),
        pytest.param(
            ["联系人：张三　联系电话：（0760）88888888"],
            {"contact": "张三", "phone": "(0760)88888888"},
            id="one-line-fullwidth",
        ),
        pytest.param(["签发人：李四"], {"signer": "李四"}, id="qianfaren"),
        pytest.param(["我们与联系人保持沟通。"], {}, id="running-text"),
        pytest.param([], {}, id="empty"),
    ],
)
def test_find_contacts(paragraphs: list[str], expected: dict[str, str]) -> None:
    assert find_contacts(paragraphs) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("（此件主动公开）", "主动公开", id="fullwidth"),
        pytest.param("\u00a0 (此件主动公开)", "主动公开", id="ascii-nbsp"),
        pytest.param("（此件公开发布）", "公开发布", id="publish"),
        pytest.param("（此件依申请公开）", "依申请公开", id="on-request"),
        pytest.param("（此件不予公开）", "不予公开", id="not-public"),
        pytest.param("（此件删减后公开）", "删减后公开", id="redacted"),
        pytest.param("公开方式：主动公开", "主动公开", id="label"),
        pytest.param("公开属性:依申请公开", "依申请公开", id="label-attr"),
        pytest.param("我局主动公开了办理结果。", None, id="running-text"),
    ],
)
def test_find_public_marker(text: str, expected: str | None) -> None:
    assert find_public_marker(text) == expected
    assert find_public_marker(["正文。", text, "扫一扫"]) == expected
