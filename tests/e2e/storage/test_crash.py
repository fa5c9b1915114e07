"""kill -9 in the middle of a batch, rerun the batch: the archive equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlite_utils

from storage import open_db, search_ids
from tests.storage import crash_worker

ROOT = Path(__file__).resolve().parents[3]


def summary(path: Path) -> dict[str, Any]:
    """The archive's content, independent of row ids, run ids and timestamps."""
    db: sqlite_utils.Database = open_db(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
        key = "(SELECT identity_key FROM documents WHERE id = {}.document_id)"
        return {
            "documents": sorted(
                db.execute(
                    "SELECT d.identity_key, d.status, d.title, v.comparison_hash FROM documents d"
                    " JOIN versions v ON v.id = d.latest_version_id"
                ).fetchall()
            ),
            "versions": sorted(
                db.execute(
                    f"SELECT {key.format('v')}, version_no, comparison_hash FROM versions v"
                ).fetchall()
            ),
            "events": sorted(
                db.execute(f"SELECT {key.format('e')}, kind, changed_fields, url FROM events e").fetchall()
            ),
            "postings": sorted(
                db.execute(f"SELECT url, {key.format('p')}, content_hash, status FROM postings p").fetchall()
            ),
            "outbox = events": db.execute(
                "SELECT (SELECT COUNT(*) FROM test_outbox) = (SELECT COUNT(*) FROM events)"
            ).fetchone()[0],
            "search": [sorted(search_ids(db, q)) for q in ("医保", "补充说明", "异地就医 -DIP", "号")],
        }
    finally:
        db.close()


def run_killed(path: Path, phase: str, after: int) -> int:
    """Run the worker, SIGKILL it once it has reported ``after`` stored items; return how many it had."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.crash_worker", str(path), phase],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
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


def test_kill_minus_nine_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    reference = tmp_path / "reference.db"
    crash_worker.run(reference, "base")
    crash_worker.run(reference, "change")

    crashed = tmp_path / "crashed.db"
    crash_worker.run(crashed, "base")
    total = len(crash_worker.batch("change"))
    for after in (total // 3, 2 * total // 3):  # killed twice, each time rerunning the whole batch
        assert run_killed(crashed, "change", after) < total
    partial = summary(crashed)
    assert len(partial["versions"]) < len(summary(reference)["versions"])  # the kills did cut the batch
    crash_worker.run(crashed, "change")

    expected = summary(reference)
    assert summary(crashed) == expected
    kinds = [event[1] for event in expected["events"]]
    assert (kinds.count("new"), kinds.count("validity_changed"), kinds.count("edited")) == (170, 20, 20)
    assert len(expected["postings"]) == 130 + 40 + 20 + 5
