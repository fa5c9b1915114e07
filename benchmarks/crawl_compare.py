"""Yibao against a bare Scrapy spider and urlwatch, side by side in one run on one local portal.

The portal is ``benchmarks.bench_portal`` (stdlib ``http.server``, noisy list → detail pages, one linked
PDF per detail that exists or is a 404, ETag/304). For each size N every tool crawls it from scratch,
in a subprocess whose CPU time (user + system, from ``wait4``), wall time and peak RSS are measured:

- ``bare``: ``benchmarks.bare_spider``, a plain Scrapy list → detail spider (the yardstick);
- ``yibao``: ``yibao crawl --fast`` of a ``generic`` portal entry, everything on (attachments, archive,
  full-text index, identity, events);
- ``urlwatch``: one job per detail page plus the first list page (it cannot discover links), no filters;
- ``yibao warm``: the same first crawl as the daemon (and ``yibao run --once``) makes it, forked by
  ``crawler.launcher``'s server (``benchmarks.warm_cycle``): its CPU from the fork to its exit and its own
  wall time, so without the imports the server pays once per daemon (printed with the start-up).

With ``--before DIR`` (a checkout of an earlier commit, e.g. ``git archive <commit> | tar -x -C DIR``) its
Yibao runs too, as ``yibao@before``, in the same rounds, and its pipeline figures are printed beside today's.

Pages are the list and detail pages a tool fetched (a PDF is a request, not a page). Then, at the smallest
N, an unchanged cycle (the portal as it was): requests and CPU of a second ``yibao crawl`` and ``urlwatch``
run. Then the start-up cost: ``yibao --help``, ``yibao run --once`` with nothing due (a cron tick: its CPU and
that of every process it starts, through ``benchmarks.reaper``), and a crawl process of an empty portal for each
tool.
Rounds rotate the tools' order; each figure is the median with its spread [min–max] over the rounds, and
the ratios are taken within a round (the machine is shared: compare ratios, not absolute figures).

    python -m benchmarks.crawl_compare [--docs 200 2000] [--rounds 3] [--skip urlwatch] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_portal import BenchPortal

ROOT = Path(__file__).resolve().parents[1]
PORTAL_ID = "bench"
TOOLS = ("bare", "yibao", "urlwatch")
BEFORE = "yibao@before"
WARM = "yibao warm"  # a crawl as the daemon runs it: forked by crawler.launcher's server
before_dir: Path | None = None  # --before


@dataclass
class Measure:
    tool: str
    requests: int
    pages: int
    cpu: float  # s, user + system of the process
    wall: float  # s
    rss_mb: float
    attachments: str = ""
    code: int = 0
    error: str = ""
    lists: int = 0
    details: int = 0
    not_modified: int = 0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages if self.pages else 0.0


def env(root: Path = ROOT) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "SCRAPY_"))}
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), out.get("PYTHONPATH", "")) if p)
    return out


def measured(
    cmd: Sequence[str], cwd: Path, extra_env: dict[str, str] | None = None, root: Path = ROOT
) -> tuple[float, float, float, int]:
    """Run ``cmd``; (CPU s, wall s, peak RSS MiB, exit code). Output goes to files in ``cwd`` (no pipe to drain)."""
    with open(cwd / "out.log", "ab") as out, open(cwd / "err.log", "ab") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env={**env(root), **(extra_env or {})}, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, proc.returncode


def yibao_cmd() -> list[str]:
    script = Path(sys.executable).with_name("yibao")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def urlwatch_cmd() -> list[str] | None:
    script = Path(sys.executable).with_name("urlwatch")
    if script.exists():
        return [str(script)]
    found = shutil.which("urlwatch")
    return [found] if found else None


class Workdir:
    """One tool's files for one portal (archive, config, urlwatch cache), kept across its cycles."""

    def __init__(self, root: Path, portal: BenchPortal, tool: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=root))
        self.portal = portal
        self.tool = tool
        if tool in ("yibao", BEFORE):
            (self.path / "yibao.toml").write_text(yibao_config(portal, self.path / "archive.db"), encoding="utf-8")
        if tool == "urlwatch":
            urls = [portal.list_url()] + [portal.detail_url(d) for d in portal.docs]
            (self.path / "urls.yaml").write_text("\n---\n".join(f'url: "{u}"' for u in urls) + "\n", encoding="utf-8")
            cmd = urlwatch_cmd()
            assert cmd is not None
            subprocess.run([*cmd, *self.urlwatch_args(), "--list"], cwd=self.path, env={**env(), "HOME": str(self.path)},
                           capture_output=True, check=True)  # writes the default config once, untimed

    def urlwatch_args(self) -> list[str]:
        return ["--urls", str(self.path / "urls.yaml"), "--config", str(self.path / "urlwatch.yaml"),
                "--cache", str(self.path / "cache.db"), "--hooks", str(self.path / "hooks.py")]  # fmt: skip

    def command(self) -> list[str]:
        if self.tool == "bare":
            return [sys.executable, "-m", "benchmarks.bare_spider", self.portal.list_url()]
        if self.tool == "yibao":
            return [*yibao_cmd(), "--config", str(self.path / "yibao.toml"), "crawl", "--fast", PORTAL_ID]
        if self.tool == BEFORE:
            return [sys.executable, "-m", "cli.main", "--config", str(self.path / "yibao.toml"), "crawl", "--fast", PORTAL_ID]
        cmd = urlwatch_cmd()
        assert cmd is not None
        return [*cmd, *self.urlwatch_args()]

    def run_warm(self) -> tuple[Measure, float]:
        """The portal crawled once more as the daemon crawls it (``benchmarks.warm_cycle``): the crawl's own CPU
        (its run's ``yibao/cpu_seconds``), and the server's one-time start CPU."""
        portal = self.portal
        portal.reset_counts()
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "benchmarks.warm_cycle", "--config", str(self.path / "yibao.toml"),
                               "--portal", PORTAL_ID], cwd=self.path, env={**env(), "HOME": str(self.path)},
                              capture_output=True, text=True, check=False)  # fmt: skip
        wall = time.perf_counter() - start
        if done.returncode != 0:
            return Measure(WARM, portal.total(), 0, 0.0, wall, 0.0, code=done.returncode,
                           error=(done.stderr.strip().splitlines() or [""])[-1]), 0.0  # fmt: skip
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        crawl = figures["crawls"][0]
        wall = float(crawl.get("wall") or wall)  # the crawl's own, without the server's start
        pages = sum(portal.total(kind) for kind in ("list", "detail"))
        cpu = crawl.get("cpu_whole") or crawl["cpu"] or 0.0  # to its exit where it can be read
        return Measure(WARM, portal.total(), pages, float(cpu), wall, 0.0, "", 0 if crawl["health"] == "ok" else 1,
                       "", portal.total("list"), portal.total("detail"), portal.total("detail", 304)), float(figures["server_start_cpu"])  # fmt: skip

    def run(self) -> Measure:
        portal = self.portal
        portal.reset_counts()
        root = before_dir if self.tool == BEFORE and before_dir is not None else ROOT
        cpu, wall, rss, code = measured(self.command(), self.path, {"HOME": str(self.path)}, root)
        pages = sum(portal.total(kind) for kind in ("list", "detail"))  # a 304 is a page fetched, too
        attachments = f"{portal.total('attachment', 200)}×200 {portal.total('attachment', 404)}×404 " \
                      f"{portal.total('attachment', 304)}×304"  # fmt: skip
        error = ""
        if code != 0:
            lines = (self.path / "err.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
            error = lines[-1] if lines else ""
        return Measure(self.tool, portal.total(), pages, cpu, wall, rss, attachments, code, error,
                       portal.total("list"), portal.total("detail"), portal.total("detail", 304))  # fmt: skip


def yibao_config(portal: BenchPortal, archive: Path) -> str:
    return (
        f'use_shipped = false\n\n[archive]\npath = "{archive}"\n\n[[portals]]\nid = "{PORTAL_ID}"\nname = "基准市医疗保障局"\n'
        'region_code = "350200"\nlevel = "city"\nfamily = "generic"\n'
        f'base_url = "{portal.url}"\n'
        'columns = [{ name = "政策文件", kind = "policies", url = "/xxgk/index.html" }]\n'
        'options = { link = "ul.list li a", body = "div.article-body", title = "h1.title", next_page = "a.next" }\n'
    )


# --- figures -----------------------------------------------------------------------------------------


def spread(values: Sequence[float], fmt: str) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def table(rows: dict[str, list[Measure]]) -> None:
    print(f"  {'tool':12s} {'requests':>8s} {'pages':>6s} {'CPU s':>20s} {'wall s':>20s} {'pages/s':>16s} "
          f"{'CPU ms/page':>20s} {'peak RSS MiB':>12s}")  # fmt: skip
    for tool, ms in rows.items():
        if not ms:
            continue
        print(f"  {tool:12s} {statistics.median(m.requests for m in ms):8.0f} {statistics.median(m.pages for m in ms):6.0f} "
              f"{spread([m.cpu for m in ms], '.2f'):>20s} {spread([m.wall for m in ms], '.2f'):>20s} "
              f"{spread([m.pages_per_s for m in ms], '.0f'):>16s} {spread([m.cpu_ms_per_page for m in ms], '.2f'):>20s} "
              f"{statistics.median(m.rss_mb for m in ms):12.0f}")  # fmt: skip
        for m in ms:
            if m.code != 0:
                print(f"    ({tool} exit code {m.code}: {m.error})")
    for tool in ("yibao", BEFORE):
        if rows.get(tool):
            print(f"  {tool} attachment requests: {rows[tool][0].attachments}")


def ratios(rows: dict[str, list[Measure]], a: str, b: str) -> tuple[list[float], list[float]]:
    """Per round: pages/s of ``a`` over ``b``'s, CPU per page of ``a`` over ``b``'s."""
    pairs = list(zip(rows.get(a, []), rows.get(b, []), strict=False))
    return ([x.pages_per_s / y.pages_per_s for x, y in pairs if y.pages_per_s],
            [x.cpu_ms_per_page / y.cpu_ms_per_page for x, y in pairs if y.cpu_ms_per_page])  # fmt: skip


def ratio_lines(rows: dict[str, list[Measure]]) -> None:
    for tool in ("yibao", BEFORE, WARM):
        speed, cpu = ratios(rows, tool, "bare")
        if speed:
            print(f"  {tool} / bare: pages/s {spread(speed, '.2f')}× (goal ≥ 0.70), CPU per page {spread(cpu, '.2f')}×"
                  f" (goal: ≤ 3.5 ms where bare needs 2.3 ms, i.e. ≤ 1.52×)")  # fmt: skip
        _, cpu = ratios(rows, tool, "urlwatch")
        if cpu:
            print(f"  {tool} / urlwatch: CPU per page {spread(cpu, '.2f')}×")


def rotated(tools: Sequence[str], k: int) -> list[str]:
    k %= len(tools)
    return list(tools[k:]) + list(tools[:k])


def compare(n: int, rounds: int, tools: Sequence[str], root: Path, unchanged: bool) -> None:
    print(f"\nN = {n} documents ({-(-n // 20)} list pages, a PDF linked from each detail: "
          f"every 4th exists, the rest 404), {rounds} round(s)", flush=True)
    full: dict[str, list[Measure]] = {t: [] for t in tools}
    again: dict[str, list[Measure]] = {t: [] for t in tools if t != "bare"}
    server_cpu: list[float] = []
    portal = BenchPortal(n)
    with portal.serve():
        for k in range(rounds):
            dirs = {tool: Workdir(root, portal, tool) for tool in tools}
            for tool in rotated(tools, k):
                full[tool].append(dirs[tool].run())
            if "yibao" in tools:  # the first crawl as the daemon makes it: forked warm, on an archive of its own
                fresh = Workdir(root, portal, "yibao")
                full.setdefault(WARM, []).append(fresh.run_warm()[0])
                shutil.rmtree(fresh.path, ignore_errors=True)
            if unchanged:
                for tool in rotated([t for t in tools if t != "bare"], k):
                    again[tool].append(dirs[tool].run())
                if "yibao" in dirs:
                    measure, server = dirs["yibao"].run_warm()
                    again.setdefault(WARM, []).append(measure)
                    server_cpu.append(server)
            for d in dirs.values():
                shutil.rmtree(d.path, ignore_errors=True)
    print("  full first crawl")
    table(full)
    ratio_lines(full)
    if unchanged:
        print(f"  unchanged cycle (N = {n}, straight after the first crawl: every document young): the portal "
              "answers 304 to conditional GETs")  # fmt: skip
        table(again)
        if server_cpu:
            print(f"  {WARM}: the crawl forked by the daemon's server (CPU from the fork to the crawl's exit; peak"
                  f" RSS not measured); the server's imports, once per daemon: {spread(server_cpu, '.2f')} CPU s")
        for tool in ("yibao", BEFORE, WARM):
            if again.get(tool):
                m = again[tool][0]
                print(f"  {tool} requests: {m.requests} = robots 1 + lists {m.lists} + revisits {m.details} "
                      f"({m.not_modified} answered 304) + attachments {m.requests - 1 - m.lists - m.details}")  # fmt: skip
            cpu = [y.cpu / u.cpu for y, u in zip(again.get(tool, []), again.get("urlwatch", []), strict=False)]
            if cpu:
                print(f"  {tool} / urlwatch CPU s: {spread(cpu, '.2f')}× (goal ≤ 1)")


def startup(rounds: int, tools: Sequence[str], root: Path) -> None:
    print("\nstart-up: CPU s of a process that does (almost) nothing (a crawl: of an empty portal, the archive"
          " already created by an untimed first run)", flush=True)  # fmt: skip
    portal = BenchPortal(0)
    crawled = BenchPortal(5)  # for the cron tick: a portal crawled once with success is not due again until its schedule
    with portal.serve(), crawled.serve():
        cases: list[tuple[str, list[str], Path, Path]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], root, ROOT),
            ("yibao --help", [*yibao_cmd(), "--help"], root, ROOT),
        ]
        if "yibao" in tools:
            idle = Workdir(root, crawled, "yibao")
            idle.run()
            cases.append(("yibao run --once, nothing due (a cron tick)",
                          [sys.executable, "-m", "benchmarks.reaper", *yibao_cmd(), "--config",
                           str(idle.path / "yibao.toml"), "run", "--once"], idle.path, ROOT))  # fmt: skip
        if BEFORE in tools and before_dir is not None:
            cases.append((f"{BEFORE} --help", [sys.executable, "-m", "cli.main", "--help"], root, before_dir))
        for tool in tools:
            work = Workdir(root, portal, tool)
            work.run()
            cases.append((f"{tool}: crawl of an empty portal", work.command(), work.path,
                          before_dir if tool == BEFORE and before_dir is not None else ROOT))  # fmt: skip
        figures: dict[str, list[float]] = {label: [] for label, _, _, _ in cases}
        warm = Workdir(root, portal, "yibao") if "yibao" in tools else None
        if warm is not None:
            warm.run()
        warm_label = f"{WARM}: crawl of an empty portal (forked)"
        for _ in range(rounds):
            for label, command, cwd, code_root in cases:
                figures[label].append(measured(command, cwd, {"HOME": str(cwd)}, code_root)[0])
            if warm is not None:
                figures.setdefault(warm_label, []).append(warm.run_warm()[0].cpu)
    for label, values in figures.items():
        print(f"  {label:40s} {spread(values, '.2f')} CPU s")


