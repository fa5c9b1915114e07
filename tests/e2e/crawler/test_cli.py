"""The command lines: ``scrapy list`` / ``scrapy crawl <portal_id>`` through the registry spider loader,
``yibao portals`` (in process) and ``yibao crawl`` (exit status, JSON summary; a subprocess each, since
Twisted's reactor runs once per process), against the running replicas."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from scrapy import Request
from scrapy.settings import Settings

from cli.main import yibao as yibao_group
from crawler.spiderloader import PortalSpiderLoader
from replicas.registry import REGISTRY_PATH as REPLICA_REGISTRY
from spiders.families import FAMILIES
from tests.crawler.helpers import (
    REPLICAS,
    REPO,
    SHIPPED,
    clean_env,
    generic_portal,
    query,
    replica_portals,
    run_stats,
    write_config,
)
from tests.e2e.warm import helpers_crawl as crawl
from tests.e2e.warm import helpers_scrapy as scrapy
from tests.e2e.warm import helpers_yibao as yibao

SUMMARY_KEYS = {"run", "health", "reason", "requests", "not_modified", "new", "edited", "withdrawn", "errors"}
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING")


@pytest.fixture
def server(make_replicas):
    return make_replicas(docs=30)


@pytest.fixture
def in_folder(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """In-process runs in ``tmp_path`` with no ``$YIBAO_CONFIG`` / ``$YIBAO_DB``."""
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    """``yibao ARGS`` in this process."""
    return CliRunner().invoke(yibao_group, list(args), catch_exceptions=False)


def identities(world, portal_id: str) -> set[str]:
    return {d.identity for d in world.docs(portal_id)}


# -- scrapy list / yibao portals ----------------------------------------------------------------------


def test_scrapy_list_prints_every_portal_id(tmp_path):
    done = scrapy("list")
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(SHIPPED) <= set(done.stdout.split())
    extra = write_config(
        tmp_path / "user.toml",
        None,
        generic_portal("my_generic", "http://127.0.0.1:9/list/", link="a", body="p"),
        shipped=True,
    )
    done = scrapy("list", "-s", f"YIBAO_CONFIG={extra}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(done.stdout.split()) >= {*SHIPPED, "my_generic"}


def test_yibao_portals_lists_the_shipped_registry_without_a_config(in_folder):
    done = invoke("portals")
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SHIPPED)
    assert lines[0].split()[1:] == ["厦门市医疗保障局", "trs", "350200", "1", "columns"]
    assert lines[1].split()[0] == "fujian_ningde"
    assert lines[1].endswith("(disabled)")  # its one column path is doubtful (see its source note)

    data = {p["id"]: p for p in json.loads(invoke("portals", "--json").stdout)}
    assert list(data) == list(SHIPPED)
    assert data["nhsa"]["columns"][0] == {
        "name": "建议提案",
        "kind": "replies",
        "url": "https://www.nhsa.gov.cn/col/col110/index.html",
    }


def test_yibao_portals_text_and_json_of_the_replica_registry(in_folder):
    done = invoke("--config", str(REPLICA_REGISTRY), "portals")
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(REPLICAS)
    assert lines[0].split()[1:] == ["厦门市医疗保障局", "trs", "350200", "3", "columns"]
    assert "guangdong_zhongshan" in lines[2]
    assert "6 columns" in lines[2]

    done = invoke("--config", str(REPLICA_REGISTRY), "portals", "--json")
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert [p["id"] for p in data] == list(REPLICAS)
    assert set(data[0]) == {"id", "name", "family", "region_code", "level", "enabled", "schedule", "columns"}
    nhsa = data[-1]
    assert (nhsa["family"], nhsa["region_code"], nhsa["level"], nhsa["enabled"]) == (
        "hanweb",
        "100000",
        "national",
        True,
    )
    assert nhsa["schedule"] == "40 7,13,19 * * *"
    assert nhsa["columns"][0] == {
        "name": "建议提案答复",
        "kind": "replies",
        "url": "http://127.0.0.1:8125/col/col104/index.html",
    }


def test_yibao_portals_shows_user_overrides_and_additions(in_folder):
    (in_folder / "yibao.toml").write_text(  # found in the working directory
        '[[portals]]\nid = "nhsa"\nenabled = false\n\n'
        + generic_portal("my_generic", "http://127.0.0.1:9/list/", link="a", body="p"),
        encoding="utf-8",
    )
    done = invoke("portals")
    assert done.exit_code == 0, done.stderr
    by_id = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert list(by_id) == [*SHIPPED, "my_generic"]
    assert by_id["nhsa"].endswith("(disabled)")
    assert "generic" in by_id["my_generic"]
    assert "442000" in by_id["my_generic"]
    data = {p["id"]: p for p in json.loads(invoke("portals", "--json").stdout)}
    assert data["nhsa"]["enabled"] is False
    assert data["my_generic"]["columns"] == [
        {"name": "测试栏目", "kind": "replies", "url": "http://127.0.0.1:9/list/"}
    ]


# -- the spider loader (Scrapy's SpiderLoaderProtocol) ------------------------------------------------------


def test_spider_loader_binds_family_spiders_and_raises_keyerror_for_unknown_names(tmp_path):
    loader = PortalSpiderLoader.from_settings(Settings({"YIBAO_CONFIG": str(REPLICA_REGISTRY)}))
    assert loader.list() == list(REPLICAS)
    for pid in REPLICAS:
        spider = loader.load(pid)
        assert spider.name == pid
        assert issubclass(spider, FAMILIES[spider.portal.family])
        assert spider.allowed_domains == ["127.0.0.1"]
    with pytest.raises(KeyError, match="nowhere"):  # the protocol: genspider, parse and edit catch KeyError
        loader.load("nowhere")


def test_spider_loader_binds_the_shipped_real_portals_and_refuses_a_disabled_one():
    loader = PortalSpiderLoader.from_settings(Settings())
    assert loader.list() == list(SHIPPED)
    nhsa = loader.load("nhsa")
    assert nhsa.allowed_domains == ["www.nhsa.gov.cn"]
    with pytest.raises(KeyError, match=r"Spider not found: sichuan \(portal .*sichuan.* is disabled"):
        loader.load("sichuan")


def test_spider_loader_finds_the_portal_of_a_replica_url_by_port():
    loader = PortalSpiderLoader(Settings({"YIBAO_CONFIG": str(REPLICA_REGISTRY)}))
    assert loader.find_by_request(Request("http://127.0.0.1:8121/zwgk/jytabl/")) == ["fujian_xiamen"]
    assert loader.find_by_request(Request("http://127.0.0.1:8125/art/2025/1/1/art_1_1.html")) == ["nhsa"]
    assert loader.find_by_request(Request("http://www.example.org/")) == []


def test_a_portal_id_named_like_a_spiders_helper_module_loads_its_family_spider(tmp_path):
    path = write_config(
        tmp_path / "user.toml",
        None,
        generic_portal("listing", "http://127.0.0.1:9/list/", link="a", body="p"),
        generic_portal("state", "http://127.0.0.1:9/list/", link="a", body="p"),
    )
    loader = PortalSpiderLoader(Settings({"YIBAO_CONFIG": str(path)}))
    for pid in ("listing", "state"):
        assert issubclass(loader.load(pid), FAMILIES["generic"])


def test_scrapy_parse_with_an_unknown_spider_reports_it_without_a_traceback():
    done = scrapy("parse", "--spider", "nowhere", "http://127.0.0.1:9/")
    assert "Unable to find spider: nowhere" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


# -- scrapy crawl <portal_id> ----------------------------------------------------------------------------


def test_scrapy_crawl_a_portal_into_the_archive(server, tmp_path):
    world = server.world
    archive = tmp_path / "scrapy.db"
    config = write_config(
        tmp_path / "user.toml",
        tmp_path / "not-this.db",
        replica_portals(server, "fujian_xiamen"),
    )
    done = scrapy(
        "crawl", "fujian_xiamen", "-s", f"YIBAO_CONFIG={config}", "-s", f"YIBAO_DB={archive}", *FAST
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "not-this.db").exists()  # -s YIBAO_DB wins over the config's [archive] path
    (documents,) = query(archive, "SELECT COUNT(*) FROM documents")[0]
    assert documents == len(identities(world, "fujian_xiamen"))
    titles = {t for (t,) in query(archive, "SELECT title FROM documents")}
    assert titles == {world.truth(d.doc_id)["title"] for d in world.docs("fujian_xiamen")}
    (portal, health, reason) = query(archive, "SELECT portal_id, health, finish_reason FROM runs")[0]
    assert (portal, health, reason) == ("fujian_xiamen", "ok", "finished")
    assert {p for (p,) in query(archive, "SELECT DISTINCT portal_id FROM postings")} == {"fujian_xiamen"}
    stats = world.stats()
    assert stats["fujian_xiamen"]["statuses"] == {"200": stats["fujian_xiamen"]["total"]}
    assert all(stats[pid]["total"] == 0 for pid in REPLICAS if pid != "fujian_xiamen")


def test_scrapy_crawl_with_the_config_from_the_environment(server, tmp_path):
    archive = tmp_path / "env.db"
    config = write_config(tmp_path / "user.toml", archive, replica_portals(server, "nhsa"))
    done = scrapy("crawl", "nhsa", *FAST, env=clean_env(YIBAO_CONFIG=str(config)))
    assert done.returncode == 0, done.stderr[-3000:]
    (documents,) = query(archive, "SELECT COUNT(*) FROM documents")[0]  # the config's [archive] path
    assert documents == len(identities(server.world, "nhsa"))


# -- yibao crawl: exit status and summary --------------------------------------------------------------------


def test_yibao_crawl_healthy_exits_0_with_the_summary(server, tmp_path):
    world = server.world
    config = write_config(
        tmp_path / "user.toml",
        tmp_path / "archive.db",
        replica_portals(server, "fujian_ningde", "sichuan"),
    )
    code, summary = crawl(config, "fujian_ningde", "sichuan", cwd=tmp_path)
    assert code == 0, summary
    assert list(summary) == ["fujian_ningde", "sichuan"]
    for pid, item in summary.items():
        assert set(item) == SUMMARY_KEYS
        assert item["health"] == "ok"
        assert item["new"] == len(identities(world, pid))
        assert item["requests"] >= item["new"] + 3  # robots.txt (where served), 3 columns, the documents
        assert (item["not_modified"], item["edited"], item["withdrawn"], item["errors"]) == (0, 0, 0, 0)
        assert run_stats(tmp_path / "archive.db", pid)["yibao/health"] == "ok"

    world.edit(world.docs("sichuan")[0].doc_id)
    code, again = crawl(config, "sichuan", cwd=tmp_path)
    assert code == 0
    assert list(again) == ["sichuan"]
    assert again["sichuan"]["new"] == 0
    assert again["sichuan"]["edited"] == 1
    assert again["sichuan"]["not_modified"] >= 1


def test_yibao_crawl_all_enabled_portals_by_default_with_a_text_table(server, tmp_path):
    enabled = ("fujian_ningde", "nhsa")
    entries = replica_portals(server, disabled=tuple(pid for pid in REPLICAS if pid not in enabled))
    config = write_config(tmp_path / "user.toml", tmp_path / "archive.db", entries)
    done = yibao("--config", str(config), "crawl", "--fast", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    header, *rows = done.stdout.strip().splitlines()
    assert header.split() == ["portal", "health", "requests", "304", "new", "edited", "withdrawn", "errors"]
    assert [row.split()[:2] for row in rows] == [[pid, "ok"] for pid in enabled]
    for pid, row in zip(enabled, rows, strict=True):
        assert int(row.split()[4]) == len(identities(server.world, pid))  # the "new" column
    assert all(server.world.stats(pid)[pid]["total"] == 0 for pid in REPLICAS if pid not in enabled)


@pytest.mark.parametrize(
    ("fault", "health"),
    [
        pytest.param({"broken_layout": True}, "failed", id="broken-layout"),
        pytest.param({"challenge": True}, "blocked", id="challenge"),
    ],
)
def test_yibao_crawl_exits_1_when_a_portal_fails(server, tmp_path, fault, health):
    config = write_config(
        tmp_path / "user.toml",
        tmp_path / "archive.db",
        replica_portals(server, "fujian_xiamen", "nhsa"),
    )
    server.world.set_faults("fujian_xiamen", **fault)
    code, summary = crawl(config, "fujian_xiamen", "nhsa", cwd=tmp_path)
    assert code == 1, summary
    assert summary["fujian_xiamen"]["health"] == health
    assert set(summary["fujian_xiamen"]) == SUMMARY_KEYS
    assert summary["fujian_xiamen"]["new"] == 0
    assert summary["nhsa"]["health"] == "ok"  # the other portal is crawled all the same
    assert summary["nhsa"]["new"] == len(identities(server.world, "nhsa"))


def test_yibao_crawl_unknown_portal_exits_2(in_folder):
    done = invoke("crawl", "--fast", "--db", str(in_folder / "a.db"), "nowhere")
    assert done.exit_code == 2
    assert done.stderr.strip().splitlines() == [
        "yibao: config error: unknown portal id 'nowhere'; known: " + ", ".join(SHIPPED)
    ]
    assert not (in_folder / "a.db").exists()


def test_repo_root_is_the_scrapy_project():
    assert (REPO / "scrapy.cfg").is_file()
    assert "crawler.settings" in (REPO / "scrapy.cfg").read_text(encoding="utf-8")
