"""Querying the archive: document filters, streamed document export, events, one document in full.

Used by ``yibao search / show / events / export`` (``cli/query.py``) and the web UI.

``DocumentFilter`` is a set of facets, each a tuple of accepted values (an empty tuple means "any");
a document matches when it passes every facet that is set. ``where()`` turns it into one SQL boolean
expression over the ``documents`` table, so the same filter runs inside the ranked full-text query
(``storage.search.search``), in ``count_documents`` and in ``iter_documents``.

Dates: ``since``/``until`` compare with ``documents.published_on`` (ISO dates), both inclusive; a year
(``2025``) or a month (``2025-03``) is widened to its first day for ``since`` and its last day for
``until``. A document without ``published_on`` never passes a date bound.

Read-only: nothing here opens a write transaction.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

from core.records import KINDS
from storage.db import to_utc_iso
from storage.events import _COLUMNS as _EVENT_COLUMNS
from storage.events import Event, _event
from storage.views import load_document

if TYPE_CHECKING:
    from storage.search import Query

__all__ = [
    "EXPORT_FIELDS",
    "STATUSES",
    "DocumentFilter",
    "FilterError",
    "count_documents",
    "document_titles",
    "iter_documents",
    "list_events_filtered",
    "normalise_date",
    "region_pattern",
    "show_document",
]

STATUSES = ("active", "withdrawn")
REPLY_CLASSES = {"A": "A", "B": "B", "C": "C", "D": "D", "甲": "A", "乙": "B", "丙": "C", "丁": "D"}
EXPORT_FIELDS = (
    "id", "title", "kind", "bureau", "region_code", "doc_no", "index_no", "proposal_no", "meeting",
    "deputies", "reply_class", "adoption", "validity", "status", "published_on", "generated_on",
    "first_seen_at", "last_changed_at", "withdrawn_at", "versions", "urls", "body_text",
)  # fmt: skip

_DATE = re.compile(r"([0-9]{4})(?:[-/.]([0-9]{1,2})(?:[-/.]([0-9]{1,2}))?)?")
_REGION = re.compile(r"[0-9]{6}")
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_TUPLE_FIELDS = ("portals", "regions", "kinds", "classes", "statuses", "validity", "deputies", "adoption", "cites")


class FilterError(ValueError):
    """A filter value that cannot be used (a malformed date or region code, an unknown kind...)."""


def normalise_date(value: str, *, end: bool = False) -> str:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (``/`` or ``.`` also accepted) as an ISO date: the first
    day of the year/month, or with ``end=True`` the last one."""
    m = _DATE.fullmatch(value.strip())
    if m is None:
        raise FilterError(f"not a date: {value!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(m[1])
    month = int(m[2]) if m[2] else (12 if end else 1)
    try:
        last = calendar.monthrange(year, month)[1]
        day = int(m[3]) if m[3] else (last if end else 1)
        return date(year, month, day).isoformat()
    except ValueError:
        raise FilterError(f"not a date: {value!r}") from None


def region_pattern(code: str) -> str:
    """The GLOB pattern of the region codes under ``code``: 350000 (a province) -> ``35????``, 350200 (a
    city) -> ``3502??``, 350203 -> itself. Same rule as the watchers' ``regions`` filter."""
    if not _REGION.fullmatch(code):
        raise FilterError(f"not a six-digit region code: {code!r}")
    prefix = code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix + "?" * (6 - len(prefix))


def _compact(value: str) -> str:
    """A name or status as the normalizer stores it: no spaces (``张  三`` -> ``张三``, as letters pad
    two-character names)."""
    return re.sub(r"\s+", "", value)


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(dict.fromkeys(str(v) for v in value))


@dataclass(frozen=True)
class DocumentFilter:
    """Facets of a document query; see the module docstring. Values are validated and normalised on
    construction (lists become tuples, 甲/a become A, dates become ISO dates); bad ones raise
    ``FilterError``."""

    portals: tuple[str, ...] = ()  # posted on one of these portals (any posting, gone ones included)
    regions: tuple[str, ...] = ()  # GB/T 2260 codes, a province or city code covering what lies under it
    kinds: tuple[str, ...] = ()  # documents.kind (core.records.KINDS)
    classes: tuple[str, ...] = ()  # reply_class A/B/C/D (答复类别)
    statuses: tuple[str, ...] = ()  # active / withdrawn
    validity: tuple[str, ...] = ()  # 有效 / 失效 / ... as stored
    deputies: tuple[str, ...] = ()  # one of these names among the 代表/委员 (exact, spaces ignored)
    adoption: tuple[str, ...] = ()  # 采纳情况 of a point in the latest version: 部分采纳, 留作参考 ...
    since: str | None = None  # published_on >= (inclusive)
    until: str | None = None  # published_on <= (inclusive)
    cites: tuple[str, ...] = ()  # its latest version cites one of these 文号 or titles (storage.citations)

    def __post_init__(self) -> None:
        for name in _TUPLE_FIELDS:
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        for name in ("deputies", "adoption"):
            values = tuple(dict.fromkeys(v for v in map(_compact, getattr(self, name)) if v))
            object.__setattr__(self, name, values)
        for code in self.regions:
            region_pattern(code)
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise FilterError(f"unknown kind {unknown[0]!r}; known: {', '.join(KINDS)}")
        classes = []
        for value in self.classes:
            if value.upper() not in REPLY_CLASSES:
                raise FilterError(f"unknown reply class {value!r}; known: A, B, C, D (甲, 乙, 丙, 丁)")
            classes.append(REPLY_CLASSES[value.upper()])
        object.__setattr__(self, "classes", tuple(dict.fromkeys(classes)))
        bad = [s for s in self.statuses if s not in STATUSES]
        if bad:
            raise FilterError(f"unknown status {bad[0]!r}; known: {', '.join(STATUSES)}")
        if self.since is not None:
            object.__setattr__(self, "since", normalise_date(self.since))
        if self.until is not None:
            object.__setattr__(self, "until", normalise_date(self.until, end=True))

    @property
    def empty(self) -> bool:
        """True when the filter lets every document through."""
        return not any(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict[str, Any]:
        """The facets that are set (JSON-safe)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if v}

    def where(self, alias: str = "d") -> tuple[str, list[Any]]:
        """An SQL boolean expression over ``documents AS alias`` (``"1"`` when empty) and its params."""
        if not _ALIAS.fullmatch(alias):
            raise ValueError(f"not an SQL alias: {alias!r}")
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Sequence[str]) -> None:
            if values:
                clauses.append(f"{alias}.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)

        if self.portals:
            clauses.append(
                f"EXISTS (SELECT 1 FROM postings p WHERE p.document_id = {alias}.id"
                f" AND p.portal_id IN ({', '.join('?' * len(self.portals))}))"
            )
            params.extend(self.portals)
        if self.regions:
            clauses.append("(" + " OR ".join(f"{alias}.region_code GLOB ?" for _ in self.regions) + ")")
            params.extend(region_pattern(code) for code in self.regions)
        any_of("kind", self.kinds)
        any_of("reply_class", self.classes)
        any_of("status", self.statuses)
        any_of("validity", self.validity)
        # deputies and the latest version's adoption terms: from the tables the triggers of migration
        # m006 keep (an index lookup, not the JSON of every document)
        if self.deputies:
            clauses.append(
                f"{alias}.id IN (SELECT document_id FROM document_deputies"
                f" WHERE name IN ({', '.join('?' * len(self.deputies))}))"
            )
            params.extend(self.deputies)
        if self.adoption:
            clauses.append(
                f"{alias}.id IN (SELECT document_id FROM document_adoption"
                f" WHERE term IN ({', '.join('?' * len(self.adoption))}))"
            )
            params.extend(self.adoption)
        if self.since is not None:
            clauses.append(f"{alias}.published_on >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{alias}.published_on <= ?")
            params.append(self.until)
        if self.cites:
            from storage.citations import cites_where

            clause, values = cites_where(self.cites, alias)
            clauses.append(clause)
            params.extend(values)
        return (" AND ".join(clauses) if clauses else "1"), params


# --- documents -----------------------------------------------------------------------------------

_EXPORT_SQL = (
    "SELECT d.id, d.title, d.kind, d.bureau, d.region_code, d.doc_no, d.index_no, d.proposal_no,"
    " d.meeting_text, d.deputies, d.reply_class, json_extract(v.record_json, '$.adoption'), d.validity,"
    " d.status, d.published_on, d.generated_on, d.first_seen_at, d.last_changed_at, d.withdrawn_at,"
    " v.version_no, v.body_text"
    " FROM documents d LEFT JOIN versions v ON v.id = d.latest_version_id"
)


def _ids(db: sqlite_utils.Database, query: str | Query | None) -> list[int] | None:
    if query is None:
        return None
    from storage.search import match_ids

    return match_ids(db, query).tolist()  # ascending


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def iter_documents(
    db: sqlite_utils.Database,
    filters: DocumentFilter | None = None,
    *,
    batch: int = 1000,
    query: str | Query | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching document as a flat export dict (``EXPORT_FIELDS``), in id order.

    Streamed ``batch`` documents at a time (keyset pagination on ``id``, one query for the documents and
    one for their postings per batch), so an archive of any size is never held in memory. ``query``
    (search syntax) restricts the export to the documents it matches. Not a snapshot: a crawl writing
    meanwhile may change documents not yet read.
    """
    where, params = (filters or DocumentFilter()).where("d")
    ids = _ids(db, query)
    if ids is not None:
        sql = f"{_EXPORT_SQL} WHERE d.id IN (SELECT value FROM json_each(?)) AND ({where}) ORDER BY d.id"
        for chunk in _chunks(ids, batch):
            rows = db.execute(sql, [json.dumps(list(chunk)), *params]).fetchall()
            yield from _export_rows(db, rows)
        return
    sql = f"{_EXPORT_SQL} WHERE d.id > ? AND ({where}) ORDER BY d.id LIMIT ?"
    last = 0
    while True:
        rows = db.execute(sql, [last, *params, batch]).fetchall()
        if not rows:
            return
        yield from _export_rows(db, rows)
        if len(rows) < batch:
            return
        last = rows[-1][0]


def _export_rows(db: sqlite_utils.Database, rows: list[Any]) -> list[dict[str, Any]]:
    urls: dict[int, list[str]] = {}
    for document_id, url in db.execute(
        "SELECT document_id, url FROM postings WHERE document_id IN (SELECT value FROM json_each(?))"
        " ORDER BY document_id, first_seen_at, rowid",
        [json.dumps([row[0] for row in rows])],
    ):
        urls.setdefault(document_id, []).append(url)
    out = []
    for row in rows:
        item = dict(zip(EXPORT_FIELDS[:-2], row[:-1], strict=True))
        item["deputies"] = json.loads(item["deputies"] or "[]")
        item["adoption"] = json.loads(item["adoption"]) if item["adoption"] else []
        item["versions"] = item["versions"] or 0  # version numbers run 1..n: the latest one is the count
        item["urls"] = urls.get(item["id"], [])
        item["body_text"] = row[-1] or ""
        out.append(item)
    return out


def count_documents(
    db: sqlite_utils.Database, filters: DocumentFilter | None = None, *, query: str | Query | None = None
) -> int:
    """How many documents ``iter_documents(db, filters, query=query)`` yields."""
    where, params = (filters or DocumentFilter()).where("d")
    ids = _ids(db, query)
    if ids is None:
        (count,) = db.execute(f"SELECT COUNT(*) FROM documents d WHERE {where}", params).fetchone()
        return int(count)
    sql = f"SELECT COUNT(*) FROM documents d WHERE d.id IN (SELECT value FROM json_each(?)) AND ({where})"
    return sum(
        db.execute(sql, [json.dumps(list(chunk)), *params]).fetchone()[0] for chunk in _chunks(ids, 10_000)
    )


def document_titles(db: sqlite_utils.Database, ids: Iterable[int | None]) -> dict[int, str]:
    """Titles of the given documents (ids without a document are left out)."""
    wanted = sorted({i for i in ids if i is not None})
    rows = db.execute(
        "SELECT id, title FROM documents WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(wanted)]
    )
    return dict(rows)


# --- events --------------------------------------------------------------------------------------


def list_events_filtered(
    db: sqlite_utils.Database,
    *,
    since: datetime | str | None = None,
    kinds: Sequence[str] = (),
    portals: Sequence[str] = (),
    limit: int | None = None,
    query: str | Query | None = None,
    filters: DocumentFilter | None = None,
) -> list[Event]:
    """Events newest first: ``created_at >= since`` (an aware datetime, a ``*_at`` string or a date as
    ``YYYY[-MM[-DD]]``, UTC), of one of ``kinds``, on one of ``portals``, of a document that ``query``
    (search syntax) matches and ``filters`` let through; at most ``limit``. (A saved search's feed.)"""
    where: list[str] = []
    params: list[Any] = []
    if query is not None:
        from storage.search import build_query

        parsed = build_query(query) if isinstance(query, str) else query
        if parsed.match is None:
            return []
        where.append("document_id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
        params.append(parsed.match)
    if filters is not None and not filters.empty:
        clause, values = filters.where("d")
        where.append(f"document_id IN (SELECT d.id FROM documents d WHERE {clause})")
        params.extend(values)
    if since is not None:
        if isinstance(since, str) and "T" not in since:
            since = normalise_date(since)
        where.append("created_at >= ?")
        params.append(to_utc_iso(since))
    for column, accepted in (("kind", _tuple(kinds)), ("portal_id", _tuple(portals))):
        if accepted:
            where.append(f"{column} IN ({', '.join('?' * len(accepted))})")
            params.extend(accepted)
    sql = f"SELECT {_EVENT_COLUMNS} FROM events"
    sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_event(row) for row in db.execute(sql, params)]


# --- one document --------------------------------------------------------------------------------


def show_document(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    """Everything about one document, JSON-safe, or None if there is no such document (its
    ``storage.views.DocumentView`` with history, as plain data):

    - ``document``: the ``documents`` row (``deputies`` as a list);
    - ``record``: the latest version's record dict (``storage.versions``; ``body_text`` included);
    - ``postings``: url, portal_id, column, status, first_seen_at, last_seen_at (first seen first, then in the order they were found);
    - ``versions``: no, created_at, url, event_kind, changed_fields and summary of the event that made
      the version (oldest first);
    - ``events``: every event of the document (oldest first).
    """
    view = load_document(db, document_id, history=True)
    if view is None:
        return None
    assert view.versions is not None
    assert view.events is not None
    document = dict(view.row)
    document["deputies"] = json.loads(document["deputies"] or "[]")
    return {
        "id": document_id,
        "document": document,
        "record": view.latest or None,
        "postings": [asdict(p) for p in view.postings],
        "versions": [
            {
                "id": v.id,
                "no": v.no,
                "created_at": v.created_at,
                "url": v.url,
                "event_kind": v.event.kind if v.event else None,
                "changed_fields": list(v.event.changed_fields) if v.event else [],
                "summary": v.event.summary if v.event else "",
            }
            for v in view.versions
        ],
        "events": [{**asdict(e), "changed_fields": list(e.changed_fields)} for e in view.events],
    }
