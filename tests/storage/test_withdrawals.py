from __future__ import annotations

import pytest
import sqlite_utils

from storage import (
    finish_run,
    get_posting,
    list_events,
    note_gone,
    note_listed,
    note_present,
    record,
    start_run,
    touch,
    unlisted_postings,
)
from tests.storage.conftest import healthy_run
from tests.storage.factories import NOW, policy

URL = policy().url
REPOST = "https://ybj.fujian.gov.cn/copy.html"


def status(db: sqlite_utils.Database) -> str:
    return db.execute("SELECT status FROM documents").fetchone()[0]


@pytest.fixture
def archived(db: sqlite_utils.Database) -> sqlite_utils.Database:
    run = healthy_run(db, NOW)
    record(db, policy(), run_id=run, now=NOW)
    note_listed(db, "fujian_ningde", [URL], run_id=run, now=NOW)
    return db


def test_needs_n_consecutive_gone_checks_in_healthy_runs(archived: sqlite_utils.Database) -> None:
    db = archived
    first = healthy_run(db, "2025-08-19T00:00:00Z")
    assert unlisted_postings(db, "fujian_ningde", run_id=first) == [URL]
    assert note_gone(db, URL, run_id=first, now="2025-08-19T01:00:00Z") is None
    assert note_gone(db, URL, run_id=first, now="2025-08-19T01:05:00Z") is None  # same run counts once
    posting = get_posting(db, URL)
    assert posting is not None
    assert (posting.gone_checks, posting.status, status(db)) == (1, "active", "active")
    second = healthy_run(db, "2025-08-20T00:00:00Z")
    event = note_gone(db, URL, run_id=second, now="2025-08-20T01:00:00Z")
    assert event is not None
    assert (event.kind, event.run_id, event.changed_fields) == ("withdrawn", second, ("status",))
    assert status(db) == "withdrawn"
    assert [e.kind for e in list_events(db)] == ["new", "withdrawn"]
    assert unlisted_postings(db, "fujian_ningde", run_id=second) == []
    assert (
        note_gone(db, URL, run_id=healthy_run(db, "2025-08-21T00:00:00Z"), now="2025-08-21T01:00:00Z") is None
    )


@pytest.mark.parametrize(
    ("finish_reason", "health"),
    [
        ("finished", "failed"),
        ("finished", "degraded"),
        ("closespider_timeout", "ok"),
        ("shutdown", "ok"),
        (None, None),
    ],
)
def test_unhealthy_or_unfinished_runs_never_count(
    archived: sqlite_utils.Database, finish_reason: str | None, health: str | None
) -> None:
    db = archived
    for day in (19, 20, 21):
        run = start_run(db, "fujian_ningde", now=f"2025-08-{day}T00:00:00Z")
        if finish_reason is not None and health is not None:
            finish_run(db, run, finish_reason=finish_reason, health=health, now=f"2025-08-{day}T00:30:00Z")
        assert note_gone(db, URL, run_id=run, now=f"2025-08-{day}T01:00:00Z", n_required=1) is None
    posting = get_posting(db, URL)
    assert posting is not None
    assert (posting.gone_checks, posting.status, status(db)) == (0, "active", "active")


def test_listed_in_the_run_or_other_portal_does_not_count(archived: sqlite_utils.Database) -> None:
    db = archived
    run = healthy_run(db, "2025-08-19T00:00:00Z")
    note_listed(db, "fujian_ningde", [URL], run_id=run, now="2025-08-19T00:10:00Z")
    assert note_gone(db, URL, run_id=run, now="2025-08-19T01:00:00Z", n_required=1) is None
    other = healthy_run(db, "2025-08-19T00:00:00Z", portal_id="fujian")
    assert note_gone(db, URL, run_id=other, now="2025-08-19T01:00:00Z", n_required=1) is None
    assert status(db) == "active"


def test_present_resets_the_count(archived: sqlite_utils.Database) -> None:
    db = archived
    note_gone(db, URL, run_id=healthy_run(db, "2025-08-19T00:00:00Z"), now="2025-08-19T01:00:00Z")
    assert note_present(db, URL, run_id=None, now="2025-08-19T02:00:00Z") is None
    note_gone(db, URL, run_id=healthy_run(db, "2025-08-20T00:00:00Z"), now="2025-08-20T01:00:00Z")
    posting = get_posting(db, URL)
    assert posting is not None
    assert (posting.gone_checks, status(db)) == (1, "active")


def test_all_postings_must_be_gone(archived: sqlite_utils.Database) -> None:
    db = archived
    record(db, policy(url=REPOST), run_id=None, now=NOW)
    for day in (19, 20):
        run = healthy_run(db, f"2025-08-{day}T00:00:00Z")
        assert note_gone(db, URL, run_id=run, now=f"2025-08-{day}T01:00:00Z") is None
    posting = get_posting(db, URL)
    assert posting is not None
    assert (posting.status, status(db)) == ("gone", "active")
    for day in (21, 22):
        run = healthy_run(db, f"2025-08-{day}T00:00:00Z")
        event = note_gone(db, REPOST, run_id=run, now=f"2025-08-{day}T01:00:00Z")
    assert event is not None
    assert (event.kind, event.url, status(db)) == ("withdrawn", REPOST, "withdrawn")


def withdraw(db: sqlite_utils.Database) -> None:
    for day in (19, 20):
        note_gone(db, URL, run_id=healthy_run(db, f"2025-08-{day}T00:00:00Z"), now=f"2025-08-{day}T01:00:00Z")
    assert status(db) == "withdrawn"


def test_reappears_when_recorded_again(archived: sqlite_utils.Database) -> None:
    db = archived
    withdraw(db)
    event = record(db, policy(), run_id=None, now="2025-08-23T00:00:00Z")
    assert event is not None
    assert (event.kind, event.changed_fields) == ("reappeared", ("status",))
    assert status(db) == "active"
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    posting = get_posting(db, URL)
    assert posting is not None
    assert (posting.status, posting.gone_checks) == ("active", 0)
    assert record(db, policy(), run_id=None, now="2025-08-24T00:00:00Z") is None


def test_reappears_changed(archived: sqlite_utils.Database) -> None:
    db = archived
    withdraw(db)
    event = record(db, policy(validity="失效"), run_id=None, now="2025-08-23T00:00:00Z")
    assert event is not None
    assert (event.kind, event.changed_fields) == ("reappeared", ("validity",))
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 2


def test_reappears_at_a_new_url_or_by_touch(archived: sqlite_utils.Database) -> None:
    db = archived
    withdraw(db)
    event = record(db, policy(url=REPOST), run_id=None, now="2025-08-23T00:00:00Z")
    assert event is not None
    assert event.kind == "reappeared"
    db.execute("UPDATE documents SET status = 'withdrawn'")
    event = touch(db, URL, run_id=None, now="2025-08-24T00:00:00Z")
    assert event is not None
    assert event.kind == "reappeared"
    assert [e.kind for e in list_events(db)] == ["new", "withdrawn", "reappeared", "reappeared"]
