"""Real crawls (``yibao crawl --fast`` processes, forked warm by ``tests.e2e.warm``) of the benchmark portal (``benchmarks.bench_portal``, stdlib
server, ETag/304) for the attachment fetch policy and the resume after an interrupted crawl:

- a new document's attachments are fetched once; a 404 is recorded missing, without a hash;
- an unchanged cycle fetches no attachment; an edited page keeps its known attachments without a request; a
  changed link is fetched (only it);
- at most ``YIBAO_ATTACHMENTS_PER_PAGE`` fetches per page and ``YIBAO_ATTACHMENTS_PER_RUN`` per run;
- a file linked from two pages is fetched once, and both documents are stored;
- a full crawl re-checks known files with conditional GET (a 304 keeps the hash);
- after an interrupted crawl every list page is read.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from benchmarks.bench_portal import BenchPortal
from benchmarks.crawl_compare import env, yibao_config
from replicas.pdf import make_pdf
from storage import finish_run, open_db
from tests.e2e.warm import yibao


def configure(portal: BenchPortal, tmp_path: Path, **settings: object) -> Path:
    config = tmp_path / "yibao.toml"
    text = yibao_config(portal, tmp_path / "archive.db")
    if settings:
        table = ", ".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
        text = text.replace('family = "generic"\n', f'family = "generic"\nsettings = {{ {table} }}\n')
    config.write_text(text, encoding="utf-8")
    return config


def crawl(config: Path, *extra: str) -> dict[str, Any]:
    done = yibao("--config", str(config), "crawl", "--fast", "--json", "bench", *extra, cwd=config.parent, env=env(),
                 timeout=300)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)["bench"]
    return summary


def query(tmp_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute(sql, params).fetchall()


def attachments(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Posting URL → the attachments of its document's latest version."""
    rows = query(tmp_path, "SELECT p.url, v.record_json FROM postings p JOIN documents d ON d.id = p.document_id"
                           " JOIN versions v ON v.id = d.latest_version_id")  # fmt: skip
    return {url: json.loads(record)["attachments"] for url, record in rows}


def att_requests(portal: BenchPortal) -> dict[tuple[str, int], int]:
    return {key: n for key, n in portal.paths.items() if key[0].startswith("/xxgk/att/")}


def test_attachments_fetched_for_new_documents_and_changed_links_only(tmp_path: Path) -> None:
    portal = BenchPortal(8, pdf_every=2)  # even documents have their PDF, odd ones link a 404
    with portal.serve():
        config = configure(portal, tmp_path)
        crawl(config)
        first = att_requests(portal)
        assert sorted(first) == sorted((portal.attachment_path(d), 200 if d.id % 2 == 0 else 404) for d in portal.docs)
        assert set(first.values()) == {1}  # each once
        stored = attachments(tmp_path)
        for doc in portal.docs:
            (att,) = stored[portal.detail_url(doc)]
            if doc.id % 2 == 0:
                assert len(att["sha256"]) == 64
                assert att["size"] > 0
                assert att["missing"] is False
                assert att["etag"]
            else:
                assert att["sha256"] is None  # recorded missing: no hash, and
                assert att["missing"] is True  # not asked for again on the next cycles

        portal.reset_counts()
        crawl(config)  # unchanged: every page answers 304, no attachment is asked for
        assert att_requests(portal) == {}
        assert portal.total("detail", 304) == 8

        portal.reset_counts()
        portal.edit(4)  # the page changes, its attachment link stays
        portal.edit(3)  # the same for a page whose attachment is missing
        portal.relink(6)  # a new link on the page: only that one is fetched
        summary = crawl(config)
        assert att_requests(portal) == {(portal.attachment_path(portal.by_id[6]), 200): 1}
        assert summary["edited"] == 3
        after = attachments(tmp_path)
        assert after[portal.detail_url(portal.by_id[4])] == stored[portal.detail_url(portal.by_id[4])]
        assert after[portal.detail_url(portal.by_id[3])][0]["missing"] is True
        (moved,) = after[portal.detail_url(portal.by_id[6])]
        assert moved["url"].endswith("/xxgk/att/6_r1.pdf")
        assert moved["sha256"] is not None
        assert moved["sha256"] != stored[portal.detail_url(portal.by_id[6])][0]["sha256"]
        kinds = [k for (k,) in query(tmp_path, "SELECT kind FROM events ORDER BY id")]
        assert kinds.count("metadata_changed") == 0  # known attachments taken over: no spurious change

        portal.reset_counts()
        crawl(config, "--full")  # a full crawl re-checks the known files conditionally
        rechecked = att_requests(portal)
        assert all(status in (304, 404) for _, status in rechecked)
        assert sum(n for (_, status), n in rechecked.items() if status == 304) == 4  # the four PDFs: unchanged
        assert attachments(tmp_path) == after  # a 304 keeps the stored hash
        assert query(tmp_path, "SELECT COUNT(*) FROM versions")[0][0] == 8 + 3


