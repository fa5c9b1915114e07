"""A watcher's feed (``yibao feed WATCHER``): the archive's events that the watcher's filters select.

The Atom document itself is built by ``storage.feeds.build_feed`` (events read as ``storage.views.EventView``,
rendered by ``core.feed``); it is re-exported here for the callers that know it by this name.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.events import Event, list_events
from storage.feeds import FEED_ID, build_feed
from storage.views import load_document

__all__ = ["FEED_ID", "build_feed", "watcher_events"]


def watcher_events(db: sqlite_utils.Database, watcher: Any, limit: int = 200) -> list[Event]:
    """The archive's latest events that ``watcher``'s filters select (each document event matched against
    its document as routing sees it: ``storage.views.DocumentView.as_mapping``)."""
    selected = []
    for event in list_events(db):
        if event.document_id is None:
            continue
        view = load_document(db, event.document_id)
        if view is not None and watcher.matches(event, view.as_mapping()):
            selected.append(event)
    return selected[-limit:]
