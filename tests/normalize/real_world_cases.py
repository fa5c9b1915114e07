"""Real-world conventions (the project's list of what real 医保局 pages do), one row each.

Every row is a small page written in the convention it names: the texts are ours, made to look like
the national, provincial, city and county pages they imitate (no quotes). ``check(case)`` runs the
page through ``build_record`` and returns, per expected field, whether the normaliser got it right;
``tests/normalize/test_real_world.py`` asserts every row, and ``python -m tests.normalize.real_world_cases``
prints the score (used to measure the normaliser before and after a change).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from core.normalize import build_record
from core.records import RawPage

NATIONAL = "国家医疗保障局"
CITY = "厦门市医疗保障局"


@dataclass(frozen=True)
class Case:
    id: str
    convention: str  # the heading of the convention it shows
    title: str
    body: tuple[str, ...]
    expect: dict[str, Any]
    url: str = "http://www.example.gov.cn/zwgk/show-10245.html"  # no date in the URL
    column_kind: str = "policies"  # a neutral 政务公开 column unless the row says otherwise
    column: str = "政务公开"
    meta_table: dict[str, str] = field(default_factory=dict)


def _letter(salutation: str, opening: str, *, org: str = NATIONAL, date: str = "2024年7月12日") -> tuple[str, ...]:
    return (
        salutation,
        opening,
        "一、关于加强部门协同",
        "近年来，我局会同有关部门持续推进相关工作，取得积极进展。截至2023年底，全国参保人数达到13.3亿人。",
        "二、下一步工作",
        "下一步，我们将认真研究吸纳您的意见，持续完善相关政策。",
        "感谢您对医疗保障工作的关心和支持。",
        org,
        date,
    )


def _meeting(level: str, body: str, term: int, session: int) -> dict[str, Any]:
    return {"level": level, "body": body, "term": term, "session": session}


CASES: tuple[Case, ...] = (
    # ----------------------------------------------------------------- proposal titles in the opening
    Case(
        "ptitle-no-brackets", "proposal title with no 《》 (national bureau)",
        "对十四届全国人大二次会议第1234号建议的答复",
        _letter("李明代表：", "您提出的关于加快长期护理保险扩面的建议收悉。经商财政部，现答复如下："),
        {"kind": "suggestion_reply", "proposal_title": "关于加快长期护理保险扩面的建议", "proposal_no": "1234",
         "deputies": ["李明"], "meeting": _meeting("national", "npc", 14, 2), "signed_on": "2024-07-12"},
    ),
    Case(
        "ptitle-quotes", "proposal title inside “”",
        "对十四届全国人大二次会议第2871号建议的答复",
        _letter("王红梅代表：", "您提出的“关于完善门诊共济保障的建议”收悉。现答复如下："),
        {"kind": "suggestion_reply", "proposal_title": "关于完善门诊共济保障的建议", "proposal_no": "2871"},
    ),
    Case(
        "ptitle-quotes-inner-book", "quotes around an inner book title",
        "对十四届全国人大二次会议第3306号建议的答复",
        _letter("周建国代表：", "您提出的“关于制定《医疗保障基金使用监督条例》实施细则的建议”收悉。现答复如下："),
        {"proposal_title": "关于制定《医疗保障基金使用监督条例》实施细则的建议", "proposal_no": "3306"},
    ),
    Case(
        "ptitle-yishouxi-gui-weiyuanhui", "已收悉 and 贵委员会提出的",
        "关于市政协十四届四次会议第20240123号提案的答复",
        _letter("民进厦门市委员会：", "贵委员会提出的《关于推进医保支付方式改革的提案》已收悉。经研究，现答复如下：",
                org=CITY),
        {"kind": "proposal_reply", "proposal_title": "关于推进医保支付方式改革的提案", "proposal_no": "20240123",
         "meeting": _meeting("city", "cppcc", 14, 4)},
    ),
    Case(
        "ptitle-gui-danwei-no-brackets", "贵单位提出的 … 已收悉 without 《》",
        "关于市政协十四届三次会议第20230311号提案的答复",
        _letter("市工商联：", "贵单位提出的关于支持民营医疗机构纳入医保定点的提案已收悉，现答复如下：", org=CITY),
        {"kind": "proposal_reply", "proposal_title": "关于支持民营医疗机构纳入医保定点的提案"},
    ),
    Case(
        "ptitle-nimen", "你们提出的",
        "关于市十六届人大五次会议第0217号建议的答复",
        _letter("陈晓东、林秀英代表：", "你们提出的《关于提高城乡居民医保财政补助标准的建议》收悉。现答复如下：", org=CITY),
        {"kind": "suggestion_reply", "proposal_title": "关于提高城乡居民医保财政补助标准的建议",
         "deputies": ["陈晓东", "林秀英"]},
    ),
    # ----------------------------------------------------------------- proposal numbers
    Case(
        "pno-no-di-halfwidth", "number without 第 in half-width parentheses",
        "四川省医疗保障局对张华委员提案的答复",
        _letter("张华委员：", "您提出的《关于优化异地就医备案流程的提案》(455号)收悉。现答复如下：", org="四川省医疗保障局"),
        {"kind": "proposal_reply", "proposal_title": "关于优化异地就医备案流程的提案", "proposal_no": "455"},
        column_kind="replies",
    ),
    Case(
        "pno-fullwidth-di", "（第1234号） in full-width parentheses",
        "四川省医疗保障局对罗静委员提案的答复",
        _letter("罗静委员：", "您提出的《关于扩大门诊慢特病病种范围的提案》（第1234号）收悉。现答复如下：",
                org="四川省医疗保障局"),
        {"proposal_title": "关于扩大门诊慢特病病种范围的提案", "proposal_no": "1234"},
        column_kind="replies",
    ),
    Case(
        "pno-category-number-title", "a second, category number in the title",
        "关于政协十四届全国委员会第二次会议第5034号(医药卫生类212号)提案答复的函",
        _letter("孙立平委员：", "您提出的《关于加强医保药品追溯码应用的提案》收悉。现答复如下："),
        {"kind": "proposal_reply", "proposal_no": "5034", "meeting": _meeting("national", "cppcc", 14, 2),
         "proposal_title": "关于加强医保药品追溯码应用的提案"},
    ),
    Case(
        "pno-category-number-body", "a second, category number in the opening",
        "国家医疗保障局对政协委员提案的答复",
        _letter("何文静委员：",
                "您提出的《关于完善生育保险待遇保障的提案》（第5034号（医药卫生类212号））收悉。现答复如下："),
        {"kind": "proposal_reply", "proposal_no": "5034", "proposal_title": "关于完善生育保险待遇保障的提案"},
    ),
    # ----------------------------------------------------------------- meetings
    Case(
        "meeting-national-cppcc-short", "全国政协十三届三次会议",
        "关于全国政协十三届三次会议第2461号提案答复的函",
        _letter("高志强委员：", "您提出的《关于推动商业健康保险发展的提案》收悉。现答复如下："),
        {"kind": "proposal_reply", "meeting": _meeting("national", "cppcc", 13, 3), "proposal_no": "2461"},
    ),
    Case(
        "meeting-national-cppcc-formal", "政协十三届全国委员会第三次会议",
        "关于政协十三届全国委员会第三次会议第1032号提案答复的函",
        _letter("吴海燕委员：", "您提出的《关于完善医疗救助制度的提案》收悉。现答复如下："),
        {"kind": "proposal_reply", "meeting": _meeting("national", "cppcc", 13, 3), "proposal_no": "1032"},
    ),
    Case(
        "meeting-national-cppcc-di", "政协第十四届全国委员会第二次会议",
        "关于政协第十四届全国委员会第二次会议第00417号提案答复的函",
        _letter("郑丽娟委员：", "您提出的《关于规范医疗服务价格项目管理的提案》收悉。现答复如下："),
        {"kind": "proposal_reply", "meeting": _meeting("national", "cppcc", 14, 2), "proposal_no": "00417"},
    ),
    Case(
        "meeting-national-npc-short", "十四届全国人大二次会议",
        "对十四届全国人大二次会议第6120号建议的答复",
        _letter("马建华代表：", "您提出的关于推进医保电子凭证全场景应用的建议收悉。现答复如下："),
        {"kind": "suggestion_reply", "meeting": _meeting("national", "npc", 14, 2), "proposal_no": "6120"},
    ),
    Case(
        "meeting-national-npc-formal", "第十四届全国人民代表大会第二次会议",
        "关于第十四届全国人民代表大会第二次会议第4417号建议的答复",
        _letter("黄永胜代表：", "您提出的关于提高大病保险保障水平的建议收悉。现答复如下："),
        {"kind": "suggestion_reply", "meeting": _meeting("national", "npc", 14, 2), "proposal_no": "4417"},
    ),
    Case(
        "meeting-district-npc", "区十届人大三次会议",
        "关于区十届人大三次会议第15号建议的答复",
        _letter("谢春林代表：", "您提出的《关于增设社区医保服务点的建议》收悉。现答复如下：", org="思明区医疗保障局"),
        {"kind": "suggestion_reply", "meeting": _meeting("county", "npc", 10, 3), "proposal_no": "15"},
    ),
    Case(
        "meeting-county-cppcc", "县政协十一届二次会议",
        "关于县政协十一届二次会议第37号提案的答复",
        _letter("曾德明委员：", "您提出的《关于加强乡村卫生室医保结算的提案》收悉。现答复如下：", org="长泰县医疗保障局"),
        {"kind": "proposal_reply", "meeting": _meeting("county", "cppcc", 11, 2), "proposal_no": "37"},
    ),
    # ----------------------------------------------------------------- reply class marks
    Case(
        "class-mark-jiangsu", "〔A〕 mark at the top left, 〔公开〕 beside it",
        "关于市十七届人大三次会议第0288号建议的答复",
        ("〔A〕", "〔公开〕", "南通市医疗保障局", "通医保函〔2024〕61号",
         *_letter("顾志华代表：", "您提出的《关于完善医保经办服务的建议》收悉。现答复如下：", org="南通市医疗保障局")),
        {"kind": "suggestion_reply", "reply_class": "A", "public_marker": "公开", "doc_no": "通医保函〔2024〕61号"},
    ),
    Case(
        "class-mark-one-line", "〔B〕 and 〔主动公开〕 on one line",
        "关于省十四届人大二次会议第1106号建议的答复",
        ("〔B〕　　　　　　〔主动公开〕",
         *_letter("钱玉兰代表：", "您提出的《关于优化医保经办服务的建议》收悉。现答复如下：", org="江苏省医疗保障局")),
        {"kind": "suggestion_reply", "reply_class": "B", "public_marker": "主动公开"},
    ),
    Case(
        "class-lone-letter", "a lone A line above the title",
        "关于市政协十四届四次会议第20250091号提案的答复",
        ("C", "关于市政协十四届四次会议第20250091号提案的答复",
         *_letter("林国荣委员：", "您提出的《关于推进互联网医疗医保支付的提案》收悉。现答复如下：", org=CITY)),
        {"kind": "proposal_reply", "reply_class": "C"},
    ),
    Case(
        "class-label-banli", "办理类别：A",
        "关于市十六届人大四次会议第0033号建议的答复",
        ("办理类别：A", *_letter("蔡丽芳代表：", "您提出的《关于提高门诊待遇的建议》收悉。现答复如下：", org=CITY)),
        {"reply_class": "A"},
    ),
    Case(
        "class-label-dafu", "答复类别：B类",
        "关于市十六届人大四次会议第0034号建议的答复",
        ("答复类别：B类", *_letter("蔡丽芳代表：", "您提出的《关于提高门诊待遇的建议》收悉。现答复如下：", org=CITY)),
        {"reply_class": "B"},
    ),
    Case(
        "class-paren", "（A类） on its own line",
        "关于市五届人大三次会议第1188号建议的答复",
        ("（A类）", *_letter("杨振宇代表：", "您提出的《关于规范定点药店管理的建议》收悉。现答复如下：", org="宁德市医疗保障局")),
        {"reply_class": "A"},
    ),
    Case(
        "class-paren-after-doc-no", "（B类） after the 文号",
        "关于市五届人大三次会议第1189号建议的答复",
        ("宁医保函〔2024〕88号（B类）",
         *_letter("杨振宇代表：", "您提出的《关于规范定点药店管理的建议》收悉。现答复如下：", org="宁德市医疗保障局")),
        {"reply_class": "B", "doc_no": "宁医保函〔2024〕88号"},
    ),
    # ----------------------------------------------------------------- addressees
    Case(
        "salutation-no-colon", "salutation without a colon, the text on the next line",
        "关于市十六届人大五次会议第0302号建议的答复",
        _letter("陈伟代表", "您提出的《关于加强医保基金监管的建议》收悉。现答复如下：", org=CITY),
        {"kind": "suggestion_reply", "deputies": ["陈伟"]},
    ),
    Case(
        "salutation-masked-deputy", "name partly masked: 张**代表：",
        "关于市十六届人大五次会议第0303号建议的答复",
        _letter("张**代表：", "您提出的《关于加强医保基金监管的建议》收悉。现答复如下：", org=CITY),
        {"kind": "suggestion_reply", "deputies": ["张**"]},
    ),
    Case(
        "salutation-masked-member", "name fully masked: ***委员：",
        "四川省医疗保障局对政协委员提案的答复",
        _letter("***委员：", "您提出的《关于完善医保DRG支付结算的提案》收悉。现答复如下：", org="四川省医疗保障局"),
        {"kind": "proposal_reply", "deputies": ["***"]},
        column_kind="replies",
    ),
    Case(
        "salutation-party-committee", "a reply addressed to a party committee (民进市委会：)",
        "厦门市医疗保障局答复函",
        _letter("民进市委会：", "贵会提出的《关于完善长期护理保险制度的提案》收悉。现答复如下：", org=CITY),
        {"kind": "proposal_reply", "deputies": ["民进市委会"],
         "proposal_title": "关于完善长期护理保险制度的提案"},
        column_kind="replies",
    ),
    Case(
        "huiban-office", "会办意见 addressed to the lead office: no deputies",
        "关于市政协十四届四次会议第20250688号提案的会办意见",
        _letter("市民政局：", "你局转来的王芳委员提出的《关于加强困难群众医疗救助的提案》收悉。经研究，提出会办意见如下：",
                org=CITY),
        {"kind": "proposal_reply", "deputies": [], "proposal_no": "20250688",
         "proposal_title": "关于加强困难群众医疗救助的提案"},
    ),
    # ----------------------------------------------------------------- contacts
    Case(
        "contacts-one-paren", "（联系人及电话：… …）",
        "关于市十六届人大五次会议第0410号建议的答复",
        (*_letter("许文斌代表：", "您提出的《关于优化医保经办流程的建议》收悉。现答复如下：", org=CITY),
         "（联系人及电话：林强 0592-5301234）"),
        {"contacts": {"contact": "林强", "phone": "0592-5301234"}},
    ),
    Case(
        "contacts-semicolon", "联系人：…；联系电话：…",
        "关于市十六届人大五次会议第0411号建议的答复",
        (*_letter("许文斌代表：", "您提出的《关于优化医保经办流程的建议》收悉。现答复如下：", org=CITY),
         "联系人：王丽；联系电话：12345678"),
        {"contacts": {"contact": "王丽", "phone": "12345678"}},
    ),
    # ----------------------------------------------------------------- other kinds
    Case(
        "report-annual-body", "yearly 政府信息公开工作年度报告 recognised by its opening",
        "厦门市医疗保障局2023年政府信息公开",
        ("本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和有关要求编制。全文包括总体情况、主动公开政府信息情况等。",
         "一、总体情况", "2023年，我局认真贯彻落实《条例》，不断提升政务公开质量。", CITY, "2024年1月20日"),
        {"kind": "report", "signed_on": "2024-01-20"},
    ),
    Case(
        "report-bureau-author", "a report whose body names the bureau as its author",
        "宁德市医疗保障局2024年法治政府建设工作",
        ("2024年，宁德市医疗保障局在市委、市政府的坚强领导下，深入推进法治政府建设。现将有关情况报告如下：",
         "一、主要举措和成效", "（一）健全制度机制。", "宁德市医疗保障局", "2025年1月15日"),
        {"kind": "report"},
    ),
    Case(
        "report-title-trailing-plan", "总结 with next year's 工作思路 at the end of the title",
        "厦门市医疗保障局2024年工作总结及2025年工作思路",
        ("2024年，在市委、市政府的坚强领导下，我局各项工作取得新成效。", "一、2024年工作总结", "二、2025年工作思路",
         CITY, "2024年12月30日"),
        {"kind": "report"},
    ),
    Case(
        "report-work-plan", "工作计划 is a report",
        "厦门市医疗保障局2025年工作计划",
        ("一、总体要求", "二、重点任务", CITY, "2025年2月10日"), {"kind": "report"},
    ),
    Case(
        "report-shuzhi", "述职报告 is a report",
        "厦门市医疗保障局领导班子2024年度述职述廉报告",
        ("一、履职情况", "二、存在不足", CITY, "2025年1月8日"), {"kind": "report"},
    ),
    Case(
        "policy-cover-notice", "a policy issued by a cover notice, no 文号 shown",
        "关于印发《厦门市DRG付费结算管理办法（2025版）》的通知",
        ("各定点医疗机构：", "现将《厦门市DRG付费结算管理办法（2025版）》印发给你们，请认真贯彻执行。", CITY,
         "2025年3月3日", "厦门市DRG付费结算管理办法（2025版）", "第一章　总则",
         "第一条　为规范DRG付费结算管理，制定本办法。"),
        {"kind": "policy", "signed_on": "2025-03-03"},
    ),
    Case(
        "policy-cover-notice-plain-title", "cover-notice body under a plain 通知 title",
        "厦门市医疗保障局关于做好按病种分值付费结算工作的通知",
        ("各区医疗保障局，各定点医疗机构：",
         "现将《厦门市按病种分值付费结算细则》印发给你们，请结合实际认真贯彻执行。", CITY, "2025年4月1日"),
        {"kind": "policy"},
    ),
    Case(
        "policy-forward-notice", "转发 … 的通知",
        "关于转发《国家医保局 财政部关于做好2024年城乡居民基本医疗保障工作的通知》的通知",
        ("各区医疗保障局：", "现将《国家医保局 财政部关于做好2024年城乡居民基本医疗保障工作的通知》转发给你们，请认真贯彻落实。",
         CITY, "2024年7月30日"),
        {"kind": "policy"},
    ),
    Case(
        "interp-press-transcript", "发布会实录 is an interpretation",
        "厦门市医疗保障局DRG付费改革发布会实录",
        ("主持人：各位媒体朋友，大家上午好。", "记者：请介绍一下改革的主要内容。"),
        {"kind": "interpretation"},
    ),
    Case(
        "interp-press-conference", "新闻发布会 is an interpretation",
        "国家医保局2024年第二季度新闻发布会",
        ("主持人：欢迎大家参加国家医保局新闻发布会。",), {"kind": "interpretation"},
    ),
    Case(
        "interp-one-picture", "一图读懂 is an interpretation",
        "一图读懂《厦门市长期护理保险实施办法》",
        ("（图片）",), {"kind": "interpretation"},
    ),
    Case(
        "signature-before-attachment", "the signature date followed by 附件1 and the attachment's text",
        "厦门市医疗保障局关于印发《医保定点医药机构考核办法》的通知",
        ("各定点医药机构：", "现将《医保定点医药机构考核办法》印发给你们，请遵照执行。", CITY, "2025年5月20日",
         "附件1：医保定点医药机构考核办法",
         *(f"第{n}条　定点医药机构应当按照协议约定提供医药服务，考核结果与年度清算挂钩。" for n in range(1, 46)),
         "本办法自2025年6月1日起施行。"),
        {"kind": "policy", "signed_on": "2025-05-20"},
    ),
    # ----------------------------------------------------------------- metadata blocks
    Case(
        "meta-shared-line", "labels share one line: a value ends where the next label starts",
        "国家医疗保障局关于做好2021年医疗保障基金监管工作的通知",
        ("索引号：2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：医疗保障",
         "发布机构：国家医疗保障局 成文日期：2021-10-20", "各省、自治区、直辖市医疗保障局：", "现将有关事项通知如下。",
         NATIONAL, "2021年10月20日"),
        {"kind": "policy", "index_no": "2021-05-00144", "doc_no": "医保函〔2021〕135号", "theme": "医疗保障",
         "generated_on": "2021-10-20"},
    ),
    Case(
        "meta-shared-line-spider-table", "a spider's table whose value ran on into the next label",
        "国家医疗保障局关于做好2021年医疗保障基金监管工作的通知",
        ("各省、自治区、直辖市医疗保障局：", "现将有关事项通知如下。", NATIONAL, "2021年10月20日"),
        {"index_no": "2021-05-00144", "doc_no": "医保函〔2021〕135号", "theme": "医疗保障"},
        meta_table={"索引号": "2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：医疗保障"},
    ),
    Case(
        "meta-bar-separators", "| separators between pairs",
        "国家医疗保障局关于印发《医疗保障基金飞行检查管理暂行办法》的通知",
        ("索引号：000014672/2023-00265 | 发文字号：国医保规〔2023〕3号 | 发布日期：2023-03-02",
         "发布机构：国家医疗保障局 | 有效性：有效", "各省、自治区、直辖市医疗保障局：", "现将办法印发给你们。",
         NATIONAL, "2023年2月28日"),
        {"index_no": "000014672/2023-00265", "doc_no": "国医保规〔2023〕3号", "published_on": "2023-03-02",
         "validity": "有效"},
    ),
    Case(
        "meta-bullets-national", "the national bureau's 名称 / 索引号 / 发文字号 / 发布日期 bullets",
        "国家医疗保障局关于加强医疗保障基金使用常态化监管的实施意见",
        ("• 名称：国家医疗保障局关于加强医疗保障基金使用常态化监管的实施意见", "• 索引号：000014672/2023-00811",
         "• 发文字号：医保发〔2023〕17号", "• 发布日期：2023-09-13", "各省、自治区、直辖市医疗保障局：",
         "为加强医疗保障基金使用常态化监管，提出如下实施意见。", NATIONAL, "2023年9月8日"),
        {"index_no": "000014672/2023-00811", "doc_no": "医保发〔2023〕17号", "published_on": "2023-09-13"},
    ),
    Case(
        "meta-ideographic-padding", "labels padded with ideographic spaces, two pairs a line",
        "金华市医疗保障局关于调整部分医疗服务价格的通知",
        ("索　引　号：11330700MB1D8866XG/2023-152874　　发文字号：金医保〔2023〕21号",
         "发布机构：金华市医疗保障局　　有　效　性：已修改", "各医疗机构：", "现就调整部分医疗服务价格通知如下。",
         "金华市医疗保障局", "2023年5月16日"),
        {"index_no": "11330700MB1D8866XG/2023-152874", "doc_no": "金医保〔2023〕21号", "validity": "已修改"},
    ),
    Case(
        "meta-zhejiang-validity-row", "Zhejiang 有效性 row with 失效",
        "金华市医疗保障局关于印发《金华市医疗保障定点管理实施细则》的通知",
        ("索引号：11330700MB1D8866XG/2021-101555", "发文字号：金医保发〔2021〕9号", "有效性：失效",
         "各县（市、区）医疗保障分局：", "现将细则印发给你们。", "金华市医疗保障局", "2021年4月2日"),
        {"validity": "失效", "doc_no": "金医保发〔2021〕9号"},
    ),
    # ----------------------------------------------------------------- detail URL shapes
    Case(
        "url-trs-wap", "mobile _wap copy of a TRS detail page",
        "重庆市医疗保障局关于公布定点医药机构名单的公告",
        ("根据有关规定，现将新增定点医药机构名单公告如下。",),
        {"published_on": "2023-01-31"},
        url="https://ylbzj.cq.gov.cn/zwgk_535/zfxxgkml/tzgg/202301/t20230131_11549147_wap.html",
    ),
    Case(
        "url-trs-shtml", "TRS .shtml sub-column of a city portal",
        "青岛市医疗保障局2022年工作总结",
        ("2022年，市医保局各项工作取得积极成效。",), {"published_on": "2023-01-18", "kind": "report"},
        url="http://www.qingdao.gov.cn/zwgk/xxgk/ybj/gzbg/202301/t20230118_6815992.shtml",
    ),
    Case(
        "url-hanweb-zhejiang", "Hanweb (Zhejiang platform) art_ URL with a long column id",
        "金华市医疗保障局关于公布定点医药机构名单的公告",
        ("根据有关规定，现将名单公告如下。",), {"published_on": "2023-05-16"},
        url="https://ybj.jinhua.gov.cn/art/2023/5/16/art_1229154590_4092528.html",
    ),
    Case(
        "url-county-timestamp", "county portal News/Detail/<timestamp>.html",
        "关于开展医保政策宣传月活动的通知",
        ("为进一步宣传医保政策，决定开展宣传月活动。",), {"published_on": "2024-04-28"},
        url="http://www.example-county.gov.cn/News/Detail/20240428093015.html",
    ),
)


def _page(case: Case) -> RawPage:
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in case.body)
    return RawPage(
        portal_id="real-world",
        column=case.column,
        column_kind=case.column_kind,
        url=case.url,
        status=200,
        html="",
        title=case.title,
        body_html=body,
        meta_table=dict(case.meta_table),
    )


def got(case: Case, name: str) -> Any:
    record = build_record(_page(case))
    value = getattr(record, name)
    if name == "meeting" and value is not None:
        return {k: getattr(value, k) for k in ("level", "body", "term", "session")}
    if name == "contacts":
        return {k: v for k, v in value.items() if k in case.expect[name]}
    return value


def check(case: Case) -> dict[str, tuple[Any, Any]]:
    """field → (expected, got) for every expected field that came out wrong."""
    wrong = {}
    for name, expected in case.expect.items():
        value = got(case, name)
        if value != expected:
            wrong[name] = (expected, value)
    return wrong


def main() -> None:
    fields = sum(len(c.expect) for c in CASES)
    bad_fields = 0
    bad_cases = 0
    for case in CASES:
        wrong = check(case)
        bad_fields += len(wrong)
        bad_cases += bool(wrong)
        for name, (expected, value) in wrong.items():
            print(f"FAIL {case.id:36s} {name:15s} expected {expected!r} got {value!r}")
    print(f"cases {len(CASES) - bad_cases}/{len(CASES)} right; fields {fields - bad_fields}/{fields} right")


if __name__ == "__main__":
    main()
