"""Building a large archive with ``storage.bulk``: documents/s, CPU per document by stage, the index merge
and the index sizes.

The archive is built from the replicas' corpus (``CorpusGenerator`` ground truth, the records
``benchmarks.search_bench.to_record`` makes) with ``storage.bulk.bulk_load_sources``: ``--workers``
processes each generate a slice of ``SLICE`` documents and prepare its rows (identity keys, comparison
hash, MinHash, CJK bigram tokens); this process only writes. At its end ``bulk_load_sources`` merges the
full-text indexes into one segment each (``storage.search.optimize_index``; timed apart). A new file is
loaded with ``fresh=True`` (no journal on disk; deleted if the build fails), a top-up through the WAL.

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
import multiprocessing
import pickle
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
from storage.search import index_text

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


def _slice_path(corpus: Path, first: int) -> Path:
    return corpus / f"slice-{first:09d}.pickle"


def saved_slice(corpus: Path, start: int, stop: int) -> list[DocumentRecord]:
    """Records ``start``..``stop`` of the corpus saved in ``corpus`` (``save_corpus``), within one slice
    file (as an import reads its dump: here pickled records, about 0.03 ms per document)."""
    first = start - start % SLICE
    with _slice_path(corpus, first).open("rb") as fh:
        records: list[DocumentRecord] = pickle.load(fh)
    return records[start - first : stop - first]


def _save_slice(seed: int, corpus: Path, first: int) -> None:
    target = _slice_path(corpus, first)
    part = target.with_suffix(".part")
    with part.open("wb") as fh:
        pickle.dump(corpus_slice(seed, first, first + SLICE), fh, protocol=pickle.HIGHEST_PROTOCOL)
    part.rename(target)


def save_corpus(corpus: Path, docs: int, workers: int) -> None:
    """Generate the corpus's first ``docs`` documents (rounded up to slices) into ``corpus``, the slices it
    does not hold yet, in ``workers`` processes; the time it took printed."""
    corpus.mkdir(parents=True, exist_ok=True)
    missing = [first for first in range(0, docs, SLICE) if not _slice_path(corpus, first).exists()]
    if not missing:
        return
    began = time.perf_counter()
    with multiprocessing.Pool(max(1, workers)) as pool:
        pool.map(functools.partial(_save_slice, SEED, corpus), missing, chunksize=4)
    seconds = time.perf_counter() - began
    print(f"corpus: {len(missing) * SLICE:,} documents generated into {corpus} in {seconds:,.0f} s", flush=True)


def saved_sources(corpus: Path, start: int, stop: int) -> Iterator[Callable[[], list[DocumentRecord]]]:
    """``bulk_load_sources`` sources reading records ``start``..``stop`` from ``corpus``, a slice each."""
    while start < stop:
        end = min(stop, start - start % SLICE + SLICE)
        yield functools.partial(saved_slice, corpus, start, end)
        start = end


def _progress(sources: Iterator[Any], start: int, stop: int, size: int = SLICE) -> Iterator[Any]:
    """``sources`` as they are handed to the workers, with a line every tenth of the way."""
    began, every = time.perf_counter(), max(10_000, (stop - start) // 10)
    for n, source in enumerate(sources):
        done = n * size
        if done and done % every < size:
            rate = done / (time.perf_counter() - began)
            print(f"  ... {start + done:,} / {stop:,} documents handed to the workers, {rate:,.0f}/s", flush=True)
        yield source


def file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(
    path: Path,
    docs: int,
    *,
    workers: int,
    batch: int,
    optimize: bool = True,
    unjournaled: bool = True,
    corpus: Path | None = None,
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
        f" fresh={have == 0 and unjournaled}, records {'generated' if corpus is None else 'read from ' + str(corpus)})",
        flush=True,
    )
    if corpus is not None:  # generated before the build is timed
        save_corpus(corpus, docs, workers)
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    sources = corpus_sources(SEED, have, docs) if corpus is None else saved_sources(corpus, have, docs)
    fresh = have == 0 and unjournaled  # a new file: written without a journal on disk, deleted if this fails
    timings: dict[str, float] = {}
    try:  # the merge as bulk_load does it (with fresh, without a journal), timed apart
        loaded = bulk_load_sources(
            db, _progress(sources, have, docs), run_id=run_id, now=now, batch=batch, workers=workers,
            optimize=optimize, fresh=fresh, timings=timings,
        )  # fmt: skip
    except BaseException:
        if fresh:
            db.close()
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        raise
    merge_s, merge_cpu = timings.get("merge_s", 0.0), timings.get("merge_cpu_s", 0.0)
    load_s = time.perf_counter() - wall - merge_s
    writer_cpu, worker_cpu = time.process_time() - cpu - merge_cpu, _children_cpu() - children
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    figures = {
        "docs": loaded, "load_s": load_s, "merge_s": merge_s, "rate": loaded / load_s,
        "rate_merged": loaded / (load_s + merge_s), "writer_ms": writer_cpu / loaded * 1e3,
        "workers_ms": worker_cpu / loaded * 1e3, "merge_ms": merge_cpu / loaded * 1e3,
    }  # fmt: skip
    print(
        f"archive of {have + loaded:,} documents: {loaded:,} loaded in {load_s:,.0f} s"
        f" ({figures['rate']:,.0f} docs/s, wall, {'generation' if corpus is None else 'reading'} included); index merge {merge_s:,.0f} s"
        f" (CPU {merge_cpu:,.0f} s); load + merge {figures['rate_merged']:,.0f} docs/s",
        flush=True,
    )
    print(
        f"  of the load: waiting for the workers {timings.get('wait_s', 0.0):,.0f} s, building the deferred indexes"
        f" {timings.get('indexes_s', 0.0):,.0f} s, recounting the facets {timings.get('recount_s', 0.0):,.0f} s;"
        f" the rest writing",
        flush=True,
    )
    print(
        f"  CPU per document: writing {figures['writer_ms']:.2f} ms (this process),"
        f" {'generating' if corpus is None else 'reading'} + preparing"
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
    parser.add_argument("--corpus", help="read the records from this directory (generated into it first if missing)")
    args = parser.parse_args(argv)
    if args.sample:
        stages(args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "build.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        build(
            path, args.docs, workers=args.workers, batch=args.batch, optimize=not args.no_merge,
            unjournaled=not args.wal, corpus=Path(args.corpus) if args.corpus else None,
        )  # fmt: skip


if __name__ == "__main__":
    main()