def test_attachment_fetches_capped_per_page_and_per_run(tmp_path: Path) -> None:
    portal = BenchPortal(10, pdf_every=1)
    portal.extra[10] = [f"/xxgk/att/extra{k}.pdf" for k in range(6)]  # the newest page links seven files
    for path in portal.extra[10]:
        portal.files[path] = make_pdf([path])
    with portal.serve():
        crawl(configure(portal, tmp_path, YIBAO_ATTACHMENTS_PER_PAGE=3))
        page = [path for path, _ in att_requests(portal) if path == "/xxgk/att/10.pdf" or "extra" in path]
        assert sorted(page) == sorted(["/xxgk/att/10.pdf", "/xxgk/att/extra0.pdf", "/xxgk/att/extra1.pdf"])
        listed = attachments(tmp_path)[portal.detail_url(portal.by_id[10])]
        assert len(listed) == 7  # every link is listed; those over the cap without a hash
        assert [a["sha256"] is not None for a in listed] == [True] * 3 + [False] * 4

    other = tmp_path / "run-cap"
    other.mkdir()
    portal = BenchPortal(10, pdf_every=1)
    with portal.serve():
        crawl(configure(portal, other, YIBAO_ATTACHMENTS_PER_RUN=4))
        assert sum(att_requests(portal).values()) == 4
        stored = [a for atts in attachments(other).values() for a in atts]
        assert len(stored) == 10  # every document stored, with its link
        assert sum(a["sha256"] is not None for a in stored) == 4
        assert not any(a["missing"] for a in stored)  # unfetched is not missing


def test_a_file_linked_from_two_pages_is_fetched_once_and_both_documents_are_stored(tmp_path: Path) -> None:
    portal = BenchPortal(4, pdf_every=100)
    form = "/xxgk/att/form.pdf"
    portal.files[form] = make_pdf(["application form"])
    portal.extra[1] = portal.extra[2] = [form]
    with portal.serve():
        crawl(configure(portal, tmp_path))
        assert att_requests(portal)[(form, 200)] == 1
        stored = attachments(tmp_path)
        assert len(stored) == 4
        shared = [a for doc in (1, 2) for a in stored[portal.detail_url(portal.by_id[doc])] if a["url"].endswith(form)]
        assert len(shared) == 2
        assert shared[0]["sha256"] == shared[1]["sha256"] is not None


def test_a_crawl_after_an_interrupted_one_reads_every_list_page(tmp_path: Path) -> None:
    portal = BenchPortal(60)  # three list pages
    with portal.serve():
        crawl(configure(portal, tmp_path, YIBAO_MAX_LIST_PAGES=1))  # the first list page only, as a crawl cut short
        db = open_db(tmp_path / "archive.db")
        (run_id,) = db.execute("SELECT MAX(id) FROM runs").fetchone()
        finish_run(db, run_id, finish_reason="interrupted", health="failed")  # what run_owner records for it
        db.close()
        assert query(tmp_path, "SELECT COUNT(*) FROM postings")[0][0] == 20
        config = configure(portal, tmp_path)
        crawl(config)  # the first list page brings nothing new: only the resume reads on
        assert query(tmp_path, "SELECT COUNT(*) FROM postings")[0][0] == 60
        portal.reset_counts()
        crawl(config)  # after a complete crawl, paging stops at the first list page again
        assert portal.total("list") == 1
