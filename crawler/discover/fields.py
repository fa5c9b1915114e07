"""What the normalizer found on a sampled detail page, as short printable values."""

from __future__ import annotations

from typing import Any

from core.records import DocumentRecord

# record fields worth showing, in display order; body/outline/attachments are summarised
SHOWN = (
    "title",
    "kind",
    "title_tag",
    "bureau",
    "index_no",
    "doc_no",
    "meeting",
    "proposal_no",
    "deputies",
    "proposal_title",
    "reply_class",
    "adoption",
    "generated_on",
    "published_on",
    "signed_on",
    "validity",
    "theme",
    "contacts",
    "public_marker",
)
# fields that come from the portal or the classifier, not from the page: never "found on the page"
NOT_FROM_PAGE = {"kind", "bureau"}


def _short(value: Any, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def found_fields(record: DocumentRecord | None) -> dict[str, str]:
    """Field name → short value for every field the record has (body length and counts included)."""
    if record is None:
        return {}
    out: dict[str, str] = {}
    for name in SHOWN:
        value = getattr(record, name, None)
        if value in (None, "", [], {}):
            continue
        if name == "meeting":
            value = getattr(value, "text", None) or value
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        out[name] = _short(value)
    if record.body_text:
        out["body_text"] = f"{len(record.body_text)} characters"
    if record.outline:
        out["outline"] = f"{len(record.outline)} headings"
    if record.attachments:
        out["attachments"] = f"{len(record.attachments)} files"
    return out


def page_fields(found: dict[str, str]) -> list[str]:
    """The found fields that the page itself supplied."""
    return [k for k in found if k not in NOT_FROM_PAGE]
