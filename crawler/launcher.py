"""Starting crawl processes: warm (forked from a server that has already imported the crawl's code) or cold.

Every crawl is a process of its own (the Twisted reactor cannot restart, and a leak or crash stays contained).
Started cold, ``python -m scrapy crawl <portal>`` spends about 1 CPU-second importing Scrapy, Twisted, lxml,
sqlite-utils, pydantic and the project before its first request: more than the whole rest of an unchanged
cycle (robots, the lists and the revisits' 304s). The scheduler and the cluster worker start many crawls, so they
start them warm, with the standard library's ``forkserver``: one single-threaded server process, started at the
first crawl, imports what a crawl imports (``crawler.preload``) and forks a child for each crawl. The child runs
``scrapy.cmdline.execute`` with the crawl's arguments, environment, working folder and log file, in a session
of its own, exactly as the cold command would; only the imports are already done. The server installs no
reactor and opens no archive, so nothing but module code is shared.

Both kinds die with the process that started them (Linux ``PR_SET_PDEATHSIG``): a cold crawl with its starter,
a warm one with the server, which exits when its starter is gone. ``YIBAO_WARM_START=0`` in the environment
starts every crawl cold (as do platforms without ``fork``).

Python 3.11's forkserver never learns its starter's ``__main__`` (the ``main_path`` it asks for is never sent),
so every child would run the starter's main script again before the crawl (``yibao``: its CLI imports). The
server is told the main script through ``YIBAO_LAUNCHER_MAIN`` and imports it once itself (``crawler.preload``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = ["CrawlProcess", "die_with", "signal_group", "start_crawl", "warm_start_enabled", "warm_up"]
MAIN_ENV = "YIBAO_LAUNCHER_MAIN"
_PR_SET_PDEATHSIG = 1
_context_lock = threading.Lock()
_context: Any = None

# the cold path: the crawl dies with its starter (PR_SET_PDEATHSIG, kept across exec), or does not start at all
# when the starter is already gone
_DIE_WITH_PARENT = (
    "import ctypes, os, sys\n"
    f"ctypes.CDLL(None).prctl({_PR_SET_PDEATHSIG}, 9)\n"
    "if os.getppid() != int(sys.argv[1]):\n    os._exit(137)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


class CrawlProcess(Protocol):
    """What the starters use of a crawl process: ``subprocess.Popen``'s own names."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def warm_start_enabled() -> bool:
    return os.environ.get("YIBAO_WARM_START", "1") != "0" and "forkserver" in multiprocessing.get_all_start_methods()


def warm_up(*, wait: bool = False) -> None:
    """Start the server now, so that its imports (about a CPU-second) run while the caller gets ready rather than
    in its first ``start_crawl``. ``wait``: return once the server is ready (a first fork has run): a cluster
    worker must not miss its jobs' heartbeats while a start waits on the imports."""
    if not warm_start_enabled():
        return
    context = _forkserver()
    if wait:
        ready = context.Process(target=_ready)
        ready.start()
        ready.join()
    else:
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _ready() -> None:
    """The first child of a new server: nothing to do; its fork proves the imports done."""


def start_crawl(
    scrapy_args: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path | None = None,
    warm: bool | None = None,
) -> CrawlProcess:
    """Start ``scrapy <scrapy_args>`` (``crawl <portal> -s ...``) in its own session with ``env``, its output to
    ``log_path`` (else this process's own), in this process's working folder. ``warm`` None: as
    ``warm_start_enabled`` says."""
    if warm is None:
        warm = warm_start_enabled()
    if warm:
        return _start_warm(list(scrapy_args), dict(env), log_path)
    cmd = [sys.executable, "-m", "scrapy", *scrapy_args]
    if sys.platform.startswith("linux"):
        cmd = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd[1:]]
    if log_path is None:
        return subprocess.Popen(cmd, env=dict(env), start_new_session=True)
    with log_path.open("wb") as log_file:
        return subprocess.Popen(cmd, env=dict(env), start_new_session=True, stdout=log_file, stderr=log_file)


def signal_group(proc: CrawlProcess, signum: int) -> None:
    """Signal the crawl's process group (the crawl and anything it started); the crawl alone if it has not made
    its session yet, nothing if it is gone."""
    with contextlib.suppress(ProcessLookupError):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            os.kill(proc.pid, signum)


# --- warm ---------------------------------------------------------------------------------------------------


class WarmCrawl:
    """A crawl forked by the server, seen through ``subprocess.Popen``'s names."""

    def __init__(self, process: Any) -> None:
        self._process = process
        self.pid: int = process.pid

    @property
    def returncode(self) -> int | None:
        code: int | None = self._process.exitcode
        return code

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self.returncode
        if code is None:
            raise subprocess.TimeoutExpired(["scrapy", "crawl"], timeout or 0.0)
        return code


def _forkserver() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.preload"])
            main = sys.modules.get("__main__")
            spec_name = getattr(getattr(main, "__spec__", None), "name", None)
            main_file = getattr(main, "__file__", None)
            # read by crawler.preload in the server, which inherits this environment when it starts
            if spec_name:
                os.environ[MAIN_ENV] = f"name:{spec_name}"
            elif main_file:
                os.environ[MAIN_ENV] = f"path:{os.path.abspath(main_file)}"
            _context = context
        return _context


def _start_warm(scrapy_args: list[str], env: dict[str, str], log_path: Path | None) -> WarmCrawl:
    context = _forkserver()
    process = context.Process(target=_run_warm, args=(scrapy_args, env, os.getcwd(), str(log_path or "")))
    process.start()
    return WarmCrawl(process)


def _release_server() -> None:
    """Close this child's copy of the server's "alive" pipe. The server exits when nobody but its starter holds
    the pipe's writing end; multiprocessing hands every child a copy (so that a child could start servers of its
    own), and a crawl holding it would keep the server, and so itself, alive after a kill -9 of the starter."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def die_with(parent: int) -> None:
    """This process is killed when ``parent`` dies (Linux: PR_SET_PDEATHSIG), and exits at once if it is
    already gone (it died before the call)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(137)


def _run_warm(scrapy_args: list[str], env: dict[str, str], cwd: str, log_path: str) -> None:
    """The crawl, in the child forked by the server: a fresh session, the crawl's environment, folder and log
    file, death with the server, then Scrapy's own command line."""
    server = os.getppid()
    os.setsid()
    _release_server()
    die_with(server)
    if log_path:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # a settings module may read the environment when imported (the cluster's reads YIBAO_REDIS_URL): the crawl's
    # is run afresh, in the crawl's environment, not taken from the server's imports
    sys.modules.pop(env.get("SCRAPY_SETTINGS_MODULE", ""), None)
    from scrapy.cmdline import execute

    execute(["scrapy", *scrapy_args])  # raises SystemExit with the crawl's status
