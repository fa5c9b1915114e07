"""A dispatch pass ends in bounded time: a hung SMTP relay or web server (accepts, never answers) does not
hold up the other channels and is not tried again in the same pass, its messages waiting with backoff; a
receiver that drips its answer a byte at a time cannot keep the pass open; the pass deadline hands back
what was not tried, due at once, and the next pass delivers it, each message once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import dispatch_due
from storage.db import open_db
from storage.outbox import list_deliveries, status_counts
from tests.alerts.conftest import SmtpSink
from tests.alerts.receivers import DripServer, HungServer, SlowReceiver
from tests.e2e.alerts.test_dispatch_storm import hook, raw, seed, write_config


@pytest.fixture
def healthy() -> Any:
    receiver = SlowReceiver(delay=0)
    yield receiver
    receiver.close()


def timed(path: Path, limit: float, **kwargs: Any) -> tuple[Any, float]:
    """One ``dispatch_due`` pass over the archive next to ``path``, in a thread (with its own connection):
    fail, instead of hanging the suite, if it is not done in ``limit`` seconds."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        db = open_db(path.parent / "archive.db")
        try:
            result.append(dispatch_due(db, raw(path), **kwargs))
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    took = time.monotonic() - started
    assert not thread.is_alive(), f"the dispatch pass was still running after {limit} s"
    if errors:
        raise errors[0]
    return result[0], took


def test_hung_smtp_and_hung_web_server_do_not_hold_up_the_others(tmp_path, healthy, smtp: SmtpSink,
                                                                 hook_secret) -> None:
    hung_smtp, hung_web = HungServer(), HungServer()
    try:
        watchers = ('[[watchers]]\nname = "mail"\nemail = ["a@example.org"]\n'
                    + hook(f"http://127.0.0.1:{hung_web.port}/hook", "stuck") + hook(healthy.url(), "hook"))
        path = write_config(tmp_path, "lease_seconds = 30\ntimeout = 3\nconcurrency = 4\nmax_attempts = 5\n",
                            watchers, smtp_port=hung_smtp.port, smtp_timeout=3,
                            backoff="backoff_base = 30\nbackoff_max = 60\n")
        db = seed(path, 6)
        started = time.monotonic()
        report, took = timed(path, 60)
        print(f"\nhung SMTP + hung web server: pass took {took:.1f} s; {report}")

        # the healthy webhook got everything at once, before any hung send had timed out
        assert len(healthy.posts) == 6
        assert max(p.at for p in healthy.posts) - started < 2.5
        assert took < 3 + 2.5  # one timeout of the hung servers, not one per message
        assert sorted(report.hung) == sorted([f"smtp://127.0.0.1:{hung_smtp.port}",
                                              f"http://127.0.0.1:{hung_web.port}"])
        rows = list_deliveries(db)
        assert {r.status for r in rows if r.watcher == "hook"} == {"sent"}
        waiting = [r for r in rows if r.watcher != "hook"]
        assert len(waiting) == 12
        assert {r.status for r in waiting} <= {"failed", "pending"}  # not lost, not dead, not left sending
        tried = [r for r in waiting if r.attempts == 1]
        skipped = [r for r in waiting if r.attempts == 0]
        assert len(tried) + len(skipped) == 12
        assert all("no answer" in (r.last_error or "") for r in tried)
        assert all("not tried" in (r.last_error or "") for r in skipped)
        # one send to each hung server (until a server has answered, it gets one send at a time)
        assert Counter(r.watcher for r in tried) == {"mail": 1, "stuck": 1}
        assert report.deferred == len(skipped) == 10
        now = datetime.now(UTC)
        assert all(datetime.fromisoformat(r.next_attempt_at.replace("Z", "+00:00")) > now + timedelta(seconds=20)
                   for r in waiting)  # rescheduled with backoff, not retried in a loop

        # the relay is back (the real aiosmtpd): the next pass after the backoff delivers every e-mail once
        path.write_text(path.read_text(encoding="utf-8").replace(f"port = {hung_smtp.port}", f"port = {smtp.port}"),
                        encoding="utf-8")
        later = datetime.now(UTC) + timedelta(seconds=120)
        report, took = timed(path, 60, now=later)
        mails = [r for r in list_deliveries(db) if r.watcher == "mail"]
        assert {r.status for r in mails} == {"sent"}
        ids = Counter(m["Message-ID"] for m in smtp.messages)
        assert len(ids) == 6
        assert set(ids.values()) == {1}
        assert took < 3 + 2.5  # the web server is still hung: one timeout again
        assert all(r.attempts <= 2 for r in list_deliveries(db))
    finally:
        hung_smtp.close()
        hung_web.close()


def test_a_dripping_receiver_cannot_keep_the_pass_open(tmp_path, healthy, hook_secret) -> None:
    """Each byte of the answer comes within the read timeout, so the request's own timeouts never fire:
    the send is given up after twice its timeout, well before the pass deadline (60 s by default)."""
    drip = DripServer(interval=0.2)
    try:
        watchers = hook(f"http://127.0.0.1:{drip.port}/hook", "drip") + hook(healthy.url(), "hook")
        path = write_config(tmp_path, "lease_seconds = 30\ntimeout = 1\nconcurrency = 2\n", watchers)
        db = seed(path, 3)
        report, took = timed(path, 30)
        print(f"\ndripping receiver: pass took {took:.1f} s; {report}")
        assert took < 2 * 1 + 1.5
        assert not report.deadline_reached
        assert report.hung == [f"http://127.0.0.1:{drip.port}"]
        assert len(healthy.posts) == 3
        rows = list_deliveries(db)
        assert {r.status for r in rows if r.watcher == "hook"} == {"sent"}
        dripped = [r for r in rows if r.watcher == "drip"]
        assert {r.status for r in dripped} <= {"failed", "pending"}
        assert [r.attempts for r in dripped].count(1) == 1  # one send, the others not tried in this pass
        assert any("no complete answer" in (r.last_error or "") for r in dripped)
    finally:
        drip.close()


def test_the_pass_deadline_hands_back_the_rest_and_the_next_pass_sends_it(tmp_path, hook_secret) -> None:
    slow = SlowReceiver(delay=0.5)
    try:
        path = write_config(tmp_path, "lease_seconds = 30\ntimeout = 2\nconcurrency = 1\n", hook(slow.url()))
        db = seed(path, 10)
        report, took = timed(path, 30, deadline=1.6)
        print(f"\ndeadline 1.6 s: pass took {took:.1f} s; {report}")
        assert took < 1.6 + 2 + 0.5
        assert report.deadline_reached
        assert 1 <= report.sent <= 5
        assert report.deferred == 10 - report.sent
        rows = list_deliveries(db)
        handed_back = [r for r in rows if r.status != "sent"]
        assert len(handed_back) == report.deferred
        assert {(r.status, r.attempts) for r in handed_back} == {("pending", 0)}  # untried: no attempt counted
        assert status_counts(db)["sending"] == 0
        report, _ = timed(path, 30)  # due at once: the next pass sends them
        assert status_counts(db)["sent"] == 10
        copies = slow.copies()
        assert len(copies) == 10
        assert set(copies.values()) == {1}
        assert {r.attempts for r in list_deliveries(db)} == {1}
    finally:
        slow.close()
