"""Full-text search over documents: title, 文号 (doc_no) and body, exact for Chinese.

Design (the CJK bigram scheme of Lucene's CJKAnalyzer, tokenized in Python into a plain FTS5 table):

- Text is folded (NFKC, so full-width ASCII becomes half-width; zero-width chars dropped; lower-case)
  and cut into maximal runs: CJK runs (Han, kana, hangul), word runs (other letters and digits) and
  separator runs (everything else).
- A CJK run of one char is that unigram; a longer run is its overlapping bigrams followed by its last
  char (the "run-final unigram", which lets a query say "a run ends with 局"). A word run is one token.
  A separator run is one token spelling the run (ASCII chars moved to plane-15 private use so that the
  FTS5 ``ascii`` tokenizer keeps them), so runs are only adjacent where the text has that separator.
- The token text goes into the contentless FTS5 table ``documents_fts`` (``tokenize='ascii'``: every
  non-ASCII char is a token char, so our tokens pass through unsplit), rowid = documents.id.
- A query term is folded the same way, its leading/trailing separators dropped, and becomes a phrase:
  a CJK piece of k >= 2 chars is its bigrams (plus the run-final unigram when something follows it in
  the term); a one-char piece is a unigram, or a prefix token (``"3 号" *``, ``"局" *``) when it ends
  the term; words and separators are themselves. The phrase matches iff the folded term occurs in the
  folded field, with ASCII-style words matched whole (``DIP`` does not match ``DIPX``, ``3号`` not
  ``13号``). Every term, including a single Chinese char, is therefore answered by the index alone.

Query syntax: terms; "quoted phrases" (also “…”); AND or a space; OR; NOT or -term; ASCII parentheses
(full-width （） are text). Precedence: NOT > AND > OR. A group needs at least one term not excluded.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlite_utils

from core.identity import fold_width
from storage import token_presence
from storage.db import write_transaction
from storage.query import DocumentFilter
from storage.rowid_ranges import each_range

TOKENIZER_VERSION = "cjk-bigram-1"
FTS_CREATE_SQL = (
    "CREATE VIRTUAL TABLE documents_fts USING fts5(title, doc_no, body, content='', tokenize='ascii')"
)
# The same tokens of title and 文号 only (about 2 % of the text): the first relevance tier is read from
# this small index, so a term rare in titles costs a scan of titles, not of every body. No column sizes
# (nothing ranks by bm25 here).
HEADING_CREATE_SQL = (
    "CREATE VIRTUAL TABLE documents_heading_fts USING fts5(title, doc_no, content='', tokenize='ascii',"
    " columnsize=0)"
)
FTS_RANK = "bm25(10.0, 5.0, 1.0)"  # title, doc_no, body

_CJK = (
    "\u3005\u3007\u3041-\u3096\u30a1-\u30fa\u30fc\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RUN = rf"[{_CJK}]+"
_WORD_RUN = rf"[^\W_{_CJK}]+"
_PIECES = re.compile(rf"(?P<cjk>{_CJK_RUN})|(?P<word>{_WORD_RUN})|(?P<sep>(?:[^\w{_CJK}]|_)+)")
_SEP_ASCII = {i: chr(0xF0000 + i) for i in range(128)}
_LEX = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()"]+)')


class QueryError(ValueError):
    """The query cannot be run (e.g. it only excludes terms, or nests too deeply)."""


MAX_DEPTH = 32  # nested groups and NOTs a query may have: deeper is an error, never a RecursionError


def fold_search(text: str) -> str:
    """The searchable form of text: NFKC, zero-width chars dropped, lower-case."""
    return fold_width(text).lower()


def _bigrams(run: str) -> str:
    return " ".join(map(operator.add, run, run[1:]))


def _run_tokens(run: str) -> str:
    return run if len(run) == 1 else f"{_bigrams(run)} {run[-1]}"


def _sep_token(run: str) -> str:
    return run.translate(_SEP_ASCII)


def index_text(text: str | None) -> str:
    """The token text stored in ``documents_fts`` for one field.

    A text of ``_VECTOR_MIN`` chars or more is tokenised with array operations (``_index_text_vector``,
    about 45 ns per char: a body of 2,400 chars in 0.1 ms instead of 0.5); a shorter one, or one with a
    char beyond the BMP, by the run-by-run reference (``_index_text_runs``). Both give the same string.
    """
    folded = fold_search(text or "")
    if len(folded) >= _VECTOR_MIN:
        tokens = _index_text_vector(folded)
        if tokens is not None:
            return tokens
    return _index_text_runs(folded)


_VECTOR_MIN = 64  # below it, the array set-up costs more than the runs loop
_CLASS_CJK, _CLASS_WORD, _CLASS_SEP = 0, 1, 2
_SPACE = ord(" ")


@functools.cache
def _bmp_classes() -> np.ndarray:
    """The class (``_CLASS_*``) of every BMP char, as ``_PIECES`` classifies it (about 20 ms, once)."""
    table = np.full(0x10000, _CLASS_SEP, dtype=np.uint8)
    for m in _PIECES.finditer("".join(map(chr, range(0x10000)))):
        if m.lastgroup != "sep":
            table[m.start() : m.end()] = _CLASS_CJK if m.lastgroup == "cjk" else _CLASS_WORD
    return table


def _index_text_vector(folded: str) -> str | None:
    """``_index_text_runs(folded)`` computed per char with numpy (None when a char is beyond the BMP).

    Each char emits itself (a separator's ASCII char moved to plane 15), then the next char when both are
    CJK (the bigram), then a space when it ends its run or is CJK; a leading and a trailing separator run
    are dropped (separators only count between tokens).
    """
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if int(codes.max()) > 0xFFFF:
        return None
    cls = _bmp_classes()[codes]
    cjk = cls == _CLASS_CJK
    sep = cls == _CLASS_SEP
    codes = np.where(sep & (codes < 128), codes + 0xF0000, codes)
    ends_run = np.empty(len(codes), dtype=bool)
    ends_run[:-1] = cls[:-1] != cls[1:]
    ends_run[-1] = True
    pair = cjk & ~ends_run
    lengths = 1 + pair + (cjk | ends_run)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    out = np.full(int(ends[-1]), _SPACE, dtype=np.uint32)
    out[starts] = codes
    out[starts[pair] + 1] = codes[1:][pair[:-1]]
    lo, hi = 0, len(out) - 1  # without the final space
    if sep[0]:  # a leading separator run: start after its token
        lo = int(ends[int(np.argmax(ends_run))])
    if sep[-1]:  # a trailing one: stop before the space ahead of its token
        inner = np.flatnonzero(ends_run[:-1])
        hi = max(lo, int(starts[inner[-1] + 1]) - 1) if len(inner) else lo
    return out[lo:hi].tobytes().decode("utf-32-le", "surrogatepass")


def _index_text_runs(folded: str) -> str:
    """``index_text`` of folded text, run by run (the reference: about 0.2 µs per char)."""
    parts: list[str] = []
    append = parts.append
    separator = ""
    for cjk, word, sep in _PIECES.findall(folded):
        if sep:
            separator = sep
            continue
        if separator and parts:  # separators only matter between tokens
            append(_sep_token(separator))
        separator = ""
        append(_run_tokens(cjk) if cjk else word)
    return " ".join(parts)


# --- query model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A term or phrase, folded, without leading/trailing separators."""

    text: str

    def phrase(self) -> str:
        """The FTS5 phrase that matches exactly the fields containing ``text``."""
        pieces = [(m.lastgroup, m.group()) for m in _PIECES.finditer(self.text)]
        tokens: list[str] = []
        prefix = False
        for i, (kind, value) in enumerate(pieces):
            followed = i < len(pieces) - 1
            if kind == "sep":
                tokens.append(_sep_token(value))
            elif kind == "word":
                tokens.append(value)
            elif len(value) == 1:  # a one-char run, a run-final char, or (as a prefix) a run's first char
                tokens.append(value)
                prefix = not followed
            else:  # the piece's bigrams; if the term goes on, the run must end here
                tokens.append(_run_tokens(value) if followed else _bigrams(value))
        return '"' + " ".join(tokens) + '"' + (" *" if prefix else "")


@dataclass(frozen=True)
class And:
    positive: tuple[Node, ...]
    negative: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Term | And | Or


def _term(raw: str) -> Term | None:
    pieces = [m for m in _PIECES.finditer(fold_search(raw)) if m.lastgroup != "sep"]
    if not pieces:
        return None
    return Term(pieces[0].string[pieces[0].start() : pieces[-1].end()])


class _Parser:
    def __init__(self, text: str) -> None:
        # Only ASCII ( ) group: full-width brackets are text, as in 按病种分值付费（DIP）.
        text = re.sub("[“”＂]", '"', text)
        self.tokens = [(m.lastgroup or "", m.group(m.lastgroup or 0)) for m in _LEX.finditer(text)]
        self.pos = 0
        self.depth = 0  # open groups
        self.nesting = 0  # open groups and NOTs: bounded by MAX_DEPTH

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def at_or(self) -> bool:
        return self.peek() == ("word", "OR")

    def parse_or(self) -> Node | None:
        items = [self.parse_and()]
        while self.at_or():
            self.take()
            items.append(self.parse_and())
        kept = tuple(item for item in items if item is not None)
        if len(kept) <= 1:
            return kept[0] if kept else None
        return Or(kept)

    def parse_and(self) -> Node | None:
        positive: list[Node] = []
        negative: list[Node] = []
        while (token := self.peek()) is not None and not self.at_or():
            if token[0] == "close" and self.depth:
                break
            if token in (("close", ")"), ("word", "AND")):  # a stray ')' at top level is ignored
                self.take()
                continue
            node, negated = self.parse_unary()
            if node is not None:
                (negative if negated else positive).append(node)
        if negative and not positive:
            raise QueryError("a query (or group) needs at least one term that is not excluded")
        if len(positive) == 1 and not negative:
            return positive[0]
        return And(tuple(positive), tuple(negative)) if positive else None

    def nest(self, by: int = 1) -> None:
        self.nesting += by
        if self.nesting > MAX_DEPTH:
            raise QueryError(f"the query nests too deeply (more than {MAX_DEPTH} levels of parentheses or NOT)")

    def parse_unary(self) -> tuple[Node | None, bool]:
        kind, value = self.take()
        if kind == "word" and value in ("NOT", "-"):
            if self.peek() is None:
                return None, False
            self.nest()
            node, negated = self.parse_unary()
            self.nest(-1)
            return node, not negated
        if kind == "word" and value.startswith("-"):
            return _term(value[1:]), True
        if kind == "open":
            self.nest()
            self.depth += 1
            node = self.parse_or()
            if (token := self.peek()) is not None and token[0] == "close":
                self.take()
            self.depth -= 1
            self.nest(-1)
            return node, False
        return _term(value), False


def _compile(node: Node) -> str:
    if isinstance(node, Term):
        return node.phrase()
    if isinstance(node, Or):
        return " OR ".join(f"({_compile(item)})" for item in node.items)
    expr = " AND ".join(f"({_compile(item)})" for item in node.positive)
    if node.negative:
        expr = f"({expr}) NOT ({' OR '.join(f'({_compile(item)})' for item in node.negative)})"
    return expr


def _positive_terms(node: Node | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, Term):
        return [node.text]
    items = node.items if isinstance(node, Or) else node.positive
    return [term for item in items for term in _positive_terms(item)]


def _negated(node: Node | None) -> bool:
    if node is None or isinstance(node, Term):
        return False
    if isinstance(node, Or):
        return any(map(_negated, node.items))
    return bool(node.negative) or any(map(_negated, node.positive))


@dataclass(frozen=True)
class Query:
    """A parsed query; ``match`` is its FTS5 expression (None for an empty query)."""

    source: str
    root: Node | None
    match: str | None

    @property
    def negated(self) -> bool:
        """True when the query excludes something (NOT / -term)."""
        return _negated(self.root)

    @property
    def terms(self) -> list[str]:
        """Folded positive terms, for highlighting."""
        return _positive_terms(self.root)

    def __str__(self) -> str:
        return self.match or ""


def build_query(user_query: str) -> Query:
    """Parse a user query (terms, "phrases", AND/space, OR, NOT/-term, parentheses) for ``documents_fts``.

    Raises ``QueryError`` for a query that only excludes (``-医保``).
    """
    root = _Parser(user_query).parse_or()
    return Query(user_query, root, _compile(root) if root is not None else None)


# --- index maintenance ---------------------------------------------------------------------------

_SQL_FTS = "INSERT INTO documents_fts (rowid, title, doc_no, body) VALUES (?, ?, ?, ?)"
_SQL_HEADING = "INSERT INTO documents_heading_fts (rowid, title, doc_no) VALUES (?, ?, ?)"


def fts_rows(document_id: int, tokens: tuple[str, str, str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The ``documents_fts`` and ``documents_heading_fts`` rows of a document's token text (title,
    文号, body), for ``_SQL_FTS`` and ``_SQL_HEADING`` (``storage.bulk`` writes them in bulk)."""
    return (document_id, *tokens), (document_id, tokens[0], tokens[1])


def fts_insert(
    db: sqlite_utils.Database,
    document_id: int,
    title: str,
    doc_no: str | None,
    body: str,
    presence: token_presence.PresenceBatch | None = None,
) -> None:
    """Index a document (its ``documents`` row written already) and note its tokens in its partition's
    token presence summary: on ``presence`` (the caller flushes it once for its transaction), else at once."""
    tokens = (index_text(title), index_text(doc_no), index_text(body))
    full, heading = fts_rows(document_id, tokens)
    db.execute(_SQL_FTS, full)
    db.execute(_SQL_HEADING, heading)
    row = db.execute("SELECT region_code, kind FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is not None:
        batch = token_presence.PresenceBatch() if presence is None else presence
        batch.add_document(row[0], row[1], tokens)
        if presence is None:
            batch.flush(db)


def fts_delete(
    db: sqlite_utils.Database, document_id: int, title: str, doc_no: str | None, body: str
) -> None:
    """Remove a row from the contentless indexes; the values must be the ones it was indexed with."""
    title_tokens, doc_no_tokens = index_text(title), index_text(doc_no)
    db.execute(
        "INSERT INTO documents_fts (documents_fts, rowid, title, doc_no, body) VALUES ('delete', ?, ?, ?, ?)",
        [document_id, title_tokens, doc_no_tokens, index_text(body)],
    )
    db.execute(
        "INSERT INTO documents_heading_fts (documents_heading_fts, rowid, title, doc_no)"
        " VALUES ('delete', ?, ?, ?)",
        [document_id, title_tokens, doc_no_tokens],
    )


def rebuild_index(db: sqlite_utils.Database) -> int:
    """Re-index every document from its latest version (one write transaction), and make the token
    presence summary anew from the same tokens (complete then). Returns the count."""
    with write_transaction(db):
        db.execute("INSERT INTO documents_fts (documents_fts) VALUES ('delete-all')")
        db.execute("INSERT INTO documents_heading_fts (documents_heading_fts) VALUES ('delete-all')")
        token_presence.clear(db)
        rows = db.execute(
            "SELECT d.id, d.title, d.doc_no, v.body_text FROM documents d"
            " JOIN versions v ON v.id = d.latest_version_id"
        ).fetchall()
        presence = token_presence.PresenceBatch()
        for i, (document_id, title, doc_no, body) in enumerate(rows, 1):
            fts_insert(db, document_id, title, doc_no, body, presence=presence)
            if i % token_presence.FILL_BATCH == 0:
                presence.flush(db)
        presence.flush(db)
        token_presence.mark_complete(db)
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_tokenizer', ?)", [TOKENIZER_VERSION]
        )
    return len(rows)


def rebuild_heading_index(db: sqlite_utils.Database) -> int:
    """Fill ``documents_heading_fts`` from the documents' titles and 文号 (the caller's transaction)."""
    db.execute("INSERT INTO documents_heading_fts (documents_heading_fts) VALUES ('delete-all')")
    count = 0
    cursor = db.execute("SELECT id, title, doc_no FROM documents")
    while rows := cursor.fetchmany(10_000):
        db.conn.executemany(
            _SQL_HEADING, [(doc_id, index_text(title), index_text(doc_no)) for doc_id, title, doc_no in rows]
        )
        count += len(rows)
    return count


def ensure_index_current(db: sqlite_utils.Database) -> None:
    """Rebuild the index when it was built by another ``TOKENIZER_VERSION`` (deletes need equal tokens)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'fts_tokenizer'").fetchone()
    if row is None or row[0] != TOKENIZER_VERSION:
        rebuild_index(db)


FTS_TABLES = ("documents_fts", "documents_heading_fts")
FTS_MERGE_DEFAULTS = {"automerge": 4, "crisismerge": 16, "hashsize": 1024 * 1024}  # FTS5's own defaults
BULK_FTS_SETTINGS = {"automerge": 0, "crisismerge": 1000, "hashsize": 256 * 1024 * 1024}


@contextmanager
def bulk_index_settings(db: sqlite_utils.Database) -> Iterator[None]:
    """The full-text indexes set for loading many documents, then set back to what they were.

    By default FTS5 flushes its pending tokens every 1 MiB (a segment each) and merges segments as they
    accumulate (``automerge``): in a bulk load each token was rewritten at every merge level, and the
    merges were half of the insert's cost. Meanwhile: no incremental merging (``automerge`` 0; a forced
    merge only past ``crisismerge`` segments) and a 256 MiB token buffer, so a transaction of 5,000
    documents writes one segment. ``optimize_index`` then merges the segments once. (A load killed outright,
    SIGKILL or power loss, leaves these settings in the archive: run ``INSERT INTO documents_fts
    (documents_fts, rank) VALUES ('automerge', 4)`` and the same for ``crisismerge`` 16 and ``hashsize``
    1048576, on both tables, before crawling into it again.)
    """
    previous = {
        table: {
            key: row[0] if (row := db.execute(f"SELECT v FROM {table}_config WHERE k = ?", [key]).fetchone())
            else default
            for key, default in FTS_MERGE_DEFAULTS.items()
        }
        for table in FTS_TABLES
    }  # fmt: skip
    _configure_index(db, dict.fromkeys(FTS_TABLES, BULK_FTS_SETTINGS))
    try:
        yield
    finally:
        _configure_index(db, previous)


def _configure_index(db: sqlite_utils.Database, settings: dict[str, dict[str, Any]]) -> None:
    with write_transaction(db):
        for table, values in settings.items():
            for key, value in values.items():
                db.execute(f"INSERT INTO {table} ({table}, rank) VALUES (?, ?)", [key, value])


def optimize_index(db: sqlite_utils.Database) -> None:
    """Merge each full-text index into one segment (FTS5 ``optimize``).

    Every write transaction adds a segment and FTS5 merges them lazily, so a bulk-loaded archive has
    tens of them: each query term then seeks in every segment. Merged, a probe of one document costs
    about a sixth and a scan of a term a third less (measured at 100,000 documents). ``bulk_load``
    calls it at the end; it rewrites the index once (about 12 s per 100,000 documents).
    """
    with write_transaction(db):
        db.execute("INSERT INTO documents_fts (documents_fts) VALUES ('optimize')")
        db.execute("INSERT INTO documents_heading_fts (documents_heading_fts) VALUES ('optimize')")


# --- searching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    title: str
    doc_no: str | None
    kind: str
    status: str
    published_on: str | None
    # lower is better: the relevance tier (1 title/文号, 2 body) by default, the bm25 rank with
    # sort="bm25", None by date
    score: float | None
    snippet: str
    bureau: str | None = None
    region_code: str | None = None


_HIT_COLUMNS = (
    "d.id, d.title, d.doc_no, v.body_text, d.kind, d.status, d.published_on, f.rank, d.bureau, d.region_code"
)
_SEARCH_SQL = (  # rank and cut in the index first: only the page of hits is joined to its body text
    f"SELECT {_HIT_COLUMNS}"
    " FROM (SELECT rowid, rank FROM documents_fts WHERE documents_fts MATCH ? AND rowid >= ?"
    " ORDER BY rank LIMIT ? OFFSET ?) f"
    " JOIN documents d ON d.id = f.rowid JOIN versions v ON v.id = d.latest_version_id ORDER BY f.rank"
)
_FTS_FROM = "FROM documents_fts WHERE documents_fts MATCH ?"
# With filters the index still drives (CROSS JOIN keeps documents_fts the outer loop): each match is
# checked against its documents row, and only the filtered hits are ranked and cut.
_FILTERED_FROM = (
    "FROM documents_fts CROSS JOIN documents d ON d.id = documents_fts.rowid"
    " WHERE documents_fts MATCH ? AND ({where})"
)
_FILTERED_SEARCH_SQL = (
    f"SELECT {_HIT_COLUMNS}"
    " FROM (SELECT documents_fts.rowid AS rowid, documents_fts.rank AS rank "
    + _FILTERED_FROM
    # "+ 0": ORDER BY the rank column itself lets FTS5 sort inside the index, computing bm25 for every
    # match before the join filters them; as an expression, SQLite sorts, and only filtered hits are
    # scored (same order; 3-4x faster for a narrow filter at 1M documents).
    + " ORDER BY documents_fts.rank + 0 LIMIT ? OFFSET ?) f"
    " JOIN documents d ON d.id = f.rowid JOIN versions v ON v.id = d.latest_version_id ORDER BY f.rank"
)
_PAGE_SQL = (  # the hits of a page, by id (ordered by the caller)
    "SELECT d.id, d.title, d.doc_no, v.body_text, d.kind, d.status, d.published_on, d.bureau, d.region_code"
    " FROM documents d JOIN versions v ON v.id = d.latest_version_id"
    " WHERE d.id IN (SELECT value FROM json_each(?))"
)


_DATE_ORDER = {  # sort -> ORDER BY over documents AS d (undated documents last either way)
    "newest": "d.published_on IS NULL, d.published_on DESC, d.id DESC",
    "oldest": "d.published_on IS NULL, d.published_on ASC, d.id ASC",
}
SORTS = ("rank", "bm25", *_DATE_ORDER)
# By date, the index only finds the matches and the documents' dates cut the page; bm25 is not computed
# (scoring even the page's rows makes FTS5 scan every match for its statistics: 3x the time).
_DATED_SEARCH_SQL = (
    "SELECT d.id FROM documents_fts CROSS JOIN documents d ON d.id = documents_fts.rowid"
    " WHERE documents_fts MATCH ? AND ({where}) ORDER BY {order} LIMIT ?"
)


RANK_WINDOW = 20_000
"""``sort="bm25"`` only. bm25 needs, for every phrase of the query, the number of documents it matches
in the whole archive (FTS5 evaluates the phrase over every document for that) and a score for every
match, so a common term costs time in proportion to the archive (~0.25 s at 100k documents, ~2.5 s at
1M). When more documents than this match, ``search(sort="bm25")`` ranks the most recently archived
``RANK_WINDOW`` of them (highest ids); ``exhaustive=True`` ranks them all. Filtered searches rank every
filtered hit."""

COUNT_CAP = 1_000
"""``search_count(cap=COUNT_CAP)`` stops there: the CLI and the web page then say "1,000+" (a lower
bound); ``--exhaustive`` counts every match (at most about 0.5 s for the commonest phrases at 1M documents,
their rowid ranges counted side by side on two cores: ``storage.rowid_ranges``)."""

FILTER_FIRST = 1_000
"""A filter that at most this many documents pass is applied first: its documents are looked up in the
index one by one (~30 µs each, twice for the two relevance tiers) instead of the index's matches being
checked against it as they are read (which stops at the page's end)."""

FILTER_FIRST_ALL = 5_000
"""The same for what needs every filtered match (newest first, counts): reading the matches until enough
pass a filter of 1,518 documents was 0.7-1.3 s at 1M documents, looking those up 45 ms."""

DENSE_SAMPLE = 1_000
"""Newest-first search: how many of the most recently archived matches (unfiltered: read from the index
alone) are read to tell a rare query (all its matches filtered and sorted by date) from a common one
(documents walked in date order and each looked up in the index, stopping at the page's end)."""

WALK_BUDGET = 4_000  # at most this many lookups in a date-ordered walk before every match is sorted
WALK_SPARE = 2  # a walk looks up about this many times the documents the query's share predicts, plus the page
MISS_CHECK = 100  # a walk of more lookups is first checked against the query's sample (``_misses_filter``)


def _window_floor(db: sqlite_utils.Database, from_sql: str, params: list[Any]) -> int | None:
    """The lowest id among the newest ``RANK_WINDOW`` matches, or None when fewer match."""
    row = db.execute(
        f"SELECT documents_fts.rowid {from_sql} ORDER BY documents_fts.rowid DESC LIMIT 1 OFFSET ?",
        [*params, RANK_WINDOW - 1],
    ).fetchone()
    return None if row is None else int(row[0])


def _stream(
    db: sqlite_utils.Database,
    table: str,
    match: str,
    where: tuple[str, list[Any]] | None,
    limit: int,
    ids: Sequence[int] | None = None,
    below: int | None = None,
    exclude: Sequence[int] = (),
    above: int | None = None,
) -> list[int]:
    """Ids of ``table``'s matches (passing ``where`` over ``documents AS d``; among ``ids``; below
    ``below``, above ``above``; not in ``exclude``), newest archived first, at most ``limit``. FTS5 reads its doclists in
    rowid order and stops at the limit; with ``ids``, only those documents are looked up (one index probe
    each)."""
    params: list[Any] = [match]
    sql = f"SELECT {table}.rowid FROM {table}"
    if where is not None:
        sql += f" CROSS JOIN documents d ON d.id = {table}.rowid"
    sql += f" WHERE {table} MATCH ?"
    if ids is not None:
        sql += f" AND {table}.rowid IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(ids)))
    if below is not None:
        sql += f" AND {table}.rowid < ?"
        params.append(below)
    if above is not None:
        sql += f" AND {table}.rowid > ?"
        params.append(above)
    if exclude:
        sql += f" AND {table}.rowid NOT IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(exclude)))
    if where is not None:
        sql += f" AND ({where[0]})"
        params.extend(where[1])
    sql += f" ORDER BY {table}.rowid DESC LIMIT ?"
    return [row[0] for row in db.execute(sql, [*params, limit])]


def _filter_first(
    db: sqlite_utils.Database, where: tuple[str, list[Any]], most: int | None = None
) -> list[int] | None:
    """The ids of the documents the filter passes when there are at most ``most`` (``FILTER_FIRST``) of
    them (else None). Unordered: the query stops at the first ``most + 1`` rows its index gives."""
    most = FILTER_FIRST if most is None else most
    rows = db.execute(f"SELECT d.id FROM documents d WHERE {where[0]} LIMIT ?", [*where[1], most + 1]).fetchall()
    return None if len(rows) > most else [row[0] for row in rows]


def _within(values: Sequence[str]) -> str:
    return f"IN ({', '.join('?' * len(values))})"


def _may_be_narrow(db: sqlite_utils.Database, filters: DocumentFilter, most: int) -> bool:
    """False when no facet of ``filters`` can tell that at most ``most`` documents pass it: each facet's
    own count (from the kept tables and indexes, read up to ``most + 1`` rows) is an upper bound of the
    filter's. Asking the filter itself costs a walk of ``most / share`` documents (25-35 ms for a portal or
    an adoption term passing a fifth of them), which a wide filter's date-ordered walk does not need."""
    bounds: list[tuple[str, Sequence[Any]]] = []
    if filters.deputies:
        bounds.append((f"SELECT 1 FROM document_deputies WHERE name {_within(filters.deputies)}", filters.deputies))
    if filters.adoption:
        bounds.append((f"SELECT 1 FROM document_adoption WHERE term {_within(filters.adoption)}", filters.adoption))
    if filters.portals:
        bounds.append((f"SELECT 1 FROM postings WHERE portal_id {_within(filters.portals)}", filters.portals))
    for field, column in _WALK_INDEXES:
        values = getattr(filters, field)
        if values:
            bounds.append((f"SELECT 1 FROM documents WHERE {column} {_within(values)}", values))
    if filters.since or filters.until:
        dates = [filters.since or "", filters.until or "9999"]
        bounds.append(("SELECT 1 FROM documents WHERE published_on >= ? AND published_on <= ?", dates))
    if not bounds:
        return True  # only facets without a count of their own (region, citations): ask the filter
    for sql, params in bounds:
        (count,) = db.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT ?)", [*params, most + 1]).fetchone()
        if count <= most:
            return True
    return False


