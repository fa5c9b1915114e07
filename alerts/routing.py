"""Routing: when an event is recorded, write one outbox row per (event, watcher, channel target).

``make_router(watchers)`` returns the ``on_event(db, event)`` callback that ``storage.archive.record`` /
``touch`` and ``storage.withdrawals.note_gone`` call *inside* the event's transaction, so the outbox
rows commit (or roll back) with the event. Keys: ``sha256(event id, created_at, watcher, channel,
target)``; a digest watcher's rows are due at its next ``digest_cron`` time, operational events are
always immediate.

Baselines (``storage.baselines``): a crawl's router (``router_for_crawler``, ``make_router(...,
baselines=True)``) routes the events of a baseline in progress -- a portal's first successful crawl, or a
newly added column's -- only to the watchers with ``baseline = "every"``. The others hear of the baseline
once it is complete: the run recorder asks ``on_event.plan_baseline(db, baseline, run_id=...)`` for a
``BaselinePlan`` (what each ``baseline = "summary"`` watcher's filters select among the baseline's events,
counted per document kind) before it finishes the run, and calls the plan inside the run-finishing
transaction: one ``baseline`` event (document NULL) and one immediate outbox row per (watcher, channel
target), the watcher's counts in the row's payload. A watcher whose filters select nothing gets nothing;
``baseline = "off"`` watchers get nothing either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from alerts.watchers import OPS_EVENT_KINDS, AlertsConfig, Watcher, load_alerts
from storage.baselines import BASELINE_EVENT, Baseline, baseline_events, in_baseline
from storage.citations import CITING_PAYLOAD, Link, citing_documents
from storage.db import to_utc_iso
from storage.events import Event, add_event
from storage.outbox import delivery_key, enqueue
from storage.views import load_document

OnEvent = Callable[[sqlite_utils.Database, Event], None]

__all__ = [
    "BaselinePlan", "document_view", "make_router", "plan_baseline", "route_event", "router_for_config",
    "router_for_crawler",
]  # fmt: skip


def document_view(db: sqlite_utils.Database, document_id: int | None) -> dict[str, Any] | None:
    """What watcher filters look at: the ``documents`` row, plus ``body_text`` of its latest version and
    ``portals`` (every portal it is posted on): ``storage.views.DocumentView.as_mapping``."""
    if document_id is None:
        return None
    view = load_document(db, document_id)
    return view.as_mapping() if view is not None else None


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def route_event(
    db: sqlite_utils.Database, event: Event, watchers: Sequence[Watcher], *, baselines: bool = False
) -> int:
    """Insert the outbox rows ``event`` calls for (call it inside the event's transaction). Returns the
    number of rows added (rows that already exist are left alone). With ``baselines``, a document event of
    a baseline in progress goes only to the watchers with ``baseline = "every"``."""
    if event.kind == BASELINE_EVENT:  # announced by its BaselinePlan, never routed by filters
        return 0
    document_event = event.document_id is not None and event.kind not in OPS_EVENT_KINDS
    if (baselines and document_event and any(w.baseline != "every" for w in watchers)
            and in_baseline(db, event.portal_id, event.url)):  # fmt: skip
        watchers = [w for w in watchers if w.baseline == "every"]
    if not watchers:
        return 0
    document = None if event.kind in OPS_EVENT_KINDS else document_view(db, event.document_id)
    citing = _Citing(db, event.document_id)
    added = 0
    for watcher in watchers:
        followed = citing.selected_by(watcher) if watcher.follows_citations_of(event) else []
        if not followed and not watcher.matches(event, document):
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
                payload={CITING_PAYLOAD: followed} if followed else None,
            )
    return added


class _Citing:
    """The documents citing an event's document, loaded once per event, when a watcher follows citations."""

    def __init__(self, db: sqlite_utils.Database, document_id: int | None) -> None:
        self.db = db
        self.document_id = document_id
        self._views: list[tuple[Link, dict[str, Any]]] | None = None

    def selected_by(self, watcher: Watcher) -> list[dict[str, Any]]:
        """The citing documents ``watcher``'s filters select, as the message names them (payload dicts)."""
        if self.document_id is None:
            return []
        if self._views is None:
            self._views = []
            for link in citing_documents(self.db, self.document_id):
                view = document_view(self.db, link.document_id)
                if view is not None:
                    self._views.append((link, view))
        out: list[dict[str, Any]] = []
        seen: set[int | None] = set()
        for link, view in self._views:
            if link.document_id not in seen and watcher.selects(view):
                seen.add(link.document_id)
                out.append({"id": link.document_id, "title": link.title, "doc_no": link.doc_no,
                            "relation": link.relation, "kind": view.get("kind")})  # fmt: skip
        return out


# --- baselines ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    documents: int
    by_kind: dict[str, int]

    @classmethod
    def of(cls, kinds: dict[int, str]) -> _Tally:
        counts = Counter(kinds.values())
        return cls(len(kinds), dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))))

    def as_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "by_kind": self.by_kind}


