"""The dispatcher: claim due outbox rows, send them, mark each as it completes (``yibao dispatch``; the
scheduler runs it every minute).

``dispatch_due(db, config, now)`` is one **pass**. It loops: claim a batch (``storage.outbox.claim_due``:
rows become ``sending`` under a lease, the attempt counted), render each message from the archive when
its turn comes, send up to ``[alerts] concurrency`` at once (each in its own thread), and mark each
message in its own transaction **as soon as its send returns**:

- delivered: ``sent``;
- failed: ``failed`` with the next attempt at ``now + min(backoff_max, backoff_base * 2**(attempts-1))``,
  times a random factor in ``1 +- backoff_jitter``;
- failed ``max_attempts`` times (or a permanent failure: the watcher or target is no longer configured):
  ``dead``, and in the same transaction an operational event ``delivery_dead`` (document NULL) is
  recorded and routed like any event to the watchers that take ops events (``ops = true``). A dead
  delivery *of* a ``delivery_dead`` event raises nothing further (no alert loops).

No resend storms. While a batch is being worked on, the dispatcher renews the lease of every row it still
holds (in flight or waiting for a slot) every third of ``lease_seconds``, so a slow receiver never lets a
second dispatcher take over a claim that is still alive; a row it finds taken over is not sent. A batch is
also never larger than what fits its lease: ``concurrency x (rounds of the slowest channel timeout that fit
in lease_seconds)``; a larger ``batch_size`` is clamped (logged once). Attempts are counted at claim time,
and a claim that expired (its dispatcher was killed or hung mid-send) counts too: a row whose claims used
up ``max_attempts`` is made dead with an ops alert, never claimed again (``outbox.exhausted_claims``).

A pass has a deadline (``[alerts] dispatch_deadline``, default 60 s; the ``deadline`` argument): after it
no new send starts and the rows not yet tried are handed back, due at once (the attempt uncounted,
``outbox.release``); the sends in flight finish. No send outlives twice its channel's timeout (``[smtp]
timeout`` for e-mail, ``[alerts] timeout`` otherwise): one that does (an answer dripping in byte by byte,
which no socket timeout catches) is marked failed and its thread left behind. So a pass ends within
``dispatch_deadline`` + 2 x the slowest timeout. Only rows due when the pass started are claimed: retries
scheduled during a pass wait for the next one.

A hung endpoint (an SMTP relay, a webhook host, an apprise target) does not hold up the others. An endpoint
gets one send at a time until it has answered once in the pass, then the free slots go to the endpoint
with the fewest sends in flight; once a send to an endpoint times out, the endpoint's other messages are
not tried in this pass but handed back with backoff (``not tried: ... did not answer``).

A dispatcher killed between sending and marking leaves that message ``sending``; once its lease has
expired the next dispatcher sends it again, under the same delivery id (``X-Yibao-Delivery``,
``webhook-id``, ``Message-ID``): at most ``concurrency`` duplicates per kill.

Immediate rows are one message each (delivery id = the row's idempotency key); the digest rows of a
(watcher, channel, target) that are due together make one message (delivery id = their batch key).
"""

from __future__ import annotations

import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from alerts.channels import CHANNELS, Channel, DeliveryError, Outgoing
from alerts.render import EventItem, Message, event_item, render_digest, render_event, render_test
from alerts.routing import route_event
from alerts.watchers import AlertsConfig, AlertSettings, Watcher, load_alerts
from storage.db import to_utc_iso, write_transaction
from storage.events import add_event
from storage.outbox import (
    Delivery,
    claim_due,
    delivery_key,
    exhausted_claims,
    mark_dead,
    mark_failed,
    mark_sent,
    release,
    renew,
)

log = logging.getLogger(__name__)

OPS_DELIVERY_DEAD = "delivery_dead"
DEFAULT_DISPATCH_DEADLINE = 60.0  # seconds per pass ([alerts] dispatch_deadline)
SLOW_FACTOR = 2  # a send running longer than this many times its channel's timeout: its endpoint is hung