def _ranked_ids(
    db: sqlite_utils.Database, query: Query, filters: DocumentFilter | None, need: int
) -> list[tuple[int, float]]:
    """The first ``need`` matches in relevance order, as (id, tier).

    Tier 1: the title and 文号 alone satisfy the query (read from the small ``documents_heading_fts``;
    with a NOT, each candidate is also checked against the whole document). Tier 2: every other match
    (``documents_fts``, the query, the tier's ids left out: when tier 2 is read, tier 1 was read whole). Within a tier, the most recently archived first. Every
    match is ordered: no window; each tier's read stops as soon as the page is full.
    """
    assert query.match is not None
    where = None if filters is None or filters.empty else filters.where("d")
    among = None if where is None else _filter_first(db, where)
    if among is not None:
        where = None  # the ids are the filter
        if not among:
            return []
    if query.negated:  # the heading may lack a term the body has (-term): check each candidate
        first: list[int] = []
        below = None
        while len(first) < need:
            chunk = _stream(db, "documents_heading_fts", query.match, where, 4 * need + 20, among, below)
            first += _stream(db, "documents_fts", query.match, None, len(chunk), chunk) if chunk else []
            if len(chunk) < 4 * need + 20:
                break
            below = chunk[-1]
        first = first[:need]
    else:
        first = _stream(db, "documents_heading_fts", query.match, where, need, among)
    hits = [(i, 1.0) for i in first]
    if len(hits) < need:  # tier 1 was read to its end: tier 2 is every other match (no NOT for FTS5 to
        # evaluate on each match: a third of a phrase's cost)
        hits += [(i, 2.0) for i in _rest(db, query, filters, where, need - len(hits), among, first)]
    return hits


