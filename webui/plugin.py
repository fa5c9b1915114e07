"""Datasette hooks that make the archive browsable as this domain needs.

- ``yibao_match(q)`` / ``yibao_snippet(text, q)`` SQL functions: a user query compiled for our CJK
  bigram index (Datasette's own ``escape_fts`` cannot search it), usable by canned queries.
- The documents table's search box (``?_search=``) is answered by the search page (a redirect, see
  ``asgi_wrapper``) when its filters have a form there; otherwise (and for JSON, CSV and ``_table=1``)
  its matches are read once per request (``webui.table_search``), so search combines with facets and
  column filters.
- The document page (``/archive/documents/{id}``, where alerts link to) shows the structured record,
  its URLs and every version with the diff to its predecessor.
- Pages of our own: ``/`` (home), ``/-/search``, ``/-/charts``, ``/-/feeds/changes.atom``.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest
from markupsafe import Markup

from core.fields import display
from storage.search import QueryError, build_query, snippet
from webui import pages, table_search
from webui.date_order import hiding_cursor, with_first_page_cursor
from webui.document_view import document_context
from webui.facets import CountedFacet
from webui.metadata import DATABASE

NOTHING = '"\U000f0000"'  # an FTS5 phrase of a token no indexed text contains


def yibao_match(user_query: str | None) -> str:
    """The FTS5 expression for a user query; one that matches nothing for an empty or unusable query
    (SQLite would only say "user-defined function raised exception"; the search page and the table's
    search box report the reason)."""
    try:
        return build_query(user_query or "").match or NOTHING
    except QueryError:
        return NOTHING


def yibao_snippet(text: str | None, user_query: str | None) -> str:
    query = build_query(user_query or "")
    return snippet(text or "", query.terms, mark=("【", "】"))


@hookimpl
def register_facet_classes() -> list[type]:
    return [CountedFacet]


@hookimpl
def prepare_connection(conn: Any) -> None:
    conn.create_function("yibao_match", 1, yibao_match, deterministic=True)
    conn.create_function("yibao_snippet", 2, yibao_snippet, deterministic=True)
    table_search.register_functions(conn)


@hookimpl(trylast=True)  # after Datasette's own search filter, so our extra_context wins
def filters_from_request(
    request: Any, database: str, table: str, datasette: Any
) -> FilterArguments | Coroutine[Any, Any, FilterArguments] | None:
    if database != DATABASE or table != "documents":
        return None
    text = (request.args.get("_search") or "").strip()
    context: dict[str, Any] = {"supports_search": True, "search": text}
    if not text:
        return FilterArguments([], extra_context=context)
    try:
        build_query(text)
    except QueryError as exc:
        raise BadRequest(f"search: {exc}") from exc

    async def read() -> FilterArguments:  # the matches read once for the page, its count and its facets
        db = datasette.get_database(DATABASE)
        where, token = await db.execute_fn(pages.with_archive(lambda archive: table_search.read(archive, text)))
        return FilterArguments(
            [where],
            params={"yibao_search": text, "yibao_token": token},
            human_descriptions=[f'search matches "{text}"'],
            extra_context=context,
        )

    return read()


@hookimpl
def extra_template_vars(
    template: str, database: str | None, table: str | None, view_name: str, request: Any, datasette: Any
) -> Any:
    async def inner() -> dict[str, Any]:
        extra: dict[str, Any] = {
            "yibao_nav": pages.NAV,
            "kinds_zh": pages.KINDS_ZH,
            "events_zh": pages.EVENTS_ZH,
        }
        if view_name == "row" and database == DATABASE and table == "documents" and request is not None:
            try:
                doc_id = int(request.url_vars["pks"])
            except (KeyError, ValueError):
                return extra
            db = datasette.get_database(DATABASE)
            extra["yibao_doc"] = await db.execute_fn(
                pages.with_archive(lambda a: document_context(a, doc_id))
            )
        return extra

    return inner


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str | None) -> Any:
    """The documents table's ``deputies`` (JSON text) as the registry shows it: names joined with 、."""
    if database == DATABASE and table == "documents" and column == "deputies" and isinstance(value, str):
        try:
            names = json.loads(value)
        except ValueError:
            return None
        return Markup.escape(display("deputies", names) or "") if isinstance(names, list) else None
    return None


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """The documents table's search box answered by the search page (``pages.search_page_for_table``):
    an HTML table request with ``_search`` is redirected there; JSON/CSV and ``_table=1`` are not. A first
    page of the table by date gets a cursor before every row (``webui.date_order``), so that it is ordered
    as Datasette orders the pages after it."""

    def wrap(app: Any) -> Any:
        async def routed(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("path") == f"/{DATABASE}/documents":
                args = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
                location = pages.search_page_for_table(args)
                if location is not None:
                    await send({"type": "http.response.start", "status": 302,
                                "headers": [(b"location", location.encode("utf-8")),
                                            (b"content-type", b"text/plain; charset=utf-8")]})  # fmt: skip
                    await send({"type": "http.response.body", "body": b"See the search page."})
                    return
            if scope.get("type") == "http":
                query_string = with_first_page_cursor(scope.get("path", ""), scope.get("query_string", b""))
                if query_string is not None:
                    scope, send = {**scope, "query_string": query_string}, hiding_cursor(send, query_string)
            await app(scope, receive, send)

        return routed

    return wrap


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/$", pages.home),
        (r"^/-/search$", pages.search_page),
        (r"^/-/charts$", pages.charts_page),
        (r"^/-/feeds/changes\.atom$", pages.changes_feed),
        # Datasette's introspection pages tell a visitor the archive's file path and the server's
        # threads and versions: not published.
        (r"^/-/(databases|threads|versions|plugins)(\.json)?$", pages.not_published),
    ]


@hookimpl
def extra_css_urls() -> list[str]:
    return ["/yibao-static/yibao.css"]


@hookimpl
def menu_links() -> list[dict[str, str]]:
    return [{"href": href, "label": label} for href, label in pages.NAV]
