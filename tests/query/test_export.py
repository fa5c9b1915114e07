"""iter_documents / count_documents and ``yibao export``: every row read back equals the archive."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from storage import DocumentFilter, count_documents, iter_documents
from storage.query import EXPORT_FIELDS
from tests.query.conftest import EDITED_BODY_V2, GENERATED, HAND, RARE, TRICKY_BODY, TRICKY_TITLE, Archive

LISTS = {"deputies": "、", "adoption": "、", "urls": " "}


@pytest.fixture(autouse=True)
def shipped_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def expected_row(d: dict[str, Any]) -> dict[str, Any]:
    """The export row of a snapshot document (conftest reads the archive without storage.query)."""
    row = {name: d.get(name) for name in EXPORT_FIELDS}
    row.update(
        meeting=d["meeting_text"],
        adoption=d["record"]["adoption"],
        versions=d["versions"],
        urls=sorted(d["urls"]),
    )
    return row


def normalised(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "urls": sorted(row["urls"])}  # postings come first-seen first; ties in any order


def csv_expected(d: dict[str, Any]) -> dict[str, str]:
    row = expected_row(d)
    out = {}
    for name, value in row.items():
        if isinstance(value, list):
            value = LISTS[name].join(value)
        out[name] = "" if value is None else str(value)
    return out


def test_iter_documents_streams_every_document_in_id_order(archive: Archive) -> None:
    rows = list(iter_documents(archive.db, batch=7))  # many short batches: the page boundaries are exercised
    assert [r["id"] for r in rows] == sorted(archive.docs)
    assert len(rows) == count_documents(archive.db) == len(archive.docs) == GENERATED + len(HAND)
    for row in rows:
        assert list(row) == list(EXPORT_FIELDS)
        assert normalised(row) == expected_row(archive.docs[row["id"]])
    by_id = {r["id"]: r for r in rows}
    reply = by_id[archive.ids["reply"]]
    assert (reply["deputies"], reply["adoption"], reply["reply_class"]) == (
        ["张三", "李四"],
        ["采纳", "部分采纳"],
        "A",
    )
    assert reply["meeting"] == "市十六届人大五次会议"
    edited = by_id[archive.ids["edited"]]
    assert (edited["versions"], edited["body_text"]) == (2, EDITED_BODY_V2)
    assert len(by_id[archive.ids["tricky"]]["urls"]) == 2
    assert by_id[archive.ids["withdrawn"]]["status"] == "withdrawn"
    assert by_id[archive.ids["withdrawn"]]["withdrawn_at"] is not None


def test_iter_documents_with_filters_and_query(archive: Archive) -> None:
    filters = DocumentFilter(regions=("350000",), since="2025", until="2025-08")
    keep = {
        i
        for i, d in archive.docs.items()
        if d["region_code"].startswith("35") and "2025-01-01" <= (d["published_on"] or "") <= "2025-08-31"
    }
    assert 0 < len(keep) < len(archive.docs)
    for batch in (1, 5, 1000):
        assert [r["id"] for r in iter_documents(archive.db, filters, batch=batch)] == sorted(keep)
    assert count_documents(archive.db, filters) == len(keep)
    truth = archive.truth(RARE)
    assert [r["id"] for r in iter_documents(archive.db, query=RARE, batch=2)] == sorted(truth)
    assert count_documents(archive.db, query=RARE) == len(truth) == 3
    both = sorted(truth & keep)
    assert [r["id"] for r in iter_documents(archive.db, filters, query=RARE)] == both
    assert count_documents(archive.db, filters, query=RARE) == len(both) == 2  # not the 2024 report
    assert list(iter_documents(archive.db, query="不存在的词组甲乙")) == []
    assert count_documents(archive.db, DocumentFilter(kinds=("policy",), statuses=("withdrawn",))) == 0


def test_export_jsonl_round_trip(
    archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs.jsonl"
    args = ["export", "--format", "jsonl", "--region", "福建", "--since", "2025", "-o", str(out)]
    assert main([*args, "--db", str(archive.path)]) == 0
    _, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    filters = DocumentFilter(regions=("350000",), since="2025")
    expected = sorted(
        i
        for i, d in archive.docs.items()
        if d["region_code"][:2] == "35" and (d["published_on"] or "") >= "2025"
    )
    assert len(rows) == count_documents(archive.db, filters) == len(expected)
    assert err == f"exported {len(rows)} documents to {out}\n"  # and no progress bar off a terminal
    assert [r["id"] for r in rows] == expected
    for row in rows:  # the export adds each document's citations (tests/storage/test_citations_cli.py)
        assert isinstance(row.pop("citations"), list)
        assert normalised(row) == expected_row(archive.docs[row["id"]])
    tricky = next(r for r in rows if r["id"] == archive.ids["tricky"])
    assert (tricky["title"], tricky["body_text"]) == (TRICKY_TITLE, TRICKY_BODY)
    assert not (tmp_path / "docs.jsonl.part").exists()


def test_export_csv_round_trip(archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs.csv"
    assert main(["export", "--format", "csv", "-o", str(out), "--db", str(archive.path)]) == 0
    capsys.readouterr()
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,title,kind,")  # UTF-8 with a BOM, for Excel
    with out.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [*EXPORT_FIELDS, "citations"]
        rows = list(reader)
    assert len(rows) == count_documents(archive.db) == len(archive.docs)
    for row in rows:
        row.pop("citations")  # tests/storage/test_citations_cli.py
        expected = csv_expected(archive.docs[int(row["id"])])
        assert {**row, "urls": " ".join(sorted(row["urls"].split()))} == expected
    tricky = next(r for r in rows if r["id"] == str(archive.ids["tricky"]))
    assert tricky["title"] == TRICKY_TITLE  # quote, comma, newline and <script> survive
    assert tricky["body_text"] == TRICKY_BODY
    assert tricky["deputies"] == "王五"
    reply = next(r for r in rows if r["id"] == str(archive.ids["reply"]))
    assert (reply["deputies"], reply["adoption"]) == ("张三、李四", "采纳、部分采纳")


def test_export_with_query_to_stdout(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "jsonl", "--query", RARE, "--db", str(archive.path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == sorted(archive.truth(RARE))
    assert (
        main(["export", "--format", "csv", "--query", RARE, "--kind", "report", "--db", str(archive.path)])
        == 0
    )
    out, _ = capsys.readouterr()
    rows = list(csv.DictReader(out.removeprefix("\ufeff").splitlines(keepends=True)))
    assert [int(r["id"]) for r in rows] == [archive.ids["rare_body_thrice"]]
    assert main(["export", "--format", "csv", "--query=-医保", "--db", str(archive.path)]) == 2
    assert "not excluded" in capsys.readouterr().err
