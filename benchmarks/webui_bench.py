"""The web UI on a large archive: how long each kind of page of ``yibao serve`` takes to render.

Datasette (with this project's plugin, metadata and templates) is driven in process through its own
ASGI client, so the figures are server time without the network: the home page, ranked search (a
common 2-char term, a 4-char term, a phrase, filtered by region and kind, by deputy and adoption, newest
first, a later page), the documents table with its seven facets (plain, with two or three facet values
selected -- province + kind, province + year -- with one, its search box -- a redirect to the search
page -- and a search kept on the table with ``_table=1``: a 4-char term, with a facet value, the
commonest term, a deputy's name; each timed as a search's first request, and two pages that reuse the
commonest term's matches: its next page, a facet value), a document page with its
versions, the charts, the Atom feed of changes and two canned queries. Each line gives p50/p95 and
the status codes seen: a page over Datasette's time limits answers 400/500 or drops its facets, and
that shows here.

    .venv/bin/python -m benchmarks.webui_bench [--docs 100000] [--db PATH] [--reps 5]

``--db`` reuses (or keeps) an archive built by ``benchmarks.search_bench`` (the same corpus and
``--docs`` semantics: an existing file with fewer documents is topped up).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from benchmarks.search_bench import build, line, percentile
from storage import facet_columns, open_db
from webui import table_search
from webui.app import make_datasette, prepare_archive

REUSED = "matches reused:"
"""A page of a search kept on the table that an earlier request of the same search precedes (its next
page, a facet value chosen): the search's match set is reused (``webui.table_search.matches``). Every
other search kept on the table is timed as a search's first request: the kept match sets are dropped
before each of its requests."""


def pages(db_path: Path) -> list[tuple[str, str]]:
    """(label, URL) of the pages to time; ids and names are taken from the archive itself."""
    db = open_db(db_path)
    try:
        (doc_id,) = db.execute("SELECT MAX(id) FROM documents").fetchone()
        deputy = db.execute(
            "SELECT j.value FROM documents d, json_each(d.deputies) j WHERE d.id > ? LIMIT 1", [doc_id // 2]
        ).fetchone()
    finally:
        db.close()
    deputy_q = quote(deputy[0]) if deputy else quote("张三")
    return [
        ("home (totals, latest changes)", "/"),
        ("search 2-char 医保", f"/-/search?q={quote('医保')}"),
        ("search 4-char 异地就医", f"/-/search?q={quote('异地就医')}"),
        ("search phrase", f"/-/search?q={quote(chr(34) + '按病种分值付费' + chr(34))}"),
        ("search 门诊, region + kind", f"/-/search?q={quote('门诊')}&region=350000&kind=suggestion_reply"),
        (
            "search 建议, deputy + adoption",
            f"/-/search?q={quote('建议')}&deputy={deputy_q}&adoption={quote('部分采纳')}",
        ),
        ("search 医保, newest first", f"/-/search?q={quote('医保')}&sort=newest"),
        ("search phrase, region + kind, newest first",
         f"/-/search?q={quote(chr(34) + '按病种分值付费' + chr(34))}&region=350000&kind=suggestion_reply&sort=newest"),
        ("search 异地就医, page 6", f"/-/search?q={quote('异地就医')}&page=6"),
        ("documents table + 7 facets", "/archive/documents"),
        ("documents table, search box 医保 (redirect + search page)", f"/archive/documents?_search={quote('医保')}"),
        ("  the search page it sends to", f"/-/search?q={quote('医保')}"),
        ("documents table, search box 异地就医 + kind (redirect + page)",
         f"/archive/documents?_search={quote('异地就医')}&kind=suggestion_reply"),
        ("documents table, search 异地就医 kept (_table=1)", f"/archive/documents?_search={quote('异地就医')}&_table=1"),
        ("  the same + a facet value (kind)",
         f"/archive/documents?_search={quote('异地就医')}&_table=1&kind=suggestion_reply"),
        ("  the commonest 4-char term (医保基金) kept", f"/archive/documents?_search={quote('医保基金')}&_table=1"),
        ("  a deputy's name kept (few matches)", f"/archive/documents?_search={deputy_q}&_table=1"),
        (f"  {REUSED} the commonest term, its next page",
         f"next of /archive/documents.json?_search={quote('医保基金')}&_table=1&_size=50"),
        (f"  {REUSED} the commonest term + a facet value (kind)",
         f"/archive/documents?_search={quote('医保基金')}&_table=1&kind=suggestion_reply"),
        ("documents table, its second page (Datasette's cursor)", "next of /archive/documents.json?_size=50"),
        ("documents table, second page by id (_sort_desc=id)", "next of /archive/documents.json?_size=50&_sort_desc=id"),
        ("documents table, facet selected", "/archive/documents?province=福建省&kind=suggestion_reply"),
        ("documents table, province + kind (Sichuan policies)", "/archive/documents?province=四川省&kind=policy"),
        ("documents table, province + year (generated columns)", "/archive/documents?province=福建省&published_year=2025"),
        ("documents table, three values (kind + status + year)",
         "/archive/documents?kind=suggestion_reply&status=active&published_year=2025"),
        ("documents table, one facet value (kind)", "/archive/documents?kind=policy"),
        ("documents table, one facet value most have (status)", "/archive/documents?status=active"),
        ("document page (record, versions, diffs)", f"/archive/documents/{doc_id}"),
        ("charts, 36 months by province", "/-/charts"),
        ("charts, 120 months by bureau", "/-/charts?by=bureau&months=120"),
        ("Atom feed of changes", "/-/feeds/changes.atom"),
        ("canned: latest_changes", "/archive/latest_changes"),
        ("canned: replies_by_deputy", f"/archive/replies_by_deputy?deputy={deputy_q}"),
    ]


async def measure(db_path: Path, reps: int) -> None:
    ds = make_datasette(db_path)
    start = time.perf_counter()
    facet_columns.warm(str(db_path)).join()  # as `yibao serve` does in the background at its start
    print(f"  facet values read into memory (yibao serve's start, in the background): {time.perf_counter() - start:.1f} s")
    for label, url in pages(db_path):
        if url.startswith("next of "):  # the page after the first: its cursor from the first page
            first = (await ds.client.get(url.removeprefix("next of "))).json()
            url = "/" + first["next_url"].split("://", 1)[-1].split("/", 1)[-1]
        statuses: dict[int, int] = {}
        samples: list[float] = []
        for attempt in range(reps + 1):  # the first request warms caches and is not timed
            if "_table=1" in url and REUSED not in label:
                table_search.forget()  # the search's first request: its matches read from the index
            start = time.perf_counter()
            response = await ds.client.get(url, follow_redirects=True)  # a redirect: both requests timed
            elapsed = (time.perf_counter() - start) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if "These facets timed out" in response.text:
                statuses[-1] = statuses.get(-1, 0) + 1
            if attempt:
                samples.append(elapsed)
        codes = ", ".join(f"{code}×{n}" if code != -1 else f"facets timed out×{n}" for code, n in statuses.items())
        line(label, percentile(samples, 0.5), percentile(samples, 0.95), f"  [{codes}]")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--db", help="reuse (or keep) this archive")
    parser.add_argument("--workers", type=int, default=2, help="bulk_load tokenising processes (0: none)")
    parser.add_argument("--reps", type=int, default=5, help="timed requests per page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "search.db"
        build(path, args.docs, workers=args.workers, batch=5000)
        prepare_archive(path)
        db = open_db(path)
        (count,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
        db.close()
        print(f"web UI pages over {count:,} documents ({args.reps} timed requests each, in process):")
        asyncio.run(measure(path, args.reps))


if __name__ == "__main__":
    main()
