"""Document kind (``core.records.KINDS``) from title, tag, column and body signals (spec §12.3)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.records import (
    KIND_INTERPRETATION,
    KIND_NOTICE,
    KIND_POLICY,
    KIND_PROPOSAL_REPLY,
    KIND_REPORT,
    KIND_SUGGESTION_REPLY,
    Meeting,
)

from .people import ROLE_DEPUTY, ROLE_MEMBER, ROLE_ORGANISATION, Salutation
from .reply import parse_reply_title, split_title_tag
from .text import fold

__all__ = ["classify", "is_reply_tag", "reply_kind"]

_REPLY_TAG_RE = re.compile(r"建议|提案|议案")
_LOOSE_REPLY_TITLE_RE = re.compile(
    r"(?:建议|提案|议案|批评和意见).{0,12}(?:答复|复函|办理情况|会办意见|协办意见)"
)
_INTERPRETATION_RE = re.compile(
    r"解读|答记者问|政策问答|问答|一图读懂|图解|一图看懂|新闻发布会|发布会(?:实录)?|访谈实录|在线访谈"
)
# The head noun at the end of a title decides between report and policy/notice. A 总结 title may
# end with next year's plan: ``…2024年工作总结及2025年工作思路``.
_REPORT_TITLE_RE = re.compile(
    r"(?:总结|报告|要点|计划|规划|情况|工作安排|年报|统计公报|(?:工作|总结).{0,16}(?:思路|打算|安排|举措))"
    r"(?:\s*\(\s*[^()]{0,20}\s*\))?$"
)
_POLICY_NOUN_RE = re.compile(
    r"(?:办法|规定|细则|意见|方案|标准|目录|规则|条例|规程|指南|决定|批复)(?:\s*\(\s*[^()]{0,20}\s*\))?$"
)
_REPORT_BODY_RE = re.compile(
    r"(?:上|下)半年|年度工作|工作(?:总结|计划|安排|要点)|重点工作|主要工作|存在(?:的)?问题"
)
# A report says what it is in its opening (``本报告根据《中华人民共和国政府信息公开条例》…编制``) or hands
# itself over (``现将有关情况报告如下``, ``特此报告``).
_REPORT_OPENING_RE = re.compile(r"^本(?:年度)?报告(?:根据|依据|按照|是根据|系根据)|现将.{0,60}?报告如下")
_REPORT_CLOSING_RE = re.compile(r"^特此报告[。!]?$")
# A policy issued by a cover notice: the title 印发/转发/发布s a 《document》, or the body hands it over
# (``现将《某市DRG付费结算管理办法（2025版）》印发给你们``).
_COVER_TITLE_RE = re.compile(r"(?:印发|转发|颁发|发布|公布|下发)(?:了)?《[^》]{2,120}》")
_COVER_BODY_RE = re.compile(
    r"(?:现将|特将|兹将|将)(?:修订后的|新修订的|修订版)?《[^》]{2,120}》.{0,16}?(?:印发|转发|发|颁发|下发|公布)给(?:你们|各)"
)
_OPENING_PARAGRAPHS = 8
_REPLY_COLUMN_RE = re.compile(r"建议|提案|议案|replies")


def is_reply_tag(tag: str | None) -> bool:
    """``建议提案`` / ``人大建议`` / ``政协提案`` … (a 【tag】 on Zhongshan titles)."""
    return bool(tag and _REPLY_TAG_RE.search(tag))


def reply_kind(
    *,
    title_kind: str | None = None,
    meeting: Meeting | None = None,
    salutation: Salutation | None = None,
    proposal_title: str | None = None,
    title: str = "",
    tag: str | None = None,
) -> str:
    """建议 (NPC) or 提案 (CPPCC) for a document already known to be a reply.

    Evidence in order of strength: the session (政协 → CPPCC), the kind word in the title
    (提案 vs 建议/议案), the addressee (委员 or an organisation → CPPCC, 代表 → NPC), the tag, the
    proposal title's last word. Defaults to a suggestion reply.
    """
    if meeting is not None:
        return KIND_PROPOSAL_REPLY if meeting.body == "cppcc" else KIND_SUGGESTION_REPLY
    if title_kind:
        return KIND_PROPOSAL_REPLY if title_kind == "提案" else KIND_SUGGESTION_REPLY
    if salutation is not None:
        if salutation.role in (ROLE_MEMBER, ROLE_ORGANISATION):
            return KIND_PROPOSAL_REPLY
        if salutation.role == ROLE_DEPUTY:
            return KIND_SUGGESTION_REPLY
    for text in (title, tag or "", proposal_title or ""):
        folded = fold(text)
        has_proposal, has_suggestion = "提案" in folded, ("建议" in folded or "议案" in folded)
        if has_proposal != has_suggestion:
            return KIND_PROPOSAL_REPLY if has_proposal else KIND_SUGGESTION_REPLY
    return KIND_SUGGESTION_REPLY


def classify(
    title: str,
    *,
    title_tag: str | None = None,
    column_kind: str | None = None,
    column: str | None = None,
    salutation: Salutation | None = None,
    received: bool = False,
    doc_no: str | None = None,
    meeting: Meeting | None = None,
    proposal_title: str | None = None,
    paragraphs: Sequence[str] = (),
) -> str:
    """Return one of ``core.records.KINDS``.

    1. Reply when the title matches ``REPLY_TITLE``, or the body opens with an addressee line
       plus ``…收悉`` (any column: that pair does not occur outside reply letters), or the column
       is a replies column and either of those two body signals is present; also when the title
       carries a 【建议提案】-style tag or names a 建议/提案 answer (``…建议的答复``) — unless the
       title ends like a report (``…建议提案办理情况的报告`` is a report about replies).
    2. Interpretation when the title says 解读/答记者问/问答/图解/一图读懂/(新闻)发布会(实录).
    3. Report when the title ends in 总结/报告/要点/计划/规划/情况… (also ``…工作总结及…工作思路``), or
       the column is a reports column and the title is not a policy noun.
    4. Policy when the document is a cover notice: the title 印发/转发s a 《document》, or the
       opening hands one over (``现将《…办法》印发给你们``) — with or without a 文号.
    5. Report when the opening says so (``本报告根据《…条例》…编制``, ``现将有关情况报告如下``) or the
       letter closes with ``特此报告``.
    6. Policy when there is a 文号 or the title ends in a policy noun (办法, 规定, 意见, 方案…).
    7. Report when there is no usable title but the body reads like a work report
       (上半年/下半年/工作总结/重点工作/存在问题 in two or more paragraphs).
    8. Otherwise notice.
    """
    bare_title, tag_in_title = split_title_tag(title or "")
    tag = title_tag or tag_in_title
    parsed = parse_reply_title(bare_title)
    folded_title = "".join(fold(bare_title).split())
    replies_column = bool(
        (column_kind and _REPLY_COLUMN_RE.search(column_kind)) or (column and _REPLY_COLUMN_RE.search(column))
    )
    report_title = bool(folded_title and _REPORT_TITLE_RE.search(folded_title))
    is_reply = (
        parsed is not None
        or (salutation is not None and received)
        or (replies_column and (salutation is not None or received))
        or (not report_title and (is_reply_tag(tag) or bool(_LOOSE_REPLY_TITLE_RE.search(folded_title))))
    )
    if is_reply:
        return reply_kind(
            title_kind=parsed.kind if parsed else None,
            meeting=meeting,
            salutation=salutation,
            proposal_title=proposal_title,
            title=bare_title,
            tag=tag,
        )
    if _INTERPRETATION_RE.search(folded_title):
        return KIND_INTERPRETATION
    if report_title:
        return KIND_REPORT
    if column_kind == "reports" and not _POLICY_NOUN_RE.search(folded_title):
        return KIND_REPORT
    opening = [fold(p).strip() for p in paragraphs[:_OPENING_PARAGRAPHS]]
    if _COVER_TITLE_RE.search(folded_title) or any(_COVER_BODY_RE.search(p) for p in opening):
        return KIND_POLICY
    if any(_REPORT_OPENING_RE.search(p) for p in opening) or any(
        _REPORT_CLOSING_RE.match(fold(p).strip()) for p in paragraphs[-4:]
    ):
        return KIND_REPORT
    if doc_no or (folded_title and _POLICY_NOUN_RE.search(folded_title)):
        return KIND_POLICY
    if not folded_title or column_kind == "reports":
        hits = sum(1 for p in paragraphs[:80] if _REPORT_BODY_RE.search(fold(p)))
        if hits >= 2:
            return KIND_REPORT
    return KIND_NOTICE
