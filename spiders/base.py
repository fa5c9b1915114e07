"""``PortalSpider``: what every family spider shares.

A family spider turns list pages (or list APIs) into detail URLs; this base class does the rest:
incremental paging (stop when a page brings nothing new, after a look-back), the revisit policy
with conditional GET, detail extraction by shared traits, attachments, 304/404/soft-404 outcomes,
and the hard rule that only the portal's own hosts are ever requested.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from twisted.python.failure import Failure

from core.records import RawPage
from crawler.items import FetchOutcome
from crawler.middlewares import OFFSITE_REDIRECT, describe, no_answer
from crawler.registry import Column, Portal

from . import attachments, extract
from .state import CrawlState, load_state

DETAIL_STATUSES = [304, 404, 410]
# requests refused on purpose (robots.txt, another host, a WAF page, a run ending unreachable) are not fetch errors
POLICY_SKIPS = re.compile(r"robots\.txt|not a host of this portal|blocked by the site|the portal is unreachable")
UNREACHABLE_MIDDLEWARE = "crawler.middlewares.UnreachableHostMiddleware"
PAGE_MAXSIZE = 4 * 1024 * 1024  # bytes: the default of YIBAO_PAGE_MAXSIZE


class PortalSpider(scrapy.Spider):
    """Base of the family spiders; ``for_portal`` binds one to a registry entry."""

    family: ClassVar[str] = ""
    portal: ClassVar[Portal]

    @classmethod
    def for_portal(cls, portal: Portal) -> type[PortalSpider]:
        attrs = {"name": portal.id, "portal": portal, "allowed_domains": list(portal.allowed_domains),
                 "custom_settings": dict(portal.settings)}
        return type(f"{cls.__name__}_{portal.id}", (cls,), attrs)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The portal's settings, and the downloader middleware every portal crawl needs beyond the project's
        list: ``UnreachableHostMiddleware`` before the retry middleware (550), so that it sees every attempt."""
        super().update_settings(settings)
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares.setdefault(UNREACHABLE_MIDDLEWARE, 555)
        # at spider priority: ``CrawlerProcess.crawl(crawler)`` re-applies the project's dict over project priority
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority=max(settings.getpriority("DOWNLOADER_MIDDLEWARES") or 0,
                                                                        SETTINGS_PRIORITIES["spider"]))

    def __init__(self, *args: Any, full: str | bool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._full_arg = full
        self.allowed_netlocs = {urlsplit(c.url).netloc for c in self.portal.columns}
        if self.portal.base_url:
            self.allowed_netlocs.add(urlsplit(self.portal.base_url).netloc)
        self.listed_urls: set[str] = set()
        self.requested: set[str] = set()  # detail URLs asked for in this run
        self.state = CrawlState()
        self.attachments_fetched: dict[str, attachments.FetchedAttachment] = {}  # this run's answers, by URL
        self.attachments_waiting: dict[str, list[tuple[RawPage, list[int]]]] = {}  # URL asked for -> other pages
        self.attachment_budget = 0  # fetches this run may still make (YIBAO_ATTACHMENTS_PER_RUN, set at start)
        # Scrapy checks each callback for a generator returning a value once, in a cache keyed weakly by the
        # callable: the bound method made afresh by every ``self.parse_x`` dies at once, so the check (reading and
        # parsing the method's source) ran for every response. One bound method per callback, kept on the
        # instance (where it wins over the class's function), makes every request carry the same object.
        for name in dir(type(self)):
            if name.startswith("parse") or name.endswith("_failed"):
                self.__dict__[name] = getattr(self, name)

    # -- setup ---------------------------------------------------------------------------------

    @property
    def full(self) -> bool:
        if self._full_arg is not None:
            return str(self._full_arg).lower() in ("1", "true", "yes")
        return self.settings.getbool("YIBAO_FULL")

    @property
    def page_maxsize(self) -> int:
        """Bytes a list or detail page may have (``YIBAO_PAGE_MAXSIZE``, decompressed): an HTML page is far
        smaller; a bigger answer is refused before it is parsed, so a hostile page costs bounded memory.
        Attachments keep Scrapy's ``DOWNLOAD_MAXSIZE``."""
        limit = self.settings.getint("YIBAO_PAGE_MAXSIZE", PAGE_MAXSIZE)
        return min(limit, self.settings.getint("DOWNLOAD_MAXSIZE") or limit)

    def allowed(self, url: str) -> bool:
        ok = urlsplit(url).netloc in self.allowed_netlocs
        if not ok:
            self.crawler.stats.inc_value("yibao/offsite_skipped")
        return ok

    def load_crawl_state(self) -> CrawlState:
        """What the archive knows of this portal (known URLs, validators, revisit history); a scale-out worker
        reads it from the job's snapshot instead (``crawler.cluster.crawl.ClusterSpider``)."""
        return load_state(self.settings, self.portal.id)

    async def start(self) -> AsyncIterator[Any]:
        self.state = self.load_crawl_state()
        self.attachment_budget = self.settings.getint("YIBAO_ATTACHMENTS_PER_RUN")
        for column in self.portal.columns:
            for request in self.column_requests(column):
                yield request
        if not self.full:
            for url in self.state.due_revisits(self.settings, datetime.now(UTC)):
                if self.allowed(url):  # the portal may have moved since (a new base_url)
                    yield self.detail_request(url, None, {}, revisit=True)

    def column_requests(self, column: Column) -> Iterable[scrapy.Request]:
        """First request(s) of a column; families override when the column URL is not the list."""
        yield scrapy.Request(column.url, callback=self.parse_list, cb_kwargs={"column": column, "page": 0},
                             dont_filter=True, meta={"download_maxsize": self.page_maxsize})

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        raise NotImplementedError

    # -- list handling shared by families -----------------------------------------------------------

    def follow_listing(
        self,
        column: Column,
        page: int,
        entries: list[tuple[str, dict[str, Any]]],
        next_request: scrapy.Request | None,
    ) -> Iterator[scrapy.Request]:
        """Detail requests for new entries; the next list page unless this one brought nothing new."""
        new = 0
        for url, listing in entries:
            if not self.allowed(url):
                continue
            self.listed_urls.add(url)
            if (self.full or url not in self.state.known) and url not in self.requested:
                new += 1
                yield self.detail_request(url, column, listing)
        self.crawler.stats.inc_value("yibao/list_pages")
        self.crawler.stats.inc_value("yibao/listed", len(entries))
        lookback = self.settings.getint("YIBAO_LOOKBACK_PAGES")
        more = self.full or self.state.resume or new > 0 or page + 1 < lookback
        capped = page + 1 >= self.settings.getint("YIBAO_MAX_LIST_PAGES")
        if next_request is not None and more and not capped and self.allowed(next_request.url):
            next_request.meta.setdefault("download_maxsize", self.page_maxsize)
            yield next_request

    def detail_request(
        self, url: str, column: Column | None, listing: dict[str, Any], *, revisit: bool = False
    ) -> scrapy.Request:
        headers = {}
        known = self.state.known.get(url)
        if known and not self.full:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        column = column or self.column_of(known.column if known else None)
        meta = {"handle_httpstatus_list": DETAIL_STATUSES, "revisit": revisit, "download_maxsize": self.page_maxsize}
        self.requested.add(url)
        # dont_filter: a redirect back to the same URL must end as a recorded error (max redirects),
        # not vanish in the duplicate filter; ``self.requested`` does the de-duplication instead
        return scrapy.Request(url, callback=self.parse_detail, headers=headers, meta=meta, dont_filter=True,
                              cb_kwargs={"column": column, "listing": listing}, errback=self.detail_failed)

    def column_of(self, name: str | None) -> Column:
        return next((c for c in self.portal.columns if c.name == name), self.portal.columns[0])

    # -- details ---------------------------------------------------------------------------------

    def parse_detail(self, response: Response, column: Column, listing: dict[str, Any]) -> Iterator[Any]:
        if response.status == 304:
            yield FetchOutcome(self.portal.id, response.url, "not_modified", 304, listed=response.url in self.listed_urls)
            return
        if response.status in (404, 410):
            yield FetchOutcome(self.portal.id, response.url, "gone", response.status,
                               listed=response.url in self.listed_urls)
            return
        try:
            if not isinstance(response, TextResponse):
                kind = _header(response, b"Content-Type") or "no Content-Type"
                raise extract.ImplausiblePage("not_html", f"not an HTML page ({kind[:60]})")
            page = self.extract_page(response, column, listing)
        except extract.ImplausiblePage as exc:
            yield self.implausible(response, exc)
            return
        if page is None:
            yield FetchOutcome(self.portal.id, response.url, "gone", response.status, soft_404=True,
                               listed=response.url in self.listed_urls)
            return
        yield from self.with_attachments(page)

    def extract_page(self, response: TextResponse, column: Column, listing: dict[str, Any]) -> RawPage | None:
        """A RawPage from a detail page, or None for a soft-404 page. Raises ``extract.ImplausiblePage`` for an
        answer that is not a document (empty, binary, nested past reading, mojibake, only an absurd title).
        The page is parsed once, keeping lxml's depth limit (``huge_tree`` off): a hostile page costs bounded memory;
        every trait reads that one tree."""
        extract.check_body(response.body)
        with warnings.catch_warnings():  # "Input data is too big": check_nesting says so, with the page's URL
            warnings.filterwarnings("ignore", "Input data is too big", UserWarning)
            sel = Selector(text=response.text, huge_tree=False)
        root = sel.root
        extract.check_nesting(root)
        body, body_text = extract.body_parts(root)
        if extract.is_soft_404(response.text, body_text):
            return None
        tags = extract.meta_tags(sel)
        title = extract.page_title(sel, tags)
        extract.check_title(sel, tags, title)
        if not title and not body_text.strip():
            raise extract.ImplausiblePage("no_content", "neither a title nor any text")
        page = RawPage(
            portal_id=self.portal.id,
            column=column.name,
            column_kind=column.kind,
            url=response.url,
            status=response.status,
            html="",
            encoding=response.encoding,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            final_url=response.url,
            meta_table=extract.metadata_block(sel),
            meta_tags=tags,
            listing=dict(listing),
            body_html=body,
            title=title,
            attachments=extract.attachments(sel, response.url),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
        )
        page.html = response.text if self.settings.getbool("YIBAO_KEEP_HTML") else ""
        self.enrich(page, response, sel)
        _bound_titles(page)
        extract.check_text(page.title, body_text)
        if not page.body_html:
            self.crawler.stats.inc_value("yibao/errors/no_body")
        return page

    def implausible(self, response: Response, exc: extract.ImplausiblePage) -> FetchOutcome:
        """A 200 answer that is not a document: an error of the run with its reason, never a document."""
        self.crawler.stats.inc_value(f"yibao/errors/{exc.reason}")
        self.logger.warning("not a document: %s (%s)", response.url, exc)
        return FetchOutcome(self.portal.id, response.url, "error", response.status, error=f"{exc.reason}: {exc}"[:300])

    def enrich(self, page: RawPage, response: TextResponse, sel: Selector) -> None:
        """Family hook: add what this family's pages carry beyond the shared traits."""

    # -- attachments (policy: spiders.attachments) ---------------------------------------------------

    def with_attachments(self, page: RawPage) -> Iterator[Any]:
        """The page, once its attachments are settled: links the archive knows for it taken from there, the
        others fetched one after another (conditionally where validators are stored), within the caps."""
        if not page.attachments or not self.settings.getbool("YIBAO_FETCH_ATTACHMENTS"):
            yield page
            return
        plan = attachments.plan(page.attachments, self.state.stored_attachments(page.url), self.attachments_fetched,
                                allowed=self.allowed, full=self.full,
                                per_page=self.settings.getint("YIBAO_ATTACHMENTS_PER_PAGE"))  # fmt: skip
        page.attachments = plan.attachments
        stats = self.crawler.stats
        if plan.reused:
            stats.inc_value("yibao/attachments_reused", plan.reused)
        if plan.over_cap:
            stats.inc_value("yibao/attachments_deferred", plan.over_cap)
        yield from self._next_attachment(page, plan.todo)

    def _next_attachment(self, page: RawPage, todo: list[int]) -> Iterator[Any]:
        """The request of the next link still to fetch, or the page when there is none (or the run's cap is
        reached: the rest stay unfetched). A link already asked for by another page waits for that answer."""
        while todo:
            index = todo[0]
            att = page.attachments[index]
            done = self.attachments_fetched.get(att.url)
            if done is not None:  # another page of this run linked it: its answer serves
                page.attachments[index] = attachments.from_stored(att, vars(done))
                todo.pop(0)
                continue
            if att.url in self.attachments_waiting:  # asked for by another page: continued with its answer
                self.attachments_waiting[att.url].append((page, todo))
                return
            if self.attachment_budget <= 0:
                self.crawler.stats.inc_value("yibao/attachments_deferred", len(todo))
                break
            self.attachment_budget -= 1
            self.attachments_waiting[att.url] = []
            yield scrapy.Request(att.url, callback=self.parse_attachment, errback=self.attachment_failed,
                                 headers=attachments.conditional_headers(att), dont_filter=True,
                                 cb_kwargs={"page": page, "todo": todo},
                                 meta={"handle_httpstatus_list": attachments.ANSWERED})  # fmt: skip
            return
        yield page

    def parse_attachment(self, response: Response, page: RawPage, todo: list[int]) -> Iterator[Any]:
        index = todo[0]
        att = attachments.answered(page.attachments[index], response.status, response.body,
                                   _header(response, b"ETag"), _header(response, b"Last-Modified"))  # fmt: skip
        self.attachments_fetched[att.url] = att
        kind = "missing" if att.missing else "not_modified" if response.status == 304 else "fetched"
        self.crawler.stats.inc_value("yibao/attachments" if kind == "fetched" else f"yibao/attachments_{kind}")
        yield from self._resume_attachments(att.url, page, todo)

    def attachment_failed(self, failure: Failure) -> Iterator[Any]:
        """A fetch that came to no answer (timeouts, 5xx after retries): the link stays unfetched, and is tried
        again the next time its page is fetched in full."""
        request = _failed_request(failure)
        self.crawler.stats.inc_value("yibao/errors/attachment")
        yield from self._resume_attachments(request.url, request.cb_kwargs["page"], request.cb_kwargs["todo"])

    def _resume_attachments(self, url: str, page: RawPage, todo: list[int]) -> Iterator[Any]:
        """Continue the page whose request for ``url`` was answered, and every page that waited for it."""
        for waiting_page, waiting_todo in [(page, todo), *self.attachments_waiting.pop(url, [])]:
            index = waiting_todo.pop(0)
            done = self.attachments_fetched.get(url)
            if done is not None:
                waiting_page.attachments[index] = attachments.from_stored(waiting_page.attachments[index], vars(done))
            yield from self._next_attachment(waiting_page, waiting_todo)

    def closed(self, reason: str) -> None:
        self.state.close()

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        request = _failed_request(failure)
        if failure.check(IgnoreRequest) and POLICY_SKIPS.search(str(failure.value)):
            self.crawler.stats.inc_value("yibao/skipped_requests")  # counted where it was decided
            return
        reason = failure_reason(failure)
        _forget_frames(failure)
        self.crawler.stats.inc_value(f"yibao/errors/{reason}")
        message = failure.getErrorMessage()
        # no answer and offsite redirects are summed up in one line each by the run recorder, not logged per request
        level = logging.DEBUG if reason == "offsite_redirect" or no_answer(failure.value) else logging.WARNING
        self.logger.log(level, "detail fetch failed: %s (%s: %s)", request.url, reason, message)
        yield FetchOutcome(self.portal.id, request.url, "error", None, error=f"{reason}: {message}"[:300])


def _forget_frames(failure: Failure) -> None:
    """Drop the failure's tracebacks and the exceptions chained to it. An oversized page's failure chains the
    decompression error, whose frames hold the page's buffers; in a reference cycle (a frame holding the
    exception that holds the frame) they would wait for a full garbage collection, megabytes each."""
    exc = failure.value
    failure.cleanFailure()
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        following = exc.__cause__ or exc.__context__
        exc.__traceback__ = exc.__cause__ = exc.__context__ = None
        exc = following


def failure_reason(failure: Failure) -> str:
    """The ``yibao/errors/<reason>`` key of a failed detail fetch."""
    message = failure.getErrorMessage()
    if failure.check(IgnoreRequest) and OFFSITE_REDIRECT in message:
        return "offsite_redirect"
    if failure.value is not None and no_answer(failure.value):
        return describe(failure.value).replace(" ", "_")
    if "max redirections" in message:
        return "redirect_loop"
    if "DOWNLOAD_MAXSIZE" in message or "download max size" in message:
        return "too_large"
    return "detail"


_LISTING_TITLES = ("title", "doctitle", "art_title")  # the listing keys normalization reads a title from
_META_TITLES = ("标题", "名称", "文件名称")


def _bound_titles(page: RawPage) -> None:
    """Bound every title source of ``page`` (``extract.bound_title``; the page's own title is bounded already
    unless a family hook set it): long ones cut, absurd ones dropped."""
    page.title = extract.bound_title(page.title) or ""
    for source, keys in ((page.listing, _LISTING_TITLES), (page.meta_table, _META_TITLES),
                         (page.meta_tags, ("ArticleTitle", "articletitle", "articleTitle"))):
        for key in keys:
            if key in source:
                title = extract.bound_title(str(source[key]))
                if title is None:
                    del source[key]
                else:
                    source[key] = title


def _failed_request(failure: Failure) -> scrapy.Request:
    """The request of an errback's failure (Scrapy sets ``failure.request``; Twisted's type does not declare it)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
