"""Opening the archive and running write transactions.

Every writer (crawl subprocesses, the scheduler, the dispatcher) opens the same SQLite file with
``open_db`` and wraps each fact in ``write_transaction``: ``BEGIN IMMEDIATE`` takes the write lock up
front, so concurrent writers queue on ``busy_timeout`` instead of failing with "database is locked"
halfway through a transaction (the deferred-BEGIN upgrade deadlock).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000
PAGE_CACHE_KIB = 32 * 1024


def open_db(
    path: str | Path, *, migrate: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> sqlite_utils.Database:
    """Open (creating if needed) the archive: WAL, busy_timeout, foreign keys on, synchronous=NORMAL.

    Runs pending migrations unless ``migrate=False``. Safe to call from several processes at once.
    """
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    # SQLite's default page cache is 2 MB: a crawl writing documents (a dozen indexes on documents, the
    # full-text index flushed at each commit) then reads the same pages back from the OS on every batch.
    # 32 MB, taken only as pages are used, cut the store's CPU per document by about a tenth (pipeline_bench).
    db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    if migrate:
        from storage.migrations import migrate as run_migrations

        run_migrations(db)
    return db


def open_reader(path: str) -> sqlite3.Connection:
    """A read-only connection to the archive file ``path`` (no migrations), usable from any thread, with
    the archive's page cache: for readers beside the caller's connection (``storage.rowid_ranges``,
    ``storage.facet_columns``)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    return conn


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any exception).

    Nested use (a transaction is already open on this connection) becomes a savepoint, so a caller may
    group several ``record()`` calls into one transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def utc_now() -> str:
    """The current time as ``*_at`` text. Call only at an API edge (a ``now=None`` default)."""
    return to_utc_iso(datetime.now(UTC))


def to_utc_iso(value: datetime | str | None) -> str:
    """``*_at`` text: UTC ISO-8601 with seconds and a ``Z``. Strings are trusted as already formatted;
    naive datetimes are refused (they are the usual source of 8-hour bugs)."""
    if value is None:
        return utc_now()
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC) or an ISO string")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
