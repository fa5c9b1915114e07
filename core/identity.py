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

- ``comparison_hash(record)``: a hash over the comparison forms of the fields whose change makes a version,
  as the field registry (``core.fields``) declares them: title, body, 文号, 索引号, validity, reply class,
  adoption, meeting, proposal number, deputies and attachments. Not over url, fetch time, visit counts,
  publish dates or anything else that moves without the document changing. The archive makes a version
  when the hash moved *and* ``core.fields.changed_fields`` names a field (the diff's own question).

The identity keys use the registry's folds of their fields (``canonical_doc_no``, ``meeting_key``,
``proposal_number``, ``text_key``), so "the same 文号" means the same thing everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import fields
from core.fields import (
    canonical_doc_no,
    comparison_fields,
    meeting_key,
    proposal_number,
    text_key,
)
from core.records import DocumentRecord

__all__ = [
    "COMPARISON_HASH_VERSION",
    "Fingerprint",
    "canonical_doc_no",
    "comparison_hash",
    "fold_width",
    "identity_keys",
    "shingles",
    "text_fingerprint",
]

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
# Bump when the registry's versioned fields or their folds change (``core.fields``), so the archive
# re-baselines instead of reporting every document as edited. c2: meeting, proposal number and deputies
# joined; text compared without any whitespace; attachments by name and content.
COMPARISON_HASH_VERSION = "c2"

_ALL_SPACE = re.compile(r"\s+")

fold_width = fields.fold_width  # the registry's fold (NFKC, zero-width characters dropped), fast on Chinese text


def identity_keys(record: DocumentRecord) -> list[str]:
    """Strong identity keys, strongest first; empty when the record has none."""
    keys = []
    bureau = text_key(record.bureau)
    issuer = bureau or text_key(record.region_code)
    doc_no = canonical_doc_no(record.doc_no)
    if issuer and doc_no:
        keys.append(f"docno:{issuer}|{doc_no}")
    index_no = text_key(record.index_no)
    if issuer and index_no:
        keys.append(f"index:{issuer}|{index_no}")
    meeting, number = meeting_key(record.meeting), proposal_number(record.proposal_no)
    if meeting and number and bureau:
        keys.append(f"proposal:{meeting}|{number}|{bureau}|{record.kind}")
    return keys


def comparison_hash(record: DocumentRecord | Mapping[str, Any]) -> str:
    """``c2:<sha256>`` over ``core.fields.comparison_fields``; equal hashes mean "nothing worth reporting
    changed" (unequal ones are checked field by field: ``core.fields.changed_fields``)."""
    payload = json.dumps(comparison_fields(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return f"{COMPARISON_HASH_VERSION}:{hashlib.sha256(payload.encode()).hexdigest()}"


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
    minhash = minhash_class()(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
    minhash.update_batch([s.encode() for s in shingles(body_text)])
    return Fingerprint(np.asarray(minhash.hashvalues, dtype="<u4").tobytes())


@functools.cache
def minhash_class() -> Any:
    """datasketch's ``MinHash`` (imported on first use), from its own module where possible."""
    if "datasketch" in sys.modules:
        return sys.modules["datasketch"].MinHash
    try:
        return load_minhash_alone()
    except ImportError:  # a release whose MinHash needs more of its package
        from datasketch import MinHash

        return MinHash


def load_minhash_alone() -> Any:
    """``datasketch.minhash.MinHash`` without running the package's ``__init__``.

    ``import datasketch`` imports every sketch of the library (the LSH indexes with their Redis storage, the
    ensemble's scipy, HNSW): 0.8 CPU-s, where ``datasketch.minhash`` needs numpy and ``datasketch.hashfunc``
    only. The module is loaded under a transient entry for its package (the package's folder, its
    ``__init__`` not run), and ``sys.modules`` is left as it was found: a later ``import datasketch`` anywhere
    in the process runs the package as usual. Raises ImportError when the module needs more of its package.
    """
    spec = importlib.util.find_spec("datasketch")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("datasketch is not installed")

    def ours(name: str) -> bool:
        return name == "datasketch" or name.startswith("datasketch.")

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    package = types.ModuleType("datasketch")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["datasketch"] = package
    try:
        return importlib.import_module("datasketch.minhash").MinHash
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
