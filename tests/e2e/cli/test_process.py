"""What only a real process shows: the installed console script, exit statuses as a shell sees them, the
``python -m`` entry points. (A closed pipe under ``yibao search | head -1``: tests/query/test_cli.py.)"""

from __future__ import annotations

import importlib.metadata
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Archive
from tests.crawler.helpers import clean_env

SCRIPT = Path(sys.executable).with_name("yibao")


def run(*cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip


def test_the_console_script_is_installed_and_knows_its_version(tmp_path: Path) -> None:
    assert SCRIPT.is_file(), "`pip install -e .` (make install) puts the yibao script beside the interpreter"
    done = run(str(SCRIPT), "--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"yibao {importlib.metadata.version('yibao-watch')}\n")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["status"], 1, id="status-failed-portal"),
        pytest.param(["events", "--db", "missing.db"], 2, id="missing-archive"),
        pytest.param(["search"], 2, id="usage"),
    ],
)
def test_exit_statuses(archive: Archive, tmp_path: Path, args: list[str], code: int) -> None:
    done = run(str(SCRIPT), "--db", str(archive.path), *args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "missing.db").exists()


def test_python_m_entry_points(archive: Archive, tmp_path: Path) -> None:
    """``python -m cli.alerts`` and ``-m cli.diff`` (the diff's command name is implied); ``-m cli.main`` is
    what the scheduler and the end-to-end tests run."""
    done = run(sys.executable, "-m", "cli.alerts", "--db", str(archive.path), "deliveries", "--json", cwd=tmp_path)
    assert (done.returncode, json.loads(done.stdout)) == (0, []), done.stderr
    done = run(sys.executable, "-m", "cli.diff", "1", "--db", str(archive.path), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["changed"] == 1


def test_serve_answers_with_the_options_after_the_command(archive: Archive, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [str(SCRIPT), "serve", "--port", str(port), "--db", str(archive.path), "--log-level", "warning"]
    with subprocess.Popen(cmd, cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # printed (and flushed) before the server starts
            assert line == f"serving {archive.path} read-only at http://127.0.0.1:{port}/ (Ctrl-C stops)\n"
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = httpx.get(f"http://127.0.0.1:{port}/archive/documents.json?_shape=array", timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "yibao serve did not come up"
                    time.sleep(0.2)
            assert page.status_code == 200
            assert len(page.json()) == 3
        finally:
            proc.terminate()
            proc.wait(30)
