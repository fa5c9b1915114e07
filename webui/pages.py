"""The web UI's own pages (registered by ``webui.plugin``): home, ranked search, charts, Atom feed.

Every page reads the archive through ``storage`` on Datasette's read-only connections
(``Database.execute_fn``); templates autoescape, and the only markup built here (snippets, charts,
diffs) escapes what came from crawled pages before adding its own tags.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any, TypeVar
from urllib.parse import urlencode

import sqlite_utils
from datasette.utils.asgi import Response
from markupsafe import Markup

from core.normalize.reply import ADOPTION_TERMS
from storage.browse import (
    GroupBy,
    archive_totals,
    filter_choices,
    monthly_changes,
    monthly_publications,
    recent_changes,
)
from storage.feeds import build_feed
from storage.migrations import PROVINCES
from storage.query import DocumentFilter, FilterError, list_events_filtered, region_pattern
from storage.search import (
    COUNT_CAP,
    RANK_WINDOW,
    SORTS,
    QueryError,
    build_query,
    search,
    search_count,
    snippet,
)
from webui.charts import colors_for, month_range, monthly_chart, series
from webui.labels import EVENTS_ZH, KINDS_ZH
from webui.metadata import DATABASE

T = TypeVar("T")
PAGE_SIZE = 20
# the documents table as linked from our pages: without the internal columns nobody reads
TABLE_PARAMS = (("_nocol", "identity_key"), ("_nocol", "latest_version_id"))
NAV = [
    ("/", "首页 Home"),
    ("/-/search", "检索 Search"),
    (f"/{DATABASE}/documents?{urlencode(TABLE_PARAMS)}", "文档 Documents"),
    (f"/{DATABASE}", "查询 Queries"),
    ("/-/charts", "统计 Charts"),
    ("/-/feeds/changes.atom", "订阅 Feed"),
]
FILTER_PARAMS = (  # (query-string parameter, DocumentFilter field)
    ("portal", "portals"), ("region", "regions"), ("kind", "kinds"), ("class", "classes"),
    ("status", "statuses"), ("validity", "validity"), ("deputy", "deputies"), ("adoption", "adoption"),
    ("since", "since"), ("until", "until"),
)  # fmt: skip
_MARK = ("\ue000", "\ue001")  # private-use sentinels: escaped text first, then <mark> tags


def with_archive(fn: Callable[[sqlite_utils.Database], T]) -> Callable[[Any], T]:
    """Adapt ``fn(db)`` to Datasette's ``execute_fn(conn)`` (its read-only sqlite3 connection)."""

    def call(conn: Any) -> T:
        return fn(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False))

    return call


async def _read(datasette: Any, fn: Callable[[sqlite_utils.Database], T]) -> T:
    return await datasette.get_database(DATABASE).execute_fn(with_archive(fn))


