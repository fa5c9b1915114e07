"""Paging the documents table in its default order (``published_on`` newest first) with Datasette's own
``next_url``: every document once, in the order of the dates and, within a date, of the ids, whatever the
page size (so page boundaries fall inside dates)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from webui.app import make_datasette


def get(ds: Any, url: str) -> httpx.Response:
    return asyncio.run(ds.client.get(url))


NEWEST_FIRST = "published_on IS NULL, published_on DESC, id"  # the table's default order, undated last


def ids_in_order(archive: Path, where: str = "1", order: str = NEWEST_FIRST) -> list[int]:
    """The documents' ids in SQL, as the table should page them."""
    with sqlite3.connect(archive) as conn:
        return [row[0] for row in conn.execute(f"SELECT id FROM documents WHERE {where} ORDER BY {order}")]


def paged_ids(ds: Any, first: str) -> list[int]:
    ids: list[int] = []
    url: str | None = first
    while url:
        page = get(ds, url)
        assert page.status_code == 200, page.text
        data = page.json()
        ids += [row["id"] for row in data["rows"]]
        url = data["next_url"] and "/" + data["next_url"].split("://", 1)[-1].split("/", 1)[-1]
    return ids


@pytest.mark.parametrize("size", [7, 18, 19])
def test_the_unfiltered_table_pages_by_date_without_repeats_or_gaps(built_archive: Path, size: int) -> None:
    truth = ids_in_order(built_archive)
    with sqlite3.connect(built_archive) as conn:
        dates = [row[0] for row in conn.execute("SELECT published_on FROM documents GROUP BY 1 HAVING COUNT(*) > 1")]
    assert dates, "the archive has no date shared by two documents: nothing to check"
    ds = make_datasette(built_archive)
    assert paged_ids(ds, f"/archive/documents.json?_shape=objects&_size={size}") == truth


def test_a_later_page_reads_the_date_index_in_order(built_archive: Path) -> None:
    """The later pages' cursor (an ``OR`` of three conditions) is answered by one walk of m014's index, not
    by index searches and a sort of every row past the cursor (1 s a page at 1M documents)."""
    with sqlite3.connect(built_archive) as conn:
        plan = " | ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM documents WHERE (published_on < :p0 OR published_on IS NULL"
            " OR (published_on = :p0 AND id > :p1)) ORDER BY published_on DESC, id LIMIT 101",
            {"p0": "2025-01-01", "p1": 5}))  # fmt: skip
    assert "documents_published_desc" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("size", [7, 19])
@pytest.mark.parametrize(
    ("query", "where", "order"),
    [
        ("kind=suggestion_reply", "kind = 'suggestion_reply'", NEWEST_FIRST),
        ("province=%E7%A6%8F%E5%BB%BA%E7%9C%81", "province = '福建省'", NEWEST_FIRST),
        ("status=active&_sort=published_on", "status = 'active'", "published_on IS NOT NULL, published_on, id"),
        ("_sort_desc=published_on", "1", NEWEST_FIRST),
    ],
)
def test_a_filtered_or_explicitly_sorted_table_pages_by_date_without_repeats_or_gaps(
    built_archive: Path, size: int, query: str, where: str, order: str
) -> None:
    truth = ids_in_order(built_archive, where, order)
    assert len(truth) > size
    ds = make_datasette(built_archive)
    assert paged_ids(ds, f"/archive/documents.json?_shape=objects&_size={size}&{query}") == truth
    first = get(ds, f"/archive/documents.json?_size=1&{query}").json()
    assert first["filtered_table_rows_count"] == len(truth)  # the first page's cursor does not change the count


@pytest.mark.parametrize("query", ["", "kind=suggestion_reply", "_sort=published_on"])
def test_the_first_pages_cursor_stays_out_of_the_pages_links(built_archive: Path, query: str) -> None:
    ds = make_datasette(built_archive)
    page = get(ds, f"/archive/documents?{query}")
    assert page.status_code == 200
    html = page.text
    assert int(page.headers["content-length"]) == len(page.content)  # the length of the page as rewritten
    assert "9999-12-31" not in html
    assert "%24null" not in html
    assert 'name="_next"' not in html
    assert "province=%E7%A6%8F%E5%BB%BA%E7%9C%81" in html  # a facet's link, written without the cursor
    data = get(ds, f"/archive/documents.json?{query}").json()
    toggles = [value["toggle_url"] for facet in data["facet_results"].values() for value in facet["results"]]
    assert toggles, data["facet_results"]
    assert not [url for url in toggles if "_next" in url]  # the JSON's facet links too
    assert all(url.endswith(".json") or ".json?" in url for url in toggles)


@pytest.mark.parametrize("rows_per_page", [7, 1000])
def test_a_streamed_csv_has_every_document_once_in_date_order(built_archive: Path, rows_per_page: int) -> None:
    """Datasette pages a CSV stream itself (a cursor in the request is refused): the table's date index gives
    its first page the order of the pages after it."""
    import csv
    import io

    truth = ids_in_order(built_archive)
    ds = make_datasette(built_archive)
    ds._settings["max_returned_rows"] = rows_per_page  # each page of the stream ends inside a date (at 7)
    response = get(ds, "/archive/documents.csv?_stream=1")
    assert response.status_code == 200, response.text[:300]
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(response.text))] == truth


@pytest.mark.parametrize(
    "form",
    [
        "_sort=published_on&_sort_by_desc=on",  # the sort form, "descending" ticked
        "_filter_column=kind&_filter_op=exact&_filter_value=policy",  # the filter form
    ],
)
def test_the_sort_and_filter_forms_redirect_without_the_cursor(built_archive: Path, form: str) -> None:
    ds = make_datasette(built_archive)
    response = get(ds, f"/archive/documents?{form}")
    assert response.status_code == 302
    location = response.headers["location"]
    assert "_next" not in location, location
    truth = ids_in_order(built_archive, "kind = 'policy'" if "policy" in form else "1")
    path, _, query = location.partition("?")
    assert paged_ids(ds, f"{path}.json?{query}&_shape=objects&_size=19") == truth
