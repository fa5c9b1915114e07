"""Run a command and wait for every process it starts, those it leaves behind included: this process is their
child subreaper (Linux), so the CPU a benchmark reads from this process's ``wait4`` is the command's and all its
descendants' (``yibao run --once``'s crawl server outlives it by a moment, reparented here instead of to init).
Adds this interpreter's own start, about 0.02 CPU-s. Exits with the command's status.

    python -m benchmarks.reaper CMD [ARG ...]
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

_PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m benchmarks.reaper CMD [ARG ...]", file=sys.stderr)
        return 2
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1)
    code = subprocess.call(argv)
    while True:  # the orphans it left, adopted here: their CPU joins this process's children's
        try:
            os.wait()
        except ChildProcessError:
            return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
