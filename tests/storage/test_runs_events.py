from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from storage import (
    finish_run,
    get_run,
    last_runs,
    list_events,
    open_db,
    record,
    search_ids,
    start_run,
    sync_portals,
    to_utc_iso,
)
from tests.storage.factories import LATER, NOW, corpus, policy


def test_runs(db: sqlite_utils.Database) -> None:
    first = start_run(db, "fujian_ningde", now="2025-08-18T00:00:00Z", full=True)
    second = start_run(db, "fujian_ningde", now="2025-08-19T00:00:00Z")
    start_run(db, "other", now="2025-08-20T00:00:00Z")
    finish_run(
        db,
        first,
        finish_reason="finished",
        health="ok",
        stats={"item_scraped_count": 12, "start_time": datetime(2025, 8, 18, tzinfo=UTC)},
        now="2025-08-18T00:10:00Z",
    )
    run = get_run(db, first)
    assert run is not None
    assert (run.full, run.healthy, run.finished_at) == (True, True, "2025-08-18T00:10:00Z")
    assert run.stats == {"item_scraped_count": 12, "start_time": "2025-08-18 00:00:00+00:00"}
    assert [r.id for r in last_runs(db, "fujian_ningde")] == [second, first]
    assert [r.id for r in last_runs(db, "fujian_ningde", limit=1)] == [second]
    unfinished = get_run(db, second)
    assert unfinished is not None
    assert not unfinished.healthy
    with pytest.raises(LookupError):
        finish_run(db, 999, finish_reason="finished", health="ok")


def test_list_events_filters(db: sqlite_utils.Database) -> None:
    run = start_run(db, "fujian_ningde", now=NOW)
    record(db, policy(), run_id=run, now=NOW)
    record(db, policy(url="https://o/1", portal_id="other", doc_no="x", index_no="y"), run_id=None, now=NOW)
    record(db, policy(validity="失效"), run_id=run, now=LATER)
    assert [e.kind for e in list_events(db)] == ["new", "new", "validity_changed"]
    assert [e.kind for e in list_events(db, since=LATER)] == ["validity_changed"]
    assert len(list_events(db, kind="new")) == 2
    assert len(list_events(db, kind=["new", "validity_changed"], portal_id="fujian_ningde")) == 2
    assert len(list_events(db, run_id=run, limit=1)) == 1
    assert len(list_events(db, document_id=2)) == 1


def test_time_arguments() -> None:
    assert (
        to_utc_iso(datetime(2025, 8, 18, 10, 12, tzinfo=timezone(timedelta(hours=8))))
        == "2025-08-18T02:12:00Z"
    )
    assert to_utc_iso("2025-08-18T02:12:00Z") == "2025-08-18T02:12:00Z"
    assert to_utc_iso(None).endswith("Z")
    with pytest.raises(ValueError, match="naive"):
        to_utc_iso(datetime(2025, 8, 18))


def test_sync_portals(db: sqlite_utils.Database) -> None:
    portals = [
        {
            "id": "nhsa",
            "name": "国家医疗保障局",
            "region_code": "100000",
            "level": "national",
            "family": "hanweb",
        },
        {
            "id": "fujian_ningde",
            "name": "宁德市医疗保障局",
            "region_code": "350900",
            "level": "city",
            "family": "trs",
        },
    ]
    assert sync_portals(db, portals, now=NOW) == 2
    sync_portals(db, portals[1:], now=LATER)  # one portal at a run's start: the others stay as they were
    rows = db.execute("SELECT id, enabled, synced_at FROM portals ORDER BY id").fetchall()
    assert rows == [("fujian_ningde", 1, LATER), ("nhsa", 1, NOW)]
    sync_portals(db, portals[1:], now=LATER, prune=True)  # the whole registry: absent ones are disabled
    rows = db.execute("SELECT id, enabled, synced_at FROM portals ORDER BY id").fetchall()
    assert rows == [("fujian_ningde", 1, LATER), ("nhsa", 0, LATER)]


def test_concurrent_writers_serialize(db_path: Path) -> None:
    open_db(db_path).close()
    errors: list[BaseException] = []
    docs = corpus(120, seed=9)

    def writer(part: int) -> None:
        try:
            database = open_db(db_path)
            for rec in docs[part::3]:
                record(database, rec, run_id=None, now=NOW)
            database.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(part,)) for part in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    database = open_db(db_path)
    assert database.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 120
    assert database.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 120
    assert len(search_ids(database, "通知")) == 120
    database.close()
