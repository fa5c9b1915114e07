"""Reads for browsing the archive (the web UI): totals, recent changes, monthly counts per region, the
search form's choices, the documents table's facet counts (a document's page reads
``storage.views.DocumentView``).

Read-only, except ``suspend_facet_counts`` / ``rebuild_facet_counts`` (for bulk loading). ``by`` chooses
the region grouping: ``province`` (the generated province column) or ``bureau``.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from storage.db import write_transaction
from storage.migrations import FACET_COUNT_COLUMNS, FACET_COUNTS_STALE, PROVINCES

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


# --- the documents table's facets ------------------------------------------------------------------

FACET_COLUMNS = FACET_COUNT_COLUMNS
"""The documents table's facets (columns of ``documents``) that ``facet_counts`` keeps counts of."""

FacetCounts = dict[str, list[tuple[str, int]]]


def _facet_columns(columns: Sequence[str]) -> None:
    unknown = [c for c in columns if c not in FACET_COLUMNS]
    if unknown:
        raise ValueError(f"no kept counts for facet {unknown[0]!r}: {', '.join(FACET_COLUMNS)}")


def _by_count(counts: dict[str, dict[str, int]]) -> FacetCounts:
    """Each facet's values most frequent first, then by value (the order of Datasette's facets)."""
    return {c: sorted(values.items(), key=lambda item: (-item[1], item[0])) for c, values in counts.items()}


def facet_counts(
    db: sqlite_utils.Database, columns: Sequence[str], selected: tuple[str, str] | None = None
) -> FacetCounts | None:
    """For each facet of ``columns``, its values and how many documents have each (NULL left out), over
    every document or, with ``selected`` = (column, value), over the documents whose ``column`` is
    ``value``; most frequent first, then by value. Read from ``facet_counts`` (kept by the triggers of
    migration m008): a few index reads whatever the archive's size. None while the counts are being
    rebuilt (``suspend_facet_counts``): the caller groups the documents instead."""
    _facet_columns([*columns, *(selected[:1] if selected else [])])
    if db.execute("SELECT 1 FROM meta WHERE key = ?", [FACET_COUNTS_STALE]).fetchone():
        return None
    counts: dict[str, dict[str, int]] = {c: {} for c in columns}
    if selected is None:
        rows = db.execute("SELECT counted, counted_value, count FROM facet_counts WHERE facet = '' AND value = ''")
    else:
        column, value = selected
        rows = db.execute(
            "SELECT counted, counted_value, count FROM facet_counts WHERE facet = ? AND value = ?"
            " UNION ALL SELECT counted, counted_value, count FROM facet_counts"
            " WHERE facet = '' AND value = '' AND counted = ? AND counted_value = ?",
            [column, value, column, value],
        )
    for counted, counted_value, count in rows:
        if count > 0 and counted in counts:
            counts[counted][counted_value] = count
    return _by_count(counts)


def facet_counts_scan(
    db: sqlite_utils.Database, columns: Sequence[str], selected: tuple[str, str] | None = None
) -> FacetCounts:
    """``facet_counts`` grouped from the documents themselves (the reference the kept counts are tested
    against)."""
    _facet_columns([*columns, *(selected[:1] if selected else [])])
    where, params = (f"WHERE {selected[0]} = ?", [selected[1]]) if selected else ("", [])
    counts: dict[str, dict[str, int]] = {}
    for column in columns:
        rows = db.execute(
            f"SELECT {column}, COUNT(*) FROM documents {where} GROUP BY {column} HAVING {column} IS NOT NULL",
            params,
        )
        counts[column] = dict(rows.fetchall())
    return _by_count(counts)


def suspend_facet_counts(db: sqlite_utils.Database) -> None:
    """Turn the ``facet_counts`` triggers off (about 60 µs per document written, see docs/search.md) until
    ``rebuild_facet_counts``: for a bulk load, which then recounts once. Meanwhile ``facet_counts``
    returns None (the web UI groups the documents instead). In the caller's transaction, if any."""
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", [FACET_COUNTS_STALE])


