"""The Scrapy items of a crawl (dataclasses: Scrapy handles them through ``itemadapter``).

A spider yields a ``RawPage`` (``core.records``) for every detail page it extracted, or a
``FetchOutcome`` for a fetch that brought no page. ``NormalizeRecordPipeline`` turns each ``RawPage``
into a ``DocumentItem``: the normalized record with how it was fetched. ``ArchiveRecordPipeline``
stores both kinds; only documents reach the feed exports (``scrapy crawl ID -O docs.jsonl``), a
``FetchOutcome`` stops in ``DocumentsOnlyPipeline`` once it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.records import DocumentRecord


@dataclass(kw_only=True)
class DocumentItem:
    """One document of a crawl: fetch metadata, then the normalized record (exported nested, as ``record``)."""

    url: str  # the fetched URL (after redirects)
    portal: str  # the portal id
    column: str  # the registry column it was listed in (or revisited under)
    status: int  # HTTP status of the detail page
    fetched_at: str  # ISO 8601, UTC, seconds
    etag: str | None = None
    last_modified: str | None = None
    record: DocumentRecord


@dataclass
class FetchOutcome:
    """A detail fetch that ended without a document: 304, gone (404/410/soft-404) or an error."""

    portal_id: str
    url: str
    outcome: str  # not_modified | gone | error
    status: int | None
    listed: bool = False  # the URL was on this run's listing
    soft_404: bool = False
    error: str | None = None
