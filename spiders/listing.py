"""Finding article links on a list page by their URL pattern, with the title and date beside them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from core.normalize.urls import desktop_url

DATE = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")


def link_entries(sel: Selector, base_url: str, pattern: re.Pattern[str]) -> list[tuple[str, dict[str, Any]]]:
    """(absolute URL, {title, date}) for every link matching ``pattern``, first occurrence wins. A mobile copy
    (``…_wap.html``, ``mpost_``) is listed as its desktop page: one document, one fetch."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for a in sel.xpath("//a[@href]"):
        url = desktop_url(urljoin(base_url, a.attrib["href"].strip()))
        if not pattern.search(url.split("?", 1)[0]) or url in seen:
            continue
        seen.add(url)
        title = (a.attrib.get("title") or " ".join(a.xpath(".//text()").getall())).strip()
        around = " ".join(a.xpath("./parent::*//text()").getall())
        date = DATE.search(around)
        listing: dict[str, Any] = {"title": title}
        if date:
            listing["date"] = f"{date[1]}-{int(date[2]):02d}-{int(date[3]):02d}"
        out.append((url, listing))
    return out
