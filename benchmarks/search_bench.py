"""Search and export on a large archive: ``yibao search``'s engine (storage.search) and ``yibao export``'s
reader (storage.query.iter_documents) over N generated documents.

The archive is built with ``storage.bulk.bulk_load`` from the replicas' corpus (``CorpusGenerator``
ground truth, no HTML): the rows ``storage.record`` would write (``--workers`` processes tokenise),
then the full-text indexes merged (``optimize``). It prints the build rate and the size of the
full-text indexes, then for 2-char terms, 4-char terms, quoted phrases and two-term AND: p50/p95 of the
first page of 20 with snippets (default relevance order), newest first, page 6, the count as the CLI
and the web page show it (capped: "1,000+") and exact (``--exhaustive``), each also with every filter
set (region + kind, portal, reply class, dates, deputy, adoption), with issue 15's figures at 1M beside
them; ``--bm25`` adds ``sort="bm25"``. Then alternatives to bm25 over every hit (overlap with its top 20)
and the export rate to JSONL and CSV.

    .venv/bin/python -m benchmarks.search_bench [--docs 100000 [1000000]] [--db PATH] [--workers 2]

Several ``--docs`` sizes are measured in one run, smallest first, the archive topped up in between
(the figures of both sizes then come from one corpus and one machine state).

``--db PATH`` keeps the archive for the next run: an existing file is reused, and topped up to
``--docs`` documents if it holds fewer (an interrupted build resumes). A 1,000,000-document archive
takes about 19 GB; see docs/search.md for the build rate measured. ``--skip`` leaves parts out.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import statistics
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from core.records import Attachment, DocumentRecord, Meeting
from storage import build_query, open_db, rowid_ranges, search, search_count
from storage.search import snippet

SEED = 8
TERMS_2 = ["医保", "集采", "门诊", "住院", "药品", "基金", "监管", "异地", "支付", "待遇", "参保", "结算"]
TERMS_4 = ["医保基金", "异地就医", "定点医药", "支付方式", "分级诊疗", "基金监管", "集中采购", "门诊共济",
           "药品耗材", "长期护理", "病种分值", "经办服务"]  # fmt: skip
PHRASES = ['"按病种分值付费"', '"异地就医直接结算"', '"长期护理保险"', '"基本医疗保险"', '"感谢您对医疗保障工作"',
           '"药品集中带量采购"']  # fmt: skip
AND_QUERIES = ["医保 门诊", "异地就医 结算", "基金监管 定点医药", "集中采购 药品", "长期护理 参保",
               "分级诊疗 支付方式"]  # fmt: skip
FILTERS = (  # (label, DocumentFilter keyword arguments)
    ("Fujian suggestion replies", {"regions": ["350000"], "kinds": ["suggestion_reply"]}),
    ("Sichuan policies", {"regions": ["510000"], "kinds": ["policy"]}),
)


def to_record(doc: Any) -> DocumentRecord:
    """A replica document's ground truth as the record the pipeline would store."""
    t = doc.truth()
    meeting = Meeting(**t["meeting"], text=doc.meeting.text) if t["meeting"] else None
    return DocumentRecord(
        url=f"http://replica/{doc.portal_id}/{doc.doc_id}", portal_id=doc.portal_id, title=t["title"],
        kind=t["kind"], bureau=t["bureau"], region_code=t["region_code"], index_no=t["index_no"],
        doc_no=t["doc_no"], doc_no_raw=t["doc_no_raw"], meeting=meeting, proposal_no=t["proposal_no"],
        deputies=t["deputies"], proposal_title=t["proposal_title"], reply_class=t["reply_class"],
        adoption=t["adoption"], generated_on=t["generated_on"], published_on=t["published_on"],
        signed_on=t["signed_on"], validity=t["validity"], body_text=t["body_text"],
        outline=[tuple(o) for o in t["outline"]],
        attachments=[Attachment(a["name"], "", a["sha256"]) for a in t["attachments"]],
    )  # fmt: skip


# --- building ------------------------------------------------------------------------------------


def build(path: Path, docs: int, *, workers: int, batch: int) -> None:
    """Bulk-load the corpus's first ``docs`` documents into ``path`` (only those it does not hold yet), as
    ``benchmarks.build_bench`` does (its figures printed: rate, CPU per document, merge, index sizes)."""
    from benchmarks.build_bench import build as build_archive

    build_archive(path, docs, workers=workers, batch=batch)


