"""A search kept on the documents table (``webui.table_search``): its matches read once a request, given
to Datasette as a list of ids or as one byte per id, and its facets counted from the facet values kept in
memory (``storage.facet_columns``) -- the same rows, count and facets as the search evaluated in SQL,
including after the archive changes under a running server."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from storage import build_query, open_db, search_ids, write_transaction
from storage.search import fts_insert
from tests.webui.test_facets import expected, facets_of, get
from webui import table_search
from webui.app import make_datasette

TERMS = ["门诊", "医保 结算", '"按病种分值付费"', "感谢 -门诊", "火星文"]


def _in_search(term: str) -> tuple[str, tuple[str, ...]]:
    return "WHERE id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)", (build_query(term).match,)


@pytest.mark.parametrize("form", ["listed", "bits"])
def test_rows_count_and_facets_equal_the_search_in_sql(
    built_archive: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if form == "bits":  # every search given as one byte per id (the form of a common term at 1M documents)
        monkeypatch.setattr(table_search, "LIST_MAX", -1)
    ds = make_datasette(built_archive)
    db = open_db(built_archive)
    for term in TERMS:
        truth = search_ids(db, term)
        data = get(ds, f"/archive/documents.json?_search={quote(term)}&_table=1&_shape=objects&_size=max").json()
        assert {row["id"] for row in data["rows"]} == truth, term
        assert data["filtered_table_rows_count"] == len(truth), term
        # page by page, by id (Datasette's keyset pagination; by date it is not exact: docs/web.md)
        paged: list[int] = []
        url: str | None = f"/archive/documents.json?_search={quote(term)}&_table=1&_shape=objects&_size=7&_sort=id"
        while url:
            page = get(ds, url).json()
            paged += [row["id"] for row in page["rows"]]
            url = page["next_url"] and page["next_url"].split("://", 1)[-1].split("/", 1)[-1]
            url = url and "/" + url
        assert paged == sorted(truth), term
        where, params = _in_search(term)
        assert facets_of(ds, f"_search={quote(term)}&_table=1") == expected(built_archive, where, params), term
        for column, value in (("province", "福建省"), ("kind", "suggestion_reply")):
            shown = facets_of(ds, f"_search={quote(term)}&_table=1&{column}={quote(value)}")
            assert shown == expected(
                built_archive, f"{where} AND {column} = ?", (*params, value), {f"{column}={value}"}
            ), (term, column)
    db.close()


def test_a_search_with_another_filter_groups_its_rows(built_archive: Path) -> None:
    ds = make_datasette(built_archive)
    where, params = _in_search("门诊")
    shown = facets_of(ds, f"_search={quote('门诊')}&_table=1&published_on__gte=2025-03-01")
    assert shown == expected(built_archive, f"{where} AND published_on >= ?", (*params, "2025-03-01"))


def test_the_facets_follow_the_archive_under_a_running_server(built_archive: Path, tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    shutil.copy(built_archive, path)
    ds = make_datasette(path)
    term = "门诊"
    before = facets_of(ds, f"_search={quote(term)}&_table=1")
    db = open_db(path)
    (doc_id,) = db.execute(
        "SELECT id FROM documents WHERE status = 'active'"
        " AND id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?) LIMIT 1",
        [build_query(term).match],
    ).fetchone()
    with write_transaction(db):  # withdrawn (as storage.withdrawals does), moved to another region, and
        # a new document row above every id
        db.execute("UPDATE documents SET status = 'withdrawn', withdrawn_at = 'x' WHERE id = ?", [doc_id])
        db.execute("UPDATE documents SET region_code = '510100' WHERE id = ?", [doc_id])
        db.execute(
            "INSERT INTO documents (id, identity_key, title, kind, region_code, published_on, first_seen_at,"
            " last_changed_at) VALUES (100000, 'k', 't', 'report', '110000', '2020-05-05', 'x', 'x')"
        )
        fts_insert(db, 100000, "门诊报销的答复", None, "关于门诊报销的答复。")
    db.close()
    after = facets_of(ds, f"_search={quote(term)}&_table=1")
    where, params = _in_search(term)
    assert after == expected(path, where, params)
    assert after != before
    assert ("withdrawn", 1, False) in after["status"]
    with write_transaction(db := open_db(path)):  # deleted again
        db.execute("DELETE FROM documents WHERE id = 100000")
    db.close()
    assert facets_of(ds, f"_search={quote(term)}&_table=1") == expected(path, where, params)


def test_the_sql_reads_the_matches_again_when_its_token_is_gone(built_archive: Path) -> None:
    """The table's SQL (its "View and edit SQL" link) is right on its own: an unknown token reads the
    matches on the connection; an unusable query matches nothing, as ``yibao_match`` does."""
    conn = sqlite3.connect(built_archive)
    table_search.register_functions(conn)
    truth = search_ids(open_db(built_archive, migrate=False), "门诊")
    for sql in (table_search.LIST_FILTER, table_search.BITS_FILTER):
        rows = conn.execute(f"SELECT id FROM documents WHERE {sql}", {"yibao_search": "门诊", "yibao_token": "gone"})
        assert {i for (i,) in rows} == truth
        rows = conn.execute(f"SELECT id FROM documents WHERE {sql}", {"yibao_search": "-门诊", "yibao_token": None})
        assert rows.fetchall() == []
    conn.close()


def test_only_the_newest_match_sets_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    monkeypatch.setattr(table_search, "KEPT", 3)
    tokens = [table_search.keep(table_search.Hits(np.arange(i + 1, dtype=np.int64))) for i in range(5)]
    assert [table_search.kept(t) is not None for t in tokens] == [False, False, True, True, True]
    assert table_search.kept(tokens[-1]).bits == b"\x01" * 5  # type: ignore[union-attr]


def _reads_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The searches whose matches are read from the index (``match_ids`` runs, not a reused set)."""
    reads: list[str] = []
    real = table_search.match_ids

    def counted(db, query):  # type: ignore[no-untyped-def]
        reads.append(query.match)
        return real(db, query)

    monkeypatch.setattr(table_search, "match_ids", counted)
    return reads


