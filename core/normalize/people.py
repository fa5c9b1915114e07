"""The addressee line of a reply letter (``黄彩欢代表：``) → deputies / members / organisation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .text import fold, normalize_ws

__all__ = [
    "ROLE_DEPUTY",
    "ROLE_MEMBER",
    "ROLE_ORGANISATION",
    "ROLE_OTHER",
    "Salutation",
    "find_salutation",
    "parse_salutation",
]

ROLE_DEPUTY = "代表"  # NPC deputy → 建议
ROLE_MEMBER = "委员"  # CPPCC member → 提案
ROLE_ORGANISATION = "organisation"  # a party committee, 界别, 专委会 … → 提案
ROLE_OTHER = "同志"


@dataclass(frozen=True)
class Salutation:
    """``names`` are the addressed people (or the one organisation); ``text`` is the line as displayed."""

    names: list[str] = field(default_factory=list)
    role: str = ROLE_DEPUTY
    text: str = ""


_SALUTATION_RE = re.compile(
    r"(?:尊敬的)?\s*(?P<names>[^\n:]{2,400}?)\s*(?:等\s*(?:\d+|[一二三四五六七八九十]+)\s*[位名])?"
    r"(?P<role>代表|委员|同志)(?:们)?\s*(?::|$)"
)
_ORG_SALUTATION_RE = re.compile(
    r"(?:尊敬的)?\s*(?P<org>[^\n:]{1,60}?(?:委员会|委会|委|总支|支部|小组|界别|党派|联合会|工商联|专委会))\s*(?::|$)"
)
# A committee (…委员会 / …委会 / …委) proposes only when it is a party's or the CPPCC's; otherwise it is a
# government office (市卫生健康委, 市发展改革委员会: the lead office a 会办意见 is sent to).
_COMMITTEE_RE = re.compile(r"(?:委员会|委会|委)$")
_PROPOSER_RE = re.compile(r"民革|民盟|民建|民进|农工|致公|九三|台盟|政协|党派|无党派|工商联|界别|专委会|专门委员会|联合会")
_NAME_SPLIT_RE = re.compile(r"[、,，;；\s]+")
# 2–10 characters; ``*``/``×`` stand for masked characters (``张**``, ``***``): kept as printed
_NAME_RE = re.compile(r"[\u4e00-\u9fa5·*×]{2,10}")
_ORG_NAME_RE = re.compile(r"[\u4e00-\u9fa5()·]{2,60}")
_NOT_NAMES = frozenset(("各位", "全体", "有关", "各", "诸位", "相关", "人大", "政协", "尊敬的"))
_TRAILING_DENG_RE = re.compile(r"等$")
# The line after a salutation printed without its colon opens the letter.
_OPENING_RE = re.compile(r"^\s*(?:您|你|贵|感谢|首先)|收悉")
_NO_COLON_MAX = 200  # characters: up to 16 or so co-signers' names


def _split_names(names: str) -> list[str] | None:
    out = []
    for part in _NAME_SPLIT_RE.split(names):
        part = _TRAILING_DENG_RE.sub("", part.strip())
        if not part:
            continue
        if part in _NOT_NAMES or not _NAME_RE.fullmatch(part):
            return None
        out.append(part)
    return out or None


def parse_salutation(line: str, *, colon: bool = True) -> Salutation | None:
    """Parse one line: ``黄彩欢代表：``, ``林洪棋、李英妹、…黄银义代表：`` (every co-signer),
    ``刘建辉委员：``, ``张**代表：`` / ``***委员：`` (masked names kept as printed), ``民盟中山市委员会：`` /
    ``民进市委会：`` → ``names=[org]``, role :data:`ROLE_ORGANISATION`.

    The whole line must be the salutation (letters put it on a line of its own), which keeps
    ``联 系 人：`` and ``现答复如下：`` out. Names are 2–10 Han characters (``·`` allowed). With
    ``colon=False`` a line without the final colon is accepted too (``陈伟代表`` with the text on the
    next line): :func:`find_salutation` allows that only right above the letter's opening.
    An office addressee (``市民政局：``, ``市卫生健康委：``, a 会办意见 sent to the lead office) is no
    salutation of a deputy or proposer: ``None``.
    """
    display = normalize_ws(line)
    folded = fold(display)
    if not folded.endswith(":") and (colon or len(folded) > _NO_COLON_MAX):
        return None
    m = _SALUTATION_RE.fullmatch(folded)
    if m:
        names = _split_names(display[m.start("names") : m.end("names")])
        if names:
            return Salutation(names=names, role=m["role"], text=display)
    m = _ORG_SALUTATION_RE.fullmatch(folded)
    if (
        m
        and _ORG_NAME_RE.fullmatch(m["org"])
        and (_PROPOSER_RE.search(m["org"]) or not _COMMITTEE_RE.search(m["org"]))
    ):
        org = display[m.start("org") : m.end("org")]
        return Salutation(names=[org], role=ROLE_ORGANISATION, text=display)
    return None


def find_salutation(paragraphs: Sequence[str], limit: int = 25) -> Salutation | None:
    """The first salutation line among the first ``limit`` paragraphs (a line without its colon
    counts when the next paragraph opens the letter: ``您提出的…``, ``…收悉``)."""
    head = paragraphs[:limit]
    for i, para in enumerate(head):
        found = parse_salutation(para)
        if found is None and i + 1 < len(paragraphs) and _OPENING_RE.search(fold(paragraphs[i + 1])):
            found = parse_salutation(para, colon=False)
        if found:
            return found
    return None
