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


def context() -> list[str]:
    return docker_context(checkout_files(), (ROOT / ".dockerignore").read_text(encoding="utf-8"))


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


def test_compose_file_is_valid_for_docker_compose() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no `docker compose` here: the compose file is checked by the test above only")
    done = subprocess.run([docker, "compose", "-f", str(ROOT / "deploy" / "compose.yaml"), "config", "--quiet"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
