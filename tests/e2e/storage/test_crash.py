"""kill -9 in the middle of a batch stored one page per transaction (``record``), rerun the batch: the archive
equals an uninterrupted run."""

from __future__ import annotations

from pathlib import Path

from tests.storage import crash_worker
from tests.storage.crash_worker import run_killed, summary


def test_kill_minus_nine_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    reference = tmp_path / "reference.db"
    crash_worker.run(reference, "base", pages=0)
    crash_worker.run(reference, "change", pages=0)

    crashed = tmp_path / "crashed.db"
    crash_worker.run(crashed, "base", pages=0)
    total = len(crash_worker.batch("change"))
    for after in (total // 3, 2 * total // 3):  # killed twice, each time rerunning the whole batch
        assert run_killed(crashed, "change", after, pages=0) < total
    partial = summary(crashed)
    assert len(partial["versions"]) < len(summary(reference)["versions"])  # the kills did cut the batch
    crash_worker.run(crashed, "change", pages=0)

    expected = summary(reference)
    assert summary(crashed) == expected
    kinds = [event[1] for event in expected["events"]]
    assert (kinds.count("new"), kinds.count("validity_changed"), kinds.count("edited")) == (170, 20, 20)
    assert len(expected["postings"]) == 130 + 40 + 20 + 5
