"""Identifiers: 文号, 索引号, proposal numbers, and congress / CPPCC session names.

All regexes run on the width-folded text (:func:`core.normalize.text.fold`), so ``（）［］`` are
matched as ``()[]``; values meant for display are sliced from the original string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.records import Meeting

from .dates import cn_numeral_to_int
from .text import fold

__all__ = [
    "DOC_NO_RE",
    "DOC_NO_YEAR_STYLE_RE",
    "SESSION_RE",
    "DocNo",
    "IndexNo",
    "canonical_doc_no",
    "find_doc_nos",
    "find_meetings",
    "find_proposal_no",
    "normalize_index_no",
    "parse_doc_no",
    "parse_index_no",
    "parse_meeting",
]

# --------------------------------------------------------------------------- 文号

_OPEN = "〔\\[【(〖"
_CLOSE = "〕\\]】)〗"
DOC_NO_RE = re.compile(
    rf"(?P<prefix>[\u4e00-\u9fa5]{{1,16}}?)\s*[{_OPEN}]\s*(?P<year>(?:19|20)\d{{2}})\s*[{_CLOSE}]"
    r"\s*第?\s*(?P<seq>\d{1,5})\s*号"
)
DOC_NO_YEAR_STYLE_RE = re.compile(
    r"(?P<prefix>[\u4e00-\u9fa5]{2,16}?)\s*(?P<year>(?:19|20)\d{2})\s*年\s*第\s*(?P<seq>\d{1,5})\s*号"
)
# Words that end a sentence fragment in front of a cited 文号 (``根据中府〔2021〕87号``): the
# prefix starts after the last of them. Document prefixes (中府, 厦医保函, 国办发) never contain them.
_PREFIX_CUT_RE = re.compile(
    r".*(?:根据|按照|依据|依照|参照|对照|执行|印发|转发|落实|贯彻|关于|详见|参见|见|的|和|及|与|或|并|即|以)"
)
_EMPTY_VALUES = frozenset(("", "无", "-", "--", "—", "/", "空", "暂无", "null", "none"))


@dataclass(frozen=True)
class DocNo:
    """A parsed 文号. ``canonical`` uses 〔〕, no 第, no zero padding; ``raw`` is as printed."""

    prefix: str
    year: int
    seq: int
    raw: str

    @property
    def canonical(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.seq}号"


def _doc_no_from_match(m: re.Match[str], original: str) -> DocNo:
    prefix = m["prefix"]
    cut = _PREFIX_CUT_RE.match(prefix)
    start = m.start("prefix")
    if cut and cut.end() < len(prefix):
        prefix = prefix[cut.end() :]
        start += cut.end()
    return DocNo(prefix=prefix, year=int(m["year"]), seq=int(m["seq"]), raw=original[start : m.end()])


def find_doc_nos(text: str) -> list[DocNo]:
    """All bracketed 文号 in ``text`` in order (``DOC_NO``; not the ``2026年第10号`` style)."""
    folded = fold(text)
    return [_doc_no_from_match(m, text) for m in DOC_NO_RE.finditer(folded)]


def parse_doc_no(text: str | None) -> DocNo | None:
    """The first 文号 in ``text``: bracketed style, else ``…公告2026年第10号`` style."""
    if not text:
        return None
    folded = fold(text)
    m = DOC_NO_RE.search(folded) or DOC_NO_YEAR_STYLE_RE.search(folded)
    return _doc_no_from_match(m, text) if m else None


def canonical_doc_no(text: str | None) -> str | None:
    """``厦医保函[2025]033号`` → ``厦医保函〔2025〕33号``; ``None`` if no 文号 is found."""
    doc = parse_doc_no(text)
    return doc.canonical if doc else None


# --------------------------------------------------------------------------- 索引号

_IDX_FJ_RE = re.compile(
    r"(?<![0-9A-Za-z])(?P<region>[A-Z]{2})(?P<org>\d{5})-(?P<cat>\d{2}-\d{2}|\d{4})-(?P<year>\d{4})-(?P<seq>\d{3,5})(?![0-9A-Za-z])"
)
_IDX_CREDIT_RE = re.compile(
    r"(?<![0-9A-Za-z])(?P<org>[0-9A-Z]{6,18})/(?P<year>\d{4})-(?P<seq>\d{4,6})(?![0-9A-Za-z])"
)


@dataclass(frozen=True)
class IndexNo:
    """A parsed 索引号: ``style`` is ``fujian`` (``XM00149-09-01-2025-007``) or ``credit``
    (``114403006955506492/2021-00426``, also 6- and 9-character org codes)."""

    style: str
    org: str
    year: int
    seq: str
    text: str


def parse_index_no(text: str | None) -> IndexNo | None:
    if not text:
        return None
    folded = fold(text).upper()
    if m := _IDX_FJ_RE.search(folded):
        return IndexNo("fujian", m["region"] + m["org"], int(m["year"]), m["seq"], m.group(0))
    if m := _IDX_CREDIT_RE.search(folded):
        return IndexNo("credit", m["org"], int(m["year"]), m["seq"], m.group(0))
    return None


def normalize_index_no(text: str | None) -> str | None:
    """A 索引号 for storage: the recognised pattern if any, else the value folded with spaces removed."""
    if text is None:
        return None
    parsed = parse_index_no(text)
    if parsed:
        return parsed.text
    value = "".join(fold(str(text)).split())
    return None if value.lower() in _EMPTY_VALUES else value


# --------------------------------------------------------------------------- proposal number

_PROPOSAL_NO_RE = re.compile(r"(?:第\s*|“)(?P<no>[0-9]{1,10})\s*(?:号”|”号|号)")


def find_proposal_no(text: str | None) -> str | None:
    """``第2025010号`` / ``“123号”`` → the digits as printed (zero padding kept: ``0105``)."""
    if not text:
        return None
    m = _PROPOSAL_NO_RE.search(fold(text))
    return m["no"] if m else None


# --------------------------------------------------------------------------- sessions

_CN_NUM = "[一二三四五六七八九十]{1,3}"
SESSION_RE = re.compile(
    r"(?:(?<=关于)|(?<=办理)|(?<=对)|(?<=于)|(?<=在)|(?<![\u4e00-\u9fa5]))"
    r"(?P<pre>政协|中国人民政治协商会议)?"
    r"(?P<scope>全国|(?:(?!关于|办理|对|局)[\u4e00-\u9fa5]){1,8}?(?:自治区|自治州|自治县|省|市|区|县|州|盟|旗)|[省市区县州])?"
    r"(?P<body1>政协|人大)?"
    rf"第?(?P<term>{_CN_NUM})届"
    r"(?P<body2>全国人民代表大会|全国人大|全国政协|全国委员会|人民代表大会|人大|政协|委员会)?"
    r"(?P<standing>常委会|常务委员会)?"
    rf"第?(?P<sess>{_CN_NUM})次(?:全体)?会议"
)
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")


def _meeting_level(scope: str | None, body2: str | None) -> str | None:
    if (scope and "全国" in scope) or (body2 and "全国" in body2):
        return "national"
    if not scope:
        return None
    if scope.endswith(("省", "自治区")) or scope.startswith(_MUNICIPALITIES):
        return "province"
    if scope.endswith(("市", "州", "盟")):
        return "city"
    if scope.endswith(("县", "区", "旗")):
        return "county"
    return None


def _meeting_from_match(m: re.Match[str], original: str) -> Meeting | None:
    term = cn_numeral_to_int(m["term"])
    session = cn_numeral_to_int(m["sess"])
    if term is None or session is None:
        return None
    matched = m.group(0)
    cppcc = "政协" in matched or m["pre"] is not None or m["body2"] in ("委员会", "全国委员会")
    body = "cppcc" if cppcc else "npc"
    return Meeting(
        level=_meeting_level(m["scope"], m["body2"]),
        body=body,
        term=term,
        session=session,
        standing=m["standing"] is not None,
        text=original[m.start() : m.end()],
    )


def find_meetings(text: str | None) -> list[Meeting]:
    """Every session name in ``text``, in order."""
    if not text:
        return []
    folded = fold(text)
    found = (_meeting_from_match(m, text) for m in SESSION_RE.finditer(folded))
    return [meeting for meeting in found if meeting is not None]


def parse_meeting(text: str | None) -> Meeting | None:
    """The first session name in ``text``.

    ``level``: 全国 → national; 省/自治区 (and the four municipalities 北京/上海/天津/重庆) →
    province; 市/州/盟 → city; 县/区/旗 → county; ``None`` when the scope is not printed.
    ``body`` is ``cppcc`` when the name says 政协 (or 中国人民政治协商会议) or ``…届(全国)委员会``, else
    ``npc``: national forms are 全国政协十三届三次会议, 政协十三届全国委员会第三次会议, 政协第十四届全国委员会
    第二次会议, 十四届全国人大二次会议, 第十四届全国人民代表大会第二次会议. ``standing`` marks 常委会
    meetings. ``text`` is the name as displayed.
    """
    if not text:
        return None
    for m in SESSION_RE.finditer(fold(text)):
        meeting = _meeting_from_match(m, text)
        if meeting is not None:
            return meeting
    return None
