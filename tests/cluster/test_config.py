"""``[cluster] redis_url``: read from the config, checked with the file (one line naming the field, exit 2), and
the worker's crawl settings: the project's with the archive swapped out for Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from crawler.cluster.config import redis_url
from crawler.registry import ConfigError, load_registry


@pytest.fixture(autouse=True)
def no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    monkeypatch.chdir(tmp_path)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "yibao.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("url", ["redis://redis:6379/0", "rediss://:secret@cache.internal:6380/2",
                                 "unix:///run/redis/redis.sock"])  # fmt: skip
def test_a_redis_url_is_read(tmp_path: Path, url: str) -> None:
    assert redis_url(load_registry(config(tmp_path, f'[cluster]\nredis_url = "{url}"\n'))) == url


def test_without_the_section_everything_runs_in_one_place(tmp_path: Path) -> None:
    assert redis_url(load_registry(config(tmp_path, '[archive]\npath = "a.db"\n'))) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('[cluster]\nredis_url = "http://redis:6379"\n', "cluster.redis_url", id="scheme"),
        pytest.param('[cluster]\nredis_url = "redis://"\n', "cluster.redis_url", id="no-host"),
        pytest.param("[cluster]\nredis_url = 6379\n", "cluster.redis_url", id="not-a-string"),
        pytest.param("[cluster]\n", "cluster.redis_url", id="missing"),
        pytest.param('[cluster]\nredis_url = "redis://r"\nworkers = 3\n', "workers", id="unknown-key"),
    ],
)
def test_a_bad_cluster_section_is_one_line_naming_the_field(tmp_path: Path, text: str, expected: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert "\n" not in message
    assert expected in message, message
    assert main(["--config", str(path), "worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "config error" in err


def test_the_roles_need_the_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, '[archive]\npath = "a.db"\n')
    for role in ("worker", "writer"):
        assert main(["--config", str(path), role]) == 2
        err = capsys.readouterr().err
        assert err == f"yibao {role}: needs [cluster] redis_url in the config (docs/scale-out.md)\n"


def test_a_workers_crawl_swaps_the_archive_for_redis() -> None:
    from crawler import settings as local
    from crawler.cluster import settings as cluster

    assert "crawler.pipelines.archive_record.ArchiveRecordPipeline" in local.ITEM_PIPELINES
    assert cluster.ITEM_PIPELINES == {
        "crawler.pipelines.normalize_record.NormalizeRecordPipeline": 300,
        "crawler.cluster.crawl.StreamPipeline": 800,
        "crawler.pipelines.documents_only.DocumentsOnlyPipeline": 1000,
    }
    assert cluster.EXTENSIONS == {"crawler.cluster.crawl.ClusterRunRecorder": 100}
    assert cluster.SCHEDULER == "crawler.cluster.crawl.JobScheduler"
    assert cluster.DUPEFILTER_CLASS == "scrapy_redis.dupefilter.RFPDupeFilter"
    # politeness, robots.txt and the host rules are the project's own
    for name in ("ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED",
                 "DOWNLOADER_MIDDLEWARES", "USER_AGENT", "RETRY_TIMES"):  # fmt: skip
        assert getattr(cluster, name) == getattr(local, name), name
