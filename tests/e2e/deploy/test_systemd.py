"""deploy/systemd's unit files: they pass ``systemd-analyze verify``, fit together, and their commands run as
systemd would start them.

``systemd-analyze verify`` checks each unit's syntax and settings and that its ExecStart binary exists and is
executable, so the units are first rendered: ``/opt/yibao/bin/`` (where docs/deploy.md installs the venv)
becomes this test run's venv, whose ``yibao`` exists. Nothing else is changed for verify. To run the commands,
``/etc/yibao`` and ``/var/lib/yibao`` are rendered onto test folders too, the environment is systemd's bare one
plus the unit's ``Environment=`` lines, and the working directory is the unit's.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replicas.registry import portal_entries, render_toml
from tests.conftest import MakeReplicas
from tests.deploy.support import CONFIG_DIR, INSTALL_BIN, STATE_DIR, Unit, units

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed: Debian's systemd package has it (make system-deps installs it)",
)
BIN = Path(sys.executable).parent
# the environment systemd gives a service before its own Environment= lines (no LANG: C locale)
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def by_name() -> dict[str, Unit]:
    return {unit.name: unit for unit in units()}


def installed_yibao() -> Path:
    yibao = BIN / "yibao"
    assert yibao.is_file(), f"{yibao} is missing: the project is not installed in this venv (make install)"
    return yibao


def verify(directory: Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    files = sorted(str(p) for p in directory.iterdir())
    return subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", *files], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})  # fmt: skip


@needs_systemd_analyze
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    installed_yibao()
    for unit in units():
        assert INSTALL_BIN in unit.text or unit.path.suffix == ".timer", unit.name
        rendered = unit.render({INSTALL_BIN: f"{BIN}/"})
        (tmp_path / unit.name).write_text(rendered.text, encoding="utf-8")
    done = verify(tmp_path)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@needs_systemd_analyze
def test_verify_reports_what_the_test_looks_for(tmp_path: Path) -> None:
    """The check above can fail: a misspelt setting is reported (exit 0 but output), a missing binary fails."""
    unit = by_name()["yibao-watch.service"]
    (tmp_path / unit.name).write_text(unit.render({INSTALL_BIN: f"{BIN}/", "KillMode=": "KilMode="}).text)
    done = verify(tmp_path)
    assert "Unknown key" in done.stdout + done.stderr
    (tmp_path / unit.name).write_text(unit.render({INSTALL_BIN: f"{tmp_path}/nowhere/"}).text)
    done = verify(tmp_path)
    assert done.returncode != 0
    assert "not executable" in done.stdout + done.stderr


# --- the commands, started as systemd would ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Host:
    """A test folder standing in for the server: /etc/yibao, /var/lib/yibao and the venv rendered onto it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.etc = root / "etc"
        self.state = root / "state"
        self.etc.mkdir()
        self.mapping = {INSTALL_BIN: f"{BIN}/", CONFIG_DIR: str(self.etc), STATE_DIR: str(self.state)}
        self.started: list[subprocess.Popen[bytes]] = []

    def unit(self, name: str) -> Unit:
        return by_name()[name].render(self.mapping)

    def start(self, name: str, port: int | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        """The unit's ExecStart in its WorkingDirectory with its Environment; output (the journal) to a file."""
        unit = self.unit(name)
        self.state.mkdir(exist_ok=True)  # StateDirectory=yibao
        env = {"PATH": SYSTEMD_PATH, "HOME": str(self.state), **unit.environment()}
        argv = unit.exec_start()
        if port is not None:
            argv[argv.index("--port") + 1] = str(port)
        journal = self.root / f"{name}.journal"
        with journal.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=unit.value("Service", "WorkingDirectory"), env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.started.append(proc)
        return proc, journal

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def host(tmp_path: Path, make_replicas: MakeReplicas) -> Iterator[Host]:
    installed_yibao()
    host = Host(tmp_path)
    server = make_replicas(docs=20, seed=3)
    entries = portal_entries(server.urls)  # the replica registry: nothing of the shipped (real) one
    for pid, entry in entries.items():
        if pid in ("fujian_xiamen", "nhsa"):
            entry["settings"] = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
        else:
            entry["enabled"] = False
    (host.etc / "yibao.toml").write_text(render_toml(entries.values()), encoding="utf-8")
    yield host
    host.stop_all()


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], journal: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, f"exited {proc.returncode} before {what}:\n{journal.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {what} in 60 s:\n{journal.read_text()[-3000:]}"
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_the_units_commands_run_as_systemd_starts_them(host: Host) -> None:
    # the timer's one-shot pass: crawls what is due into the archive named by YIBAO_DB
    once, journal = host.start("yibao-watch-once.service")
    assert once.wait(300) == 0, journal.read_text()[-3000:]
    out = journal.read_text()
    assert "fujian_xiamen" in out
    assert "nhsa" in out
    assert (host.state / "archive.db").is_file()
    assert list((host.state / "logs").glob("fujian_xiamen-run*.log"))  # beside the archive, in the state folder

    # the web UI over that archive
    port = _free_port()
    web, journal = host.start("yibao-web.service", port=port)
    _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), web, journal, "answer from the web UI")
    web.send_signal(signal.SIGTERM)
    web.wait(30)

    # the daemon: starts, and stops on SIGTERM to its main process alone (KillMode=mixed) within TimeoutStopSec
    daemon, journal = host.start("yibao-watch.service")
    _wait_for(lambda: "yibao scheduler: 2 portals" in journal.read_text(), daemon, journal, "scheduler start")
    daemon.send_signal(signal.SIGTERM)
    stop_timeout = int(host.unit("yibao-watch.service").value("Service", "TimeoutStopSec") or 90)
    assert daemon.wait(stop_timeout) == 0, journal.read_text()[-3000:]
