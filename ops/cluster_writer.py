"""The archive's side of scale-out (docs/scale-out.md): ``yibao writer`` and what the scheduler queues.

The writer is the one consumer of the stream ``yibao:items`` (consumer group ``writer``) and the only process
that writes what the workers fetched into the archive, through the same storage path as a local crawl:

- ``open``: the run's ``runs`` row (``start_run``), remembered in ``yibao:runs`` (job -> run) and claimed by
  this process (``crawler.run_owner``), so a local ``close_dead_runs`` leaves it alone while the writer lives;
- ``doc`` / ``touch``: consecutive pages of one job in one ``record_batch`` transaction (documents, versions,
  events and the event router's outbox rows together), as ``ArchiveRecordPipeline`` stores them; then their
  stored attachments go to the workers' cache (``AttachmentCache``: bounded per portal, a gone page's dropped);
- ``close``: the run judged and recorded as the run recorder (``crawler.extensions.RunRecorder.spider_closed``)
  does it -- its history, ``judge``/``settle``, the baseline completed with the router's summaries,
  ``finish_run``, the listing and the withdrawals for a healthy run, the policies whose term has passed -- then
  the portal-broken alerts (``ops.portal_alerts.after_run``); then the portal's lock is released. (Keep the two
  in step: the recorder's steps are repeated here because it reads them from a live crawl.)

Entries are acknowledged (XACK, then XDEL: the stream holds only what is not stored yet) after their transaction
committed. A writer killed in between reads its pending entries again at its next start and stores them again:
a page stored twice changes nothing the second time (``storage.archive``: same hash, no version, no event), a run
opened or closed twice is recognised. When the stream is drained, runs whose job lost its lock (the worker died:
no heartbeat for ``LOCK_TTL`` seconds) are closed as ``interrupted``, as ``close_dead_runs`` closes a killed local
crawl's; the portal's next run resumes.

``enqueue`` is the scheduler's half: it takes the portal's lock, snapshots the portal's crawl state from the
archive into Redis (known postings with their validators, the run history: the conditional GETs and revisit plan
of a local crawl) and queues the job with the settings a local crawl would get (time limit, backfill).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import redis
import sqlite_utils

from core.health import INTERRUPTED
from crawler.cluster import messages
from crawler.extensions import close_run
from crawler.registry import Config, ConfigError, Portal
from crawler.run_owner import claim, close_dead_runs, release
from ops.jobs import backfill_settings, soft_time_limit
from ops.portal_alerts import after_run
from storage import (
    DOCUMENT_EVENT_KINDS,
    finish_run,
    get_run,
    list_events,
    open_db,
    start_run,
    sync_portals,
)
from storage.archive import Fetched, OnEvent, record_batch
from storage.baselines import (
    FINISH_TIME_LIMIT,
    HEALTH_PARTIAL,
    postings_seen,
)
from storage.crawl_state import known_postings, posting_attachments, run_history
from storage.events import Event

log = logging.getLogger("yibao.writer")
QUEUED_TTL = 86_400  # seconds a queued job keeps its portal's lock before a worker takes it
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# One change of a portal's attachment cache, atomic: KEYS the hash and its order; ARGV the cap, the expiry, the
# number of URLs to drop, those URLs, then (URL, entry, order) triples to set. The entries beyond the cap go, lowest
# order first (unpack in chunks: Lua's has a limit); the keys' expiry is renewed. Returns how many were trimmed.
_KEEP = """
local cap, ttl, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 4, 3 + n do
  redis.call('hdel', KEYS[1], ARGV[i])
  redis.call('zrem', KEYS[2], ARGV[i])
end
for i = 4 + n, #ARGV, 3 do
  redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('zadd', KEYS[2], ARGV[i + 2], ARGV[i])
end
local over = redis.call('zcard', KEYS[2]) - cap
local trimmed = 0
while over > 0 do
  local old = redis.call('zrange', KEYS[2], 0, math.min(over, 1000) - 1)
  redis.call('hdel', KEYS[1], unpack(old))
  redis.call('zrem', KEYS[2], unpack(old))
  over = over - #old
  trimmed = trimmed + #old
