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
REPLY_TITLE_RE = re.compile(
    r"(?:【(?P<tag>[^】]{1,12})】)?(?P<org>[^\s【】]{2,40}?)?(?:关于|对)(?P<session>.{4,40}?会议)"
    r"(?:第|“)?\s*(?P<no>[0-9]{1,10})\s*(?:号”|”号|号)(?:代表|委员)?(?P<kind>建议|提案|议案|批评和意见)"
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

_PROPOSAL_TITLE_RE = re.compile(
    r"《(?P<ptitle>[^》]{4,120})》\s*\(?\s*(?:建议|提案)?\s*(?:第\s*(?P<no>[0-9]{1,10})\s*号)?\s*\)?"
    r"\s*(?:建议|提案|议案)?\s*收悉"
)


def find_proposal_title(text: str) -> tuple[str | None, str | None]:
    """``您提出的《…》（建议第2025010号）收悉`` → (title as displayed, number as printed or None)."""
    m = _PROPOSAL_TITLE_RE.search(fold(text))
    if not m:
        return None, None
    title = normalize_ws(text[m.start("ptitle") : m.end("ptitle")])
    return title, m["no"]


def has_received(text: str) -> bool:
    """True if the letter acknowledges receipt (``…收悉``), the opening of every reply."""
    return "收悉" in text


_REPLY_CLASS_RE = re.compile(
    r"(?<!主题)(?:答复|办理|办复)?(?:类别|类型|结果|分类)\s*:\s*(?P<cls>[A-Da-d甲乙丙丁])\s*类?(?![A-Za-z])"
)
_CLASS_MAP = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}


def find_reply_class(text: str | Sequence[str]) -> str | None:
    """``答复类别：C类`` → ``C``; 甲/乙/丙/丁 → A/B/C/D. Accepts text or a list of paragraphs."""
    for para in _as_paragraphs(text):
        if "类" not in para and "结果" not in para:
            continue
        m = _REPLY_CLASS_RE.search(fold(para))
        if m:
            cls = m["cls"]
            return _CLASS_MAP.get(cls, cls.upper())
    return None


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


def find_contacts(paragraphs: Sequence[str]) -> dict[str, str]:
    """``领导署名：陈玉良`` / ``联 系 人：陈  玮`` / ``联系电话：0593-2079766`` →
    ``{"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"}``.

    Labels must start a line (or follow another contact field on it). Names lose the alignment
    spaces (``陈  玮`` → ``陈玮``); the phone is kept as printed with folded digits. The last value
    of each field wins (contacts sit at the end of a letter, after any quoted text).
    """
    contacts: dict[str, str] = {}
    for para in paragraphs:
        if para.lstrip()[:1] not in _CONTACT_FIRST:
            continue
        folded = fold(normalize_ws(para))
        for key, regex in (("signer", _SIGNER_RE), ("contact", _CONTACT_RE), ("phone", _PHONE_RE)):
            m = regex.search(folded)
            if m:
                value = m["v"].strip()
                contacts[key] = value if key == "phone" else "".join(value.split())
    return contacts


_PUBLIC_MARKER_RE = re.compile(
    r"\(\s*此件(?P<how>主动公开|公开发布|依申请公开|不予公开|不公开|删减后公开|摘要公开)\s*\)"
    r"|公开(?:方式|属性|形式)\s*:\s*(?P<how2>主动公开|依申请公开|不予公开|不公开|删减后公开|摘要公开)"
)


def find_public_marker(text: str | Sequence[str]) -> str | None:
    """``（此件主动公开）`` / ``公开方式：主动公开`` → ``主动公开`` (the last marker in the text).

    Accepts text or a list of paragraphs.
    """
    for para in reversed(_as_paragraphs(text)):
        if "此件" not in para and "公开" not in para:
            continue
        last = None
        for m in _PUBLIC_MARKER_RE.finditer(fold(para)):
            last = m["how"] or m["how2"]
        if last:
            return last
    return None
