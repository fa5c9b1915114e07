"""core.citations: what a body cites, in which relation, and a policy's own term.

The phrasings are copied from real bureau pages (the seeds of the 中山, 厦门, 南宁 and 四川 replies) and from
the wording real policies use for their term and for what they abolish.
"""

from __future__ import annotations

import datetime

import pytest

from core.citations import (
    RELATIONS,
    Citation,
    PolicyTerm,
    citation_key,
    extract_citations,
    normalize_title,
    policy_term,
)


def _triples(text: str, **kw: str) -> list[tuple[str, str | None, str | None, str]]:
    return [(c.relation, c.doc_no, c.title, c.kind) for c in extract_citations(text, **kw)]


# --------------------------------------------------------------------------- the seeds

ZHONGSHAN_REPLY = (
    "在国家和省政策框架内,我市依据《中山市职工医疗保险办法》(中府〔2021〕87号)、《中山市城乡居民医疗保险办法》"
    "(中府〔2021〕88号)以及《中山市人民政府关于落实广东省医疗保障待遇清单制度的通知》(中府〔2022〕133号)等规定,"
    "进一步明确了各类异地就医情形。"
)


def test_zhongshan_reply_seed_cites_its_three_policies_by_number() -> None:
    assert _triples(ZHONGSHAN_REPLY) == [
        ("implements", "中府〔2021〕87号", "中山市职工医疗保险办法", "document"),
        ("implements", "中府〔2021〕88号", "中山市城乡居民医疗保险办法", "document"),
        (
            "implements",
            "中府〔2022〕133号",
            "中山市人民政府关于落实广东省医疗保障待遇清单制度的通知",
            "document",
        ),
    ]


def test_zhongshan_seed_title_only_and_issuing_its_own_directory() -> None:
    text = (
        "部分采纳该建议。为促进我市分级诊疗,根据《国家医疗保障局办公室关于印发按病组(DRG)和病种分值(DIP)付费2.0版"
        "分组方案并深入推进相关工作的通知》等有关要求,我局经过深入研究、广泛研讨、结合第三方数据测算结果,科学制定"
        "《关于印发中山市社会医疗保险DIP目录库(2025年版)的通知》,在全国率先创新实施。"
    )
    assert _triples(text) == [
        (
            "implements",
            None,
            "国家医疗保障局办公室关于印发按病组(DRG)和病种分值(DIP)付费2.0版分组方案并深入推进相关工作的通知",
            "document",
        ),
        ("cites", None, "关于印发中山市社会医疗保险DIP目录库(2025年版)的通知", "document"),
    ]


def test_xiamen_reply_seed_own_number_proposal_and_documentary_are_not_citations() -> None:
    text = (
        "厦医保函〔2025〕33号\n"
        "《关于在我市即将步入老龄化背景下,进一步优化医疗保障的建议》(第0105号)收悉。现答复如下:\n"
        "我局接到该人大建议的分工后,并按照《厦门市人民政府办公厅关于办理市十六届人大五次会议代表建议的通知》要求,拟定答复函。\n"
        "入选庆祝新中国成立75周年纪录片《中国式现代化之路·人民至上》改革典型案例。\n"
        "二是加强药品价格监测工作。根据《福建省医疗保障局关于开展“上网店,查药价,比数据,抓治理”专项行动的函》"
        "(闽医保价采函〔2024〕49号)要求,抓好药店药品价格监测工作。\n"
        "国家监管部门指导行业协会发布《保险服务质量指数》,同时,制定《人身保险理赔服务规范》。"
    )
    assert _triples(text, own_doc_no="厦医保函[2025]033号") == [
        ("implements", None, "厦门市人民政府办公厅关于办理市十六届人大五次会议代表建议的通知", "document"),
        (
            "implements",
            "闽医保价采函〔2024〕49号",
            "福建省医疗保障局关于开展“上网店,查药价,比数据,抓治理”专项行动的函",
            "document",
        ),
        ("cites", None, "人身保险理赔服务规范", "document"),
    ]


