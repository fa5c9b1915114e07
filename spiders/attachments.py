"""The attachment fetch policy: which of a page's attachment links to fetch, and what a fetch's answer means.

- A link the archive already knows for this page (stored with a hash, or recorded missing) is not fetched
  again: its hash, size, text and validators are taken from the stored version. Only a new document's links,
  or links a known document did not have before (or whose last fetch failed, or that a cap left unfetched),
  are fetched.
- A full crawl (``--full``) re-checks the known links too, conditionally (If-None-Match / If-Modified-Since
  with the stored validators): an unchanged file costs a 304.
- A 404 or 410 is recorded as missing (``missing``, no hash), so it is not asked for again on every cycle;
  it is fetched again only when its link changes (or in a full crawl).
- At most ``YIBAO_ATTACHMENTS_PER_PAGE`` fetches per page and ``YIBAO_ATTACHMENTS_PER_RUN`` per run; a link
  over a cap is listed without a hash and fetched the next time its page is fetched in full.
- One URL is fetched at most once per run (two documents linking the same form share the answer).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.records import Attachment, FetchedAttachment  # FetchedAttachment: a record type (core), made here

__all__ = ["ANSWERED", "GONE", "FetchedAttachment", "Plan", "answered", "conditional_headers", "from_stored",
           "pdf_text", "plan", "settled"]  # fmt: skip

ANSWERED = [304, 404, 410]  # statuses the attachment callback handles itself
GONE = (404, 410)


def settled(stored: Mapping[str, Any]) -> bool:
    """A stored attachment whose fetch came to an answer: a hash, or recorded missing."""
    return bool(stored.get("sha256")) or bool(stored.get("missing"))


def from_stored(attachment: Attachment, stored: Mapping[str, Any]) -> FetchedAttachment:
    """The page's link (its name as the page shows it now) with the stored fetch's content."""
    return FetchedAttachment(
        attachment.name, attachment.url, stored.get("sha256"), stored.get("size"), stored.get("text"),
        missing=bool(stored.get("missing")), etag=stored.get("etag"), last_modified=stored.get("last_modified"),
    )  # fmt: skip


@dataclass
class Plan:
    attachments: list[Attachment]  # the page's links in order, those already known filled in
    todo: list[int] = field(default_factory=list)  # indices into ``attachments`` to fetch, in order
    over_cap: int = 0  # links left unfetched by the per-page cap
    reused: int = 0  # links taken from the archive or from this run's fetches


def plan(
    links: list[Attachment],
    stored: Mapping[str, Mapping[str, Any]],
    fetched: Mapping[str, FetchedAttachment],
    *,
    allowed: Callable[[str], bool],
    full: bool,
    per_page: int,
) -> Plan:
    """What to do with a page's attachment ``links``: ``stored`` are the archive's attachments of this page (by
    URL), ``fetched`` this run's answers so far (by URL)."""
    out = Plan([FetchedAttachment(a.name, a.url, a.sha256, a.size, a.text) for a in links])  # every link with its state
    for i, link in enumerate(links):
        if link.url in fetched:
            out.attachments[i] = from_stored(link, vars(fetched[link.url]))
            out.reused += 1
            continue
        known = stored.get(link.url)
        if known is not None and settled(known) and not full:
            out.attachments[i] = from_stored(link, known)
            out.reused += 1
            continue
        if known is not None and settled(known):
            out.attachments[i] = from_stored(link, known)  # validators kept for a conditional request
        if not allowed(link.url):
            continue
        if len(out.todo) >= per_page:
            out.over_cap += 1
            continue
        out.todo.append(i)
    return out


def conditional_headers(attachment: Attachment) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from a stored 200's validators (none for a missing or unfetched one)."""
    if not isinstance(attachment, FetchedAttachment) or attachment.missing or not attachment.sha256:
        return {}
    headers = {}
    if attachment.etag:
        headers["If-None-Match"] = attachment.etag
    if attachment.last_modified:
        headers["If-Modified-Since"] = attachment.last_modified
    return headers


def answered(attachment: Attachment, status: int, body: bytes, etag: str | None, last_modified: str | None) -> FetchedAttachment:
    """The attachment after an answer: 200 hashed (and its text read), 304 as stored, 404/410 missing."""
    if status == 304:  # asked conditionally: as stored
        return from_stored(attachment, vars(attachment))
    if status in GONE:
        return FetchedAttachment(attachment.name, attachment.url, missing=True)
    return FetchedAttachment(attachment.name, attachment.url, hashlib.sha256(body).hexdigest(), len(body),
                             pdf_text(body), etag=etag, last_modified=last_modified)  # fmt: skip


def pdf_text(data: bytes) -> str | None:
    if not data.startswith(b"%PDF"):
        return None
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return "\n".join((p.extract_text() or "") for p in reader.pages)[:20000]
    except Exception:  # a broken PDF is recorded without text, never fatal
        return None
