"""Routing: when an event is recorded, write one outbox row per (event, watcher, channel target).

``make_router(watchers)`` returns the ``on_event(db, event)`` callback that ``storage.archive.record`` /
``touch`` and ``storage.withdrawals.note_gone`` call *inside* the event's transaction, so the outbox
rows commit (or roll back) with the event. Keys: ``sha256(event id, created_at, watcher, channel,
target)``; a digest watcher's rows are due at its next ``digest_cron`` time, operational events are
always immediate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from alerts.watchers import OPS_EVENT_KINDS, AlertsConfig, Watcher, load_alerts
from storage.events import Event
from storage.outbox import delivery_key, enqueue
from storage.views import load_document

OnEvent = Callable[[sqlite_utils.Database, Event], None]

__all__ = ["document_view", "make_router", "route_event", "router_for_config", "router_for_crawler"]


def document_view(db: sqlite_utils.Database, document_id: int | None) -> dict[str, Any] | None:
    """What watcher filters look at: the ``documents`` row, plus ``body_text`` of its latest version and
    ``portals`` (every portal it is posted on): ``storage.views.DocumentView.as_mapping``."""
    if document_id is None:
        return None
    view = load_document(db, document_id)
    return view.as_mapping() if view is not None else None


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def route_event(db: sqlite_utils.Database, event: Event, watchers: Sequence[Watcher]) -> int:
    """Insert the outbox rows ``event`` calls for (call it inside the event's transaction). Returns the
    number of rows added (rows that already exist are left alone)."""
    document = None if event.kind in OPS_EVENT_KINDS else document_view(db, event.document_id)
    added = 0
    for watcher in watchers:
        if not watcher.matches(event, document):
            continue
        digest = watcher.mode == "digest" and event.kind not in OPS_EVENT_KINDS
        due = watcher.next_digest_at(_when(event.created_at)) if digest else event.created_at
        for channel, target in watcher.targets():
            added += enqueue(
                db,
                key=delivery_key(event.id, event.created_at, watcher.name, channel, target),
                event_id=event.id,
                watcher=watcher.name,
                channel=channel,
                target=target,
                mode="digest" if digest else "immediate",
                due_at=due,
                now=event.created_at,
            )
    return added


def make_router(watchers: Sequence[Watcher] | AlertsConfig) -> OnEvent:
    """The ``on_event(db, event)`` callback that routes each event to ``watchers``."""
    chosen = tuple(watchers.watchers if isinstance(watchers, AlertsConfig) else watchers)

    def on_event(db: sqlite_utils.Database, event: Event) -> None:
        route_event(db, event, chosen)

    on_event.watchers = chosen  # type: ignore[attr-defined]
    return on_event


def router_for_config(config_raw: dict[str, Any] | None) -> OnEvent | None:
    """A router for the watchers of a user config dict, or None when it declares none."""
    watchers = [w for w in load_alerts(config_raw).watchers if w.enabled]
    return make_router(watchers) if watchers else None


def router_for_crawler(crawler: Any) -> OnEvent | None:
    """The router of a Scrapy crawl (its ``YIBAO_CONFIG``): the crawler's ``YIBAO_EVENT_ROUTER`` plugin, which
    calls it once per crawl. A bad watcher config raises ``ConfigError`` here, at the start of the crawl."""
    from crawler.registry import load_registry

    return router_for_config(load_registry(crawler.settings.get("YIBAO_CONFIG")).raw)
