"""What every replica site shares: its documents, columns, URL index, page chrome and noise.

A site answers ``dispatch(req)`` with a ``Page`` (status, text or bytes, validators). The HTTP
layer (``replicas.server``) adds what is the same for all sites: robots.txt, request counting,
faults, conditional GET, compression and encoding.
"""

from __future__ import annotations

import hashlib
import html
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from replicas.bureaus import Bureau, Column
from replicas.model import CENTER, RIGHT, Attachment, Block, Document

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"
SOFT_404 = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>页面不存在</title></head>"
    "<body><div class=\"err\"><h2>抱歉，您访问的页面不存在或已被删除！</h2>"
    "<p>请检查网址是否正确，或<a href=\"/\">返回首页</a>。</p></div></body></html>"
)
# Real-world conventions that are a matter of a page's template or URL (``Site.page_conventions``); the
# conventions of the text are ``replicas.corpus.CONVENTIONS``.
PAGE_CONVENTIONS = ("meta_shared_line", "meta_bullets", "url_art_year", "url_wap_copy")
NOT_FOUND = "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    status: int = 200
    text: str | None = None
    data: bytes | None = None
    content_type: str = "text/html"
    etag: str | None = None
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    encode_as: str | None = None  # None: the site's encoding


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=SHANGHAI).astimezone(UTC), usegmt=True)


def weak_hash(*parts: Any) -> str:
    return '"' + hashlib.sha1(repr(parts).encode()).hexdigest()[:20] + '"'


