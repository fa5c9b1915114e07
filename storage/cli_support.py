"""Small read queries the command line needs that no other read model offers yet."""

from __future__ import annotations

import sqlite_utils

__all__ = ["posted_portal_ids"]


def posted_portal_ids(db: sqlite_utils.Database) -> set[str]:
    """Every portal id the archive has postings from (a portal since removed from the config included)."""
    return {portal_id for (portal_id,) in db.execute("SELECT DISTINCT portal_id FROM postings")}
