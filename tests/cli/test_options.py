"""``--config``, ``--db``, ``--json`` and ``--log-level`` before or after every command; ``$YIBAO_DB``;
``--version``; ``--json`` refused by the commands that have no JSON output."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.app import App, Options
from cli.crawl import scrapy_settings
from tests.cli.conftest import Archive, Invoke
from tests.crawler.helpers import SHIPPED

Check = Callable[[str, str], None]


def as_json(check: Callable[[object], bool]) -> Check:
    def run(out: str, err: str) -> None:
        assert check(json.loads(out)), out

    return run


def lines_of_json(out: str, err: str) -> None:
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["id"] for r in rows) == [1, 2, 3]


def contains(*texts: str) -> Check:
    def run(out: str, err: str) -> None:
        for text in texts:
            assert text in out + err, (out, err)

    return run


# (command, options to give before or after it: "config" = --config FILE --json, exit code, check)
CASES = {
    "portals": (["portals"], 0, as_json(lambda d: {p["id"]: p["enabled"] for p in d}["sichuan"] is False)),
    "status": (["status"], 1, as_json(lambda d: {r["portal"]: r for r in d}["fujian_xiamen"]["last_failure"])),
    "search": (["search", "医保"], 0, as_json(lambda d: d["total"] >= 1 and d["query"] == "医保")),
    "show": (["show", "1"], 0, as_json(lambda d: [v["no"] for v in d["versions"]] == [1, 2])),
    "events": (["events"], 0, as_json(lambda d: {e["kind"] for e in d["events"]} == {"new", "edited"})),
    "export": (["export"], 0, lines_of_json),
    "diff": (["diff", "1"], 0, as_json(lambda d: d["counts"]["changed"] == 1)),
    "dispatch": (["dispatch"], 0, as_json(lambda d: d["claimed"] == 0)),
    "deliveries": (["deliveries"], 0, as_json(lambda d: d == [])),
    "deliveries-retry": (["deliveries", "retry", "--all-dead"], 0, as_json(lambda d: d == {"requeued": 0})),
    "alerts-list": (["alerts", "list"], 0, as_json(lambda d: [w["name"] for w in d] == ["desk"])),
    "alerts-test": (["alerts", "test", "desk"], 1, as_json(lambda d: [r["ok"] for r in d] == [False])),
    "config-schema": (["config", "schema"], 0, as_json(lambda d: "properties" in d)),
}


@pytest.mark.parametrize("case", CASES)
def test_global_options_before_and_after_the_command(invoke: Invoke, config_file: Path, case: str) -> None:
    command, code, check = CASES[case]
    options = ["--config", str(config_file), "--json", "--log-level", "warning"]
    before = invoke(*options, *command)
    after = invoke(*command, *options)
    assert before.exit_code == code, before.stderr
    check(before.stdout, before.stderr)
    # (a test message's delivery id is stamped with the second it was sent: two runs may straddle one)
    assert (after.exit_code, unstamped(after.stdout)) == (before.exit_code, unstamped(before.stdout))


def unstamped(out: str) -> str:
    return re.sub(r'"delivery_id": "[0-9a-f]+"', '"delivery_id": "…"', out)


def test_feed_and_serve_take_the_options_after_the_command(invoke: Invoke, config_file: Path,
                                                           archive: Archive, tmp_path: Path) -> None:  # fmt: skip
    before = invoke("--config", str(config_file), "--log-level", "info", "feed", "desk")
    after = invoke("feed", "desk", "--config", str(config_file), "--log-level", "info")
    assert before.exit_code == after.exit_code == 0, before.stderr
    assert "<title>Yibao Watch: desk</title>" in before.stdout
    assert after.stdout == before.stdout
    missing = tmp_path / "elsewhere.db"
    for args in (["--db", str(missing), "serve"], ["serve", "--db", str(missing)]):
        done = invoke(*args)
        assert (done.exit_code, done.stdout) == (2, ""), args
        assert str(missing) in done.stderr


def test_crawl_and_run_read_the_config_given_after_the_command(invoke: Invoke, tmp_path: Path, archive: Archive,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import scheduler

    servers: list[bool] = []  # run --once with nothing due starts no crawl server (a cron tick's CPU: 1.9 -> 0.65 s)
    monkeypatch.setattr(scheduler, "warm_up", lambda: servers.append(True))
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portals]]\nid = "nhsa"\nbase_url = "ftp://x"\n', encoding="utf-8")
    for args in (["--config", str(bad), "crawl", "nhsa"], ["crawl", "nhsa", "--config", str(bad)],
                 ["run", "--once", "--config", str(bad)]):  # fmt: skip
        done = invoke(*args)
        assert done.exit_code == 2, args
        assert done.stderr.startswith(f"yibao: config error: {bad}"), done.stderr
        assert len(done.stderr.splitlines()) == 1
    quiet = tmp_path / "quiet.toml"  # every portal (of the shipped registry) disabled: nothing is due or crawled
    quiet.write_text("".join(f'[[portals]]\nid = "{p}"\nenabled = false\n' for p in SHIPPED), encoding="utf-8")
    for args in (["--config", str(quiet), "--db", str(archive.path), "run", "--once"],
                 ["run", "--once", "--config", str(quiet), "--db", str(archive.path)]):  # fmt: skip
        done = invoke(*args)
        assert (done.exit_code, done.stdout) == (0, "nothing due\n"), done.stderr
    assert servers == []


def test_the_last_value_given_wins(invoke: Invoke, archive: Archive, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    done = invoke("--db", str(missing), "events", "--db", str(archive.path), "--json")
    assert done.exit_code == 0, done.stderr
    done = invoke("--db", str(archive.path), "events", "--db", str(missing))
    assert done.exit_code == 2
    assert str(missing) in done.stderr


def test_yibao_db_environment_and_its_precedence(invoke: Invoke, archive: Archive, config_file: Path,
                                                 tmp_path: Path) -> None:  # fmt: skip
    env = {"YIBAO_DB": str(archive.path)}
    done = invoke("events", "--json", env=env)  # no --db, no config: $YIBAO_DB
    assert done.exit_code == 0, done.stderr
    assert len(json.loads(done.stdout)["events"]) == 4
    missing = tmp_path / "missing.db"
    done = invoke("events", "--db", str(missing), env=env)  # --db before $YIBAO_DB
    assert (done.exit_code, str(missing) in done.stderr) == (2, True)
    done = invoke("events", "--config", str(config_file), env={"YIBAO_DB": str(missing)})  # $YIBAO_DB before the config
    assert (done.exit_code, str(missing) in done.stderr) == (2, True)
    assert invoke("events", "--config", str(config_file)).exit_code == 0  # the config's [archive] path
    done = invoke("events")  # else data/archive.db, in the working directory
    assert done.exit_code == 2
    assert "no archive at data/archive.db" in done.stderr
    assert App(Options(db=str(missing))).archive_path == missing


def test_version(invoke: Invoke) -> None:
    done = invoke("--version")
    assert (done.exit_code, done.stdout) == (0, f"yibao {importlib.metadata.version('yibao-watch')}\n")


@pytest.mark.parametrize(
    ("command", "says"),
    [
        pytest.param(["feed"], "an Atom feed is XML", id="feed"),
        pytest.param(["serve"], "the web UI serves JSON itself", id="serve"),
        pytest.param(["run", "--once"], "see `yibao status --json`", id="run"),
        pytest.param(["demo"], "the demo is a story told in text", id="demo"),
        pytest.param(["export", "--format", "csv"], "give --format csv or --json, not both", id="export-csv"),
    ],
)
def test_json_where_there_is_no_json_output_is_refused(invoke: Invoke, archive: Archive, command: list[str],
                                                       says: str) -> None:  # fmt: skip
    done = invoke(*command, "--json", "--db", str(archive.path))
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr.startswith(f"yibao {command[0]}: ")
    assert says in done.stderr


def test_demo_refuses_a_config_or_archive(invoke: Invoke, config_file: Path) -> None:
    for args in (["--config", str(config_file), "demo"], ["demo", "--db", "x.db"]):
        done = invoke(*args)
        assert done.exit_code == 2
        assert "writes its own config and archive" in done.stderr


def test_log_level_reaches_logging_and_scrapy(invoke: Invoke, archive: Archive) -> None:
    app = App(Options(log_level="DEBUG"))
    assert scrapy_settings(app).get("LOG_LEVEL") == "DEBUG"
    assert scrapy_settings(App()).get("LOG_LEVEL") == "WARNING"  # the default of every command but `run`
    root = logging.getLogger()
    before = root.level
    try:
        assert app.configure_logging() == "DEBUG"
        assert root.level == logging.DEBUG
    finally:
        root.setLevel(before)
    done = invoke("--log-level", "loud", "events")
    assert done.exit_code == 2
    assert "'loud' is not one of" in done.stderr
    assert invoke("--log-level", "debug", "events", "--db", str(archive.path)).exit_code == 0
    assert root.level == before  # an in-process run leaves the root logger as it found it


def test_export_json_is_json_lines(invoke: Invoke, archive: Archive) -> None:
    done = invoke("export", "--json", "--db", str(archive.path))
    plain = invoke("export", "--format", "jsonl", "--db", str(archive.path))
    assert done.exit_code == 0
    assert done.stdout == plain.stdout
    missing = invoke("export", "--db", str(archive.path))
    assert missing.exit_code == 2
    assert "give --format jsonl|csv (or --json)" in missing.stderr


def test_search_help_names_the_rank_window(invoke: Invoke) -> None:
    from storage.search import RANK_WINDOW, SORTS

    done = invoke("search", "--help")
    assert f"beyond {RANK_WINDOW:,} matches" in " ".join(done.stdout.split())
    assert f"[{'|'.join(SORTS)}]" in done.stdout
