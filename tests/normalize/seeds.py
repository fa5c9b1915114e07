"""Build ``RawPage`` objects from the seed extractions in ``replicas/data/seeds``."""

from __future__ import annotations

import html
from pathlib import Path

from core.normalize import extract_meta_block
from core.records import RawPage

SEED_DIR = Path(__file__).resolve().parents[2] / "replicas" / "data" / "seeds"
# Seeds use ASCII ", : ( )" where real pages print full-width punctuation.
FULL_WIDTH = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）"})
COLUMN_KINDS = {"000": "policies", "001": "replies", "002": "replies", "003": "replies", "004": "policies"}


def seed_path(seed: str) -> Path:
    (path,) = SEED_DIR.glob(f"{seed}_*.txt")
    return path


def seed_lines(seed: str, *, full_width: bool = False) -> list[str]:
    text = seed_path(seed).read_text(encoding="utf-8")
    if full_width:
        text = text.translate(FULL_WIDTH)
    return text.splitlines()


def lines_to_html(lines: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)


def seed_page(seed: str, *, full_width: bool = False, meta_in_body: bool = False) -> RawPage:
    """Each seed line becomes a ``<p>``. A metadata block at the top (seeds 002/003) is parsed
    with the metadata text parser into ``meta_table`` and, unless ``meta_in_body``, removed from
    the body (as a spider that reads the table separately would do)."""
    lines = seed_lines(seed, full_width=full_width)
    meta_table, rest = extract_meta_block(lines)
    body_lines = lines if meta_in_body else rest
    return RawPage(
        portal_id=f"seed-{seed}",
        column="seed",
        column_kind=COLUMN_KINDS[seed],
        url=f"http://replica.test/seed/{seed}.html",
        status=200,
        html="",
        meta_table=meta_table,
        body_html=lines_to_html(body_lines),
    )
