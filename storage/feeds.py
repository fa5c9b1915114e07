"""The archive's change events as an Atom feed: events read as ``storage.views.EventView`` and rendered by
``core.feed`` (``yibao feed``, the web UI's ``/-/feeds/changes.atom``; a watcher's own selection of events is
``alerts.feeds.watcher_events``)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from core.feed import DEFAULT_LINK, DEFAULT_TITLE, FEED_ID, render_atom
from storage.events import Event
from storage.query import list_events_filtered
from storage.views import event_views

__all__ = ["FEED_ID", "build_feed"]


def build_feed(
    db: sqlite_utils.Database,
    *,
    title: str = DEFAULT_TITLE,
    link: str = DEFAULT_LINK,
    feed_id: str = FEED_ID,
    events: Iterable[Event] | None = None,
    limit: int = 200,
) -> bytes:
    """Atom XML for ``events`` (default: the latest ``limit`` events of the archive), newest first."""
    if events is None:  # the latest, oldest first
        chosen = sorted(list_events_filtered(db, limit=limit), key=lambda e: e.id)
    else:
        chosen = list(events)
    return render_atom(event_views(db, chosen), title=title, link=link, feed_id=feed_id)
