"""Hostile detail pages: what a broken, compromised or moved portal answers instead of an article.

A site serves them when its ``hostile`` switch names kinds (``Site.set_hostile``): each published document
is given one kind, round robin by document id, and its detail URLs answer that kind's page (``ok`` is the
real page). ``REFUSED`` kinds are not documents: a crawler must record an error for each, never archive it.
``KEPT`` kinds are documents with something wrong in their text that a crawler must clean (control
characters, an overlong title). The pages are derived from the document's real page, so they differ per
document and carry its number.
"""

from __future__ import annotations

import html
import random
import zlib
from functools import lru_cache
from typing import Any

from .sites.base import Page

DEEP = 5000  # elements nested
HUGE_TITLE = 100_000  # characters
LONG_TITLE = 800  # characters: past the bound a crawler keeps, short of absurd
HUGE_BODY = 20 * 1024 * 1024  # bytes: past a 16 MiB download limit
BOMB = 1024 * 1024 * 1024  # bytes a gzip bomb inflates to
CONTROLS_TITLE = "\x1b[31m\x07"  # ESC [31m and BEL: a terminal colour code and a bell
CONTROLS_BODY = "\x0b\x0c\x01\u202e\u2066"  # VT, FF, SOH, a bidi override and an isolate

REFUSED = ("empty", "binary", "png", "deep", "mojibake", "replacement", "huge_title", "blank", "offsite",
           "redirect_loop", "huge_body", "gzip_bomb")  # fmt: skip
KEPT = ("controls", "long_title")
KINDS = ("ok", *REFUSED, *KEPT)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
OFFSITE = "http://127.0.0.2:9"  # another host: nothing listens there, and a crawler must not go anyway


def _retitled(page_html: str, title: str, new: str) -> str:
    """The page with its title (escaped, wherever it is printed: ``<title>``, ``ArticleTitle``, ``<h1>``) replaced."""
    return page_html.replace(html.escape(title, quote=True), html.escape(new, quote=True))


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """``BOMB`` zero bytes, gzip-compressed (about 1 MiB), made once."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    return b"".join([*(packer.compress(chunk) for _ in range(BOMB // len(chunk))), packer.flush()])


def page(kind: str, *, doc_id: int, path: str, title: str, page_html: str, encoding: str) -> Page:
    """The answer of kind ``kind`` at ``path`` for a document whose real page is ``page_html``."""
    rng = random.Random(doc_id)
    if kind == "empty":
        return Page(200, "")
    if kind == "binary":  # random bytes labelled as HTML
        return Page(200, data=rng.randbytes(16 * 1024), content_type="text/html")
    if kind == "png":
        return Page(200, data=PNG + rng.randbytes(2048), content_type="image/png")
    if kind == "deep":
        nested = page_html.replace("<body", "<div>" * DEEP + "<body", 1).replace("</body>", "</body>" + "</div>" * DEEP, 1)
        return Page(200, nested)
    if kind == "mojibake":  # GBK bytes labelled UTF-8
        return Page(200, data=page_html.encode("gbk", errors="replace"), content_type="text/html; charset=utf-8")
    if kind == "replacement":  # text already turned into U+FFFD by some earlier decoder
        soup = "".join("\ufffd" if "\u4e00" <= ch <= "\u9fff" and rng.random() < 0.8 else ch for ch in page_html)
        return Page(200, soup, encode_as="utf-8")
    if kind == "huge_title":
        return Page(200, _retitled(page_html, title, (title + "关于医疗保障的通知") * (HUGE_TITLE // (len(title) + 9))))
    if kind == "long_title":
        return Page(200, _retitled(page_html, title, (title + "，") * (LONG_TITLE // (len(title) + 1) + 1)))
    if kind == "controls":
        marked = _retitled(page_html, title, f"{title[:4]}{CONTROLS_TITLE}{title[4:]}")
        return Page(200, marked.replace("。", f"。{CONTROLS_BODY}"))
    if kind == "blank":
        return Page(200, "<!DOCTYPE html><html><head></head><body><div id=\"app\"></div></body></html>")
    if kind == "offsite":
        return Page(301, "", headers={"Location": OFFSITE + path})
    if kind == "redirect_loop":
        return Page(302, "", headers={"Location": path})
    if kind == "huge_body":
        filler = "<p>填充文本</p>" * (HUGE_BODY // len("<p>填充文本</p>".encode(encoding, errors="replace")) + 1)
        return Page(200, page_html.replace("</body>", filler + "</body>", 1))
    if kind == "gzip_bomb":
        return Page(200, data=gzip_bomb(), content_type="text/html; charset=utf-8",
                    headers={"Content-Encoding": "gzip"})
    raise ValueError(f"unknown hostile kind {kind!r}; known: {', '.join(KINDS)}")


def set_hostile(world: Any, portal_id: str, kinds: tuple[str, ...] = (), moved_to: str | None = None) -> None:
    """Switch a portal of a ``ReplicaWorld`` to serve ``kinds`` (none: its articles again) and, with
    ``moved_to`` (an origin such as ``http://127.0.0.2:8000``), to redirect every article there."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown hostile kind(s) {unknown}; known: {', '.join(KINDS)}")
    site = world.site(portal_id)
    with world.lock:
        site.set_hostile(tuple(kinds), moved_to)


def kind_of(world: Any, doc_id: int) -> str:
    """The kind of page a document of ``world`` is served as now."""
    doc = world.doc(doc_id)
    return str(world.site(doc.portal_id).hostile_kind(doc))


__all__ = ["KEPT", "KINDS", "REFUSED", "gzip_bomb", "kind_of", "page", "set_hostile"]
