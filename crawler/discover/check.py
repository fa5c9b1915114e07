"""``check_portal(portal)``: does a configured portal still read as its registry entry says?

Per column: the list page through the portal's own spider (the family's list logic, gkmlpt API and
Hanweb windows included), how many detail links it finds, whether a next page follows, one detail
page sampled through the spider's extraction and the normalizer, and the fields found. Each problem
is said exactly: a column path answering 404, a firewall (412 / JS challenge / rate limit), robots.txt,
no links, no fields, or a page whose fingerprints say another family.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.registry import Portal

from .discover import default_user_agent
from .fetch import DEFAULT_DELAY, DEFAULT_TIMEOUT, Fetch, Fetched, PoliteSession
from .fields import found_fields, page_fields
from .fingerprints import KNOWN, score_page
from .harness import FamilyHarness

STRONG = 6  # a fingerprint score that names a family on its own


@dataclass
class ColumnCheck:
    name: str
    kind: str
    url: str
    status: int | None = None
    links: int = 0
    next_page: str | None = None
    sample_url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    suspected_family: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CheckReport:
    portal_id: str
    name: str
    family: str
    columns: list[ColumnCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        for col, data in zip(self.columns, out["columns"], strict=True):
            data["ok"] = col.ok
        out["requests"] = [{"method": m, "url": u, "status": s} for m, u, s in self.requests]
        return out


def _status_problem(fetched: Fetched, what: str) -> str:
    if fetched.skipped:
        return f"{what}: {fetched.skipped}"
    if fetched.error:
        return f"{what}: {fetched.url} could not be fetched ({fetched.error})"
    if fetched.blocked:
        return f"{what}: {fetched.final_url} is {fetched.blocked}"
    if fetched.status in (404, 410):
        return f"{what}: {fetched.final_url} answers {fetched.status}: the column path is wrong or was moved"
    if fetched.status == 403:
        return f"{what}: {fetched.final_url} answers 403 Forbidden (a firewall or a User-Agent filter)"
    return f"{what}: {fetched.final_url} answers HTTP {fetched.status}"


def suspected_family(text: str, url: str, family: str) -> tuple[str | None, list[str]]:
    """Another family, when this page's fingerprints name it strongly and show none of ``family``'s."""
    score = score_page(text, url)
    best = score.best()
    if best is None or best == family or score.scores[best] < STRONG:
        return None, []
    if family in KNOWN and score.scores[family] > 0:
        return None, []
    return best, score.evidence[best]


def check_column(harness: FamilyHarness, portal: Portal, index: int) -> ColumnCheck:
    column = portal.columns[index]
    report = ColumnCheck(column.name, column.kind, column.url)
    listing = harness.list_column(column)
    page = listing.page
    if page is not None:
        report.status = page.status
    failed = next((f for f in listing.fetched if f.problem), None)
    if failed is not None:
        line = _status_problem(failed, "list page")
        if failed.url != column.url.split("#", 1)[0]:  # an index page or list API the column is read through
            line += f" (reading the column {column.url})"
        report.problems.append(line)
        return report
    report.links = len(listing.entries)
    report.next_page = listing.next_page
    if page is not None and page.ok:
        other, evidence = suspected_family(page.text, page.final_url, portal.family)
        if other:
            report.suspected_family = other
            line = f"the list page looks like the {other} family ({'; '.join(evidence)}), not {portal.family}"
            (report.notes if report.links else report.problems).append(line)
    if not listing.entries:
        text = page.text if page is not None and page.ok else ""
        soft = "页面不存在" in text or "已被删除" in text
        report.problems.append(
            "list page: a soft-404 page (页面不存在): the column path is wrong or was moved"
            if soft
            else f"list page: no article links found by the {portal.family} list logic"
            + (" (the generic link selector matched nothing)" if portal.family == "generic" else "")
        )
        return report
    url, row = listing.entries[0]
    detail = harness.sample_detail(url, column, row)
    report.sample_url = url
    if detail.fetched is not None and detail.fetched.problem:
        report.problems.append(_status_problem(detail.fetched, "sample detail page"))
        return report
    if detail.problem:
        report.problems.append(f"sample detail page {url}: {detail.problem}")
    report.fields = found_fields(detail.record)
    if detail.record is not None and not detail.record.body_text:
        report.problems.append(f"sample detail page {url}: no article body found")
    if detail.record is not None and len(page_fields(report.fields)) <= 1:
        report.problems.append(f"sample detail page {url}: no fields found beyond the title")
    return report


def check_portal(
    portal: Portal,
    *,
    fetch: Fetch | None = None,
    user_agent: str | None = None,
    delay: float = DEFAULT_DELAY,
    timeout: float = DEFAULT_TIMEOUT,
    max_pages: int | None = None,
) -> CheckReport:
    """List page, links, a sample detail page and its fields for every column of ``portal``.

    Requests only the portal's own hosts (its columns' and ``base_url``'s), politely.
    """
    report = CheckReport(portal.id, portal.name, portal.family)
    first = portal.columns[0].url
    netlocs = {urlsplit(c.url).netloc for c in portal.columns}
    if portal.base_url:
        netlocs.add(urlsplit(portal.base_url).netloc)
    session = PoliteSession(
        first,
        max_pages=max_pages or 4 * len(portal.columns) + 2,
        user_agent=user_agent or str(portal.settings.get("USER_AGENT") or default_user_agent()),
        fetch=fetch,
        delay=delay,
        timeout=timeout,
        extra_hosts=tuple(sorted(netlocs)),
    )
    try:
        harness = FamilyHarness(portal, session)
        for i in range(len(portal.columns)):
            report.columns.append(check_column(harness, portal, i))
        suspects = {c.suspected_family for c in report.columns if c.suspected_family}
        if suspects and all(c.suspected_family for c in report.columns if c.status == 200):
            report.problems.append(
                f"wrong family suspected: the pages look like {', '.join(sorted(suspects))}, "
                f"the entry says {portal.family}"
            )
    finally:
        report.requests = list(session.log)
    return report
