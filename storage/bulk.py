"""Loading many records that are known to be new and distinct, fast: ``bulk_load``.

``storage.record`` stores one page at a time: it looks the URL and every identity key up, MinHash-matches
key-less records against the archive, and runs each page in its own transaction or savepoint (about
300 documents/s on two quiet cores, two thirds of it CJK tokenisation and comparison hashing).
``bulk_load`` writes exactly the rows ``record`` writes for a *new* document -- ``documents``,
``versions`` (version 1), ``postings``, ``identity_keys``, the ``new`` event, the ``documents_fts`` row,
and ``fingerprints``/``fingerprint_bands`` for key-less records -- but prepares the rows in a process pool (``workers``) and writes them with ``executemany``,
``batch`` records per ``BEGIN IMMEDIATE`` transaction, without any per-record lookups.

Use it for a benchmark corpus, or the initial import of a historical dump into an empty (or disjoint)
archive, when every record is a different document::

    from storage import open_db, start_run
    from storage.bulk import bulk_load

    db = open_db(path)
    run_id = start_run(db, "import", now=now)
    loaded = bulk_load(db, records, run_id=run_id, now=now, workers=2)

Faster: ``bulk_load_sources`` takes picklable callables that each return a slice of the records (a part
of a dump file, of a generated corpus) and calls them in the worker processes, so the records are read
where they are prepared and this process only writes; ``fresh=True`` (a new file, deleted by the caller
if the load does not complete) writes it without a journal on disk. During any bulk load the full-text
indexes are not merged incrementally (``storage.search.bulk_index_settings``); they are merged once at
the end. ``python -m benchmarks.build_bench`` measures it (docs/search.md, "Building a large archive").

Do not use it for crawled pages, re-imports, or anything that may repeat a document: it does no
deduplication. A record whose URL or any identity key is already stored (or repeated in the input)
raises ``ValueError``; the batch it is in is rolled back, batches committed before it stay. A key-less
record is never matched to a near-identical stored text (``record`` would make it a repost), and a
record is never compared with a stored version (no ``edited``/``reappeared`` events): feed such input
to ``storage.record``. Ids are assigned exactly as ``record`` would assign them, one record after the
other, so an archive built by ``bulk_load`` is row for row the one ``record`` builds from the same
records with the same ``now``.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import datetime
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any, NamedTuple

import numpy as np
import sqlite_utils

from core import identity
from core.records import DocumentRecord
from storage.archive import (
    FINGERPRINT_SCHEME,
    _document_key,
    _new_summary,
    _version_payload,
    document_columns,
)
from storage.browse import rebuild_facet_counts, suspend_facet_counts
from storage.db import to_utc_iso, write_transaction
from storage.events import EVENT_NEW
from storage.search import _SQL_FTS, _SQL_HEADING, bulk_index_settings, fts_rows, index_text, optimize_index
from storage.token_presence import PresenceBatch, partition_of, token_bits

_FIELDS = tuple(document_columns(DocumentRecord(url="", portal_id="", title="", kind="")))
_REGION, _KIND = _FIELDS.index("region_code"), _FIELDS.index("kind")  # in ``Prepared.fields``
_SQL_DOCUMENT = (
    f"INSERT INTO documents (id, identity_key, {', '.join(_FIELDS)}, first_seen_at, last_changed_at)"
    f" VALUES (?, ?, {', '.join('?' * len(_FIELDS))}, ?, ?)"
)
_SQL_LATEST = "UPDATE documents SET latest_version_id = ? WHERE id = ?"
_SQL_VERSION = (
    "INSERT INTO versions (id, document_id, version_no, comparison_hash, record_json, body_text, url,"
    " created_at, run_id) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)"
)
_SQL_POSTING = (
    "INSERT INTO postings (url, document_id, portal_id, column_name, first_seen_at, last_seen_at,"
    " last_seen_run, last_fetched_at, etag, last_modified, content_hash)"
    " VALUES (?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL, ?)"
)
_SQL_KEY = "INSERT INTO identity_keys (key, document_id) VALUES (?, ?)"  # record(): OR IGNORE; here: new
_SQL_FINGERPRINT = "INSERT INTO fingerprints (version_id, document_id, scheme, signature) VALUES (?, ?, ?, ?)"
_SQL_BAND = "INSERT OR IGNORE INTO fingerprint_bands (band_hash, version_id) VALUES (?, ?)"
_SQL_EVENT = (
    "INSERT INTO events (id, kind, document_id, version_id, prev_version_id, changed_fields, summary,"
    " created_at, run_id, portal_id, url) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)"
)
_NO_CHANGED_FIELDS = json.dumps([])
BULK_CACHE_KIB = 256 * 1024  # page cache while loading: the indexes of a large archive stay in memory


class Prepared(NamedTuple):
    """Everything about one record that does not depend on the archive (computed in a worker)."""

    url: str
    portal_id: str
    keys: list[str]
    document_key: str
    fields: tuple[Any, ...]
    comparison_hash: str
    record_json: str
    body_text: str
    fts: tuple[str, str, str]  # token text of title, doc_no, body
    signature: bytes | None
    bands: list[int]
    summary: str
    # the token presence bits of ``fts`` (``storage.token_presence.token_bits``, uint32 bytes); None: the
    # writer computes them
    presence: bytes | None = None


def prepare(rec: DocumentRecord) -> Prepared:
    """The rows of one record, as ``record`` computes them (CPU only: runs in the pool)."""
    keys = identity.identity_keys(rec)
    fingerprint = None if keys else identity.text_fingerprint(rec.body_text)
    record_json, body = _version_payload(rec)
    fts = (index_text(rec.title), index_text(rec.doc_no), index_text(rec.body_text))
    return Prepared(
        url=rec.url,
        portal_id=rec.portal_id,
        keys=keys,
        document_key=_document_key(keys, rec.url),
        fields=tuple(document_columns(rec).values()),
        comparison_hash=identity.comparison_hash(rec),
        record_json=record_json,
        body_text=body,
        fts=fts,
        signature=fingerprint.signature if fingerprint is not None else None,
        bands=fingerprint.band_hashes() if fingerprint is not None else [],
        summary=_new_summary(rec.title),
        presence=token_bits(" ".join(fts)).tobytes(),
    )


RecordSource = Callable[[], Sequence[DocumentRecord]]
"""A picklable callable that returns records (a slice of a dump, of a generated corpus): ``bulk_load_sources``
calls it in the process that prepares its records, so they never pass through the writing process."""


def _prepare_piece(piece: Sequence[DocumentRecord] | RecordSource) -> list[Prepared]:
    return [prepare(rec) for rec in (piece() if callable(piece) else piece)]


def _chunks(records: Iterable[DocumentRecord], size: int) -> Iterator[list[DocumentRecord]]:
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def _prepared_pieces(
    pieces: Iterable[Sequence[DocumentRecord] | RecordSource], workers: int, ahead: int
) -> Generator[list[Prepared], None, None]:
    """``prepare`` over each piece, in order; with ``workers`` > 0 in a process pool that keeps ``ahead``
    pieces in progress while the caller writes (memory stays bounded whatever the input's length)."""
    if workers <= 0:
        for piece in pieces:
            yield _prepare_piece(piece)
        return
    with multiprocessing.Pool(workers) as pool:
        pending: deque[AsyncResult[list[Prepared]]] = deque()
        for piece in pieces:
            pending.append(pool.apply_async(_prepare_piece, (piece,)))
            if len(pending) > ahead:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def prepared_pieces(
    records: Iterable[DocumentRecord], *, batch: int, workers: int
) -> Generator[list[Prepared], None, None]:
    """``prepare`` over ``records``, in order, in pieces; with ``workers`` > 0 in that many processes,
    pieces of up to 256 records each, about two transactions (``batch``) ahead of the writer."""
    if workers <= 0:
        yield from _prepared_pieces(_chunks(records, batch), 0, 0)
        return
    piece = max(1, min(256, batch // (4 * workers)))
    yield from _prepared_pieces(_chunks(records, piece), workers, 2 * -(-batch // piece))


def _next_id(db: sqlite_utils.Database, table: str) -> int:
    (value,) = db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()
    return int(value)


def write_prepared(
    db: sqlite_utils.Database, prepared: list[Prepared], *, run_id: int | None, now: str
) -> None:
    """Insert the rows of ``prepared`` (new, distinct documents) in one write transaction.

    Ids continue each table's ``MAX(id)`` in input order, as consecutive ``record`` calls would assign
    them. Raises ``sqlite3.IntegrityError`` (and rolls back) when a URL or identity key exists.
    """
    with write_transaction(db):
        presence = PresenceBatch()
        insert_prepared(db, prepared, run_id=run_id, now=now, presence=presence)
        presence.flush(db)


def insert_prepared(
    db: sqlite_utils.Database, prepared: list[Prepared], *, run_id: int | None, now: str, presence: PresenceBatch
) -> None:
    """``write_prepared``'s rows, inside the caller's write transaction (several calls may share one);
    the documents' token presence bits are added to ``presence``, for the caller to flush once."""
    doc0, version0, event0 = (_next_id(db, table) for table in ("documents", "versions", "events"))
    documents: list[tuple[Any, ...]] = []
    versions: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    keys: list[tuple[str, int]] = []
    fts: list[tuple[Any, ...]] = []
    headings: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    fingerprints: list[tuple[Any, ...]] = []
    bands: list[tuple[int, int]] = []
    for i, p in enumerate(prepared):
        doc_id, version_id = doc0 + i, version0 + i
        documents.append((doc_id, p.document_key, *p.fields, now, now))
        versions.append(
            (version_id, doc_id, p.comparison_hash, p.record_json, p.body_text, p.url, now, run_id)
        )
        postings.append((p.url, doc_id, p.portal_id, now, now, run_id, now, p.comparison_hash))
        keys.extend((key, doc_id) for key in p.keys)
        full, heading = fts_rows(doc_id, p.fts)
        fts.append(full)
        headings.append(heading)
        bits = token_bits(" ".join(p.fts)) if p.presence is None else np.frombuffer(p.presence, np.uint32)
        presence.add(partition_of(p.fields[_REGION], p.fields[_KIND]), bits)
        events.append(
            (
                event0 + i,
                EVENT_NEW,
                doc_id,
                version_id,
                _NO_CHANGED_FIELDS,
                p.summary,
                now,
                run_id,
                p.portal_id,
                p.url,
            )
        )
        if p.signature is not None:
            fingerprints.append((version_id, doc_id, FINGERPRINT_SCHEME, p.signature))
            bands.extend((band, version_id) for band in p.bands)
    db.conn.executemany(_SQL_DOCUMENT, documents)
    db.conn.executemany(_SQL_VERSION, versions)
    # As in record(): documents and versions point at each other, and a deferred foreign key would
    # make SQLite look for children of every inserted version (documents.latest_version_id has no index).
    db.conn.executemany(_SQL_LATEST, ((version0 + i, doc0 + i) for i in range(len(prepared))))
    db.conn.executemany(_SQL_POSTING, postings)
    db.conn.executemany(_SQL_KEY, keys)
    db.conn.executemany(_SQL_FINGERPRINT, fingerprints)
    db.conn.executemany(_SQL_BAND, bands)
    db.conn.executemany(_SQL_FTS, fts)
    db.conn.executemany(_SQL_HEADING, headings)
    db.conn.executemany(_SQL_EVENT, events)


def _conflict(db: sqlite_utils.Database, written: Sequence[tuple[str, list[str]]]) -> str:
    """The first URL or identity key of ``written`` ((URL, keys) of a failed transaction's records) that
    is stored already or repeated among them."""
    seen: set[str] = set()
    for url, keys in written:
        for what, value, sql in (
            ("URL", url, "SELECT 1 FROM postings WHERE url = ?"),
            *(("identity key", key, "SELECT 1 FROM identity_keys WHERE key = ?") for key in keys),
        ):
            if value in seen or db.execute(sql, [value]).fetchone():
                return f"{what} {value!r} (of {url})"
            seen.add(value)
    return "a URL or identity key"


@contextmanager
def _recount_facets(db: sqlite_utils.Database, timings: dict[str, float] | None) -> Iterator[None]:
    try:
        yield
    finally:
        with _timed(timings, "recount_s"):
            rebuild_facet_counts(db)


@contextmanager
def _timed(timings: dict[str, float] | None, key: str) -> Iterator[None]:
    """Wall-clock seconds of the block into ``timings[key]`` (for a benchmark), when ``timings`` is given."""
    began = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - began


@contextmanager
def _unjournaled(db: sqlite_utils.Database, fresh: bool) -> Iterator[None]:
    """With ``fresh``: no rollback journal on disk (``journal_mode=MEMORY``) and no syncs
    (``synchronous=OFF``) meanwhile, then WAL again. A page is then written once, into the file, instead
    of into the WAL and again at each checkpoint (twice over for the index merge, which rewrites the whole
    full-text index in one transaction), and nothing waits for the disk. A failing batch is still rolled
    back (the journal is in memory; the final index merge runs with no journal at all, so that it does
    not hold the pages it rewrites in memory); a crash or power loss meanwhile can leave the file corrupt,
    which is why only a new file (no documents, no other connection), that the caller deletes when the
    load does not complete, is loaded this way."""
    if not fresh:
        yield
        return
    if db.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
        raise ValueError("bulk_load(fresh=True) loads only an archive without documents (a new file)")
    (synchronous,) = db.execute("PRAGMA synchronous").fetchone()
    ((mode,),) = db.execute("PRAGMA journal_mode = MEMORY").fetchall()
    if mode != "memory":
        raise ValueError(f"bulk_load(fresh=True): the archive stays in journal mode {mode} (is it open elsewhere?)")
    db.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        db.execute(f"PRAGMA synchronous = {int(synchronous)}")
        db.execute("PRAGMA journal_mode = WAL").fetchall()
        # A read first: the connection's first checkpoint after the switch fails with "database table is
        # locked" otherwise (SQLite 3.40).
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()


# The tables a bulk load writes row by row: their secondary indexes are what ``_deferred_indexes`` defers.
_LOADED_TABLES = ("documents", "versions", "postings", "identity_keys", "events", "fingerprints", "fingerprint_bands")


def deferrable_indexes(db: sqlite_utils.Database) -> dict[str, str]:
    """The secondary indexes of the tables a bulk load writes (``_LOADED_TABLES``): name -> the CREATE
    statement SQLite keeps for it. UNIQUE indexes are left out: they are constraints the load relies on (a
    URL or identity key stored twice fails its batch), and so are the tables' own keys."""
    marks = ", ".join("?" * len(_LOADED_TABLES))
    rows = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"
        " ORDER BY name",
        list(_LOADED_TABLES),
    ).fetchall()
    return {name: sql for name, sql in rows if not sql.lstrip().upper().startswith("CREATE UNIQUE")}


@contextmanager
def _deferred_indexes(db: sqlite_utils.Database, fresh: bool, timings: dict[str, float] | None = None) -> Iterator[None]:
    """With ``fresh``: every secondary index of the loaded tables (``deferrable_indexes``: the wide facet
    indexes of m009 and m010, the date, 文号 and event indexes) dropped meanwhile and built once at the end
    from the statement SQLite kept for it, a sort each, instead of written document by document (a
    write into a b-tree keyed by a date or a 文号 lands anywhere in it). 30,000 documents: writing 0.64 ->
    0.51 ms of CPU per document. The file is deleted by the caller if the load does not complete, so an
    interrupted load never leaves an archive without its indexes."""
    indexes = deferrable_indexes(db) if fresh else {}
    if indexes:
        with write_transaction(db):
            for name in indexes:
                db.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        if indexes:
            with _timed(timings, "indexes_s"), write_transaction(db):
                for sql in indexes.values():
                    db.execute(sql)


@contextmanager
def _restore_cache_size(db: sqlite_utils.Database, cache_size: int) -> Iterator[None]:
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {cache_size}")


def bulk_load(
    db: sqlite_utils.Database,
    records: Iterable[DocumentRecord],
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    batch: int = 5000,
    workers: int = 0,
    optimize: bool = True,
    fresh: bool = False,
) -> int:
    """Store ``records`` -- every one a new document -- as ``record`` would; return how many were stored.

    ``batch`` records are written per transaction. A record costs about 1 ms of CPU to prepare (comparison
    hash, CJK tokenisation, a MinHash for the 6 % without an identity key) and 0.5 ms to write;
    ``workers`` > 0 prepares them in that many processes while this one writes (``bulk_load_sources``:
    the workers also read the records). The page cache is raised to ``BULK_CACHE_KIB`` meanwhile, and
    the full-text indexes are written without incremental merging (``storage.search.bulk_index_settings``).

    With ``optimize`` (the default), the full-text indexes are merged into one segment at the end
    (``storage.search.optimize_index``: each transaction wrote a segment; merged, queries seek in one).

    ``fresh=True`` is for a new file (no documents yet, no other connection) that the caller deletes when
    the load does not complete: it is written without a journal on disk and without syncs (see
    ``_unjournaled``), then set back to WAL.

    A URL or identity key that already exists, in the archive or earlier in ``records``, raises
    ``ValueError``: the batch that contains it is rolled back, earlier batches are kept (the error message
    says how many records were stored).
    """
    pieces = prepared_pieces(records, batch=batch, workers=workers)
    return _load(db, pieces, batch=batch, run_id=run_id, now=now, optimize=optimize, fresh=fresh)


def bulk_load_sources(
    db: sqlite_utils.Database,
    sources: Iterable[RecordSource],
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    batch: int = 5000,
    workers: int = 2,
    optimize: bool = True,
    fresh: bool = False,
    timings: dict[str, float] | None = None,
) -> int:
    """``bulk_load`` of the records each source returns, in order, each source called in a worker
    process (``workers`` of them; 0: in this one): this process only writes. Sources of a few hundred
    records each keep the workers evenly busy. ``timings``, when given, receives wall-clock seconds for a
    benchmark: the writer's waits for prepared records (``wait_s``), the index merge (``merge_s``, and its CPU
    ``merge_cpu_s``), building the deferred indexes (``indexes_s``) and recounting the facets (``recount_s``)."""
    pieces = _prepared_pieces(sources, workers, 4 * max(1, workers))
    return _load(db, pieces, batch=batch, run_id=run_id, now=now, optimize=optimize, fresh=fresh, timings=timings)


def _cut(pieces: Iterable[list[Prepared]], batch: int) -> Iterator[tuple[list[Prepared], bool]]:
    """The pieces, each split where a transaction of ``batch`` records ends: (part, whether it ends its
    transaction)."""
    filled = 0
    for piece in pieces:
        while piece:
            take = min(len(piece), batch - filled)
            part, piece = piece[:take], piece[take:]
            filled = (filled + take) % batch
            yield part, filled == 0


def _next_timed(
    parts: Iterator[tuple[list[Prepared], bool]], timings: dict[str, float] | None
) -> tuple[list[Prepared], bool] | None:
    """The next part; the wait for it (the workers behind the writer) added to ``timings["wait_s"]``."""
    with _timed(timings, "wait_s"):
        return next(parts, None)


def _load(
    db: sqlite_utils.Database,
    pieces: Generator[list[Prepared], None, None],
    *,
    batch: int,
    run_id: int | None,
    now: datetime | str | None,
    optimize: bool,
    fresh: bool,
    timings: dict[str, float] | None = None,
) -> int:
    """Write the prepared pieces, ``batch`` records per transaction, each piece as it arrives: the workers
    prepare the next pieces while this process writes (regrouping whole batches first left them idle
    during each batch's writing, and this process idle while they filled the next)."""
    now = to_utc_iso(now)
    loaded = 0
    (cache_size,) = db.execute("PRAGMA cache_size").fetchone()
    with closing(pieces), _unjournaled(db, fresh):  # closing: stops the pool
        db.execute(f"PRAGMA cache_size = {min(int(cache_size), -BULK_CACHE_KIB)}")  # restored below
        with write_transaction(db):  # the facet counts' triggers off meanwhile; recounted once at the end
            suspend_facet_counts(db)
        with (
            _restore_cache_size(db, int(cache_size)),
            _recount_facets(db, timings),
            bulk_index_settings(db),
            _deferred_indexes(db, fresh, timings),
        ):
            parts = _cut(pieces, batch)
            while (part := _next_timed(parts, timings)) is not None:
                written: list[tuple[str, list[str]]] = []  # (URL, identity keys) of this transaction
                try:
                    with write_transaction(db):
                        presence = PresenceBatch()  # the token presence bits: one write per partition
                        while part is not None:
                            piece, ends = part
                            written += ((p.url, p.keys) for p in piece)
                            insert_prepared(db, piece, run_id=run_id, now=now, presence=presence)
                            part = None if ends else _next_timed(parts, timings)
                        presence.flush(db)
                except sqlite3.IntegrityError as exc:
                    if "identity_keys.key" not in str(exc) and "postings.url" not in str(exc):
                        raise
                    raise ValueError(
                        f"bulk_load: {_conflict(db, written)} is already stored or repeated; it only loads"
                        f" new, distinct documents (use storage.record to deduplicate). The failing batch of"
                        f" {len(written)} records was rolled back; {loaded} records stored before it are kept."
                    ) from exc
                loaded += len(written)
            if optimize and loaded:
                if fresh:  # no journal at all: the merge rewrites the whole index in one transaction
                    db.execute("PRAGMA journal_mode = OFF").fetchall()  # (a pending row would lock the file)
                began, cpu = time.perf_counter(), time.process_time()
                optimize_index(db)
                if timings is not None:
                    timings.update(merge_s=time.perf_counter() - began, merge_cpu_s=time.process_time() - cpu)
    return loaded
