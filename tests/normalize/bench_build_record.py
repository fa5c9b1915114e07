"""Throughput of ``build_record`` on seed 003 rendered as HTML (not collected by pytest).

Run: ``.venv/bin/python -m tests.normalize.bench_build_record [iterations]``

Every page gets distinct paragraph text (a counter is appended), so the ``fold`` cache cannot
serve repeated pages; the cache is cleared before each timed run. Best of three runs is reported,
measured in process CPU time (``time.process_time``) so that other load on the machine does not
distort it.
"""

from __future__ import annotations

import html
import sys
import time

from core.normalize import build_record, extract_meta_block, fold
from core.records import RawPage

from .seeds import seed_lines

PLAIN = "<p>{}</p>"
STYLED = '<p style="text-indent:2em;line-height:1.8"><span style="font-family:仿宋_GB2312">{}</span></p>'


def make_pages(n: int, template: str) -> list[RawPage]:
    lines = seed_lines("003", full_width=True)
    meta_table, rest = extract_meta_block(lines)
    pages = []
    for k in range(n):
        body = "\n".join(
            template.format(html.escape(line) + (str(k) if line.endswith("。") else "")) for line in rest
        )
        pages.append(
            RawPage(
                portal_id="bench",
                column="jytabl",
                column_kind="replies",
                url=f"http://bench.test/{k}.htm",
                status=200,
                html="",
                meta_table=meta_table,
                meta_tags={
                    "ArticleTitle": "关于市五届人大四次会议第1472号建议的答复",
                    "PubDate": "2025-08-18 10:12",
                },
                body_html=body,
            )
        )
    return pages


def bench(pages: list[RawPage], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        fold.cache_clear()
        start = time.process_time()
        for page in pages:
            record = build_record(page, bureau=None, region_code=None)
        best = min(best, time.process_time() - start)
        assert record.proposal_no == "1472"
        assert len(record.deputies) == 16
    return len(pages) / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    for name, template in (("plain <p>", PLAIN), ("styled <p><span>", STYLED)):
        pages = make_pages(n, template)
        size = len(pages[0].body_html.encode("utf-8"))
        rate = bench(pages)
        print(f"{name:18s} body_html {size / 1024:5.1f} KiB: {rate:6.0f} pages/s ({1000 / rate:.2f} ms/page)")


if __name__ == "__main__":
    main()
