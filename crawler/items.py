"""Scrapy items besides ``RawPage``: outcomes of fetches that bring no page to normalize."""

from __future__ import annotations

from dataclasses import dataclass


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
