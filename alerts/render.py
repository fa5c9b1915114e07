"""Turning events into messages: subject, plain text, e-mail HTML and the webhook JSON payload.

Everything is built from the archive at send time (nothing about a message is stored but its outbox
rows): ``event_item(db, event_id, settings)`` loads the event's read model (``storage.views.EventView``:
the document as of the event's version and the ``ChangeSet`` of that version) and adds the archive link;
``render_event`` / ``render_digest`` / ``render_test`` make the ``Message`` (``render_event`` of a ``baseline``
event is ``render_baseline``: the one summary of a portal's first crawl). Labels and which fields are
listed come from the field registry (``core.fields``). The diff itself is rendered by ``core.diff_render`` (text and e-mail HTML);
everything else taken from a crawled page is HTML-escaped here. The webhook payload follows
``docs/webhook.md`` (``schema_version`` 1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlite_utils

from alerts.watchers import OPS_EVENT_KINDS, AlertSettings, Watcher
from core import fields as registry
from storage.baselines import BASELINE_EVENT, baseline_payloads
from storage.citations import RELATION_LABELS, Link, citing_payloads, lineage_of_event
from storage.events import EVENT_SUPERSEDED, Event
from storage.views import EventView, load_event

SCHEMA_VERSION = 1
PRODUCT = "Yibao Watch"
KIND_LABELS = registry.EVENT_KIND_LABELS  # the registry's, under the names callers import
DOC_KIND_LABELS = registry.DOC_KIND_LABELS
PAYLOAD_DOCUMENT_FIELDS = (
    "id", "title", "kind", "bureau", "region_code", "index_no", "doc_no", "proposal_no", "meeting_text",
    "deputies", "reply_class", "validity", "published_on", "generated_on", "status", "first_seen_at",
    "last_changed_at", "withdrawn_at",
)  # fmt: skip
CHAT_MAX_CHARS = 3500
EXCERPT_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)
_FONT = (
    "font-family:-apple-system,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',"
    "Arial,sans-serif"
)
_MUTED = "color:#59636e"


@dataclass(frozen=True)
class Message:
    """One message to send: ``kind`` goes into ``X-Yibao-Event``; ``payload`` is the webhook body."""

    kind: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any]

    def chat_text(self) -> str:
        """The text for chat apps (apprise), cut to a size every service accepts."""
        text = self.text.strip()
        return text if len(text) <= CHAT_MAX_CHARS else text[: CHAT_MAX_CHARS - 1] + "…"


@dataclass(frozen=True)
class EventItem:
    """An event with what a message about it shows: its read model and the link into the archive."""

    view: EventView
    archive_url: str | None = None
    baselines: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # a baseline event: per watcher
    citing: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)  # per watcher: the citing documents
    replaced_by: Link | None = None  # a superseded event: the document that replaced or abolished it

    def citing_for(self, watcher: Watcher | None) -> list[dict[str, Any]]:
        """The documents citing this one that ``watcher`` follows (``follow_citations``), as routed."""
        return list(self.citing.get(watcher.name, ())) if watcher is not None else []

    @property
    def event(self) -> Event:
        return self.view.event

    @property
    def document(self) -> dict[str, Any] | None:
        """The documents row as of the event's version (None for operational events)."""
        return self.view.document

    @property
    def changes(self) -> Any | None:
        """``core.diffing.ChangeSet`` of the event's version; None for withdrawn and operational events."""
        return self.view.changes if self.document is not None else None

    @property
    def source_url(self) -> str | None:
        return self.view.source_url

    @property
    def excerpt(self) -> str:
        """The start of a new document's body ("" for other events)."""
        if self.event.kind != "new" or self.view.current is None:
            return ""
        body = clean(self.view.current.get("body_text"))
        return body[:EXCERPT_CHARS] + ("…" if len(body) > EXCERPT_CHARS else "")

    @property
    def title(self) -> str:
        if self.document is not None:
            return clean(self.document.get("title")) or f"文档 {self.document.get('id')}"
        summary = clean(self.event.summary)
        label = KIND_LABELS.get(self.event.kind, "")
        if label and summary.startswith(label + "："):  # 门户异常：… would read 【门户异常】门户异常：…
            summary = summary[len(label) + 1 :]
        return summary or self.event.kind

    @property
    def summary(self) -> str:
        """The diff summary of a change (empty for new, withdrawn and ops events: the title says it)."""
        if self.changes is not None and not self.changes.is_new:
            return clean(self.changes.summary())
        return ""

    def payload(self, watcher: Watcher | None = None) -> dict[str, Any]:
        e = self.event
        document = None
        if self.document is not None:
            document = {key: self.document.get(key) for key in PAYLOAD_DOCUMENT_FIELDS}
            try:
                document["deputies"] = json.loads(document["deputies"] or "[]")
            except (TypeError, ValueError):
                document["deputies"] = []
            document["portals"] = list(self.document.get("portals", ()))
            document["version_id"] = e.version_id
            document["prev_version_id"] = e.prev_version_id
        return {
            "event": {
                "id": e.id,
                "kind": e.kind,
                "created_at": e.created_at,
                "summary": e.summary,
                "changed_fields": list(e.changed_fields),
                "portal_id": e.portal_id,
                "url": e.url,
                "run_id": e.run_id,
            },
            "document": document,
            "diff": self.changes.to_dict() if self.changes is not None else None,
            "links": {"source": self.source_url, "archive": self.archive_url},
            **({"replaced_by": _replaced_by(self.replaced_by)} if self.replaced_by is not None else {}),
            **({"citing": self.citing_for(watcher)} if self.citing_for(watcher) else {}),
        }


