"""Only my portals: a user file chooses which portals exist (``use_shipped = false``) and which run
(``only = [...]``); naming a portal that is left out or disabled is one line, exit status 2, nothing crawled.

The loader in process; ``yibao portals`` in process; ``yibao crawl`` with no portal named in a subprocess
against the replicas (the replica stats show which portals were asked for anything)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from cli.main import yibao as yibao_group
from crawler.registry import ConfigError, load_registry
from tests.crawler.helpers import REPLICAS, SHIPPED, generic_portal, replica_portals, write_config
from tests.e2e.warm import helpers_crawl as crawl
from tests.e2e.warm import helpers_yibao as yibao

MINE = generic_portal("my_bureau", "http://127.0.0.1:9/list/", link="ul a", body="#content", name="我的医疗保障局")


@pytest.fixture(autouse=True)
def no_ambient_config(monkeypatch, tmp_path):
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(yibao_group, list(args), catch_exceptions=False)


def listed(config) -> list[str]:
    done = invoke("--config", str(config), "portals")
    assert done.exit_code == 0, done.stderr
    return [line.split()[0] for line in done.stdout.splitlines()]


# -- which portals exist -------------------------------------------------------------------------------


def test_without_a_user_file_every_shipped_portal_is_in_use():
    config = load_registry()
    assert tuple(config.portals) == SHIPPED
    assert config.left_out == {}


def test_use_shipped_false_leaves_only_the_files_own_portals(tmp_path):
    path = write_config(tmp_path / "mine.toml", None, "use_shipped = false", MINE)
    config = load_registry(path)
    assert list(config.portals) == ["my_bureau"]
    assert [p.id for p in config.enabled()] == ["my_bureau"]
    assert set(config.left_out) == set(SHIPPED)
    assert listed(path) == ["my_bureau"]


def test_use_shipped_false_takes_an_entry_with_a_shipped_id_as_a_whole_portal(tmp_path):
    # not an override: with the shipped registry left out, nothing of the real nhsa entry is merged in
    path = write_config(tmp_path / "mine.toml", None, 'use_shipped = false\n[[portals]]\nid = "nhsa"\n')
    with pytest.raises(ConfigError, match=r"mine\.toml: portal 'nhsa': field 'name' is missing"):
        load_registry(path)


def test_only_selects_shipped_and_own_portals_in_registry_order(tmp_path):
    path = write_config(tmp_path / "mine.toml", None, 'only = ["my_bureau", "nhsa", "chongqing"]', MINE,
                        shipped=True)  # fmt: skip
    config = load_registry(path)
    assert list(config.portals) == ["nhsa", "chongqing", "my_bureau"]
    assert [p.id for p in config.enabled()] == ["nhsa", "chongqing", "my_bureau"]
    assert set(config.left_out) == set(SHIPPED) - {"nhsa", "chongqing"}
    assert listed(path) == ["nhsa", "chongqing", "my_bureau"]
    data = json.loads(invoke("--config", str(path), "portals", "--json").stdout)
    assert [p["id"] for p in data] == ["nhsa", "chongqing", "my_bureau"]


def test_only_keeps_a_disabled_portal_disabled(tmp_path):
    path = write_config(tmp_path / "mine.toml", None, 'only = ["sichuan", "nhsa"]', shipped=True)
    config = load_registry(path)
    assert list(config.portals) == ["sichuan", "nhsa"]
    assert [p.id for p in config.enabled()] == ["nhsa"]  # listed, still enabled = false in the shipped registry


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('only = ["nowhere"]', "field 'only' entry 1: names no portal: 'nowhere' (known: fujian_xiamen",
                     id="unknown"),
        pytest.param('use_shipped = false\nonly = ["my_bureau", "nhsa"]',
                     "field 'only' entry 2: names no portal: 'nhsa'; {path} sets use_shipped = false (known: my_bureau)",
                     id="shipped-but-left-out"),
        pytest.param('only = ["Nhsa"]', "field 'only' entry 1: must be lower-case ascii", id="not-an-id"),
        pytest.param('use_shipped = "no"', "field 'use_shipped' must be true or false, got 'no'", id="use-shipped"),
    ],
)  # fmt: skip
def test_a_bad_selection_is_one_line_naming_the_field(tmp_path, text, message):
    path = write_config(tmp_path / "mine.toml", None, text, MINE, shipped=True)
    with pytest.raises(ConfigError) as raised:
        load_registry(path)
    assert str(raised.value).startswith(f"{path}: {message.format(path=path)}"), str(raised.value)
    assert "\n" not in str(raised.value)


def test_portals_listing_ids_says_which_key_selects(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('portals = ["fujian_xiamen"]\n', encoding="utf-8")
    done = invoke("--config", str(path), "portals")
    assert done.exit_code == 2
    (line,) = done.stderr.splitlines()
    assert line == (f'yibao: config error: {path}: field \'portals\' holds [[portals]] tables, not ids like '
                    '"fujian_xiamen"; to choose which portals run, write only = ["fujian_xiamen", …] before the '
                    "first table")  # fmt: skip


# -- naming a portal that does not run -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "portal", "says"),
    [
        pytest.param((), "sichuan", "portal 'sichuan' is disabled (enabled = false in the shipped registry, "
                     "crawler/portals.toml, whose source note says why); to crawl it, set enabled = true",
                     id="disabled-in-the-shipped-registry"),
        pytest.param(('[[portals]]\nid = "nhsa"\nenabled = false',), "nhsa",
                     "portal 'nhsa' is disabled (enabled = false in {path}); to crawl it", id="disabled-by-the-user"),
        pytest.param(("use_shipped = false", MINE), "chongqing",
                     "portal 'chongqing' is not in use: {path} sets use_shipped = false and defines no portal "
                     "'chongqing'", id="use-shipped-false"),
        pytest.param(('only = ["my_bureau"]', MINE), "nhsa",
                     "portal 'nhsa' is not in use: {path} sets only = [\"my_bureau\"]", id="not-in-only"),
    ],
)  # fmt: skip
def test_naming_a_portal_that_does_not_run_is_one_line_exit_2(tmp_path, entries, portal, says):
    path = write_config(tmp_path / "mine.toml", None, *entries, shipped=True)
    archive = tmp_path / "a.db"
    for command in (["crawl", portal], ["crawl", "--fast", "my_bureau", portal], ["run", "--once", portal]):
        if "my_bureau" in command and not any("my_bureau" in e for e in entries):
            continue
        done = invoke("--config", str(path), "--db", str(archive), *command)
        assert done.exit_code == 2, (command, done.stdout, done.stderr)
        assert done.stdout == ""
        (line,) = done.stderr.splitlines()
        assert line.startswith("yibao: config error: " + says.format(path=path)), line
        if command[0] == "crawl":
            assert not archive.exists()  # refused before anything ran


def test_a_disabled_portal_can_still_be_looked_up_for_a_check(tmp_path):
    config = load_registry()
    with pytest.raises(ConfigError, match="is disabled"):
        config.get("guangdong_guangzhou")
    assert config.get("guangdong_guangzhou", include_disabled=True).columns[0].url.endswith("/gzybj/gkmlpt/index#0")
    assert [p.id for p in config.crawlable()] == [p.id for p in config.enabled()]
    assert [p.id for p in config.crawlable(["nhsa"])] == ["nhsa"]
    with pytest.raises(ConfigError, match="is disabled"):
        config.crawlable(["nhsa", "sichuan"])


# -- a crawl with no portal named runs exactly the chosen ones --------------------------------------------


def test_a_user_file_with_one_portal_crawls_only_that_portal(make_replicas, tmp_path):
    server = make_replicas(docs=10, seed=4)
    config = write_config(tmp_path / "yibao.toml", tmp_path / "archive.db", replica_portals(server, "sichuan"))
    assert listed(config) == ["sichuan"]
    code, summary = crawl(config, cwd=tmp_path)  # no portal named
    assert code == 0, summary
    assert list(summary) == ["sichuan"]
    assert summary["sichuan"]["health"] == "ok"
    assert summary["sichuan"]["new"] == len({d.identity for d in server.world.docs("sichuan")})
    stats = server.world.stats()
    assert [pid for pid in REPLICAS if stats[pid]["total"]] == ["sichuan"]


def test_only_narrows_a_crawl_with_no_portal_named(make_replicas, tmp_path):
    server = make_replicas(docs=10, seed=4)
    config = write_config(tmp_path / "yibao.toml", tmp_path / "archive.db", replica_portals(server),
                          'only = ["nhsa", "fujian_ningde"]')  # fmt: skip
    assert listed(config) == ["fujian_ningde", "nhsa"]
    code, summary = crawl(config, cwd=tmp_path)
    assert code == 0, summary
    assert sorted(summary) == ["fujian_ningde", "nhsa"]
    stats = server.world.stats()
    assert sorted(pid for pid in REPLICAS if stats[pid]["total"]) == ["fujian_ningde", "nhsa"]
    done = yibao("--config", str(config), "crawl", "--fast", "sichuan", cwd=tmp_path)  # left out by only
    assert done.returncode == 2
    assert "portal 'sichuan' is not in use" in done.stderr
    assert server.world.stats("sichuan")["sichuan"]["total"] == 0
