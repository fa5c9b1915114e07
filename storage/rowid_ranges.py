"""Reading every match of a common query with every core: one read connection per rowid range.

An exact count of a phrase found in nearly every document evaluates the phrase over every document:
FTS5 decodes the positions of each of its bigrams in each of them (医保基金 at 1,000,000 documents:
994,509 matches, 0.7-1.1 s on one core). FTS5 seeks its doclists to a rowid range, and Python's
sqlite3 releases the GIL while a statement steps, so the ranges are read side by side, each on its
own connection, by one statement each that aggregates in SQLite (``COUNT(*)``, ``group_concat(rowid)``)
and returns one value.

Each range is read in its own transaction: a crawl committing while the ranges are read can be seen
by some ranges and not others, so the result is exact for the archive as it was at some moment of the
read, with at most the documents that commit touched seen with their old or new text.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlite_utils

from storage.db import open_reader

MIN_DOCUMENTS = 200_000
"""Below this many ids one connection counts: opening more costs more than it saves."""

MAX_SHARDS = 4


def shards() -> int:
    """How many ranges to count side by side: the cores this process may use, at most ``MAX_SHARDS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_SHARDS, cores))


def archive_file(db: sqlite_utils.Database) -> str | None:
    """The file of the connection's main database; None for an in-memory or temporary one."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or None
    return None


def file_to_split(db: sqlite_utils.Database, top: int) -> str | None:
    """The archive's file when its ids 1..``top`` are worth reading by ranges; None when they are not
    (fewer than ``MIN_DOCUMENTS``, one core, an in-memory archive)."""
    if shards() < 2 or top < MIN_DOCUMENTS:
        return None
    return archive_file(db)


def each_range(db: sqlite_utils.Database, sql: str, params: list[Any], top: int) -> list[Any] | None:
    """The one value that ``sql`` (a statement whose WHERE clause ends it, over ``documents_fts``:
    ``SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH ?``) gives for each range of the rowids
    1..``top``, the ranges read side by side, in rowid order.

    None when it is not worth it (``file_to_split``): the caller reads on its own connection then.
    """
    path = file_to_split(db, top)
    if path is None:
        return None
    n = shards()
    bounds = [top * i // n for i in range(n + 1)]
    ranged = f"{sql} AND documents_fts.rowid > ? AND documents_fts.rowid <= ?"

    def read(lo: int, hi: int) -> Any:
        conn = _borrow(path)
        try:
            return conn.execute(ranged, [*params, lo, hi]).fetchone()[0]
        finally:
            _give_back(path, conn)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="yibao-ranges") as pool:
        return list(pool.map(read, bounds[:-1], bounds[1:]))


# Read connections kept between counts: a new one starts with an empty page cache, and reading the
# doclists' pages into it again cost about a third more CPU than the count itself on a warm one.
_idle: dict[str, list[sqlite3.Connection]] = {}
_idle_lock = threading.Lock()


def _borrow(path: str) -> sqlite3.Connection:
    with _idle_lock:
        idle = _idle.get(path)
        if idle:
            return idle.pop()
    return open_reader(path)


def _give_back(path: str, conn: sqlite3.Connection) -> None:
    with _idle_lock:
        idle = _idle.setdefault(path, [])
        if len(idle) < MAX_SHARDS:
            idle.append(conn)
            return
    conn.close()