def test_nanning_reply_seed_laws_and_regulations_by_title() -> None:
    text = (
        "  • 发文字号: 宁医保函〔2025〕116号\n"
        "通过解读《社会保险法》《医疗保障基金使用监督管理条例》《关于办理医保骗保刑事案件若干问题的指导意见》"
        "等医保基金使用相关法律法规,开展医保骗保犯罪宣传。我局按照国家《DIP技术规范》中明确的DIP结算点值。"
    )
    assert _triples(text) == [
        ("cites", None, "社会保险法", "law"),
        ("cites", None, "医疗保障基金使用监督管理条例", "regulation"),
        ("cites", None, "关于办理医保骗保刑事案件若干问题的指导意见", "document"),
        ("implements", None, "DIP技术规范", "document"),
    ]


def test_zhongshan_seed_amends() -> None:
    text = "一是修订《中山市社会医疗保险医疗费用结算办法》。科学确定定点医疗机构医保等级系数。"
    assert _triples(text) == [("amends", None, "中山市社会医疗保险医疗费用结算办法", "document")]


# --------------------------------------------------------------------------- 文号 variants


@pytest.mark.parametrize(
    "printed",
    [
        "中府〔2021〕87号",
        "中府[2021]87号",
        "中府【2021】87号",
        "中府(2021)87号",
        "中府（2021）87号",
        "中府［2021］87号",
        "中府〔2021〕第87号",
        "中府〔２０２１〕８７号",
        "中府〔2021〕087号",
        "中府 〔2021〕 87 号",
        "中府﹝2021﹞87号",
    ],
)
def test_doc_no_bracket_variants_are_canonical(printed: str) -> None:
    text = f"根据《中山市职工医疗保险办法》（{printed}）规定执行。"
    (c,) = extract_citations(text)
    assert (c.doc_no, c.title, c.relation) == ("中府〔2021〕87号", "中山市职工医疗保险办法", "implements")
    assert citation_key(c) == "no:中府〔2021〕87号"
    assert text[c.start] == "《"


def test_doc_no_alone_and_half_width_parenthesis() -> None:
    assert _triples("按照粤医保发〔2023〕12号文件精神，做好衔接。") == [
        ("implements", "粤医保发〔2023〕12号", None, "document")
    ]
    assert _triples("详见《关于做好2025年居民医保工作的通知》(厦医保[2025]7号)。") == [
        ("cites", "厦医保〔2025〕7号", "关于做好2025年居民医保工作的通知", "document")
    ]


# --------------------------------------------------------------------------- relations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "本通知自2025年4月1日起施行，原《厦门市门诊特殊病种管理办法》（厦医保规〔2019〕2号）同时废止。",
            ("abolishes", "厦医保规〔2019〕2号"),
        ),
        (
            "本办法自印发之日起施行，《关于调整门诊慢特病病种的通知》（榕医保〔2020〕15号）不再执行。",
            ("abolishes", "榕医保〔2020〕15号"),
        ),
        (
            "本办法施行后，我局此前印发的《关于X的通知》（泉医保〔2018〕4号）同时失效。",
            ("abolishes", "泉医保〔2018〕4号"),
        ),
        (
            "原《关于X的通知》（泉医保〔2018〕4号），自本办法施行之日起废止。",
            ("abolishes", "泉医保〔2018〕4号"),
        ),
        (
            "本办法代替《关于X的通知》（泉医保〔2018〕4号）。",
            ("replaces", "泉医保〔2018〕4号"),
        ),
        (
            "本办法自2026年1月1日起施行，原《关于X的通知》（泉医保〔2018〕4号）同时废止，由本办法取代。",
            ("replaces", "泉医保〔2018〕4号"),
        ),
        (
            "现对《中山市社会医疗保险办法》（中府〔2019〕5号）部分条款作如下修改：",
            ("amends", "中府〔2019〕5号"),
        ),
        (
            "关于修改《厦门市医疗保障基金监督管理办法》（厦医保规〔2020〕1号）的决定",
            ("amends", "厦医保规〔2020〕1号"),
        ),
        (
            "为贯彻落实《关于深化医疗保障制度改革的意见》（中发〔2020〕5号），结合我市实际，制定本办法。",
            ("implements", "中发〔2020〕5号"),
        ),
        (
            "为落实《国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见》（国办发〔2021〕42号）精神。",
            ("implements", "国办发〔2021〕42号"),
        ),
        (
            "与《关于X的通知》（泉医保〔2018〕4号）相比，本次调整提高了报销比例。",
            ("cites", "泉医保〔2018〕4号"),
        ),
    ],
)
def test_relation_from_the_clause(text: str, expected: tuple[str, str]) -> None:
    got = [(c.relation, c.doc_no) for c in extract_citations(text)]
    assert got == [expected]


