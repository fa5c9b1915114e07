"""Records a deterministic batch into an archive, printing the index of each stored item.

Used by test_crash.py: ``python -m tests.storage.crash_worker DB PHASE`` in a subprocess that the test
kills with SIGKILL. ``on_event`` writes a stand-in outbox row and sleeps a little *inside* the
transaction, so kills often land between the event and the commit.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import sqlite_utils

from core.records import DocumentRecord
from storage import open_db, record, start_run
from storage.events import Event
from tests.storage.factories import BODY, LATER, NOW, corpus, notice

BASE = corpus(120, seed=1)
KEYLESS = [notice(f"https://n/{i}", f"第{i}号公告。" + BODY.replace("。", f"。{i}")) for i in range(10)]


def batch(phase: str) -> list[DocumentRecord]:
    """``base``: 130 new documents. ``change``: edits, new documents, reposts and near-duplicates,
    interleaved, every URL once (so that rerunning the batch is a plain re-crawl)."""
    if phase == "base":
        return BASE + KEYLESS
    edits = [replace(r, validity="失效") for r in BASE[:20]]
    edits += [replace(r, body_text=r.body_text + "补充说明。") for r in BASE[20:40]]
    new = [
        replace(r, url=r.url + "?new", doc_no=f"新{r.doc_no}" if r.doc_no else None, index_no=f"N-{i}")
        for i, r in enumerate(corpus(40, seed=2))
    ]
    reposts = [replace(r, url=r.url.replace("ybj.", "fj."), portal_id="fujian") for r in BASE[60:80]]
    near = [replace(n, url=n.url + "/copy", body_text=n.body_text + "（转载）") for n in KEYLESS[:5]]
    groups = [edits, new, reposts, near]
    return [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]


def on_event(db: sqlite_utils.Database, event: Event) -> None:
    db.execute("INSERT INTO test_outbox (event_id) VALUES (?)", [event.id])
    time.sleep(0.002)


def run(path: Path, phase: str, out: bool = False) -> None:
    db = open_db(path)
    db.execute("CREATE TABLE IF NOT EXISTS test_outbox (event_id INTEGER PRIMARY KEY REFERENCES events (id))")
    now = NOW if phase == "base" else LATER
    run_id = start_run(db, "fujian_ningde", now=now)
    for i, rec in enumerate(batch(phase)):
        record(db, rec, run_id=run_id, now=now, on_event=on_event)
        if out:
            print(i, flush=True)
    db.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2], out=True)
