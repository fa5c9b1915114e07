"""``yibao status``: the last failure with its reason and crawl log, full-width plain columns off a terminal,
exit status 1 while an enabled portal's last run is failed or blocked."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cli.table import print_table
from storage import finish_run, open_db, start_run
from tests.cli.conftest import Archive, Invoke
from tests.crawler.helpers import generic_portal

REASON = "finished; 4 requests, 4 responses, 3 list pages, 0 articles listed, 0 documents, 0 blocked, 0 errors"


def test_json_names_the_last_failure_its_reason_and_log(invoke: Invoke, archive: Archive) -> None:
    done = invoke("status", "--json", "--db", str(archive.path))
    assert done.exit_code == 1  # fujian_xiamen's last run failed
    rows = {row["portal"]: row for row in json.loads(done.stdout)}
    xiamen = rows["fujian_xiamen"]
    assert xiamen["health"] == "failed"
    assert xiamen["last_failure"] == {"run": archive.failed_run, "started_at": "2025-08-19T02:00:00Z",
                                      "health": "failed", "reason": REASON, "log": str(archive.log)}  # fmt: skip
    assert xiamen["log"] == str(archive.log)  # the last run's log
    ningde = rows["fujian_ningde"]
    assert (ningde["health"], ningde["last_failure"], ningde["log"]) == ("ok", None, None)
    assert rows["nhsa"]["last_run"] is None


def test_text_is_full_width_off_a_terminal(invoke: Invoke, archive: Archive, tmp_path: Path) -> None:
    long_id = "a_portal_with_a_rather_long_identifier_" + "x" * 20
    config = tmp_path / "long.toml"
    config.write_text(generic_portal(long_id, "http://127.0.0.1:9/list/", link="a", body="p"), encoding="utf-8")
    done = invoke("status", "--config", str(config), "--db", str(archive.path))
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["portal", "last", "run", "(UTC)", "health", "documents", "events", "7d", "next",
                                "run", "failures"]  # fmt: skip
    row = next(line for line in lines if line.startswith(long_id))
    assert row.split()[1:4] == ["-", "-", "0"]  # whole, on one line: no wrapping, no ellipsis
    assert len(row) > 80
    assert "…" not in done.stdout
    xiamen = next(line for line in lines if line.startswith("fujian_xiamen "))
    assert xiamen.split()[1:3] == ["2025-08-19T02:00:00Z", "failed"]
    tail = lines[lines.index("last failures:") :]
    assert tail[1] == f"  fujian_xiamen  2025-08-19T02:00:00Z  failed (run {archive.failed_run}): {REASON}"
    assert tail[2] == f"    log: {archive.log}"


def test_exit_0_once_the_portal_recovered_and_the_failure_stays_visible(invoke: Invoke, archive: Archive) -> None:
    db = open_db(archive.path)
    run = start_run(db, "fujian_xiamen", now="2025-08-20T02:00:00Z")
    finish_run(db, run, finish_reason="finished", health="ok", now="2025-08-20T02:00:00Z")
    db.close()
    done = invoke("status", "--json", "--db", str(archive.path))
    assert done.exit_code == 0, done.stderr
    xiamen = {row["portal"]: row for row in json.loads(done.stdout)}["fujian_xiamen"]
    assert (xiamen["health"], xiamen["log"]) == ("ok", None)  # this run was a `yibao crawl`: no log file
    assert xiamen["last_failure"]["run"] == archive.failed_run


def test_a_failed_portal_that_is_disabled_does_not_fail_status(invoke: Invoke, archive: Archive,
                                                              tmp_path: Path) -> None:  # fmt: skip
    config = tmp_path / "off.toml"
    config.write_text('[[portals]]\nid = "fujian_xiamen"\nenabled = false\n', encoding="utf-8")
    done = invoke("status", "--config", str(config), "--db", str(archive.path))
    assert done.exit_code == 0, done.stderr
    assert "fujian_xiamen  2025-08-19T02:00:00Z  failed" in done.stdout  # still shown


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_rich_table() -> None:
    out = Terminal()
    print_table("yibao status", ("portal", "documents"), [("厦门", "12")], right=("documents",), stream=out)
    text = out.getvalue()
    assert "yibao status" in text
    assert "厦门" in text
    assert "┃" in text or "│" in text  # box drawing: rich's table, not the plain columns
    plain = io.StringIO()
    print_table("yibao status", ("portal", "documents"), [("厦门", "12")], right=("documents",), stream=plain)
    assert plain.getvalue() == "portal  documents\n厦门           12\n"
