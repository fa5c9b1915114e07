"""The scheduler end to end, with real parts only: replica portals, real ``scheduler.py`` / ``yibao run``
subprocesses, real SQLite archives, a real SMTP server and a real webhook receiver.

- A portal switched to a broken layout (or a 412 challenge) for several runs raises exactly one
  ``portal_broken`` and, once fixed, one ``portal_recovered`` alert; a healthy portal alongside keeps
  running and alerting; ``--once`` exits non-zero while a portal fails.
- A scheduler killed with SIGKILL during a crawl, or during dispatch, and restarted ends with the same
  archive and outbox as an uninterrupted run: nothing lost, no run left open, duplicates only as
  resends under the same delivery id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from storage import open_db
from tests.alerts.conftest import HOOK_SECRET, HookReceiver, SmtpSink, free_port, wait_for
from tests.e2e.alerts.test_delivery import signed
from tests.e2e.scheduler.test_jobs import fast_config
from tests.e2e.warm import yibao

ROOT = Path(__file__).resolve().parents[3]
LEASE = 7  # seconds: above the send timeout below, short enough to wait out in a test
TIMEOUT = 3


# --- receivers and configs ---------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hook = HookReceiver()
    yield hook
    hook.close()


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YIBAO_HOOK_SECRET", HOOK_SECRET)  # inherited by every subprocess below
    return HOOK_SECRET


def alerts_section(smtp: SmtpSink, *, batch_size: int = 50, concurrency: int = 8) -> str:
    return f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "医保观察 Yibao Watch <watch@example.org>"
timeout = {TIMEOUT}

[alerts]
max_attempts = 8
backoff_base = 1
backoff_max = 2
backoff_jitter = 0
lease_seconds = {LEASE}
timeout = {TIMEOUT}
allow_loopback = true
batch_size = {batch_size}
concurrency = {concurrency}
"""


def webhook(receiver: HookReceiver, path: str) -> str:
    return f'webhook = {{ url = "{receiver.url(path)}", secret_env = "YIBAO_HOOK_SECRET" }}'