SCAN_WINDOW = 50_000
"""Tier 2 of a ranked search with a wide filter: the matches among the newest ``SCAN_WINDOW`` ids are
checked against the filter's row; below them (the page not full yet: the query is rare among the
filtered documents), against the filter's ids read from its facet index (``FILTER_SET``), when it has
one: a membership test costs a fraction of a row lookup (a phrase common in the archive and absent from
a region's policies: 175 -> 95 ms at 200,000 documents)."""

FILTER_SET = 100_000  # at most this many ids of a filter are read for the membership test


def _kept_bound(db: sqlite_utils.Database, filters: DocumentFilter, column: str) -> int | None:
    """How many documents have one of the filter's values of ``column`` (and, when its regions are all
    provinces, are in one of them), from the documents table's kept facet counts (migration m008): an
    upper bound of the filter's documents. None while the counts are off (a bulk load)."""
    from storage.migrations import FACET_COUNTS_STALE, PROVINCES

    if db.execute("SELECT 1 FROM meta WHERE key = ?", [FACET_COUNTS_STALE]).fetchone():
        return None
    field = next(f for f, c in _WALK_INDEXES if c == column)
    values = list(getattr(filters, field))
    provinces = [PROVINCES.get(code[:2], "") if code.endswith("0000") else "" for code in filters.regions]
    if provinces and all(provinces):  # the pairs (value, province)
        sql = (
            f"SELECT COALESCE(SUM(count), 0) FROM facet_counts WHERE facet = ? AND value {_within(values)}"
            f" AND counted = 'province' AND counted_value {_within(provinces)}"
        )
        (count,) = db.execute(sql, [column, *values, *provinces]).fetchone()
    else:
        sql = f"SELECT COALESCE(SUM(count), 0) FROM facet_counts WHERE facet = '' AND value = '' AND counted = ? AND counted_value {_within(values)}"
        (count,) = db.execute(sql, [column, *values]).fetchone()
    return int(count)