def _replaced_by(link: Link) -> dict[str, Any]:
    return {"document_id": link.document_id, "title": link.title, "doc_no": link.doc_no,
            "relation": link.relation, "url": link.url}  # fmt: skip


def clean(text: Any) -> str:
    """Text from a crawled page, safe for one line: control characters and line breaks gone."""
    return " ".join(_CONTROL.sub(" ", str(text or "")).split())


def _e(text: Any) -> str:
    return escape(clean(text), quote=True)


def _link(url: str | None, label: str) -> str:
    if not url or not _SAFE_URL.match(url):
        return _e(url) if url else ""
    return f'<a href="{escape(url, quote=True)}" style="color:#0969da">{_e(label)}</a>'


def event_item(db: sqlite_utils.Database, event_id: int, settings: AlertSettings) -> EventItem:
    """Load event ``event_id`` with its document, diff and links (raises LookupError if it is gone)."""
    view = load_event(db, event_id)
    if view is None:
        raise LookupError(f"event {event_id} does not exist")
    event = view.event
    if event.kind == BASELINE_EVENT:
        payloads = baseline_payloads(db, event.id)
        first = next(iter(payloads.values()), None)
        link = baseline_link(settings.archive_url, first) if first is not None else None
        return EventItem(EventView(event), link, payloads)
    if event.kind in OPS_EVENT_KINDS or view.document is None:
        return EventItem(EventView(event, source_url=event.url))
    archive = settings.archive_url.format(
        document_id=event.document_id, version_id=event.version_id or "", event_id=event.id
    )
    replaced_by = lineage_of_event(db, event.id) if event.kind == EVENT_SUPERSEDED else None
    return EventItem(view, archive, citing=citing_payloads(db, event.id), replaced_by=replaced_by)


def _doc_name(title: Any, doc_no: Any) -> str:
    return f"《{clean(title)}》" + (f"（{clean(doc_no)}）" if doc_no else "")


def _citation_lines(item: EventItem, watcher: Watcher | None) -> list[str]:
    """What a message adds about citations: the document that replaced this one (a superseded event), and
    the documents citing it that the watcher follows (``follow_citations``)."""
    lines = []
    link = item.replaced_by
    if link is not None:
        verb = RELATION_LABELS.get(link.relation, (link.relation,))[0]
        lines.append(f"由此文件{verb}：{_doc_name(link.title, link.doc_no)} · 文档 #{link.document_id}"
                     + (f" · {link.url}" if link.url else ""))  # fmt: skip
    citing = item.citing_for(watcher)
    if citing:
        lines.append(f"您关注的 {len(citing)} 篇文档引用了此文件：")
        for doc in citing:
            verb = RELATION_LABELS.get(str(doc.get("relation")), (str(doc.get("relation")),))[0]
            lines.append(f"  · {_doc_name(doc.get('title'), doc.get('doc_no'))}（{verb}）· 文档 #{doc.get('id')}")
    return lines


