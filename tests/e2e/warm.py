"""Warm ``yibao`` processes for the end-to-end lane: ``python -m cli.main ARGS`` (or another ``-m`` module of the
CLI), forked from a server that has done the imports once, instead of started cold.

A cold ``yibao crawl`` spends about 1.3 CPU-s importing Scrapy, Twisted, lxml, sqlite-utils, pydantic, datasketch
and the project before it does anything; the end-to-end lane starts a few hundred of them. ``yibao(...)`` forks
each one from a server process (one per test worker, started at its first use) that has imported what a crawl
imports (``crawler.preload``, the list the product's own warm crawls use) and the CLI. Each child is still a
process of its own running the real entry point: ``runpy`` runs the module as ``__main__`` with the given
arguments, environment and working folder, its output in files read back here, its exit status as
``subprocess.run`` would report it; only the imports are already done. The server itself is single-threaded,
installs no Twisted reactor and never opens an archive, so the children share nothing but module code (and, as
forks, the hash seed). Tests of the cold path itself (the console script, signals and pipes of the process,
start-up figures) start their processes with ``subprocess`` as before.

``YIBAO_TEST_WARM=0`` in the environment starts every one of them cold (``subprocess.run``), e.g. to compare.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def warm_enabled() -> bool:
    return os.environ.get("YIBAO_TEST_WARM", "1") != "0" and hasattr(os, "fork")


def yibao(
    *args: str,
    module: str = "cli.main",
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    check: bool = False,
    new_session: bool = False,
    script: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, ...)``, forked warm
    (``script``: ``[sys.executable, script, *args]`` instead). ``env`` None: this process's environment now;
    ``cwd`` None: this process's folder."""
    cmd = [sys.executable, *([str(script)] if script else ["-m", module]), *args]
    if not warm_enabled():
        return subprocess.run(cmd, capture_output=True, text=True, env=None if env is None else dict(env),
                              cwd=cwd, timeout=timeout, check=check, start_new_session=new_session)  # fmt: skip
    folder = Path(cwd) if cwd is not None else Path.cwd()
    done = _server().run(module, str(folder / script) if script else "", list(args),
                         dict(os.environ if env is None else env), str(folder), timeout, new_session)  # fmt: skip
    result = subprocess.CompletedProcess(cmd, done[0], done[1], done[2])
    if check:
        result.check_returncode()
    return result


# the runners of tests/crawler/helpers.py (same arguments, same results), forked warm


