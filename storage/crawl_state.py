"""What a spider needs to know of a portal before it crawls: its known postings and validators."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class KnownPosting:
    url: str
    column: str | None
    etag: str | None
    last_modified: str | None
    first_seen_at: str
    last_fetched_at: str | None
    status: str  # active | gone


def known_postings(db: sqlite_utils.Database, portal_id: str) -> dict[str, KnownPosting]:
    """Every URL of ``portal_id`` the archive holds (withdrawn documents' URLs included)."""
    rows = db.execute(
        "SELECT url, column_name, etag, last_modified, first_seen_at, last_fetched_at, status "
        "FROM postings WHERE portal_id = ?",
        [portal_id],
    ).fetchall()
    return {row[0]: KnownPosting(*row) for row in rows}
