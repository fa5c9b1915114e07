"""Fields of 建议/提案 reply letters: title pattern, proposal title, reply class, adoption
statuses, contacts and the public-release marker."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .text import fold, normalize_ws

__all__ = [
    "ADOPTION_RE",
    "ADOPTION_TERMS",
    "REPLY_TITLE_RE",
    "ReplyTitle",
    "class_mark_doc_no",
    "find_adoption",
    "find_contacts",
    "find_proposal_title",
    "find_public_marker",
    "find_reply_class",
    "has_received",
    "parse_reply_title",
    "split_title_tag",
]

# --------------------------------------------------------------------------- title

_TAG_RE = re.compile(r"\s*【(?P<tag>[^】]{1,12})】\s*")
# A second, category number after the proposal number: ``第5034号(医药卫生类212号)提案``.
_CATEGORY_NO = r"(?:\([^()]{1,20}?\d{1,6}\s*号\))?"
REPLY_TITLE_RE = re.compile(
    r"(?:【(?P<tag>[^】]{1,12})】)?(?P<org>[^\s【】]{2,40}?)?(?:关于|对)(?P<session>.{4,40}?会议)"
    r"(?:第|“)?\s*(?P<no>[0-9]{1,10})\s*(?:号”|”号|号)" + _CATEGORY_NO + r"(?:代表|委员)?"
    r"(?P<kind>建议|提案|议案|批评和意见)"
    r"(?P<tail>(?:的)?(?:办理情况)?(?:答复|复函|会办意见|协办意见|答复的函|的函)?.{0,12})"
)


def split_title_tag(title: str) -> tuple[str, str | None]:
    """``【建议提案】中山市…的函`` → (``中山市…的函``, ``建议提案``). Whitespace is normalised."""
    title = normalize_ws(title)
    m = _TAG_RE.match(title)
    if not m:
        return title, None
    return title[m.end() :], m["tag"].strip() or None


@dataclass(frozen=True)
class ReplyTitle:
    """Parts of a reply title. ``kind`` is 建议 / 提案 / 议案 / 批评和意见; ``no`` as printed."""

    tag: str | None
    org: str | None
    session: str
    no: str
    kind: str
    tail: str


def parse_reply_title(title: str | None) -> ReplyTitle | None:
    """Match ``REPLY_TITLE`` (spec §12.2) on the folded title with all whitespace removed."""
    if not title:
        return None
    compact = "".join(fold(title).split())
    m = REPLY_TITLE_RE.fullmatch(compact)
    if not m:
        return None
    return ReplyTitle(m["tag"], m["org"], m["session"], m["no"], m["kind"], m["tail"])


# --------------------------------------------------------------------------- body fields

# The number printed after the proposal title: ``(建议第2025010号)``, ``(第0105号)``, ``(455号)``,
# ``(第5034号(医药卫生类212号))``; or bare after the title with 第: ``第5034号(医药卫生类212号)``.
_BODY_NO = r"(?:建议|提案|议案)?\s*第?\s*(?P<no>[0-9]{1,10})\s*号\s*" + _CATEGORY_NO
_BODY_NO_BARE = r"第\s*(?P<no2>[0-9]{1,10})\s*号\s*" + _CATEGORY_NO
_RECEIVED_TAIL = (
    rf"\s*(?:\(\s*{_BODY_NO}\s*\)|{_BODY_NO_BARE})?\s*(?:建议|提案|议案)?\s*(?:已|均已|业已)?\s*收悉"
)
# The title itself: in 《》 (seeds), in “” (possibly around an inner 《》), or unbracketed after
# ``您/你们/贵委员会/贵单位…提出的`` (national bureau: ``您提出的关于加快…的建议收悉``).
_PROPOSAL_TITLE_RE = re.compile(
    r"(?:《(?P<book>[^》]{4,120})》"
    r"|“(?P<quoted>(?:[^“”]|“[^“”]{1,40}”){4,160})”"
    r"|(?:(?<=提出的)|(?<=所提的)|(?<=提交的))"
    r"(?P<plain>关于(?:[^。;!?“”《》]|《[^》]{1,60}》|“[^“”]{1,40}”){2,120}?(?:建议|提案|议案)))"
    + _RECEIVED_TAIL
)


def find_proposal_title(text: str) -> tuple[str | None, str | None]:
    """The proposal title and its number as printed in the opening sentence, else ``(None, None)``.

    ``您提出的《…》（建议第2025010号）收悉`` / ``《…》(455号)收悉`` / ``您提出的“关于制定《…》实施细则的建议”收悉`` /
    ``贵单位提出的关于…的提案已收悉`` / ``…（第5034号（医药卫生类212号））收悉``. The title is returned as
    displayed, without its 《》 or “”; the number is the proposal's own (not the category number).
    """
    m = _PROPOSAL_TITLE_RE.search(fold(text))
    if not m:
        return None, None
    group = next(g for g in ("book", "quoted", "plain") if m[g] is not None)
    title = normalize_ws(text[m.start(group) : m.end(group)])
    return title, m["no"] or m["no2"]


def has_received(text: str) -> bool:
    """True if the letter acknowledges receipt (``…收悉``), the opening of every reply."""
    return "收悉" in text


_REPLY_CLASS_RE = re.compile(
    r"(?<!主题)(?:答复|办理|办复)?(?:类别|类型|结果|分类)\s*:\s*(?P<cls>[A-Da-d甲乙丙丁])\s*类?(?![A-Za-z])"
)
_CLASS_MAP = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}
_DISCLOSURE = r"(?:主动公开|依申请公开|不予公开|不公开|公开)"
# Marks printed instead of a label, each on a short line of its own near the top of the letter:
# Jiangsu ``〔A〕`` (with the disclosure mark ``〔公开〕`` beside it), a lone ``A``, or ``（A类）`` — alone
# or after the 文号 (``宁医保函〔2024〕88号（B类）``).
_CLASS_MARK_LINE_RE = re.compile(
    rf"(?:〔\s*{_DISCLOSURE}\s*〕\s*)?〔\s*(?P<mark>[A-D])\s*〕(?:\s*〔\s*{_DISCLOSURE}\s*〕)?"
    r"|(?P<lone>[A-D])"
    r"|(?P<doc>[\u4e00-\u9fa5]{1,16}\s*[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*第?\s*\d{1,5}\s*号)?"
    r"\s*\(\s*(?P<paren>[A-D甲乙丙丁])\s*类\s*\)"
)
_CLASS_MARK_MAX = 40  # characters: a mark line is short


def find_reply_class(text: str | Sequence[str], *, marks_in: int | None = None) -> str | None:
    """The reply class A–D of a reply letter, from a label or a mark.

    Labels: ``答复类别：C类``, ``办理类别：A``, ``办复结果：B`` (甲/乙/丙/丁 → A/B/C/D). Marks, each a short
    line of its own: ``〔A〕`` (Jiangsu, also ``〔A〕　〔公开〕``), a lone ``A``, ``（A类）`` or
    ``宁医保函〔2024〕88号（B类）``. Accepts text or a list of paragraphs; pass the top of the letter
    only. Marks count only in the first ``marks_in`` paragraphs when given (the head above the
    letter's opening: a lone letter further down may be anything).
    """
    for i, para in enumerate(_as_paragraphs(text)):
        if (
            (marks_in is None or i < marks_in)
            and len(para) <= _CLASS_MARK_MAX + 20  # padding before folding
            and (mark := _CLASS_MARK_LINE_RE.fullmatch(fold(para).strip()))
        ):
            cls = mark["mark"] or mark["lone"] or mark["paren"]
            return _CLASS_MAP.get(cls, cls)
        if "类" not in para and "结果" not in para:
            continue
        m = _REPLY_CLASS_RE.search(fold(para))
        if m:
            cls = m["cls"]
            return _CLASS_MAP.get(cls, cls.upper())
    return None


def class_mark_doc_no(line: str) -> str | None:
    """``宁医保函〔2024〕88号（B类）`` → ``宁医保函〔2024〕88号`` (the 文号 a class mark follows), else None."""
    folded = fold(line).strip()
    m = _CLASS_MARK_LINE_RE.fullmatch(folded) if len(folded) <= _CLASS_MARK_MAX else None
    if not m or not m["doc"]:
        return None
    start = len(line) - len(line.lstrip())
    return line[start + m.start("doc") : start + m.end("doc")].strip()


def _as_paragraphs(text: str | Sequence[str]) -> Sequence[str]:
    return text.splitlines() if isinstance(text, str) else text


ADOPTION_TERMS = (  # the plain forms of ADOPTION_RE, for pick lists
    "全部采纳", "全面采纳", "部分采纳", "吸收采纳", "基本采纳", "已采纳", "予以采纳", "已经采纳", "留作参考",
    "作为参考", "暂不采纳", "不予采纳", "已解决", "基本解决", "正在解决", "已列入计划", "列入计划",
)  # fmt: skip
ADOPTION_RE = re.compile(
    r"部分采纳|吸收采纳|基本采纳|全部采纳|全面采纳|已采纳|予以采纳|已经采纳|留作参考|作为参考|暂不采纳"
    r"|不予采纳|正在(?:研究)?解决|已列入(?:工作)?计划|列入(?:工作)?计划|已解决|基本解决"
)
_ADOPTION_AFTER_RE = re.compile(
    r"(?:了)?(?:该|此|本|您|你|代表|委员)?(?:的|们的)?(?:项|条)?(?:建议|提案|意见)"
)
_ADOPTION_BEFORE_RE = re.compile(r"(?:建议|提案|意见)[^。;!?]{0,8}$")
# Every ADOPTION term contains 采纳, 参考, 解决 or 计划; find_adoption checks those first.
_HEADING_PREFIX_RE = re.compile(r"(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d{1,2}[.、])?\s*")


def find_adoption(paragraphs: Sequence[str]) -> list[str]:
    """Adoption statuses (``部分采纳``, ``吸收采纳``, ``留作参考`` …) in document order.

    A vocabulary hit counts only where it is about the suggestion: at the start of a paragraph
    (after an optional heading number), directly followed by ``该建议``/``您的提案``/``意见`` …, or
    preceded within the same clause by 建议/提案/意见 (``该建议已采纳``). This keeps running text
    such as ``已解决群众反映的…`` out.
    """
    found: list[str] = []
    for para in paragraphs:
        if not ("采纳" in para or "参考" in para or "解决" in para or "计划" in para):
            continue
        folded = fold(para).strip()
        lead = _HEADING_PREFIX_RE.match(folded)
        lead_end = lead.end() if lead else 0
        for m in ADOPTION_RE.finditer(folded):
            if (
                m.start() == lead_end
                or _ADOPTION_AFTER_RE.match(folded, m.end())
                or _ADOPTION_BEFORE_RE.search(folded, 0, m.start())
            ):
                found.append(m.group(0))
    return found


_SIGNER_RE = re.compile(
    r"(?:领导署名|签\s*发\s*人|签\s*发)\s*:\s*(?P<v>[\u4e00-\u9fa5·][\u4e00-\u9fa5·\s]{0,8}?)(?=\s{2,}|\s*[,;]|\s*(?:联\s*系|电\s*话)|$)"
)
_CONTACT_RE = re.compile(
    r"联\s*系\s*人\s*:\s*(?P<v>[\u4e00-\u9fa5·][\u4e00-\u9fa5·\s]{0,8}?)(?=\s{2,}|\s*[,;]|\s*(?:联\s*系|电\s*话)|$)"
)
_CONTACT_FIRST = frozenset("领签联电办")
_PHONE_RE = re.compile(r"(?:联系|办公)?电\s*话\s*:\s*(?P<v>[0-9+(][0-9\-()\s]{5,22}[0-9])")
# ``（联系人及电话：李四 0591-87654321）``: both in one parenthesis after one label
_CONTACT_AND_PHONE_RE = re.compile(
    r"联\s*系\s*人\s*(?:及|和|与|、|/)\s*(?:联系)?电\s*话\s*:\s*(?P<name>[\u4e00-\u9fa5·]{2,5}?)\s*[,;]?\s*"
    r"(?P<phone>[0-9+][0-9\-\s]{5,22}[0-9])"
)


def find_contacts(paragraphs: Sequence[str]) -> dict[str, str]:
    """``领导署名：陈玉良`` / ``联 系 人：陈  玮`` / ``联系电话：0593-2079766`` →
    ``{"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"}``.

    Also ``联系人：王五；联系电话：12345678`` on one line and ``（联系人及电话：李四 0591-87654321）``.
    Labels must start a line (after an opening parenthesis) or follow another contact field on it.
    Names lose the alignment spaces (``陈  玮`` → ``陈玮``); the phone is kept as printed with folded
    digits. The last value of each field wins (contacts sit at the end of a letter, after any quoted
    text).
    """
    contacts: dict[str, str] = {}
    for para in paragraphs:
        if para.lstrip(" (（")[:1] not in _CONTACT_FIRST:
            continue
        folded = fold(normalize_ws(para))
        if both := _CONTACT_AND_PHONE_RE.search(folded):
            contacts["contact"] = both["name"]
            contacts["phone"] = " ".join(both["phone"].split())
            continue
        for key, regex in (("signer", _SIGNER_RE), ("contact", _CONTACT_RE), ("phone", _PHONE_RE)):
            m = regex.search(folded)
            if m:
                value = m["v"].strip()
                contacts[key] = value if key == "phone" else "".join(value.split())
    return contacts


_PUBLIC_MARKER_RE = re.compile(
    r"\(\s*此件(?P<how>主动公开|公开发布|依申请公开|不予公开|不公开|删减后公开|摘要公开)\s*\)"
    r"|公开(?:方式|属性|形式)\s*:\s*(?P<how2>主动公开|依申请公开|不予公开|不公开|删减后公开|摘要公开)"
    rf"|〔\s*(?P<how3>{_DISCLOSURE})\s*〕"
)


def find_public_marker(text: str | Sequence[str]) -> str | None:
    """``（此件主动公开）`` / ``公开方式：主动公开`` / Jiangsu's ``〔主动公开〕`` → ``主动公开`` (the last marker in
    the text); the bare Jiangsu mark ``〔公开〕`` is kept as ``公开``.

    Accepts text or a list of paragraphs.
    """
    for para in reversed(_as_paragraphs(text)):
        if "此件" not in para and "公开" not in para:
            continue
        last = None
        for m in _PUBLIC_MARKER_RE.finditer(fold(para)):
            last = m["how"] or m["how2"] or m["how3"]
        if last:
            return last
    return None