def baseline_link(archive_url: str, baseline: Mapping[str, Any]) -> str | None:
    """The web UI's list of the pages a baseline archived (the ``postings`` table of the portal, and of its
    new columns), at the address ``[alerts] archive_url`` points into (its part before ``/archive/``)."""
    if "/archive/" in archive_url:
        root = archive_url.split("/archive/", 1)[0]
    else:
        parts = urlsplit(archive_url)
        root = f"{parts.scheme}://{parts.netloc}"
    pairs = [("portal_id", str(baseline.get("portal_id") or ""))]
    columns = [str(c) for c in baseline.get("columns") or ()]
    if baseline.get("scope") == "columns" and columns:
        pairs.append(("column_name__in", ",".join(columns)))
    pairs.append(("_sort_desc", "first_seen_at"))
    return f"{root}/archive/postings?{urlencode(pairs)}"


# --- pieces ----------------------------------------------------------------------------------------


def _field_pairs(item: EventItem) -> list[tuple[str, str]]:
    """(label, value) of the registry's event fields (``core.fields.EVENT_FIELDS``) as of the version."""
    return [(zh, clean(text)) for _, zh, _, text in item.view.shown(registry.EVENT_FIELDS)]


def _subject(item: EventItem) -> str:
    label = KIND_LABELS.get(item.event.kind, item.event.kind)
    title = item.title
    return f"【{label}】{title[:90]}{'…' if len(title) > 90 else ''}"


def _item_text(item: EventItem, watcher: Watcher | None = None) -> str:
    e = item.event
    lines = [f"【{KIND_LABELS.get(e.kind, e.kind)}】{item.title}"]
    lines.extend(f"{label}：{value}" for label, value in _field_pairs(item))
    if e.kind == "expired" and e.summary:  # the term and its end (a superseded event: the line below)
        lines.append(f"摘要：{clean(e.summary)}")
    lines.extend(_citation_lines(item, watcher))
    if item.changes is not None and not item.changes.is_new:  # starts with 摘要：<the diff summary>
        from core.diff_render import render_text

        lines.append("")
        lines.append(render_text(item.changes).rstrip("\n"))
    if item.excerpt:
        lines.append("")
        lines.append(f"正文摘录：{item.excerpt}")
    lines.append("")
    if item.source_url:
        lines.append(f"原文：{item.source_url}")
    if item.archive_url:
        lines.append(f"存档记录：{item.archive_url}")
    lines.append(f"事件 #{e.id} · {e.created_at}")
    return "\n".join(lines)


def _card(inner: str) -> str:
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        ' style="background-color:#f6f8fa"><tr><td align="center" style="padding:16px 16px 0 16px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        f' style="max-width:760px;background-color:#ffffff;border:1px solid #d0d7de;{_FONT};'
        f'font-size:15px;line-height:1.7;color:#1f2328"><tr><td style="padding:12px 20px">{inner}'
        "</td></tr></table></td></tr></table>"
    )


def _item_header_html(item: EventItem, *, with_title: bool, watcher: Watcher | None = None) -> str:
    e = item.event
    parts = [f'<div style="font-size:13px;{_MUTED}">{_e(KIND_LABELS.get(e.kind, e.kind))}'
             f" · 事件 #{e.id} · {_e(e.created_at)}</div>"]
    if with_title:
        parts.append(f'<div style="font-size:18px;font-weight:bold;margin:4px 0">{_e(item.title)}</div>')
        if item.summary and item.document is not None:
            parts.append(f'<div style="{_MUTED};font-size:14px">{_e(item.summary)}</div>')
    pairs = _field_pairs(item)
    if pairs:
        rows = "".join(
            f'<tr><td style="padding:2px 12px 2px 0;{_MUTED};white-space:nowrap;vertical-align:top">{_e(k)}</td>'
            f'<td style="padding:2px 0">{_e(v)}</td></tr>'
            for k, v in pairs
        )
        parts.append(f'<table cellpadding="0" cellspacing="0" border="0" style="font-size:14px;margin-top:6px">'
                     f"{rows}</table>")
    if item.excerpt:
        parts.append(f'<div style="font-size:14px;margin-top:8px">{_e(item.excerpt)}</div>')
    if item.event.kind == "expired" and item.event.summary:
        parts.append(f'<div style="font-size:14px;margin-top:6px">{_e(item.event.summary)}</div>')
    cited = _citation_lines(item, watcher)
    if cited:
        rows = "".join(f'<div style="margin:2px 0">{_e(line)}</div>' for line in cited)
        parts.append(f'<div style="font-size:14px;margin-top:8px">{rows}</div>')
    if with_title:
        links = " · ".join(x for x in (_link(item.source_url, "原文"), _link(item.archive_url, "存档记录")) if x)
        if links:
            parts.append(f'<div style="font-size:14px;margin-top:6px">{links}</div>')
    return "".join(parts)