async def _render(
    datasette: Any, request: Any, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    context = {"yibao_nav": NAV, "kinds_zh": KINDS_ZH, "events_zh": EVENTS_ZH, **context}
    return Response.html(await datasette.render_template(template, context, request=request), status=status)


def highlight(text: str) -> Markup:
    """A snippet made with the ``_MARK`` sentinels as safe HTML: text escaped, matches in ``<mark>``."""
    return Markup(escape(text).replace(_MARK[0], "<mark>").replace(_MARK[1], "</mark>"))


def _marked_title(title: str, terms: list[str]) -> Markup:
    """The whole title with the query's terms marked (a title-only match shows why it was found)."""
    return highlight(snippet(title, terms, width=4 * len(title) + 4, mark=_MARK))


async def home(datasette: Any, request: Any) -> Response:
    totals, changes = await _read(datasette, lambda db: (archive_totals(db), recent_changes(db, 20)))
    return await _render(datasette, request, "yibao_home.html", {"totals": totals, "changes": changes})


def _filters(args: Any) -> tuple[DocumentFilter, list[str]]:
    """The search page's filters from the query string, and the problems found in it (a bad value is
    reported and left out, never an error page)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, field in FILTER_PARAMS:
        raw = [v.strip() for v in args.getlist(name) if v.strip()]
        value: Any = (raw[0] if raw else None) if name in ("since", "until") else tuple(raw)
        try:
            DocumentFilter(**{field: value})
        except FilterError as exc:
            problems.append(f"{name}: {exc}")
        else:
            values[field] = value
    return DocumentFilter(**values), problems


_CHOICES_TTL = 300.0  # seconds; the select lists scan the documents table (1.3 s at 1M documents)
_choices_cache: dict[int, tuple[float, dict[str, list[tuple[str, str]]]]] = {}


async def _choices(datasette: Any) -> dict[str, list[tuple[str, str]]]:
    """The search form's select lists, recomputed at most every ``_CHOICES_TTL`` seconds."""
    cached = _choices_cache.get(id(datasette))
    if cached is None or time.monotonic() - cached[0] > _CHOICES_TTL:
        cached = (time.monotonic(), await _read(datasette, filter_choices))
        _choices_cache[id(datasette)] = cached
    return cached[1]


def _page_link(args: Any, page: int) -> str:
    """The search page's URL with the same parameters, at ``page``."""
    pairs = [(k, v) for k in args for v in args.getlist(k) if k != "page"]
    return "/-/search?" + urlencode([*pairs, ("page", str(page))])


STAY = "_table"  # on a documents-table URL with _search: show the table (and its facets), not the search page


def _table_link(text: str, filters: DocumentFilter) -> str | None:
    """The documents table with the same search and the filters it can express as column filters
    (None when a filter has no column form: portal, adoption, several values of one facet). It carries
    ``STAY``: a table search is otherwise sent to the search page (``search_page_for_table``)."""
    if filters.portals or filters.adoption or len(filters.deputies) > 1:
        return None
    pairs: list[tuple[str, str]] = [("_search", text), (STAY, "1"), *TABLE_PARAMS]
    for column, values in (("kind", filters.kinds), ("reply_class", filters.classes),
                           ("status", filters.statuses), ("validity", filters.validity)):  # fmt: skip
        if len(values) > 1:
            return None
        pairs += [(column, values[0])] if values else []
    pairs += [("deputies__arraycontains", filters.deputies[0])] if filters.deputies else []
    if len(filters.regions) > 1:
        return None
    if filters.regions:
        pairs.append(("region_code__glob", region_pattern(filters.regions[0])))
    if filters.since:
        pairs.append(("published_on__gte", filters.since))
    if filters.until:
        pairs.append(("published_on__lte", filters.until))
    return f"/{DATABASE}/documents?" + urlencode(pairs)


_TABLE_TO_SEARCH = {  # documents-table column filter -> search page parameter
    "kind": "kind", "reply_class": "class", "status": "status", "validity": "validity",
    "deputies__arraycontains": "deputy", "published_on__gte": "since", "published_on__lte": "until",
}  # fmt: skip
_PROVINCE_CODES = {name: prefix + "0000" for prefix, name in PROVINCES.items()}


def search_page_for_table(args: dict[str, list[str]]) -> str | None:
    """Where a documents-table search (``?_search=``) is answered fast: the search page with the same
    query and the column filters it has a form for, or None when the table must answer it (``STAY``, no
    search, or a parameter the search page cannot express, e.g. a sort or a bureau).

    On a large archive the table runs the search once for its count, once for its page and once per
    facet, each over every match (8.6 s for a common term at 1M documents, facets timing out); the search
    page reads the index in relevance order and stops at the page's end."""
    text = " ".join(v.strip() for v in args.get("_search", []) if v.strip())
    if not text or STAY in args:
        return None
    pairs: list[tuple[str, str]] = [("q", text)]
    for key, values in args.items():
        if key in ("_search", "_nocol", "_col") or not values:
            continue
        if key in _TABLE_TO_SEARCH:
            pairs += [(_TABLE_TO_SEARCH[key], v) for v in values]
        elif key == "province" and all(v in _PROVINCE_CODES for v in values):
            pairs += [("region", _PROVINCE_CODES[v]) for v in values]
        elif key == "region_code__glob" and all(re.fullmatch(r"[0-9]{2,6}\?*", v) and len(v) == 6 for v in values):
            pairs += [("region", v.replace("?", "0")) for v in values]
        else:
            return None
    return "/-/search?" + urlencode(pairs)


async def search_page(datasette: Any, request: Any) -> Response:
    args = request.args
    text = (args.get("q") or "").strip()
    filters, problems = _filters(args)
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        page = 1
    sort = args.get("sort") or "rank"
    if sort not in SORTS:
        problems.append(f"sort: one of {', '.join(SORTS)}")
        sort = "rank"
    context: dict[str, Any] = {
        "window": COUNT_CAP,  # the count stops there: "1,000+"
        "rank_window": RANK_WINDOW,
        "windowed": filters.empty and sort == "bm25",  # bm25 ranks a window; the other orders every hit
        "sort": sort,
        "q": text,
        "args": args,
        "problems": problems,
        "page": page,
        "hits": [],
        "total": None,
        "page_size": PAGE_SIZE,
    }
    status = 200
    if text and not problems:
        try:
            query = build_query(text)
        except QueryError as exc:
            context["problems"] = [str(exc)]
            status = 400
        else:

            def run(db: sqlite_utils.Database) -> tuple[int, list[Any]]:
                hits = search(
                    db, query, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, mark=_MARK,
                    sort=sort,
                )
                return search_count(db, query, filters, cap=COUNT_CAP), hits

            context["total"], hits = await _read(datasette, run)
            context["table_link"] = _table_link(text, filters)
            context["prev_link"] = _page_link(args, page - 1) if page > 1 else None
            more = context["total"] > page * PAGE_SIZE or (context["total"] >= COUNT_CAP and len(hits) == PAGE_SIZE)
            context["next_link"] = _page_link(args, page + 1) if more else None
            context["hits"] = [(hit, _marked_title(hit.title, query.terms), highlight(hit.snippet)) for hit in hits]
    elif problems:
        status = 400
    context["choices"] = await _choices(datasette)
    context["adoption_terms"] = ADOPTION_TERMS
    return await _render(datasette, request, "yibao_search.html", context, status)


async def charts_page(datasette: Any, request: Any) -> Response:
    by: GroupBy = request.args.get("by") or "province"
    if by not in ("province", "bureau"):
        return Response.text("by must be province or bureau", status=400)
    try:
        months = min(240, max(1, int(request.args.get("months") or 36)))
    except ValueError:
        return Response.text("months must be a number", status=400)
    today = date.today()
    first = today.year * 12 + today.month - 1 - (months - 1)
    since = f"{first // 12:04d}-{first % 12 + 1:02d}"
    published, changed = await _read(
        datasette,
        lambda db: (monthly_publications(db, by=by, since=since), monthly_changes(db, by=by, since=since)),
    )
    this_month = f"{today.year:04d}-{today.month:02d}"
    span = month_range(since, this_month)
    _, regions, _ = series([*published, *changed])
    colors = colors_for(regions)
    charts = []
    for chart_id, title, counts in (
        ("publications", f"每月发布 Publications per month, by {by}", published),
        ("changes", f"每月变化 Changes per month (edits, validity, withdrawals), by {by}", changed),
    ):
        _, chart_regions, table = series(counts)
        svg = monthly_chart(counts, title=title, chart_id=chart_id, months=span, colors=colors)
        charts.append(
            {
                "id": chart_id,
                "title": title,
                "svg": Markup(svg),
                "months": span,
                "regions": chart_regions,
                "table": table,
            }
        )
    return await _render(
        datasette,
        request,
        "yibao_charts.html",
        {"charts": charts, "by": by, "months": months, "since": since},
    )


async def not_published(datasette: Any, request: Any) -> Response:
    return Response.text("Not published here.", status=404)


async def changes_feed(datasette: Any, request: Any) -> Response:
    """The latest 200 changes; narrowed like the search page (``q``, ``region``, ``kind``, ``class``,
    ``status``, ``since``/``until`` of the document) and by ``event`` kind and ``portal``: a saved
    search as a feed."""
    filters, problems = _filters(request.args)
    text = (request.args.get("q") or "").strip()
    try:
        query = build_query(text) if text else None
    except QueryError as exc:
        problems.append(str(exc))
    if problems:
        return Response.text("\n".join(problems), status=400)
    portals = filters.portals  # the event's portal: a portal's own ops events (broken, recovered) too
    filters = dataclasses.replace(filters, portals=())
    events = tuple(v for v in request.args.getlist("event") if v)
    base = f"{request.scheme}://{request.host}"
    title = "Yibao Watch: 医保局 portal changes" + (f" · {text}" if text else "")

    def build(db: sqlite_utils.Database) -> bytes:
        chosen = list_events_filtered(db, kinds=events, portals=portals, limit=200, query=query, filters=filters)
        return build_feed(db, events=sorted(chosen, key=lambda e: e.id), link=f"{base}/", title=title,
                          feed_id=f"tag:yibao-watch,2026:feed/web?{request.query_string}")

    xml = await _read(datasette, build)
    return Response(xml.decode("utf-8"), content_type="application/atom+xml; charset=utf-8")