LEGACY_PIPELINE = """
import sys, time
time.perf_counter = time.process_time  # the old benchmark timed with the wall clock: CPU time here
from benchmarks import pipeline_bench
pipeline_bench.main(sys.argv[1:])
"""


def pipeline(docs: int) -> None:
    print("\npipeline alone (extract + normalize + store + FTS), in its own process", flush=True)
    subprocess.run([sys.executable, "-m", "benchmarks.pipeline_bench", "--docs", str(docs)], cwd=ROOT, env=env(),
                   check=False)  # fmt: skip
    if before_dir is not None:
        print(f"  {BEFORE} (its own pipeline_bench, timed in CPU seconds):", flush=True)
        subprocess.run([sys.executable, "-c", LEGACY_PIPELINE, "--docs", str(docs)], cwd=before_dir,
                       env=env(before_dir), check=False)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=[*TOOLS, "startup", "pipeline", "unchanged"])
    parser.add_argument("--pipeline-docs", type=int, default=2000)
    parser.add_argument("--before", type=Path, help="a checkout of an earlier commit, crawled as yibao@before")
    args = parser.parse_args(argv)
    global before_dir
    before_dir = args.before.resolve() if args.before else None
    tools = [t for t in TOOLS if t not in args.skip]
    if before_dir is not None:
        tools.insert(tools.index("yibao") + 1 if "yibao" in tools else len(tools), BEFORE)
    if "urlwatch" in tools and urlwatch_cmd() is None:
        print("urlwatch is not installed (pip install '.[bench]'): left out")
        tools.remove("urlwatch")
    with tempfile.TemporaryDirectory(prefix="crawl-compare-") as tmp:
        root = Path(tmp)
        for i, n in enumerate(sorted(args.docs)):
            compare(n, args.rounds, tools, root, unchanged=i == 0 and "unchanged" not in args.skip)
        if "startup" not in args.skip:
            startup(args.rounds, tools, root)
    if "pipeline" not in args.skip:
        pipeline(args.pipeline_docs)


if __name__ == "__main__":
    main()
