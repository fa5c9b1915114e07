"""Read models: what the readers of the archive look at, assembled in one place.

- ``DocumentView`` (``load_document``): a document's ``documents`` row, its latest version's record (body
  included), the URLs it was seen at (postings) and the portals they are on, and -- with ``history`` -- every
  version (its record and the event that made it) and every event. Watcher filters and routing, the web
  UI's document page and ``yibao show`` read it.
- ``EventView`` (``load_event`` / ``event_views``): an event with its document *as of the event's version*
  (the row holds the latest fields; an alert about version 2 must show version 2's), the diff inputs
  (previous and current version) and the source URL. Alert messages, the webhook payload and the Atom feed
  read it; ``EventView.changes`` is the ``core.diffing.ChangeSet`` a reader sees.
- ``PortalStats`` (``portal_stats``): per portal, the documents posted on it, recent events and runs
  (``yibao status``).

Read-only: nothing here opens a transaction, so the views can be built inside a caller's write
transaction (routing runs inside the event's) as well as on Datasette's read-only connections.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlite_utils

from core import fields as registry
from storage.db import to_utc_iso
from storage.events import _COLUMNS as _EVENT_COLUMNS
from storage.events import Event, _event, get_event
from storage.runs import Run, last_runs
from storage.versions import get_document, get_version, list_versions

if TYPE_CHECKING:
    from core.diffing import ChangeSet
    from core.records import DocumentRecord

__all__ = [
    "DocumentView",
    "EventView",
    "PortalStats",
    "PostingView",
    "VersionView",
    "as_of",
    "document_columns",
    "event_views",
    "load_document",
    "load_event",
    "portal_stats",
]


# --- the documents row from a record ----------------------------------------------------------


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def _column_value(name: str, value: Any) -> Any:
    if name == "meeting":
        return registry.show_meeting(value)
    if name == "deputies":
        return json.dumps(list(value or []), ensure_ascii=False)
    return value


def document_columns(record: DocumentRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The ``documents`` columns a record (``DocumentRecord`` or record dict) sets: each registry field's
    ``column`` (``core.fields``); ``meeting`` is kept as its text (``meeting_text``), ``deputies`` as JSON."""
    return {
        f.column: _column_value(f.name, _get(record, f.name))
        for f in registry.FIELDS
        if f.column is not None
    }


def as_of(row: Mapping[str, Any], version: Mapping[str, Any]) -> dict[str, Any]:
    """The ``documents`` row as it was when ``version`` was the latest: its record's fields over the row's
    (the archive's own columns -- status, first seen ... -- stay as they are now)."""
    return {**row, **document_columns(version)}


# --- documents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingView:
    """A URL the document was seen at."""

    url: str
    portal_id: str
    column: str | None
    status: str  # active | gone
    first_seen_at: str
    last_seen_at: str


@dataclass(frozen=True)
class VersionView:
    """One version: its number, when and where it was fetched, its record (``storage.versions`` dict,
    body included) and the event that made it (``new``, ``edited`` ...; None for a version no event
    points at, as in an archive bulk-loaded without events)."""

    id: int
    no: int
    created_at: str
    url: str
    record: dict[str, Any]
    event: Event | None


