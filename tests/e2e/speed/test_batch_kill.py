"""Several pages per transaction (``record_batch``, as the crawl stores): kill -9 at any moment leaves a
consistent archive, the rerun equals an uninterrupted run (stored one page per transaction), every event
and its outbox row are written exactly once."""

from __future__ import annotations

from pathlib import Path

from tests.storage import crash_worker
from tests.storage.crash_worker import run_killed, summary


def test_batched_kill_minus_nine_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    reference = tmp_path / "reference.db"
    crash_worker.run(reference, "base", pages=1)
    crash_worker.run(reference, "change", pages=1)  # one page per transaction: the reference

    crashed = tmp_path / "crashed.db"
    crash_worker.run(crashed, "base")
    total = len(crash_worker.batch("change"))
    for after in (total // 4, total // 2, 3 * total // 4):  # killed three times, each time rerunning the batch
        assert run_killed(crashed, "change", after, pages=7) < total
    partial = summary(crashed)  # consistent (integrity, foreign keys, index) although killed mid-batch
    assert len(partial["versions"]) < len(summary(reference)["versions"])  # the kills did cut the batch
    crash_worker.run(crashed, "change")

    expected = summary(reference)
    assert summary(crashed) == expected
    kinds = [event[1] for event in expected["events"]]
    assert kinds.count("new") == 170
    assert (kinds.count("validity_changed"), kinds.count("edited")) == (20, 20)
