"""Several pages per transaction (``record_batch``, as the crawl stores): kill -9 at any moment leaves a
consistent archive, the rerun equals an uninterrupted run (stored one page per transaction), every event
and its outbox row are written exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.storage import batch_crash_worker
from tests.storage.batch_crash_worker import summary

ROOT = Path(__file__).resolve().parents[3]


def run_killed(path: Path, phase: str, after: int) -> int:
    """Run the batch worker, SIGKILL it once it has committed ``after`` items; return how many it had."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.batch_crash_worker", str(path), phase, "7"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
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


def test_batched_kill_minus_nine_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    reference = tmp_path / "reference.db"
    batch_crash_worker.run(reference, "base", pages=1)
    batch_crash_worker.run(reference, "change", pages=1)  # one page per transaction: the reference

    crashed = tmp_path / "crashed.db"
    batch_crash_worker.run(crashed, "base")
    total = len(batch_crash_worker.batch("change"))
    for after in (total // 4, total // 2, 3 * total // 4):  # killed three times, each time rerunning the batch
        assert run_killed(crashed, "change", after) < total
    partial = summary(crashed)  # consistent (integrity, foreign keys, index) although killed mid-batch
    assert len(partial["versions"]) < len(summary(reference)["versions"])  # the kills did cut the batch
    batch_crash_worker.run(crashed, "change")

    expected = summary(reference)
    assert summary(crashed) == expected
    kinds = [event[1] for event in expected["events"]]
    assert kinds.count("new") == 170
    assert (kinds.count("validity_changed"), kinds.count("edited")) == (20, 20)
