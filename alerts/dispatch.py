"""The dispatcher: claim due outbox rows, send them, mark them (``yibao dispatch``; the scheduler runs it
every minute).

``dispatch_due(db, config, now)`` loops: claim a batch (``storage.outbox.claim_due``: rows become
``sending`` under a lease, the attempt counted), render each message from the archive, send the batch
concurrently (``[alerts] concurrency``), then mark each message in its own transaction:

- delivered: ``sent``;
- failed: ``failed`` with the next attempt at ``now + min(backoff_max, backoff_base * 2**(attempts-1))``,
  times a random factor in ``1 +- backoff_jitter``;
- failed ``max_attempts`` times (or a permanent failure: the watcher or target is no longer configured):
  ``dead``, and in the same transaction an operational event ``delivery_dead`` (document NULL) is
  recorded and routed like any event to the watchers that take ops events (``ops = true``). A dead
  delivery *of* a ``delivery_dead`` event raises nothing further (no alert loops).

Each message is sent and marked on its own, so one failing channel, target or watcher never holds up
the others; nothing is kept in memory between the claim and the mark but what the rows already say.
A dispatcher killed between sending and marking leaves its rows ``sending``; once their lease has
expired the next dispatcher sends them again, under the same delivery id (``X-Yibao-Delivery``,
``Message-ID``).

Immediate rows are one message each (delivery id = the row's idempotency key); the digest rows of a
(watcher, channel, target) that are due together make one message (delivery id = their batch key).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from alerts.channels import CHANNELS, Channel, DeliveryError, Outgoing
from alerts.render import EventItem, Message, event_item, render_digest, render_event, render_test
from alerts.routing import route_event
from alerts.watchers import AlertsConfig, AlertSettings, Watcher, load_alerts
from storage.db import to_utc_iso, write_transaction
from storage.events import add_event
from storage.outbox import Delivery, claim_due, delivery_key, mark_dead, mark_failed, mark_sent

log = logging.getLogger(__name__)

OPS_DELIVERY_DEAD = "delivery_dead"

__all__ = ["DispatchReport", "alerts_config", "backoff_delay", "dispatch_due", "send_test"]


@dataclass
class MessageResult:
    ids: list[int]
    watcher: str
    channel: str
    target: str
    delivery_id: str
    ok: bool
    detail: str
    status: str = ""  # sent | failed | dead | lost (the claim had expired and was taken over)


@dataclass
class DispatchReport:
    claimed: int = 0
    messages: int = 0
    sent: int = 0  # rows
    retrying: int = 0  # rows marked failed, a retry scheduled
    dead: int = 0  # rows
    ops_alerts: int = 0  # delivery_dead events raised
    results: list[MessageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.messages} messages from {self.claimed} deliveries: {self.sent} sent, {self.retrying} to retry,"
            f" {self.dead} dead, {self.ops_alerts} ops alerts"
        )


@dataclass
class _Job:
    rows: list[Delivery]
    watcher: Watcher | None
    items: list[EventItem] = field(default_factory=list)
    message: Message | None = None
    error: DeliveryError | None = None

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


def _send(job: _Job, config: AlertsConfig, channels: Mapping[str, Channel]) -> tuple[bool, str, bool]:
    if job.error is not None:
        return False, str(job.error), job.error.permanent
    assert job.message is not None
    assert job.watcher is not None
    head = job.head
    channel = channels.get(head.channel)
    if channel is None:
        return False, f"unknown channel {head.channel}", True
    try:
        out = Outgoing(job.message, job.delivery_id, job.watcher, head.channel, head.target)
        return True, channel(out, config), False
    except DeliveryError as exc:
        return False, str(exc), exc.permanent
    except Exception as exc:  # a channel bug is a failed attempt, not a dispatcher crash
        log.exception("channel %s failed on delivery %s", head.channel, head.id)
        return False, f"{type(exc).__name__}: {exc}", False


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
    outcome: tuple[bool, str, bool],
    config: AlertsConfig,
    now: str,
    rng: random.Random | None,
    report: DispatchReport,
) -> MessageResult:
    ok, detail, permanent = outcome
    head = job.head
    ids = [row.id for row in job.rows]
    token = head.claim_token or ""
    result = MessageResult(ids, head.watcher, head.channel, head.target, job.delivery_id, ok, detail[:500])
    if ok:
        marked = mark_sent(db, ids, token, now)
        report.sent += marked
        result.status = "sent" if marked else "lost"
        return result
    error = detail[:1000]
    settings = config.settings
    if permanent or head.attempts >= settings.max_attempts:
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


def dispatch_due(
    db: sqlite_utils.Database,
    config: Any,
    now: datetime | str | None = None,
    *,
    channels: Mapping[str, Channel] | None = None,
    rng: random.Random | None = None,
    max_rounds: int = 1000,
) -> DispatchReport:
    """Send every due delivery (see the module docstring). ``config`` is the ``crawler.registry.Config``
    (or its ``raw`` dict, or an ``AlertsConfig``). With ``now`` given, the whole run happens at that
    instant (due rows, leases and retry times are computed from it); without, from the clock."""
    config = alerts_config(config)
    channels = CHANNELS if channels is None else channels
    settings = config.settings
    report = DispatchReport()
    fixed = to_utc_iso(now) if now is not None else None
    for _ in range(max_rounds):
        moment = fixed or to_utc_iso(datetime.now(UTC))
        rows = claim_due(db, moment, limit=settings.batch_size, lease=settings.lease_seconds)
        if not rows:
            break
        report.claimed += len(rows)
        jobs = _jobs(rows, config)
        for job in jobs:
            _prepare(db, job, config)
        workers = max(1, min(settings.concurrency, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="yibao-send") as pool:
            outcomes = list(pool.map(lambda job: _send(job, config, channels), jobs))
        done = fixed or to_utc_iso(datetime.now(UTC))
        for job, outcome in zip(jobs, outcomes, strict=True):
            report.messages += 1
            report.results.append(_mark(db, job, outcome, config, done, rng, report))
    return report


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
