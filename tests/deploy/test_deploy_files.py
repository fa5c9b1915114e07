"""The deployment files read as they are, in process: the systemd units fit together and with the scheduler,
the Dockerfile and the Compose file agree on paths, .dockerignore's rules read as Docker reads them.

What runs them (systemd-analyze, the commands as systemd starts them, wheels, image builds) is in
test_systemd.py, test_docker.py and test_wheel.py.
"""

from __future__ import annotations

import scheduler
from tests.deploy.support import (
    CONFIG_DIR,
    INSTALL_BIN,
    ROOT,
    STATE_DIR,
    SYSTEMD_DIR,
    Unit,
    docker_context,
    units,
)

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def by_name() -> dict[str, Unit]:
    return {unit.name: unit for unit in units()}


# --- systemd ----------------------------------------------------------------------------------------------


def test_the_unit_files_are_there() -> None:
    assert sorted(by_name()) == ["yibao-watch-once.service", "yibao-watch-once.timer", "yibao-watch.service",
                                 "yibao-web.service", "yibao-worker.service", "yibao-writer.service"]  # fmt: skip


def test_the_units_fit_together() -> None:
    units_ = by_name()
    daemon, once, web = units_["yibao-watch.service"], units_["yibao-watch-once.service"], units_["yibao-web.service"]
    timer = units_["yibao-watch-once.timer"]
    for unit in units_.values():  # every timer starts the service of its name
        if unit.path.suffix == ".timer":
            assert unit.path.with_suffix(".service").name in units_
    assert daemon.exec_start() == [f"{INSTALL_BIN}yibao", "run"]
    assert once.exec_start() == [f"{INSTALL_BIN}yibao", "run", "--once"]
    assert web.exec_start()[:2] == [f"{INSTALL_BIN}yibao", "serve"]
    assert once.value("Service", "Type") == "oneshot"
    assert once.value("Install", "WantedBy") is None  # started by its timer only
    assert timer.value("Install", "WantedBy") == "timers.target"
    assert timer.value("Timer", "OnCalendar")
    env = daemon.environment()
    assert env == {"YIBAO_CONFIG": f"{CONFIG_DIR}/yibao.toml", "YIBAO_DB": f"{STATE_DIR}/archive.db"}
    for unit in (daemon, once, web):  # one config, one archive, one state folder
        assert unit.environment() == env, unit.name
        assert unit.value("Service", "WorkingDirectory") == STATE_DIR
        assert unit.value("Service", "StateDirectory") == "yibao"
        assert unit.value("Service", "User") == "yibao"
    for unit in (daemon, once):  # SIGTERM to the scheduler alone; it stops its crawls within its grace period
        assert unit.value("Service", "KillMode") == "mixed"
        assert int(unit.value("Service", "TimeoutStopSec") or 0) > scheduler.GRACE_SECONDS
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")  # the image uses the same paths
    for key, value in env.items():
        assert f"{key}={value}" in dockerfile


def test_units_carry_no_path_of_a_build_machine() -> None:
    for path in SYSTEMD_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text
        assert "/.venv/" not in text


# --- Docker -----------------------------------------------------------------------------------------------


def test_dockerignore_rules_as_docker_reads_them() -> None:
    files = ["a.py", "pkg/__init__.py", "pkg/data/x.txt", "pkg/__pycache__/m.pyc", "tests/t.py", "keep/tests/x",
             "notes.md", "docs/keep.md"]  # fmt: skip
    rules = "tests\n**/__pycache__\n*.md\n!docs/keep.md\n"
    assert docker_context(files, rules) == ["a.py", "pkg/__init__.py", "pkg/data/x.txt", "keep/tests/x",
                                            "docs/keep.md"]  # fmt: skip
    assert docker_context(files, "*\n!pkg\n") == ["pkg/__init__.py", "pkg/data/x.txt", "pkg/__pycache__/m.pyc"]


def test_the_image_runs_the_daemon_and_documents_the_web_ui() -> None:
    assert "FROM python:3.11-slim" in DOCKERFILE
    assert 'CMD ["yibao", "run"]' in DOCKERFILE
    assert "yibao serve --host 0.0.0.0" in DOCKERFILE


# --- deploy/compose.yaml ----------------------------------------------------------------------------------


def test_compose_runs_the_daemon_and_the_web_ui_over_one_archive() -> None:
    import yaml  # type: ignore[import-untyped]  # PyYAML, through datasette

    compose_path = ROOT / "deploy" / "compose.yaml"
    compose = yaml.safe_load(compose_path.read_text(encoding="utf-8"))
    watch, web = compose["services"]["watch"], compose["services"]["web"]
    assert watch["command"] == ["yibao", "run"]
    assert web["command"][:4] == ["yibao", "serve", "--host", "0.0.0.0"]
    for service in (watch, web):
        assert (compose_path.parent / service["build"] / "Dockerfile").is_file()
        assert service["image"] == watch["image"]
        assert "yibao-data:/var/lib/yibao" in service["volumes"]  # the image's YIBAO_DB folder
        assert "./yibao.toml:/etc/yibao/yibao.toml:ro" in service["volumes"]  # the image's YIBAO_CONFIG
    assert "YIBAO_DB=/var/lib/yibao/archive.db" in DOCKERFILE
    assert "YIBAO_CONFIG=/etc/yibao/yibao.toml" in DOCKERFILE
    assert "yibao-data" in compose["volumes"]
    assert int(watch["stop_grace_period"].removesuffix("s")) > scheduler.GRACE_SECONDS
