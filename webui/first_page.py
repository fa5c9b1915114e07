"""The documents table's first page ordered as its next pages are: a cursor before every row.

Datasette 0.65 orders a table's first page by its sort column alone (``published_on DESC`` here, the
table's default) and each later page (``_next=value,id``) by the sort column and then the id, taking the
rows of the boundary value with a higher id. SQLite gives the rows of one value in whatever order the
index it reads has (a date's documents by bureau, or highest id first), so when a page ended inside a
date the next page repeated some of that date's documents and skipped others (found on the table with
and without filters; ``tests/webui/test_first_page.py``).

``with_cursor`` gives a first-page request of the documents table (HTML, JSON, CSV) a ``_next`` that
comes before every row -- for a descending sort a value above any text, for an ascending one the start
of the NULLs, which sort first -- so Datasette orders it by the sort column and the id, as the pages
after it. The rows and their order are otherwise those Datasette would show; the count and facets do
not depend on ``_next``. A sort by ``id`` (unique) is left alone. The page's links and form carry the
cursor on; a request with one of these cursors is a first page and gets the one its sort needs.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette.utils import tilde_encode

DEFAULT_SORT_DESC = "published_on"  # webui.metadata: the documents table's sort_desc
ABOVE_EVERY_TEXT = "\U0010ffff"  # the greatest code point: SQLite compares text as UTF-8 bytes
BEFORE_EVERY_ID = "0"  # documents.id starts at 1
TABLE_PATHS = frozenset({"/archive/documents", "/archive/documents.json", "/archive/documents.csv"})


def cursor(args: dict[str, list[str]]) -> str | None:
    """The ``_next`` before every row for a first page with these arguments; None when it has one already,
    or is sorted by id."""
    if args.get("_next") and not set(args["_next"]) <= OURS:  # a later page
        return None
    ascending = (args.get("_sort") or [""])[0]
    descending = (args.get("_sort_desc") or [""])[0]
    column = ascending or descending or DEFAULT_SORT_DESC
    if column in ("id", "rowid"):
        return None
    if ascending:  # NULLs first: from the first NULL (Datasette's "$null" cursor), then every value
        return f"$null,{BEFORE_EVERY_ID}"
    return f"{tilde_encode(ABOVE_EVERY_TEXT)},{BEFORE_EVERY_ID}"


OURS = {f"{tilde_encode(ABOVE_EVERY_TEXT)},{BEFORE_EVERY_ID}", f"$null,{BEFORE_EVERY_ID}"}
"""The cursors ``cursor`` gives: the page's links and its form carry them on; a request with one is a
first page, whose cursor is chosen again for its sort (the form may have changed the sort)."""


def with_cursor(path: str, query_string: bytes) -> bytes | None:
    """The query string with the first page's cursor added, for a request of the documents table; None
    when nothing is to be added."""
    if path not in TABLE_PATHS:
        return None
    pairs = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    args: dict[str, list[str]] = {}
    for key, value in pairs:
        args.setdefault(key, []).append(value)
    added = cursor(args)
    ours = bool(args.get("_next")) and set(args["_next"]) <= OURS
    if added is None and not ours:
        return None
    kept = [(key, value) for key, value in pairs if not (key == "_next" and value in OURS)]
    return urlencode(kept + ([("_next", added)] if added else [])).encode("ascii")
