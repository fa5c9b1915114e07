"""What a person sees while ``yibao crawl`` runs: a live table on a terminal, plain lines otherwise.

rich is imported only for a terminal: the crawls the scheduler and cron start write to a log, and importing
rich (with pygments) cost each of them about 45 ms of start-up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy import signals

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table

COLUMNS = (
    ("requests", "downloader/request_count"),
    ("304", "yibao/not_modified"),
    ("documents", "yibao/documents"),
    ("new", "yibao/events/new"),
    ("edited", "yibao/events/edited"),
    ("errors", "log_count/ERROR"),
)


class CrawlProgress:
    """Follows the crawlers of one ``CrawlerProcess``; call ``start()`` before ``process.start()``."""

    def __init__(self, crawlers: dict[str, Any], stream: Any = None) -> None:
        self.crawlers = crawlers
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done: dict[str, str] = {}
        self.live: Live | None = None
        for portal_id, crawler in crawlers.items():
            crawler.signals.connect(self._closed(portal_id), signal=signals.spider_closed, weak=False)

    def _closed(self, portal_id: str) -> Any:
        def handler(spider: Any, reason: str) -> None:
            self.done[portal_id] = reason
            if not self.tty:
                stats = self.crawlers[portal_id].stats.get_stats()
                figures = " ".join(f"{label}={stats.get(key, 0)}" for label, key in COLUMNS)
                print(f"crawl {portal_id} finished ({reason}): {figures}", file=self.stream, flush=True)

        return handler

    def table(self) -> Table:
        from rich.table import Table

        table = Table(title="yibao crawl", expand=False)
        table.add_column("portal")
        for label, _ in COLUMNS:
            table.add_column(label, justify="right")
        table.add_column("state")
        for portal_id, crawler in self.crawlers.items():
            stats = crawler.stats.get_stats() if crawler.stats else {}
            state = self.done.get(portal_id, "crawling")
            table.add_row(portal_id, *(str(stats.get(key, 0)) for _, key in COLUMNS), state)
        return table

    def start(self) -> None:
        if not self.tty:
            return
        from rich.console import Console
        from rich.live import Live
        from twisted.internet import task

        self.live = Live(self.table(), console=Console(file=self.stream), refresh_per_second=4, transient=False)
        self.live.start()
        self._loop = task.LoopingCall(self._refresh)
        self._loop.start(0.25, now=False)

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.table())

    def stop(self) -> None:
        if self.live is not None:
            self.live.update(self.table())
            self.live.stop()
            self.live = None