def test_implements_reaches_every_document_of_the_list_but_not_the_next_clause() -> None:
    text = "根据《A管理办法》（闽医保〔2021〕1号）和《B实施细则》（闽医保〔2021〕2号）要求，参照《C方案》，做好工作。"
    assert [(c.relation, c.title) for c in extract_citations(text)] == [
        ("implements", "A管理办法"),
        ("implements", "B实施细则"),
        ("cites", "C方案"),
    ]


def test_abolished_list_and_a_cited_basis_in_the_same_policy() -> None:
    text = (
        "根据《中华人民共和国社会保险法》，制定本办法。\n"
        "本办法自2025年4月1日起施行，有效期5年。《关于A的通知》（厦医保〔2019〕2号）、《关于B的通知》（厦医保〔2019〕3号）"
        "同时废止。"
    )
    assert _triples(text) == [
        ("implements", None, "中华人民共和国社会保险法", "law"),
        ("abolishes", "厦医保〔2019〕2号", "关于A的通知", "document"),
        ("abolishes", "厦医保〔2019〕3号", "关于B的通知", "document"),
    ]


# --------------------------------------------------------------------------- what is not a citation


@pytest.mark.parametrize(
    "text",
    [
        "据《健康报》报道，我市医保工作成效明显。",
        "相关情况已在《人民日报》《中国医疗保险》杂志刊登。",
        "您提出的《关于完善医保DRG支付结算,促进“医、保、患”三方共赢的提案》收悉，经研究，现回复如下：",
        "《关于提升基层医院(服务能力)相关问题的建议》(建议第2025010号)收悉。",
        "通过医保信息平台《智慧医保》模块办理。",
        "发文字号：宁医保函〔2025〕116号",
        "厦医保函〔2025〕33号\n各区医保局：",
        "《关于",  # unclosed
        "",
    ],
)
def test_not_citations(text: str) -> None:
    assert extract_citations(text) == []


def test_own_document_is_never_a_citation() -> None:
    own = "关于印发《厦门市医疗保障定点管理办法》的通知"
    text = (
        "各有关单位：现将《厦门市医疗保障定点管理办法》印发给你们，请认真贯彻执行。"
        "根据《医疗机构医疗保障定点管理暂行办法》（国家医疗保障局令第2号），制定本办法。"
        "本通知文号为厦医保规〔2025〕1号，与厦医保规〔2024〕9号配套执行。"
    )
    got = _triples(text, own_doc_no="厦医保规〔2025〕1号", own_title=own)
    assert got == [
        ("implements", None, "医疗机构医疗保障定点管理暂行办法", "regulation"),
        ("cites", "厦医保规〔2024〕9号", None, "document"),
    ]