@pytest.fixture
def copied(built_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """A copy of the archive to change, no match set kept yet, and the searches read from the index since."""
    path = tmp_path / "archive.db"
    shutil.copy(built_archive, path)
    table_search.forget()
    return path, _reads_counted(monkeypatch)


def _ids(ds: Any, term: str, extra: str = "") -> set[int]:
    url = f"/archive/documents.json?_search={quote(term)}&_table=1&_shape=objects&_size=max{extra}"
    return {row["id"] for row in get(ds, url).json()["rows"]}


def test_a_search_s_matches_are_reused_until_the_archive_changes(
    built_archive: Path, tmp_path: Path, copied: tuple[Path, list[str]]
) -> None:
    path, reads = copied
    ds = make_datasette(path)
    truth = search_ids(open_db(path, migrate=False), "门诊")
    assert _ids(ds, "门诊") == truth
    assert _ids(ds, "门诊", "&kind=suggestion_reply") <= truth  # another facet value, the next page: the same set
    assert _ids(ds, " 门诊 ") == truth  # the same query written otherwise
    assert len(reads) == 1
    assert _ids(ds, "医保") == search_ids(open_db(path, migrate=False), "医保")
    assert len(reads) == 2

    db = open_db(path)  # another connection commits (as a crawl does): a new match
    with write_transaction(db):
        db.execute(
            "INSERT INTO documents (id, identity_key, title, kind, region_code, published_on, first_seen_at,"
            " last_changed_at) VALUES (100000, 'k', 't', 'report', '110000', '2020-05-05', 'x', 'x')"
        )
        fts_insert(db, 100000, "门诊报销的答复", None, "关于门诊报销的答复。")
    db.close()
    assert _ids(ds, "门诊") == truth | {100000}
    assert len(reads) == 3
    assert _ids(ds, "门诊") == truth | {100000}
    assert len(reads) == 3

    # another file put in the archive's place (a restored copy): a connection to it gets its matches, not
    # the set kept for the file it replaced
    replacement = tmp_path / "restored.db"
    shutil.copy(built_archive, replacement)
    replacement.replace(path)
    for journal in ("-wal", "-shm"):  # a restore replaces the file whole
        Path(f"{path}{journal}").unlink(missing_ok=True)
    restored = open_db(path, migrate=False)
    assert set(table_search.matches(restored, "门诊").ids.tolist()) == truth
    assert len(reads) == 4
    restored.close()


def test_a_commit_while_the_matches_are_read_makes_them_stale(
    copied: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive's state is read before the matches: a set read across a commit is not reused."""
    path, reads = copied
    counted = table_search.match_ids

    def committing(db, query):  # type: ignore[no-untyped-def]
        if not reads:  # the first read: another connection commits while it runs
            with write_transaction(writer := open_db(path)):
                writer.execute("UPDATE documents SET title = title || '。' WHERE id = 1")
            writer.close()
        return counted(db, query)

    monkeypatch.setattr(table_search, "match_ids", committing)
    archive = open_db(path, migrate=False)
    first = table_search.matches(archive, "门诊")
    again = table_search.matches(archive, "门诊")
    assert again is not first  # read again: the first set might have missed the commit
    assert table_search.matches(archive, "门诊") is again  # and that one is reused
    assert len(reads) == 2


def test_an_archive_gone_from_its_path_is_searched_without_reuse(copied: tuple[Path, list[str]]) -> None:
    path, reads = copied
    archive = open_db(path, migrate=False)
    truth = search_ids(archive, "门诊")
    path.unlink()  # the open connection still reads the file; nothing can tell whether it changes
    assert set(table_search.matches(archive, "门诊").ids.tolist()) == truth
    assert set(table_search.matches(archive, "门诊").ids.tolist()) == truth
    assert len(reads) == 2
    archive.close()
