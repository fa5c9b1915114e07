"""Building a large archive with ``storage.bulk``: documents/s, CPU per document by stage, the index merge
and the index sizes.

The archive is built from the replicas' corpus (``CorpusGenerator`` ground truth, the records
``benchmarks.search_bench.to_record`` makes) with ``storage.bulk.bulk_load_sources``: ``--workers``
processes each generate a slice of ``SLICE`` documents and prepare its rows (identity keys, comparison
hash, MinHash, CJK bigram tokens); this process only writes. Then ``storage.search.optimize_index`` merges
the full-text indexes into one segment each (timed apart: ``bulk_load`` does the same at its end).

    .venv/bin/python -m benchmarks.build_bench [--docs 100000] [--db PATH] [--workers 2] [--batch 5000]

It prints the load rate (wall, generation included) and the rate with the merge; the CPU of this process
(writing) and of the workers (generating and preparing), per document; the CPU of each preparation stage
measured in this process on a sample of ``--sample`` documents; the merge's time; and the size of
``documents_fts``, ``documents_heading_fts`` and the file. ``--db`` keeps the archive (an existing one is
topped up to ``--docs``, as ``benchmarks.search_bench`` does).
"""

from __future__ import annotations

import argparse
import functools
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from core import identity
from core.records import DocumentRecord
from replicas.corpus import FIRST_GENERATED_ID, CorpusGenerator
from storage import open_db, start_run
from storage.archive import _version_payload, document_columns
from storage.bulk import bulk_load_sources
from storage.search import index_text, optimize_index

SEED = 8  # benchmarks.search_bench's corpus
SLICE = 250  # documents a worker generates and prepares at a time


def corpus_slice(seed: int, start: int, stop: int) -> list[DocumentRecord]:
    """Records ``start``..``stop`` (0-based) of ``CorpusGenerator(seed).generate(...)``: each document is
    made from its own id, so any slice can be made on its own (in a worker)."""
    from benchmarks.search_bench import to_record

    gen = _generator(seed)
    docs = (gen.make(*gen.slot(FIRST_GENERATED_ID + k), doc_id=FIRST_GENERATED_ID + k) for k in range(start, stop))
    return [to_record(doc) for doc in docs]


@functools.lru_cache(maxsize=1)
def _generator(seed: int) -> CorpusGenerator:
    return CorpusGenerator(seed=seed)


def corpus_sources(seed: int, start: int, stop: int, size: int = SLICE) -> Iterator[Callable[[], list[DocumentRecord]]]:
    """``bulk_load_sources`` sources for records ``start``..``stop`` of the corpus, ``size`` each."""
    for a in range(start, stop, size):
        yield functools.partial(corpus_slice, seed, a, min(stop, a + size))


