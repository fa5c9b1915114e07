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
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from core.identity import fold_width
from storage.db import write_transaction
from storage.query import DocumentFilter

TOKENIZER_VERSION = "cjk-bigram-1"
FTS_CREATE_SQL = (
    "CREATE VIRTUAL TABLE documents_fts USING fts5(title, doc_no, body, content='', tokenize='ascii')"
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
    """The token text stored in ``documents_fts`` for one field (about 1 µs per char)."""
    parts: list[str] = []
    append = parts.append
    separator = ""
    for cjk, word, sep in _PIECES.findall(fold_search(text or "")):
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


@dataclass(frozen=True)
class Query:
    """A parsed query; ``match`` is its FTS5 expression (None for an empty query)."""

    source: str
    root: Node | None
    match: str | None

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


def fts_insert(
    db: sqlite_utils.Database, document_id: int, title: str, doc_no: str | None, body: str
) -> None:
    db.execute(
        "INSERT INTO documents_fts (rowid, title, doc_no, body) VALUES (?, ?, ?, ?)",
        [document_id, index_text(title), index_text(doc_no), index_text(body)],
    )


def fts_delete(
    db: sqlite_utils.Database, document_id: int, title: str, doc_no: str | None, body: str
) -> None:
    """Remove a row from the contentless index; the values must be the ones it was indexed with."""
    db.execute(
        "INSERT INTO documents_fts (documents_fts, rowid, title, doc_no, body) VALUES ('delete', ?, ?, ?, ?)",
        [document_id, index_text(title), index_text(doc_no), index_text(body)],
    )


def rebuild_index(db: sqlite_utils.Database) -> int:
    """Re-index every document from its latest version (one write transaction). Returns the count."""
    with write_transaction(db):
        db.execute("INSERT INTO documents_fts (documents_fts) VALUES ('delete-all')")
        rows = db.execute(
            "SELECT d.id, d.title, d.doc_no, v.body_text FROM documents d"
            " JOIN versions v ON v.id = d.latest_version_id"
        ).fetchall()
        for row in rows:
            fts_insert(db, *row)
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_tokenizer', ?)", [TOKENIZER_VERSION]
        )
    return len(rows)


def ensure_index_current(db: sqlite_utils.Database) -> None:
    """Rebuild the index when it was built by another ``TOKENIZER_VERSION`` (deletes need equal tokens)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'fts_tokenizer'").fetchone()
    if row is None or row[0] != TOKENIZER_VERSION:
        rebuild_index(db)


# --- searching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    title: str
    doc_no: str | None
    kind: str
    status: str
    published_on: str | None
    score: float | None  # bm25 rank: lower is better (None when sorted by date)
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


_DATE_ORDER = {  # sort -> ORDER BY over documents AS d (undated documents last either way)
    "newest": "d.published_on IS NULL, d.published_on DESC, d.id DESC",
    "oldest": "d.published_on IS NULL, d.published_on ASC, d.id ASC",
}
SORTS = ("rank", *_DATE_ORDER)
# By date, the index only finds the matches and the documents' dates cut the page; bm25 is not computed
# (scoring even the page's rows makes FTS5 scan every match for its statistics: 3x the time).
_DATED_SEARCH_SQL = (
    f"SELECT {_HIT_COLUMNS.replace('f.rank', 'NULL')}"
    " FROM (SELECT d.id AS id FROM documents_fts CROSS JOIN documents d ON d.id = documents_fts.rowid"
    " WHERE documents_fts MATCH ? AND ({where}) ORDER BY {order} LIMIT ? OFFSET ?) f"
    " JOIN documents d ON d.id = f.id JOIN versions v ON v.id = d.latest_version_id ORDER BY {order}"
)


RANK_WINDOW = 20_000
"""bm25 is computed for every match, so a very common term costs time in proportion to the archive
(~0.25 s at 100k documents, ~2.5 s at 1M). When more documents than this match, ``search`` ranks the
most recently archived ``RANK_WINDOW`` of them (highest ids); ``exhaustive=True`` ranks them all.
Filtered searches rank every filtered hit (see ``_FILTERED_SEARCH_SQL``)."""


def _window_floor(db: sqlite_utils.Database, from_sql: str, params: list[Any]) -> int | None:
    """The lowest id among the newest ``RANK_WINDOW`` matches, or None when fewer match."""
    row = db.execute(
        f"SELECT documents_fts.rowid {from_sql} ORDER BY documents_fts.rowid DESC LIMIT 1 OFFSET ?",
        [*params, RANK_WINDOW - 1],
    ).fetchone()
    return None if row is None else int(row[0])


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
    """Documents matching the query, best bm25 first (title weighs most), with a highlighted snippet.

    ``sort="newest"`` / ``"oldest"`` orders them by publication date instead (undated ones last); every
    match is then ordered, whatever ``RANK_WINDOW``, and ``score`` is None (no bm25 is computed).

    ``filters`` (``storage.query.DocumentFilter``) are applied before ranking and paging, so ``limit``
    and ``offset`` count filtered hits; bm25 statistics stay those of the whole archive. Without filters,
    when more than ``RANK_WINDOW`` documents match, only the most recently archived ``RANK_WINDOW`` are
    ranked (and paged through) unless ``exhaustive``; with filters every filtered hit is ranked.
    """
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: {', '.join(SORTS)}")
    if query.match is None:
        return []
    if sort != "rank":
        where, params = (filters or DocumentFilter()).where("d")
        sql = _DATED_SEARCH_SQL.format(where=where, order=_DATE_ORDER[sort])
        rows = db.execute(sql, [query.match, *params, limit, offset])
    elif filters is None or filters.empty:
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
    every match of a common term is itself ~0.4 s at 1M documents.
    """
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if query.match is None:
        return 0
    params: list[Any]
    if filters is None or filters.empty:
        sql, params = "SELECT documents_fts.rowid " + _FTS_FROM, []
    else:
        where, params = filters.where("d")
        sql = "SELECT documents_fts.rowid " + _FILTERED_FROM.format(where=where)
    if cap is not None:
        sql, params = sql + " LIMIT ?", [*params, cap]
    (count,) = db.execute(f"SELECT COUNT(*) FROM ({sql})", [query.match, *params]).fetchone()
    return int(count)


def search_ids(db: sqlite_utils.Database, user_query: str | Query) -> set[int]:
    """Ids of every matching document (no ranking, no snippets)."""
    query = build_query(user_query) if isinstance(user_query, str) else user_query
    if query.match is None:
        return set()
    sql = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?"
    return {row[0] for row in db.execute(sql, [query.match])}


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
