"""Run every benchmark in turn: ``python -m benchmarks`` (figures printed, no asserts)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("replicas_bench", "pipeline_bench", "crawl_bench", "crawl_compare", "revisit_bench", "search_bench",
              "webui_bench", "fts_compare", "citation_accuracy", "cluster_bench", "hostile_probe")


def main() -> int:
    names = sys.argv[1:] or BENCHMARKS
    sys.argv = sys.argv[:1]  # each benchmark parses its own (default) arguments
    for name in names:
        print(f"\n=== benchmarks.{name} ===", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