def file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(
    path: Path, docs: int, *, workers: int, batch: int, optimize: bool = True, unjournaled: bool = True
) -> dict[str, float] | None:
    """Bulk-load the corpus's first ``docs`` documents into ``path`` (only those it does not hold yet),
    then merge the indexes; print and return the figures (None when there was nothing to load)."""
    db = open_db(path)
    (have,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
    if have >= docs:
        print(f"reusing {path} ({have:,} documents, {file_size(path) / 1e6:,.0f} MB)", flush=True)
        db.close()
        return None
    now = datetime.now(UTC)
    run_id = start_run(db, "bench", now=now)
    print(
        f"building: {docs - have:,} documents with bulk_load_sources (workers={workers}, batch={batch:,},"
        f" fresh={have == 0 and unjournaled})",
        flush=True,
    )
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    fresh = have == 0 and unjournaled  # a new file: written without a journal on disk, deleted if this fails
    try:
        loaded = bulk_load_sources(
            db, corpus_sources(SEED, have, docs), run_id=run_id, now=now, batch=batch, workers=workers,
            optimize=False, fresh=fresh,
        )  # fmt: skip
    except BaseException:
        if fresh:
            db.close()
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        raise
    load_s = time.perf_counter() - wall
    writer_cpu, worker_cpu = time.process_time() - cpu, _children_cpu() - children
    merge_s = merge_cpu = 0.0
    if optimize:
        cpu, wall = time.process_time(), time.perf_counter()
        optimize_index(db)
        merge_s, merge_cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    figures = {
        "docs": loaded, "load_s": load_s, "merge_s": merge_s, "rate": loaded / load_s,
        "rate_merged": loaded / (load_s + merge_s), "writer_ms": writer_cpu / loaded * 1e3,
        "workers_ms": worker_cpu / loaded * 1e3, "merge_ms": merge_cpu / loaded * 1e3,
    }  # fmt: skip
    print(
        f"archive of {have + loaded:,} documents: {loaded:,} loaded in {load_s:,.0f} s"
        f" ({figures['rate']:,.0f} docs/s, wall, generation included); index merge {merge_s:,.0f} s"
        f" (CPU {merge_cpu:,.0f} s); load + merge {figures['rate_merged']:,.0f} docs/s",
        flush=True,
    )
    print(
        f"  CPU per document: writing {figures['writer_ms']:.2f} ms (this process), generating + preparing"
        f" {figures['workers_ms']:.2f} ms (workers), merging {figures['merge_ms']:.2f} ms;"
        f" total {figures['writer_ms'] + figures['workers_ms'] + figures['merge_ms']:.2f} ms",
        flush=True,
    )
    index_sizes(db, path)
    db.close()
    return figures


def index_sizes(db: sqlite_utils.Database, path: Path) -> dict[str, int]:
    """Bytes of each full-text index (its shadow tables, page by page) and of the file; printed."""
    sizes = {}
    for table in ("documents_fts", "documents_heading_fts"):
        names = [f"{table}_{suffix}" for suffix in ("data", "idx", "docsize", "config")]
        marks = ", ".join("?" * len(names))
        (size,) = db.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({marks})", names).fetchone()
        sizes[table] = int(size)
    (segments,) = db.execute("SELECT COUNT(DISTINCT segid) FROM documents_fts_idx").fetchone()
    sizes["file"] = file_size(path)
    (count,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
    print(
        f"  sizes: documents_fts {sizes['documents_fts'] / 1e6:,.0f} MB, documents_heading_fts"
        f" {sizes['documents_heading_fts'] / 1e6:,.0f} MB, file {sizes['file'] / 1e6:,.0f} MB"
        f" ({sizes['file'] / max(1, count) / 1e3:.1f} kB per document; documents_fts in {segments:,} segments)",
        flush=True,
    )
    return sizes


def stages(sample: int) -> None:
    """CPU per document of each step of generating and preparing, on the corpus's first ``sample``
    documents, in this process (what the workers do per record)."""
    gen = CorpusGenerator(seed=SEED)
    steps: list[tuple[str, Callable[[Any], Any]]] = []
    cpu = time.process_time()
    docs = [gen.make(*gen.slot(FIRST_GENERATED_ID + k), doc_id=FIRST_GENERATED_ID + k) for k in range(sample)]
    generate_ms = (time.process_time() - cpu) / sample * 1e3
    from benchmarks.search_bench import to_record

    cpu = time.process_time()
    records = [to_record(doc) for doc in docs]
    to_record_ms = (time.process_time() - cpu) / sample * 1e3
    index_text("医保")  # the tokeniser's table, once per process
    steps = [
        ("identity keys", identity.identity_keys),
        ("MinHash of key-less records", lambda r: None if identity.identity_keys(r) else identity.text_fingerprint(r.body_text)),
        ("comparison hash", identity.comparison_hash),
        ("version JSON", _version_payload),
        ("document columns", document_columns),
        ("bigram tokens (index_text)", lambda r: (index_text(r.title), index_text(r.doc_no), index_text(r.body_text))),
    ]  # fmt: skip
    print(f"stages (CPU per document, {sample:,} documents in this process):", flush=True)
    print(f"  {'generating the corpus':<32} {generate_ms:6.3f} ms", flush=True)
    print(f"  {'to_record':<32} {to_record_ms:6.3f} ms", flush=True)
    for label, step in steps:
        cpu = time.process_time()
        for rec in records:
            step(rec)
        print(f"  {label:<32} {(time.process_time() - cpu) / sample * 1e3:6.3f} ms", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="archive size")
    parser.add_argument("--db", help="keep (or top up) this archive")
    parser.add_argument("--workers", type=int, default=2, help="processes generating and preparing records")
    parser.add_argument("--batch", type=int, default=5000, help="records per transaction")
    parser.add_argument("--sample", type=int, default=2000, help="documents for the per-stage CPU figures (0: none)")
    parser.add_argument("--no-merge", action="store_true", help="leave the index segments unmerged")
    parser.add_argument("--wal", action="store_true", help="write a new archive through the WAL (as a top-up is)")
    args = parser.parse_args(argv)
    if args.sample:
        stages(args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "build.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        build(
            path, args.docs, workers=args.workers, batch=args.batch, optimize=not args.no_merge,
            unjournaled=not args.wal,
        )  # fmt: skip


if __name__ == "__main__":
    main()