@dataclass(frozen=True)
class DocumentView:
    """A document as its readers see it (see the module docstring). ``versions`` and ``events`` are None
    unless loaded with ``history=True`` (oldest first then)."""

    row: dict[str, Any]  # the documents row as stored (``deputies`` as JSON text)
    latest: dict[str, Any]  # the latest version's record dict, body included
    postings: tuple[PostingView, ...]
    versions: tuple[VersionView, ...] | None = None
    events: tuple[Event, ...] | None = None

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def title(self) -> str:
        return str(self.latest.get("title") or self.row.get("title") or "")

    @property
    def body_text(self) -> str:
        return str(self.latest.get("body_text") or "")

    @property
    def portals(self) -> tuple[str, ...]:
        """Every portal the document is posted on (gone postings included), sorted."""
        return tuple(sorted({p.portal_id for p in self.postings}))

    def as_mapping(self) -> dict[str, Any]:
        """The ``documents`` row with ``body_text`` (latest version) and ``portals``: what watcher filters
        and routing look at."""
        return {**self.row, "body_text": self.body_text, "portals": self.portals}

    def value(self, name: str) -> Any:
        """Field ``name`` (registry name): the latest version's value, else the row's (the archive's own
        columns, and what a record lacks)."""
        f = registry.field(name)
        value = self.latest.get(f.name) if f.record else None
        if value in (None, "", [], {}) and f.column is not None:
            value = self.row.get(f.column)
        return value

    def shown(self, names: Sequence[str] = registry.SHOW_ORDER) -> list[tuple[str, str, str, str]]:
        """``(name, 中文, English, text)`` for each of ``names`` that has something to show."""
        out = []
        for name, zh, en in registry.show_fields(names):
            text = registry.display(name, self.value(name))
            if text:
                out.append((name, zh, en, text))
        return out

    def diff_inputs(self) -> Iterator[tuple[dict[str, Any] | None, VersionView]]:
        """``(previous record or None, version)`` for every version, newest first (needs ``history``)."""
        if self.versions is None:
            raise ValueError("load the document with history=True for its versions")
        for index in range(len(self.versions) - 1, -1, -1):
            previous = self.versions[index - 1].record if index else None
            yield previous, self.versions[index]


_POSTING_SQL = (
    "SELECT url, portal_id, column_name, status, first_seen_at, last_seen_at FROM postings"
    " WHERE document_id = ? ORDER BY first_seen_at, rowid"
)


def _postings(db: sqlite_utils.Database, document_id: int) -> tuple[PostingView, ...]:
    return tuple(PostingView(*row) for row in db.execute(_POSTING_SQL, [document_id]))


def _events_of(db: sqlite_utils.Database, document_id: int) -> tuple[Event, ...]:
    sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE document_id = ? ORDER BY id"
    return tuple(_event(row) for row in db.execute(sql, [document_id]))


def _made_by(events: Iterable[Event]) -> dict[int, Event]:
    """The event that made each version: ``new``, or one with a previous version (withdrawn and
    reappeared events without a content change point at the latest version too)."""
    made: dict[int, Event] = {}
    for event in events:
        if event.version_id is not None and (event.kind == "new" or event.prev_version_id is not None):
            made.setdefault(event.version_id, event)
    return made


def load_document(db: sqlite_utils.Database, document_id: int, *, history: bool = False) -> DocumentView | None:
    """The ``DocumentView`` of ``document_id`` (None if there is none); ``history=True`` also loads every
    version (bodies included) and event."""
    row = get_document(db, document_id)
    if row is None:
        return None
    latest = get_version(db, row["latest_version_id"]) if row.get("latest_version_id") else None
    if latest is None:  # not possible once record() committed; an empty record rather than a crash
        latest = {}
    versions = events = None
    if history:
        events = _events_of(db, document_id)
        made = _made_by(events)
        versions = tuple(
            VersionView(v["id"], v["version_no"], v["created_at"], v["url"], v, made.get(v["id"]))
            for v in list_versions(db, document_id)
        )
    return DocumentView(row, latest, _postings(db, document_id), versions, events)


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    """An event with what a reader of it is shown (see the module docstring).

    ``document`` is the ``documents`` row as of the event's version (``as_of``), with that version's
    ``body_text`` and the document's ``portals``; None for operational events (no document). ``current``
    is the event's version (a ``withdrawn`` event points at the latest version), ``previous`` the one
    before it (None for ``new``). ``source_url`` is the event's URL, else the document's first posting.
    """

    event: Event
    document: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
    source_url: str | None = None
    postings: tuple[PostingView, ...] = field(default=())

    @property
    def has_diff(self) -> bool:
        """The event made a version (``new``, or a change with a previous version): it has a diff."""
        e = self.event
        return (
            self.current is not None
            and e.kind != "withdrawn"
            and (e.prev_version_id is not None or e.kind == "new")
        )

    @cached_property
    def changes(self) -> ChangeSet | None:
        """The ``ChangeSet`` of the event's version (None when it made none: withdrawn, ops events)."""
        if not self.has_diff:
            return None
        from core.diffing import diff_versions

        assert self.current is not None
        return diff_versions(self.previous, self.current)

    @property
    def title(self) -> str:
        """The document's title at that version ("" for an operational event)."""
        return str(self.document.get("title") or "") if self.document is not None else ""

    def value(self, name: str) -> Any:
        """Field ``name`` (registry name) as of the event: the version's record, else the row."""
        f = registry.field(name)
        value = self.current.get(f.name) if (self.current is not None and f.record) else None
        if value in (None, "", [], {}) and self.document is not None and f.column is not None:
            value = self.document.get(f.column)
        return value

    def shown(self, names: Sequence[str] = registry.EVENT_FIELDS) -> list[tuple[str, str, str, str]]:
        """``(name, 中文, English, text)`` for each of ``names`` with something to show (default: the
        fields a message about an event lists)."""
        if self.document is None:
            return []
        out = []
        for name, zh, en in registry.show_fields(names):
            text = registry.display(name, self.value(name))
            if text:
                out.append((name, zh, en, text))
        return out