__all__ = [
    "DEFAULT_DISPATCH_DEADLINE",
    "DispatchReport",
    "alerts_config",
    "backoff_delay",
    "batch_limit",
    "dispatch_deadline",
    "dispatch_due",
    "send_test",
]


@dataclass
class MessageResult:
    ids: list[int]
    watcher: str
    channel: str
    target: str
    delivery_id: str
    ok: bool
    detail: str
    status: str = ""  # sent | failed | dead | deferred (handed back untried) | lost (the claim was taken over)


@dataclass
class DispatchReport:
    claimed: int = 0
    messages: int = 0
    sent: int = 0  # rows
    retrying: int = 0  # rows marked failed, a retry scheduled
    dead: int = 0  # rows
    ops_alerts: int = 0  # delivery_dead events raised
    deferred: int = 0  # rows handed back untried (the pass deadline, or their endpoint hung in this pass)
    deadline_reached: bool = False
    hung: list[str] = field(default_factory=list)  # endpoints that timed out in this pass
    results: list[MessageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        text = (
            f"{self.messages} messages from {self.claimed} deliveries: {self.sent} sent, {self.retrying} to retry,"
            f" {self.dead} dead, {self.ops_alerts} ops alerts"
        )
        if self.deferred:
            text += f", {self.deferred} deferred to the next pass"
        if self.hung:
            text += f"; not answering: {', '.join(self.hung)}"
        if self.deadline_reached:
            text += "; the pass deadline was reached"
        return text


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    detail: str
    permanent: bool = False
    timed_out: bool = False


@dataclass
class _Job:
    rows: list[Delivery]
    watcher: Watcher | None
    items: list[EventItem] = field(default_factory=list)
    message: Message | None = None
    error: DeliveryError | None = None
    endpoint: str = ""  # the server this message goes to: a hung one is skipped for the rest of the pass
    timeout: float = 0.0  # its channel's timeout
    started: float = 0.0  # time.monotonic() when its send began

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]

    @property
    def head(self) -> Delivery:
        return self.rows[0]

    @property
    def delivery_id(self) -> str:
        return self.head.delivery_id


def alerts_config(config: Any) -> AlertsConfig:
    """``AlertsConfig`` from a ``crawler.registry.Config`` (its ``raw``), a raw dict or itself."""
    if isinstance(config, AlertsConfig):
        return config
    if isinstance(config, Mapping):
        return load_alerts(config)
    return load_alerts(getattr(config, "raw", None))


