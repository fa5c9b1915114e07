"""The normalize + store pipeline alone (no HTTP, no Scrapy engine): replica detail pages of every family
rendered in-process → the spider's shared-trait extraction (one parse per page, ``spiders.extract``) →
``build_record`` → ``storage.archive.record_batch`` (as the crawl stores: ``YIBAO_STORE_BATCH`` pages per
transaction, full-text index and identity included) into a fresh archive. Prints documents per CPU-second
(``time.process_time``) per stage and for the whole pipeline, and the one-page-per-transaction store beside it;
then the store's main parts timed apart (full-text tokens, comparison hash, citations), to say where its time goes.
Imports are warmed before any timing (the MinHash library's, about 0.5 CPU-s, is a process's start-up, not a
document's cost); the replica's work (rendering, its registry) is done before any timing too.

    .venv/bin/python -m benchmarks.pipeline_bench [--docs 3000] [--batch 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from parsel import Selector

from core import identity
from core.citations import extract_citations
from core.normalize import build_record
from core.records import DocumentRecord, RawPage
from crawler import settings as project_settings
from replicas.world import ReplicaWorld
from spiders import extract
from storage import open_db, start_run
from storage.archive import Fetched, record_batch
from storage.search import index_text


def render(world: ReplicaWorld, doc_id: int) -> tuple[str, str]:
    """(URL, HTML) of the document's first page variant (the replica's work, done before any timing)."""
    doc = world.doc(doc_id)
    site = world.site(doc.portal_id)
    variant = next(iter(site.doc_paths(doc)))
    return "http://replica" + site.doc_paths(doc)[variant], site.render_detail(doc, variant)


def page_context(world: ReplicaWorld, doc_id: int) -> tuple[str, str, str]:
    """(portal, column name, column kind) of the document, as the spider knows them before a page arrives."""
    doc = world.doc(doc_id)
    column = world.site(doc.portal_id).column(doc.column)
    return doc.portal_id, column.name, column.kind


def raw_page(context: tuple[str, str, str], url: str, html: str) -> RawPage:
    """What ``PortalSpider.extract_page`` makes of the page: the same traits, read from the page's one tree."""
    portal_id, column, column_kind = context
    sel = Selector(text=html, huge_tree=False)
    extract.check_nesting(sel.root)
    body, _text = extract.body_parts(sel.root)
    tags = extract.meta_tags(sel)
    return RawPage(
        portal_id=portal_id, column=column, column_kind=column_kind, url=url, status=200, html="",
        meta_table=extract.metadata_block(sel), meta_tags=tags, body_html=body, title=extract.page_title(sel, tags),
        attachments=extract.attachments(sel, url),
    )  # fmt: skip


def _tokens(r: DocumentRecord) -> object:
    return index_text(r.title), index_text(r.doc_no), index_text(r.body_text)


def _citations(r: DocumentRecord) -> object:
    return extract_citations(r.body_text, own_doc_no=r.doc_no, own_title=r.title)


def store_parts(records: list[DocumentRecord]) -> dict[str, float]:
    """CPU ms per document of the store's main computations, timed apart: the full-text index's tokens
    (``index_text`` of title, 文号 and body), the comparison hash, the citations found in the body."""
    parts: dict[str, Callable[[DocumentRecord], object]] = {
        "full-text tokens (index_text)": _tokens,
        "comparison hash": identity.comparison_hash,
        "citations (extract_citations)": _citations,
    }
    out = {}
    for name, work in parts.items():
        start = time.process_time()
        for r in records:
            work(r)
        out[name] = 1000 * (time.process_time() - start) / len(records)
    return out


def store(records: list[DocumentRecord], batch: int) -> tuple[float, float]:
    """CPU seconds to store ``records`` into a fresh archive ``batch`` at a time; the archive's size in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "a.db")
        run_id = start_run(db, "bench", now=datetime.now(UTC))
        record_batch(db, [Fetched(records[0].url, records[0])], run_id=run_id)  # imports and caches warmed
        identity.text_fingerprint(records[0].title * 80 or "无")  # the MinHash library too
        start = time.process_time()
        for i in range(1, len(records), batch):
            chunk = [Fetched(r.url, r) for r in records[i : i + batch]]
            results = record_batch(db, chunk, run_id=run_id, now=datetime.now(UTC))
            failed = [r for r in results if isinstance(r, Exception)]
            if failed:
                raise failed[0]
        seconds = time.process_time() - start
        size = (Path(tmp) / "a.db").stat().st_size
        db.close()
    return seconds, size / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=project_settings.YIBAO_STORE_BATCH)
    args = parser.parse_args(argv)
    world = ReplicaWorld(docs=args.docs, seed=4)
    ids = [d.doc_id for d in world.docs()]
    names = {pid: world.site(pid).bureau for pid in world.portals}
    rendered = {i: render(world, i) for i in ids}
    contexts = {i: page_context(world, i) for i in ids}

    start = time.process_time()
    pages = [raw_page(contexts[i], *rendered[i]) for i in ids]
    t_extract = time.process_time() - start
    start = time.process_time()
    records = [build_record(p, bureau=names[p.portal_id].name, region_code=names[p.portal_id].region_code)
               for p in pages]  # fmt: skip
    t_normalize = time.process_time() - start
    t_store, size = store(records, args.batch)
    t_single, _ = store(records, 1)
    n = len(ids)
    print(f"{n} documents (all families, average page {sum(len(h) for _, h in rendered.values()) // n:,} chars, "
          f"{sum(len(p.body_html) for p in pages) // n:,} of body HTML); documents per CPU-second")  # fmt: skip
    print(
        f"  extract (one parse, shared traits)  {n / t_extract:7.0f} docs/CPU-s  ({1000 * t_extract / n:.2f} ms/doc)"
    )
    print(
        f"  normalize (build_record)            {n / t_normalize:7.0f} docs/CPU-s  ({1000 * t_normalize / n:.2f} ms/doc)"
    )
    print(f"  store, {args.batch} pages per transaction   {(n - 1) / t_store:7.0f} docs/CPU-s  "
          f"({1000 * t_store / (n - 1):.2f} ms/doc; FTS, identity, version, event)")  # fmt: skip
    print(
        f"  store, 1 page per transaction       {(n - 1) / t_single:7.0f} docs/CPU-s  ({1000 * t_single / (n - 1):.2f} ms/doc)"
    )
    total = t_extract + t_normalize + t_store * n / (n - 1)
    print(f"  pipeline                            {n / total:7.0f} docs/CPU-s  ({1000 * total / n:.2f} ms/doc; "
          f"goal ≥ 600 docs/CPU-s); archive {size:.1f} MB")  # fmt: skip
    print(
        "  of the store, timed apart: "
        + ", ".join(f"{name} {ms:.2f} ms/doc" for name, ms in store_parts(records).items())
    )


if __name__ == "__main__":
    main()
