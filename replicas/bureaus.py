"""The bureaus the replicas host, with the conventions each one writes its documents in.

A ``Bureau`` says who publishes (name, GB/T 2260 region code), which columns hold which kinds of
document, and how this bureau numbers and titles them: its meetings, proposal-number format,
文号 prefixes and 索引号 scheme. The corpus generator reads these; the site renderers read the
columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Meeting

REPLIES, POLICIES, REPORTS = "replies", "policies", "reports"


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    kind: str  # replies | policies | reports


@dataclass(frozen=True)
class Bureau:
    portal_id: str
    name: str
    short: str  # 厦门 / 宁德 / ...
    region_code: str
    level: str
    columns: tuple[Column, ...]
    npc_meetings: tuple[Meeting, ...]
    cppcc_meetings: tuple[Meeting, ...]
    proposal_digits: int  # 4 → "0105", 7 → year + 3 digits, 8 → year + 4 digits
    reply_doc_prefix: str | None  # 文号 prefix of reply letters (None: replies carry no 文号)
    policy_doc_prefixes: tuple[str, ...]
    index_scheme: str | None  # fj_grid | fj_bullet | credit | org9 | None
    index_org: str
    suggestion_title: str  # format with meeting, no
    proposal_title: str
    reply_class_line: bool = False  # a 答复类别/办理类别/（A类） line above the letter
    contacts: bool = False  # 领导署名 / 联 系 人 / 联系电话 lines on every reply (Ningde)
    public_marker: bool = False
    # real-world phrasing this bureau writes in (each used on a share of its documents)
    contact_style: str | None = None  # semicolon: 联系人：…；联系电话：… | paren: （联系人及电话：… …）
    class_marks: bool = False  # Jiangsu-style 〔A〕 / 〔公开〕 marks or a lone letter line
    masked_names: bool = False  # 张**代表： / ***委员：
    colon_less: bool = False  # 陈伟代表 (no colon), the letter on the next line
    bare_numbers: bool = False  # 《…》（455号）收悉: no 第
    huiban: bool = False  # co-handler's 会办意见 addressed to the lead office
    untitled_replies: bool = False  # 四川省医疗保障局对张华委员提案的答复: no session, no number

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _m(level: str, body: str, term: int, session: int, text: str) -> Meeting:
    return Meeting(level, body, term, session, text)


BUREAUS: dict[str, Bureau] = {
    b.portal_id: b
    for b in (
        Bureau(
            portal_id="fujian_xiamen",
            name="厦门市医疗保障局",
            short="厦门",
            region_code="350200",
            level="city",
            columns=(
                Column("jytabl", "建议提案办理", REPLIES),
                Column("zcwj", "政策文件", POLICIES),
                Column("ghzj", "规划总结", REPORTS),
            ),
            npc_meetings=(
                _m("city", "npc", 16, 4, "市十六届人大四次会议"),
                _m("city", "npc", 16, 5, "市十六届人大五次会议"),
                _m("city", "npc", 17, 1, "市十七届人大一次会议"),
            ),
            cppcc_meetings=(
                _m("city", "cppcc", 14, 3, "市政协十四届三次会议"),
                _m("city", "cppcc", 14, 4, "市政协十四届四次会议"),
            ),
            proposal_digits=4,
            reply_doc_prefix="厦医保函",
            policy_doc_prefixes=("厦医保规", "厦医保", "厦医保发"),
            index_scheme="fj_grid",
            index_org="XM00149",
            suggestion_title="厦门市医疗保障局关于{meeting}第{no}号建议办理情况答复的函",
            proposal_title="厦门市医疗保障局关于{meeting}第{no}号提案办理情况答复的函",
            reply_class_line=True,
            contact_style="semicolon",
            bare_numbers=True,
            huiban=True,
        ),
        Bureau(
            portal_id="fujian_ningde",
            name="宁德市医疗保障局",
            short="宁德",
            region_code="350900",
            level="city",
            columns=(
                Column("jytabl", "建议提案办理", REPLIES),
                Column("zcwj", "政策文件", POLICIES),
                Column("ghzj", "计划总结", REPORTS),
            ),
            npc_meetings=(
                _m("city", "npc", 5, 3, "市五届人大三次会议"),
                _m("city", "npc", 5, 4, "市五届人大四次会议"),
            ),
            cppcc_meetings=(
                _m("city", "cppcc", 5, 3, "市政协五届三次会议"),
                _m("city", "cppcc", 5, 4, "市政协五届四次会议"),
            ),
            proposal_digits=4,
            reply_doc_prefix="宁医保函",
            policy_doc_prefixes=("宁医保", "宁医保规"),
            index_scheme="fj_bullet",
            index_org="ND00263",
            suggestion_title="关于{meeting}第{no}号建议的答复",
            proposal_title="关于{meeting}第{no}号提案的答复",
            contacts=True,
            public_marker=True,
            colon_less=True,
        ),
        Bureau(
            portal_id="guangdong_zhongshan",
            name="中山市医疗保障局",
            short="中山",
            region_code="442000",
            level="city",
            columns=(
                Column("qtwj", "其它文件", REPLIES),
                Column("gfxwj", "规范性文件", POLICIES),
                Column("ghzj", "规划计划", REPORTS),
            ),
            npc_meetings=(
                _m("city", "npc", 16, 4, "市十六届人大四次会议"),
                _m("city", "npc", 16, 5, "市十六届人大五次会议"),
            ),
            cppcc_meetings=(
                _m("city", "cppcc", 13, 4, "市政协十三届四次会议"),
                _m("city", "cppcc", 13, 5, "市政协十三届五次会议"),
            ),
            proposal_digits=7,
            reply_doc_prefix=None,
            policy_doc_prefixes=("中医保", "中医保规"),
            index_scheme="credit",
            index_org="11442000MB2D27401K",
            suggestion_title="中山市医疗保障局关于{meeting}第{no}号建议答复的函",
            proposal_title="中山市医疗保障局关于{meeting}第{no}号提案答复的函",
            contact_style="paren",
            colon_less=True,
            huiban=True,
        ),
        Bureau(
            portal_id="sichuan",
            name="四川省医疗保障局",
            short="四川",
            region_code="510000",
            level="province",
            columns=(
                Column("jyta", "建议提案办理", REPLIES),
                Column("zcwj", "政策文件", POLICIES),
                Column("ghzj", "规划计划", REPORTS),
            ),
            npc_meetings=(
                _m("province", "npc", 14, 2, "省十四届人大二次会议"),
                _m("province", "npc", 14, 3, "省十四届人大三次会议"),
            ),
            cppcc_meetings=(
                _m("province", "cppcc", 13, 2, "省政协十三届二次会议"),
                _m("province", "cppcc", 13, 3, "省政协十三届三次会议"),
            ),
            proposal_digits=4,
            reply_doc_prefix=None,
            policy_doc_prefixes=("川医保发", "川医保规", "川医保办发"),
            index_scheme=None,
            index_org="",
            suggestion_title="关于{meeting}第{no}号建议的答复",
            proposal_title="对{meeting}第{no}号提案的答复",
            contact_style="paren",
            class_marks=True,
            bare_numbers=True,
            untitled_replies=True,
        ),
        Bureau(
            portal_id="nhsa",
            name="国家医疗保障局",
            short="国家",
            region_code="100000",
            level="national",
            columns=(
                Column("col104", "建议提案答复", REPLIES),
                Column("col109", "政策文件", POLICIES),
                Column("col110", "工作动态", REPORTS),
            ),
            npc_meetings=(
                _m("national", "npc", 14, 2, "十四届全国人大二次会议"),
                _m("national", "npc", 14, 3, "十四届全国人大三次会议"),
            ),
            cppcc_meetings=(
                _m("national", "cppcc", 14, 2, "全国政协十四届二次会议"),
                _m("national", "cppcc", 14, 3, "全国政协十四届三次会议"),
            ),
            proposal_digits=4,
            reply_doc_prefix="医保函",
            policy_doc_prefixes=("医保发", "医保办发", "国医保规"),
            index_scheme="org9",
            index_org="000014672",
            suggestion_title="对{meeting}第{no}号建议的答复",
            proposal_title="对{meeting}第{no}号提案的答复",
            reply_class_line=False,
            contact_style="paren",
            masked_names=True,
        ),
    )
}
