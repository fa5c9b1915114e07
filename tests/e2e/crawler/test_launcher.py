"""crawler.launcher: a crawl started warm (forked by the server) behaves as the same crawl started cold.

Each case runs a real ``scrapy`` command both ways, in a starter process of its own (the server is a process of
the starter's, and the starter's own death is one of the cases)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawler.helpers import REPO, clean_env

STARTER = """
import json, os, sys
from pathlib import Path
from crawler.launcher import start_crawl, warm_up
args, env, log, wait = json.loads(sys.argv[1])
warm_up()
proc = start_crawl(args, env={**os.environ, **env}, log_path=Path(log))
print(proc.pid, flush=True)
if wait:
    print(proc.wait(), flush=True)
else:
    sys.stdin.read()
"""
SLEEPER = """
import time
import scrapy

class Sleeper(scrapy.Spider):
    name = "sleeper"

    async def start(self):
        time.sleep(60)
        return
        yield
"""


def starter(tmp_path: Path, args: list[str], *, warm: bool, env: dict[str, str] | None = None,
            wait: bool = True) -> subprocess.Popen[str]:  # fmt: skip
    import json

    log = tmp_path / f"crawl-{'warm' if warm else 'cold'}.log"
    payload = json.dumps([args, {"SCRAPY_SETTINGS_MODULE": "crawler.settings", **(env or {})}, str(log), wait])
    return subprocess.Popen([sys.executable, "-c", STARTER, payload], cwd=REPO, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=clean_env(YIBAO_WARM_START="1" if warm else "0"))  # fmt: skip


def run(tmp_path: Path, args: list[str], *, warm: bool, env: dict[str, str] | None = None) -> tuple[int, str]:
    """(exit status, log) of ``scrapy ARGS`` started by a starter process."""
    proc = starter(tmp_path, args, warm=warm, env=env)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    status = int(out.split()[1])
    return status, (tmp_path / f"crawl-{'warm' if warm else 'cold'}.log").read_text(encoding="utf-8")


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_the_crawls_settings_module_reads_the_crawls_environment(tmp_path, warm):
    """The cluster's settings module reads YIBAO_REDIS_URL when imported: the server imported it with its own
    environment, the crawl must see its own."""
    status, log = run(tmp_path, ["settings", "--get", "REDIS_URL"], warm=warm,
                      env={"SCRAPY_SETTINGS_MODULE": "crawler.cluster.settings",
                           "YIBAO_REDIS_URL": "redis://127.0.0.1:1/7"})  # fmt: skip
    assert status == 0, log
    assert log.strip().splitlines()[-1] == "redis://127.0.0.1:1/7"


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_failing_crawl_exits_non_zero_with_its_error_in_its_log(tmp_path, warm):
    status, log = run(tmp_path, ["crawl", "no_such_portal"], warm=warm)
    assert status != 0
    assert "no_such_portal" in log


def test_a_warm_crawl_dies_with_its_starter(tmp_path):
    spider = tmp_path / "sleeper.py"
    spider.write_text(SLEEPER, encoding="utf-8")
    proc = starter(tmp_path, ["runspider", str(spider)], warm=True, wait=False)
    assert proc.stdout is not None
    crawl = int(proc.stdout.readline())
    deadline = time.monotonic() + 10  # a session of its own (made first thing): the starter's group is not its
    while time.monotonic() < deadline and os.getpgid(crawl) != crawl:
        time.sleep(0.02)
    assert os.getpgid(crawl) == crawl
    proc.kill()  # kill -9 of the starter: its server exits, and the crawl with it
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(crawl):
        time.sleep(0.05)
    if _alive(crawl):
        os.kill(crawl, signal.SIGKILL)
        pytest.fail("the warm crawl outlived its starter killed with SIGKILL")


def test_the_server_installs_no_reactor_and_imports_what_a_crawl_imports():
    probe = ("import sys\nimport crawler.preload as p\n"
             "print('twisted.internet.reactor' in sys.modules, 'scrapy.crawler' in sys.modules,"
             " 'spiders.families' in sys.modules, 'crawler.pipelines.archive_record' in sys.modules, p.preload())")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=clean_env(), capture_output=True, text=True,
                          timeout=120, start_new_session=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "True", "[]"], done.stdout


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