def _has_indexed_ids(filters: DocumentFilter) -> bool:
    """The filter's documents can be read from a facet index (``_indexed_ids``)."""
    others = filters.portals or filters.deputies or filters.adoption or filters.cites
    return _walk_index(filters) != "documents_published" and not others


def _indexed_ids(db: sqlite_utils.Database, filters: DocumentFilter, most: int) -> list[int] | None:
    """The ids the filter passes, read from the facet index of its one kind, class, validity or status
    value (migration m009: the region and the other facets are in it), when there are at most ``most``;
    None otherwise, and for a filter that needs other tables (portal, deputy, adoption, citations)."""
    if not _has_indexed_ids(filters):
        return None
    index = _walk_index(filters)
    bound = _kept_bound(db, filters, "kind" if index == "documents_by_province_kind" else index.removeprefix("documents_by_"))
    if bound is not None and bound > most:  # known to be too many: not read
        return None
    where, params = _walk_where(filters)
    rows = db.execute(f"SELECT d.id FROM documents d INDEXED BY {index} WHERE {where} LIMIT ?", [*params, most + 1])
    ids = [row[0] for row in rows]
    return None if len(ids) > most else ids


_MEMBER = "substr(?, rowid + 1, 1) = x'01'"  # the rowid is among the ids of the blob bound (``_id_bits``)


