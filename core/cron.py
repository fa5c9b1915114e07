"""Standard five-field crontab lines as APScheduler 3 triggers, in one place.

APScheduler 3 numbers days of the week from Monday (0) and its ``from_crontab`` passes crontab's
numbers (0/7 = Sunday) through unchanged, so "0 8 * * 1" would fire on Tuesdays. Days are
translated to names here, which both read the same.
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expr: str, tz: tzinfo = SHANGHAI, jitter: int | None = None) -> CronTrigger:
    """A trigger for a crontab line (minute hour day month day-of-week) in ``tz``."""
    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=dow_names(dow),
                       timezone=tz, jitter=jitter)


def dow_names(text: str) -> str:
    """crontab's day-of-week field as APScheduler day names ("1-5" → "mon,tue,wed,thu,fri")."""
    if text == "*":
        return "*"
    days: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, 6
        else:
            bounds = [_dow_number(v) for v in span.split("-", 1)]
            low, high = bounds[0], bounds[-1]
            if step and len(bounds) == 1:
                high = 6
        # 5-0 / fri-sun wraps around the week
        values = [*range(low, 7), *range(0, high + 1)] if high < low else list(range(low, high + 1))
        days.update(v % 7 for v in values[:: int(step) if step else 1])
    return ",".join(_DOW[d] for d in sorted(days))


def _dow_number(value: str) -> int:
    return int(value) if value.isdigit() else _DOW.index(value.lower())  # 7 stays 7: 0-7 is every day
