"""Run a family spider's own list and detail callbacks on pages fetched by a ``PoliteSession``.

``discover`` and ``check`` must see a column exactly as a crawl will: the same article-link patterns,
pager logic, gkmlpt API and Hanweb windows, the same detail extraction and the same normalizer. So
instead of re-implementing them, the family spider bound to a (candidate) portal is instantiated and
its callbacks are fed Scrapy responses built from the polite session's answers. Nothing is
scheduled: the requests the callbacks yield are inspected (detail requests = the column's links,
another list request = a next page) and at most a handful are fetched.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from core.normalize import build_record
from core.records import DocumentRecord, RawPage
from crawler.items import FetchOutcome
from crawler.middlewares import EncodingRepairMiddleware
from crawler.registry import Column, Portal
from spiders.base import PortalSpider
from spiders.families import FAMILIES

from .fetch import Fetched, PoliteSession

MAX_LIST_HOPS = 3  # index page -> API, at most, before a column's first links
_DROP_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}  # the body is already decoded


def project_settings(portal: Portal | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if portal is not None:
        settings.update(portal.settings, priority="spider")
    settings.set("YIBAO_FETCH_ATTACHMENTS", False, priority="cmdline")  # a sample needs no attachments
    settings.set("YIBAO_KEEP_HTML", False, priority="cmdline")
    return settings


def spider_class(portal: Portal) -> type[PortalSpider]:
    """The spider a crawl of this portal runs (``crawler.spiderloader``'s rule: bespoke module first)."""
    try:
        module = importlib.import_module(f"spiders.{portal.id}")
    except ModuleNotFoundError as exc:
        if exc.name != f"spiders.{portal.id}":
            raise
    else:
        bespoke = getattr(module, "SPIDER", None)
        if bespoke is not None:
            return bespoke.for_portal(portal)
    return FAMILIES[portal.family].for_portal(portal)


@dataclass
class ListResult:
    column: Column
    fetched: list[Fetched] = field(default_factory=list)  # list/index/API requests, in order
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (detail URL, listing)
    next_page: str | None = None  # the next list request the spider would make (not fetched)
    problem: str | None = None

    @property
    def page(self) -> Fetched | None:
        """The column's own page (the first fetched)."""
        return self.fetched[0] if self.fetched else None


@dataclass
class DetailResult:
    url: str
    fetched: Fetched | None = None
    page: RawPage | None = None
    record: DocumentRecord | None = None
    problem: str | None = None


class FamilyHarness:
    """One portal's spider, driven by hand on a polite session."""

    def __init__(self, portal: Portal, session: PoliteSession) -> None:
        self.portal = portal
        self.session = session
        settings = project_settings(portal)
        # the two things a spider's callbacks touch on its crawler: settings and stats
        crawler = SimpleNamespace(settings=settings, spider=None)
        crawler.stats = MemoryStatsCollector(crawler)  # type: ignore[arg-type]
        self.spider = spider_class(portal)()
        self.spider.crawler = crawler  # type: ignore[assignment]
        self.spider.settings = settings
        self.encoding_repair = EncodingRepairMiddleware(crawler)  # type: ignore[arg-type]

    # -- plumbing --------------------------------------------------------------------------------

    def fetch(self, request: scrapy.Request) -> tuple[Fetched, Response | None]:
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in request.headers.items()}
        fetched = self.session.get(
            request.url, method=request.method, headers=headers, body=request.body or None
        )
        if fetched.status is None or fetched.blocked:
            return fetched, None
        raw = Headers({k: v for k, v in fetched.headers.items() if k not in _DROP_HEADERS})
        cls = responsetypes.from_args(headers=raw, url=fetched.final_url, body=fetched.body)
        response = cls(
            url=fetched.final_url, status=fetched.status, headers=raw, body=fetched.body, request=request
        )
        return fetched, self.encoding_repair.process_response(request, response)

    @staticmethod
    def run(request: scrapy.Request, response: Response) -> list[Any]:
        callback = request.callback
        if callback is None:
            return []
        out = callback(response, **request.cb_kwargs)
        return list(out) if isinstance(out, Iterable) else []

    def is_detail(self, request: Any) -> bool:
        return (
            isinstance(request, scrapy.Request)
            and getattr(request.callback, "__name__", "") == "parse_detail"
        )

    # -- lists -----------------------------------------------------------------------------------

    def list_column(self, column: Column) -> ListResult:
        """The column's first list page (through an index page or API if the family needs one)."""
        result = ListResult(column)
        todo = list(self.spider.column_requests(column))
        hops = 0
        while todo and hops < MAX_LIST_HOPS:
            request = todo.pop(0)
            hops += 1
            fetched, response = self.fetch(request)
            result.fetched.append(fetched)
            if response is None or fetched.status != 200:
                result.problem = fetched.problem
                return result
            try:
                outputs = self.run(request, response)
            except IgnoreRequest as exc:
                result.problem = str(exc)
                return result
            except Exception as exc:  # a page the family's code cannot read: reported, never fatal
                result.problem = (
                    f"the {self.portal.family} list logic failed on {fetched.final_url}: {exc!r}"[:300]
                )
                return result
            followups = []
            for out in outputs:
                if self.is_detail(out):
                    result.entries.append((out.url, dict(out.cb_kwargs.get("listing") or {})))
                elif isinstance(out, scrapy.Request):
                    followups.append(out)
            if result.entries:
                result.next_page = followups[0].url if followups else None
                return result
            todo = followups + todo
        if not result.entries:
            result.problem = "no article links found by the family's list logic"
        return result

    # -- details ---------------------------------------------------------------------------------

    def sample_detail(self, url: str, column: Column, listing: dict[str, Any]) -> DetailResult:
        """Fetch one detail page and run the spider's extraction and the normalizer on it."""
        result = DetailResult(url)
        request = self.spider.detail_request(url, column, listing)
        fetched, response = self.fetch(request)
        result.fetched = fetched
        if response is None or fetched.status != 200:
            result.problem = fetched.problem
            return result
        try:
            outputs = self.run(request, response)
        except Exception as exc:  # reported, never fatal
            result.problem = f"the {self.portal.family} spider failed on this page: {exc!r}"[:300]
            return result
        for out in outputs:
            if isinstance(out, RawPage):
                result.page = out
            elif isinstance(out, FetchOutcome):
                result.problem = (
                    "soft-404 page (页面不存在)" if out.soft_404 else f"detail page: {out.outcome}"
                )
        if result.page is None:
            result.problem = result.problem or "the spider extracted no page"
            return result
        try:
            result.record = build_record(
                result.page, bureau=self.portal.name, region_code=self.portal.region_code
            )
        except Exception as exc:  # reported, never fatal
            result.problem = f"the normalizer failed: {exc!r}"[:300]
        return result