def _id_bits(ids: Sequence[int]) -> bytes:
    """A membership test the index's read can afford: byte ``i`` of the blob is 1 when ``i`` is one of
    ``ids`` (``_MEMBER``: one ``substr`` of a bound blob per match, about a third of the cost of
    ``rowid IN`` a set of ids, a b-tree probe each: 90,000 matches of a token tested against 5,200 ids in
    11 instead of 32 ms). One byte per id up to the largest, built with numpy (1 MB at 1M documents)."""
    bits = np.zeros(max(ids, default=0) + 1, dtype=np.uint8)
    bits[np.fromiter(ids, dtype=np.int64, count=len(ids))] = 1
    return bits.tobytes()


RARE_SAMPLE = 200  # newest matches read per token of a phrase to tell its rarest token
RARE_PROBES = 500  # at most this many documents with the rarest token are looked up for the phrase (~25 ms)


def _required_tokens(node: Node | None) -> list[str]:
    """Index tokens every match of ``node`` contains: each token of a term (a prefix phrase's last one
    left out), of every term of an AND; none of an OR (no one term is required)."""
    if isinstance(node, Term):
        phrase = node.phrase()
        tokens = phrase[1 : phrase.rindex('"')].split(" ")
        return tokens if phrase.endswith('"') else tokens[:-1]
    if isinstance(node, And):
        return [token for item in node.positive for token in _required_tokens(item)]
    return []


FILTER_FIRST_TOKEN = 100
"""A narrow filter's documents (``FILTER_FIRST_ALL``) are looked up for a query of several tokens one
by one, each lookup evaluating the whole query (100-180 µs for a phrase of nine tokens at 200,000
documents). Beyond the first ``4 * need + 16`` of them (newest first), or beyond this many for a count,
they are first kept to those with one token the query requires (``_with_token``: a lookup of one token
costs about 6 µs), so a query rare among them costs a few lookups of the whole query, not one per
document (a deputy's 1,588 replies and 集中采购 药品: 54 -> 20 ms)."""
TOKEN_LOOKUP = 75  # one document looked up for a token costs about this many entries of its doclist read


def _with_token(db: sqlite_utils.Database, query: Query, ids: list[int]) -> list[int] | None:
    """The documents of ``ids`` (in their order) that contain the token of the query's required tokens
    (``_required_tokens``) that fewest documents have (the span of its newest ``RARE_SAMPLE`` matches
    tells); None when the query requires no token, or only the one it is. Each document looked up for the
    token, or the token's documents read whole and kept to ``ids`` (a membership test) when they number
    fewer than ``TOKEN_LOOKUP`` per id."""
    tokens = list(dict.fromkeys(_required_tokens(query.root)))
    if not tokens or (len(tokens) == 1 and isinstance(query.root, Term) and query.match == f'"{tokens[0]}"'):
        return None
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    spans = []
    for token in tokens:
        newest = _stream(db, "documents_fts", f'"{token}"', None, RARE_SAMPLE)
        spans.append((top + 1 if len(newest) < RARE_SAMPLE else top - newest[-1] + 1, len(newest), token))
        if len(newest) < RARE_SAMPLE:
            break
    span, sampled, token = max(spans)
    documents = sampled if sampled < RARE_SAMPLE else RARE_SAMPLE * top / span
    among: str | bytes
    if documents < TOKEN_LOOKUP * len(ids):
        sql, among = f"SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND {_MEMBER}", _id_bits(ids)
    else:
        sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))"
        among = json.dumps(ids)
    having = {row[0] for row in db.execute(sql, [f'"{token}"', among])}
    return [i for i in ids if i in having]


RARE_LOOKUP = 600  # one document looked up for a phrase costs about this many entries of a token's doclist
# read with the membership test (~50 µs and ~0.08 µs)


