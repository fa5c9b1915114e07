"""What the document page shows beneath Datasette's row: the structured record of the latest version,
the URLs it was seen at, and every version with the rendered diff to its predecessor. The document is
read as ``storage.views.DocumentView``; the fields listed and their labels are the registry's."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from markupsafe import Markup, escape

from core.diff_render import render_html_fragment
from core.diffing import diff_versions
from core.fields import SHOW_ORDER, field
from storage.citations import RELATION_LABELS, LineageNode, document_links, lineage_graph, term_of
from storage.views import load_document

MAX_DIFFS = 30  # older versions are listed without their diff
# the record's fields, in the registry's show order (the archive's own columns are in the page's header)
RECORD_FIELDS = tuple(name for name in SHOW_ORDER if field(name).record)


def document_context(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    view = load_document(db, document_id, history=True)
    if view is None or not view.versions:
        return None
    shown: list[dict[str, Any]] = []
    for previous, version in view.diff_inputs():
        entry: dict[str, Any] = {
            "version_no": version.no,
            "created_at": version.created_at,
            "url": version.url,
            "id": version.id,
            "diff": None,
            "summary": "",
        }
        if previous is not None and len(shown) < MAX_DIFFS:
            changes = diff_versions(previous, version.record)
            entry["summary"] = changes.summary()
            entry["diff"] = Markup(
                render_html_fragment(changes, title=version.record.get("title") or "", url=version.url)
            )
        shown.append(entry)
    return {
        "document": view.row,
        "title": view.title,
        "fields": [(zh, text) for _, zh, _, text in view.shown(RECORD_FIELDS)],
        "outline": view.latest.get("outline") or [],
        "body_text": view.body_text,
        "postings": [
            {
                "url": p.url,
                "portal_id": p.portal_id,
                "column_name": p.column,
                "status": p.status,
                "first_seen_at": p.first_seen_at,
                "last_seen_at": p.last_seen_at,
            }
            for p in view.postings
        ],
        "versions": shown,
        **citation_context(db, document_id),
    }


# (document_links key, heading, how the relation reads from this page's document)
LINK_SECTIONS = (
    ("cites", "引用 Cites", "this document {relation} it"),
    ("cited_by", "被引用 Cited by", "it {relation} this document"),
    ("replaces", "替代/废止 Replaces", "this document {relation} it"),
    ("replaced_by", "被替代/废止 Replaced by", "it {relation} this document"),
)


def citation_context(db: sqlite_utils.Database, document_id: int) -> dict[str, Any]:
    """``links``: the sections of citation links that have entries (relation labels, the other document's id
    when it is archived); ``lineage_svg``: the policy's lineage graph (None when it has none); ``superseded``:
    a newer document replaced or abolished it; ``term``: its stated term (``storage.citations.term_of``)."""
    links = document_links(db, document_id)
    sections = []
    for key, heading, reads in LINK_SECTIONS:
        if not links[key]:
            continue
        items = []
        for link in links[key]:
            zh, en = RELATION_LABELS.get(link.relation, (link.relation, link.relation))
            items.append({**link.as_dict(), "relation_zh": zh, "relation_en": en, "reads": reads.format(relation=en)})
        sections.append({"key": key, "heading": heading, "items": items})
    nodes, edges = lineage_graph(db, document_id)
    return {"links": sections, "lineage_svg": lineage_svg(nodes, edges) if edges else None,
            "superseded": bool(links["replaced_by"]), "term": term_of(db, document_id)}  # fmt: skip


_BOX_X, _BOX_W, _BOX_H, _ROW = 200, 560, 46, 66
_TITLE_CHARS = 34


def _short(text: str | None, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lineage_svg(nodes: list[LineageNode], edges: list[tuple[int, int, str]]) -> Markup:
    """A policy's lineage as an inline SVG: one box per document, oldest at the top (each a link to its page,
    the page's own document outlined), and one labelled arrow per edge from the old document to the one that
    replaced or abolished it, curving through the left margin. Every text is escaped."""
    row = {node.id: i for i, node in enumerate(nodes)}
    height = len(nodes) * _ROW + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="yibao-lineage-graph" role="img" width="{_BOX_X + _BOX_W + 10}"'
        f' height="{height}" viewBox="0 0 {_BOX_X + _BOX_W + 10} {height}" font-size="13"'
        ' font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif">',
        "<title>沿革 Lineage</title>",
        '<defs><marker id="yibao-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs>',
    ]
    for depth, (old, new, relation) in enumerate(edges):
        y1 = row[old] * _ROW + 5 + _BOX_H // 2
        y2 = row[new] * _ROW + 5 + _BOX_H // 2
        bend = _BOX_X - 36 - (depth % 3) * 18
        zh, en = RELATION_LABELS.get(relation, (relation, relation))
        parts.append(
            f'<path class="yibao-lineage-edge" data-old="{old}" data-new="{new}" d="M {_BOX_X} {y1} C {bend} {y1},'
            f' {bend} {y2}, {_BOX_X} {y2}" fill="none" stroke="#8c959f" stroke-width="1.5"'
            ' marker-end="url(#yibao-arrow)"/>'
        )
        parts.append(
            f'<text x="{bend - 4}" y="{(y1 + y2) // 2 + 4}" text-anchor="end" fill="#59636e">{escape(zh)} {escape(en)}</text>'
        )
    for i, node in enumerate(nodes):
        y = i * _ROW + 5
        stroke = ' stroke="#0969da" stroke-width="2.5"' if node.current else ' stroke="#d0d7de" stroke-width="1"'
        fill = "#f6f8fa" if node.status == "withdrawn" else "#ffffff"
        meta = " · ".join(x for x in (node.doc_no, node.published_on, "已撤下 withdrawn" if node.status == "withdrawn"
                                      else "") if x)  # fmt: skip
        parts.append(
            f'<a href="/archive/documents/{node.id}" class="yibao-lineage-node" data-id="{node.id}">'
            f'<rect x="{_BOX_X}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" fill="{fill}"{stroke}/>'
            f'<text x="{_BOX_X + 10}" y="{y + 19}" fill="#0969da">{escape(_short(node.title, _TITLE_CHARS))}</text>'
            f'<text x="{_BOX_X + 10}" y="{y + 37}" fill="#59636e" font-size="12">#{node.id} · {escape(meta)}</text></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