class Site:
    """Base class of a replica portal. Subclasses render one CMS family's pages."""

    family = ""
    encoding = "utf-8"
    charset_in_header = True
    etag_support = True
    last_modified_support = True
    robots_default = "allow"  # allow | disallow | missing | forbidden
    robots_disallow: tuple[str, ...] = ()
    withdraw_default = "404"  # 404 | soft404
    declare_meta_charset = True  # False: no charset in <meta> either (Sichuan)
    page_size = 20

    def __init__(self, bureau: Bureau, lookup: Callable[[int], Document]) -> None:
        self.bureau = bureau
        self.lookup = lookup
        self.doc_ids: dict[str, list[int]] = {c.key: [] for c in bureau.columns}
        self.paths: dict[str, tuple[int, str]] = {}  # path -> (doc id, variant)
        self.files: dict[str, tuple[int, int]] = {}  # path -> (doc id, attachment file id)
        self.broken_layout = False
        self.hostile: tuple[str, ...] = ()  # kinds of ``replicas.hostile`` pages served instead of articles
        self.moved_to: str | None = None  # every article redirects (301) to this origin: the portal moved
        self.hostile_order: dict[int, int] = {}
        self.noise = random.Random()

    # -- catalogue ---------------------------------------------------------------------------

    @property
    def portal_id(self) -> str:
        return self.bureau.portal_id

    def add(self, doc: Document) -> None:
        ids = self.doc_ids[doc.column]
        if doc.doc_id not in ids:
            ids.append(doc.doc_id)
        self.reindex(doc)

    def reindex(self, doc: Document) -> None:
        for variant, path in self.doc_paths(doc).items():
            self.paths[path] = (doc.doc_id, variant)
        for att in doc.attachments:
            self.files[self.attachment_path(doc, att)] = (doc.doc_id, att.file_id)

    def listed(self, column: str) -> list[Document]:
        """Published documents of a column, newest first (the order every family lists in)."""
        docs = [self.lookup(i) for i in self.doc_ids[column]]
        live = [d for d in docs if d.status == "published"]
        return sorted(live, key=lambda d: (d.published_at, d.doc_id), reverse=True)

    def column(self, key: str) -> Column:
        return self.bureau.column(key)

    def doc_paths(self, doc: Document) -> dict[str, str]:
        """variant -> path; the first entry is the document's primary URL."""
        raise NotImplementedError

    def primary_path(self, doc: Document) -> str:
        return next(iter(self.doc_paths(doc).values()))

    def attachment_path(self, doc: Document, att: Attachment) -> str:
        raise NotImplementedError

    def column_path(self, key: str) -> str:
        raise NotImplementedError

    def page_truth(self, doc: Document, variant: str) -> dict[str, Any]:
        """Ground truth for the page served at ``variant`` (what that page shows)."""
        truth = doc.truth()
        truth["url_path"] = self.doc_paths(doc)[variant]
        truth["variant"] = variant
        truth["conventions"] = [*doc.conventions, *self.page_conventions(doc, variant)]
        return truth

    def page_conventions(self, doc: Document, variant: str) -> list[str]:
        """Real-world conventions of the page template and URL (``corpus.CONVENTIONS`` are the text's)."""
        return []

    # -- request handling ----------------------------------------------------------------------

    def dispatch(self, req: Req) -> Page:
        if req.path in self.paths:
            doc_id, variant = self.paths[req.path]
            return self.detail(self.lookup(doc_id), variant)
        if req.path in self.files:
            doc_id, file_id = self.files[req.path]
            return self.attachment(self.lookup(doc_id), file_id)
        if req.path in ("/", "/index.html", "/index.htm"):
            return Page(text=self.home())
        page = self.route(req)
        return page if page is not None else Page(404, NOT_FOUND)

    def route(self, req: Req) -> Page | None:
        """Family-specific routes (lists, APIs); None means 404."""
        return None

    def detail(self, doc: Document, variant: str) -> Page:
        if doc.status != "published":
            if doc.withdraw_mode == "soft404":  # a generic error template: UTF-8 as its <meta> says
                return Page(200, SOFT_404, encode_as="utf-8")
            return Page(404, NOT_FOUND)
        if self.moved_to:
            return Page(301, "", headers={"Location": self.moved_to + self.doc_paths(doc)[variant]})
        doc.visits += 1
        body = self.render_broken(doc) if self.broken_layout else self.render_detail(doc, variant)
        kind = self.hostile_kind(doc)
        if kind != "ok":
            from replicas import hostile

            return hostile.page(kind, doc_id=doc.doc_id, path=self.doc_paths(doc)[variant], title=doc.display_title,
                                page_html=body, encoding=self.encoding)
        return Page(text=body, etag=doc.etag(), last_modified=doc.modified_at)

    def hostile_kind(self, doc: Document) -> str:
        """The kind of page ``doc`` is served as: ``ok`` (its article) unless the ``hostile`` switch is on; the
        kinds go round robin over the site's documents in publication order (``hostile_order``)."""
        if not self.hostile:
            return "ok"
        index = self.hostile_order.get(doc.doc_id, doc.doc_id)
        return self.hostile[index % len(self.hostile)]

    def set_hostile(self, kinds: tuple[str, ...], moved_to: str | None = None) -> None:
        self.hostile, self.moved_to = kinds, moved_to
        ids = sorted((self.lookup(i) for ids in self.doc_ids.values() for i in ids),
                     key=lambda d: (d.published_at, d.doc_id))
        self.hostile_order = {d.doc_id: n for n, d in enumerate(ids)}

    def attachment(self, doc: Document, file_id: int) -> Page:
        att = next((a for a in doc.attachments if a.file_id == file_id), None)
        if att is None or doc.status != "published":
            return Page(404, NOT_FOUND)
        return Page(
            data=att.data,
            content_type="application/pdf",
            etag='"' + att.sha256[:20] + '"',
            last_modified=doc.modified_at,
        )

    def list_validators(self, docs: Iterable[Document]) -> tuple[str, datetime | None]:
        docs = list(docs)
        stamp = max((d.modified_at for d in docs if d.modified_at), default=None)
        return weak_hash([(d.doc_id, d.version, d.display_title) for d in docs]), stamp

    # -- rendering helpers ---------------------------------------------------------------------

    def render_detail(self, doc: Document, variant: str) -> str:
        raise NotImplementedError

    def render_broken(self, doc: Document) -> str:
        """A redesigned template the spiders have never seen: the article is loaded by script."""
        return (
            f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{esc(self.bureau.name)}</title></head>"
            f"<body><div id=\"app\" data-id=\"{doc.doc_id}\"></div>"
            f"<script src=\"/static/v2/app.{doc.doc_id % 97}.js\"></script></body></html>"
        )

    def home(self) -> str:
        links = "".join(
            f'<li><a href="{self.column_path(c.key)}">{esc(c.name)}</a></li>' for c in self.bureau.columns
        )
        charset = f'<meta charset="{self.encoding}">' if self.declare_meta_charset else ""
        return (
            f"<!DOCTYPE html><html><head>{charset}<title>{esc(self.bureau.name)}</title>"
            f"</head><body>{self.today_bar()}<h1>{esc(self.bureau.name)}</h1><ul class=\"nav\">{links}</ul>"
            "</body></html>"
        )

    def today_bar(self) -> str:
        now = datetime.now(SHANGHAI)
        return f'<div class="top-date">今天是{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}</div>'

    def related(self, doc: Document, href: Callable[[Document], str], count: int = 5) -> str:
        """The 相关文章 box: a different random pick on every request (noise)."""
        pool = [d for d in self.listed(doc.column)[:40] if d.doc_id != doc.doc_id]
        picks = self.noise.sample(pool, min(count, len(pool)))
        items = "".join(f'<li><a href="{href(d)}" target="_blank">{esc(d.display_title)}</a></li>' for d in picks)
        return items

    @staticmethod
    def paragraphs(blocks: list[Block], indent: str = "\u3000\u3000") -> str:
        out = []
        for block in blocks:
            text = esc(block.text)
            if block.role == CENTER:
                out.append(f'<p style="text-align: center;">{text}</p>')
            elif block.role == RIGHT:
                out.append(f'<p style="text-align: right;">{text}\u3000\u3000</p>')
            else:
                out.append(f"<p>{indent}{text}</p>")
        return "\n".join(out)

    @staticmethod
    def meta_tags(doc: Document, column: str, *, pubdate: bool = True, extra: str = "") -> str:
        tags = [
            f'<meta name="ArticleTitle" content="{esc(doc.display_title)}">',
            f'<meta name="ColumnName" content="{esc(column)}">',
            f'<meta name="ContentSource" content="{esc(doc.bureau)}">',
            f'<meta name="SiteName" content="{esc(doc.bureau)}">',
        ]
        if pubdate:
            tags.insert(1, f'<meta name="PubDate" content="{doc.published_at:%Y-%m-%d %H:%M}">')
        return "\n".join(tags) + extra


def pager_slice(docs: list[Document], page: int, size: int) -> list[Document] | None:
    """Documents of 0-based page ``page``; None beyond the last page (page 0 always exists)."""
    start = page * size
    if page > 0 and start >= len(docs):
        return None
    return docs[start : start + size]


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))