@dataclass
class BaselinePlan:
    """The summaries of one completed baseline: the archive's totals and, per watcher that gets one, what
    its filters select. Call it inside the run-finishing transaction (``__call__``)."""

    baseline: Baseline
    run_id: int | None
    totals: _Tally
    watchers: list[tuple[Watcher, _Tally]] = field(default_factory=list)
    first_event_id: int | None = None
    last_event_id: int | None = None

    @property
    def summary(self) -> str:
        b = self.baseline
        where = b.portal_name if b.whole else f"{b.portal_name}（新栏目 {'、'.join(b.columns)}）"
        return f"基线：{where} {self.totals.documents:,} documents archived"

    def payload(self, watcher: Watcher, tally: _Tally) -> dict[str, Any]:
        """What the watcher's message says (stored with its outbox rows; ``alerts.render`` reads it)."""
        b = self.baseline
        return {
            "portal_id": b.portal_id, "portal_name": b.portal_name, "scope": "portal" if b.whole else "columns",
            "columns": list(b.columns), "run_id": self.run_id, **self.totals.as_dict(),
            "matching": tally.as_dict(), "since": watcher.since,
            "events": {"first": self.first_event_id, "last": self.last_event_id},
        }  # fmt: skip

    def __call__(self, db: sqlite_utils.Database, now: datetime | str | None = None) -> Event:
        """Record the ``baseline`` event and one immediate outbox row per (watcher, channel target)."""
        stamp = to_utc_iso(now)
        event = add_event(db, kind=BASELINE_EVENT, document_id=None, now=stamp, summary=self.summary,
                          run_id=self.run_id, portal_id=self.baseline.portal_id)  # fmt: skip
        for watcher, tally in self.watchers:
            payload = self.payload(watcher, tally)
            for channel, target in watcher.targets():
                enqueue(db, key=delivery_key(event.id, event.created_at, watcher.name, channel, target),
                        event_id=event.id, watcher=watcher.name, channel=channel, target=target,
                        mode="immediate", due_at=stamp, now=stamp, payload=payload)  # fmt: skip
        return event


def plan_baseline(
    db: sqlite_utils.Database, baseline: Baseline, watchers: Sequence[Watcher], *, run_id: int | None = None
) -> BaselinePlan | None:
    """What each ``baseline = "summary"`` watcher is told of ``baseline`` (read-only: call it before the
    run-finishing transaction, the counting can take a while). None when no watcher's filters select any
    of its documents: then nothing is announced."""
    wanted = [w for w in watchers if w.enabled and w.baseline == "summary" and w.targets()]
    if not wanted:
        return None
    events = baseline_events(db, baseline)
    kinds: dict[int, str] = {}
    selected: dict[str, dict[int, str]] = {w.name: {} for w in wanted}
    views: dict[int, dict[str, Any] | None] = {}
    for event in events:
        assert event.document_id is not None
        if event.document_id not in views:
            views[event.document_id] = document_view(db, event.document_id)
        document = views[event.document_id]
        if document is None:
            continue
        kind = str(document.get("kind") or "")
        kinds[event.document_id] = kind
        for watcher in wanted:
            mine = selected[watcher.name]
            if event.document_id not in mine and watcher.matches(event, document):
                mine[event.document_id] = kind
    chosen = [(w, _Tally.of(selected[w.name])) for w in wanted if selected[w.name]]
    if not chosen:
        return None
    return BaselinePlan(baseline, run_id, _Tally.of(kinds), chosen, events[0].id, events[-1].id)


# --- routers ---------------------------------------------------------------------------------------


def make_router(watchers: Sequence[Watcher] | AlertsConfig, *, baselines: bool = False) -> OnEvent:
    """The ``on_event(db, event)`` callback that routes each event to ``watchers``. With ``baselines`` (a
    crawl's router) it knows baselines: their events go to ``baseline = "every"`` watchers only, and
    ``on_event.plan_baseline(db, baseline, run_id=...)`` plans the summaries of a completed one."""
    chosen = tuple(watchers.watchers if isinstance(watchers, AlertsConfig) else watchers)

    def on_event(db: sqlite_utils.Database, event: Event) -> None:
        route_event(db, event, chosen, baselines=baselines)

    def plan(db: sqlite_utils.Database, baseline: Baseline, *, run_id: int | None = None) -> BaselinePlan | None:
        return plan_baseline(db, baseline, chosen, run_id=run_id)

    on_event.watchers = chosen  # type: ignore[attr-defined]
    if baselines:
        on_event.plan_baseline = plan  # type: ignore[attr-defined]
    return on_event


def router_for_config(config_raw: dict[str, Any] | None, *, baselines: bool = False) -> OnEvent | None:
    """A router for the watchers of a user config dict, or None when it declares none."""
    watchers = [w for w in load_alerts(config_raw).watchers if w.enabled]
    return make_router(watchers, baselines=baselines) if watchers else None


def router_for_crawler(crawler: Any) -> OnEvent | None:
    """The router of a Scrapy crawl (its ``YIBAO_CONFIG``), baseline-aware: the crawler's ``YIBAO_EVENT_ROUTER``
    plugin, which calls it once per crawl. A bad watcher config raises ``ConfigError`` here, at the start of
    the crawl."""
    from crawler.registry import load_registry

    return router_for_config(load_registry(crawler.settings.get("YIBAO_CONFIG")).raw, baselines=True)
