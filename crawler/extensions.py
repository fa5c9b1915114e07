"""RunRecorder: closes the run row with stats and health, then settles listings and withdrawals
(``withdrawn`` events go to the crawl's event router in their own transaction, like every event).

A successful run (``ok`` or ``degraded``) completes the portal's baseline, or its new columns'
(``storage.baselines``), in the transaction that closes the run, together with the summaries the event
router plans for it (``on_event.plan_baseline``, see ``alerts.routing``). A run stopped by its time limit
(Scrapy's ``closespider_timeout``, which ``ops.jobs`` sets) ends as finish reason ``time_limit`` and health
``partial`` when it was making progress (its pages judged as a finished run's would be ok or degraded): not
a failure, and continued by the next run."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from scrapy import Spider, signals
from scrapy.crawler import Crawler

from core.health import DEGRADED, OK, classify, settle
from crawler.config_schema import DEFAULT_TIMEZONE
from crawler.dbpath import archive_path
from crawler.middlewares import summary_lines
from crawler.run_owner import claim, close_dead_runs, release
from crawler.runcontext import event_router, portal_spider, run_context
from storage import finish_run, last_runs, note_gone, note_listed, write_transaction
from storage.archive import OnEvent
from storage.baselines import FINISH_TIME_LIMIT, HEALTH_PARTIAL, SUCCESS, complete_baseline, pending_baseline
from storage.citations import expire_due

TIME_LIMIT_REASONS = ("closespider_timeout",)
log = logging.getLogger("yibao.crawl")


def judge(stats: dict[str, Any], reason: str, history: list[dict[str, Any]]) -> tuple[str, str]:
    """(health, finish reason) of a closed run; a run stopped by its time limit is ``partial`` while its
    pages show progress (judged as a finished run's: ok or degraded), else what they show."""
    if reason in TIME_LIMIT_REASONS:
        verdict = classify(stats, "finished", history)
        return (HEALTH_PARTIAL if verdict in (OK, DEGRADED) else verdict), FINISH_TIME_LIMIT
    return classify(stats, reason, history), reason


def close_run(db: sqlite_utils.Database, *, portal_id: str, run_id: int, stats: dict[str, Any], reason: str,
              columns: list[str] | None, listed: list[str], gone: list[str], withdraw_checks: int,
              on_event: OnEvent | None, now: datetime | None = None) -> tuple[str, str]:
    """Close a crawl's run from its stats: judge its health against the portal's last healthy runs, announce the
    policies whose term has passed, complete the baseline (``columns`` None: none to complete), record the
    listings and the withdrawals of a healthy run. The one close of a local crawl (``RunRecorder``) and of a
    scale-out worker's run (``ops.cluster_writer``); ``stats`` gets ``yibao/health``. Returns (health, finish
    reason)."""
    now = now or datetime.now(UTC)
    history = [run.stats for run in last_runs(db, portal_id, limit=6) if run.health == OK and run.id != run_id][:5]
    health, reason = settle(stats, *judge(stats, reason, history))  # interrupted, moved, unreachable
    stats["yibao/health"] = health
    # policies whose stated term (有效期) has passed: one expired event each, whichever run sees it first;
    # before a baseline completes, so those found expired by a portal's first crawl are routed as its events
    expire_due(db, datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date(), now=now, run_id=run_id, on_event=on_event)
    baseline = pending_baseline(db, portal_id, columns) if health in SUCCESS and columns is not None else None
    planner = getattr(on_event, "plan_baseline", None)
    plan = planner(db, baseline, run_id=run_id) if baseline is not None and planner else None
    with write_transaction(db):  # the run, its baseline and the baseline's summaries: one fact
        if baseline is not None and complete_baseline(db, baseline, run_id=run_id, columns=columns or [],
                                                      now=now) and plan is not None:  # fmt: skip
            plan(db, now)
        finish_run(db, run_id, finish_reason=reason, health=health, stats=stats, now=now)
    if health == OK:
        note_listed(db, portal_id, listed, run_id=run_id, now=now)
        events = [note_gone(db, url, run_id=run_id, now=now, n_required=withdraw_checks, on_event=on_event)
                  for url in gone]  # fmt: skip
        withdrawn = sum(event is not None for event in events)
        if withdrawn:  # counted after the run was judged healthy: record it with the run's stats
            stats["yibao/events/withdrawn"] = withdrawn
            finish_run(db, run_id, finish_reason=reason, health=health, stats=stats, now=now)
    return health, reason


class RunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        db_path = archive_path(self.crawler.settings)
        ctx = run_context(self.crawler, db_path)
        self.crawler.stats.set_value("yibao/run_id", ctx.run_id)  # whoever started the crawl reads its own run
        claim(db_path, ctx.run_id)  # the run is this process's: a kill -9 leaves it to close_dead_runs
        close_dead_runs(ctx.db, db_path, datetime.now(UTC))  # runs of crawls killed before they could close
        event_router(self.crawler)  # a bad watcher config fails the crawl at its start

    def spider_closed(self, spider: Spider, reason: str) -> None:
        own = portal_spider(self.crawler)
        ctx = run_context(self.crawler, archive_path(self.crawler.settings))
        stats = self.crawler.stats.get_stats()
        stats["yibao/coverage"] = {k: round(v / ctx.records, 3) for k, v in ctx.coverage.items()} if ctx.records else {}
        # the crawl process's CPU so far, start-up included (a warm start's fork begins at zero): what a run costs
        stats["yibao/cpu_seconds"] = round(time.process_time(), 3)
        close_run(ctx.db, portal_id=own.portal.id, run_id=ctx.run_id, stats=stats, reason=reason,
                  columns=[column.name for column in own.portal.columns], listed=sorted(own.listed_urls),
                  gone=ctx.gone, withdraw_checks=self.crawler.settings.getint("YIBAO_WITHDRAW_CHECKS"),
                  on_event=event_router(self.crawler))  # fmt: skip
        for line in summary_lines(own.portal.id, stats):
            log.warning(line)
        release(archive_path(self.crawler.settings), ctx.run_id)
        ctx.db.close()
