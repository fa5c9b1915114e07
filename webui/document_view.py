"""What the document page shows beneath Datasette's row: the structured record of the latest version,
the URLs it was seen at, and every version with the rendered diff to its predecessor."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from markupsafe import Markup

from core.diff_render import render_html_fragment
from core.diffing import diff_versions
from storage.browse import document_postings
from storage.versions import get_document, list_versions
from webui.labels import KINDS_ZH

MAX_DIFFS = 30  # older versions are listed without their diff

RECORD_FIELDS = (
    ("title", "标题"),
    ("bureau", "发布机构"),
    ("kind", "类别"),
    ("doc_no", "文号"),
    ("index_no", "索引号"),
    ("proposal_title", "建议/提案题目"),
    ("proposal_no", "建议/提案号"),
    ("deputies", "代表/委员"),
    ("reply_class", "答复类别"),
    ("adoption", "采纳情况"),
    ("validity", "有效性"),
    ("generated_on", "成文日期"),
    ("published_on", "发布日期"),
    ("signed_on", "落款日期"),
    ("contacts", "联系人"),
    ("public_marker", "公开方式"),
)


def _display(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    if isinstance(value, list):
        return "、".join(_display(v) for v in value)
    return "" if value is None else str(value)


def document_context(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    document = get_document(db, document_id)
    versions = list_versions(db, document_id)
    if document is None or not versions:
        return None
    latest = versions[-1]
    fields = [(label, _display(latest.get(key))) for key, label in RECORD_FIELDS]
    fields[2] = ("类别", f"{KINDS_ZH.get(latest.get('kind') or '', '')} {latest.get('kind') or ''}".strip())
    meeting = latest.get("meeting")
    if meeting:
        fields.insert(5, ("会议", _display(meeting)))
    shown = []
    for index in range(len(versions) - 1, -1, -1):
        current = versions[index]
        previous = versions[index - 1] if index else None
        entry: dict[str, Any] = {
            "version_no": current["version_no"],
            "created_at": current["created_at"],
            "url": current["url"],
            "id": current["id"],
            "diff": None,
            "summary": "",
        }
        if previous is not None and len(shown) < MAX_DIFFS:
            changes = diff_versions(previous, current)
            entry["summary"] = changes.summary()
            entry["diff"] = Markup(
                render_html_fragment(changes, title=current.get("title") or "", url=current["url"])
            )
        shown.append(entry)
    return {
        "document": document,
        "title": latest.get("title") or document["title"],
        "fields": [(label, value) for label, value in fields if value],
        "outline": latest.get("outline") or [],
        "attachments": latest.get("attachments") or [],
        "body_text": latest.get("body_text") or "",
        "postings": document_postings(db, document_id),
        "versions": shown,
    }