def test_nested_brackets_belong_to_the_outer_title() -> None:
    text = "按照《关于印发〈医疗保障基金结算清单填写规范〉的通知》（医保办发〔2020〕20号）执行。"
    (c,) = extract_citations(text)
    assert c.title == "关于印发〈医疗保障基金结算清单填写规范〉的通知"
    text2 = "按照《关于印发《医疗保障基金结算清单填写规范》的通知》（医保办发〔2020〕20号）执行。"
    (c2,) = extract_citations(text2)
    assert c2.title == "关于印发《医疗保障基金结算清单填写规范》的通知"
    assert c2.doc_no == "医保办发〔2020〕20号"


def test_once_per_relation_and_key_and_title_lends_its_number() -> None:
    text = (
        "根据《中山市职工医疗保险办法》（中府〔2021〕87号），制定本细则。"
        "《中山市职工医疗保险办法》规定的待遇不变。再次按照中府〔2021〕87号执行。"
    )
    got = extract_citations(text)
    assert [(c.relation, c.doc_no, c.title) for c in got] == [
        ("implements", "中府〔2021〕87号", "中山市职工医疗保险办法"),
        ("cites", "中府〔2021〕87号", "中山市职工医疗保险办法"),
    ]


def test_law_names_share_a_key_with_and_without_the_state_prefix() -> None:
    a, b = extract_citations("依据《中华人民共和国社会保险法》。另见《社会保险法》。")
    assert a.kind == b.kind == "law"
    assert citation_key(a) == citation_key(b) == "title:社会保险法"
    assert normalize_title(" 《医疗保障基金使用监督管理条例》 ") == "医疗保障基金使用监督管理条例"
    assert [
        c.kind for c in extract_citations("按照《中华人民共和国药品管理法实施条例》和《XX市医疗保障办法》。")
    ] == [
        "regulation",
        "document",
    ]


def test_fields_are_well_formed() -> None:
    text = (
        "为贯彻落实《关于X的意见》（国办发〔2021〕14号）文件精神，" * 3
        + "本办法代替《Y办法》（厦医保规〔2019〕1号）。"
    )
    for c in extract_citations(text):
        assert isinstance(c, Citation)
        assert c.relation in RELATIONS
        assert c.kind in ("document", "law", "regulation")
        assert 0 <= c.start < len(text)
        assert c.quote
        assert len(c.quote) <= 90


# --------------------------------------------------------------------------- robustness


def test_control_characters_and_large_bodies() -> None:
    """Control characters are no obstacle, and a long body gives every citation in it (how fast 1 MB
    adversarial bodies go is printed by benchmarks/citation_accuracy.py, not asserted here)."""
    text = "根据《关于\x00X的通知》（中府〔2021〕87号\x1b）要求。\x7f《"
    assert [c.doc_no for c in extract_citations(text)] == ["中府〔2021〕87号"]
    chunk = "根据《关于某某的通知》（中府〔{}〕87号）要求。" + "医保" * 500 + "\x00《〔2021〕"
    big = "".join(chunk.format(1900 + n) for n in range(100))  # about 100,000 characters
    assert [c.doc_no for c in extract_citations(big)] == [f"中府〔{1900 + n}〕87号" for n in range(100)]
    assert extract_citations("《" * 100_000) == []
    abolished = extract_citations("".join(f"《关于X{n}的通知》，" for n in range(2_000)) + "同时废止。")
    assert len(abolished) == 2_000