def _rare_first(db: sqlite_utils.Database, query: Query, ids: list[int]) -> list[int] | None:
    """Every match of a phrase (a query of one term of two tokens or more) among ``ids``, found from the
    token that is cheapest to read among them: each token's newest ``RARE_SAMPLE`` matches tell how many
    documents have it (the span they cover) and what share of those are among ``ids``; the token that
    costs least to read whole (its documents, kept to ``ids`` by a membership test) and to look its
    survivors up for the phrase (``RARE_LOOKUP``) is read, and its survivors looked up. A phrase
    evaluated over the whole index costs as much as its commonest tokens (every document of a reply's
    salutation, 感谢您对医疗保障工作: 0.1 s at 200,000 documents), one of its tokens a fraction; and the
    token absent from the filter's documents (谢您 from a province's policies) leaves nothing to look up,
    where the archive's rarest token (对医, also in policies) left thousands.
    None when the query is not such a phrase or more than ``RARE_PROBES`` of the documents have that token
    (then a scan of the phrase's matches costs less)."""
    if not isinstance(query.root, Term):
        return None
    phrase = query.root.phrase()
    if not phrase.endswith('"'):  # a prefix phrase ("3 号" *)
        return None
    tokens = phrase[1:-1].split(" ")
    if len(tokens) < 2:
        return None
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    among = set(ids)
    costs = []
    survivors: list[int] | None = None
    for token in dict.fromkeys(tokens):
        newest = _stream(db, "documents_fts", f'"{token}"', None, RARE_SAMPLE)
        inside = [i for i in newest if i in among]
        if len(newest) < RARE_SAMPLE:  # every document with the token is in hand
            survivors = inside
            break
        documents = RARE_SAMPLE * top / (top - newest[-1] + 1)  # estimated from the span
        costs.append((documents * (1 + RARE_LOOKUP * (len(inside) + 1) / (RARE_SAMPLE + 1)), token))
    if survivors is None:
        survivors = [
            row[0]
            for row in db.execute(
                f"SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND {_MEMBER} LIMIT ?",
                [f'"{min(costs)[1]}"', _id_bits(ids), RARE_PROBES + 1],
            )
        ]
    if len(survivors) > RARE_PROBES:
        return None
    return _stream(db, "documents_fts", query.match or "", None, len(survivors), survivors) if survivors else []


def _rest(
    db: sqlite_utils.Database,
    query: Query,
    filters: DocumentFilter | None,
    where: tuple[str, list[Any]] | None,
    need: int,
    among: list[int] | None,
    first: list[int],
) -> list[int]:
    """Tier 2 of ``_ranked_ids``: up to ``need`` matches not in ``first`` (see ``SCAN_WINDOW``)."""
    assert query.match is not None
    if where is None or filters is None:  # no filter, or a narrow one (``among``)
        return _stream(db, "documents_fts", query.match, where, need, among, exclude=first)
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    floor = top - SCAN_WINDOW
    rest = _stream(db, "documents_fts", query.match, where, need, None, exclude=first, above=floor)
    if len(rest) == need or floor <= 0:
        return rest
    ids = _indexed_ids(db, filters, FILTER_SET)
    if ids is None:
        return rest + _stream(db, "documents_fts", query.match, where, need - len(rest), None, floor + 1, first)
    found = _rare_first(db, query, ids)
    if found is not None:  # every filtered match: below the window, not tier 1, newest archived first
        skip = set(first)
        return rest + sorted((i for i in found if i <= floor and i not in skip), reverse=True)[: need - len(rest)]
    cursor = db.execute(
        f"SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND rowid <= ? AND {_MEMBER}"
        " AND rowid NOT IN (SELECT value FROM json_each(?)) ORDER BY rowid DESC LIMIT ?",
        [query.match, floor, _id_bits(ids), json.dumps(first), need - len(rest)],
    )
    return rest + [row[0] for row in cursor]


_WALK = {  # sort -> the dated documents in that order (the index's order)
    "newest": "d.published_on IS NOT NULL ORDER BY d.published_on DESC, d.id DESC",
    "oldest": "d.published_on IS NOT NULL ORDER BY d.published_on ASC, d.id ASC",
}


# A filter of exactly one of these values: its facet index (migration m009: the facet, published_on, id,
# the other facets, region_code) gives its documents in date order, the region, kind and class checked in
# the index; otherwise the walk follows the published_on index.
_WALK_INDEXES = (("kinds", "kind"), ("classes", "reply_class"), ("validity", "validity"), ("statuses", "status"))


def _walk_index(filters: DocumentFilter | None) -> str:
    if _province_of(filters) is not None:
        return "documents_by_province_kind"
    for field, column in _WALK_INDEXES:
        if filters is not None and len(getattr(filters, field)) == 1:
            return f"documents_by_{column}"
    return "documents_published"


def _province_of(filters: DocumentFilter | None) -> str | None:
    """The province's name when the filter is one province (a region code ``xx0000``) and one kind: its
    documents come from m010's ``documents_by_province_kind`` (a Sichuan's policies: 26,000 entries of
    the index at 1M documents, instead of every policy's with the region checked on each)."""
    from storage.migrations import PROVINCES

    if filters is None or len(filters.kinds) != 1 or len(filters.regions) != 1:
        return None
    code = filters.regions[0]
    return PROVINCES.get(code[:2]) if len(code) == 6 and code.endswith("0000") else None


def _walk_where(filters: DocumentFilter | None) -> tuple[str, list[Any]]:
    """The filter's condition for a read through ``_walk_index``: with the index of a province and a
    kind, the province named too (the region's GLOB implies it; the index is seeked by it)."""
    where, params = (filters or DocumentFilter()).where("d")
    province = _province_of(filters)
    return (where, params) if province is None else (f"d.province = ? AND {where}", [province, *params])


def _in_date_order(db: sqlite_utils.Database, ids: Sequence[int], sort: str, limit: int | None = None) -> list[int]:
    sql = f"SELECT d.id FROM documents d WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY {_DATE_ORDER[sort]}"
    params: list[Any] = [json.dumps(list(ids))]
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    return [row[0] for row in db.execute(sql, params)]