# --- latency -------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def timed(fn: Callable[[str], Any], queries: Sequence[str], reps: int) -> tuple[float, float]:
    """p50 and p95 in ms of ``fn`` over ``queries``, ``reps`` times each after one untimed pass."""
    for query in queries:
        fn(query)
    samples = []
    for _ in range(reps):
        for query in queries:
            start = time.perf_counter()
            fn(query)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def line(label: str, p50: float, p95: float, extra: str = "") -> None:
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in label)  # two columns each
    print(f"  {label:<{56 - wide}} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms{extra}", flush=True)


# Issue 15's figures at 1,000,000 documents before this design (first page of 20 with snippets, p50 / p95 ms).
BEFORE_1M = {
    "2-char": (108, 169), "4-char": (543, 2382), "phrase": (628, 1048), "two-term AND": (418, 2822),
    "4-char + Fujian suggestion replies": (1056, 3945), "2-char newest first": (750, 809),
    "2-char exhaustive": (2679, 3419),
}  # fmt: skip
CLASSES = [("2-char", TERMS_2), ("4-char", TERMS_4), ("phrase", PHRASES), ("two-term AND", AND_QUERIES)]


def filter_sets(db: sqlite_utils.Database) -> list[tuple[str, dict[str, Any]]]:
    """(label, DocumentFilter arguments): ``FILTERS`` and one of each other facet, values from the archive."""
    (portal,) = db.execute("SELECT portal_id FROM postings GROUP BY portal_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
    (top,) = db.execute("SELECT MAX(id) FROM documents").fetchone()
    deputy = db.execute(
        "SELECT j.value FROM documents d, json_each(d.deputies) j WHERE d.id > ? LIMIT 1", [top // 2]
    ).fetchone()
    return [
        *FILTERS,
        (f"portal {portal}", {"portals": [portal]}),
        ("reply class A", {"classes": ["A"]}),
        ("published 2025-01..06", {"since": "2025-01", "until": "2025-06"}),
        *([(f"deputy {deputy[0]}", {"deputies": [deputy[0]]})] if deputy else []),
        ("adoption 部分采纳", {"adoption": ["部分采纳"]}),
    ]


def _before(label: str) -> str:
    figures = BEFORE_1M.get(label)
    return f"  (before at 1M: {figures[0]:,} / {figures[1]:,})" if figures else ""


@contextlib.contextmanager
def _one_connection() -> Iterator[None]:
    """Exact counts on the caller's connection alone (``storage.rowid_ranges`` off), for comparison."""
    kept = rowid_ranges.MIN_DOCUMENTS
    rowid_ranges.MIN_DOCUMENTS = 1 << 62
    try:
        yield
    finally:
        rowid_ranges.MIN_DOCUMENTS = kept


def latency(db: sqlite_utils.Database, reps: int, *, bm25: bool = False, filters: bool = True) -> None:
    """p50/p95 of each query class: the ranked first page (top 20 with snippets), newest first, the
    count as the CLI and web page show it (capped) and exact (``--exhaustive``), each without and with
    every filter set."""
    from storage.query import DocumentFilter, count_documents
    from storage.search import COUNT_CAP

    sets = [(label, DocumentFilter(**facets)) for label, facets in filter_sets(db)] if filters else []
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()
    for label, filters in sets:
        print(f"  filter {label}: {count_documents(db, filters):,} documents", flush=True)
    for label, queries in CLASSES:
        p50, p95 = timed(lambda q: search(db, q, limit=20), queries, reps)
        line(f"{label} top 20 + snippets, default", p50, p95, _before(label))
        p50, p95 = timed(lambda q: search(db, q, limit=20, sort="newest"), queries, reps)
        line(f"{label} newest first (sort=newest)", p50, p95, _before(f"{label} newest first"))
        p50, p95 = timed(lambda q: search(db, q, limit=20, offset=100), queries, reps)
        line(f"{label} page 6 (offset 100)", p50, p95)
        p50, p95 = timed(lambda q: search_count(db, q, cap=COUNT_CAP), queries, reps)
        line(f"{label} count, capped at {COUNT_CAP:,}", p50, p95)
        p50, p95 = timed(lambda q: (search_count(db, q), search(db, q, limit=20)), queries, reps)
        hits = statistics.mean(search_count(db, q) for q in queries)
        line(f"{label} exhaustive (exact count + page)", p50, p95, f"  (mean {hits:,.0f} hits)" + _before(f"{label} exhaustive"))
        if rowid_ranges.file_to_split(db, top) is not None:
            with _one_connection():
                p50, p95 = timed(lambda q: (search_count(db, q), search(db, q, limit=20)), queries, reps)
            line("  the same on one connection (no rowid ranges)", p50, p95)
        if bm25:
            p50, p95 = timed(lambda q: search(db, q, limit=20, sort="bm25"), queries, reps)
            line(f"{label} sort=bm25 (rank window)", p50, p95)
        for name, filters in sets:
            p50, p95 = timed(lambda q, f=filters: search(db, q, filters=f, limit=20), queries, reps)
            line(f"  {label} + {name}", p50, p95, _before(f"{label} + {name}"))
            p50, p95 = timed(lambda q, f=filters: search(db, q, filters=f, limit=20, sort="newest"), queries, reps)
            line(f"  {label} + {name}, newest first", p50, p95)
            p50, p95 = timed(lambda q, f=filters: search_count(db, q, f, cap=COUNT_CAP), queries, reps)
            line(f"  {label} + {name}, count capped", p50, p95)


def index_size(db: sqlite_utils.Database) -> None:
    """Bytes of each full-text index (its shadow tables), and of the whole file."""
    total = 0
    for table in ("documents_fts", "documents_heading_fts"):
        names = [f"{table}_{suffix}" for suffix in ("data", "idx", "docsize", "config")]
        size = 0
        for name in names:
            # page by page (the aggregate mode leaves out most of an FTS5 index: 136 MB of 8.7 GB at 1M)
            row = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = ?", [name]).fetchone()
            size += int(row[0] or 0)
        total += size
        print(f"  index {table}: {size / 1e6:,.0f} MB", flush=True)
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    (page_size,) = db.execute("PRAGMA page_size").fetchone()
    print(f"  full-text indexes {total / 1e6:,.0f} MB of {pages * page_size / 1e6:,.0f} MB", flush=True)



# --- alternatives to ranking every hit -----------------------------------------------------------

_PAGE = (
    "SELECT d.id, v.body_text FROM ({inner}) f JOIN documents d ON d.id = f.rowid"
    " JOIN versions v ON v.id = d.latest_version_id ORDER BY f.n"
)
# Inner queries: (rowid, n) of the first page, n = the order on the page; :q the FTS5 match, :k the window.
BM25_ALL = "SELECT rowid, rank AS n FROM documents_fts WHERE documents_fts MATCH :q ORDER BY rank LIMIT 20"
BM25_NEWEST = (  # the same as BM25_ALL when the query has at most :k hits
    "SELECT rowid, rank AS n FROM documents_fts WHERE documents_fts MATCH :q AND rowid >= ("
    " SELECT MIN(rowid) FROM (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :q"
    " ORDER BY rowid DESC LIMIT :k)) ORDER BY rank LIMIT 20"
)
TITLE_FIRST = (
    "SELECT rowid, n FROM (SELECT rowid, -rowid AS n FROM documents_fts"
    " WHERE documents_fts MATCH '{title} : (' || :q || ')' ORDER BY rowid DESC LIMIT 20)"
    " UNION ALL SELECT rowid, n FROM (SELECT rowid, 1e15 - rowid AS n FROM documents_fts"
    " WHERE documents_fts MATCH :q ORDER BY rowid DESC LIMIT 40) ORDER BY n LIMIT 40"
)
TITLE_FIRST_WINDOW = (  # as TITLE_FIRST, title hits looked for among the newest :k hits only
    "SELECT rowid, n FROM (SELECT rowid, -rowid AS n FROM documents_fts"
    " WHERE documents_fts MATCH '{title} : (' || :q || ')' AND rowid >= ("
    " SELECT MIN(rowid) FROM (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :q"
    " ORDER BY rowid DESC LIMIT :k)) ORDER BY rowid DESC LIMIT 20)"
    " UNION ALL SELECT rowid, n FROM (SELECT rowid, 1e15 - rowid AS n FROM documents_fts"
    " WHERE documents_fts MATCH :q ORDER BY rowid DESC LIMIT 40) ORDER BY n LIMIT 40"
)
NEWEST = (
    "SELECT rowid, -rowid AS n FROM documents_fts WHERE documents_fts MATCH :q ORDER BY rowid DESC LIMIT 20"
)
WINDOWS = (10_000, 50_000)
STRATEGIES = [  # (label, inner query, window)
    ("bm25 over every hit (= exhaustive=True)", BM25_ALL, 0),
    *((f"bm25 over the newest {k:,} hits (rowid bound)", BM25_NEWEST, k) for k in WINDOWS),
    ("title hits newest first, then body hits", TITLE_FIRST, 0),
    ("same, title hits among the newest 20,000 only", TITLE_FIRST_WINDOW, 20_000),
    ("newest hits only (no ranking)", NEWEST, 0),
]


def page(db: sqlite_utils.Database, inner: str, user_query: str, window: int = 0) -> list[int]:
    """The first page by ``inner``, joined and snippeted as ``search`` does; its ids in order."""
    query = build_query(user_query)
    ids: list[int] = []
    for doc_id, body in db.execute(_PAGE.replace("{inner}", inner), {"q": query.match, "k": window}):
        if doc_id not in ids:  # a title hit comes back again among the body hits
            ids.append(doc_id)
            snippet(body, query.terms)
        if len(ids) == 20:
            break
    return ids


def alternatives(db: sqlite_utils.Database, reps: int) -> None:
    """Ranked first pages by other strategies than bm25 over every hit: p50/p95 (top 20 + snippets) and
    the mean share of bm25-over-every-hit's top 20 they return."""
    print("ranking strategies (overlap: share of the top 20 of bm25 over every hit):", flush=True)
    matches = {q: build_query(q).match for q in TERMS_2}
    count_sql = "SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH ?"
    p50, p95 = timed(lambda q: db.execute(count_sql, [matches[q]]).fetchone(), TERMS_2, reps)
    line("2-char COUNT(*) of the hits (no bm25)", p50, p95)
    classes = [("2-char", TERMS_2), ("4-char", TERMS_4), ("phrase", PHRASES), ("two-term AND", AND_QUERIES)]
    for label, queries in classes:
        reference = {q: page(db, BM25_ALL, q) for q in queries}
        for name, inner, window in STRATEGIES:
            if label != "2-char" and inner is BM25_ALL:  # = exhaustive=True, timed above
                continue
            p50, p95 = timed(lambda q, inner=inner, window=window: page(db, inner, q, window), queries, reps)
            overlap = statistics.mean(
                len(set(page(db, inner, q, window)) & set(reference[q])) / max(1, len(reference[q]))
                for q in queries
            )
            line(f"{label} {name}", p50, p95, f"  (overlap {overlap:.0%})")


# --- export --------------------------------------------------------------------------------------


def _csv_cells(item: dict[str, Any], fields: Sequence[str]) -> list[Any]:
    """CSV cells of an export dict (as ``yibao export --format csv`` writes them, if that is missing)."""
    cells = []
    for name in fields:
        value = item[name]
        cells.append("" if value is None else " | ".join(value) if isinstance(value, list) else value)
    return cells


def export(db: sqlite_utils.Database, count: int) -> None:
    try:
        from storage.query import EXPORT_FIELDS, iter_documents
    except ImportError:
        print("export: not available yet (storage.query.iter_documents)")
        return
    try:
        from cli.query import csv_row as to_cells
    except ImportError:
        to_cells = _csv_cells
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("jsonl", "csv"):
            target = Path(tmp) / f"export.{fmt}"
            start = time.perf_counter()
            with target.open("w", encoding="utf-8", newline="") as fh:
                written = 0
                if fmt == "csv":
                    writer = csv.writer(fh)
                    writer.writerow(EXPORT_FIELDS)
                    for item in iter_documents(db):
                        writer.writerow(to_cells(item, EXPORT_FIELDS))
                        written += 1
                else:
                    for item in iter_documents(db):
                        fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                        written += 1
            seconds = time.perf_counter() - start
            size = target.stat().st_size
            target.unlink()
            assert written == count, (written, count)
            print(
                f"export {fmt:<5} {written:,} documents in {seconds:,.1f} s: {written / seconds:,.0f} docs/s,"
                f" {size / 1e6 / seconds:,.1f} MB/s ({size / 1e6:,.0f} MB)",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[100_000],
                        help="archive size; several sizes (100000 1000000) measure each in turn, topping up")
    parser.add_argument("--db", help="reuse (or keep) this archive")
    parser.add_argument("--workers", type=int, default=2, help="bulk_load tokenising processes (0: none)")
    parser.add_argument("--batch", type=int, default=5000, help="records per transaction")
    parser.add_argument("--reps", type=int, default=3, help="timed passes over each query list")
    parser.add_argument("--skip", nargs="*", default=(), choices=("search", "filters", "alternatives", "export"),
                        help="filters: the query classes without the filter sets")
    parser.add_argument("--bm25", action="store_true", help="also time sort=bm25 (slow at 1M)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "search.db"
        for docs in sorted(args.docs):  # the same archive grows: one corpus, one run
            build(path, docs, workers=args.workers, batch=args.batch)
            db = open_db(path)
            (count,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
            if "search" not in args.skip:
                print(f"search over {count:,} documents ({args.reps} timed passes):", flush=True)
                index_size(db)
                latency(db, args.reps, bm25=args.bm25, filters="filters" not in args.skip)
            if "alternatives" not in args.skip:
                alternatives(db, args.reps)
            if "export" not in args.skip:
                export(db, count)
            db.close()


if __name__ == "__main__":
    main()
