"""The scale-out roles in the deployment files, read in process: the Compose file's ``cluster`` profile (Redis,
the writer, N workers beside the scheduler and the web UI) and the systemd units of the worker and the writer."""

from __future__ import annotations

from typing import Any

from crawler.cluster.worker import KILL_AFTER
from tests.deploy.support import CONFIG_DIR, INSTALL_BIN, ROOT, STATE_DIR, units


def compose() -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]  # PyYAML, through datasette

    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_compose_has_every_role_and_only_the_archive_side_mounts_the_archive() -> None:
    services = compose()["services"]
    assert {"watch", "web", "redis", "writer", "worker"} <= set(services)
    for name in ("redis", "writer", "worker"):  # opt-in: without the profile the file runs as before
        assert services[name]["profiles"] == ["cluster"], name
    for name in ("watch", "web"):
        assert "profiles" not in services[name]
    assert services["writer"]["command"] == ["yibao", "writer"]
    assert services["worker"]["command"][:2] == ["yibao", "worker"]
    archive = "yibao-data:/var/lib/yibao"
    assert archive in services["writer"]["volumes"]
    assert archive not in services["worker"]["volumes"]  # a worker never opens the archive
    for name in ("writer", "worker"):
        assert services[name]["image"] == services["watch"]["image"]
        assert "./yibao.toml:/etc/yibao/yibao.toml:ro" in services[name]["volumes"]
        assert "redis" in services[name]["depends_on"]
    assert "ports" not in services["redis"]  # not published
    assert int(services["worker"]["stop_grace_period"].removesuffix("s")) > KILL_AFTER
    assert 'redis_url = "redis://redis:6379/0"' in (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")


def test_the_worker_and_writer_units() -> None:
    by_name = {unit.name: unit for unit in units()}
    worker, writer, daemon = by_name["yibao-worker.service"], by_name["yibao-writer.service"], by_name["yibao-watch.service"]
    assert worker.exec_start()[:2] == [f"{INSTALL_BIN}yibao", "worker"]
    assert writer.exec_start() == [f"{INSTALL_BIN}yibao", "writer"]
    assert writer.environment() == daemon.environment()  # the archive's host: one config, one archive
    assert worker.environment() == {"YIBAO_CONFIG": f"{CONFIG_DIR}/yibao.toml"}  # no archive on a crawl machine
    for unit in (worker, writer):
        assert unit.value("Service", "User") == "yibao"
        assert unit.value("Service", "WorkingDirectory") == STATE_DIR
        assert unit.value("Service", "KillMode") == "mixed"
        assert unit.value("Install", "WantedBy") == "multi-user.target"
    assert int(worker.value("Service", "TimeoutStopSec") or 0) > KILL_AFTER
