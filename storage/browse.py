"""Reads for browsing the archive (the web UI): totals, recent changes, monthly counts per region, the
search form's choices (a document's page reads ``storage.views.DocumentView``).

Read-only. ``by`` chooses the region grouping: ``province`` (the generated province column) or
``bureau``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from storage.migrations import PROVINCES

GroupBy = Literal["province", "bureau"]
CHANGE_KINDS = ("edited", "metadata_changed", "validity_changed", "withdrawn", "reappeared")


@dataclass(frozen=True)
class MonthlyCount:
    month: str  # YYYY-MM
    region: str
    count: int


def archive_totals(db: sqlite_utils.Database) -> dict[str, int]:
    """Documents (active / withdrawn), versions, events, portals."""
    totals = dict(db.execute("SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall())
    return {
        "documents": sum(totals.values()),
        "active": totals.get("active", 0),
        "withdrawn": totals.get("withdrawn", 0),
        "versions": db.execute("SELECT COUNT(*) FROM versions").fetchone()[0],
        "events": db.execute("SELECT COUNT(*) FROM events").fetchone()[0],
        "portals": db.execute("SELECT COUNT(*) FROM portals").fetchone()[0],
    }


def recent_changes(db: sqlite_utils.Database, limit: int = 20) -> list[dict[str, Any]]:
    """The latest document events, newest first, with the document's title and bureau."""
    cursor = db.execute(
        "SELECT e.id, e.kind, e.created_at, e.summary, e.url, e.portal_id, d.id AS document_id, d.title,"
        " d.bureau, d.status FROM events e JOIN documents d ON d.id = e.document_id"
        " ORDER BY e.id DESC LIMIT ?",
        [limit],
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


UNKNOWN = "(unknown)"


def _group_column(by: GroupBy) -> str:
    """What a chart groups by. Provinces by the region code's first two digits, named afterwards
    (``_named``): the ``(published_on, region_code)`` index then covers the whole query."""
    if by not in ("province", "bureau"):
        raise ValueError(f"cannot group by {by!r}: province or bureau")
    return "substr(d.region_code, 1, 2)" if by == "province" else "d.bureau"


def _named(rows: Iterable[tuple[str, str | None, int]], by: GroupBy) -> list[MonthlyCount]:
    counts: dict[tuple[str, str], int] = {}
    for month, group, count in rows:
        region = (PROVINCES.get(group or "") if by == "province" else group) or UNKNOWN
        counts[(month, region)] = counts.get((month, region), 0) + count  # unknown prefixes merge
    return [MonthlyCount(month, region, count) for (month, region), count in sorted(counts.items())]


def _monthly(db: sqlite_utils.Database, series: str, by: GroupBy, since: str) -> list[MonthlyCount]:
    column = "province" if _group_column(by).startswith("substr") else "bureau"
    rows = db.execute(
        f"SELECT month, NULLIF({column}, ''), SUM(count) FROM monthly_counts"
        f" WHERE series = ? AND month >= ? GROUP BY month, {column} HAVING SUM(count) > 0",
        [series, since],
    )
    return _named(rows, by)


def monthly_publications(
    db: sqlite_utils.Database, *, by: GroupBy = "province", since: str = "0000-00"
) -> list[MonthlyCount]:
    """Documents per publication month (``published_on``) and region, months >= ``since`` (YYYY-MM).

    Read from ``monthly_counts`` (kept by the triggers of migration m007 as documents are written): the
    same figures as grouping the documents, without reading them (1.4 s at 1M documents)."""
    return _monthly(db, "published", by, since)


def monthly_changes(
    db: sqlite_utils.Database, *, by: GroupBy = "province", since: str = "0000-00"
) -> list[MonthlyCount]:
    """Change events (edits, metadata/validity changes, withdrawals, reappearances) per month recorded
    (``events.created_at``, UTC) and region of their document (from ``monthly_counts``)."""
    return _monthly(db, "changed", by, since)


def monthly_publications_scan(
    db: sqlite_utils.Database, *, by: GroupBy = "province", since: str = "0000-00"
) -> list[MonthlyCount]:
    """``monthly_publications`` computed from the documents themselves (the reference the kept counts
    are tested against)."""
    sql = (
        f"SELECT substr(d.published_on, 1, 7) AS month, {_group_column(by)} AS region, COUNT(*)"
        " FROM documents d WHERE d.published_on >= ? GROUP BY month, region"
    )
    return _named(db.execute(sql, [since]), by)


def monthly_changes_scan(
    db: sqlite_utils.Database, *, by: GroupBy = "province", since: str = "0000-00"
) -> list[MonthlyCount]:
    """``monthly_changes`` computed from the events and their documents."""
    kinds = ", ".join("?" * len(CHANGE_KINDS))
    sql = (
        f"SELECT substr(e.created_at, 1, 7) AS month, {_group_column(by)} AS region, COUNT(*)"
        f" FROM events e JOIN documents d ON d.id = e.document_id WHERE e.kind IN ({kinds})"
        " AND e.created_at >= ? GROUP BY month, region"
    )
    return _named(db.execute(sql, [*CHANGE_KINDS, since]), by)


def filter_choices(db: sqlite_utils.Database) -> dict[str, list[tuple[str, str]]]:
    """Values present in the archive for the search page's selects: (value, label) pairs."""
    provinces = db.execute(
        "SELECT DISTINCT substr(region_code, 1, 2) || '0000', province FROM documents"
        " WHERE province IS NOT NULL ORDER BY 1"
    ).fetchall()
    bureaus = db.execute(
        "SELECT DISTINCT bureau FROM documents WHERE bureau IS NOT NULL ORDER BY 1"
    ).fetchall()
    kinds = db.execute("SELECT DISTINCT kind FROM documents ORDER BY 1").fetchall()
    portals = db.execute("SELECT id, name FROM portals ORDER BY region_code, id").fetchall()
    return {
        "portals": [(pid, name) for pid, name in portals],
        "regions": [(code, name) for code, name in provinces],
        "bureaus": [(b, b) for (b,) in bureaus],
        "kinds": [(k, k) for (k,) in kinds],
    }
