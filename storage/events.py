"""Change events: what the archive reports (and, through the outbox, what gets alerted)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from storage.db import to_utc_iso
from storage.filters import filtered_select

EVENT_NEW = "new"
EVENT_EDITED = "edited"
EVENT_VALIDITY_CHANGED = "validity_changed"
EVENT_METADATA_CHANGED = "metadata_changed"
EVENT_WITHDRAWN = "withdrawn"
EVENT_REAPPEARED = "reappeared"
EVENT_SUPERSEDED = "superseded"  # a newer policy replaced or abolished the document (storage.citations)
EVENT_EXPIRED = "expired"  # the term its text states (有效期) has passed (storage.citations)
DOCUMENT_EVENT_KINDS = (
    EVENT_NEW,
    EVENT_EDITED,
    EVENT_VALIDITY_CHANGED,
    EVENT_METADATA_CHANGED,
    EVENT_WITHDRAWN,
    EVENT_REAPPEARED,
    EVENT_SUPERSEDED,
    EVENT_EXPIRED,
)


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    document_id: int | None
    version_id: int | None
    prev_version_id: int | None
    changed_fields: tuple[str, ...]
    summary: str
    created_at: str
    run_id: int | None
    portal_id: str | None
    url: str | None


_COLUMNS = (
    "id, kind, document_id, version_id, prev_version_id, changed_fields, summary, created_at, run_id,"
    " portal_id, url"
)


def _event(row: Sequence[Any]) -> Event:
    values = list(row)
    values[5] = tuple(json.loads(values[5]))
    return Event(*values)


def add_event(
    db: sqlite_utils.Database,
    *,
    kind: str,
    document_id: int | None,
    now: str,
    version_id: int | None = None,
    prev_version_id: int | None = None,
    changed_fields: Sequence[str] = (),
    summary: str = "",
    run_id: int | None = None,
    portal_id: str | None = None,
    url: str | None = None,
) -> Event:
    """Insert an event (call inside the write transaction of the change it reports)."""
    cursor = db.execute(
        "INSERT INTO events (kind, document_id, version_id, prev_version_id, changed_fields, summary,"
        " created_at, run_id, portal_id, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            kind,
            document_id,
            version_id,
            prev_version_id,
            json.dumps(list(changed_fields)),
            summary,
            now,
            run_id,
            portal_id,
            url,
        ],
    )
    return Event(
        cursor.lastrowid or 0,
        kind,
        document_id,
        version_id,
        prev_version_id,
        tuple(changed_fields),
        summary,
        now,
        run_id,
        portal_id,
        url,
    )


def get_event(db: sqlite_utils.Database, event_id: int) -> Event | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", [event_id]).fetchone()
    return _event(row) if row else None


def list_events(
    db: sqlite_utils.Database,
    *,
    since: datetime | str | None = None,
    kind: str | Sequence[str] | None = None,
    portal_id: str | None = None,
    run_id: int | None = None,
    document_id: int | None = None,
    limit: int | None = None,
) -> list[Event]:
    """Events in creation order, filtered by ``created_at >= since``, kind(s), portal, run or document."""
    sql, params = filtered_select(
        _COLUMNS, "events", since=("created_at", to_utc_iso(since) if since is not None else None),
        any_of=("kind", kind), equal=(("portal_id", portal_id), ("run_id", run_id), ("document_id", document_id)),
        limit=limit,
    )
    return [_event(row) for row in db.execute(sql, params)]


def last_event_kind(db: sqlite_utils.Database, portal_id: str, kinds: Sequence[str]) -> str | None:
    """The kind of the portal's latest event of one of ``kinds`` (None if it has none)."""
    if not kinds:
        return None
    row = db.execute(
        f"SELECT kind FROM events WHERE portal_id = ? AND kind IN ({', '.join('?' * len(kinds))})"
        " ORDER BY id DESC LIMIT 1",
        [portal_id, *kinds],
    ).fetchone()
    return row[0] if row else None
