"""``discover(url)``: from a bureau's home page (or any column page) to a ready ``[[portals]]`` entry.

Steps, all on one polite session (one site, robots.txt, a page budget):
1. the start page: the site's name, its links that name replies/policies/reports columns (and
   "maybe" columns such as 其它文件), and the hub pages that usually hold them (政务公开, 信息公开);
2. up to ``MAX_HUBS`` hub pages, for more column links;
3. every candidate column, most useful kinds first: its list page is fingerprinted, the family
   spiders' own list logic is tried in fingerprint order until one finds article links (else generic
   CSS selectors are suggested and verified), one detail page is sampled through the spider's
   extraction and the normalizer; a maybe column is kept when its titles agree on one kind;
4. Guangdong: an NFCMS column (``content/post_ID.html``) means a gkmlpt 政府信息公开目录 may sit beside
   it: its ``window._CONFIG`` tree gives better columns (structured API), sampled the same way;
5. the portal's family is the one most kept columns were read with; the entry is rendered and
   validated by the registry's rules.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.registry import Column, Portal

from . import columns as cols
from . import selectors as sel_mod
from .entry import EntryGuess, guess_place, registry_portals, render, suggest_id, to_portal
from .fetch import DEFAULT_DELAY, DEFAULT_TIMEOUT, Fetch, Fetched, PoliteSession
from .fields import found_fields, page_fields
from .fingerprints import KNOWN, FamilyScore, article_links, score_page, score_pages
from .harness import FamilyHarness, ListResult, project_settings

MAX_HUBS = 3
MAX_GKMLPT_PROBES = 2
KIND_ORDER = {"replies": 0, "policies": 1, "reports": 2, None: 3}
_TITLE_SPLIT = re.compile(r"\s*[-_|–—·]\s*")


def default_user_agent() -> str:
    return str(project_settings().get("USER_AGENT"))


@dataclass
class ColumnReport:
    name: str
    url: str
    kind: str | None
    kind_source: str  # link text | list titles | gkmlpt tree | start page
    found_on: str
    family: str | None = None  # the list logic that found its links
    list_status: int | None = None
    links: int = 0
    next_page: str | None = None
    titles: dict[str, int] = field(default_factory=dict)  # kinds of the list titles (the classifier's)
    sample_url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    record_kind: str | None = None
    included: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Discovery:
    url: str
    site_name: str = ""
    family: str | None = None
    evidence: list[str] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)
    columns: list[ColumnReport] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    entry: str = ""  # the [[portals]] TOML entry, empty when nothing usable was found
    portal_id: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.entry)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["requests"] = [{"method": m, "url": u, "status": s} for m, u, s in self.requests]
        return out


# -- page helpers ----------------------------------------------------------------------------------


def site_name(text: str) -> str:
    sel = Selector(text=text)
    meta = (sel.xpath("//meta[@name='SiteName']/@content").get() or "").strip()
    if meta:
        return meta
    title = " ".join(sel.xpath("//title//text()").getall()).strip()
    parts = [p for p in _TITLE_SPLIT.split(title) if p]
    for want in ("医疗保障局", "医保局", "局"):
        for part in parts:
            if want in part:
                return part
    h1 = " ".join(sel.xpath("normalize-space(//h1)").getall()).strip()
    return h1 or (parts[-1] if parts else "")


def column_name_of(text: str) -> str:
    sel = Selector(text=text)
    meta = (sel.xpath("//meta[@name='ColumnName']/@content").get() or "").strip()
    if meta:
        return meta
    title = " ".join(sel.xpath("//title//text()").getall()).strip()
    return next((p for p in _TITLE_SPLIT.split(title) if p and "局" not in p), title)


def _candidate_portal(
    pid: str, name: str, family: str, base_url: str, column: Column, options: dict[str, str] | None = None
) -> Portal:
    host = urlsplit(column.url).hostname or ""
    return Portal(
        id=pid,
        name=name or "待定",
        region_code="000000",
        level="city",
        family=family,
        columns=(column,),
        allowed_domains=(host,),
        base_url=base_url,
        options=dict(options or {}),
    )


# -- the discovery ---------------------------------------------------------------------------------


class _Discoverer:
    def __init__(self, url: str, session: PoliteSession, out: Discovery) -> None:
        self.url = url
        self.session = session
        self.out = out
        self.pages: list[tuple[str, str]] = []  # (text, url) of every page seen, for fingerprints
        self.candidates: dict[str, cols.ColumnLink] = {}
        self.base_url = ""
        self.pid = suggest_id(url)
        self.generic: dict[str, str] = {}
        self.gkmlpt_index: str | None = None
        self.gkmlpt_sid: str | None = None
        self.probed: set[str] = set()

    def add(self, links: list[cols.ColumnLink]) -> None:
        for link in links:
            self.candidates.setdefault(link.url, link)

    def start(self) -> bool:
        first = self.session.get(self.url)
        if not first.ok:
            self.out.problems.append(f"{self.url}: {first.problem}")
            return False
        text, here = first.text, first.final_url
        parts = urlsplit(here)
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.pages.append((text, here))
        self.out.site_name = site_name(text)
        on_site = self.session.on_site
        if (
            any(len(article_links(text, here, f)) >= 3 for f in KNOWN)
            or sel_mod.link_selector(text, here)[1] >= 5
        ):
            name = column_name_of(text)
            kind, _ = cols.kind_of_name(name)
            self.add([cols.ColumnLink(name, here, kind, "start page")])
        self.add(cols.column_links(text, here, on_site))
        hubs = [h for h in cols.hub_links(text, here, on_site) if h not in self.candidates and h != here]
        for hub in hubs[:MAX_HUBS]:
            if self.session.budget_left < 4:
                break
            page = self.session.get(hub)
            if page.ok:
                self.pages.append((page.text, page.final_url))
                self.add(cols.column_links(page.text, page.final_url, on_site))
        indexes = [i for t, u in self.pages for i in cols.gkmlpt_links(t, u, on_site)]
        for index in indexes[:1]:  # a Guangdong 政府信息公开目录 linked from the pages read so far
            self.read_gkmlpt(index)
        return True

    # -- gkmlpt -----------------------------------------------------------------------------------

    def read_gkmlpt(self, index_url: str) -> bool:
        if index_url in self.probed or self.session.budget_left < 3:
            return False
        self.probed.add(index_url)
        page = self.session.get(index_url)
        if not page.ok:
            return False
        tree = cols.gkmlpt_columns(page.text, page.final_url)
        if not tree:
            return False
        self.pages.append((page.text, page.final_url))
        self.gkmlpt_index = page.final_url
        self.gkmlpt_sid = cols.parse_sid(page.text)
        self.add(tree)
        return True

    def probe_gkmlpt(self, column_url: str) -> None:
        """An NFCMS column at ``/<dept>/…``: is there a ``/<dept>/gkmlpt/index``?"""
        path = urlsplit(column_url).path
        first = path.split("/")[1] if path.count("/") > 1 else ""
        prefixes = [f"/{first}/"] if first else []
        prefixes.append("/")
        for prefix in prefixes[:MAX_GKMLPT_PROBES]:
            if self.gkmlpt_index or self.read_gkmlpt(urljoin(column_url, prefix + "gkmlpt/index")):
                return

    # -- columns ----------------------------------------------------------------------------------

    def family_order(self, page: Fetched) -> list[str]:
        score = score_page(page.text, page.final_url)
        ranked = [f for f, _ in score.ranked()]
        return ranked + [f for f in KNOWN if f not in ranked]

    def sample(self, link: cols.ColumnLink) -> ColumnReport:
        report = ColumnReport(
            link.name,
            link.url,
            link.kind,
            "gkmlpt tree"
            if link.source == "gkmlpt tree"
            else "start page"
            if link.source == "start page"
            else "link text",
            link.source,
        )
        column = Column(link.name, link.kind or "policies", link.url)
        if "/gkmlpt/" in link.url:
            families = ["gkmlpt"]
        else:
            page = self.session.get(link.url)
            report.list_status = page.status
            if not page.ok:
                report.problems.append(f"list page: {page.problem}")
                return report
            self.pages.append((page.text, page.final_url))
            families = self.family_order(page)
        listing: ListResult | None = None
        harness: FamilyHarness | None = None
        for family in families:
            options = {"sid": self.gkmlpt_sid} if family == "gkmlpt" and self.gkmlpt_sid else {}
            portal = _candidate_portal(self.pid, self.out.site_name, family, self.base_url, column, options)
            harness = FamilyHarness(portal, self.session)
            listing = harness.list_column(column)
            if listing.page is not None:
                report.list_status = listing.page.status
            if listing.entries:
                report.family = family
                break
        if (listing is None or not listing.entries) and "/gkmlpt/" not in link.url:
            subs = [c for c in cols.column_links(page.text, page.final_url, self.session.on_site)
                    if c.url not in self.candidates and c.url != link.url]  # fmt: skip
            if (
                subs
            ):  # a hub such as 建议提案办理 -> 人大代表建议 / 政协委员提案: sample its sub-columns instead
                self.add(subs)
                report.problems.append(
                    "a page of sub-columns, not a list: "
                    + ", ".join(c.name for c in subs[:6])
                    + " sampled instead"
                )
                return report
            listing, harness = self.try_generic(column, report)
        if listing is None or harness is None or not listing.entries:
            report.problems.append(
                listing.problem
                if listing and listing.problem
                else "no article links found by any family's list logic or by generic selectors"
            )
            return report
        report.links = len(listing.entries)
        report.next_page = listing.next_page
        if listing.next_page and not self.session.robots_allows(listing.next_page):
            report.problems.append(
                f"robots.txt disallows the next list page {listing.next_page}: a crawl reads the first page only"
            )
        kind, tally = cols.kind_from_titles(str(e[1].get("title", "")) for e in listing.entries)
        report.titles = dict(tally)
        if report.kind is None:
            report.kind, report.kind_source = kind, "list titles"
        url, row = listing.entries[0]
        column = Column(link.name, report.kind or "policies", link.url)
        detail = harness.sample_detail(url, column, row)
        report.sample_url = url
        if detail.problem:
            report.problems.append(f"sample detail page: {detail.problem}")
        if detail.record is not None:
            report.fields = found_fields(detail.record)
            report.record_kind = detail.record.kind
            if len(page_fields(report.fields)) <= 1:
                report.problems.append("the sample detail page gave no fields beyond its title")
        if report.kind is None:
            report.problems.append(f"not a replies/policies/reports column by its titles ({dict(tally)})")
        return report

    def covered_by_gkmlpt(self, link: cols.ColumnLink) -> bool:
        """A column page of the department whose gkmlpt directory was found (same path prefix)."""
        if not self.gkmlpt_index or "/gkmlpt/" in link.url:
            return False
        dept = urlsplit(self.gkmlpt_index).path.split("/gkmlpt/", 1)[0] + "/"
        return urlsplit(link.url).netloc == urlsplit(self.gkmlpt_index).netloc and urlsplit(
            link.url
        ).path.startswith(dept)

    def try_generic(
        self, column: Column, report: ColumnReport
    ) -> tuple[ListResult | None, FamilyHarness | None]:
        """Suggest generic selectors from the list page and one detail page, then verify them."""
        page = self.session.get(column.url)
        if not page.ok:
            return None, None
        link, _ = sel_mod.link_selector(page.text, page.final_url)
        if not link:
            return None, None
        first = Selector(text=page.text).css(link)
        href = first.attrib.get("href") if first else None
        if not href:
            return None, None
        detail_url = urljoin(page.final_url, href)
        detail = self.session.get(detail_url)
        title = (first[0].attrib.get("title") or " ".join(first[0].css("::text").getall())).strip()
        suggested = sel_mod.suggest(page.text, page.final_url, detail.text if detail.ok else None, title)
        if not suggested.body:
            report.problems.append("generic: no article body element found on the sample page")
            return None, None
        options = self.generic or suggested.options()
        portal = _candidate_portal(self.pid, self.out.site_name, "generic", self.base_url, column, options)
        harness = FamilyHarness(portal, self.session)
        listing = harness.list_column(column)
        if listing.entries:
            report.family = "generic"
            if not self.generic:
                self.generic = options
        return listing, harness

    def run(self, max_columns: int) -> None:
        if not self.start():
            return
        done: dict[str, ColumnReport] = {}

        def pending() -> list[cols.ColumnLink]:
            todo = [c for u, c in self.candidates.items() if u not in done]
            return sorted(todo, key=lambda c: (c.source != "gkmlpt tree", KIND_ORDER.get(c.kind, 3)))

        while len(done) < max_columns and self.session.budget_left >= 2:
            todo = pending()
            if not todo:
                break
            link = todo[0]
            if self.covered_by_gkmlpt(link):
                self.candidates.pop(link.url)
                self.out.notes.append(
                    f"not sampled: {link.name} {link.url} (the gkmlpt directory lists this "
                    "department's documents)"
                )
                continue
            report = self.sample(link)
            done[link.url] = report
            self.out.columns.append(report)
            if report.family == "gkmlpt" and "/gkmlpt/" not in link.url and not self.gkmlpt_index:
                self.probe_gkmlpt(link.url)
        skipped = [c for u, c in self.candidates.items() if u not in done]
        if skipped:
            self.out.notes.append(
                f"{len(skipped)} more candidate column(s) not sampled (budget or column limit): "
                + ", ".join(f"{c.name} {c.url}" for c in skipped[:6])
            )
        self.decide()

    # -- the entry --------------------------------------------------------------------------------

    def decide(self) -> None:
        out = self.out
        total: FamilyScore = score_pages(self.pages)
        out.scores = {f: s for f, s in total.scores.items() if s}
        usable = [c for c in out.columns if c.family and c.kind and c.links]
        if self.gkmlpt_index and any(c.family == "gkmlpt" and "/gkmlpt/" in c.url for c in usable):
            nfcms = [c for c in usable if c.family == "gkmlpt" and "/gkmlpt/" not in c.url]
            for c in nfcms:
                c.problems.append(
                    "the same documents are listed by the gkmlpt directory: left out of the entry"
                )
            if nfcms:
                out.notes.append(
                    "NFCMS column pages (content/post_ID.html) list the documents the gkmlpt "
                    "directory serves with its metadata; the entry uses the gkmlpt categories"
                )
            usable = [c for c in usable if c not in nfcms]
        weights: Counter[str] = Counter()
        for c in usable:
            weights[c.family or ""] += 1
        if not weights:
            out.family = total.best() or ("generic" if self.generic else None)
            if out.family:
                out.evidence = total.evidence.get(out.family, [])
            out.problems.append(
                "no column with article links and a replies/policies/reports kind was found: "
                "give a column page's URL, or write the entry by hand (docs/add-a-portal.md)"
            )
            return
        family = weights.most_common(1)[0][0]
        out.family = family
        out.evidence = (
            total.evidence.get(family, [])
            if family in KNOWN
            else ["no CMS family fingerprint matched: generic CSS selectors suggested and verified"]
        )
        for c in usable:
            if c.family == family:
                c.included = True
            else:
                c.problems.append(f"read with the {c.family} list logic, not {family}: left out of the entry")
        if family == "gkmlpt" and self.gkmlpt_sid:
            out.options = {"sid": self.gkmlpt_sid}
        elif family == "generic":
            out.options = dict(self.generic)
        self.render_entry()

    def render_entry(self) -> None:
        out = self.out
        included = [c for c in out.columns if c.included]
        place = guess_place(out.site_name)
        guess = EntryGuess(
            id=self.pid,
            name=out.site_name or self.pid,
            family=out.family or "generic",
            base_url=self.base_url,
            home=self.url,
            columns=[{"name": c.name, "kind": c.kind or "policies", "url": c.url} for c in included],
            level=place["level"],
            region_code=place["region_code"],
            province=place["province"],
            city=place["city"],
            options=out.options,
            notes=[
                f"found by `yibao discover {self.url}` ({len(self.session.log)} requests); "
                f"verified = false: check it with `yibao portals check {self.pid}`"
            ],
        )
        if self.pid in registry_portals():
            guess.notes.append(
                f"the registry already has a portal {self.pid!r}: this entry overrides its fields"
            )
        text = render(guess)
        to_portal(text)  # the registry's rules: raises ConfigError if the entry would be refused
        out.entry = text
        out.portal_id = self.pid


def discover(
    url: str,
    *,
    max_pages: int = 30,
    user_agent: str | None = None,
    fetch: Fetch | None = None,
    delay: float = DEFAULT_DELAY,
    timeout: float = DEFAULT_TIMEOUT,
    max_columns: int = 12,
) -> Discovery:
    """Find the family and the replies/policies/reports columns of the portal at ``url``.

    Never requests any site but ``url``'s, obeys its robots.txt, sends one request at a time
    ``delay`` seconds apart and at most ``max_pages`` of them (robots.txt aside).
    """
    out = Discovery(url=url)
    session = PoliteSession(
        url,
        max_pages=max_pages,
        user_agent=user_agent or default_user_agent(),
        fetch=fetch,
        delay=delay,
        timeout=timeout,
    )
    try:
        _Discoverer(url, session, out).run(max_columns)
    finally:
        out.requests = list(session.log)
    return out
