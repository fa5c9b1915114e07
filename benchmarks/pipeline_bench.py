"""The normalize + store pipeline alone (no HTTP, no Scrapy engine): replica detail pages rendered
in-process → shared-trait extraction (spiders.extract) → ``build_record`` → ``storage.record`` into
a fresh archive. Prints documents/s per stage and for the whole pipeline.

    .venv/bin/python -m benchmarks.pipeline_bench [--docs 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from lxml import html as lxml_html
from parsel import Selector

from core.normalize import build_record
from core.records import RawPage
from replicas.world import ReplicaWorld
from spiders import extract
from storage import open_db, record, start_run


def raw_page(world: ReplicaWorld, doc_id: int) -> RawPage:
    doc = world.doc(doc_id)
    site = world.site(doc.portal_id)
    variant = next(iter(site.doc_paths(doc)))
    html = site.render_detail(doc, variant)
    sel = Selector(text=html)
    tags = extract.meta_tags(sel)
    column = site.column(doc.column)
    return RawPage(
        portal_id=doc.portal_id, column=column.name, column_kind=column.kind, url="http://replica" + site.doc_paths(doc)[variant],
        status=200, html="", meta_table=extract.metadata_block(sel), meta_tags=tags,
        body_html=extract.body_html(lxml_html.fromstring(html)), title=extract.page_title(sel, tags),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    args = parser.parse_args(argv)
    world = ReplicaWorld(docs=args.docs, seed=4)
    ids = [d.doc_id for d in world.docs()]
    names = {pid: world.site(pid).bureau for pid in world.portals}

    start = time.perf_counter()
    pages = [raw_page(world, i) for i in ids]
    t_extract = time.perf_counter() - start
    start = time.perf_counter()
    records = [build_record(p, bureau=names[p.portal_id].name, region_code=names[p.portal_id].region_code)
               for p in pages]
    t_normalize = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "a.db")
        run_id = start_run(db, "bench", now=datetime.now(UTC))
        start = time.perf_counter()
        for rec in records:
            record(db, rec, run_id=run_id, now=datetime.now(UTC))
        t_store = time.perf_counter() - start
        size = (Path(tmp) / "a.db").stat().st_size
        db.close()
    n = len(ids)
    print(f"{n} documents (all families, average page {sum(len(p.body_html) for p in pages) // n:,} B of body HTML)")
    print(f"  extract (parsel/lxml traits)  {n / t_extract:8.0f} docs/s  ({1000 * t_extract / n:.2f} ms/doc)")
    print(f"  normalize (build_record)      {n / t_normalize:8.0f} docs/s  ({1000 * t_normalize / n:.2f} ms/doc)")
    print(f"  store (storage.record, 1 txn/doc, FTS + identity) {n / t_store:8.0f} docs/s  ({1000 * t_store / n:.2f} ms/doc)")
    total = t_extract + t_normalize + t_store
    print(f"  pipeline                      {n / total:8.0f} docs/s; archive {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
