"""``benchmarks.reaper``: the CPU of what a command leaves behind is counted in the reaper's own ``wait4``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# starts a child that burns 0.4 CPU-s after its parent has exited (an orphan, as run --once's crawl server is)
LEAVES_AN_ORPHAN = """
import os, sys, time
if os.fork() == 0:
    time.sleep(0.2)  # the parent is gone by now
    start = time.process_time()
    while time.process_time() - start < 0.4:
        pass
    os._exit(0)
sys.exit(3)
"""


def _cpu(cmd: list[str]) -> tuple[float, int]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, proc.returncode


def test_the_orphans_cpu_is_counted_and_the_exit_status_kept() -> None:
    alone, code = _cpu([sys.executable, "-c", LEAVES_AN_ORPHAN])
    assert code == 3
    assert alone < 0.3
    reaped, code = _cpu([sys.executable, "-m", "benchmarks.reaper", sys.executable, "-c", LEAVES_AN_ORPHAN])
    assert code == 3
    assert reaped >= 0.4  # the orphan waited for and counted


def test_no_command_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.reaper"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert "usage" in done.stderr
