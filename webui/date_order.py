"""The documents table's first page by date in the order its later pages continue: a cursor before every row.

Datasette (0.65) orders a first page by the sort column alone (``ORDER BY published_on DESC``) and every
later page (``_next=date,id``) by the sort column and then the id, taking the documents of the page's last
date with a higher id. SQLite returns the documents of one date in the order of the index it happens to
read (a facet's index backwards: highest id first), so a first page that ended inside a date was followed
by one that repeated some of that date's documents and skipped others (paging the unit tests' archive of
310 documents 18 at a time gave 309 of them; with a facet value selected as well).

The ASGI wrapper (``webui.plugin.asgi_wrapper``) therefore gives a first page by date a cursor that every
row passes (``FIRST_PAGE``): Datasette then orders it as it orders the next ones (``published_on DESC,
id``). Datasette counts the rows and our facets count them without the cursor, so the counts do not
change. Datasette would also copy the cursor into the page's links (facets, the filter form, a JSON
answer's facet toggles); ``hiding_cursor`` takes it out of the HTML and the JSON again. SQLite answers that
``OR`` from m014's ``documents_published_desc`` in one walk (0.1 ms at 1M documents), or from a facet's
index with a sort of each date's few documents.

The sort and filter forms' requests (``_sort_by_desc``, ``_filter_column``…) are left alone: Datasette
redirects them to their canonical URL, which would carry the cursor along (with the oldest-first cursor, a
newest-first sort showed only the undated documents); the redirected request gets it.

A streamed CSV (``_stream=1``) is left alone: Datasette refuses a cursor there and pages the stream itself,
its first page by date alone. Unfiltered, that page comes from ``documents_published_desc`` in the same order;
with facet values selected, a date cut by a page boundary (every ``max_returned_rows``) can still be
repeated or skipped in the stream: ``yibao export`` exports exactly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from webui.metadata import DATABASE

# the table's paths (HTML, JSON, CSV) whose first page by date gets the cursor
PATHS = frozenset(f"/{DATABASE}/documents{suffix}" for suffix in ("", ".json", ".csv"))
DATE = "published_on"
# Newest first: ``published_on < '9999-12-31' OR published_on IS NULL OR (… AND id > 0)``, every row (the
# column holds ISO dates or NULL). Oldest first: Datasette's cursor for a NULL sort value,
# ``published_on IS NOT NULL OR (published_on IS NULL AND id > 0)``, every row too.
FIRST_PAGE = {"desc": "9999-12-31,0", "asc": "$null,0"}


def with_first_page_cursor(path: str, query_string: bytes) -> bytes | None:
    """The query string with the cursor before every row when ``path`` is the documents table sorted by date
    (its default, or ``_sort_desc``/``_sort`` of ``published_on``) and no cursor is given; else None."""
    if path not in PATHS:
        return None
    pairs = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    keys = {key for key, _ in pairs}
    if "_next" in keys or "_stream" in keys:  # Datasette refuses a cursor with a CSV stream (it pages it itself)
        return None
    if "_sort_by_desc" in keys or any(key.startswith("_filter_") for key in keys):
        return None  # the sort and filter forms' requests: Datasette redirects them, the cursor would go along
    sort = [value for key, value in pairs if key == "_sort"]
    sort_desc = [value for key, value in pairs if key == "_sort_desc"]
    if sort == [DATE] and not sort_desc:
        direction = "asc"
    elif (sort_desc == [DATE] and not sort) or not (sort or sort_desc):  # the table's default: newest first
        direction = "desc"
    else:
        return None
    return urlencode([*pairs, ("_next", FIRST_PAGE[direction])]).encode("utf-8")


def _cursor_written(direction: str, html: bool) -> list[tuple[bytes, bytes]]:
    """(as Datasette writes the cursor into a page's links -- an HTML page's links and filter form, a JSON
    answer's facet toggle URLs --, what replaces it)."""
    value = FIRST_PAGE[direction]
    param = f"_next={quote(value, safe='')}".encode()
    amp = b"&amp;" if html else b"&"
    written = [(amp + param, b""), (param + amp, b""), (b"?" + param, b"?")]
    if html:
        written.append((f'<input type="hidden" name="_next" value="{value}">'.encode(), b""))
    return written


Send = Callable[[dict[str, Any]], Awaitable[None]]


def hiding_cursor(send: Send, query_string: bytes) -> Send:
    """``send`` for a request given the first-page cursor: an HTML page or a JSON answer is held until its last
    chunk and sent without the cursor in its links (a CSV passes as it is). A JSON answer's ``query`` still
    shows the SQL that ran, the cursor's values among its parameters."""
    direction = "asc" if b"_next=%24null" in query_string else "desc"
    held: dict[str, Any] = {}
    body: list[bytes] = []

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            kind = headers.get(b"content-type", b"")
            if kind.startswith((b"text/html", b"application/json")):
                held["html"] = kind.startswith(b"text/html")
                held["start"] = {**message, "headers": [(k, v) for k, v in message.get("headers") or []
                                                        if k.lower() != b"content-length"]}  # fmt: skip
                return
        elif message["type"] == "http.response.body" and "start" in held:
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(body)
            for written, replaced in _cursor_written(direction, held.pop("html")):
                html = html.replace(written, replaced)
            start = held.pop("start")
            await send({**start, "headers": [*start["headers"], (b"content-length", str(len(html)).encode())]})
            await send({"type": "http.response.body", "body": html})
            return
        await send(message)

    return sending
