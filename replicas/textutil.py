"""Small text helpers shared by the seed loader and the corpus generator."""

from __future__ import annotations

import re

from .model import CENTER, H1, H2, H3, Block, P

_COMMA = re.compile(r"(?<!\d),|,(?!\d)")
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_HEAD1 = re.compile(r"^[一二三四五六七八九十]{1,3}、")
_HEAD2 = re.compile(r"^[（(][一二三四五六七八九十]{1,3}[)）]")
_HEAD3 = re.compile(r"^\d{1,2}[.．、](?!\d)")

CN_DIGITS = "〇一二三四五六七八九"


def to_fullwidth(text: str) -> str:
    """Render ASCII punctuation the way the real pages print it (，：（）；！？)."""
    text = _COMMA.sub("，", text)
    text = _COLON.sub("：", text)
    for ascii_char, wide in (("(", "（"), (")", "）"), (";", "；"), ("!", "！"), ("?", "？")):
        text = text.replace(ascii_char, wide)
    return text


def role_of(text: str) -> str:
    if _HEAD1.match(text):
        return H1
    if _HEAD2.match(text):
        return H2
    if _HEAD3.match(text):
        return H3
    return P


def blocks_from_lines(lines: list[str]) -> list[Block]:
    """Paragraph blocks with heading roles detected from their numbering."""
    return [Block(line, role_of(line)) for line in lines]


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals as used for months, days, 届 and 次 (十一, 二十, 三十一)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return CN_DIGITS[n]
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")


def cn_date(year: int, month: int, day: int) -> str:
    """二〇二五年九月八日 (GB/T 9704 style with 〇 for zero)."""
    return "".join(CN_DIGITS[int(c)] for c in str(year)) + f"年{cn_number(month)}月{cn_number(day)}日"


def centered(text: str) -> Block:
    return Block(text, CENTER)


__all__ = ["H1", "H2", "H3", "blocks_from_lines", "cn_date", "cn_number", "role_of", "to_fullwidth"]