def _event_view(db: sqlite_utils.Database, event: Event) -> EventView:
    if event.document_id is None:
        return EventView(event, source_url=event.url)
    row = get_document(db, event.document_id)
    if row is None:
        return EventView(event, source_url=event.url)
    postings = _postings(db, event.document_id)
    current = get_version(db, event.version_id) if event.version_id is not None else None
    if current is None:
        current = get_version(db, row["latest_version_id"]) if row.get("latest_version_id") else None
    previous = get_version(db, event.prev_version_id) if event.prev_version_id is not None else None
    document = as_of(row, current) if current is not None else dict(row)
    document["body_text"] = (current or {}).get("body_text") or ""
    document["portals"] = tuple(sorted({p.portal_id for p in postings}))
    source = event.url or (postings[0].url if postings else None)
    if event.version_id is None:
        current = None  # an event about no version has no diff inputs (its document is the latest)
    return EventView(event, document, previous, current, source, postings)


def load_event(db: sqlite_utils.Database, event_id: int) -> EventView | None:
    """The ``EventView`` of ``event_id``, or None if there is no such event."""
    event = get_event(db, event_id)
    return _event_view(db, event) if event is not None else None


def event_views(db: sqlite_utils.Database, events: Iterable[Event]) -> list[EventView]:
    """An ``EventView`` per event, in the order given."""
    return [_event_view(db, e) for e in events]


# --- portals -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalStats:
    """A portal at a glance: documents posted on it (any posting), its events since ``since`` and its
    latest runs (newest first)."""

    portal_id: str
    documents: int
    events_since: int
    since: str
    runs: tuple[Run, ...]

    @property
    def last_finished(self) -> Run | None:
        """The latest run that finished."""
        return next((r for r in self.runs if r.finished_at), None)


def portal_stats(
    db: sqlite_utils.Database, portal_id: str, *, since: datetime | str, runs: int = 20
) -> PortalStats:
    """``PortalStats`` of ``portal_id``: events counted from ``since`` (UTC), the latest ``runs`` runs."""
    since_iso = to_utc_iso(since)
    (documents,) = db.execute(
        "SELECT COUNT(DISTINCT document_id) FROM postings WHERE portal_id = ?", [portal_id]
    ).fetchone()
    (events,) = db.execute(
        "SELECT COUNT(*) FROM events WHERE portal_id = ? AND created_at >= ?", [portal_id, since_iso]
    ).fetchone()
    return PortalStats(portal_id, int(documents), int(events), since_iso, tuple(last_runs(db, portal_id, limit=runs)))
