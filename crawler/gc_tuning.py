"""GcTuning: the garbage collector set for a crawl once its engine has started.

A crawl process holds a few hundred thousand objects from its imports (Scrapy, Twisted, lxml, the project)
that live as long as it does, and creates many short-lived ones per page (requests, responses, selectors,
records). CPython 3.11's collector, at its defaults (700, 10, 10), ran about 780 young collections for a
first crawl of 2,000 pages, each older one scanning the imports again: 0.6-0.7 CPU-s of the crawl's 13-15.
When the engine starts, ``GcTuning`` moves every object then tracked out of the collector's sight
(``gc.freeze``, a few microseconds: they live as long as the process; no collection first, which would cost
60 ms, more than a small crawl's whole collecting) and raises the thresholds (``YIBAO_GC_THRESHOLDS``,
default 10,000 / 20 / 20): 0.1-0.15 CPU-s for the same crawl (``benchmarks.crawl_compare``). Objects are
still collected; reference cycles just wait for a larger batch. Once per process, however many crawlers it
runs. ``YIBAO_GC_THRESHOLDS = []`` leaves the collector alone.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

_tuned = False


class GcTuning:
    def __init__(self, thresholds: tuple[int, ...]) -> None:
        self.thresholds = thresholds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GcTuning:
        thresholds = tuple(int(value) for value in crawler.settings.getlist("YIBAO_GC_THRESHOLDS"))
        if not thresholds:
            raise NotConfigured("YIBAO_GC_THRESHOLDS is empty")
        if len(thresholds) != 3 or min(thresholds) < 1:
            raise ValueError(f"YIBAO_GC_THRESHOLDS: three positive integers, not {list(thresholds)}")
        extension = cls(thresholds)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def engine_started(self) -> None:
        global _tuned
        if _tuned:
            return
        _tuned = True
        gc.freeze()
        gc.set_threshold(*self.thresholds)
