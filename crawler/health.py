"""Classify a finished run from its stats: ok / degraded / failed / blocked (spidermon-style)."""

from __future__ import annotations

from typing import Any

OK, DEGRADED, FAILED, BLOCKED = "ok", "degraded", "failed", "blocked"


def classify(stats: dict[str, Any], finish_reason: str) -> str:
    """A run may withdraw documents only when this says ``ok``."""
    responses = int(stats.get("downloader/response_count", 0))
    blocked = int(stats.get("yibao/blocked", 0))
    list_pages = int(stats.get("yibao/list_pages", 0))
    listed = int(stats.get("yibao/listed", 0))
    errors = sum(int(v) for k, v in stats.items() if k.startswith("yibao/errors/"))
    errors += int(stats.get("spider_exceptions/count", 0)) if "spider_exceptions/count" in stats else 0
    if blocked and list_pages == 0:
        return BLOCKED
    if finish_reason != "finished" or responses == 0 or list_pages == 0:
        return FAILED
    if listed == 0:
        return FAILED  # list pages answered but showed no article: a layout change
    if errors or blocked:
        return DEGRADED
    return OK
