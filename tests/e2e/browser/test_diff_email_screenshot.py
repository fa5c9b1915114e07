"""A rendered HTML e-mail of a real diff, opened in headless Chromium (Debian's), screenshot kept
in test-artifacts/ for people to look at."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from core.diff_render import render_html
from core.diffing import diff_versions
from storage import open_db
from storage.versions import versions_of_event
from tests.e2e.crawl.test_crawl_e2e import crawl, write_config

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html_path: Path, png_path: Path, width: int = 900, height: int = 1400) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png_path}", html_path.as_uri()],
            check=True, capture_output=True, timeout=120,
        )


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
def test_diff_email_renders_in_chromium(make_replicas, tmp_path):
    server = make_replicas(docs=20, seed=3)
    world = server.world
    config = write_config(tmp_path, server)
    crawl(config, "fujian_xiamen")
    doc = next(d for d in world.docs("fujian_xiamen") if d.kind.endswith("_reply"))
    world.edit(doc.doc_id)
    world.set_metadata(doc.doc_id, title="<script>alert(1)</script>" + doc.title)
    crawl(config, "fujian_xiamen")
    db = open_db(tmp_path / "archive.db")
    (event_id,) = db.execute("SELECT id FROM events WHERE kind != 'new' ORDER BY id DESC").fetchone()
    previous, current = versions_of_event(db, event_id)
    changes = diff_versions(previous, current)
    html = render_html(changes, title=current["title"], url=current["url"], archive_url="http://127.0.0.1:8001/")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ARTIFACTS.mkdir(exist_ok=True)
    html_path = ARTIFACTS / "diff-email.html"
    html_path.write_text(html, encoding="utf-8")
    png_path = ARTIFACTS / "diff-email.png"
    png_path.unlink(missing_ok=True)
    screenshot(html_path, png_path)
    data = png_path.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 20_000  # a page with text and coloured highlights, not a blank canvas
