"""Atom feeds of the archive's change events: one for everything, one per watcher (``yibao feed``).

Each entry is one event: its kind, the document's structured fields and the diff summary, linking
to the source page. Everything taken from a crawled page is escaped (feedgen writes XML text
nodes; the HTML content is built with ``html.escape``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlite_utils
from feedgen.feed import FeedGenerator

from alerts.render import KIND_LABELS
from storage.events import Event, list_events
from storage.versions import get_document, versions_of_event

KIND_ZH = KIND_LABELS  # the labels e-mails and webhooks use
FIELDS_ZH = (
    ("bureau", "发布机构"),
    ("kind", "类别"),
    ("doc_no", "文号"),
    ("index_no", "索引号"),
    ("meeting_text", "会议"),
    ("proposal_no", "建议/提案号"),
    ("reply_class", "答复类别"),
    ("validity", "有效性"),
    ("published_on", "发布日期"),
)
FEED_ID = "tag:yibao-watch,2026:feed"


def _summary(db: sqlite_utils.Database, event: Event) -> str:
    if event.kind not in ("edited", "metadata_changed", "validity_changed"):
        return event.summary
    from core.diffing import diff_versions

    try:
        previous, current = versions_of_event(db, event.id)
    except LookupError:
        return event.summary
    return diff_versions(previous, current).summary()


def _content(document: dict[str, Any], summary: str, event: Event) -> str:
    rows = "".join(
        f"<tr><th align=\"left\">{label}</th><td>{html.escape(str(document.get(key) or ''))}</td></tr>"
        for key, label in FIELDS_ZH
        if document.get(key)
    )
    link = f'<p><a href="{html.escape(event.url or "")}">原文</a></p>' if event.url else ""
    return f"<p>{html.escape(summary)}</p><table>{rows}</table>{link}"


def build_feed(
    db: sqlite_utils.Database,
    *,
    title: str = "Yibao Watch: 医保局 portal changes",
    link: str = "http://127.0.0.1/",
    feed_id: str = FEED_ID,
    events: Iterable[Event] | None = None,
    limit: int = 200,
) -> bytes:
    """Atom XML for ``events`` (default: the latest ``limit`` events of the archive), newest first."""
    chosen = list(events) if events is not None else list_events(db)[-limit:]
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.link(href=link, rel="alternate")
    fg.language("zh-CN")
    fg.generator("Yibao Watch")
    fg.updated(_when(chosen[-1].created_at) if chosen else datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
    for event in chosen:
        document = get_document(db, event.document_id) if event.document_id else None
        if document is None:
            continue
        entry = fg.add_entry(order="prepend")
        entry.id(f"tag:yibao-watch,2026:event/{event.id}")
        entry.title(f"[{KIND_ZH.get(event.kind, event.kind)}] {document['title']}")
        entry.updated(_when(event.created_at))
        if event.url:
            entry.link(href=event.url, rel="alternate")
        entry.category(term=event.kind, label=KIND_ZH.get(event.kind, event.kind))
        if event.portal_id:
            entry.category(term=event.portal_id)
        entry.content(_content(document, _summary(db, event), event), type="html")
        entry.summary(_summary(db, event))
    return fg.atom_str(pretty=True)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def watcher_events(db: sqlite_utils.Database, watcher: Any, limit: int = 200) -> list[Event]:
    """The archive's latest events that ``watcher``'s filters select."""
    from alerts.routing import document_view

    selected = []
    for event in list_events(db):
        document = document_view(db, event.document_id) if event.document_id else None
        if document is not None and watcher.matches(event, document):
            selected.append(event)
    return selected[-limit:]
