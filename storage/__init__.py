"""The archive: the only package that speaks SQL (sqlite-utils over one SQLite file)."""

from storage.archive import Posting, get_posting, record, touch
from storage.db import open_db, to_utc_iso, utc_now, write_transaction
from storage.events import DOCUMENT_EVENT_KINDS, Event, add_event, get_event, list_events
from storage.migrations import migrate, migrations
from storage.portals import sync_portals
from storage.query import (
    DocumentFilter,
    FilterError,
    count_documents,
    iter_documents,
    list_events_filtered,
    show_document,
)
from storage.runs import Run, finish_run, get_run, last_runs, start_run
from storage.search import (
    Query,
    QueryError,
    SearchHit,
    build_query,
    rebuild_index,
    search,
    search_count,
    search_ids,
)
from storage.views import (
    DocumentView,
    EventView,
    PortalStats,
    event_views,
    load_document,
    load_event,
    portal_stats,
)
from storage.withdrawals import note_gone, note_listed, note_present, unlisted_postings

__all__ = [
    "DOCUMENT_EVENT_KINDS",
    "DocumentFilter",
    "DocumentView",
    "Event",
    "EventView",
    "FilterError",
    "PortalStats",
    "Posting",
    "Query",
    "QueryError",
    "Run",
    "SearchHit",
    "add_event",
    "build_query",
    "count_documents",
    "event_views",
    "finish_run",
    "get_event",
    "get_posting",
    "get_run",
    "iter_documents",
    "last_runs",
    "list_events",
    "list_events_filtered",
    "load_document",
    "load_event",
    "migrate",
    "migrations",
    "note_gone",
    "note_listed",
    "note_present",
    "open_db",
    "portal_stats",
    "rebuild_index",
    "record",
    "search",
    "search_count",
    "search_ids",
    "show_document",
    "start_run",
    "sync_portals",
    "to_utc_iso",
    "touch",
    "unlisted_postings",
    "utc_now",
    "write_transaction",
]
