"""``yibao search / show / events``: in process, and the real console script where a pipe is the point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from core.diffing import diff_versions
from storage import DocumentFilter, search_count
from storage.versions import list_versions
from tests.query.conftest import EDITED_AT, HAND, NOW, RARE, REPOST_URL, WITHDRAWN_AT, Archive


@pytest.fixture(autouse=True)
def shipped_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In-process runs see the shipped registry only (no yibao.toml, no $YIBAO_CONFIG, no $YIBAO_DB)."""
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- through the console script ---------------------------------------------------------------------


def test_search_into_a_pipe_closed_after_one_line_ends_quietly(archive: Archive, env: dict[str, str],
                                                               tmp_path: Path) -> None:  # fmt: skip
    """``yibao search 医保 --limit 1000 | head -1``: the 120 kB of results overflow the pipe, the reader leaves
    after one line; no BrokenPipeError traceback, no "Exception ignored" at exit, exit status 0."""
    script = Path(sys.executable).with_name("yibao")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]
    with subprocess.Popen([*cmd, "search", "医保", "--limit", "1000", "--db", str(archive.path)], cwd=tmp_path,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:  # fmt: skip
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # as `head -1` exits
        err = proc.stderr.read()
        code = proc.wait(60)
    assert code == 0, err.decode()
    assert first.decode() == "306 results (showing 1–306)\n" or first.decode().endswith(" results\n")
    assert err == b""


# --- in-process -------------------------------------------------------------------------------------


def test_search_text_output(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "search", "--db", str(archive.path), RARE)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "3 results"
    first = next(i for i, line in enumerate(lines) if f"#{archive.ids['rare_title']}" in line)
    assert f"关于【{RARE}】计划试点工作的通知" in lines[first]  # the title, its match marked
    assert "2025-03-10" in lines[first + 1]
    assert "厦门市思明区医疗保障局" in lines[first + 1]
    assert "政策文件" in lines[first + 1]
    assert "\x1b[" not in out  # no ANSI codes off a terminal
    positions = [out.index(f"#{archive.ids[k]}") for k in ("rare_title", "rare_body_thrice", "rare_body_once")]
    assert positions == sorted(positions)
    assert f"【{RARE}】志愿服务队" in out  # the body-only hit's snippet


def test_search_json_with_filters(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "医保", "通知", "--region", "厦门", "--kind", "policy", "--since", "2024", "--json"]
    code, out, err = run(capsys, *args, "--limit", "5", "--db", str(archive.path))
    assert code == 0, err
    payload = json.loads(out)
    filters = DocumentFilter(regions=("350200",), kinds=("policy",), since="2024")
    expected = {
        i
        for i in archive.truth("医保", "通知")
        if archive.docs[i]["region_code"].startswith("3502")
        and archive.docs[i]["kind"] == "policy"
        and (archive.docs[i]["published_on"] or "") >= "2024-01-01"
    }
    assert payload["query"] == "医保 通知"
    assert payload["total"] == len(expected) == search_count(archive.db, "医保 通知", filters) > 5
    assert len(payload["results"]) == 5
    assert {r["id"] for r in payload["results"]} <= expected
    assert all(r["region_code"].startswith("3502") and r["kind"] == "policy" for r in payload["results"])
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3, 4, 5]
    assert payload["filters"] == {"regions": ["350200"], "kinds": ["policy"], "since": "2024-01-01"}


def test_search_bad_query_exits_2(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "search", "--db", str(archive.path), "--", "-医保")
    assert code == 2
    assert "yibao search:" in err
    assert "not excluded" in err
    assert out == ""


def test_search_unknown_region_name_exits_2(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "search", "--db", str(archive.path), "医保", "--region", "火星市")
    assert code == 2
    assert "unknown region '火星市'" in err
    assert "厦门市" in err  # the names it knows


