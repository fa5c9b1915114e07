"""No resend storms: dispatchers running side by side against a slow receiver with a short lease send each
delivery once; a send outliving the lease keeps its claim; attempts never pass ``max_attempts``, even when
the claims expire instead of failing (a dispatcher killed again and again); and ``kill -9`` during
dispatch makes at most one duplicate per kill, under the same delivery id."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import dispatch_due
from alerts.routing import make_router
from alerts.watchers import load_alerts
from storage.archive import record
from storage.db import open_db
from storage.outbox import claim_due, list_deliveries, status_counts
from storage.runs import start_run
from tests.alerts.conftest import SmtpSink
from tests.alerts.receivers import SlowReceiver
from tests.storage.factories import NOW, policy


def policies(n: int) -> list[Any]:
    return [
        policy(f"https://ybj.example.gov.cn/zcwj/s{i}.html", index_no=f"storm-{i}", doc_no=f"宁医保〔2025〕{300 + i}号",
               title=f"关于第{i}批医保支付标准的通知")
        for i in range(n)
    ]


def write_config(tmp_path: Path, alerts: str, watchers: str, smtp_port: int | None = None, *,
                 smtp_timeout: float = 10, backoff: str = "backoff_base = 1\nbackoff_max = 2\n") -> Path:
    smtp = (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout = {smtp_timeout}\n'
            'sender = "Yibao Watch <watch@example.org>"\n') if smtp_port else ""
    path = tmp_path / "yibao.toml"
    path.write_text(f'[archive]\npath = "{tmp_path / "archive.db"}"\n{smtp}[alerts]\nallow_loopback = true\n{backoff}'
                    f'backoff_jitter = 0\n{alerts}\n{watchers}', encoding="utf-8")
    return path


def raw(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def seed(path: Path, n: int) -> Any:
    router = make_router(load_alerts(raw(path)))
    db = open_db(path.parent / "archive.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    for rec in policies(n):
        record(db, rec, run_id=run, now=NOW, on_event=router)
    return db


def hook(url: str, name: str = "hook") -> str:
    return f'[[watchers]]\nname = "{name}"\nwebhook = {{ url = "{url}", secret_env = "YIBAO_HOOK_SECRET" }}\n'


def settled(db: Any) -> bool:
    counts = status_counts(db)
    return counts["pending"] + counts["sending"] + counts["failed"] == 0


def run_dispatchers(path: Path, n: int, *, limit: float) -> list[BaseException]:
    """``n`` dispatchers, each in its own thread with its own connection, each dispatching again and
    again (as the scheduler does every minute, here every 0.1 s) until every row is settled or ``limit``
    seconds have passed."""
    errors: list[BaseException] = []
    stop = time.monotonic() + limit
    config = raw(path)

    def loop() -> None:
        db = open_db(path.parent / "archive.db")
        try:
            while time.monotonic() < stop and not settled(db):
                dispatch_due(db, config)
                time.sleep(0.1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=loop) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(limit + 30)
    return errors


@pytest.fixture
def slow_receiver() -> Any:
    hook = SlowReceiver(delay=1.2)
    yield hook
    hook.close()


def test_two_dispatchers_slow_receiver_short_lease_send_each_delivery_once(
    tmp_path, slow_receiver, hook_secret
) -> None:
    """12 deliveries, a receiver answering in 1.2 s, a 3 s lease, batches of 8 with 2 in flight: a batch
    takes 4.8 s, longer than its lease. Before: the second dispatcher re-claimed and re-sent whole batches."""
    path = write_config(tmp_path, "lease_seconds = 3\ntimeout = 2\nbatch_size = 8\nconcurrency = 2\nmax_attempts = 3\n",
                        hook(slow_receiver.url()))
    db = seed(path, 12)
    started = time.monotonic()
    errors = run_dispatchers(path, 2, limit=30)
    took = time.monotonic() - started
    assert errors == []
    copies = slow_receiver.copies()
    print(f"\nstorm: {sum(copies.values())} POSTs for {len(copies)} deliveries in {took:.1f} s;"
          f" copies per delivery {sorted(Counter(copies.values()).items())}")
    rows = list_deliveries(db)
    assert len(rows) == 12
    assert {r.status for r in rows} == {"sent"}
    assert sorted(copies) == sorted(r.idempotency_key for r in rows)
    assert set(copies.values()) == {1}, copies  # each delivery received exactly once
    assert max(r.attempts for r in rows) <= 3
    assert took < 15


def test_a_send_longer_than_the_lease_keeps_its_claim(tmp_path, smtp: SmtpSink) -> None:
    """An SMTP server that takes 3.5 s to accept a message (its own timeout is 10 s) against a 2 s lease
    and a second dispatcher waiting for the lease to run out: the lease is renewed while the send runs."""
    path = write_config(tmp_path, "lease_seconds = 2\ntimeout = 1\n",
                        '[[watchers]]\nname = "mail"\nemail = ["a@example.org"]\n', smtp_port=smtp.port)
    db = seed(path, 2)
    smtp.hold.set()
    threading.Timer(3.5, smtp.hold.clear).start()
    errors = run_dispatchers(path, 2, limit=20)
    assert errors == []
    assert status_counts(db)["sent"] == 2
    ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(ids) == 2
    assert set(ids.values()) == {1}, ids
    assert {r.attempts for r in list_deliveries(db)} == {1}


def test_expired_claims_count_and_stop_at_max_attempts(tmp_path, slow_receiver, hook_secret) -> None:
    """A delivery whose dispatchers all died mid-send (claimed, never marked, lease expired) max_attempts
    times is dead with an ops alert: it is not sent a further time."""
    ops = SlowReceiver(delay=0)
    try:
        path = write_config(tmp_path, "lease_seconds = 60\ntimeout = 2\nmax_attempts = 3\n",
                            hook(slow_receiver.url()) + '[[watchers]]\nname = "ops"\nops = true\n'
                            f'webhook = {{ url = "{ops.url("/ops")}", secret_env = "YIBAO_HOOK_SECRET" }}\n')
        db = seed(path, 1)
        t0 = datetime(2025, 8, 19, 2, 0, tzinfo=UTC)
        for i in range(3):  # three dispatchers claim it and die before marking
            (row,) = claim_due(db, t0 + timedelta(minutes=2 * i), lease=60)
            assert row.attempts == i + 1
        report = dispatch_due(db, raw(path), now=t0 + timedelta(minutes=10))
        (row,) = list_deliveries(db, watcher="hook")
        assert row.status == "dead"
        assert row.attempts == 3
        assert "lease" in (row.last_error or "")
        assert slow_receiver.count() == 0  # not sent a 4th time
        assert report.dead == 1
        assert report.ops_alerts == 1
        (alert,) = ops.posts
        assert alert.json["event"]["kind"] == "delivery_dead"
        assert "3" in alert.json["event"]["summary"]
    finally:
        ops.close()


# ``python -m cli.alerts --config FILE dispatch`` processes, forked from a warm interpreter that has done the
# imports once (a cold start costs 1-3 s, ten of them would be most of the test): the parent never opens the
# archive nor starts a thread, so each child is a fresh dispatcher process in all that matters.
ZYGOTE = """
import os, runpy, sys
import alerts.channels.webhook, alerts.dispatch, alerts.render, cli.alerts, storage.db
argv = ["cli.alerts", *sys.argv[1:]]
for line in sys.stdin:
    if line.strip() == "go":
        pid = os.fork()
        if pid == 0:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            sys.argv = argv
            try:
                runpy.run_module("cli.alerts", run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            os._exit(code)
        print(pid, flush=True)
    elif line.startswith("reap"):
        print(os.waitpid(int(line.split()[1]), 0)[1], flush=True)
"""


class Dispatchers:
    def __init__(self, path: Path) -> None:
        self.zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, "--config", str(path), "dispatch"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                       env=os.environ.copy())

    def _ask(self, line: str) -> int:
        assert self.zygote.stdin is not None
        assert self.zygote.stdout is not None
        self.zygote.stdin.write(line + "\n")
        self.zygote.stdin.flush()
        return int(self.zygote.stdout.readline())

    def start(self) -> int:
        return self._ask("go")

    def kill(self, pid: int) -> int:
        os.kill(pid, signal.SIGKILL)
        return self._ask(f"reap {pid}")

    def close(self) -> None:
        assert self.zygote.stdin is not None
        assert self.zygote.stdout is not None
        self.zygote.stdin.close()
        self.zygote.wait(10)
        self.zygote.stdout.close()


def wait_until(predicate: Any, timeout: float) -> bool:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_kill_9_during_dispatch_ten_times(tmp_path, hook_secret) -> None:
    """End to end: ``yibao dispatch`` processes killed with SIGKILL while a send is in flight, ten times,
    each time restarted: at most one duplicate per kill, and every copy of a delivery has one id."""
    receiver = SlowReceiver(delay=0.25)
    try:
        path = write_config(tmp_path, "lease_seconds = 1.5\ntimeout = 1\nbatch_size = 10\nconcurrency = 1\n"
                            "max_attempts = 20\n", hook(receiver.url()))
        db = seed(path, 16)
        rng = random.Random(13)
        kills = 0
        started = time.monotonic()
        dispatchers = Dispatchers(path)
        try:
            while kills < 10:
                before = receiver.count()
                pid = dispatchers.start()
                wanted = before + rng.randint(1, 2)
                arrived = wait_until(lambda wanted=wanted: receiver.count() >= wanted, 20)
                time.sleep(rng.uniform(0, 0.2))  # kill while that request is in flight (or just after)
                status = dispatchers.kill(pid)
                if not arrived:
                    break
                assert os.WIFSIGNALED(status), f"the dispatcher had already finished: {status_counts(db)}"
                assert os.WTERMSIG(status) == signal.SIGKILL
                kills += 1
        finally:
            dispatchers.close()
        assert kills == 10, f"the dispatcher stopped sending after {kills} kills: {status_counts(db)}"
        config = raw(path)
        assert wait_until(lambda: (dispatch_due(db, config), settled(db))[1], 20), status_counts(db)
        took = time.monotonic() - started
    finally:
        receiver.close()
    copies = receiver.copies()
    duplicates = sum(copies.values()) - len(copies)
    print(f"\nkill -9 x{kills}: {sum(copies.values())} POSTs for {len(copies)} deliveries, {duplicates} duplicates,"
          f" {took:.1f} s")
    rows = list_deliveries(db)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(copies) == sorted(r.idempotency_key for r in rows)  # nothing lost
    assert duplicates <= kills
    by_event: dict[int, set[str]] = {}
    for post in receiver.posts:
        assert post.json["delivery_id"] == post.delivery_id == post.headers["webhook-id"]
        by_event.setdefault(post.json["event"]["id"], set()).add(post.delivery_id)
    assert all(len(ids) == 1 for ids in by_event.values())  # a duplicate carries the same delivery id
    assert max(r.attempts for r in rows) <= 20