def write_config(directory: Path, server: Any, portals: list[str], extra: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = fast_config(directory, server, portals)  # [archive] path = directory / "archive.db"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


# --- processes ---------------------------------------------------------------------------------------


def run_once(config: Path, *portals: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``yibao run --once``, forked warm (tests/e2e/warm.py); its crawls start as the product starts them."""
    return yibao("--config", str(config), "run", "--once", *portals, timeout=timeout, cwd=ROOT)


def scheduler_once(config: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python scheduler.py --once``, forked warm."""
    return yibao("--config", str(config), "--once", script="scheduler.py", timeout=timeout, cwd=ROOT)


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "scheduler.py", "--config", str(config)], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def survivors(marker: str) -> list[int]:
    """Processes of this test (``marker``: its temporary directory) still running: the scheduler and the crawls
    it started, cold (``YIBAO_DB=...`` on the command line) or warm (forked by the launcher's server, which
    writes the crawl's log into the archive's folder), never this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                files = [os.readlink(fd) for fd in (entry / "fd").iterdir()] if marker not in cmdline else []
            except OSError:
                continue
            if state != "Z" and (marker in cmdline or any(marker in f for f in files)):
                found.append(int(entry.name))
    return found


def kill_group(proc: subprocess.Popen[bytes], marker: str) -> None:
    """``kill -9 -PGID`` of the scheduler. Its crawl runs in a session of its own and must die with it."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 2  # a crawl left running would go on for seconds
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not survivors(marker), "a crawl outlived the scheduler killed with SIGKILL"


def reap(proc: subprocess.Popen[bytes], marker: str) -> None:
    """Cleanup: whatever of this test is still running."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    for pid in survivors(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# --- archive views -----------------------------------------------------------------------------------


def query(db_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    db = open_db(db_path)
    try:
        return [tuple(row) for row in db.execute(sql, params or []).fetchall()]
    finally:
        db.close()


def documents(db_path: Path) -> Counter[tuple[Any, ...]]:
    return Counter(query(db_path, "SELECT d.title, v.comparison_hash, d.status FROM documents d"
                                  " JOIN versions v ON v.id = d.latest_version_id"))


def event_kinds(db_path: Path) -> Counter[str]:
    return Counter(kind for (kind,) in query(db_path, "SELECT kind FROM events"))


def outbox(db_path: Path) -> list[tuple[Any, ...]]:
    """(idempotency key, event id, event kind, watcher, channel, status) of every outbox row."""
    return query(db_path, "SELECT o.idempotency_key, o.event_id, e.kind, o.watcher, o.channel, o.status"
                          " FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id")


# --- 1. a broken portal: one alert, one recovery notice --------------------------------------------


OPS_AND_XIAMEN = """
[[watchers]]
name = "ops"
ops = true
email = ["oncall@example.org"]
{ops_hook}

[[watchers]]
name = "xiamen-new"
portals = ["fujian_xiamen"]
events = ["new"]
baseline = "every"
{xiamen_hook}
"""


@pytest.mark.parametrize(("fault", "bad_health", "baseline", "bad_runs", "good_runs", "healthy"), [
    pytest.param({"broken_layout": True}, "failed", True, 4, 2, True, id="broken-layout"),  # run 4: no second alert
    # shorter: blocked from the start, and without the healthy portal beside it (shown above)
    pytest.param({"challenge": True}, "blocked", False, 3, 1, False, id="challenge-412"),
])
def test_broken_portal_alerts_once_and_recovers_once(make_replicas, tmp_path, smtp, receiver, hook_secret,
                                                     fault, bad_health, baseline, bad_runs, good_runs,
                                                     healthy) -> None:
    server = make_replicas(docs=20, seed=2)
    world = server.world
    watchers = OPS_AND_XIAMEN.format(ops_hook=webhook(receiver, "/ops"), xiamen_hook=webhook(receiver, "/xiamen"))
    portals = ["nhsa", "fujian_xiamen"] if healthy else ["nhsa"]
    config = write_config(tmp_path, server, portals, alerts_section(smtp) + watchers)
    db_path = tmp_path / "archive.db"

    def ops_kinds() -> list[str]:
        return [r.headers["X-Yibao-Event"] for r in receiver.delivered("/ops")]

    def xiamen_titles() -> Counter[str]:
        return Counter(r.json["document"]["title"] for r in receiver.delivered("/xiamen"))

    if baseline:  # both healthy first: the portal is *switched* to the fault
        first = run_once(config, *portals)
        assert first.returncode == 0, first.stdout + first.stderr[-3000:]
        assert ops_kinds() == []

    published = []
    for number, faulty in enumerate([True] * bad_runs + [False] * good_runs, start=1):
        if faulty:
            world.set_faults("nhsa", **fault)
        else:
            world.clear_faults("nhsa")
        if healthy:
            doc = world.publish("fujian_xiamen")  # the healthy portal publishes before every run
            published.append(doc.title)
        done = run_once(config, *portals)
        lines = dict(parts for parts in map(str.split, done.stdout.splitlines()) if len(parts) == 2)
        assert lines.get("fujian_xiamen", "ok") == "ok", done.stdout
        assert lines["nhsa"] == (bad_health if faulty else "ok"), done.stdout
        assert done.returncode == (1 if faulty else 0), done.stdout + done.stderr[-3000:]
        # the ops receiver: nothing for two bad runs, the alert after the third, no flood, one recovery
        expected = (["portal_broken"] if number >= 3 else []) + (["portal_recovered"] if number > bad_runs else [])
        assert ops_kinds() == expected, (number, ops_kinds())
        if healthy:
            assert xiamen_titles()[doc.title] == 1  # the healthy portal alerted its new document in the same run

    # exactly one "portal broken" and one "portal recovered", on both ops channels, signed, with evidence
    ops = receiver.delivered("/ops")
    assert Counter(r.headers["X-Yibao-Event"] for r in ops) == {"portal_broken": 1, "portal_recovered": 1}
    assert all(signed(r) and r.json["event"]["portal_id"] == "nhsa" and r.json["document"] is None for r in ops)
    broken = next(r.json for r in ops if r.json["event"]["kind"] == "portal_broken")
    assert "nhsa" in broken["event"]["summary"]
    assert bad_health in broken["event"]["summary"]
    mails = smtp.to("oncall@example.org")
    assert Counter(m["X-Yibao-Event"] for m in mails) == {"portal_broken": 1, "portal_recovered": 1}
    assert len(smtp.messages) == 2  # nobody else gets e-mail

    # the healthy portal's watcher got every Xiamen document once: the first crawl's and each new one
    xiamen = receiver.delivered("/xiamen")
    if healthy:
        assert set(Counter(r.json["document"]["id"] for r in xiamen).values()) == {1}
        assert len(xiamen) == len(world.docs("fujian_xiamen"))
        assert {r.json["document"]["title"] for r in xiamen} == {d.title for d in world.docs("fujian_xiamen")}
        assert set(published) <= set(xiamen_titles())
        assert len(published) == bad_runs + good_runs
        assert all(r.json["event"]["portal_id"] == "fujian_xiamen" for r in xiamen)
    else:
        assert xiamen == []

    # the archive agrees: nhsa bad exactly while the fault was on, Xiamen ok throughout
    health = {pid: [h for (h,) in query(db_path, "SELECT health FROM runs WHERE portal_id = ? ORDER BY id", [pid])]
              for pid in ("nhsa", "fujian_xiamen")}
    runs = int(baseline) + bad_runs + good_runs
    assert health == {"nhsa": ["ok"] * baseline + [bad_health] * bad_runs + ["ok"] * good_runs,
                      "fujian_xiamen": ["ok"] * runs if healthy else []}
    assert {status for (*_, status) in outbox(db_path)} == {"sent"}


# --- 2. kill -9 during a crawl and during dispatch ---------------------------------------------------


EVERYTHING = """
[[watchers]]
name = "everything"
baseline = "every"
email = ["{address}"]
{hook}
"""


def count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    try:
        return query(db_path, sql)[0][0]
    except Exception:  # the schema is still being created by the first crawl
        return 0


def latest(stamps: list[str]) -> float:
    return max(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in stamps)


def delivered_ids(receiver: HookReceiver, smtp: SmtpSink, path: str, address: str) -> tuple[list[str], list[str]]:
    hooks = [r.headers["X-Yibao-Delivery"] for r in receiver.delivered(path)]
    mails = [str(m["X-Yibao-Delivery"]).strip() for m in smtp.to(address)]
    return hooks, mails


def assert_each_delivered(db_path: Path, receiver: HookReceiver, smtp: SmtpSink, path: str, address: str) -> int:
    """Every outbox row is sent, and reached its target: each delivery id arrived, and any repeat
    is a resend under the same id. Returns the number of repeats."""
    rows = outbox(db_path)
    assert rows
    assert {status for (*_, status) in rows} == {"sent"}
    keys = {channel: {key for key, _, _, _, ch, _ in rows if ch == channel} for channel in ("webhook", "email")}
    hooks, mails = delivered_ids(receiver, smtp, path, address)
    assert set(hooks) == keys["webhook"]
    assert set(mails) == keys["email"]
    per_event: dict[int, set[str]] = {}
    for r in receiver.delivered(path):
        per_event.setdefault(r.json["event"]["id"], set()).add(r.headers["X-Yibao-Delivery"])
    assert len(per_event) == len(keys["webhook"])  # every event reached the hook ...
    assert {len(ids) for ids in per_event.values()} == {1}  # ... under one delivery id
    return len(hooks) - len(set(hooks)) + len(mails) - len(set(mails))


def test_sigkill_during_a_crawl_then_restart_ends_as_an_uninterrupted_run(
        make_replicas, tmp_path, smtp, receiver, hook_secret) -> None:
    server = make_replicas(docs=150, seed=2)  # 31 documents of Xiamen: the restarted and the reference crawl
    world = server.world
    total = len(world.docs("fujian_xiamen"))
    killed_cfg = write_config(tmp_path / "killed", server, ["fujian_xiamen"],
                              alerts_section(smtp) + EVERYTHING.format(address="k@example.org",
                                                                       hook=webhook(receiver, "/killed")))
    reference_cfg = write_config(tmp_path / "reference", server, ["fujian_xiamen"],
                                 alerts_section(smtp) + EVERYTHING.format(address="r@example.org",
                                                                          hook=webhook(receiver, "/reference")))
    for cfg in (killed_cfg, reference_cfg):  # due only because never crawled: no cron slot may fire mid-test
        cfg.write_text(cfg.read_text(encoding="utf-8").replace("*/5 * * * *", "0 0 1 1 *"), encoding="utf-8")
    killed_db, reference_db = tmp_path / "killed" / "archive.db", tmp_path / "reference" / "archive.db"
    marker = f"{tmp_path}/"

    # the daemon finds the portal overdue (never crawled) and crawls it soon after the start; detail
    # pages are slow, so the kill lands in the middle of the crawl
    world.set_faults("fujian_xiamen", slow=0.5, path_prefix="/zwgk/")
    proc = start_daemon(killed_cfg, tmp_path / "killed" / "scheduler.log")
    try:
        wait_for(lambda: count(killed_db, "SELECT COUNT(*) FROM documents") >= 5, timeout=60, interval=0.2)
        kill_group(proc, marker)
    finally:
        reap(proc, marker)
    stored = count(killed_db, "SELECT COUNT(*) FROM documents")
    assert 5 <= stored < total  # killed mid-crawl
    assert query(killed_db, "SELECT COUNT(*) FROM runs WHERE finished_at IS NULL") == [(1,)]
    world.clear_faults("fujian_xiamen")

    # restart in cron mode until nothing is due: the stale run is closed, the crawl carries on
    outputs = []
    for _ in range(3):
        done = scheduler_once(killed_cfg)
        outputs.append(done.stdout)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        if "nothing due" in done.stdout:
            break
    assert len(outputs) == 2, outputs
    assert "fujian_xiamen" in outputs[0], outputs
    reference = scheduler_once(reference_cfg)  # the same world, never interrupted
    assert reference.returncode == 0, reference.stdout + reference.stderr[-3000:]

    # the archive: the same documents (title, comparison hash, status), the same events
    assert sum(documents(reference_db).values()) == total
    assert documents(killed_db) == documents(reference_db)
    assert event_kinds(killed_db) == event_kinds(reference_db) == {"new": total}
    # the runs: none left open; the killed one closed as interrupted, the rest healthy
    runs = query(killed_db, "SELECT finish_reason, health FROM runs ORDER BY id")
    assert runs == [("interrupted", "failed"), ("finished", "ok")], runs
    assert query(reference_db, "SELECT COUNT(*) FROM runs WHERE finished_at IS NULL") == [(0,)]

    # the outbox: the same rows per (event kind, watcher, channel), all sent, each delivered once
    def shape(db_path: Path) -> Counter[tuple[str, str, str, str]]:
        return Counter((kind, watcher, channel, status) for _, _, kind, watcher, channel, status in outbox(db_path))

    assert shape(killed_db) == shape(reference_db) == {("new", "everything", "webhook", "sent"): total,
                                                      ("new", "everything", "email", "sent"): total}
    assert_each_delivered(killed_db, receiver, smtp, "/killed", "k@example.org")
    assert assert_each_delivered(reference_db, receiver, smtp, "/reference", "r@example.org") == 0


def test_sigkill_during_dispatch_then_restart_loses_nothing(make_replicas, tmp_path, smtp, receiver,
                                                             hook_secret) -> None:
    server = make_replicas(docs=60, seed=2)
    watchers = EVERYTHING.format(address="d@example.org", hook=webhook(receiver, "/hook"))
    config = write_config(tmp_path, server, ["fujian_xiamen"],
                          alerts_section(smtp, batch_size=4, concurrency=2) + watchers)
    # crawled a moment ago and next due at 03:00: the daemon below only dispatches
    config.write_text(config.read_text(encoding="utf-8").replace('"*/5 * * * *"', '"0 3 * * *"'), encoding="utf-8")
    db_path, log, marker = tmp_path / "archive.db", tmp_path / "scheduler.log", f"{tmp_path}/"
    crawl = yibao("--config", str(config), "crawl", timeout=120, cwd=ROOT)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    rows = outbox(db_path)
    events = len({event for _, event, *_ in rows})
    assert events == len(server.world.docs("fujian_xiamen"))
    assert len(rows) == 2 * events
    assert {status for (*_, status) in rows} == {"pending"}

    receiver.hold.set()  # both receivers take the message, then do not answer
    smtp.hold.set()
    proc = start_daemon(config, log)
    try:
        wait_for(lambda: len(receiver.requests) + len(smtp.raw) >= 2, timeout=30)  # two sends in flight
        kill_group(proc, marker)
    finally:
        reap(proc, marker)
    receiver.hold.clear()
    smtp.hold.clear()
    in_flight = delivered_ids(receiver, smtp, "/hook", "d@example.org")
    assert len(in_flight[0]) + len(in_flight[1]) == 2
    statuses = Counter(status for (*_, status) in outbox(db_path))
    assert statuses == {"sending": 4, "pending": len(rows) - 4}  # the claimed batch, under its lease

    # restart: the first dispatch sends what was never claimed; the claimed rows come back when their
    # lease has run out, and SIGTERM flushes the dispatcher before the daemon exits
    proc = start_daemon(config, log)
    try:
        wait_for(lambda: count(db_path, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'") >= len(rows) - 4,
                 timeout=40, interval=0.2)
        leases = [lease for (lease,) in query(db_path, "SELECT lease_until FROM outbox WHERE status = 'sending'")]
        time.sleep(max(0.0, latest(leases) - time.time()) + 0.5 if leases else 0.0)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text(encoding="utf-8")[-3000:]
    finally:
        reap(proc, marker)

    repeats = assert_each_delivered(db_path, receiver, smtp, "/hook", "d@example.org")
    assert repeats == 2  # exactly the two sends that were in flight, again, under the same ids
    hooks, mails = delivered_ids(receiver, smtp, "/hook", "d@example.org")
    assert sorted(h for h, n in Counter(hooks).items() if n > 1) == sorted(in_flight[0])
    assert sorted(m for m, n in Counter(mails).items() if n > 1) == sorted(in_flight[1])
    assert all(signed(r) for r in receiver.requests)
    attempts = Counter(a for (a,) in query(db_path, "SELECT attempts FROM outbox"))
    assert attempts == {1: len(rows) - 4, 2: 4}  # the killed claim counted once more, nothing else retried
