"""The error contract: read-only commands never create an archive; config and archive problems are one line
on stderr with exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Archive, Invoke

READ_ONLY = {
    "status": ["status"],
    "search": ["search", "医保"],
    "show": ["show", "1"],
    "events": ["events"],
    "export": ["export", "--format", "csv"],
    "diff": ["diff", "1"],
    "feed": ["feed"],
    "serve": ["serve"],
    "deliveries": ["deliveries"],
    "deliveries-retry": ["deliveries", "retry", "--all-dead"],
}


@pytest.mark.parametrize("name", READ_ONLY)
def test_a_missing_archive_is_one_line_and_stays_missing(invoke: Invoke, tmp_path: Path, name: str) -> None:
    missing = tmp_path / "nowhere" / "archive.db"
    done = invoke(*READ_ONLY[name], "--db", str(missing))
    assert (done.exit_code, done.stdout) == (2, "")
    command = name.replace("-", " ")
    assert done.stderr.splitlines() == [
        f"yibao {command}: no archive at {missing} (run `yibao crawl` first, or give --db / $YIBAO_DB)"
    ]
    assert not missing.parent.exists()


@pytest.mark.parametrize("name", ["status", "events", "feed"])
def test_the_default_archive_is_not_created_either(invoke: Invoke, name: str) -> None:
    done = invoke(*READ_ONLY[name])  # no --db, no config: data/archive.db in the working directory
    assert done.exit_code == 2
    assert "no archive at data/archive.db" in done.stderr
    assert not Path("data").exists()


@pytest.mark.parametrize("name", ["status", "search", "show", "events", "diff", "feed", "deliveries"])
def test_a_file_that_is_not_an_archive(invoke: Invoke, tmp_path: Path, name: str) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not an archive", encoding="utf-8")
    done = invoke(*READ_ONLY[name], "--db", str(bad))
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr == "yibao: cannot use the archive: file is not a database\n"
    assert bad.read_text(encoding="utf-8") == "not an archive"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param('[[portals]]\nid = "nhsa"\nbase_url = "ftp://x"\n', "base_url", id="bad-url"),
        pytest.param("[[portals]\n", "TOML", id="not-toml"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [["portals"], ["status"], ["crawl", "nhsa"], ["alerts", "list"], ["dispatch"], ["search", "x", "--region", "福建"]],
    ids=" ".join,
)
def test_a_config_error_is_one_line(invoke: Invoke, tmp_path: Path, archive: Archive, text: str, where: str,
                                    command: list[str]) -> None:  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    done = invoke("--config", str(bad), "--db", str(archive.path), *command)
    assert (done.exit_code, done.stdout) == (2, "")
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"yibao: config error: {bad}"), line
    assert where in line


def test_a_search_with_db_works_beside_a_broken_config(invoke: Invoke, tmp_path: Path, archive: Archive) -> None:
    """The config is loaded only when a command needs it: ``--db`` and a query with no region name need none."""
    Path("yibao.toml").write_text("[[portals]\n", encoding="utf-8")
    done = invoke("search", "医保", "--db", str(archive.path))
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("3 results")


def test_usage_errors_exit_2(invoke: Invoke, archive: Archive) -> None:
    db = ["--db", str(archive.path)]
    for args, says in (
        (["show", "one", *db], "'one' is not a valid integer"),
        (["search", "医保", "--limit", "0", *db], "0 is not in the range x>=1"),
        (["diff", "1", "2", *db], "give two version numbers (V1 V2) or none"),
        (["deliveries", "--dead", "--failed", *db], "choose one of --pending"),
        (["deliveries", "retry", *db], "give delivery ids or --all-dead"),
        (["feed", "nobody", *db], "no watcher named 'nobody'"),
        (["nonsense"], "No such command 'nonsense'"),
    ):
        done = invoke(*args)
        assert done.exit_code == 2, args
        assert says in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