end
redis.call('expire', KEYS[1], ttl)
redis.call('expire', KEYS[2], ttl)
return trimmed
"""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- the scheduler's half -------------------------------------------------------------------------------------


def snapshot(db: sqlite_utils.Database, portal_id: str) -> messages.CrawlSnapshot:
    """The crawl state a run of ``portal_id`` starts from, as ``spiders.state.load_state`` reads it."""
    return messages.CrawlSnapshot(known_postings(db, portal_id), run_history(db, portal_id))


def enqueue(client: redis.Redis, db_path: Path, portal: Portal, *, time_limit: float,
            full: bool = False) -> str | None:  # fmt: skip
    """Queue a crawl of ``portal``; its job id, or None when a job of the portal is queued or running."""
    job = messages.Job(id=uuid.uuid4().hex, portal=portal.id, time_limit=time_limit, full=full,
                       enqueued_at=datetime.now(UTC).isoformat())  # fmt: skip
    if not client.set(messages.lock_key(portal.id), job.id, nx=True, ex=QUEUED_TTL + int(time_limit)):
        return None
    db = open_db(db_path)
    try:
        settings = {"CLOSESPIDER_TIMEOUT": f"{soft_time_limit(time_limit):g}", **backfill_settings(db, portal)}
        state = snapshot(db, portal.id).dumps()
    finally:
        db.close()
    job = messages.Job(job.id, job.portal, settings, job.time_limit, job.full, job.enqueued_at)
    client.set(messages.state_key(job.id), state, ex=QUEUED_TTL + int(time_limit) * 2)
    client.lpush(messages.JOBS, job.dumps())
    return job.id


def busy_portals(client: redis.Redis, portal_ids: list[str]) -> set[str]:
    """The portals among ``portal_ids`` with a job queued or running."""
    if not portal_ids:
        return set()
    owners = client.mget([messages.lock_key(p) for p in portal_ids])
    return {p for p, owner in zip(portal_ids, owners, strict=True) if owner}


# --- the attachment cache -------------------------------------------------------------------------------------


@dataclass
class AttachmentCache:
    """``yibao:attachments:<portal>``: the stored attachments of a portal's pages, which a worker fetching a known
    page again reuses as a local crawl reuses the archive's (``crawler.cluster.crawl.RedisCrawlState``). A cache:
    a missing entry only means that page's attachments are fetched again. Kept bounded:

    - an entry is replaced when its page is stored again, and deleted when the page is stored without
      attachments or a run reports it gone (404/410: withdrawn or moved);
    - at most ``cap`` entries per portal: beyond it the entries of the documents published longest ago go
      (``yibao:attachment-order:<portal>``; an edit, what makes a known page fetched again, is likeliest on a
      young document); an undated page counts as published the day it was stored;
    - a portal's entries expire ``ttl`` seconds after the writer last stored a page of it or closed a run of it
      (a portal no longer crawled leaves nothing behind).
    """

    client: redis.Redis
    cap: int = messages.ATTACHMENTS_PER_PORTAL
    ttl: int = messages.ATTACHMENTS_TTL

    def publish(self, db: sqlite_utils.Database, pages: Iterable[Fetched]) -> None:
        """The stored attachments of these stored pages (a ``touch`` has no record and changes nothing)."""
        latest: dict[str, dict[str, tuple[bytes, int] | None]] = {}  # portal -> URL -> (entry, order) | None: drop
        today = int(date.today().strftime("%Y%m%d"))
        for page in pages:
            if page.record is None:
                continue
            stored = posting_attachments(db, page.url) if page.record.attachments else []
            published = page.record.published_on or ""
            order = int(published.replace("-", "")) if _DATE.fullmatch(published) else today
            urls = latest.setdefault(page.record.portal_id, {})
            urls[page.url] = (messages.pack_attachments(stored), order) if stored else None  # a page's last store
        for portal_id, urls in latest.items():
            dropped = [url for url, entry in urls.items() if entry is None]
            entries = [x for url, entry in urls.items() if entry is not None for x in (url, *entry)]
            self._keep(portal_id, dropped, entries)

    def drop(self, portal_id: str, urls: Iterable[str]) -> None:
        """The entries of these pages (gone) deleted; the portal's expiry renewed (it was crawled)."""
        self._keep(portal_id, list(urls), [])

    def _keep(self, portal_id: str, dropped: list[str], entries: list[Any]) -> int:
        keys = (messages.attachments_key(portal_id), messages.attachment_order_key(portal_id))
        trimmed: Any = self.client.eval(_KEEP, 2, *keys, self.cap, self.ttl, len(dropped), *dropped, *entries)
        return int(trimmed)

    def adopt(self) -> int:
        """Entries an older writer left without an order (and without an expiry): ordered first to go. Returns
        how many."""
        adopted = 0
        for key in self.client.scan_iter(match=messages.attachments_key("*"), count=1000):
            portal_id = key.decode().removeprefix(messages.attachments_key(""))
            if self.client.exists(messages.attachment_order_key(portal_id)):
                continue
            urls: Any = self.client.hkeys(key)
            for start in range(0, len(urls), 1000):
                self.client.zadd(messages.attachment_order_key(portal_id), dict.fromkeys(urls[start : start + 1000], 0))
            adopted += len(urls)
            self._keep(portal_id, [], [])  # trimmed to the cap, the expiry set
        return adopted


