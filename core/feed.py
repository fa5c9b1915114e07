"""Atom rendering of change events (pure: no SQL; feedgen writes the XML).

``render_atom(items, title=..., link=..., feed_id=...)`` takes event read models (``storage.views.EventView``
or anything with the same few attributes, see ``FeedItem``) and returns the Atom document. Each entry is one
event: its kind, the document's fields as of that version (the registry's event fields, ``core.fields``),
the diff summary, and a link to the source page. Everything taken from a crawled page is escaped (feedgen
writes XML text nodes; the HTML content is built with ``html.escape``) and cleared of the characters XML
cannot hold (ESC, BEL and the other controls, lone surrogates: normalization strips them from stored text
already, and an archive written before it did may still have them). Events without a document (operational
ones) are left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from feedgen.feed import FeedGenerator

from core.fields import EVENT_FIELDS, EVENT_KIND_LABELS
from core.normalize.text import strip_controls

__all__ = ["DEFAULT_TITLE", "FEED_ID", "FeedItem", "render_atom"]

FEED_ID = "tag:yibao-watch,2026:feed"
DEFAULT_TITLE = "Yibao Watch: 医保局 portal changes"
DEFAULT_LINK = "http://127.0.0.1/"
EMPTY_UPDATED = "2026-01-01T00:00:00+00:00"  # a feed without entries still needs an <updated>
# Kinds whose entry is summarised by their diff (the stored summary names the fields only).
DIFF_SUMMARY_KINDS = ("edited", "metadata_changed", "validity_changed")


class FeedItem(Protocol):
    """What an entry is made of (``storage.views.EventView`` has it)."""

    @property
    def event(self) -> Any: ...  # id, kind, created_at, url, portal_id, summary

    @property
    def document(self) -> dict[str, Any] | None: ...

    @property
    def changes(self) -> Any: ...  # core.diffing.ChangeSet | None

    def shown(self, names: Sequence[str] = ...) -> list[tuple[str, str, str, str]]: ...


_SURROGATES = re.compile("[\ud800-\udfff]")


def _xml(text: str) -> str:
    """``text`` as XML can hold it: no control characters (see ``core.normalize.text``), no lone surrogates."""
    text = strip_controls(text)
    return _SURROGATES.sub("", text) if _SURROGATES.search(text) else text


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _summary(item: FeedItem) -> str:
    changes = item.changes
    if item.event.kind in DIFF_SUMMARY_KINDS and changes is not None:
        return str(changes.summary())
    return str(item.event.summary)


def _content(item: FeedItem, summary: str) -> str:
    rows = "".join(
        f'<tr><th align="left">{html.escape(zh)}</th><td>{html.escape(text)}</td></tr>'
        for _, zh, _, text in item.shown(EVENT_FIELDS)
    )
    url = item.event.url
    link = f'<p><a href="{html.escape(url)}">原文</a></p>' if url else ""
    return _xml(f"<p>{html.escape(summary)}</p><table>{rows}</table>{link}")


def render_atom(
    items: Iterable[FeedItem],
    *,
    title: str = DEFAULT_TITLE,
    link: str = DEFAULT_LINK,
    feed_id: str = FEED_ID,
) -> bytes:
    """Atom XML with one entry per item that has a document, newest (last given) first."""
    chosen = list(items)
    fg = FeedGenerator()
    fg.id(_xml(feed_id))
    fg.title(_xml(title))
    fg.link(href=_xml(link), rel="alternate")
    fg.language("zh-CN")
    fg.generator("Yibao Watch")
    fg.updated(_when(chosen[-1].event.created_at) if chosen else datetime.fromisoformat(EMPTY_UPDATED))
    for item in chosen:
        event, document = item.event, item.document
        if document is None:
            continue
        label = EVENT_KIND_LABELS.get(event.kind, event.kind)
        summary = _summary(item)
        entry = fg.add_entry(order="prepend")
        entry.id(f"tag:yibao-watch,2026:event/{event.id}")
        entry.title(_xml(f"[{label}] {document.get('title') or ''}"))
        entry.updated(_when(event.created_at))
        if event.url:
            entry.link(href=_xml(event.url), rel="alternate")
        entry.category(term=_xml(event.kind), label=_xml(label))
        if event.portal_id:
            entry.category(term=_xml(event.portal_id))
        entry.content(_content(item, summary), type="html")
        entry.summary(_xml(summary))
    return bytes(fg.atom_str(pretty=True))
