"""Family A: TRS WCM static lists (``index.htm``, ``index_1.htm`` …; ``tYYYYMMDD_<id>.htm`` articles).

List links are found by the article URL pattern, the page count by the ``createPageHTML`` pager
script (first argument = pages, second = current 0-based page), whatever the list's markup.
"""

from __future__ import annotations

import re

from spiders.families.pager import PagerScriptSpider


class TrsSpider(PagerScriptSpider):
    family = "trs"
    article = re.compile(r"/t\d{8}_\d+(?:_wap)?\.s?html?$")  # a _wap copy is listed as its desktop page
    pager = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")

    @staticmethod
    def next_page_name(pages: int, current: int, name: str, ext: str) -> str | None:
        """Page k (0-based) is ``index_k``: the second page is ``index_1``."""
        return f"{name}_{current + 1}.{ext}" if current + 1 < pages else None
