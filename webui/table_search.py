"""A search kept on the documents table (``?_search=…&_table=1``, JSON, CSV): its matches read once a request.

Datasette runs a table's filter in three statements (the page, the count, the facets). A filter
``id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH …)`` evaluated the search in each
of them, and the facets grouped every match's row: 3.6-5.1 s for 异地就医 (654,013 matches) at
1,000,000 documents. Instead ``plugin.filters_from_request`` reads the matching ids once
(``storage.search.match_ids``) and keeps them for the request under a token; the filter it gives
Datasette reads them back through SQL functions registered on every connection
(``register_functions``):

- up to ``LIST_MAX`` matches: ``id IN (SELECT value FROM json_each(yibao_hit_list(:search, :token)))``,
  each document read by its key;
- more: ``substr(yibao_hit_bits(:search, :token), id + 1, 1) = x'01'``, one byte per id tested as the
  rows are scanned (the page stops at its 101st row; the count scans the smallest index);

and the facets count the matches' facet values in memory (``storage.facet_columns``, see
``webui.facets``). The SQL functions are deterministic for their arguments, so SQLite calls each once
per statement. A token no longer kept (the SQL reused from the page's "View and edit SQL" link, after
``KEPT`` later searches) reads the matches again on that connection, so the SQL is right on its own.

The match sets of the last ``RECENT`` searches are reused by the next requests while the archive is
unchanged (``matches``): paging through a search's rows, or choosing one of its facet values, reads its
matches once, not on every request (the commonest 4-char term at 1,000,000 documents: about 0.45 s of
each request). Unchanged means that the file's state (``storage.file_state``: the same file, and no commit
to it by any connection, a crawl's process included) is the one read before the matches were.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sqlite_utils

from storage.file_state import file_state, main_file
from storage.search import QueryError, build_query, match_ids

LIST_MAX = 20_000
KEPT = 8
"""Match sets kept at once: a request needs its own only while its statements run (a million matches are
8 MB of ids and 1 MB of bits); an evicted one is read again by the SQL functions (slower, still right)."""

RECENT = 8
"""Searches whose match sets are reused while the archive is unchanged (each up to 9 MB at 1M matches)."""

LIST_FILTER = "id IN (SELECT value FROM json_each(yibao_hit_list(:yibao_search, :yibao_token)))"
BITS_FILTER = "substr(yibao_hit_bits(:yibao_search, :yibao_token), id + 1, 1) = x'01'"


@dataclass(frozen=True)
class Hits:
    """The ids of a search's matches (ascending)."""

    ids: np.ndarray

    @cached_property
    def bits(self) -> bytes:
        """Byte ``id`` is 1 for a match: ``substr(bits, id + 1, 1)``."""
        bits = np.zeros(int(self.ids[-1]) + 1 if len(self.ids) else 0, dtype=np.uint8)
        bits[self.ids] = 1
        return bits.tobytes()

    @cached_property
    def listed(self) -> str:
        """The ids as a JSON array, for ``json_each``."""
        return "[" + ",".join(map(str, self.ids.tolist())) + "]"


_kept: OrderedDict[str, Hits] = OrderedDict()
_kept_lock = threading.Lock()


def keep(hits: Hits) -> str:
    """Keep ``hits`` for the statements of one request; the token that reads them back."""
    token = secrets.token_hex(8)
    with _kept_lock:
        _kept[token] = hits
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return token


def kept(token: str | None) -> Hits | None:
    with _kept_lock:
        return _kept.get(token or "")


_recent: OrderedDict[tuple[str, str], tuple[tuple[int, ...], Hits]] = OrderedDict()  # (file, query) -> (state, hits)
_recent_lock = threading.Lock()


def matches(db: sqlite_utils.Database, text: str) -> Hits:
    """The matches of the search ``text``: those read by an earlier request while no commit has been made to
    the archive since, else read now (``match_ids``) and kept for the next requests."""
    query = build_query(text)  # QueryError for a query that cannot be searched, as from match_ids
    path = main_file(db)
    if path is None or query.match is None:
        return Hits(match_ids(db, query))
    key = (path, query.match)
    try:
        state = file_state(path)  # read before the matches: a commit while they are read makes them stale
    except (OSError, sqlite3.Error):  # the file gone from its path, or not readable there: nothing reused
        return Hits(match_ids(db, query))
    with _recent_lock:
        found = _recent.get(key)
        if found is not None and found[0] == state:
            _recent.move_to_end(key)
            return found[1]
        for stale in [k for k, (v, _) in _recent.items() if k[0] == path and v != state]:
            del _recent[stale]
    hits = Hits(match_ids(db, query))
    with _recent_lock:
        _recent[key] = (state, hits)
        while len(_recent) > RECENT:
            _recent.popitem(last=False)
    return hits


def forget() -> None:
    """Drop the match sets kept for reuse (``benchmarks.webui_bench`` times a search's first request)."""
    with _recent_lock:
        _recent.clear()


def read(db: sqlite_utils.Database, text: str) -> tuple[str, str]:
    """The search's matches (read once, or reused: ``matches``); (the filter's SQL, the token) for
    ``filters_from_request``."""
    hits = matches(db, text)
    return (LIST_FILTER if len(hits.ids) <= LIST_MAX else BITS_FILTER), keep(hits)


def register_functions(conn: sqlite3.Connection) -> None:
    """``yibao_hit_list(search, token)`` and ``yibao_hit_bits(search, token)`` on one connection."""

    def hits(text: str | None, token: str | None) -> Hits:
        found = kept(token)
        if found is None:  # not kept (any more): read again, on this connection
            try:
                found = matches(sqlite_utils.Database(conn, execute_plugins=False), text or "")
            except QueryError:  # as yibao_match: a query that cannot be searched matches nothing
                found = Hits(np.zeros(0, dtype=np.int64))
        return found

    conn.create_function("yibao_hit_list", 2, lambda text, token: hits(text, token).listed, deterministic=True)
    conn.create_function("yibao_hit_bits", 2, lambda text, token: hits(text, token).bits, deterministic=True)
