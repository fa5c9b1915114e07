"""Family B: Sichuan ``.shtml`` columns (``list.shtml``, ``list_2.shtml``; ``/YYYY/M/D/<32hex>.shtml``).

The pager is ``createPageHTML('page_div', pages, current, 'list', 'shtml', records)`` with a
1-based current page; the next page is ``<name>_<current + 1>.<ext>`` (the second page is ``_2``).
"""

from __future__ import annotations

import re

from spiders.families.pager import PagerScriptSpider


class SichuanSpider(PagerScriptSpider):
    family = "sichuan"
    article = re.compile(r"/\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]{32}\.shtml$")
    pager = re.compile(r"createPageHTML\(\s*'[\w-]+'\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(\w+)'\s*,\s*'(\w+)'")

    @staticmethod
    def next_page_name(pages: int, current: int, name: str, ext: str) -> str | None:
        return f"{name}_{current + 1}.{ext}" if current < pages else None
