"""ops.maintenance: the scheduler completes an incomplete token presence summary (an archive migrated from
before m011 and too large to fill while opening), and a stopping daemon leaves it incomplete, never wrong."""

from __future__ import annotations

import threading
from pathlib import Path

from ops.maintenance import complete_search_summary
from storage import open_db, record, search_count, start_run, token_presence
from storage.db import write_transaction
from storage.query import DocumentFilter
from tests.storage.factories import NOW, notice


def incomplete_archive(path: Path) -> None:
    """An archive of three notices whose summary is forgotten and marked incomplete (as m011 leaves a large one)."""
    db = open_db(path)
    run_id = start_run(db, "t", now=NOW)
    for n, text in enumerate(("医保基金监管办法。", "门诊共济保障。", "异地就医直接结算。")):
        record(db, notice(f"https://ybj.example.gov.cn/tzgg/{n}.html", text), run_id=run_id, now=NOW)
    with write_transaction(db):
        token_presence.clear(db)
        token_presence.mark_incomplete(db)
    db.close()


def test_an_incomplete_summary_is_completed_once(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    incomplete_archive(path)
    assert complete_search_summary(path) == 3
    db = open_db(path)
    assert token_presence.complete(db)
    kind = DocumentFilter(kinds=("notice",))
    assert search_count(db, "异地就医", kind) == 1  # the filled summary proves nothing wrong
    assert search_count(db, "药品集采", kind) == 0
    db.close()
    assert complete_search_summary(path) == 0  # complete: nothing read again


def test_a_stop_leaves_it_incomplete_and_unused(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    incomplete_archive(path)
    stop = threading.Event()
    stop.set()
    assert complete_search_summary(path, stop) == 0
    db = open_db(path)
    assert not token_presence.complete(db)
    assert search_count(db, "门诊共济", DocumentFilter(kinds=("notice",))) == 1  # incomplete: never used to say "absent"
    db.close()
