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


def test_search_without_a_query_lists_every_document_citing_it(
    archive: tuple[Path, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = archive
    db = open_db(path)  # a dated reply citing it by title, between the two policies
    record(db, citing_reply(f"按照《{OLD_TITLE}》要求执行。", url="https://nd.example.gov.cn/jytabl/r2.html",
                            title="对市十六届人大五次会议第0107号建议的答复", proposal_no="0107",
                            published_on="2024-05-01"), run_id=start_run(db, "fujian_ningde", now=LATER), now=LATER)  # fmt: skip
    dated = doc_id(db, "https://nd.example.gov.cn/jytabl/r2.html")
    db.close()

    found = json.loads(run_cli(capsys, "search", "--cites", "厦医保规[2019]2号", "--json", "--db", str(path)))
    # newest published first, the undated reply last; the count is exact
    assert [r["id"] for r in found["results"]] == [ids["new"], dated, ids["reply"]]
    assert (found["query"], found["total"], found["total_is_lower_bound"], found["sort"]) == ("", 3, False, "newest")
    assert found["filters"] == {"cites": ["厦医保规[2019]2号"]}
    first = found["results"][0]
    assert (first["rank"], first["relation"], first["score"], first["published_on"]) == (1, "abolishes", None, "2025-03-20")
    assert f"【{OLD_TITLE}】" in first["snippet"]  # the clause citing it, the cited title marked
    assert [r["relation"] for r in found["results"][1:]] == ["implements", "implements"]

    oldest = json.loads(run_cli(capsys, "search", "--cites", f"《{OLD_TITLE}》", "--sort", "oldest", "--json",
                                "--db", str(path)))  # fmt: skip
    assert [r["id"] for r in oldest["results"]] == [dated, ids["new"], ids["reply"]]
    replies = json.loads(run_cli(capsys, "search", "--cites", OLD_NO, "--kind", "suggestion_reply", "--since", "2024",
                                 "--json", "--db", str(path)))  # fmt: skip
    assert ([r["id"] for r in replies["results"]], replies["total"]) == ([dated], 1)

    text = run_cli(capsys, "search", "--cites", OLD_NO, "--limit", "2", "--color", "never", "--db", str(path))
    lines = text.splitlines()
    assert lines[0] == "3 results (showing 1–2)"
    assert f"  #{ids['new']}" in lines[2]
    assert "2025-03-20" in lines[3]
    assert lines[4].startswith("     废止 abolishes  ")
    assert f"【{OLD_TITLE}】" in lines[4]
    assert f"  #{dated}" in lines[6]
    assert "依据 implements" in lines[8]
    assert f"#{ids['reply']}" not in text
    text = run_cli(capsys, "search", "--cites", OLD_NO, "--offset", "2", "--color", "never", "--db", str(path))
    assert text.splitlines()[0] == "3 results (showing 3–3)"
    assert f"  #{ids['reply']}" in text
    assert run_cli(capsys, "search", "--cites", "厦医保规〔2030〕1号", "--db", str(path)) == "0 results\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a QUERY, or --cites"),
        (["--kind", "policy"], "give a QUERY, or --cites"),
        (["--cites", OLD_NO, "--sort", "bm25"], "--sort bm25 ranks the matches of a QUERY"),
        (["--cites", OLD_NO, "--sort", "rank"], "--sort rank ranks the matches of a QUERY"),
    ],
)
def test_search_without_a_query_needs_cites_and_a_date_order(
    archive: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path, _ = archive
    assert main(["search", *args, "--db", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