def backoff_delay(attempts: int, settings: AlertSettings, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed try."""
    base = min(settings.backoff_max, settings.backoff_base * 2 ** max(0, attempts - 1))
    jitter = settings.backoff_jitter
    return base * (rng or random).uniform(1 - jitter, 1 + jitter) if jitter else base


def dispatch_deadline(settings: AlertSettings) -> float:
    """Seconds a dispatch pass may take: ``[alerts] dispatch_deadline`` (default 60)."""
    value = getattr(settings, "dispatch_deadline", None)
    return DEFAULT_DISPATCH_DEADLINE if value is None else float(value)


def _channel_timeout(channel: str, config: AlertsConfig) -> float:
    if channel == "email" and config.smtp is not None:
        return config.smtp.timeout
    return config.settings.timeout


def _slowest_timeout(config: AlertsConfig) -> float:
    timeouts = [config.settings.timeout]
    if config.smtp is not None and any(w.email for w in config.watchers):
        timeouts.append(config.smtp.timeout)
    return max(timeouts)


_clamped: set[tuple[int, int, float, float]] = set()
_clamp_lock = threading.Lock()


def batch_limit(config: AlertsConfig) -> int:
    """Rows to claim at a time: ``batch_size``, but no more than can be sent within the lease
    (``concurrency`` x the whole rounds of the slowest channel timeout that end before ``lease_seconds``),
    so a batch of slow sends cannot outlive its claim. Clamping is logged once per setting."""
    settings = config.settings
    slowest = _slowest_timeout(config)
    rounds = max(1, math.ceil(settings.lease_seconds / slowest) - 1)
    fit = settings.concurrency * rounds
    if fit >= settings.batch_size:
        return settings.batch_size
    key = (settings.batch_size, settings.concurrency, settings.lease_seconds, slowest)
    with _clamp_lock:
        first = key not in _clamped
        _clamped.add(key)
    if first:
        log.warning(
            "[alerts] batch_size %d does not fit lease_seconds %g with concurrency %d and timeouts of %g s:"
            " claiming %d at a time (lease_seconds should exceed batch_size / concurrency x timeout)",
            settings.batch_size, settings.lease_seconds, settings.concurrency, slowest, fit,
        )
    return fit


def _endpoint(row: Delivery, config: AlertsConfig) -> str:
    """The server a row's message goes to (what hangs together): the SMTP relay, the webhook's origin,
    or the apprise target."""
    if row.channel == "email":
        smtp = config.smtp
        return f"smtp://{smtp.host}:{smtp.port}" if smtp is not None else "smtp"
    if row.channel == "webhook":
        parts = urlsplit(row.target)
        try:
            port = parts.port
        except ValueError:
            port = None
        port = port or {"http": 80, "https": 443}.get(parts.scheme)
        return f"{parts.scheme}://{parts.hostname}:{port}"
    return f"{row.channel}:{row.target}"


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _jobs(rows: list[Delivery], config: AlertsConfig) -> list[_Job]:
    watchers = {w.name: w for w in config.watchers}
    jobs: list[_Job] = []
    batches: dict[str, _Job] = {}
    for row in rows:
        if row.mode == "digest" and row.batch_key:
            job = batches.get(row.batch_key)
            if job is not None:
                job.rows.append(row)
                continue
            job = batches[row.batch_key] = _Job([row], watchers.get(row.watcher))
        else:
            job = _Job([row], watchers.get(row.watcher))
        job.endpoint = _endpoint(row, config)
        job.timeout = _channel_timeout(row.channel, config)
        jobs.append(job)
    return jobs


def _prepare(db: sqlite_utils.Database, job: _Job, config: AlertsConfig) -> None:
    """Render the job's message from the archive (main thread: the connection is not shared)."""
    head = job.head
    if job.watcher is None:
        job.error = DeliveryError(f"watcher {head.watcher} is no longer configured", permanent=True)
        return
    if (head.channel, head.target) not in job.watcher.targets():
        job.error = DeliveryError(f"{head.channel} target {head.target} is no longer configured for"
                                  f" watcher {head.watcher}", permanent=True)
        return
    try:
        job.items = [event_item(db, row.event_id, config.settings) for row in job.rows if row.event_id is not None]
        if not job.items:
            raise LookupError("the delivery has no event")
        if head.mode == "digest":
            job.message = render_digest(job.items, watcher=job.watcher, delivery_id=job.delivery_id)
        else:
            job.message = render_event(job.items[0], watcher=job.watcher, delivery_id=job.delivery_id)
    except LookupError as exc:
        job.error = DeliveryError(str(exc), permanent=True)
    except Exception as exc:  # a rendering bug must not stop the other deliveries
        log.exception("rendering delivery %s failed", head.id)
        job.error = DeliveryError(f"rendering failed: {type(exc).__name__}: {exc}")


def _send(job: _Job, config: AlertsConfig, channels: Mapping[str, Channel]) -> _Outcome:
    if job.error is not None:
        return _Outcome(False, str(job.error), job.error.permanent)
    assert job.message is not None
    assert job.watcher is not None
    head = job.head
    channel = channels.get(head.channel)
    if channel is None:
        return _Outcome(False, f"unknown channel {head.channel}", True)
    try:
        out = Outgoing(job.message, job.delivery_id, job.watcher, head.channel, head.target)
        return _Outcome(True, channel(out, config))
    except DeliveryError as exc:
        return _Outcome(False, str(exc), exc.permanent, exc.timed_out)
    except Exception as exc:  # a channel bug is a failed attempt, not a dispatcher crash
        log.exception("channel %s failed on delivery %s", head.channel, head.id)
        return _Outcome(False, f"{type(exc).__name__}: {exc}", False, isinstance(exc, TimeoutError))


def _raise_ops_alert(db: sqlite_utils.Database, job: _Job, config: AlertsConfig, error: str, now: str) -> bool:
    """Record and route a ``delivery_dead`` event (inside the caller's transaction)."""
    head = job.head
    if any(item.event.kind == OPS_DELIVERY_DEAD for item in job.items):
        log.error("ops alert delivery %s is dead: %s", head.id, error)
        return False
    events = ", ".join(f"#{row.event_id}" for row in job.rows if row.event_id is not None)
    portals = {item.event.portal_id for item in job.items}
    summary = (
        f"投递失败：watcher {head.watcher} 的 {head.channel} 通道（{head.target}）在 {head.attempts} 次尝试后放弃"
        f"（事件 {events or '—'}，投递 {', '.join(str(r.id) for r in job.rows)}）：{error}"
    )
    event = add_event(
        db,
        kind=OPS_DELIVERY_DEAD,
        document_id=None,
        now=now,
        summary=summary,
        portal_id=portals.pop() if len(portals) == 1 else None,
    )
    route_event(db, event, config.watchers)
    return True


def _mark(
    db: sqlite_utils.Database,
    job: _Job,
    outcome: _Outcome,
    config: AlertsConfig,
    now: str,
    rng: random.Random | None,
    report: DispatchReport,
) -> MessageResult:
    head = job.head
    ids = job.ids
    token = head.claim_token or ""
    result = MessageResult(ids, head.watcher, head.channel, head.target, job.delivery_id, outcome.ok,
                           outcome.detail[:500])
    if outcome.ok:
        marked = mark_sent(db, ids, token, now)
        report.sent += marked
        result.status = "sent" if marked else "lost"
        return result
    error = outcome.detail[:1000]
    settings = config.settings
    if outcome.permanent or head.attempts >= settings.max_attempts:
        with write_transaction(db):
            marked = mark_dead(db, ids, token, error=error)
            if marked and _raise_ops_alert(db, job, config, error, now):
                report.ops_alerts += 1
        report.dead += marked
        result.status = "dead" if marked else "lost"
        log.warning("delivery %s (%s %s) is dead: %s", ids, head.channel, head.target, error)
        return result
    retry_at = _when(now) + timedelta(seconds=backoff_delay(head.attempts, settings, rng))
    marked = mark_failed(db, ids, token, error=error, next_attempt_at=retry_at)
    report.retrying += marked
    result.status = "failed" if marked else "lost"
    return result


def _bury_exhausted(db: sqlite_utils.Database, config: AlertsConfig, now: str, report: DispatchReport) -> None:
    """Rows whose claims expired ``max_attempts`` times (each dispatcher died or hung mid-send) are dead,
    with an ops alert, instead of being sent once more."""
    settings = config.settings
    rows = exhausted_claims(db, now, settings.max_attempts)
    for job in _jobs(rows, config):
        head = job.head
        try:
            job.items = [event_item(db, r.event_id, settings) for r in job.rows if r.event_id is not None]
        except LookupError:
            job.items = []
        error = (f"gave up after {head.attempts} attempts: the last claim's lease ({settings.lease_seconds:g} s)"
                 " expired before its send was recorded (the dispatcher was killed or hung mid-send)")
        with write_transaction(db):
            marked = mark_dead(db, job.ids, head.claim_token or "", error=error, expired_by=now)
            if marked and _raise_ops_alert(db, job, config, error, now):
                report.ops_alerts += 1
        if marked:
            report.dead += marked
            report.results.append(MessageResult(job.ids, head.watcher, head.channel, head.target,
                                                job.delivery_id, False, error, "dead"))
            log.warning("delivery %s (%s %s) is dead: %s", job.ids, head.channel, head.target, error)


class _Pass:
    """One dispatch pass: its clock, deadline, hung endpoints, and the report."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: AlertsConfig,
        channels: Mapping[str, Channel],
        rng: random.Random | None,
        clock: Callable[[], str],
        frozen: bool,
        deadline: float,
    ) -> None:
        self.db = db
        self.config = config
        self.channels = channels
        self.rng = rng
        self.clock = clock
        self.frozen = frozen  # a fixed ``now``: leases cannot run out, nothing to renew
        self.stop_at = time.monotonic() + deadline
        self.hung: set[str] = set()
        self.answered: set[str] = set()  # endpoints that answered a send in this pass (even with an error)
        self.report = DispatchReport()

    def past_deadline(self) -> bool:
        return time.monotonic() >= self.stop_at

    def _hand_back(self, job: _Job, *, hung: bool) -> None:
        """Return an untried job's rows: due at once (deadline) or after a backoff (its endpoint hung)."""
        head = job.head
        now = self.clock()
        if hung:
            wait = backoff_delay(max(1, head.attempts - 1), self.config.settings, self.rng)
            due = to_utc_iso(_when(now) + timedelta(seconds=wait))
            error = f"not tried: {job.endpoint} did not answer earlier in the same dispatch pass"
        else:
            due, error = now, None
        released = release(self.db, job.ids, head.claim_token or "", next_attempt_at=due, error=error)
        self.report.deferred += released
        self.report.results.append(MessageResult(job.ids, head.watcher, head.channel, head.target,
                                                 job.delivery_id, False, error or "not tried: pass deadline",
                                                 "deferred" if released else "lost"))

    def _finish(self, job: _Job, outcome: _Outcome) -> None:
        self.report.messages += 1
        self.report.results.append(_mark(self.db, job, outcome, self.config, self.clock(), self.rng, self.report))
        if outcome.timed_out:
            self._hang(job.endpoint)
        elif not outcome.permanent:
            self.answered.add(job.endpoint)

    def _hang(self, endpoint: str) -> None:
        if endpoint not in self.hung:
            self.hung.add(endpoint)
            self.report.hung.append(endpoint)
            log.warning("%s is not answering: its other messages wait for a later pass", endpoint)

    def run(self, rows: list[Delivery]) -> None:
        """Send one claimed batch: fair slots per endpoint, each message marked when its send returns,
        leases renewed meanwhile, the deadline and hung endpoints honoured."""
        settings = self.config.settings
        db = self.db
        waiting = _jobs(rows, self.config)
        token = rows[0].claim_token or ""
        inflight: list[_Job] = []
        done: queue.SimpleQueue[tuple[_Job, _Outcome]] = queue.SimpleQueue()
        # a third of the lease; leases are stored to the second, so one is good for more than lease - 1 s
        heartbeat = max(0.05, min(settings.lease_seconds / 3, (settings.lease_seconds - 1) / 2))
        next_renew = time.monotonic() + heartbeat

        def work(job: _Job) -> None:
            try:
                outcome = _send(job, self.config, self.channels)
            except BaseException as exc:  # never lose the result of a send
                outcome = _Outcome(False, f"{type(exc).__name__}: {exc}")
            done.put((job, outcome))

        while waiting or inflight:
            if waiting and self.past_deadline():
                self.report.deadline_reached = True
                for job in waiting:
                    self._hand_back(job, hung=False)
                waiting = []
            while waiting and len(inflight) < settings.concurrency:
                busy = {j.endpoint: 0 for j in waiting}
                for j in inflight:
                    busy[j.endpoint] = busy.get(j.endpoint, 0) + 1
                # an endpoint that has not answered yet in this pass gets one send at a time (a hung one
                # then costs one slot and one timeout); otherwise the least busy endpoint goes first
                ready = [j for j in waiting if j.endpoint in self.hung or j.endpoint in self.answered
                         or not busy[j.endpoint]]
                if not ready:
                    break
                job = min(ready, key=lambda j: busy[j.endpoint])
                waiting.remove(job)
                if job.endpoint in self.hung:
                    self._hand_back(job, hung=True)
                    continue
                _prepare(db, job, self.config)
                if job.error is not None:
                    self._finish(job, _send(job, self.config, self.channels))
                    continue
                job.started = time.monotonic()
                inflight.append(job)
                threading.Thread(target=work, args=(job,), name="yibao-send", daemon=True).start()
            if not inflight:
                continue
            now_m = time.monotonic()
            wake = min([next_renew, *([self.stop_at] if waiting else []),
                        *(j.started + SLOW_FACTOR * j.timeout for j in inflight)])
            try:
                finished = [done.get(timeout=max(0.01, wake - now_m))]
            except queue.Empty:
                finished = []
            while True:
                try:
                    finished.append(done.get_nowait())
                except queue.Empty:
                    break
            for job, outcome in finished:
                inflight.remove(job)
                self._finish(job, outcome)
            now_m = time.monotonic()
            for job in [j for j in inflight if now_m - j.started >= SLOW_FACTOR * j.timeout]:
                # a send that outlives its own timeouts (an answer dripping in byte by byte): failed and
                # retried after a backoff, its endpoint hung for this pass; the thread is left to finish
                inflight.remove(job)
                self._finish(job, _Outcome(False, f"no complete answer from {job.endpoint} within"
                                           f" {SLOW_FACTOR * job.timeout:g} s", timed_out=True))
            if not self.frozen and now_m >= next_renew and (waiting or inflight):
                until = to_utc_iso(_when(self.clock()) + timedelta(seconds=settings.lease_seconds))
                held = set(renew(db, [i for j in (*waiting, *inflight) for i in j.ids], token, until))
                for job in [j for j in waiting if not set(j.ids) <= held]:  # taken over: not ours to send
                    waiting.remove(job)
                    head = job.head
                    self.report.results.append(MessageResult(job.ids, head.watcher, head.channel, head.target,
                                                             job.delivery_id, False, "claim taken over", "lost"))
                next_renew = now_m + heartbeat


def dispatch_due(
    db: sqlite_utils.Database,
    config: Any,
    now: datetime | str | None = None,
    *,
    channels: Mapping[str, Channel] | None = None,
    rng: random.Random | None = None,
    max_rounds: int = 1000,
    deadline: float | None = None,
) -> DispatchReport:
    """One dispatch pass: send every delivery due when it starts (see the module docstring), within
    ``deadline`` seconds (default ``[alerts] dispatch_deadline``, 60). ``config`` is the
    ``crawler.registry.Config`` (or its ``raw`` dict, or an ``AlertsConfig``). With ``now`` given, the
    whole pass happens at that instant (due rows, leases and retry times are computed from it); without,
    from the clock."""
    config = alerts_config(config)
    channels = CHANNELS if channels is None else channels
    settings = config.settings
    fixed = to_utc_iso(now) if now is not None else None

    def clock() -> str:
        return fixed or to_utc_iso(datetime.now(UTC))

    started = clock()
    run = _Pass(db, config, channels, rng, clock, fixed is not None,
                dispatch_deadline(settings) if deadline is None else deadline)
    _bury_exhausted(db, config, started, run.report)
    limit = batch_limit(config)
    for _ in range(max_rounds):
        if run.past_deadline():
            run.report.deadline_reached = True
            break
        rows = claim_due(db, clock(), limit=limit, lease=settings.lease_seconds,
                         max_attempts=settings.max_attempts, due_by=started)
        if not rows:
            break
        run.report.claimed += len(rows)
        run.run(rows)
    return run.report


def send_test(config: Any, watcher_name: str, *, channels: Mapping[str, Channel] | None = None,
              now: datetime | str | None = None) -> list[MessageResult]:
    """Send a test message through each of a watcher's channels right away (no outbox); one result each."""
    config = alerts_config(config)
    channels = CHANNELS if channels is None else channels
    watcher = config.watcher(watcher_name)
    stamp = to_utc_iso(now)
    results = []
    for channel_name, target in watcher.targets():
        delivery_id = delivery_key("test", watcher.name, channel_name, target, stamp)
        message = render_test(watcher, delivery_id=delivery_id, now=stamp)
        out = Outgoing(message, delivery_id, watcher, channel_name, target)
        try:
            channel = channels[channel_name]
            ok, detail = True, channel(out, config)
        except DeliveryError as exc:
            ok, detail = False, str(exc)
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results.append(MessageResult([], watcher.name, channel_name, target, delivery_id, ok, detail,
                                     "sent" if ok else "failed"))
    return results
