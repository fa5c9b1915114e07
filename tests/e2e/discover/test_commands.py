"""``yibao discover URL`` and ``yibao portals check`` as a user types them (in process, against the replicas):
the printed entry is a config the registry accepts, and a deliberately wrong column path exits 1 naming it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import yibao
from tests.e2e.warm import helpers_crawl as crawl


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(yibao, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_discover_prints_an_entry_that_checks_and_crawls(make_replicas, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    server = make_replicas(docs=40, seed=3)
    code, out = run("discover", server.urls["fujian_ningde"] + "/", "--delay", "0")
    assert code == 0, out
    entry = out[out.index("[[portals]]"):]
    assert 'family = "trs"' in entry
    config = tmp_path / "yibao.toml"
    config.write_text(f'[archive]\npath = "{tmp_path / "archive.db"}"\n\n{entry}', encoding="utf-8")
    pid = next(line.split('"')[1] for line in entry.splitlines() if line.startswith("id = "))

    code, out = run("portals", "check", pid, "--config", str(config), "--delay", "0", "--json")
    assert code == 0, out
    (report,) = json.loads(out)
    assert all(column["links"] > 0 for column in report["columns"])

    code, summary = crawl(config, pid, cwd=tmp_path)
    assert code == 0, summary
    assert summary[pid]["new"] > 0


def test_portals_check_names_a_wrong_column_path_and_exits_1(make_replicas, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    server = make_replicas(docs=20, seed=3)
    config = tmp_path / "yibao.toml"
    config.write_text(
        f'[[portals]]\nid = "fujian_xiamen"\nbase_url = "{server.urls["fujian_xiamen"]}"\n'
        'columns = [{ name = "建议提案办理", kind = "replies", url = "/zwgk/no_such_column/" }]\n',
        encoding="utf-8")  # fmt: skip
    code, out = run("portals", "check", "fujian_xiamen", "--config", str(config), "--delay", "0")
    assert code == 1, out
    assert "no_such_column" in out
    assert "404" in out