def _item_html(item: EventItem, watcher: Watcher | None = None) -> str:
    """The HTML body fragment for one event: our header card, then the rendered diff, if any."""
    if item.changes is None or item.changes.is_new:
        return _card(_item_header_html(item, with_title=True, watcher=watcher))
    from core.diff_render import render_html

    rendered = render_html(item.changes, title=item.title, url=item.source_url, archive_url=item.archive_url)
    match = _BODY.search(rendered)
    diff_part = match.group(1) if match else f"<pre>{escape(rendered)}</pre>"
    return diff_part + _card(_item_header_html(item, with_title=False, watcher=watcher))  # title, then fields


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title></head>\n"
        '<body style="margin:0;padding:0 0 16px 0;background-color:#f6f8fa">\n'
        f"{body}\n</body></html>\n"
    )


def _footer(watcher: Watcher, delivery_id: str) -> tuple[str, str]:
    text = f"— {PRODUCT} · watcher {watcher.name} · delivery {delivery_id}"
    html = _card(f'<div style="font-size:12px;{_MUTED}">{_e(text)}</div>')
    return text, html


def _envelope(kind: str, watcher: Watcher, delivery_id: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "type": kind, "delivery_id": delivery_id, "watcher": watcher.name}


# --- messages --------------------------------------------------------------------------------------


def render_event(item: EventItem, *, watcher: Watcher, delivery_id: str) -> Message:
    """One message about one event."""
    if item.event.kind == BASELINE_EVENT:
        return render_baseline(item, watcher=watcher, delivery_id=delivery_id)
    subject = _subject(item)
    footer_text, footer_html = _footer(watcher, delivery_id)
    text = _item_text(item, watcher) + "\n\n" + footer_text + "\n"
    html = _document(subject, _item_html(item, watcher) + footer_html)
    payload = {**_envelope("event", watcher, delivery_id), **item.payload(watcher)}
    return Message(item.event.kind, subject, text, html, payload)


def render_digest(items: list[EventItem], *, watcher: Watcher, delivery_id: str) -> Message:
    """One message about several events (a digest watcher's batch)."""
    items = sorted(items, key=lambda i: i.event.id)
    counts: dict[str, int] = {}
    for item in items:
        counts[item.event.kind] = counts.get(item.event.kind, 0) + 1
    tally = "，".join(f"{KIND_LABELS.get(k, k)} {n}" for k, n in counts.items())
    subject = f"【{KIND_LABELS['digest']}】{watcher.name}：{len(items)} 条动态（{tally}）"
    footer_text, footer_html = _footer(watcher, delivery_id)
    index = "\n".join(f"{n}. 【{KIND_LABELS.get(i.event.kind, i.event.kind)}】{i.title}" for n, i in enumerate(items, 1))
    text = (f"{subject}\n\n{index}\n\n" + "\n\n————\n\n".join(_item_text(i, watcher) for i in items)
            + f"\n\n{footer_text}\n")  # fmt: skip
    head = _card(f'<div style="font-size:18px;font-weight:bold">{_e(subject)}</div>')
    html = _document(subject, head + "".join(_item_html(i, watcher) for i in items) + footer_html)
    payload = {**_envelope("digest", watcher, delivery_id), "items": [i.payload(watcher) for i in items]}
    return Message("digest", subject, text, html, payload)


