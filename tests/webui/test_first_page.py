"""Paging the documents table gives every row once, in order, whatever the page size: Datasette's first
page is given a cursor before every row (``webui.first_page``) so that its rows of one date come in the
order of the pages after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from storage import open_db
from tests.webui.test_facets import get
from webui import table_search
from webui.app import make_datasette
from webui.first_page import cursor


def every_page(ds: Any, url: str) -> list[int]:
    ids: list[int] = []
    next_url: str | None = url
    while next_url:
        page = get(ds, next_url).json()
        ids += [row["id"] for row in page["rows"]]
        next_url = page["next_url"] and "/" + page["next_url"].split("://", 1)[-1].split("/", 1)[-1]
    return ids


def expected(path: Path, where: str, order: str, params: tuple[Any, ...] = ()) -> list[int]:
    db = open_db(path, migrate=False)
    ids = [i for (i,) in db.execute(f"SELECT id FROM documents {where} ORDER BY {order}", params)]
    db.close()
    return ids


@pytest.mark.parametrize("size", [5, 18, 19, 28])  # 18, 19, 28: sizes whose pages ended inside a date
def test_every_row_once_in_date_order(built_archive: Path, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = make_datasette(built_archive)
    newest = "published_on IS NULL, published_on DESC, id"
    assert every_page(ds, f"/archive/documents.json?_shape=objects&_size={size}") == expected(
        built_archive, "", newest
    )
    assert every_page(ds, f"/archive/documents.json?_shape=objects&_size={size}&kind=suggestion_reply") == expected(
        built_archive, "WHERE kind = 'suggestion_reply'", newest
    )
    assert every_page(ds, f"/archive/documents.json?_shape=objects&_size={size}&_sort=bureau") == expected(
        built_archive, "", "bureau IS NOT NULL, bureau, id"
    )
    monkeypatch.setattr(table_search, "LIST_MAX", -1)  # a search given as one byte per id
    searched = every_page(ds, f"/archive/documents.json?_shape=objects&_size={size}&_search={quote('门诊')}&_table=1")
    db = open_db(built_archive, migrate=False)
    matches = {i for (i,) in db.execute(
        "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", ['"门诊"']
    )}  # fmt: skip
    db.close()
    assert searched == [i for i in expected(built_archive, "", newest) if i in matches]


def test_the_first_page_is_the_first_rows(built_archive: Path) -> None:
    ds = make_datasette(built_archive)
    page = get(ds, "/archive/documents.json?_shape=objects&_size=3&province=" + quote("福建省")).json()
    assert [row["id"] for row in page["rows"]] == expected(
        built_archive, "WHERE province = '福建省'", "published_on IS NULL, published_on DESC, id"
    )[:3]
    html = get(ds, "/archive/documents?_size=3")
    assert html.status_code == 200
    # the form carries the first page's cursor on: submitted with another sort, still every row from the first
    assert 'name="_next" value="~F4~8F~BF~BF,0"' in html.text
    carried = every_page(ds, "/archive/documents.json?_shape=objects&_size=7&_sort=bureau&_next=~F4~8F~BF~BF%2C0")
    assert carried == expected(built_archive, "", "bureau IS NOT NULL, bureau, id")
    by_id = get(ds, "/archive/documents.json?_shape=objects&_size=3&_sort=id&_next=%24null%2C0").json()
    assert [row["id"] for row in by_id["rows"]] == expected(built_archive, "", "id")[:3]


@pytest.mark.parametrize(
    ("args", "added"),
    [
        ({}, "~F4~8F~BF~BF,0"),
        ({"_sort_desc": ["title"]}, "~F4~8F~BF~BF,0"),
        ({"_sort": ["bureau"]}, "$null,0"),
        ({"_sort": ["id"]}, None),
        ({"_sort_desc": ["id"]}, None),
        ({"_next": ["2025-01-01,5"]}, None),
        ({"_next": ["~F4~8F~BF~BF,0"], "_sort": ["bureau"]}, "$null,0"),  # carried on from a first page
        ({"_next": ["$null,0"]}, "~F4~8F~BF~BF,0"),
    ],
)
def test_which_first_pages_get_a_cursor(args: dict[str, list[str]], added: str | None) -> None:
    assert cursor(args) == added
