"""Section outline of a document body from its numbered headings.

Levels: 1 ``一、…``; 2 ``（一）…`` / ``(一)…``; 3 ``1.…`` / ``1．…`` / ``1、…``; 4 ``（1）…`` / ``①…``.

How a heading is cut from its paragraph: many templates run the heading sentence and the body
text together (``（一）积极推进会商协同机制。2025年3月，省医保局……``). The heading is the text up
to and including the first sentence end (``。``, ``？``, ``！`` in either width); a paragraph without
one is a heading on its own and is kept whole. Headings are returned in display form (original
width, whitespace normalised and trimmed). ``1.5亿元…`` (a decimal) is not a heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .text import fold, normalize_ws

__all__ = ["heading_level", "outline"]

_CN = "[一二三四五六七八九十百零〇]+"
_LEVELS = (
    (1, re.compile(rf"{_CN}\s*、")),
    (2, re.compile(rf"\(\s*{_CN}\s*\)")),
    (3, re.compile(r"\d{1,2}\s*(?:\.(?!\d)|、)")),
    (4, re.compile(r"\(\s*\d{1,2}\s*\)|[\u2460-\u2473\u2776-\u277f]")),
)
_SENTENCE_END_RE = re.compile(r"[。?!]")
# Possible first characters of a heading, in either width (a cheap pre-filter).
_HEADING_FIRST = frozenset(
    "一二三四五六七八九十百零〇(（0123456789０１２３４５６７８９"
    + "".join(map(chr, range(0x2460, 0x2474)))
    + "".join(map(chr, range(0x2776, 0x2780)))
)


def heading_level(paragraph: str) -> int | None:
    """The outline level of ``paragraph`` if it starts with a heading number, else ``None``."""
    folded = fold(paragraph).lstrip()
    if not folded:
        return None
    for level, regex in _LEVELS:
        m = regex.match(folded)
        if m and m.end() < len(folded):  # a bare "一、" is not a heading
            return level
    return None


def outline(paragraphs: Iterable[str]) -> list[tuple[int, str]]:
    """``[(level, heading), …]`` in document order (see the module docstring for the cut rule)."""
    out: list[tuple[int, str]] = []
    for para in paragraphs:
        if para.lstrip()[:1] not in _HEADING_FIRST:
            continue
        level = heading_level(para)
        if level is None:
            continue
        display = normalize_ws(para)
        m = _SENTENCE_END_RE.search(fold(display))
        heading = display[: m.end()] if m else display
        out.append((level, heading))
    return out
