"""Which full-text tokens each partition of the archive has ever had: a presence summary per
(province, kind), like a column store's per-partition Bloom filter, to prove a filtered query empty.

A partition is the first two digits of a document's ``region_code`` (its province; ``''`` without one)
and its ``kind``. For each partition that ever had an indexed document, a bitmap of ``2 ** BITS`` bits
holds bit ``token_bits(token)`` set for every full-text token (``storage.search.index_text`` of title,
文号 and body: the tokens ``documents_fts`` stores) of every document indexed while it was in that
partition. Bits are only ever set: a withdrawal or an edit leaves the old tokens' bits (a false "maybe",
never a wrong "absent"), and an edit that moves a document to another partition sets its tokens there,
where its full-text row is written (``storage.search.fts_insert``, ``storage.bulk.write_prepared``,
``storage.search.rebuild_index``). So when a token that every match of a query contains has its bit unset
in every partition a filter can reach, no document passing the filter matches (``absent``).

Stored in ``token_presence`` (migration m011): one row per partition and chunk of ``2 ** CHUNK_BITS``
bits (``CHUNKS`` of them), only for chunks with a bit set; a chunk with few bits set is stored as the
sorted offsets of its bits (four bytes each), a denser one as the bits themselves (``CHUNK_BYTES``). A
query reads only the chunks of its tokens. Writes are batched (``PresenceBatch``): the bits of a write
transaction's documents are gathered in memory and written once per touched partition, only the chunks
that gain a bit. While ``meta`` holds ``INCOMPLETE`` (an archive indexed before the summary existed, not
yet filled: ``fill``), the summary is never used to answer a query.

The hash is stable (the same bit for the same token in every process and on every platform: no salted
``hash``): a token's code points as a polynomial modulo 2 ** 64 (``sum(code[i] * P ** i)``), then the top
``BITS`` bits of it xor-shifted and multiplied by an odd constant. Computed with numpy for every token of
a token text at once (``token_bits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlite_utils

BITS = 21  # 2 MiBit (256 KiB) per partition
CHUNK_BITS = 17  # stored in 16 chunks of 128 KiBit (16 KiB)
CHUNKS = 1 << (BITS - CHUNK_BITS)
CHUNK_BYTES = 1 << (CHUNK_BITS - 3)
SPARSE_MAX = CHUNK_BYTES // 4 - 1  # a chunk with at most this many bits set is stored as their offsets
TABLE = "token_presence"
INCOMPLETE = "token_presence_incomplete"  # meta key: some indexed documents' tokens may be missing

CREATE_SQL = f"""CREATE TABLE {TABLE} (
    chunk INTEGER NOT NULL,
    kind TEXT NOT NULL,
    province TEXT NOT NULL,
    bits BLOB NOT NULL,
    PRIMARY KEY (chunk, kind, province)
) STRICT"""

_SPACE = ord(" ")
_U64 = np.uint64
_P = 0x9E3779B97F4A7C15  # odd: invertible modulo 2 ** 64
_P_INVERSE = pow(_P, -1, 1 << 64)
_powers: list[np.ndarray] = []  # [P ** i, P ** -i] for i < their length, grown as texts need


def _power_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    if not _powers or len(_powers[0]) < n:
        size = max(4096, 1 << (n - 1).bit_length())
        tables = []
        for base in (_P, _P_INVERSE):
            table = np.full(size, base, dtype=_U64)
            table[0] = 1
            tables.append(np.multiply.accumulate(table))  # wraps modulo 2 ** 64
        _powers[:] = tables
    return _powers[0], _powers[1]


def _top_bits(x: np.ndarray) -> np.ndarray:
    """The top ``BITS`` bits of uint64 hashes after a xor-shift and a multiplication by an odd constant
    (Fibonacci hashing: the top bits of a product depend on every bit of the hash)."""
    x = (x ^ (x >> _U64(29))) * _U64(0xBF58476D1CE4E5B9)
    return (x >> _U64(64 - BITS)).astype(np.uint32)


def token_bits(token_text: str) -> np.ndarray:
    """The bit (0 .. 2 ** BITS - 1) of each token of ``token_text`` (tokens separated by spaces, as
    ``index_text`` writes them), as uint32, in token order (repeats kept).

    A token's hash is its polynomial ``sum(code[i] * P ** i)`` modulo 2 ** 64 (``i`` from the token's
    start), its top bits after ``_top_bits``; computed for every token at once from the prefix sums of ``code[j] * P ** j`` over the
    whole text: a token's is the difference of two, times ``P ** -start``."""
    codes = np.frombuffer(token_text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n = len(codes)
    if not n:
        return np.empty(0, dtype=np.uint32)
    powers, inverses = _power_tables(n)
    prefix = np.empty(n + 1, dtype=_U64)
    prefix[0] = 0
    np.cumsum(codes * powers[:n], out=prefix[1:])  # spaces count too: cancelled by the difference
    spaces = np.flatnonzero(codes == _SPACE)
    starts = np.empty(len(spaces) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = spaces + 1
    ends = np.empty_like(starts)
    ends[:-1] = spaces
    ends[-1] = n
    if len(spaces):
        kept = ends > starts  # no empty token (two spaces in a row, or one at either end)
        if not kept.all():
            starts, ends = starts[kept], ends[kept]
    hashes = (prefix[ends] - prefix[starts]) * inverses[starts]
    return _top_bits(hashes)


def partition_of(region_code: str | None, kind: str) -> tuple[str, str]:
    """A document's partition: (the first two chars of its region code or '', its kind)."""
    return ((region_code or "")[:2], kind)


def _decode(blob: bytes) -> np.ndarray:
    """A stored chunk as its ``CHUNK_BYTES`` bytes of bits (bit ``i`` is bit ``i % 8`` of byte ``i // 8``)."""
    if len(blob) == CHUNK_BYTES:
        return np.frombuffer(blob, dtype=np.uint8)
    bits = np.zeros(CHUNK_BYTES, dtype=np.uint8)
    offsets = np.frombuffer(blob, dtype="<u4")
    np.bitwise_or.at(bits, offsets >> 3, (1 << (offsets & 7)).astype(np.uint8))
    return bits


def _has_bit(blob: bytes, offset: int) -> bool:
    """Bit ``offset`` of a stored chunk is set."""
    if len(blob) == CHUNK_BYTES:
        return bool(blob[offset >> 3] >> (offset & 7) & 1)
    offsets = np.frombuffer(blob, dtype="<u4")
    at = int(np.searchsorted(offsets, offset))
    return at < len(offsets) and int(offsets[at]) == offset


def _encode(chunk: np.ndarray) -> bytes:
    """A chunk's bytes of bits as stored: the sorted offsets of its bits when they are few (at most
    ``SPARSE_MAX``, so shorter than the bits), else the bits."""
    if int(np.bitwise_count(chunk).sum()) > SPARSE_MAX:
        return chunk.tobytes()
    return np.flatnonzero(np.unpackbits(chunk, bitorder="little")).astype("<u4").tobytes()


class PresenceBatch:
    """The bits of one write transaction's documents, by partition, written by ``flush`` (one
    read-modify-write per partition, of the chunks that gain a bit)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], list[np.ndarray]] = {}

    def add(self, partition: tuple[str, str], bits: np.ndarray) -> None:
        self.pending.setdefault(partition, []).append(bits)

    def add_document(self, region_code: str | None, kind: str, tokens: Sequence[str]) -> None:
        """A document's token texts (title, 文号, body) in its partition."""
        self.add(partition_of(region_code, kind), token_bits(" ".join(tokens)))

    def flush(self, db: sqlite_utils.Database) -> None:
        """Write the pending bits (inside the transaction that wrote the documents' full-text rows)."""
        for (province, kind), arrays in self.pending.items():
            _merge(db, province, kind, np.concatenate(arrays))
        self.pending.clear()


def _merge(db: sqlite_utils.Database, province: str, kind: str, bits: np.ndarray) -> None:
    """Set ``bits`` in the partition's bitmap: the chunks they touch are read, those that gain a bit written."""
    if not len(bits):
        return
    flat = np.zeros(CHUNKS * CHUNK_BYTES, dtype=np.uint8)
    np.bitwise_or.at(flat, bits >> 3, (1 << (bits & 7)).astype(np.uint8))
    packed = flat.reshape(CHUNKS, CHUNK_BYTES)
    touched = np.flatnonzero(packed.any(axis=1)).tolist()
    sql = f"SELECT chunk, bits FROM {TABLE} WHERE chunk IN ({','.join(map(str, touched))}) AND kind = ? AND province = ?"
    stored = dict(db.execute(sql, [kind, province]).fetchall())
    rows: list[tuple[Any, ...]] = []
    for chunk in touched:
        blob = stored.get(chunk)
        if blob is None:
            rows.append((chunk, kind, province, _encode(packed[chunk])))
            continue
        old = _decode(blob)
        merged = old | packed[chunk]
        if not np.array_equal(merged, old):
            rows.append((chunk, kind, province, _encode(merged)))
    if rows:
        db.conn.executemany(
            f"INSERT INTO {TABLE} (chunk, kind, province, bits) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chunk, kind, province) DO UPDATE SET bits = excluded.bits",
            rows,
        )


def complete(db: sqlite_utils.Database) -> bool:
    """The summary exists and holds every indexed document's tokens (it may answer queries)."""
    sql = (
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"
        " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = ?)"
    )
    (ok,) = db.execute(sql, [TABLE, INCOMPLETE]).fetchone()
    return bool(ok)


def mark_complete(db: sqlite_utils.Database) -> None:
    db.execute("DELETE FROM meta WHERE key = ?", [INCOMPLETE])


def mark_incomplete(db: sqlite_utils.Database) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", [INCOMPLETE])


def absent(
    db: sqlite_utils.Database,
    token_sets: Sequence[Sequence[str]],
    provinces: Sequence[str] | None,
    kinds: Sequence[str] | None,
) -> list[bool]:
    """For each set of tokens: True when one of its tokens has its bit unset in every partition of
    ``provinces`` x ``kinds`` (None: any), i.e. no document of those partitions ever had that token (a
    partition without a row for a chunk has none of its bits). One read of the chunks of the tokens' bits.
    The caller checks ``complete`` first."""
    flat = list(dict.fromkeys(token for tokens in token_sets for token in tokens))
    if not flat:
        return [False] * len(token_sets)
    positions = token_bits(" ".join(flat)).tolist()
    if len(positions) != len(flat):  # a token with a space in it is never indexed as such: not proved
        return [False] * len(token_sets)
    bit_of = dict(zip(flat, positions, strict=True))
    wanted: dict[int, list[str]] = {}  # chunk -> the tokens whose bit is in it
    for token, bit in bit_of.items():
        wanted.setdefault(bit >> CHUNK_BITS, []).append(token)
    params: list[str] = []
    where = [f"chunk IN ({','.join(map(str, sorted(wanted)))})"]
    for column, values in (("kind", kinds), ("province", provinces)):
        if values is not None:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    mask = (1 << CHUNK_BITS) - 1
    present: set[str] = set()
    for chunk, blob in db.execute(f"SELECT chunk, bits FROM {TABLE} WHERE {' AND '.join(where)}", params):
        present.update(t for t in wanted[chunk] if t not in present and _has_bit(blob, bit_of[t] & mask))
    return [bool(tokens) and not present.issuperset(tokens) for tokens in token_sets]


FILL_BATCH = 5_000  # documents whose bits are gathered before they are written, when filling
MIGRATION_FILL_MAX = 20_000
"""m011 fills the summary of an archive of at most this many documents in the migration (a few seconds);
a larger one is marked incomplete instead, so that opening it does not hold the write lock for minutes
(other processes wait ``busy_timeout``, 30 s): ``fill`` (or ``storage.search.rebuild_index``) completes it."""


def create(db: sqlite_utils.Database) -> None:
    """The table, filled from the documents' latest versions when they are few (``MIGRATION_FILL_MAX``),
    else marked incomplete (migration m011; in its transaction)."""
    db.execute(CREATE_SQL)
    if db.execute("SELECT 1 FROM documents LIMIT 1 OFFSET ?", [MIGRATION_FILL_MAX]).fetchone():
        mark_incomplete(db)
    else:
        _fill_after(db, 0, None)


_LATEST_TEXT = (
    "SELECT d.id, d.title, d.doc_no, v.body_text, d.region_code, d.kind FROM documents d"
    " JOIN versions v ON v.id = d.latest_version_id WHERE d.id > ? ORDER BY d.id LIMIT ?"
)


def _fill_after(db: sqlite_utils.Database, after: int, most: int | None) -> tuple[int, int]:
    """Note the tokens of the documents after id ``after`` (at most ``most``; None: all) from their latest
    versions (the text their full-text rows hold). Returns the last id done (``after`` when none was
    left) and how many were done."""
    from storage.search import index_text

    done = 0
    while most is None or done < most:
        size = FILL_BATCH if most is None else min(most - done, FILL_BATCH)
        rows = db.execute(_LATEST_TEXT, [after, size]).fetchall()
        if not rows:
            break
        batch = PresenceBatch()
        for _, title, doc_no, body, region_code, kind in rows:
            batch.add_document(region_code, kind, (index_text(title), index_text(doc_no), index_text(body)))
        batch.flush(db)
        after, done = rows[-1][0], done + len(rows)
    return after, done


def fill(db: sqlite_utils.Database, *, batch: int = FILL_BATCH) -> int:
    """Complete an incomplete summary from the documents' latest versions, ``batch`` documents per write
    transaction (crawls may write between them: their documents' bits are set as they are indexed), then
    mark it complete. Returns how many documents were read (0 when it was complete)."""
    from storage.db import write_transaction

    if complete(db):
        return 0
    total, after = 0, 0
    while True:
        with write_transaction(db):
            after, done = _fill_after(db, after, batch)
            total += done
            if done < batch:
                mark_complete(db)
                return total


def clear(db: sqlite_utils.Database) -> None:
    """Forget every bit (``storage.search.rebuild_index`` refills the summary from the documents)."""
    db.execute(f"DELETE FROM {TABLE}")
