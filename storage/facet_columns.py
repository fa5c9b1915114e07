"""Every document's facet values in memory: facet counts over any set of documents (a search's matches).

Grouping a set of documents by the table's seven facet columns reads each one's row: 1.4 s for the
654,013 documents of 异地就医 in a 1,000,000-document archive. Here each document id maps to its
*combination* of facet values (one int32 per id; a 1M archive has a few hundred combinations), so the
facets of a set of ids are a ``numpy.bincount`` of their combinations, summed per value
(``storage.browse.summed_facets``, as the kept ``facet_groups`` are).

The array follows the archive. Before counting, ``refresh`` reads, in one read transaction, what changed
since its last read: the documents above the highest id it has seen and the ``facet_changes`` entries
(migration m013: a document whose facet columns changed, or that was deleted) after the last one it saw.
The first read loads every document (3-4 s at 1M documents), which the web server starts in the
background (``warm``) so that no request waits for it unless it comes first.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from storage.browse import FACET_COLUMNS, FacetCounts, summed_facets
from storage.db import open_reader

_NAMES = ", ".join(FACET_COLUMNS)
_POSITION = {column: i for i, column in enumerate(FACET_COLUMNS)}
NO_DOCUMENT = -1


class FacetColumns:
    """The facet-value combination of every document of one archive file, kept current by ``refresh``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None
        self._reset()

    def _reset(self) -> None:
        self.groups: list[tuple[Any, ...]] = []
        self._group_of: dict[tuple[Any, ...], int] = {}
        self.codes = np.full(0, NO_DOCUMENT, dtype=np.int32)
        self.top = 0  # the highest document id when last read
        self.seq: int | None = None  # the last facet_changes entry read; None: nothing loaded yet

    def _connect(self) -> sqlite3.Connection:
        stat = os.stat(self.path)
        if self._conn is None or self._file != (stat.st_dev, stat.st_ino):  # first use, or a new file there
            if self._conn is not None:
                self._conn.close()
            self._conn = open_reader(self.path)
            self._file = (stat.st_dev, stat.st_ino)
            self._reset()
        return self._conn

    def refresh(self) -> None:
        """Read what changed since the last read (everything, the first time)."""
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN")
            try:
                seq = _last_change(conn)
                (top,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
                if self.seq is None or seq < self.seq:  # first read, or the log was rebuilt
                    self._reset()
                    self._store(conn.execute(f"SELECT id, {_NAMES} FROM documents"))
                else:
                    changed = [i for (i,) in conn.execute(
                        "SELECT document_id FROM facet_changes WHERE seq > ? AND document_id <= ?",
                        [self.seq, self.top],
                    )]  # fmt: skip
                    if changed:
                        self.codes[np.asarray(changed, dtype=np.int64)] = NO_DOCUMENT  # deleted unless read below
                        self._store(conn.execute(
                            f"SELECT id, {_NAMES} FROM documents WHERE id IN (SELECT value FROM json_each(?))",
                            [json.dumps(changed)],
                        ))  # fmt: skip
                    self._store(conn.execute(f"SELECT id, {_NAMES} FROM documents WHERE id > ?", [self.top]))
                self.seq = seq
                # the highest id now, lower than before when the highest documents were deleted: a new row
                # takes the highest id plus one, so the next read finds it above this one
                self.top = int(top)
            finally:
                conn.execute("COMMIT")

    def _store(self, rows: Iterable[tuple[Any, ...]]) -> None:
        ids: list[int] = []
        codes: list[int] = []
        group_of = self._group_of
        for row in rows:
            combination = row[1:]
            code = group_of.get(combination)
            if code is None:
                code = group_of[combination] = len(self.groups)
                self.groups.append(combination)
            ids.append(row[0])
            codes.append(code)
        if not ids:
            return
        top = max(ids)
        if top >= len(self.codes):
            grown = np.full(max(top + 1, 2 * len(self.codes)), NO_DOCUMENT, dtype=np.int32)
            grown[: len(self.codes)] = self.codes
            self.codes = grown
        self.codes[np.asarray(ids, dtype=np.int64)] = np.asarray(codes, dtype=np.int32)

    def counts(
        self, ids: np.ndarray, columns: Sequence[str], selected: Sequence[tuple[str, str]] = ()
    ) -> FacetCounts:
        """Each facet of ``columns`` over the documents ``ids`` that have every (column, value) of
        ``selected``: values most frequent first, NULL left out (as ``storage.browse.facet_counts``)."""
        unknown = [c for c in [*columns, *(c for c, _ in selected)] if c not in _POSITION]
        if unknown:
            raise ValueError(f"not a facet column: {unknown[0]!r}")
        self.refresh()
        with self._lock:
            ids = np.asarray(ids, dtype=np.int64)
            codes = self.codes[ids[(ids >= 0) & (ids < len(self.codes))]]
            tally = np.bincount(codes[codes != NO_DOCUMENT], minlength=len(self.groups))
            groups = self.groups
        positions = [_POSITION[c] for c in columns]
        wanted = [(_POSITION[c], v) for c, v in selected]
        rows = [
            (*(groups[g][p] for p in positions), int(tally[g]))
            for g in np.flatnonzero(tally)
            if all(groups[g][p] == v for p, v in wanted)
        ]
        return summed_facets(columns, rows)


def _last_change(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'facet_changes'").fetchone()
    return int(row[0]) if row else 0


_KEPT: dict[str, FacetColumns] = {}
_KEPT_LOCK = threading.Lock()


def for_archive(path: str) -> FacetColumns:
    """The process's ``FacetColumns`` of the archive file ``path`` (one per file, shared by threads)."""
    key = os.path.realpath(path)
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
        if kept is None:
            kept = _KEPT[key] = FacetColumns(key)
        return kept


def warm(path: str) -> threading.Thread:
    """Load the archive's facet values in a background thread (the web server's start)."""
    thread = threading.Thread(target=for_archive(path).refresh, name="yibao-facet-columns", daemon=True)
    thread.start()
    return thread
