"""Records a deterministic batch into an archive through ``record_batch``, a few pages per transaction as the
crawl stores them, printing the index of the last item of each committed batch; and ``summary``, the
archive's content independent of row ids, run ids and timestamps.

PAGES 0 stores each page through ``record`` (its own transaction, as before batching). Used by the kill tests
(``python -m tests.storage.crash_worker DB PHASE [PAGES]`` in a subprocess that ``run_killed`` kills with
SIGKILL: tests/e2e/storage/test_crash.py, tests/e2e/speed/test_batch_kill.py) and by test_record_batch.py. ``on_event`` writes a stand-in outbox row and
sleeps a little inside the transaction, so kills often land between the events and the commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils

from core.records import DocumentRecord
from storage import open_db, record, search_ids, start_run
from storage.archive import Fetched, record_batch
from storage.events import Event
from tests.storage.factories import BODY, LATER, NOW, corpus, notice

BASE = corpus(120, seed=11)
KEYLESS = [notice(f"https://n/{i}", f"第{i}号公告。" + BODY.replace("。", f"。{i}")) for i in range(10)]


def batch(phase: str) -> list[DocumentRecord]:
    """``base``: 130 new documents. ``change``: edits, new documents, reposts and near-duplicates, interleaved,
    every URL once (so that rerunning the batch is a plain re-crawl)."""
    if phase == "base":
        return BASE + KEYLESS
    edits = [replace(r, validity="失效") for r in BASE[:20]]
    edits += [replace(r, body_text=r.body_text + "补充说明。") for r in BASE[20:40]]
    new = [
        replace(r, url=r.url + "?new", doc_no=f"新{r.doc_no}" if r.doc_no else None, index_no=f"N-{i}")
        for i, r in enumerate(corpus(40, seed=12))
    ]
    reposts = [replace(r, url=r.url.replace("ybj.", "fj."), portal_id="fujian") for r in BASE[60:80]]
    near = [replace(n, url=n.url + "/copy", body_text=n.body_text + "（转载）") for n in KEYLESS[:5]]
    groups = [edits, new, reposts, near]
    return [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]


def on_event(db: sqlite_utils.Database, event: Event) -> None:
    db.execute("INSERT INTO test_outbox (event_id) VALUES (?)", [event.id])
    time.sleep(0.002)


def run(path: Path, phase: str, pages: int = 7, out: bool = False) -> None:
    """Store ``batch(phase)``, ``pages`` per transaction (1: one page per transaction, 0: through ``record``)."""
    db = open_db(path)
    db.execute("CREATE TABLE IF NOT EXISTS test_outbox (event_id INTEGER PRIMARY KEY REFERENCES events (id))")
    now = NOW if phase == "base" else LATER
    run_id = start_run(db, "fujian_ningde", now=now)
    records = batch(phase)
    if pages == 0:  # through ``record``, one page per transaction
        for i, rec in enumerate(records):
            record(db, rec, run_id=run_id, now=now, on_event=on_event)
            if out:
                print(i, flush=True)
        db.close()
        return
    for start in range(0, len(records), pages):
        chunk = records[start : start + pages]
        results = record_batch(db, [Fetched(r.url, r) for r in chunk], run_id=run_id, now=now, on_event=on_event)
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]
        if out:
            print(start + len(chunk) - 1, flush=True)
    db.close()


def summary(path: Path) -> dict[str, Any]:
    """The archive's content, independent of row ids, run ids and timestamps; checks its integrity first."""
    db = open_db(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
        key = "(SELECT identity_key FROM documents WHERE id = {}.document_id)"
        return {
            "documents": sorted(db.execute(
                "SELECT d.identity_key, d.status, d.title, v.comparison_hash FROM documents d"
                " JOIN versions v ON v.id = d.latest_version_id").fetchall()),
            "versions": sorted(db.execute(f"SELECT {key.format('v')}, version_no, comparison_hash FROM versions v")),
            "events": sorted(db.execute(f"SELECT {key.format('e')}, kind, changed_fields, url FROM events e")),
            "postings": sorted(db.execute(f"SELECT url, {key.format('p')}, content_hash, status FROM postings p")),
            "outbox = events": db.execute(
                "SELECT (SELECT COUNT(*) FROM test_outbox) = (SELECT COUNT(*) FROM events)").fetchone()[0],
            "search": [sorted(search_ids(db, q)) for q in ("医保", "补充说明", "异地就医 -DIP", "号")],
        }  # fmt: skip
    finally:
        db.close()


def run_killed(path: Path, phase: str, after: int, pages: int) -> int:
    """Run this worker in a subprocess, SIGKILL it once it has committed ``after`` items; how many it had."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.crash_worker", str(path), phase, str(pages)],
        cwd=root, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert proc.stdout is not None
    done = 0
    for line in proc.stdout:
        done = int(line) + 1
        if done >= after:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return done


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 7, out=True)
