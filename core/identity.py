"""Identity and change keys for a ``DocumentRecord`` (pure: no SQL, no Scrapy).

The archive uses three things from here:

- ``identity_keys(record)``: strong keys, strongest first. Two postings that share any key are the same
  logical document (a reply reposted on another portal or column):

  1. ``docno:<issuer>|<canonical 文号>`` where issuer is the bureau (else the region code);
  2. ``index:<issuer>|<索引号>``: portal-independent, so a repost on a provincial portal still matches;
  3. ``proposal:<meeting>|<建议/提案 number>|<bureau>|<kind>``, the meeting taken from its structured
     fields (level/body/term/session/standing), not from how it was printed.

- ``text_fingerprint(body)``: a MinHash (128 permutations, character 4-gram shingles of the width-folded
  body without whitespace) for documents with *no* strong key. It costs a few ms, so callers compute it
  only when ``identity_keys`` is empty. Bodies shorter than ``MIN_FINGERPRINT_CHARS`` get none: short
  boilerplate ("详见附件。") would merge unrelated notices. ``Fingerprint.band_hashes()`` gives the LSH
  band keys (``LSH_BANDS`` x ``LSH_ROWS``) that the archive indexes in SQL; a candidate counts as the same
  document when its estimated Jaccard similarity is at least ``LSH_THRESHOLD``.

- ``comparison_hash(record)``: a hash over the fields whose change is news (width-folded body, title, 文号,
  索引号, validity, reply class, adoption, attachment hashes). Not over url, fetch time, visit counts,
  publish dates or anything else that moves without the document changing.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import MinHash

from core.records import DocumentRecord, Meeting

NUM_PERM = 128
SHINGLE_SIZE = 4
MIN_FINGERPRINT_CHARS = 80
LSH_THRESHOLD = 0.9
# 10 bands of 12 rows: P(candidate) = 1 - (1 - J**12)**10 is 0.96 at J=0.9, 0.9996 at J=0.95,
# 0.14 at J=0.7 and 0.002 at J=0.5; candidates are then checked against LSH_THRESHOLD.
LSH_BANDS = 10
LSH_ROWS = 12
MINHASH_SCHEME = "affine32"
MINHASH_SEED = 1
# Bump when comparison_fields() changes, so the archive can re-baseline instead of reporting every
# document as edited.
COMPARISON_HASH_VERSION = "c1"
COMPARED_FIELDS = (
    "title",
    "body_text",
    "doc_no",
    "index_no",
    "validity",
    "reply_class",
    "adoption",
    "attachments",
)

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SPACES = re.compile(r"[^\S\n]+")
_ALL_SPACE = re.compile(r"\s+")
_YEAR_BRACKETS = re.compile(r"[\[\(（【〔［〖⦅{]\s*(\d{4})\s*[\]\)）】〕］〗⦆}]")
_SERIAL = re.compile(r"〕第?0*(\d+)")


def fold_width(text: str) -> str:
    """NFKC (full-width ASCII to half-width, compatibility ideographs to unified), zero-width chars dropped."""
    text = unicodedata.normalize("NFKC", text)
    for char in _ZERO_WIDTH:  # usually absent: a scan each is cheaper than str.translate
        if char in text:
            text = text.replace(char, "")
    return text


def comparison_text(text: str) -> str:
    """The comparison form of display text: width-folded, spaces collapsed, blank lines dropped."""
    lines = (_SPACES.sub(" ", line).strip() for line in fold_width(text).split("\n"))
    return "\n".join(line for line in lines if line)


def _clean(value: str | None) -> str:
    return _ALL_SPACE.sub("", fold_width(value)) if value else ""


def canonical_doc_no(doc_no: str | None) -> str:
    """宁医保函[2025]0116号 / 宁医保函（2025）第116号 -> 宁医保函〔2025〕116号."""
    text = _YEAR_BRACKETS.sub(r"〔\1〕", _clean(doc_no))
    return _SERIAL.sub(r"〕\1", text)


def _proposal_no(value: str | None) -> str:
    text = _clean(value).removeprefix("第").removesuffix("号")
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _meeting_key(meeting: Meeting | Mapping[str, Any] | None) -> str:
    if meeting is None:
        return ""
    m = meeting if isinstance(meeting, Mapping) else meeting.__dict__
    if m.get("term") and m.get("session"):
        standing = "standing" if m.get("standing") else "plenary"
        return f"{m.get('level') or ''}/{m.get('body')}/{m['term']}/{m['session']}/{standing}"
    return _clean(m.get("text"))


def identity_keys(record: DocumentRecord) -> list[str]:
    """Strong identity keys, strongest first; empty when the record has none."""
    keys = []
    bureau = _clean(record.bureau)
    issuer = bureau or _clean(record.region_code)
    doc_no = canonical_doc_no(record.doc_no)
    if issuer and doc_no:
        keys.append(f"docno:{issuer}|{doc_no}")
    index_no = _clean(record.index_no)
    if issuer and index_no:
        keys.append(f"index:{issuer}|{index_no}")
    meeting, number = _meeting_key(record.meeting), _proposal_no(record.proposal_no)
    if meeting and number and bureau:
        keys.append(f"proposal:{meeting}|{number}|{bureau}|{record.kind}")
    return keys


def _attachment_keys(attachments: list[Any]) -> list[str]:
    keys = []
    for item in attachments:
        a = item if isinstance(item, Mapping) else item.__dict__
        keys.append(a.get("sha256") or "name:" + _clean(a.get("name")))
    return sorted(keys)


def comparison_fields(record: DocumentRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The normalized fields that ``comparison_hash`` covers (accepts a record or its ``to_dict()``)."""
    d = record if isinstance(record, Mapping) else record.__dict__
    return {
        "title": comparison_text(d.get("title") or "").replace("\n", " "),
        "body_text": comparison_text(d.get("body_text") or ""),
        "doc_no": canonical_doc_no(d.get("doc_no")) or None,
        "index_no": _clean(d.get("index_no")) or None,
        "validity": _clean(d.get("validity")) or None,
        "reply_class": _clean(d.get("reply_class")) or None,
        "adoption": [_clean(a) for a in d.get("adoption") or []],
        "attachments": _attachment_keys(d.get("attachments") or []),
    }