def helpers_yibao(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``tests.crawler.helpers.yibao``: ``yibao ARGS`` in ``cwd``, by default with ``clean_env()``."""
    from tests.crawler.helpers import TIMEOUT, clean_env

    return yibao(*args, cwd=cwd, env=clean_env() if env is None else env, timeout=TIMEOUT)


def helpers_scrapy(
    *args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``tests.crawler.helpers.scrapy``: ``python -m scrapy ARGS`` from the project root."""
    from tests.crawler.helpers import TIMEOUT, clean_env

    return yibao(*args, module="scrapy", cwd=cwd, env=clean_env() if env is None else env, timeout=TIMEOUT)


def helpers_crawl(config: Path, *portals: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    """``tests.crawler.helpers.crawl``: ``yibao --config CONFIG crawl --fast --json PORTALS``."""
    done = helpers_yibao("--config", str(config), "crawl", "--fast", "--json", *portals, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


# --- the client: this process -------------------------------------------------------------------------------


class _Server:
    """The server process and the line protocol over its stdin/stdout: ``{"token", "module", "script", "argv", "env",
    "cwd", "out", "err", "session"}`` in; ``started TOKEN PID`` and ``exited PID STATUS`` out."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.e2e.warm", str(os.getpid())], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_server_env())  # fmt: skip
        self.cond = threading.Condition()
        self.started: dict[str, int] = {}
        self.exited: dict[int, int] = {}
        self.closed = False
        self.tokens = 0
        self.reader = threading.Thread(target=self._read, name="warm-yibao-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            kind, first, second = raw.decode().split()
            with self.cond:
                if kind == "started":
                    self.started[first] = int(second)
                else:
                    self.exited[int(first)] = int(second)
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _wait_for(self, predicate: Any, timeout: float | None) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: predicate() or self.closed, timeout)

    def run(self, module: str, script: str, argv: list[str], env: dict[str, str], cwd: str, timeout: float | None,
            new_session: bool) -> tuple[int, str, str]:  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="warm-yibao-") as tmp:
            out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
            with self.cond:
                self.tokens += 1
                token = str(self.tokens)
            request = {"token": token, "module": module, "script": script, "argv": argv, "env": env, "cwd": cwd, "out": str(out),
                       "err": str(err), "session": new_session}  # fmt: skip
            assert self.proc.stdin is not None
            with self.cond:  # one writer at a time
                self.proc.stdin.write(json.dumps(request).encode() + b"\n")
                self.proc.stdin.flush()
            self._wait_for(lambda: token in self.started, 180)
            if token not in self.started:
                raise RuntimeError(f"the warm yibao server did not start {argv}: exit {self.proc.poll()}")
            pid = self.started.pop(token)
            if not self._wait_for(lambda: pid in self.exited, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL) if new_session else os.kill(pid, signal.SIGKILL)
                self._wait_for(lambda: pid in self.exited, 30)
                self.exited.pop(pid, None)
                raise subprocess.TimeoutExpired([sys.executable, script or f"-m {module}", *argv], timeout or 0.0,
                                                _decode(out), _decode(err))  # fmt: skip
            if pid not in self.exited:
                raise RuntimeError(f"the warm yibao server exited while {argv} ran: exit {self.proc.poll()}")
            status = self.exited.pop(pid)
            return os.waitstatus_to_exitcode(status), _decode(out), _decode(err)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _server_env() -> dict[str, str]:
    """The server's own environment: no ``YIBAO_*`` or Scrapy settings (each command gets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "SCRAPY_"))}


def _decode(path: Path) -> str:
    """As ``subprocess.run(text=True)`` reads a pipe: the locale's encoding, universal newlines."""
    data = path.read_bytes() if path.exists() else b""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()


_lock = threading.Lock()
_instance: _Server | None = None


def _server() -> _Server:
    global _instance
    with _lock:
        if _instance is None or _instance.closed or _instance.proc.poll() is not None:
            _instance = _Server()
            atexit.register(_instance.close)
        return _instance


# --- the server: ``python -m tests.e2e.warm STARTER_PID`` ---------------------------------------------------


def _preload() -> None:
    """What a crawl imports (``crawler.preload``: Scrapy, the settings' class paths, the spiders, datasketch),
    the command line and what its commands import late."""
    from scrapy.utils.project import get_project_settings  # noqa: F401

    import cli.main  # noqa: F401
    import crawler.preload  # noqa: F401  (imports on import; makes this server a process group of its own)
    import scheduler  # noqa: F401  (``yibao run`` imports it when it runs)

    if "twisted.internet.reactor" in sys.modules:
        raise SystemExit("warm yibao server: a reactor was installed by the imports")
    if threading.active_count() != 1:
        raise SystemExit("warm yibao server: a thread was started by the imports")


def _child(request: dict[str, Any]) -> None:
    """In the forked child: the request's session, output files, environment, folder and arguments; then the
    module as ``__main__``; then exit as the interpreter would (exit functions, flushed output)."""
    code = 1
    try:
        if request["session"]:
            os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for fd, path in ((1, request["out"]), (2, request["err"])):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(handle, fd)
            os.close(handle)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        # a settings module may read the environment when imported: the command's imports it afresh
        for name in {
            os.environ.get("SCRAPY_SETTINGS_MODULE", ""),
            "crawler.settings",
            "crawler.cluster.settings",
        }:
            sys.modules.pop(name, None)
        import importlib.util
        import runpy

        target, script = request["module"], request["script"]
        if script:
            sys.path[0] = os.path.dirname(os.path.abspath(script))  # as ``python SCRIPT`` would have it
        else:  # as in a cold ``python -m``: the module to run (a package's ``__main__``), cli.main, not imported yet
            sys.path[0] = os.getcwd()  # and the working folder first on the path
            spec = importlib.util.find_spec(target)
            sys.modules.pop(
                f"{target}.__main__" if spec and spec.submodule_search_locations else target, None
            )
            sys.modules.pop("cli.main", None)
        # the folders the command's PYTHONPATH names that the server's did not
        sys.path[1:1] = [
            p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path
        ]
        sys.argv = [script or target, *request["argv"]]
        try:
            if script:
                runpy.run_path(script, run_name="__main__")
            else:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _serve(starter: int) -> None:
    from crawler.launcher import die_with

    die_with(starter)
    _preload()
    children: set[int] = set()
    pending = b""

    def say(line: str) -> None:
        os.write(1, line.encode() + b"\n")  # never through sys.stdout: a child would inherit its buffer

    while True:
        ready, _, _ = select.select([0], [], [], 0.05 if children else None)
        if ready:
            data = os.read(0, 1 << 16)
            if not data:
                break
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children.add(pid)
                say(f"started {request['token']} {pid}")
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                say(f"exited {pid} {status}")
    for pid in children:  # the starter is gone: so are its commands
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
