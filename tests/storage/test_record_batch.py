"""``record_batch``: several pages per transaction store what one page per transaction stores; a page that
fails fails alone, and no event is written twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from storage import open_db, record, start_run
from storage.archive import Fetched, record_batch
from tests.storage import crash_worker
from tests.storage.crash_worker import summary
from tests.storage.factories import LATER, NOW, corpus, policy


def test_a_batch_stores_what_one_page_per_transaction_stores(tmp_path: Path) -> None:
    single, batched = tmp_path / "single.db", tmp_path / "batched.db"
    for phase in ("base", "change"):
        crash_worker.run(single, phase, pages=1)
        crash_worker.run(batched, phase, pages=7)
    assert summary(batched) == summary(single)


def outbox_db(path: Path) -> sqlite_utils.Database:
    db = open_db(path)
    db.execute("CREATE TABLE test_outbox (event_id INTEGER PRIMARY KEY REFERENCES events (id))")
    return db


def test_a_failing_page_fails_alone_and_no_event_is_written_twice(tmp_path: Path) -> None:
    db = outbox_db(tmp_path / "a.db")
    run_id = start_run(db, "fujian_ningde", now=NOW)
    records = corpus(12, seed=5)
    bad = records[5].url
    seen: list[int] = []

    def on_event(db: sqlite_utils.Database, event: object) -> None:
        event_id = event.id  # type: ignore[attr-defined]
        if event.url == bad:  # type: ignore[attr-defined]
            raise RuntimeError("router refused")
        db.execute("INSERT INTO test_outbox (event_id) VALUES (?)", [event_id])
        seen.append(event_id)

    results = record_batch(db, [Fetched(r.url, r) for r in records], run_id=run_id, now=NOW, on_event=on_event)
    assert isinstance(results[5], RuntimeError)
    assert all(r is not None and r.kind == "new" for i, r in enumerate(results) if i != 5)  # type: ignore[union-attr]
    stored = {url for (url,) in db.execute("SELECT url FROM postings").fetchall()}
    assert stored == {r.url for r in records} - {bad}
    events = db.execute("SELECT id FROM events").fetchall()
    assert len(events) == 11
    assert db.execute("SELECT COUNT(*) FROM test_outbox").fetchone()[0] == 11  # one outbox row per event
    assert db.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == 11  # the index of what was stored
    db.close()


def test_touches_and_documents_in_one_batch(tmp_path: Path) -> None:
    db = outbox_db(tmp_path / "a.db")
    first = start_run(db, "fujian_ningde", now=NOW)
    old = policy()
    record(db, old, run_id=first, now=NOW, etag='"v1"')
    later = start_run(db, "fujian_ningde", now=LATER)
    new = policy("https://ybj.example.gov.cn/zcwj/t2.html", doc_no="宁医保〔2025〕117号", index_no="X-2")
    results = record_batch(db, [Fetched(old.url, etag='"v1"'), Fetched(new.url, new)], run_id=later, now=LATER)
    assert results[0] is None
    assert getattr(results[1], "kind", None) == "new"
    row = db.execute("SELECT last_seen_run, last_fetched_at, etag FROM postings WHERE url = ?", [old.url]).fetchone()
    assert row == (later, LATER, '"v1"')
    db.close()


def test_record_batch_refuses_to_run_inside_a_transaction(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    db.conn.execute("BEGIN")
    with pytest.raises(RuntimeError, match="outside"):
        record_batch(db, [], run_id=None)
    db.conn.execute("ROLLBACK")
    db.close()
