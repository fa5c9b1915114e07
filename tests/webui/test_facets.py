"""The documents table's facets in a real Datasette (in process, its own ASGI client: no socket): read from
the kept counts with no or one facet value selected, grouped from a facet index with several, grouped
from the filtered rows otherwise; every way the values and counts Datasette's own column facets would
show."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from storage import build_query, open_db, write_transaction
from storage.browse import FACET_COLUMNS, facet_counts_scan, suspend_facet_counts
from webui.app import make_datasette
from webui.facets import facet_selections

FACET_SIZE = 30  # Datasette's default_facet_size


@pytest.fixture
def archive_path(built_archive: Path) -> Path:
    return built_archive


def get(ds: Any, url: str) -> httpx.Response:
    return asyncio.run(ds.client.get(url))


def facets_of(ds: Any, query: str) -> dict[str, list[tuple[Any, int, bool]]]:
    response = get(ds, f"/archive/documents.json?_shape=objects&_size=1&{query}")
    assert response.status_code == 200, response.text
    data = response.json()  # a facet that timed out is left out
    return {
        name: [(v["value"], v["count"], v["selected"]) for v in facet["results"]]
        for name, facet in data["facet_results"].items()
    }


def expected(
    path: Path, where: str = "", params: tuple[Any, ...] = (), selected: set[str] = frozenset()
) -> Any:
    """Each facet's values over the documents passing ``where``, grouped from the rows (most frequent
    first, then by value, the first ``FACET_SIZE``), ``selected`` the values the query string selects."""
    db = open_db(path)
    out = {}
    for column in FACET_COLUMNS:
        rows = db.execute(
            f"SELECT {column}, COUNT(*) AS n FROM documents {where} GROUP BY {column}"
            f" HAVING {column} IS NOT NULL ORDER BY n DESC, {column} LIMIT {FACET_SIZE}",
            params,
        ).fetchall()
        out[column] = [(value, count, f"{column}={value}" in selected) for value, count in rows]
    db.close()
    return out


def test_the_whole_table_and_one_selected_value_read_the_kept_counts(archive_path: Path) -> None:
    ds = make_datasette(archive_path)
    assert facets_of(ds, "") == expected(archive_path)
    for column, value in (("province", "福建省"), ("kind", "suggestion_reply"), ("published_year", "2025"),
                          ("reply_class", "A"), ("status", "withdrawn")):  # fmt: skip
        shown = facets_of(ds, f"{column}={quote(value)}")
        assert shown == expected(archive_path, f"WHERE {column} = ?", (value,), {f"{column}={value}"}), column
        assert shown[column] == [(value, shown[column][0][1], True)]
    db = open_db(archive_path)
    bureaus = facet_counts_scan(db, ["bureau"])["bureau"]
    db.close()
    data = get(ds, "/archive/documents.json?_size=1&_facet_size=3").json()
    assert [(v["value"], v["count"]) for v in data["facet_results"]["bureau"]["results"]] == bureaus[:3]
    assert data["facet_results"]["bureau"]["truncated"] is True
    assert data["facet_results"]["status"]["truncated"] is False
    assert all(facet["type"] == "column" for facet in data["facet_results"].values())


def test_the_counts_are_what_is_read(archive_path: Path, tmp_path: Path) -> None:
    """A count changed behind the triggers' back shows with no or one selection (read, not grouped),
    and not with two selected values (grouped from the rows)."""
    path = tmp_path / "tampered.db"
    shutil.copy(archive_path, path)
    db = open_db(path)
    with write_transaction(db):
        db.execute(
            "UPDATE facet_counts SET count = 4321 WHERE facet = '' AND counted = 'kind' AND counted_value = 'policy'"
        )
        db.execute(
            "UPDATE facet_counts SET count = 1234 WHERE facet = 'province' AND value = '福建省'"
            " AND counted = 'kind' AND counted_value = 'policy'"
        )
    db.close()
    ds = make_datasette(path)
    assert ("policy", 4321, False) in facets_of(ds, "")["kind"]
    assert ("policy", 1234, False) in facets_of(ds, f"province={quote('福建省')}")["kind"]
    both = facets_of(ds, f"province={quote('福建省')}&reply_class=A")
    assert all(count < 1234 for _, count, _ in both["kind"])


@pytest.mark.parametrize(
    ("query", "where", "params"),
    [
        ("published_on__gte=2025-03-01", "WHERE published_on >= ?", ("2025-03-01",)),
        ("_search=门诊&_table=1", "WHERE id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)",
         (build_query("门诊").match,)),
        ("reply_class__isnull=1", "WHERE reply_class IS NULL", ()),
        ("province=福建省&published_year=2025", "WHERE province = ? AND published_year = ?", ("福建省", "2025")),
    ],
)  # fmt: skip
def test_other_filters_group_the_filtered_rows(
    archive_path: Path, query: str, where: str, params: tuple[str, ...]
) -> None:
    ds = make_datasette(archive_path)
    selected = {pair for pair in query.split("&") if pair.split("=")[0] in FACET_COLUMNS}
    assert facets_of(ds, quote(query, safe="=&")) == expected(archive_path, where, params, selected)


@pytest.mark.parametrize(
    ("query", "where", "params"),
    [
        ("province=福建省&kind=suggestion_reply", "WHERE province = ? AND kind = ?", ("福建省", "suggestion_reply")),
        ("kind=policy&status=active&validity=有效", "WHERE kind = ? AND status = ? AND validity = ?",
         ("policy", "active", "有效")),
        ("reply_class=A&published_year=2025&province=福建省",
         "WHERE reply_class = ? AND published_year = ? AND province = ?", ("A", "2025", "福建省")),
        ("kind=policy&kind=notice", "WHERE kind = ? AND kind = ?", ("policy", "notice")),
        ("kind=policy&province=火星", "WHERE kind = ? AND province = ?", ("policy", "火星")),
    ],
)  # fmt: skip
def test_several_selected_values_are_grouped_from_an_index(
    archive_path: Path, query: str, where: str, params: tuple[str, ...]
) -> None:
    ds = make_datasette(archive_path)
    shown = facets_of(ds, quote(query, safe="=&"))
    assert shown == expected(archive_path, where, params, set(query.split("&")))
    assert bool(shown["status"]) == ("notice" not in params and "火星" not in params)  # empty: none pass


def test_while_the_counts_are_rebuilt_the_rows_are_grouped(archive_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "suspended.db"
    shutil.copy(archive_path, path)
    db = open_db(path)
    with write_transaction(db):
        suspend_facet_counts(db)
        db.execute("UPDATE facet_counts SET count = count + 1000")  # stale counts are never shown
    db.close()
    ds = make_datasette(path)
    assert facets_of(ds, "") == expected(archive_path)
    assert facets_of(ds, "kind=policy") == expected(
        archive_path, "WHERE kind = ?", ("policy",), {"kind=policy"}
    )


def test_the_table_page_shows_the_facets_as_column_facets(archive_path: Path) -> None:
    ds = make_datasette(archive_path)
    page = get(ds, f"/archive/documents?province={quote('福建省')}")
    assert page.status_code == 200
    for column in FACET_COLUMNS:
        assert f'data-column="{column}"' in page.text
    assert "(counted)" not in page.text
    assert "timed out" not in page.text
    assert "kind=suggestion_reply" in page.text  # a value's link adds it to the selection


@pytest.mark.parametrize(
    ("pairs", "answer"),
    [
        ([], []),
        ([("_size", "1"), ("_sort_desc", "published_on"), ("_nocol", "identity_key"), ("_search", " ")], []),
        ([("province", "福建省")], [("province", "福建省")]),
        ([("kind__exact", "policy"), ("_next", "x")], [("kind", "policy")]),
        ([("province", "福建省"), ("kind", "policy")], [("province", "福建省"), ("kind", "policy")]),
        ([("title", "x")], None),
        ([("kind__not", "policy")], None),
        ([("_search", "医保")], None),
        ([("_where", "1")], None),
    ],
)
def test_which_requests_select_facet_values(pairs: list[tuple[str, str]], answer: Any) -> None:
    assert facet_selections(pairs) == answer


def test_a_counted_facet_of_another_column_is_ignored(archive_path: Path) -> None:
    ds = make_datasette(archive_path)
    for query in ("_facet_counted=title", '_facet_counted=kind"%20from%20x--', "_facet_counted=x&kind=policy"):
        response = get(ds, f"/archive/documents.json?_size=1&{query}")
        assert response.status_code == 200, query
        assert set(response.json()["facet_results"]) == set(FACET_COLUMNS), query
    events = get(ds, "/archive/events.json?_size=1&_facet_counted=kind").json()["facet_results"]
    assert set(events) == {"kind", "portal_id"}  # its own column facets, no counted one
