"""Classify a finished run from its stats and the portal's history: ok / degraded / failed / blocked.

Spidermon-style thresholds:
- ``blocked``: a WAF / JS challenge answered the list pages (no list page could be read);
- ``failed``: an unclean finish, no response, no list page, list pages without a single article link
  (a layout change), more than half of the detail fetches failing, or the share of records with a
  title or a body falling far below the portal's recent history (the article container moved);
- ``degraded``: any error or blocked fetch, or another field's coverage dropping against history;
- ``ok`` otherwise. Only ``ok`` runs may withdraw documents.

The finish reason recorded with a run (``settle``) says why a failed run failed when the stats know better
than Scrapy: ``unreachable`` (closed early: the host did not answer, see ``crawler.middlewares``),
``moved to <host>`` (its article pages all redirect to another host: the registry needs the new address), and
``interrupted`` (stopped by a signal: a daemon or a terminal stopping, not the portal's fault; the portal-broken
alerts do not count it).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

OK, DEGRADED, FAILED, BLOCKED = "ok", "degraded", "failed", "blocked"
INTERRUPTED = "interrupted"  # the finish reason of a run stopped by SIGTERM/SIGINT (Scrapy says "shutdown")
UNREACHABLE = "unreachable"  # the finish reason of a run closed because its host did not answer
MOVED = "moved to "  # + host: the finish reason of a run whose article pages all redirect off the portal
REDIRECTED_OFFSITE = "yibao/redirected_offsite/"  # + host: redirects to another host (crawler.middlewares)
SIGNAL_REASONS = ("shutdown",)
COVERAGE_DROP = 0.3  # a field found in 90 % of records last week and in 55 % now is a drop
CORE_FIELDS = ("title", "body_text")
MIN_RECORDS = 5  # too few records this run say nothing about coverage


def _errors(stats: dict[str, Any]) -> int:
    return sum(int(v) for k, v in stats.items() if k.startswith("yibao/errors/"))


def coverage_drops(stats: dict[str, Any], history: Sequence[dict[str, Any]]) -> list[str]:
    """Fields whose share of records fell by ``COVERAGE_DROP`` or more against the median of history."""
    current = stats.get("yibao/coverage") or {}
    records = int(stats.get("yibao/documents", 0))
    if records < MIN_RECORDS or not history:
        return []
    drops = []
    for name in sorted({k for past in history for k in (past.get("yibao/coverage") or {})}):
        typical = statistics.median((past.get("yibao/coverage") or {}).get(name, 0.0) for past in history)
        if typical - float(current.get(name, 0.0)) >= COVERAGE_DROP:
            drops.append(name)
    return drops


def classify(stats: dict[str, Any], finish_reason: str, history: Sequence[dict[str, Any]] = ()) -> str:
    """``history``: the stats of the portal's recent healthy runs (newest first)."""
    responses = int(stats.get("downloader/response_count", 0))
    blocked = int(stats.get("yibao/blocked", 0))
    list_pages = int(stats.get("yibao/list_pages", 0))
    details = int(stats.get("yibao/documents", 0)) + int(stats.get("yibao/not_modified", 0))
    errors = _errors(stats)
    if blocked and list_pages == 0:
        return BLOCKED
    if finish_reason != "finished" or responses == 0 or list_pages == 0:
        return FAILED
    if int(stats.get("yibao/listed", 0)) == 0:
        return FAILED  # list pages answered but showed no article: a layout change
    if errors > max(details, 1):
        return FAILED
    drops = coverage_drops(stats, history)
    stats["yibao/coverage_drops"] = drops
    if any(name in CORE_FIELDS for name in drops):
        return FAILED
    if errors or blocked or drops:
        return DEGRADED
    return OK


def moved_to(stats: dict[str, Any]) -> str | None:
    """The host a portal's pages redirect to when none of its article pages could be read here (no document, no
    304) and some were sent to another host: the most frequent target. None otherwise."""
    targets = {k[len(REDIRECTED_OFFSITE):]: int(v) for k, v in stats.items() if k.startswith(REDIRECTED_OFFSITE)}
    if not targets or int(stats.get("yibao/documents", 0)) + int(stats.get("yibao/not_modified", 0)) > 0:
        return None
    return max(sorted(targets), key=lambda host: targets[host])


def settle(stats: dict[str, Any], health: str, finish_reason: str) -> tuple[str, str]:
    """The (health, finish reason) a closed run is recorded with: a run stopped by a signal is ``failed`` as
    ``interrupted``; one whose pages all moved to another host is ``failed`` as ``moved to <host>``; else as
    given."""
    if finish_reason in SIGNAL_REASONS:
        return FAILED, INTERRUPTED
    host = moved_to(stats)
    if host is not None:
        return FAILED, MOVED + host
    return health, finish_reason
