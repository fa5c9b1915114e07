"""The Dockerfile: its build context holds the package (by .dockerignore's rules) and a wheel built from exactly
that context is complete; the image itself is built and run when a Docker engine answers (``docker info``),
else that test says so and is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.deploy.support import (
    ROOT,
    build_wheel,
    checkout_files,
    copy_files,
    docker_context,
    product_files,
    wheel_names,
)

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def context() -> list[str]:
    return docker_context(checkout_files(), (ROOT / ".dockerignore").read_text(encoding="utf-8"))


def test_dockerignore_rules_as_docker_reads_them() -> None:
    files = ["a.py", "pkg/__init__.py", "pkg/data/x.txt", "pkg/__pycache__/m.pyc", "tests/t.py", "keep/tests/x",
             "notes.md", "docs/keep.md"]  # fmt: skip
    rules = "tests\n**/__pycache__\n*.md\n!docs/keep.md\n"
    assert docker_context(files, rules) == ["a.py", "pkg/__init__.py", "pkg/data/x.txt", "keep/tests/x",
                                            "docs/keep.md"]  # fmt: skip
    assert docker_context(files, "*\n!pkg\n") == ["pkg/__init__.py", "pkg/data/x.txt", "pkg/__pycache__/m.pyc"]


def test_the_build_context_is_the_package_and_no_more() -> None:
    sent = set(context())
    files = checkout_files()
    assert product_files(files) <= sent, f"excluded by .dockerignore: {sorted(product_files(files) - sent)}"
    assert {"pyproject.toml", "README.md"} <= sent  # setuptools reads both
    assert not [f for f in sent if f.startswith(("tests/", ".venv/", ".git/", "data/", "docs/", "benchmarks/"))]


def test_a_wheel_of_the_build_context_is_complete(tmp_path: Path) -> None:
    """What the image's build stage does (`pip wheel .` over the context), offline."""
    sent = context()
    wheel = build_wheel(copy_files(sent, tmp_path / "context"), tmp_path / "dist")
    names = wheel_names(wheel)
    assert product_files(sent) <= names


def test_the_image_runs_the_daemon_and_documents_the_web_ui() -> None:
    assert "FROM python:3.11-slim" in DOCKERFILE
    assert 'CMD ["yibao", "run"]' in DOCKERFILE
    assert "yibao serve --host 0.0.0.0" in DOCKERFILE


def _docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    done = subprocess.run([docker, "info"], capture_output=True, timeout=60)
    return docker if done.returncode == 0 else None


def test_the_image_builds_and_runs(tmp_path: Path) -> None:
    docker = _docker_engine()
    if docker is None:
        pytest.skip("no Docker engine here (`docker info` fails): the image build is not tested on this machine")
    tag = f"yibao-watch-test:{uuid.uuid4().hex[:12]}"
    try:
        built = subprocess.run([docker, "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
        assert built.returncode == 0, built.stderr[-4000:]
        version = subprocess.run([docker, "run", "--rm", tag, "yibao", "--version"], capture_output=True, text=True,
                                 timeout=120)  # fmt: skip
        assert version.returncode == 0, version.stderr
        portals = subprocess.run([docker, "run", "--rm", "-e", "YIBAO_CONFIG=", tag, "yibao", "portals"],
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
        assert portals.returncode == 0, portals.stderr
        assert "fujian_xiamen" in portals.stdout
        # the default command is the daemon: without a mounted config it names the missing file, exit 2
        daemon = subprocess.run([docker, "run", "--rm", tag], capture_output=True, text=True, timeout=120)
        assert daemon.returncode == 2
        assert "/etc/yibao/yibao.toml" in daemon.stderr
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120)


# --- deploy/compose.yaml ----------------------------------------------------------------------------------


def test_compose_runs_the_daemon_and_the_web_ui_over_one_archive() -> None:
    import yaml  # type: ignore[import-untyped]  # PyYAML, through datasette

    import scheduler

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


def test_compose_file_is_valid_for_docker_compose() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` here: the compose file is checked by the test above only")
    done = subprocess.run([docker, "compose", "-f", str(ROOT / "deploy" / "compose.yaml"), "config", "--quiet"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
