"""The end-to-end lane's order under pytest-xdist: its longest tests first, spread over the workers.

``make test-e2e`` runs this lane with ``--dist load``, which hands each worker a run of consecutive tests, first
a quarter of its share, then smaller and smaller runs as tests finish, and never takes a test back from a busy
worker. Collected in folder order, the longest tests (the scheduler's and the benchmarks') sat together near
the end of the lane (nine of them, 171 s of a full run, within places 466 to 482 of 526): one worker got
several of them in one of the last runs while the others ran out of work.

Here, when the lane runs on xdist workers, the tests named in ``SLOWEST`` (the longest of a full run, about
10 to 35 s each) go first, dealt in turn to the start of each worker's first run; every other test keeps its
place in the collection order (a module's tests stay together, so a module-scoped fixture is built once per
worker as before). The order does not change what any test does or checks.
"""

from __future__ import annotations

import os

import pytest

# node id prefixes (a module, or a test and its parameters), the longest first
SLOWEST = (
    "tests/e2e/crawl/test_extraction_accuracy.py::",  # its module fixture crawls about 1,000 documents
    "tests/e2e/speed/test_benchmarks_smoke.py::test_crawl_compare_runs_every_tool_and_section",
    "tests/e2e/scheduler/test_resume.py::test_a_time_limited_first_crawl_resumes",
    "tests/e2e/browser/test_diff_email_screenshot.py::",
    "tests/e2e/scheduler/test_scheduler_e2e.py::test_sigkill_during_a_crawl",
    "tests/e2e/scheduler/test_scheduler_e2e.py::test_sigkill_during_dispatch",
    "tests/e2e/scheduler/test_scheduler_e2e.py::test_broken_portal_alerts_once_and_recovers_once[broken-layout]",
    "tests/e2e/speed/test_benchmarks_smoke.py::test_crawl_compare_startup_section",
    "tests/e2e/speed/test_benchmarks_smoke.py::test_revisit_bench",
    "tests/e2e/cluster/test_cluster.py::",  # two tests sharing module fixtures (a reference crawl)
    "tests/e2e/alerts/test_alerts_e2e.py::test_watchers_receive_exactly_their_events",
    "tests/e2e/scheduler/test_jobs.py::test_sigterm_stops_the_daemon",
)


def longest_first(names: list[str], workers: int) -> list[int]:
    """The new order (indexes into ``names``): the ``SLOWEST`` groups dealt in turn to the start of each worker's
    first run of ``--dist load`` (``max(2, len(names) // workers // 4)`` tests), the others in their order."""
    groups: list[list[int]] = [[] for _ in SLOWEST]
    rest: list[int] = []
    for index, name in enumerate(names):
        slot = next((k for k, prefix in enumerate(SLOWEST) if name.startswith(prefix)), None)
        (rest if slot is None else groups[slot]).append(index)
    heads: list[list[int]] = [[] for _ in range(workers)]
    for k, group in enumerate(g for g in groups if g):
        heads[k % workers] += group
    run = max(2, len(names) // workers // 4)
    order: list[int] = []
    for head in heads:
        fill = max(0, run - len(head))
        order += head + rest[:fill]
        rest = rest[fill:]
    return order + rest


@pytest.hookimpl(trylast=True)  # after the deselection by -m / -k: the list the workers' scheduler sees
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))  # set in each xdist worker
    if workers > 1:
        order = longest_first([item.nodeid for item in items], workers)
        items[:] = [items[i] for i in order]
