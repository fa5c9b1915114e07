"""The command line in process (click's ``CliRunner``) over a small real archive.

``archive``: three documents (a policy edited once, a reply, a notice) recorded by ``storage.record``, and
runs of two portals: ``fujian_ningde`` healthy, ``fujian_xiamen`` failed after an ok run, its crawl log
where ``ops.jobs`` writes one. Every test runs in its own folder with no ``$YIBAO_CONFIG`` / ``$YIBAO_DB``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import yibao
from storage import finish_run, open_db, record, start_run
from tests.storage.factories import BODY, LATER, NOW, notice, policy, reply

Invoke = Callable[..., Result]
FAILED_STATS = {"downloader/request_count": 4, "downloader/response_count": 4, "yibao/list_pages": 3,
                "yibao/listed": 0, "yibao/documents": 0}  # fmt: skip


@dataclass(frozen=True)
class Archive:
    path: Path
    failed_run: int
    log: Path


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, no ``$YIBAO_DB`` and no ``./yibao.toml`` or ``./data`` from elsewhere."""
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def invoke() -> Invoke:
    """``invoke(*args, env=None)``: ``yibao ARGS`` in this process; exceptions are raised, not swallowed."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(yibao, list(args), env=env, catch_exceptions=False)

    return run


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    path = tmp_path / "data" / "archive.db"
    path.parent.mkdir()
    db = open_db(path)
    record(db, policy(), run_id=None, now=NOW)
    record(db, policy(body_text=BODY.replace("不得自行调整", "不得擅自调整")), run_id=None, now=LATER)
    record(db, reply(), run_id=None, now=NOW)
    record(db, notice("https://ybj.example.gov.cn/tzgg/n1.html", "详见附件。"), run_id=None, now=NOW)
    ok = start_run(db, "fujian_xiamen", now=NOW)
    finish_run(db, ok, finish_reason="finished", health="ok", stats={"yibao/listed": 3}, now=NOW)
    good = start_run(db, "fujian_ningde", now=NOW)
    finish_run(db, good, finish_reason="finished", health="ok", stats={"yibao/listed": 3}, now=NOW)
    failed = start_run(db, "fujian_xiamen", now=LATER)
    finish_run(db, failed, finish_reason="finished", health="failed", stats=FAILED_STATS, now=LATER)
    db.close()
    log = path.parent / "logs" / f"fujian_xiamen-run{failed}.log"
    log.parent.mkdir()
    log.write_text("2025-08-19 ERROR list page without links\n", encoding="utf-8")
    return Archive(path, failed, log)


@pytest.fixture
def config_file(tmp_path: Path, archive: Archive) -> Path:
    """A user config: ``[archive] path`` the archive, portal ``sichuan`` disabled, one watcher (``desk``)."""
    path = tmp_path / "yibao.toml"
    path.write_text(
        f'[archive]\npath = "{archive.path}"\n\n[[portals]]\nid = "sichuan"\nenabled = false\n\n'
        '[alerts]\nallow_loopback = true\n\n'
        '[[watchers]]\nname = "desk"\nwebhook = { url = "http://127.0.0.1:9/hook", secret_env = "YIBAO_TEST_SECRET" }\n',
        encoding="utf-8",
    )
    return path