def comparison_hash(record: DocumentRecord | Mapping[str, Any]) -> str:
    """``c1:<sha256>`` over ``comparison_fields``; equal hashes mean "nothing worth reporting changed"."""
    payload = json.dumps(comparison_fields(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return f"{COMPARISON_HASH_VERSION}:{hashlib.sha256(payload.encode()).hexdigest()}"


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of ``COMPARED_FIELDS`` that differ between two ``comparison_fields`` results."""
    return [name for name in COMPARED_FIELDS if old.get(name) != new.get(name)]


@dataclass(frozen=True)
class Fingerprint:
    """A MinHash signature: ``NUM_PERM`` little-endian uint32 values."""

    signature: bytes

    def values(self) -> np.ndarray:
        return np.frombuffer(self.signature, dtype="<u4")

    def band_hashes(self) -> list[int]:
        """One signed 64-bit key per LSH band (band number mixed in), for an indexed SQL lookup."""
        width = LSH_ROWS * 4
        out = []
        for band in range(LSH_BANDS):
            chunk = bytes([band]) + self.signature[band * width : (band + 1) * width]
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            out.append(int.from_bytes(digest, "big", signed=True))
        return out

    def jaccard(self, other: Fingerprint) -> float:
        return float(np.mean(self.values() == other.values()))


def shingles(text: str) -> set[str]:
    flat = _ALL_SPACE.sub("", fold_width(text))
    if len(flat) <= SHINGLE_SIZE:
        return {flat} if flat else set()
    return {flat[i : i + SHINGLE_SIZE] for i in range(len(flat) - SHINGLE_SIZE + 1)}


def text_fingerprint(body_text: str) -> Fingerprint | None:
    """MinHash of the body's 4-gram shingles, or None for bodies too short to identify a document."""
    if len(_ALL_SPACE.sub("", body_text)) < MIN_FINGERPRINT_CHARS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
    minhash.update_batch([s.encode() for s in shingles(body_text)])
    return Fingerprint(np.asarray(minhash.hashvalues, dtype="<u4").tobytes())
