"""RunRecorder: closes the run row with stats and health, then settles listings and withdrawals
(``withdrawn`` events go to the crawl's event router in their own transaction, like every event)."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from core.health import OK, classify
from crawler.dbpath import archive_path
from crawler.runcontext import event_router, portal_spider, run_context
from storage import finish_run, last_runs, note_gone, note_listed


class RunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        run_context(self.crawler, archive_path(self.crawler.settings))
        event_router(self.crawler)  # a bad watcher config fails the crawl at its start

    def spider_closed(self, spider: Spider, reason: str) -> None:
        own = portal_spider(self.crawler)
        ctx = run_context(self.crawler, archive_path(self.crawler.settings))
        stats = self.crawler.stats.get_stats()
        stats["yibao/coverage"] = {k: round(v / ctx.records, 3) for k, v in ctx.coverage.items()} if ctx.records else {}
        history = [run.stats for run in last_runs(ctx.db, own.portal.id, limit=6)
                   if run.health == OK and run.id != ctx.run_id][:5]
        health = classify(stats, reason, history)
        stats["yibao/health"] = health
        now = datetime.now(UTC)
        finish_run(ctx.db, ctx.run_id, finish_reason=reason, health=health, stats=stats, now=now)
        if health == OK:
            note_listed(ctx.db, own.portal.id, sorted(own.listed_urls), run_id=ctx.run_id, now=now)
            required = self.crawler.settings.getint("YIBAO_WITHDRAW_CHECKS")
            on_event = event_router(self.crawler)
            events = [note_gone(ctx.db, url, run_id=ctx.run_id, now=now, n_required=required, on_event=on_event)
                      for url in ctx.gone]
            withdrawn = sum(event is not None for event in events)
            if withdrawn:  # counted after the run was judged healthy: record it with the run's stats
                stats["yibao/events/withdrawn"] = withdrawn
                finish_run(ctx.db, ctx.run_id, finish_reason=reason, health=health, stats=stats, now=now)
        ctx.db.close()
