"""Full-text search latency on a large archive: ``yibao search``'s engine (storage.search) over
100,000 documents built by the real ``storage.record`` (records taken from the replicas' ground truth,
no HTML). Prints p50/p95 for 2- and 4-character terms, ranked top 20 with snippets and all ids.

    .venv/bin/python -m benchmarks.search_bench [--docs 100000] [--db PATH (reuse)]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crawler.records import Attachment, DocumentRecord, Meeting
from replicas.corpus import CorpusGenerator
from storage import open_db, record, search, search_ids, start_run, write_transaction

TERMS_2 = ["医保", "集采", "门诊", "住院", "药品", "基金", "监管", "异地", "支付", "待遇", "参保", "结算"]
TERMS_4 = ["医保基金", "异地就医", "定点医药", "支付方式", "分级诊疗", "基金监管", "集中采购", "门诊共济",
           "药品耗材", "长期护理", "病种分值", "经办服务"]


def to_record(doc) -> DocumentRecord:
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
    )


def build(path: Path, docs: int) -> float:
    db = open_db(path)
    run_id = start_run(db, "bench", now=datetime.now(UTC))
    start = time.perf_counter()
    batch = []
    for doc in CorpusGenerator(seed=8).generate(docs):
        batch.append(to_record(doc))
        if len(batch) == 1000:
            with write_transaction(db):  # each record() is a savepoint inside
                for rec in batch:
                    record(db, rec, run_id=run_id, now=datetime.now(UTC))
            batch.clear()
    with write_transaction(db):
        for rec in batch:
            record(db, rec, run_id=run_id, now=datetime.now(UTC))
    db.close()
    return time.perf_counter() - start


def timed(fn, terms: list[str], reps: int = 5) -> tuple[float, float, float]:
    samples, hits = [], []
    for _ in range(reps):
        for term in terms:
            start = time.perf_counter()
            result = fn(term)
            samples.append((time.perf_counter() - start) * 1000)
            hits.append(len(result))
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], statistics.mean(hits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--db", help="reuse (or keep) this archive")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "search.db"
        if not path.exists():
            seconds = build(path, args.docs)
            print(f"archive of {args.docs:,} documents built with storage.record in {seconds:.0f} s "
                  f"({args.docs / seconds:.0f} docs/s, 1,000 records per transaction); {path.stat().st_size / 1e6:.0f} MB")
        db = open_db(path)
        (count,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
        print(f"search over {count:,} documents:")
        for label, terms in (("2-char", TERMS_2), ("4-char", TERMS_4)):
            p50, p95, hits = timed(lambda q: search(db, q, limit=20), terms)
            print(f"  {label} ranked top 20 + snippets  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
            p50, p95, hits = timed(lambda q: search_ids(db, q), terms)
            print(f"  {label} all matching ids          p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (mean {hits:,.0f} hits)")
        db.close()


if __name__ == "__main__":
    main()