def test_search_no_results_and_other_errors(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(archive.path)
    assert run(capsys, "search", "--db", db, "不存在的词组甲乙") == (0, "0 results\n", "")
    code, out, _ = run(capsys, "search", "--db", db, "--json", "不存在的词组甲乙")
    assert (code, json.loads(out)["total"], json.loads(out)["results"]) == (0, 0, [])
    code, _, err = run(capsys, "search", "--db", db, "医保", "--portal", "no_such_portal")
    assert (code, "unknown portal 'no_such_portal'" in err) == (2, True)
    code, _, err = run(capsys, "search", "--db", db, "医保", "--since", "2025-13")
    assert (code, "not a date" in err) == (2, True)
    code, _, err = run(capsys, "search", "--db", str(Path("missing.db").resolve()), "医保")
    assert (code, "no archive at" in err) == (2, True)


def test_search_region_names_and_status(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(archive.path)
    for name, prefix in (
        ("福建", "35"),
        ("福建省", "35"),
        ("宁德市", "3509"),
        ("中山市医疗保障局", "442000"),
    ):
        code, out, _ = run(capsys, "search", "--db", db, "通知", "--region", name, "--json", "--limit", "500")
        payload = json.loads(out)
        expected = {i for i in archive.truth("通知") if archive.docs[i]["region_code"].startswith(prefix)}
        assert code == 0
        assert {r["id"] for r in payload["results"]} == expected, name
    code, out, _ = run(capsys, "search", "--db", db, "通知", "--status", "withdrawn")
    assert code == 0
    assert out.startswith("1 result\n")
    assert f"#{archive.ids['withdrawn']}" in out
    assert "[withdrawn 已撤下]" in out


def test_search_by_deputy_and_adoption(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(archive.path)
    code, out, _ = run(capsys, "search", "--db", db, "建议", "--deputy", "张三", "--adoption", "部分采纳", "--json")
    payload = json.loads(out)
    assert code == 0
    assert [r["id"] for r in payload["results"]] == [archive.ids["reply"]]
    assert payload["filters"] == {"deputies": ["张三"], "adoption": ["部分采纳"]}
    code, out, _ = run(capsys, "search", "--db", db, "建议", "--deputy", "张三", "--adoption", "留作参考")
    assert (code, out) == (0, "0 results\n")


def test_search_sorted_by_date(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(archive.path)
    code, out, _ = run(capsys, "search", "--db", db, "通知", "--sort", "newest", "--json", "--limit", "500")
    payload = json.loads(out)
    dates = [r["published_on"] for r in payload["results"]]
    assert (code, payload["sort"]) == (0, "newest")
    assert dates[-1] is None  # the undated document last
    assert dates[:-1] == sorted(dates[:-1], reverse=True)
    code, out, err = run(capsys, "search", "--db", db, "通知", "--sort", "random")  # not one of the choices
    assert (code, out) == (2, "")
    assert "'random' is not one of 'rank', 'bm25', 'newest', 'oldest'" in err


def test_a_file_that_is_not_an_archive_and_an_unwritable_output_are_clear_errors(
    archive: Archive, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not an archive", encoding="utf-8")
    for command in (["search", "医保"], ["show", "1"], ["events"], ["export", "--format", "csv"], ["serve"]):
        code, _, err = run(capsys, *command, "--db", str(bad))
        assert (code, err) == (2, "yibao: cannot use the archive: file is not a database\n"), command
    assert bad.read_text(encoding="utf-8") == "not an archive"  # left as it was
    target = tmp_path / "missing-dir" / "out.csv"
    code, _, err = run(capsys, "export", "--format", "csv", "--db", str(archive.path), "-o", str(target))
    assert (code, err) == (2, f"yibao export: cannot write {target}: No such file or directory\n")


def test_show_text(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    doc_id = archive.ids["tricky"]
    code, out, _ = run(capsys, "show", str(doc_id), "--db", str(archive.path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"#{doc_id} " + HAND["tricky"].title.replace("\n", " ")  # one line, control chars gone
    assert any(line.startswith("代表/委员 deputies") and line.endswith("王五") for line in lines)
    assert any(line.startswith("答复类别 reply class") and line.endswith("B") for line in lines)
    assert any(line.startswith("类别 kind") and line.endswith("提案答复 (proposal_reply)") for line in lines)
    assert any(line.startswith("附件 attachments") and line.endswith("附件1.pdf") for line in lines)
    assert HAND["tricky"].url in out
    assert REPOST_URL in out
    assert "sichuan" in out
    assert "测试栏目" in out  # the column the first posting was listed in
    assert "第一段, 含逗号" in out
    assert "第四段" not in out  # only the start of the body without --body
    assert "第四段, 末尾" in run(capsys, "show", str(doc_id), "--body", "--db", str(archive.path))[1]


def test_show_versions_and_withdrawn(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    doc_id = archive.ids["edited"]
    code, out, _ = run(capsys, "show", str(doc_id), "--versions", "--db", str(archive.path))
    assert code == 0
    v1, v2 = list_versions(archive.db, doc_id)
    summary = diff_versions(v1, v2).summary()
    assert "0.72" in summary
    assert f"diff: {summary}" in out
    assert f"v1  {NOW}  新文档：" in out
    assert f"v2  {EDITED_AT}  内容修改（正文）：" in out
    code, out, _ = run(capsys, "show", str(archive.ids["withdrawn"]), "--db", str(archive.path))
    assert code == 0
    assert any(line.startswith("状态 status") and line.endswith("withdrawn") for line in out.splitlines())
    assert f"{WITHDRAWN_AT}  已撤下 (withdrawn)  已撤下：关于暂停某项服务的通知" in out


def test_show_json(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    doc_id = archive.ids["edited"]
    code, out, _ = run(capsys, "show", str(doc_id), "--json", "--versions", "--db", str(archive.path))
    assert code == 0
    shown = json.loads(out)
    assert shown["document"]["title"] == HAND["edited"].title
    assert shown["record"]["body_text"] == archive.docs[doc_id]["body_text"]
    assert shown["record"]["doc_no"] == "测医保〔2025〕116号"
    assert [(v["no"], v["event_kind"]) for v in shown["versions"]] == [(1, "new"), (2, "edited")]
    assert shown["versions"][1]["changed_fields"] == ["body_text"]
    assert "0.72" in shown["versions"][1]["diff_summary"]
    assert [e["kind"] for e in shown["events"]] == ["new", "edited"]
    assert [p["url"] for p in shown["postings"]] == [HAND["edited"].url]
    tricky = json.loads(
        run(capsys, "show", str(archive.ids["tricky"]), "--json", "--db", str(archive.path))[1]
    )
    assert tricky["document"]["title"] == HAND["tricky"].title
    assert tricky["document"]["deputies"] == ["王五"]
    assert [(p["portal_id"], p["url"]) for p in tricky["postings"]] == [
        ("fujian_xiamen", HAND["tricky"].url),
        ("sichuan", REPOST_URL),
    ]


def test_show_unknown_document_exits_1(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", "999999", "--db", str(archive.path))
    assert (code, out) == (1, "")
    assert "unknown document 999999" in err


def test_events(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(archive.path)
    code, out, _ = run(capsys, "events", "--db", db, "--json", "--limit", "3")
    events = json.loads(out)["events"]
    assert code == 0
    assert [(e["kind"], e["document_id"]) for e in events] == [
        ("withdrawn", archive.ids["withdrawn"]),
        ("edited", archive.ids["edited"]),
        ("new", max(archive.ids.values())),
    ]
    assert events[1]["title"] == HAND["edited"].title
    assert events[1]["changed_fields"] == ["body_text"]
    code, out, _ = run(capsys, "events", "--db", db, "--json", "--since", "2025-08-19")
    assert [e["kind"] for e in json.loads(out)["events"]] == ["withdrawn", "edited"]
    code, out, _ = run(
        capsys, "events", "--db", db, "--json", "--kind", "new", "--portal", "sichuan", "--limit", "500"
    )
    got = json.loads(out)["events"]
    (expected,) = archive.db.execute(
        "SELECT COUNT(*) FROM events WHERE kind = 'new' AND portal_id = 'sichuan'"
    ).fetchone()
    assert len(got) == expected > 0
    assert {(e["kind"], e["portal_id"]) for e in got} == {("new", "sichuan")}
    assert [e["id"] for e in got] == sorted(
        (e["id"] for e in got), reverse=True
    )  # same time: newest id first
    code, out, _ = run(capsys, "events", "--db", db, "--kind", "edited")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "1 event"
    assert lines[1].startswith(f"{EDITED_AT}  内容修改 edited")
    assert f"#{archive.ids['edited']}" in lines[1]
    assert lines[1].endswith(HAND["edited"].title)
    assert "内容修改（正文）" in lines[2]
    code, _, err = run(capsys, "events", "--db", db, "--kind", "deleted")
    assert (code, "unknown event kind 'deleted'" in err) == (2, True)
