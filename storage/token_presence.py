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
sorted offsets of its bits (two bytes each), a denser one as the bits themselves (``CHUNK_BYTES``). A
query reads only the chunks of its tokens. Writes are batched (``PresenceBatch``): the bits of a write
transaction's documents are gathered in memory and written once per touched partition, only the chunks
that gain a bit. While ``meta`` holds ``INCOMPLETE`` (an archive indexed before the summary existed, not
yet filled: ``fill``), or its rows were written in another layout than ``FORMAT`` (the hash, ``BITS``,
the chunks), the summary is never used to answer a query.

The hash is stable (the same bit for the same token in every process and on every platform: no salted
``hash``): a token's code points as a polynomial modulo 2 ** 64 (``sum(code[i] * P ** i)``), then the top
``BITS`` bits of it xor-shifted and multiplied by an odd constant. Computed with numpy for every token of
a token text at once (``token_bits``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sqlite_utils

BITS = 21  # 2 MiBit (256 KiB) per partition
CHUNK_BITS = 16  # stored in 32 chunks of 64 KiBit (8 KiB)
CHUNKS = 1 << (BITS - CHUNK_BITS)
CHUNK_BYTES = 1 << (CHUNK_BITS - 3)
SPARSE_MAX = CHUNK_BYTES // 2 - 1  # a chunk with at most this many bits set is stored as their offsets
_OFFSET = np.dtype("<u2")  # an offset in a chunk, as stored
TABLE = "token_presence"
INCOMPLETE = "token_presence_incomplete"  # meta key: some indexed documents' tokens may be missing
FORMAT_KEY = "token_presence_format"  # meta key: the layout the rows were written in (``FORMAT``)
FORMAT = f"poly64-bits{BITS}-chunk{CHUNK_BITS}-u2"  # a change of hash or layout makes the rows unusable

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
    return _packed(np.frombuffer(blob, dtype=_OFFSET))


def _packed(offsets: np.ndarray) -> np.ndarray:
    """The ``CHUNK_BYTES`` bytes of bits with ``offsets`` set."""
    bits = np.zeros(CHUNK_BYTES, dtype=np.uint8)
    np.bitwise_or.at(bits, offsets >> 3, (1 << (offsets & 7)).astype(np.uint8))
    return bits


def _has_bit(blob: bytes, offset: int) -> bool:
    """Bit ``offset`` of a stored chunk is set."""
    if len(blob) == CHUNK_BYTES:
        return bool(blob[offset >> 3] >> (offset & 7) & 1)
    offsets = np.frombuffer(blob, dtype=_OFFSET)
    at = int(np.searchsorted(offsets, offset))
    return at < len(offsets) and int(offsets[at]) == offset


def _encode(offsets: np.ndarray) -> bytes:
    """A chunk with the bits at ``offsets`` (sorted, distinct) set, as stored: the offsets when they are few
    (at most ``SPARSE_MAX``, so shorter than the bits), else the bits."""
    if len(offsets) > SPARSE_MAX:
        return _packed(offsets).tobytes()
    return offsets.astype(_OFFSET).tobytes()


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


SORT_MAX = 8_192  # more bits than this are made distinct through a flag per bit instead of a sort


def _distinct(bits: np.ndarray) -> np.ndarray:
    """``bits`` sorted, each once: by a sort, or for many (a batch of documents) through a flag per bit of
    the bitmap (2 MiB, zeroed by the allocator: 120,000 bits in 0.8 ms where a sort took 4)."""
    if len(bits) <= SORT_MAX:
        ordered = np.sort(bits)
        keep = np.empty(len(ordered), dtype=bool)
        keep[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
        return ordered[keep]
    flags = np.zeros(1 << BITS, dtype=bool)
    flags[bits] = True
    return np.flatnonzero(flags).astype(np.uint32)


_MASK = np.uint32((1 << CHUNK_BITS) - 1)


def _chunk_runs(positions: np.ndarray) -> list[tuple[int, int, int]]:
    """Sorted positions in the partition's bitmap, split by chunk: (chunk, start, end) of each run."""
    if not len(positions):
        return []
    chunks = positions >> CHUNK_BITS
    starts = np.flatnonzero(np.concatenate(([True], chunks[1:] != chunks[:-1])))
    ends = [*starts[1:].tolist(), len(positions)]
    return list(zip(chunks[starts].tolist(), starts.tolist(), ends, strict=True))


def _by_chunk(positions: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Sorted positions in the partition's bitmap, split by chunk: (chunk, the offsets in it)."""
    local = positions & _MASK
    return [(chunk, local[start:end]) for chunk, start, end in _chunk_runs(positions)]


def _encoded(positions: np.ndarray, only: set[int] | None = None) -> list[tuple[int, bytes]]:
    """(chunk, its stored form) of each chunk of sorted positions in the partition's bitmap (of the chunks
    in ``only``, when given): the offsets of all of them made bytes at once, then sliced."""
    offsets = (positions & _MASK).astype(_OFFSET)
    raw = offsets.tobytes()
    return [
        (chunk, raw[2 * start : 2 * end] if end - start <= SPARSE_MAX else _packed(offsets[start:end]).tobytes())
        for chunk, start, end in _chunk_runs(positions)
        if only is None or chunk in only
    ]


def _merge(db: sqlite_utils.Database, province: str, kind: str, bits: np.ndarray) -> None:
    """Set ``bits`` in the partition's bitmap: the chunks they touch are read, those that gain a bit written.

    Vectorised over the chunks (a Python step only per chunk that changes): the bits are made distinct,
    those of chunks stored as offsets looked up in all their offsets at once, those of chunks stored as
    bits in all those bits at once."""
    if not len(bits):
        return
    distinct = _distinct(bits)
    chunk_of = distinct >> CHUNK_BITS
    touched = np.flatnonzero(np.bincount(chunk_of, minlength=CHUNKS)).tolist()
    sql = f"SELECT chunk, bits FROM {TABLE} WHERE chunk IN ({','.join(map(str, touched))}) AND kind = ? AND province = ?"
    sparse: list[tuple[int, bytes]] = []
    dense: list[tuple[int, bytes]] = []
    for chunk, blob in db.execute(sql, [kind, province]):
        (dense if len(blob) == CHUNK_BYTES else sparse).append((chunk, blob))
    state = np.zeros(CHUNKS, dtype=np.int8)  # of each chunk: 0 not stored, 1 offsets, 2 bits
    state[[c for c, _ in sparse]] = 1
    state[[c for c, _ in dense]] = 2
    new_state = state[chunk_of]
    changed = _encoded(distinct[new_state == 0])
    if sparse:
        lengths = [len(blob) // 2 for _, blob in sparse]
        bases = np.repeat(np.array([c for c, _ in sparse], dtype=np.uint32) << CHUNK_BITS, lengths)
        old = np.frombuffer(b"".join(blob for _, blob in sparse), dtype=_OFFSET).astype(np.uint32) + bases
        new = distinct[new_state == 1]
        at = old.searchsorted(new)
        found = at < len(old)
        found[found] = old[at[found]] == new[found]
        if not found.all():
            lost = ~found
            merged = np.empty(len(old) + int(lost.sum()), dtype=np.uint32)
            slots = at[lost] + np.arange(len(merged) - len(old))  # where the new ones go, in order
            merged[slots] = new[lost]
            kept = np.ones(len(merged), dtype=bool)
            kept[slots] = False
            merged[kept] = old
            gaining = set((new[lost] >> CHUNK_BITS).tolist())
            changed += _encoded(merged, gaining)
    if dense:
        row_of = np.zeros(CHUNKS, dtype=np.intp)
        row_of[[c for c, _ in dense]] = np.arange(len(dense))
        table = np.frombuffer(b"".join(blob for _, blob in dense), dtype=np.uint8).reshape(len(dense), CHUNK_BYTES)
        new = distinct[new_state == 2]
        local = new & _MASK
        lost = new[(table[row_of[new >> CHUNK_BITS], local >> 3] >> (local & 7) & 1) == 0]
        for chunk, offsets in _by_chunk(lost):
            merged_bits = table[row_of[chunk]].copy()
            np.bitwise_or.at(merged_bits, offsets >> 3, (1 << (offsets & 7)).astype(np.uint8))
            changed.append((chunk, merged_bits.tobytes()))
    if changed:
        db.conn.executemany(
            f"INSERT INTO {TABLE} (chunk, kind, province, bits) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chunk, kind, province) DO UPDATE SET bits = excluded.bits",
            [(chunk, kind, province, blob) for chunk, blob in changed],
        )


def complete(db: sqlite_utils.Database) -> bool:
    """The summary exists, in this ``FORMAT``, and holds every indexed document's tokens (it may answer
    queries)."""
    sql = (
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"
        " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = ?)"
        " AND EXISTS (SELECT 1 FROM meta WHERE key = ? AND value = ?)"
    )
    (ok,) = db.execute(sql, [TABLE, INCOMPLETE, FORMAT_KEY, FORMAT]).fetchone()
    return bool(ok)


def mark_complete(db: sqlite_utils.Database) -> None:
    db.execute("DELETE FROM meta WHERE key = ?", [INCOMPLETE])


def mark_incomplete(db: sqlite_utils.Database) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", [INCOMPLETE])


def _current_format(db: sqlite_utils.Database) -> bool:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [FORMAT_KEY]).fetchone()
    return row is not None and row[0] == FORMAT


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
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [FORMAT_KEY, FORMAT])
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


def fill(db: sqlite_utils.Database, *, batch: int = FILL_BATCH, stop: Callable[[], bool] | None = None) -> int:
    """Complete an incomplete summary from the documents' latest versions, ``batch`` documents per write
    transaction (crawls may write between them: their documents' bits are set as they are indexed), then
    mark it complete; rows of another ``FORMAT`` are deleted first. Returns how many documents were read
    (0 when it was complete). ``stop``, asked between transactions, ends it early, the summary still
    incomplete (a later ``fill`` starts over: bits are only ever set, so the work done is not wrong, only
    done again)."""
    from storage.db import write_transaction

    if complete(db):
        return 0
    with write_transaction(db):
        if not _current_format(db):
            clear(db)
            mark_incomplete(db)
    total, after = 0, 0
    while stop is None or not stop():
        with write_transaction(db):
            after, done = _fill_after(db, after, batch)
            total += done
            if done < batch:
                mark_complete(db)
                return total
    return total


def clear(db: sqlite_utils.Database) -> None:
    """Forget every bit, the table then in this ``FORMAT`` (``storage.search.rebuild_index`` refills it)."""
    db.execute(f"DELETE FROM {TABLE}")
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [FORMAT_KEY, FORMAT])