# --------------------------------------------------------------------------- policy term


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        (
            "本通知自2025年4月1日起施行，有效期5年。",
            None,
            PolicyTerm(datetime.date(2025, 4, 1), 5, datetime.date(2030, 3, 31)),
        ),
        (
            "本办法自印发之日起施行，有效期3年。",
            datetime.date(2024, 2, 29),
            PolicyTerm(datetime.date(2024, 2, 29), 3, datetime.date(2027, 2, 27)),
        ),
        (
            "本办法自2024年1月1日起实施，有效期至2028年12月31日。",
            None,
            PolicyTerm(datetime.date(2024, 1, 1), None, datetime.date(2028, 12, 31)),
        ),
        (
            "有效期自2025年1月1日至2029年12月31日止。",
            None,
            PolicyTerm(datetime.date(2025, 1, 1), None, datetime.date(2029, 12, 31)),
        ),
        (
            "本办法自二〇二五年七月一日起施行，有效期五年。",
            None,
            PolicyTerm(datetime.date(2025, 7, 1), 5, datetime.date(2030, 6, 30)),
        ),
        ("本办法有效期5年。", datetime.date(2025, 3, 10), PolicyTerm(None, 5, datetime.date(2030, 3, 9))),
        ("本办法有效期5年。", None, PolicyTerm(None, 5, None)),
        ("本答复不涉及施行日期。", None, PolicyTerm(None, None, None)),
    ],
)
def test_policy_term(text: str, published: datetime.date | None, expected: PolicyTerm) -> None:
    assert policy_term(text, published=published) == expected


# --------------------------------------------------------------------------- rules found on the replicas


def test_short_names_declared_with_yixia_jiancheng_are_not_documents() -> None:
    text = (
        "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级有关要求编制。"
        "按照《条例》规定，主动公开政府信息。"
    )
    assert _triples(text) == [("implements", None, "中华人民共和国政府信息公开条例", "regulation")]


@pytest.mark.parametrize(
    "opening",
    [
        "您提出的关于修订《基本医疗保险用药管理暂行办法》的提案收悉，现答复如下：",
        "您提出的“关于修订《基本医疗保险用药管理暂行办法》的建议”（建议第2014号）收悉。",
        "你们提出的《完善职工医保门诊共济保障机制》（第2025129号）已收悉。",
        "《建立医保数据共享机制》（2039号）收悉。",
    ],
)
def test_the_proposal_being_answered_is_not_a_citation(opening: str) -> None:
    assert extract_citations(opening) == []


def test_a_new_policy_abolishing_its_same_named_predecessor() -> None:
    own = "宁德市医疗保障局关于印发《宁德市门诊慢特病管理办法》的通知"
    text = (
        "现将《宁德市门诊慢特病管理办法》印发给你们，请结合实际认真贯彻执行。\n"
        "本办法自2025年1月1日起施行，原《宁德市门诊慢特病管理办法》（宁医保规〔2021〕3号）同时废止。"
    )
    assert _triples(text, own_doc_no="宁医保规〔2024〕9号", own_title=own) == [
        ("abolishes", "宁医保规〔2021〕3号", "宁德市门诊慢特病管理办法", "document")
    ]


def test_a_title_named_again_takes_the_nearest_number_before_it() -> None:
    text = (
        "原《厦门市医疗救助实施办法》（厦医保规〔2019〕2号）同时废止。"
        "根据《厦门市医疗救助实施办法》（厦医保规〔2024〕8号）要求，细化经办流程。"
        "《厦门市医疗救助实施办法》明确的待遇标准保持不变。"
    )
    assert [(c.relation, c.doc_no) for c in extract_citations(text)] == [
        ("abolishes", "厦医保规〔2019〕2号"),
        ("implements", "厦医保规〔2024〕8号"),
        ("cites", "厦医保规〔2024〕8号"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("结合厦医保发【2024】530号有关要求，我市制定了实施细则。", ("implements", "厦医保发〔2024〕530号")),
        ("本办法代替宁医保规〔２０２３〕１５８１号。", ("replaces", "宁医保规〔2023〕1581号")),
        (
            "下一步，我局将修订宁医保规〔2026〕331号，进一步扩大保障范围。",
            ("amends", "宁医保规〔2026〕331号"),
        ),
        ("本细则自印发之日起施行，原中医保规[2023]1082号不再执行。", ("abolishes", "中医保规〔2023〕1082号")),
        ("本通知文号为厦医保规〔2025〕1号。", ("cites", "厦医保规〔2025〕1号")),
        ("其他事项参照川医保发〔2026〕433号执行。", ("cites", "川医保发〔2026〕433号")),
    ],
)
def test_a_bare_doc_no_never_swallows_the_verb_before_it(text: str, expected: tuple[str, str]) -> None:
    assert [(c.relation, c.doc_no) for c in extract_citations(text)] == [expected]