def _dated_ids(
    db: sqlite_utils.Database, query: Query, filters: DocumentFilter | None, sort: str, need: int
) -> list[int]:
    """The first ``need`` matches by publication date (undated last, then by id).

    - A narrow filter (``FILTER_FIRST_ALL``; asked only when one of its facets is that narrow,
      ``_may_be_narrow``): its documents are put in date order and looked up in the index in that order, a
      growing chunk at a time, until ``need`` match.
    - Otherwise the query's most recently archived ``DENSE_SAMPLE`` matches are read from the index alone
      (unfiltered: cheap). If that is all of them, they are filtered and sorted. Else they tell what share
      of the documents match, and the documents passing the filter are walked in date order (through the
      facet index of a one-value kind/class/validity/status filter, else the ``published_on`` index), each
      looked up in the full-text index (``EXISTS``), until ``need`` match or about twice the lookups the
      share predicts (at most ``WALK_BUDGET``; no walk when the share predicts more) are spent.
    - Else (a query common in the archive and rare among the filtered documents) every filtered match is
      read and sorted by date (the filter checked on the ids read from its facet index, ``_indexed_ids``,
      when it has one, else on each match's row).
    """
    assert query.match is not None
    where, params = (filters or DocumentFilter()).where("d")
    filtered = None if filters is None or filters.empty else (where, params)
    among = None
    if filters is not None and filtered is not None and _may_be_narrow(db, filters, FILTER_FIRST_ALL):
        among = _filter_first(db, filtered, FILTER_FIRST_ALL)
    if among is not None:  # a narrow filter: its documents looked up newest (oldest) first
        ordered = _in_date_order(db, among, sort) if among else []
        found: list[int] = []
        start, size = 0, 4 * need + 16
        while start < len(ordered) and len(found) < need:
            chunk = ordered[start : start + size]
            hits = set(_stream(db, "documents_fts", query.match, None, len(chunk), chunk))
            found += [i for i in chunk if i in hits]
            start, size = start + size, size * 4
            if start == size // 4 and len(found) < need and start < len(ordered):  # after the first chunk
                kept = _with_token(db, query, ordered[start:])  # the rest: only those with a required token
                if kept is not None:  # most of them match: chunks for what the page still needs
                    ordered, size = ordered[:start] + kept, 2 * (need - len(found)) + 8
        return found[:need]
    sample = _stream(db, "documents_fts", query.match, None, DENSE_SAMPLE)
    if len(sample) < DENSE_SAMPLE:  # every match is in hand: filter and sort them
        cursor = db.execute(
            f"SELECT d.id FROM documents d WHERE d.id IN (SELECT value FROM json_each(?)) AND ({where})"
            f" ORDER BY {_DATE_ORDER[sort]} LIMIT ?",
            [json.dumps(sample), *params, need],
        )
        return [row[0] for row in cursor]
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    share = DENSE_SAMPLE / max(1, top - sample[-1] + 1)  # of the documents, how many match
    rows: list[Any] = []
    budget = min(WALK_BUDGET, int(WALK_SPARE * need / share) + need)
    # else a walk would not fill the page: every match read at once
    walk = need / share <= WALK_BUDGET
    if walk and budget > MISS_CHECK and _misses_filter(db, sample, filters, filtered):
        walk = False
    if walk:
        walk_where, walk_params = _walk_where(filters)
        sql = (  # the index named drives (the planner would rather sort another index's rows)
            "SELECT c.id, c.published_on FROM (SELECT d.id AS id, d.published_on AS published_on"
            f" FROM documents d INDEXED BY {_walk_index(filters)}"
            f" WHERE ({walk_where}) AND {_WALK[sort]} LIMIT ? OFFSET ?) c"
            " WHERE EXISTS (SELECT 1 FROM documents_fts WHERE documents_fts MATCH ?"
            " AND documents_fts.rowid = c.id) LIMIT ?"
        )
        rows = db.execute(sql, [*walk_params, budget, 0, query.match, need]).fetchall()
        if 0 < len(rows) < need and budget < WALK_BUDGET:  # short of the page: the share the walk met
            # (not the archive's) tells how much further to walk, once (19 of 20 in 150 lookups, then
            # every match read: 320 ms at 1M documents)
            more = min(WALK_BUDGET - budget, int(2 * (need - len(rows)) * budget / len(rows)) + need)
            rows += db.execute(sql, [*walk_params, more, budget, query.match, need - len(rows)]).fetchall()
    if len(rows) == need:  # the walk's order, made explicit (no ORDER BY: it would read on)
        rows.sort(key=lambda row: (row[1], row[0]), reverse=sort == "newest")
        return [row[0] for row in rows]
    ids = None if filters is None or filtered is None else _indexed_ids(db, filters, FILTER_SET)
    every = None if ids is None else _rare_first(db, query, ids)
    if every is not None:  # every filtered match, from the phrase's rarest token
        return _in_date_order(db, every, sort, need)
    if ids is not None:  # the filter's ids from its facet index: a membership test, not a row per match
        cursor = db.execute(
            "SELECT d.id FROM documents d WHERE d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts"
            f" MATCH ? AND {_MEMBER}) ORDER BY {_DATE_ORDER[sort]} LIMIT ?",
            [query.match, _id_bits(ids), need],
        )
        return [row[0] for row in cursor]
    sql = _DATED_SEARCH_SQL.format(where=where, order=_DATE_ORDER[sort])
    return [row[0] for row in db.execute(sql, [query.match, *params, need])]


def _misses_filter(
    db: sqlite_utils.Database,
    sample: list[int],
    filters: DocumentFilter | None,
    filtered: tuple[str, list[Any]] | None,
) -> bool:
    """True when none of the query's newest matches (``sample``) passes a filter whose documents can be
    read from a facet index (``_indexed_ids``): the query is then rare among the filter's documents and a
    date-ordered walk of them would spend its budget finding nothing (a reply's salutation among a
    province's policies: 290 phrase lookups at 200,000 documents, 25 ms), so every filtered match is read
    at once (``_rare_first``, the membership test). One row lookup per sampled match (0.5 ms)."""
    if filters is None or filtered is None or not _has_indexed_ids(filters):
        return False
    (passing,) = db.execute(  # CROSS JOIN: each sampled id looked up (not the filter's index walked)
        f"SELECT COUNT(*) FROM json_each(?) j CROSS JOIN documents d ON d.id = j.value WHERE ({filtered[0]})",
        [json.dumps(sample), *filtered[1]],
    ).fetchone()
    return not passing


TOKEN_PRESENCE = True  # use the token presence summary to prove a filtered query empty (off: to compare)


def _proved_absent(db: sqlite_utils.Database, query: Query, filters: DocumentFilter | None) -> bool:
    """True when the token presence summary (``storage.token_presence``) proves that no document the
    filter passes matches the query: the filter restricts region(s) and/or kind(s) (its other facets only
    narrow further), and a token the query requires (``_required_tokens`` of each term; of an AND, any of
    its items; of an OR, each of its branches) is in no document ever indexed in the partitions the filter
    reaches (its provinces -- a city's province, every province without a region -- times its kinds,
    every kind without one). One read of the chunks of the query's tokens (a phrase's among a province's
    policies: well under a millisecond); the summary is used only when it is complete."""
    if not TOKEN_PRESENCE or filters is None or not (filters.regions or filters.kinds) or query.root is None:
        return False
    terms = list(dict.fromkeys(_positive_term_nodes(query.root)))
    token_sets = [list(dict.fromkeys(_required_tokens(term))) for term in terms]
    if not any(token_sets) or not token_presence.complete(db):
        return False
    provinces = sorted({code[:2] for code in filters.regions}) or None
    absent = dict(zip(terms, token_presence.absent(db, token_sets, provinces, filters.kinds or None), strict=True))

    def proved(node: Node) -> bool:
        if isinstance(node, Term):
            return absent[node]
        if isinstance(node, Or):
            return all(map(proved, node.items))
        return any(map(proved, node.positive))

    return proved(query.root)


def _positive_term_nodes(node: Node) -> Iterator[Term]:
    if isinstance(node, Term):
        yield node
    else:
        for item in node.items if isinstance(node, Or) else node.positive:
            yield from _positive_term_nodes(item)


def search(
    db: sqlite_utils.Database,
    user_query: str | Query,
    *,
    filters: DocumentFilter | None = None,
    limit: int = 20,
    offset: int = 0,
    mark: tuple[str, str] = ("<b>", "</b>"),
    exhaustive: bool = False,
    sort: str = "rank",
) -> list[SearchHit]:
    """Documents matching the query, most relevant first, with a highlighted snippet.

    ``sort="rank"`` (the default): documents whose title and 文号 alone satisfy the query come first
    (``score`` 1), then the others (``score`` 2); within each, the most recently archived first. Every
    match is ordered, and a page costs about the same whatever the archive's size (see docs/search.md).

    ``sort="bm25"``: bm25 with the title weighing 10, the 文号 5 and the body 1 (``score`` the bm25 rank,
    lower is better). Without filters, when more than ``RANK_WINDOW`` documents match, only the most
    recently archived ``RANK_WINDOW`` are ranked unless ``exhaustive``; with filters every filtered hit
    is ranked. Slow on a large archive for common terms.

    ``sort="newest"`` / ``"oldest"`` orders them by publication date instead (undated ones last, then
    by id), every match; ``score`` is None.

    ``filters`` (``storage.query.DocumentFilter``) are applied before ranking and paging, so ``limit``
    and ``offset`` count filtered hits.
    """
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: {', '.join(SORTS)}")
    if query.match is None or _proved_absent(db, query, filters):
        return []
    if sort == "bm25":
        return _bm25_search(db, query, filters, limit, offset, mark, exhaustive)
    need = offset + limit
    order: list[tuple[int, float | None]]
    if sort == "rank":
        order = list(_ranked_ids(db, query, filters, need)[offset:])
    else:
        order = [(i, None) for i in _dated_ids(db, query, filters, sort, need)[offset:]]
    rows = {row[0]: row for row in db.execute(_PAGE_SQL, [json.dumps([i for i, _ in order])])}
    hits = []
    for doc_id, score in order:
        _, title, doc_no, body, kind, status, published_on, bureau, region_code = rows[doc_id]
        hits.append(
            SearchHit(doc_id, title, doc_no, kind, status, published_on, score,
                      snippet(body, query.terms, mark=mark), bureau, region_code)
        )  # fmt: skip
    return hits