def rebuild_facet_counts(db: sqlite_utils.Database) -> None:
    """Recount ``facet_counts`` from the documents, set-based (one grouping pass over the documents,
    then each count from the groups: seconds at 1M documents), and turn its triggers back on. One write
    transaction (a savepoint in the caller's)."""
    names = ", ".join(FACET_COLUMNS)
    insert = "INSERT INTO facet_counts (facet, value, counted, counted_value, count)"
    with write_transaction(db):
        db.execute("DELETE FROM facet_counts")
        db.execute("DROP TABLE IF EXISTS temp.facet_tally")
        db.execute(f"CREATE TEMP TABLE facet_tally AS SELECT {names}, COUNT(*) AS n FROM documents GROUP BY {names}")
        for counted in FACET_COLUMNS:
            db.execute(
                f"{insert} SELECT '', '', '{counted}', {counted}, SUM(n) FROM temp.facet_tally"
                f" WHERE {counted} IS NOT NULL GROUP BY {counted}"
            )
            for facet in FACET_COLUMNS:
                if facet != counted:
                    db.execute(
                        f"{insert} SELECT '{facet}', {facet}, '{counted}', {counted}, SUM(n) FROM temp.facet_tally"
                        f" WHERE {facet} IS NOT NULL AND {counted} IS NOT NULL GROUP BY {facet}, {counted}"
                    )
        # m010's groups (not there yet while m008 recounts an older archive)
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'facet_groups'").fetchone():
            db.execute("DELETE FROM main.facet_groups")
            db.execute(
                f"INSERT INTO main.facet_groups (key, {names}, count) SELECT json_array({names}), {names}, n"
                " FROM temp.facet_tally"
            )
        db.execute("DROP TABLE temp.facet_tally")
        db.execute("DELETE FROM meta WHERE key = ?", [FACET_COUNTS_STALE])


def _groups_kept(db: sqlite_utils.Database) -> bool:
    """m010's ``facet_groups`` exists and is kept (not off for a bulk load)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'facet_groups'").fetchone():
        return False
    return not db.execute("SELECT 1 FROM meta WHERE key = ?", [FACET_COUNTS_STALE]).fetchone()


def rebuild_facet_groups(db: sqlite_utils.Database) -> None:
    """Recount ``facet_groups`` (migration m010) from the documents: one grouping pass (a few seconds at
    1M documents). In the caller's transaction, if any; ``rebuild_facet_counts`` does it too."""
    names = ", ".join(FACET_COLUMNS)
    with write_transaction(db):
        db.execute("DELETE FROM main.facet_groups")
        db.execute(
            f"INSERT INTO main.facet_groups (key, {names}, count)"
            f" SELECT json_array({names}), {names}, COUNT(*) FROM documents GROUP BY {names}"
        )


def facet_counts_selected(
    db: sqlite_utils.Database, columns: Sequence[str], selected: Sequence[tuple[str, str]]
) -> FacetCounts | None:
    """``facet_counts`` over the documents with every (column, value) of ``selected`` (two or more facet
    values: the kept counts hold pairs only), summed from ``facet_groups`` (migration m010: how many
    documents have each combination of the facet values), without reading the documents or their
    indexes: the read costs what the groups number, not what the archive holds. None while the counts
    are being rebuilt (``suspend_facet_counts``) or before m010: the caller groups the documents instead."""
    _facet_columns([*columns, *(column for column, _ in selected)])
    if not _groups_kept(db):
        return None
    where = " AND ".join(f"{column} = ?" for column, _ in selected) or "1"
    names = ", ".join(columns)
    params = [value for _, value in selected]
    rows = db.execute(f"SELECT {names}, count FROM facet_groups WHERE {where} AND count > 0", params)
    return summed_facets(columns, rows)


def summed_facets(columns: Sequence[str], rows: Any) -> FacetCounts:
    """Each facet of ``columns`` from grouped rows ``(value of each column ..., count)``."""
    counts: dict[str, dict[str, int]] = {c: defaultdict(int) for c in columns}
    for row in rows:
        for column, value in zip(columns, row, strict=False):
            if value is not None:
                counts[column][value] += row[-1]
    return _by_count(counts)


def facet_counts_of_rows(
    db: sqlite_utils.Database,
    columns: Sequence[str],
    sql: str,
    params: Any,
    time_limit_ms: int,
) -> FacetCounts | None:
    """Each facet of ``columns`` over the rows of the documents query ``sql`` (the web UI's table with
    any filter: Datasette's SQL and parameters), grouped in one query; None when it would take more
    than ``time_limit_ms`` (it is interrupted then)."""
    _facet_columns(columns)
    names = ", ".join(columns)
    deadline = time.monotonic() + time_limit_ms / 1000
    db.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        rows = db.execute(f"SELECT {names}, COUNT(*) FROM ({sql}) GROUP BY {names}", params).fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        return None
    finally:
        db.conn.set_progress_handler(None, 1000)
    return summed_facets(columns, rows)