def render_test(watcher: Watcher, *, delivery_id: str, now: str) -> Message:
    """The message of ``yibao alerts test WATCHER``."""
    subject = f"【{KIND_LABELS['test']}】{PRODUCT}：{watcher.name}"
    body = f"这是一条测试消息：watcher {watcher.name} 的通道工作正常。\n时间：{now}"
    footer_text, footer_html = _footer(watcher, delivery_id)
    html = _document(subject, _card(f'<div style="font-size:15px">{_e(body)}</div>') + footer_html)
    payload = {**_envelope("test", watcher, delivery_id), "message": body, "created_at": now}
    return Message("test", subject, f"{body}\n\n{footer_text}\n", html, payload)


def _tally(by_kind: Mapping[str, Any]) -> str:
    return " · ".join(f"{DOC_KIND_LABELS.get(kind, kind or '未分类')} {int(n):,}" for kind, n in by_kind.items())


def render_baseline(item: EventItem, *, watcher: Watcher, delivery_id: str) -> Message:
    """The one message a watcher gets about a completed baseline (a portal's first successful crawl, or a new
    column's): how many documents the archive now holds from it, per kind, how many of them the watcher's
    filters select, and a link to them. Raises LookupError when no summary was planned for this watcher."""
    e = item.event
    data = item.baselines.get(watcher.name)
    if data is None:
        raise LookupError(f"baseline event {e.id} has no summary for watcher {watcher.name}")
    name = clean(data.get("portal_name")) or clean(data.get("portal_id"))
    columns = "、".join(clean(c) for c in data.get("columns") or ())
    total = int(data.get("documents") or 0)
    matching = data.get("matching") or {}
    selected = int(matching.get("documents") or 0)
    headline = clean(e.summary).removeprefix("基线：") or f"{name} {total:,} documents archived"
    subject = f"【{KIND_LABELS[BASELINE_EVENT]}】{headline[:110]}"
    if data.get("scope") == "columns":
        lead = f"{name}（{clean(data.get('portal_id'))}）新栏目 {columns} 首次完整抓取完成：{total:,} 篇文档已存档。"
    else:
        lead = f"{name}（{clean(data.get('portal_id'))}）首次完整抓取完成：{total:,} 篇文档已存档。"
    since = clean(data.get("since"))
    mine = f"符合本订阅条件：{selected:,} 篇" + (f"（{_tally(matching.get('by_kind') or {})}）" if selected else "")
    if since:
        mine += f"，只计 {since} 及以后发布的（及未注明日期的）"
    lines = [lead, f"按类型：{_tally(data.get('by_kind') or {})}", mine,
             "这些存量文档不逐篇推送；此后的新文档和变更将逐条通知。"]  # fmt: skip
    footer_text, footer_html = _footer(watcher, delivery_id)
    tail = ([f"存档：{item.archive_url}"] if item.archive_url else []) + [f"事件 #{e.id} · {e.created_at}"]
    text = "\n".join([subject, "", *lines, "", *tail]) + "\n\n" + footer_text + "\n"
    rows = "".join(f'<div style="margin:2px 0">{_e(line)}</div>' for line in lines)
    link = _link(item.archive_url, "在存档中查看这些文档")
    inner = (f'<div style="font-size:13px;{_MUTED}">{_e(KIND_LABELS[BASELINE_EVENT])} · 事件 #{e.id} · '
             f'{_e(e.created_at)}</div><div style="font-size:18px;font-weight:bold;margin:4px 0">{_e(headline)}</div>'
             f'<div style="font-size:14px">{rows}</div>'
             + (f'<div style="font-size:14px;margin-top:6px">{link}</div>' if link else ""))  # fmt: skip
    html = _document(subject, _card(inner) + footer_html)
    payload = {
        **_envelope(BASELINE_EVENT, watcher, delivery_id),
        "event": {"id": e.id, "kind": e.kind, "created_at": e.created_at, "summary": e.summary,
                  "portal_id": e.portal_id, "run_id": e.run_id},
        "baseline": dict(data),
        "links": {"source": None, "archive": item.archive_url},
    }  # fmt: skip
    return Message(BASELINE_EVENT, subject, text, html, payload)
