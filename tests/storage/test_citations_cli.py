"""``yibao show`` lists cites / cited by / replaces / replaced by; ``--cites`` filters search and export;
the export carries each document's citations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli.main import main
from storage import open_db, record, start_run
from tests.storage.factories import LATER, NOW
from tests.storage.test_citations import (
    OLD_NO,
    OLD_TITLE,
    citing_reply,
    crawled_before,
    doc_id,
    new_policy,
    old_policy,
)


@pytest.fixture(autouse=True)
def shipped_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "archive.db"
    db = open_db(path)
    crawled_before(db)  # the baselines are complete: the later crawl's supersession is news
    run = start_run(db, "fujian_xiamen", now=NOW)
    record(db, old_policy(), run_id=run, now=NOW)
    record(db, citing_reply(f"根据《{OLD_TITLE}》（厦医保规〔2019〕2号），您反映的门诊问题已按规定办理。"), run_id=run, now=NOW)
    record(db, new_policy(), run_id=start_run(db, "fujian_xiamen", now=LATER), now=LATER)  # a later crawl
    ids = {"old": doc_id(db, old_policy().url), "reply": doc_id(db, citing_reply("").url),
           "new": doc_id(db, new_policy().url)}  # fmt: skip
    db.close()
    return path, ids


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_show_lists_the_links_both_ways(archive: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = archive
    shown = json.loads(run_cli(capsys, "show", str(ids["old"]), "--json", "--db", str(path)))
    links = shown["links"]
    assert [(x["document_id"], x["relation"]) for x in links["cited_by"]] == [
        (ids["reply"], "implements"), (ids["new"], "abolishes")]  # fmt: skip
    assert [(x["document_id"], x["relation"]) for x in links["replaced_by"]] == [(ids["new"], "abolishes")]
    assert links["cites"] == links["replaces"] == []
    assert "superseded" in [e["kind"] for e in shown["events"]]

    text = run_cli(capsys, "show", str(ids["old"]), "--color", "never", "--db", str(path))
    assert "被引用 cited by" in text
    assert "被替代/废止 replaced by" in text
    assert f"#{ids['new']}  废止 abolishes  厦医保规〔2025〕1号" in text
    assert "已被替代 (superseded)" in text  # among the other events, with the registry's label

    text = run_cli(capsys, "show", str(ids["new"]), "--color", "never", "--db", str(path))
    assert "替代/废止 replaces" in text
    assert f"#{ids['old']}  废止 abolishes  {OLD_NO} 《{OLD_TITLE}》" in text


def test_cites_filters_export_and_search(archive: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = archive
    out = run_cli(capsys, "export", "--json", "--cites", "厦医保规[2019]2号", "--db", str(path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == sorted([ids["reply"], ids["new"]])
    reply = next(r for r in rows if r["id"] == ids["reply"])
    assert reply["citations"] == [
        {"relation": "implements", "doc_no": OLD_NO, "title": OLD_TITLE, "kind": "document", "document_id": ids["old"]}
    ]
    out = run_cli(capsys, "export", "--json", "--cites", "厦医保规〔2030〕1号", "--db", str(path))
    assert out == ""

    found = json.loads(run_cli(capsys, "search", "门诊", "--cites", f"《{OLD_TITLE}》", "--json", "--db", str(path)))
    assert sorted(r["id"] for r in found["results"]) == sorted([ids["reply"], ids["new"]])
    assert found["filters"]["cites"] == [f"《{OLD_TITLE}》"]
    found = json.loads(run_cli(capsys, "search", "门诊", "--json", "--db", str(path)))
    assert ids["old"] in [r["id"] for r in found["results"]]


def test_the_csv_export_has_a_citations_column(
    archive: tuple[Path, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = archive
    target = tmp_path / "out.csv"
    run_cli(capsys, "export", "--format", "csv", "-o", str(target), "--db", str(path))
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = {int(r["id"]): r for r in csv.DictReader(fh)}
    assert rows[ids["new"]]["citations"] == f"abolishes {OLD_NO} → #{ids['old']}"
    assert rows[ids["old"]]["citations"] == ""
