"""What the document page shows beneath Datasette's row: the structured record of the latest version,
the URLs it was seen at, and every version with the rendered diff to its predecessor. The document is
read as ``storage.views.DocumentView``; the fields listed and their labels are the registry's."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from markupsafe import Markup

from core.diff_render import render_html_fragment
from core.diffing import diff_versions
from core.fields import SHOW_ORDER, field
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
    }
