"""``core.fields.fold_width`` (which ``core.identity`` and the full-text index use too) is NFKC with zero-width
characters dropped, made fast for Chinese text by decomposing its common compatibility characters first: the same
string as the plain definition for every character, alone and beside the characters it decomposes first
(combining marks, Hangul jamo and compatibility characters included), and for real page text."""

from __future__ import annotations

import sys
import unicodedata

from core import fields, identity
from replicas.corpus import filler_paragraphs


def plain_fold(text: str) -> str:
    """The fold's definition, without the fast path."""
    text = unicodedata.normalize("NFKC", text)
    for char in fields._ZERO_WIDTH:
        text = text.replace(char, "")
    return text


def test_fold_width_is_nfkc_without_zero_width_for_every_character() -> None:
    points = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    common = "".join(ch for ch, _ in fields._COMMON_COMPAT)
    for start in range(0, len(points), 512):
        chunk = points[start : start + 512]
        for joiner in ("", common):
            text = joiner.join(chunk) + joiner
            assert fields.fold_width(text) == plain_fold(text), (hex(ord(chunk[0])), joiner)


def test_fold_width_of_page_text() -> None:
    samples = ("（２０２５）第０１２号：\u3000医保\u200b函〔2025〕", "ＡＢＣ，ｄｅｆ！", "")
    for text in (*filler_paragraphs(), *samples):
        assert fields.fold_width(text) == plain_fold(text)
    assert identity.fold_width is fields.fold_width  # one fold for the hash, the identity and the index


def linewise_body_key(text: str) -> str:
    """``body_key``'s definition: each line's ``text_key``, empty ones dropped."""
    return "\n".join(k for k in (fields.text_key(line) for line in text.split("\n")) if k)


def test_body_key_folds_the_whole_body_as_it_would_each_line() -> None:
    marks = "\u0301\u0308\u3099\u1161\u11a8"  # combining marks and Hangul jamo that compose with a neighbour
    tricky = f"e\n{marks}\n\u1100\n\u1161\r\n\u3000\u200b\n\n\u2028ｅ\u0301\n\u0085ｆｉ\n"
    for text in (*filler_paragraphs(), "\n".join(filler_paragraphs()), tricky, "", "\n\n", " \n\u3000"):
        assert fields.body_key(text) == linewise_body_key(text), repr(text)
    points = "".join(chr(cp) for cp in range(0x20, 0x3100) if not 0xD800 <= cp <= 0xDFFF)
    for width in (1, 2, 7):
        text = "\n".join(points[i : i + width] for i in range(0, len(points), width))
        assert fields.body_key(text) == linewise_body_key(text)


def test_minhash_loaded_alone_is_the_librarys_and_leaves_sys_modules_as_found() -> None:
    import datasketch  # the whole package: the reference

    before = {name: module for name, module in sys.modules.items() if name.startswith("datasketch")}
    alone = identity.load_minhash_alone()
    after = {name: module for name, module in sys.modules.items() if name.startswith("datasketch")}
    assert after == before
    assert alone is not datasketch.MinHash
    assert alone.__module__ == "datasketch.minhash"
    text = "".join(filler_paragraphs())
    signatures = []
    for cls in (alone, datasketch.MinHash):
        minhash = cls(num_perm=identity.NUM_PERM, seed=identity.MINHASH_SEED, scheme=identity.MINHASH_SCHEME)
        minhash.update_batch([s.encode() for s in identity.shingles(text)])
        signatures.append(bytes(minhash.hashvalues.astype("<u4").tobytes()))
    assert signatures[0] == signatures[1]
    fingerprint = identity.text_fingerprint(text)
    assert fingerprint is not None
    assert fingerprint.signature == signatures[1]
