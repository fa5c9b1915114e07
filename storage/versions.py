"""Reading stored versions back as record dicts (for diffs, alerts, feeds and the CLI).

A version dict is the stored record (``versions.record_json``, i.e. ``DocumentRecord.to_dict()`` without
``body_text``) with ``body_text`` put back, plus the version row's own columns: ``id``, ``document_id``,
``version_no``, ``url`` (the URL it was fetched from), ``created_at``, ``comparison_hash`` and ``run_id``.
It is what ``core.diffing.diff_versions`` takes.

Read-only: nothing here opens a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

__all__ = [
    "get_document",
    "get_version",
    "get_version_by_no",
    "latest_versions",
    "list_versions",
    "versions_of_event",
]

_COLUMNS = "id, document_id, version_no, comparison_hash, record_json, body_text, url, created_at, run_id"


def _version(row: Sequence[Any]) -> dict[str, Any]:
    vid, document_id, version_no, comparison_hash, record_json, body_text, url, created_at, run_id = row
    data: dict[str, Any] = json.loads(record_json)
    data["body_text"] = body_text
    data.update(
        id=vid,
        document_id=document_id,
        version_no=version_no,
        url=url,
        created_at=created_at,
        comparison_hash=comparison_hash,
        run_id=run_id,
    )
    return data


def get_version(db: sqlite_utils.Database, version_id: int) -> dict[str, Any] | None:
    """The version ``version_id`` as a record dict (with ``body_text``), or None if there is none."""
    row = db.execute(f"SELECT {_COLUMNS} FROM versions WHERE id = ?", [version_id]).fetchone()
    return _version(row) if row else None


def get_version_by_no(db: sqlite_utils.Database, document_id: int, version_no: int) -> dict[str, Any] | None:
    """Version number ``version_no`` (1-based, per document) of ``document_id``, or None."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM versions WHERE document_id = ? AND version_no = ?", [document_id, version_no]
    ).fetchone()
    return _version(row) if row else None


def list_versions(db: sqlite_utils.Database, document_id: int) -> list[dict[str, Any]]:
    """All versions of ``document_id`` in ascending ``version_no`` order, bodies included."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM versions WHERE document_id = ? ORDER BY version_no", [document_id]
    ).fetchall()
    return [_version(row) for row in rows]


def latest_versions(db: sqlite_utils.Database, document_id: int, count: int = 2) -> list[dict[str, Any]]:
    """The last ``count`` versions of ``document_id``, oldest first (cheaper than ``list_versions``)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM versions WHERE document_id = ? ORDER BY version_no DESC LIMIT ?",
        [document_id, count],
    ).fetchall()
    return [_version(row) for row in reversed(rows)]


def get_document(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    """The ``documents`` row as a dict (column name -> value; ``deputies`` stays JSON text), or None."""
    cursor = db.execute("SELECT * FROM documents WHERE id = ?", [document_id])
    row = cursor.fetchone()
    if row is None:
        return None
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


def versions_of_event(
    db: sqlite_utils.Database, event_id: int
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``(previous, current)`` versions of event ``event_id``; previous is None for a ``new`` event.

    Raises ``LookupError`` when the event does not exist or carries no version (a ``withdrawn`` event or
    an operational one).
    """
    row = db.execute("SELECT version_id, prev_version_id FROM events WHERE id = ?", [event_id]).fetchone()
    if row is None:
        raise LookupError(f"no event {event_id}")
    version_id, prev_version_id = row
    current = get_version(db, version_id) if version_id is not None else None
    if current is None:
        raise LookupError(f"event {event_id} has no version")
    previous = get_version(db, prev_version_id) if prev_version_id is not None else None
    return previous, current