# --- the writer -----------------------------------------------------------------------------------------------


@dataclass
class OpenRun:
    run_id: int
    portal: str


@dataclass
class Writer:
    client: redis.Redis
    db_path: Path
    config: Config
    batch: int = 500  # stream entries read at a time
    block_ms: int = 1000
    consumer: str = "writer"
    runs: dict[str, OpenRun] = field(default_factory=dict)
    router: OnEvent | None = None
    stored: int = 0  # pages stored by this process
    failures: Counter[str] = field(default_factory=Counter)  # job -> pages that could not be stored
    attachments_per_portal: int = messages.ATTACHMENTS_PER_PORTAL  # the attachment cache's bounds
    attachments_ttl: int = messages.ATTACHMENTS_TTL
    attachments: AttachmentCache = field(init=False)

    def __post_init__(self) -> None:
        from alerts.routing import router_for_config

        self.attachments = AttachmentCache(self.client, self.attachments_per_portal, self.attachments_ttl)

        self.router = router_for_config(self.config.raw, baselines=True)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db = open_db(self.db_path)

    def close(self) -> None:
        self.db.close()

    def prepare(self) -> None:
        """The consumer group (created with the stream), and the runs a previous writer left open, claimed."""
        try:
            self.client.xgroup_create(messages.STREAM, messages.GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        if adopted := self.attachments.adopt():
            log.info("attachment cache: %d entries of an older writer given an order", adopted)
        open_runs: Any = self.client.hgetall(messages.RUNS)
        for job, raw in open_runs.items():
            entry = json.loads(raw)
            self.runs[job.decode()] = OpenRun(int(entry["run"]), str(entry["portal"]))
            claim(self.db_path, int(entry["run"]))
        # runs a dead writer of this host had open that Redis no longer knows (a Redis restarted without its data):
        # closed as interrupted, as any run whose owner is gone (the runs above are this process's now)
        for run_id in close_dead_runs(self.db, self.db_path, datetime.now(UTC)):
            log.warning("run %d: interrupted (its owner is gone and Redis does not know it)", run_id)

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> int:
        """Consume until ``stop`` is set (or, ``until_idle``, until the stream is drained and no run is open);
        returns the number of pages stored."""
        self.prepare()
        while not stop.is_set():
            if self.step() == 0 and until_idle and not self.runs:
                break
        return self.stored

    def step(self) -> int:
        """One read: the entries delivered before and not acknowledged (after a crash) first, else new ones;
        when there is nothing, the dead runs are closed. Returns how many entries were handled."""
        entries = self._read("0", block=None) or self._read(">", block=self.block_ms)
        if not entries:
            self.close_lost_jobs()
            return 0
        self.handle(entries)
        return len(entries)

    def _read(self, start: str, *, block: int | None) -> list[tuple[bytes, dict[bytes, bytes]]]:
        answer: Any = self.client.xreadgroup(messages.GROUP, self.consumer, {messages.STREAM: start}, count=self.batch,
                                        block=block)  # fmt: skip
        if not answer:
            return []
        entries: list[tuple[bytes, dict[bytes, bytes]]] = answer[0][1]
        return [(entry_id, fields) for entry_id, fields in entries if fields]  # a deleted entry comes back empty

    def handle(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Store the entries in order (consecutive pages of one job together), then acknowledge them all."""
        parsed: list[messages.Message] = []
        for entry_id, fields in entries:
            try:
                parsed.append(messages.decode(fields))
            except messages.MessageError as exc:  # acknowledged below: it would come back for ever
                log.error("stream entry %s dropped: %s", entry_id.decode(), exc)
        i = 0
        while i < len(parsed):
            msg = parsed[i]
            if msg.kind in (messages.DOC, messages.TOUCH):
                j = i + 1
                while j < len(parsed) and parsed[j].job == msg.job and parsed[j].kind in (messages.DOC, messages.TOUCH):
                    j += 1
                self.store(parsed[i:j])
                i = j
                continue
            if msg.kind == messages.OPEN:
                self.open_run(msg)
            else:
                self.close_run(msg)
            i += 1
        ids = [entry_id for entry_id, _ in entries]
        self.client.xack(messages.STREAM, messages.GROUP, *ids)
        self.client.xdel(messages.STREAM, *ids)  # stored: the stream keeps only what is not

    # -- runs ------------------------------------------------------------------------------------------------

    def closed_run(self, job: str) -> int | None:
        """The run of a job whose run was closed already (its entries delivered again after a crash)."""
        done: Any = self.client.get(messages.done_key(job))
        return int(done) if done else None

    def open_run(self, msg: messages.Message) -> None:
        if msg.job in self.runs or self.closed_run(msg.job) is not None:  # delivered again after a crash
            return
        portal_id = str(msg.data["portal"])
        portal = self._portal(portal_id)
        if portal is not None:
            sync_portals(self.db, [portal])
        run_id = start_run(self.db, portal_id, now=_when(msg.data.get("started_at")), full=bool(msg.data.get("full")))
        claim(self.db_path, run_id)
        self.runs[msg.job] = OpenRun(run_id, portal_id)
        self.client.hset(messages.RUNS, msg.job, json.dumps({"run": run_id, "portal": portal_id}))
        log.info("run %d: %s opened by %s", run_id, portal_id, msg.data.get("worker", "?"))

    def _portal(self, portal_id: str) -> Portal | None:
        try:
            return self.config.get(portal_id, include_disabled=True)
        except ConfigError:
            return None

    def close_run(self, msg: messages.Message) -> None:
        entry = self.runs.get(msg.job)
        if entry is None:
            closed = self.closed_run(msg.job)
            if closed is None:
                log.warning("close of job %s, whose run was never opened here", msg.job)
                return
            # closed already: delivered again after a crash, or closed as interrupted when the job's lock expired
            # while its crawl was still running (a worker starved of CPU past --lock-ttl): recorded now
            known = get_run(self.db, closed)
            if known is None:
                return
            entry = OpenRun(closed, known.portal_id)
        run = get_run(self.db, entry.run_id)
        # closed already: delivered again after a crash (recorded), or closed as interrupted meanwhile (recorded now)
        if run is not None and (run.finished_at is None or run.finish_reason == INTERRUPTED):
            health = self.record_close(msg.job, entry, msg.data)
            log.info("run %d: %s %s", entry.run_id, entry.portal, health)
        self.attachments.drop(entry.portal, [str(u) for u in msg.data.get("gone") or []])
        self.forget(msg.job, entry)

    def record_close(self, job: str, entry: OpenRun, data: dict[str, Any]) -> str:
        """``RunRecorder.spider_closed`` on the archive's side; returns the health."""
        db, run_id, now = self.db, entry.run_id, datetime.now(UTC)
        reason = str(data.get("reason") or "unknown")
        stats = data.get("stats")
        if not isinstance(stats, dict):  # the crawl never closed itself: killed, crashed, stopped at its limit
            if reason == FINISH_TIME_LIMIT:
                health = HEALTH_PARTIAL if postings_seen(db, run_id) else "failed"
            else:
                health = "failed"
            finish_run(db, run_id, finish_reason=reason, health=health, stats={"yibao/health": health}, now=now)
            return health
        kinds = Counter(e.kind for e in list_events(db, run_id=run_id) if e.kind in DOCUMENT_EVENT_KINDS)
        for kind, count in kinds.items():
            stats[f"yibao/events/{kind}"] = count
        if self.failures.get(job):
            stats["yibao/errors/store"] = self.failures[job]
        portal = self._portal(entry.portal)
        health, _ = close_run(db, portal_id=entry.portal, run_id=run_id, stats=stats, reason=reason,
                              columns=[column.name for column in portal.columns] if portal is not None else None,
                              listed=[str(u) for u in data.get("listed") or []],
                              gone=[str(u) for u in data.get("gone") or []],
                              withdraw_checks=int(self.setting(portal, "YIBAO_WITHDRAW_CHECKS")),
                              on_event=self.router, now=now)  # fmt: skip
        return health

    @staticmethod
    def setting(portal: Portal | None, name: str) -> Any:
        from crawler import settings as defaults

        if portal is not None and name in portal.settings:
            return portal.settings[name]
        return getattr(defaults, name)

    def forget(self, job: str, entry: OpenRun) -> None:
        """The run is closed: the portal alerts, then the job's keys and its portal's lock let go."""
        after_run(self.db_path, self.config, entry.portal)
        release(self.db_path, entry.run_id)
        self.runs.pop(job, None)
        self.failures.pop(job, None)
        self.client.set(messages.done_key(job), entry.run_id, ex=7 * 86_400)
        self.client.hdel(messages.RUNS, job)
        self.client.delete(messages.state_key(job))  # (its closed mark expires: the worker may not have seen it)
        self.client.eval(_RELEASE, 1, messages.lock_key(entry.portal), job)

    def close_lost_jobs(self) -> list[int]:
        """Runs whose job no longer holds its portal's lock (the worker died) closed as ``interrupted``. Called
        with the stream drained: a crawl that ended normally has its close stored by then."""
        closed = []
        for job, entry in list(self.runs.items()):
            if self.client.get(messages.lock_key(entry.portal)) == job.encode():
                continue
            run = get_run(self.db, entry.run_id)
            if run is not None and run.finished_at is None:
                finish_run(self.db, entry.run_id, finish_reason=INTERRUPTED, health="failed",
                           stats={"yibao/health": "failed"}, now=datetime.now(UTC))  # fmt: skip
                log.warning("run %d: %s interrupted (its worker stopped sending)", entry.run_id, entry.portal)
                closed.append(entry.run_id)
            self.forget(job, entry)
        return closed

    # -- pages -----------------------------------------------------------------------------------------------

    def store(self, batch: list[messages.Message]) -> None:
        job = batch[0].job
        entry = self.runs.get(job)
        run_id = entry.run_id if entry is not None else self.closed_run(job)
        pages: list[Fetched] = []
        for msg in batch:
            data = msg.data
            if msg.kind == messages.TOUCH:
                pages.append(Fetched(str(data["url"])))
                continue
            try:
                rec = messages.record_from_dict(data["record"])
            except (messages.MessageError, KeyError) as exc:
                log.error("job %s: unreadable document %s: %s", job, data.get("url"), exc)
                self.failures[job] += 1
                continue
            pages.append(Fetched(str(data["url"]), rec, data.get("etag"), data.get("last_modified"), data.get("column")))
        if not pages:
            return
        results: list[Event | Exception | None] = record_batch(self.db, pages, run_id=run_id, now=datetime.now(UTC),
                                                               on_event=self.router)  # fmt: skip
        for page, result in zip(pages, results, strict=True):
            if isinstance(result, Exception):
                log.error("job %s: %s not stored: %r", job, page.url, result)
                self.failures[job] += 1
        self.stored += len(pages)
        self.attachments.publish(self.db, pages)  # for the next crawl's workers (RedisCrawlState)


def _when(value: Any) -> datetime:
    """A worker's ISO time as an aware datetime (the archive writes its own format); now when absent or unreadable."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def wait_idle(client: redis.Redis, *, timeout: float, poll: float = 0.5) -> bool:
    """Whether the cluster came to rest within ``timeout`` seconds: no job queued, no portal locked, nothing in
    the stream, no run open (every run the workers started is closed in the archive)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (not client.llen(messages.JOBS) and not client.xlen(messages.STREAM) and not client.hlen(messages.RUNS)
                and not any(client.scan_iter(match=messages.lock_key("*"), count=1000))):  # fmt: skip
            return True
        time.sleep(poll)
    return False