def test_continuing_and_checking_clauses_implement() -> None:
    text = (
        "我局按照国家《DIP技术规范》中明确的DIP结算点值计算结算阶段的分值点值，以及省医保局下发的《DIP经办规程》"
        "中规定的计算方法，确定我市计算公式。四是认真对照《关于进一步规范医疗行为促进合理医疗检查的指导意见》等有关要求。"
    )
    assert [(c.relation, c.title) for c in extract_citations(text)] == [
        ("implements", "DIP技术规范"),
        ("implements", "DIP经办规程"),
        ("implements", "关于进一步规范医疗行为促进合理医疗检查的指导意见"),
    ]


def test_policy_term_is_the_policy_s_own_not_a_measure_s() -> None:
    text = (
        "统一我市职工医保缴费政策，由用人单位和在职职工共同缴纳，自2023年1月1日起执行。\n"
        "本细则自2023年6月18日起施行，有效期2年。"
    )
    assert policy_term(text) == PolicyTerm(datetime.date(2023, 6, 18), 2, datetime.date(2025, 6, 17))
    assert policy_term("统一缴费政策，自2023年1月1日起执行。") == PolicyTerm(None, None, None)


def test_a_list_of_abolished_documents_one_per_line() -> None:
    text = (
        "本办法自2025年1月1日起施行。下列文件同时废止：\n"
        "1.《关于A的通知》（厦医保〔2019〕2号）；\n"
        "（二）《关于B的通知》（厦医保〔2019〕3号）。\n"
        "根据《关于C的通知》（厦医保〔2019〕4号）执行。\n"
        "《关于D的通知》（厦医保〔2019〕5号）"
    )
    assert [(c.relation, c.doc_no) for c in extract_citations(text)] == [
        ("abolishes", "厦医保〔2019〕2号"),
        ("abolishes", "厦医保〔2019〕3号"),
        ("implements", "厦医保〔2019〕4号"),
        ("cites", "厦医保〔2019〕5号"),
    ]
    inline = "本办法代替《关于A的通知》（厦医保〔2019〕2号）、《关于B的通知》（厦医保〔2019〕3号）。"
    assert [c.relation for c in extract_citations(inline)] == ["replaces", "replaces"]
    replaced = "本办法代替以下文件：\n《关于A的通知》（厦医保〔2019〕2号）"
    assert [c.relation for c in extract_citations(replaced)] == ["replaces"]


@pytest.mark.parametrize(
    "heading",
    [
        "宁医保函〔2024〕88号（B类）\n",
        "厦医保函〔2025〕33号      签发人：王某某\n",
        "  中医保〔2025〕7号  \n",
    ],
)
def test_the_heading_number_is_the_document_s_own_even_unannounced(heading: str) -> None:
    text = heading + "各有关单位：\n根据《X办法》（中府〔2021〕87号）执行。"
    (c,) = extract_citations(text)
    assert (c.relation, c.doc_no, c.title) == ("implements", "中府〔2021〕87号", "X办法")
    assert text[c.start] == "《"
    assert c.quote == "根据《X办法》（中府〔2021〕87号）执行"


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("根据工作安排我局印发了《X办法》，进一步规范了经办服务。", "cites"),
        ("根据省局部署制定《X办法》（中医保〔2024〕5号）。", "cites"),
        ("根据国家医保局印发的《X办法》要求，做好衔接。", "implements"),
        ("按照有关部门印发《X办法》的要求，做好政策衔接。", "implements"),
    ],
)
def test_a_document_the_clause_itself_issues_is_not_its_basis(text: str, relation: str) -> None:
    assert [c.relation for c in extract_citations(text)] == [relation]
