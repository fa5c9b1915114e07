"""``core.identity.fold_width`` is ``core.fields.fold_width`` made fast for Chinese text: the same string for
every character, alone and beside the characters it decomposes first (combining marks, Hangul jamo and
compatibility characters included), and for real page text."""

from __future__ import annotations

import sys

from core import fields, identity
from replicas.corpus import filler_paragraphs


def test_fold_width_is_the_registry_fold_for_every_character() -> None:
    points = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    common = "".join(ch for ch, _ in identity._COMMON_COMPAT)
    for start in range(0, len(points), 512):
        chunk = points[start : start + 512]
        for joiner in ("", common):
            text = joiner.join(chunk) + joiner
            assert identity.fold_width(text) == fields.fold_width(text), (hex(ord(chunk[0])), joiner)


def test_fold_width_of_page_text() -> None:
    samples = ("（２０２５）第０１２号：\u3000医保\u200b函〔2025〕", "ＡＢＣ，ｄｅｆ！", "")
    for text in (*filler_paragraphs(), *samples):
        assert identity.fold_width(text) == fields.fold_width(text)
