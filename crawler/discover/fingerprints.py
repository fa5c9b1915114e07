"""CMS family fingerprints: what in a page's HTML and links says TRS, Sichuan, gkmlpt/NFCMS or Hanweb.

Each fingerprint is a pattern with a weight and a human label. ``score_page`` adds up the weights of
the fingerprints a page shows, per family, and keeps the labels as evidence. Article-link shapes are
counted (a list page full of ``tYYYYMMDD_ID`` links is stronger evidence than one such link on a home
page). The spiders' own article patterns are reused, so "looks like TRS" means "the TRS spider would
find these links".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from spiders.families.gkmlpt import POST as GKMLPT_POST
from spiders.families.hanweb import ARTICLE as HANWEB_ARTICLE
from spiders.families.sichuan import SichuanSpider
from spiders.families.trs import TrsSpider

KNOWN = ("trs", "sichuan", "gkmlpt", "hanweb")
_HREF = re.compile(r"""href\s*=\s*["']([^"'#\s>]+)""", re.I)


@dataclass(frozen=True)
class Fingerprint:
    family: str
    pattern: re.Pattern[str]
    weight: int
    label: str


FINGERPRINTS: tuple[Fingerprint, ...] = tuple(
    Fingerprint(family, re.compile(pattern, re.I | re.S), weight, label)
    for family, pattern, weight, label in (
        (
            "trs",
            r"createPageHTML\(\s*\d+\s*,\s*\d+\s*,\s*[\"']\w+[\"']\s*,\s*[\"']s?html?[\"']",
            6,
            'TRS pager createPageHTML(pages, current, "index", "htm")',
        ),
        (
            "trs",
            r"class=[\"'][^\"']*\b(?:TRS_Editor|Custom_UnionStyle|trs_editor_view)\b|id=[\"']trsContent",
            3,
            "TRS editor body (.TRS_Editor / .Custom_UnionStyle / #trsContent)",
        ),
        ("trs", r"/wcm/|/ssp/search/api/", 2, "TRS WCM / SSP search paths"),
        (
            "sichuan",
            r"createPageHTML\(\s*'page_div'\s*,\s*\d+",
            6,
            "Sichuan pager createPageHTML('page_div', pages, current, 'list', 'shtml', records)",
        ),
        (
            "sichuan",
            r"/c\d{6}/(?:list|common_list|\w+_list)(?:_\d+)?\.shtml",
            3,
            "Sichuan column paths /c<6 digits>/list.shtml",
        ),
        ("sichuan", r"id=[\"']cmsArticleContent", 2, "Sichuan article body #cmsArticleContent"),
        ("gkmlpt", r"window\._CONFIG\s*=", 6, "gkmlpt window._CONFIG"),
        ("gkmlpt", r"/gkmlpt/", 3, "gkmlpt paths /gkmlpt/"),
        ("gkmlpt", r"NFCMS_(?:SITE|POST)_ID|nfw-cms-", 3, "Guangdong NFCMS markers"),
        ("hanweb", r"\.jpage\(|dataproxy\.jsp", 6, "Hanweb jpage / dataproxy.jsp"),
        ("hanweb", r"<datastore>|<recordset>", 3, "Hanweb <datastore> record island"),
        ("hanweb", r"大汉版通|大汉网络|hanweb\.com|/module/jslib/", 3, "Hanweb generator / module paths"),
        ("hanweb", r"/col/col\d+/", 2, "Hanweb column paths /col/colN/"),
    )
)

ARTICLE_LINKS: dict[str, tuple[re.Pattern[str], str]] = {
    "trs": (TrsSpider.article, "TRS article links tYYYYMMDD_ID.htm"),
    "sichuan": (SichuanSpider.article, "Sichuan article links /YYYY/M/D/<32hex>.shtml"),
    "gkmlpt": (GKMLPT_POST, "NFCMS/gkmlpt article links content/post_ID.html"),
    "hanweb": (HANWEB_ARTICLE, "Hanweb article links /art/YYYY/M/D/art_COL_ID.html"),
}


@dataclass
class FamilyScore:
    scores: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KNOWN, 0))
    hits: dict[str, dict[str, int]] = field(default_factory=lambda: {f: {} for f in KNOWN})  # label -> links

    @property
    def evidence(self) -> dict[str, list[str]]:
        """Per family, the fingerprints seen: ``label`` or ``label (N)`` for N article links."""
        return {
            f: [f"{label} ({n})" if n else label for label, n in hits.items()]
            for f, hits in self.hits.items()
        }

    def hit(self, family: str, label: str, weight: int, links: int = 0) -> None:
        self.scores[family] += weight
        self.hits[family][label] = self.hits[family].get(label, 0) + links

    def add(self, other: FamilyScore) -> None:
        for family in KNOWN:
            self.scores[family] += other.scores[family]
            for label, n in other.hits[family].items():
                self.hits[family][label] = self.hits[family].get(label, 0) + n

    def best(self) -> str | None:
        """The family with the highest score, or None when no fingerprint matched."""
        family = max(KNOWN, key=lambda f: self.scores[f])
        return family if self.scores[family] > 0 else None

    def ranked(self) -> list[tuple[str, int]]:
        return sorted(((f, s) for f, s in self.scores.items() if s > 0), key=lambda fs: -fs[1])


def article_links(text: str, base_url: str, family: str) -> list[str]:
    pattern = ARTICLE_LINKS[family][0]
    out: list[str] = []
    for href in _HREF.findall(text):
        url = urljoin(base_url, href.strip())
        if pattern.search(url.split("?", 1)[0]) and url not in out:
            out.append(url)
    return out


def score_page(text: str, base_url: str = "") -> FamilyScore:
    """Fingerprint weights per family for one page (its HTML or JSON text)."""
    result = FamilyScore()
    for fp in FINGERPRINTS:
        if fp.pattern.search(text):
            result.hit(fp.family, fp.label, fp.weight)
    for family, (_, label) in ARTICLE_LINKS.items():
        found = len(article_links(text, base_url, family))
        if found:  # many links on a list page: strong evidence
            result.hit(family, label, min(10, 2 + found), found)
    return result


def score_pages(pages: Iterable[tuple[str, str]]) -> FamilyScore:
    """Summed fingerprints of several (text, url) pages."""
    total = FamilyScore()
    for text, url in pages:
        total.add(score_page(text, url))
    return total