def _bm25_search(
    db: sqlite_utils.Database,
    query: Query,
    filters: DocumentFilter | None,
    limit: int,
    offset: int,
    mark: tuple[str, str],
    exhaustive: bool,
) -> list[SearchHit]:
    if filters is None or filters.empty:
        floor = None if exhaustive else _window_floor(db, _FTS_FROM, [query.match])
        rows = db.execute(_SEARCH_SQL, [query.match, floor or 0, limit, offset])
    else:  # every filtered hit is ranked: the scan that filters them costs more than their bm25
        where, params = filters.where("d")
        rows = db.execute(_FILTERED_SEARCH_SQL.format(where=where), [query.match, *params, limit, offset])
    return [
        SearchHit(
            doc_id,
            title,
            doc_no,
            kind,
            status,
            published_on,
            score,
            snippet(body, query.terms, mark=mark),
            bureau,
            region_code,
        )
        for doc_id, title, doc_no, body, kind, status, published_on, score, bureau, region_code in rows
    ]


def search_count(
    db: sqlite_utils.Database,
    user_query: str | Query,
    filters: DocumentFilter | None = None,
    *,
    cap: int | None = None,
) -> int:
    """How many documents match the query (and ``filters``): the total behind ``search``'s pages.

    With ``cap``, counting stops there (a result equal to ``cap`` means "at least ``cap``"): counting
    every match of a common phrase is itself ~0.5-1 s at 1M documents. Without it, and without filters, a
    large archive's matches are counted by rowid ranges side by side (``storage.rowid_ranges``).
    """
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if query.match is None or _proved_absent(db, query, filters):
        return 0
    params: list[Any]
    if filters is None or filters.empty:
        sql, params = "SELECT documents_fts.rowid " + _FTS_FROM, []
        if cap is None:  # every match: on a large archive, rowid ranges counted side by side
            return sum(_over_ranges(db, "SELECT COUNT(*)", query.match))
    else:
        where, params = filters.where("d")
        narrow = _may_be_narrow(db, filters, FILTER_FIRST_ALL)
        among = _filter_first(db, (where, params), FILTER_FIRST_ALL) if narrow else None
        if among is not None:
            kept = _with_token(db, query, among) if len(among) > FILTER_FIRST_TOKEN else None
            among = among if kept is None else kept
            sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))"
            params = [json.dumps(among)]
        else:
            sql = "SELECT documents_fts.rowid " + _FILTERED_FROM.format(where=where)
            (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
            floor = top - SCAN_WINDOW
            if floor > 0:  # the newest ids with the filter's rows; below them, if the cap is not reached yet,
                # against the filter's ids from its facet index (a membership test) when it has one
                newest = _capped_count(db, sql + " AND documents_fts.rowid > ?", [query.match, *params, floor], cap)
                if cap is not None and newest >= cap:
                    return newest
                ids = _indexed_ids(db, filters, FILTER_SET)
                every = None if ids is None else _rare_first(db, query, ids)
                if every is not None:  # every filtered match of a phrase, from its rarest token
                    below = sum(1 for i in every if i <= floor)
                    return newest + (below if cap is None else min(below, cap - newest))
                if ids is not None:
                    sql = f"SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND rowid <= ? AND {_MEMBER}"
                    params = [floor, _id_bits(ids)]
                else:
                    sql, params = sql + " AND documents_fts.rowid <= ?", [*params, floor]
                rest = None if cap is None else cap - newest
                return newest + _capped_count(db, sql, [query.match, *params], rest)
    return _capped_count(db, sql, [query.match, *params], cap)


def _capped_count(db: sqlite_utils.Database, sql: str, params: list[Any], cap: int | None) -> int:
    """How many rows ``sql`` gives, at most ``cap``."""
    if cap is not None:
        sql, params = sql + " LIMIT ?", [*params, cap]
    (count,) = db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()
    return int(count)


def search_ids(db: sqlite_utils.Database, user_query: str | Query) -> set[int]:
    """Ids of every matching document (no ranking, no snippets)."""
    return set(match_ids(db, user_query).tolist())


_NO_IDS = np.zeros(0, dtype=np.int64)


def _over_ranges(db: sqlite_utils.Database, select: str, match: str) -> list[Any]:
    """``select`` (an aggregate of the matches of ``match``: ``SELECT COUNT(*)``, ``SELECT
    group_concat(…)``): one value per rowid range, read side by side on a large archive
    (``storage.rowid_ranges``), else one for every id up to the highest; then one for the ids above it
    (documents written meanwhile)."""
    sql = f"{select} {_FTS_FROM}"
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    values = each_range(db, sql, [match], top) or [
        db.execute(sql + " AND documents_fts.rowid <= ?", [match, top]).fetchone()[0]
    ]
    values.append(db.execute(sql + " AND documents_fts.rowid > ?", [match, top]).fetchone()[0])
    return values


def match_ids(db: sqlite_utils.Database, user_query: str | Query) -> np.ndarray:
    """Ids of every matching document, ascending, as a numpy int64 array (no ranking, no snippets)."""
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if query.match is None:
        return _NO_IDS
    # one string of ids per statement (parsed by numpy) instead of a Python object per match: 0.2 s
    # instead of 0.35 s for 654,013 matches; and on a large archive, rowid ranges read side by side
    pieces = _over_ranges(db, "SELECT group_concat(documents_fts.rowid)", query.match)
    ids = np.concatenate([np.fromstring(p, dtype=np.int64, sep=",") if p else _NO_IDS for p in pieces])
    return ids if bool(np.all(ids[1:] > ids[:-1])) else np.unique(ids)


_fold_char = functools.lru_cache(maxsize=65536)(fold_search)


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded char by char, and for each folded char the index of its original char."""
    folded = fold_search(text)
    if len(folded) == len(text):  # the usual case (width folding, lower-case): positions line up
        return folded, range(len(text))  # type: ignore[return-value]
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        folded = _fold_char(char)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def snippet(
    text: str, terms: Sequence[str], *, width: int = 80, mark: tuple[str, str] = ("<b>", "</b>")
) -> str:
    """About ``width`` chars of ``text`` around the first occurrence of a term, occurrences marked."""
    folded, index = _fold_with_map(text)
    spans = sorted(
        (index[m.start()], index[m.end() - 1] + 1)
        for term in terms
        if term
        for m in re.finditer(re.escape(term), folded)
    )
    if not spans:
        return text[:width].replace("\n", " ") + ("…" if len(text) > width else "")
    start = max(0, spans[0][0] - width // 4)
    end = min(len(text), start + width)
    pieces, cursor = [], start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        pieces += [text[cursor:s], mark[0], text[s:e], mark[1]]
        cursor = e
    pieces.append(text[cursor:end])
    body = "".join(pieces).replace("\n", " ")
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
