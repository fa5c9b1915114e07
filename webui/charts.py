"""Stacked monthly bar charts as inline SVG: no JavaScript, nothing fetched, every label escaped.

``monthly_chart(counts, title=...)`` draws one bar per month, stacked by region, with a legend, a
y axis and a tooltip (``<title>``) on every segment; the same numbers are given as a table by the page.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from html import escape

from storage.browse import MonthlyCount

PALETTE = (
    "#0969da",
    "#cf222e",
    "#1a7f37",
    "#9a6700",
    "#8250df",
    "#bf3989",
    "#0a7d8c",
    "#6e7781",
    "#fb8f44",
    "#4ac26b",
)
WIDTH, HEIGHT = 920, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 56, 64


def month_range(first: str, last: str) -> list[str]:
    """Every YYYY-MM from ``first`` to ``last`` inclusive (empty months get a zero-height bar)."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _axis(value: int) -> tuple[int, int]:
    """(top, step): whole-number gridlines, 1-2-5 steps, about four of them."""
    raw = max(1.0, value / 4)
    magnitude = 10 ** int(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)
    return step * max(1, math.ceil(value / step)), step


def colors_for(regions: Sequence[str]) -> dict[str, str]:
    """One colour per region, so that a region has the same colour in every chart of a page."""
    return {region: PALETTE[i % len(PALETTE)] for i, region in enumerate(regions)}


def series(counts: Sequence[MonthlyCount]) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    """(months, regions by total descending, (month, region) -> count)."""
    table: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = defaultdict(int)
    for c in counts:
        table[(c.month, c.region)] = c.count
        totals[c.region] += c.count
    regions = sorted(totals, key=lambda r: (-totals[r], r))
    months = month_range(min(c.month for c in counts), max(c.month for c in counts)) if counts else []
    return months, regions, table


def monthly_chart(
    counts: Sequence[MonthlyCount],
    *,
    title: str,
    chart_id: str,
    months: Sequence[str] | None = None,
    colors: dict[str, str] | None = None,
) -> str:
    """An SVG stacked bar chart of ``counts`` over ``months`` (default: the months they span); an
    empty chart says so."""
    spanned, regions, table = series(counts)
    months = list(months) if months is not None else spanned
    colors = colors or colors_for(regions)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="yibao-chart"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{escape(title)}"'
        ' font-family="sans-serif" font-size="12">',
        f'<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    if not months or not counts:
        out.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">暂无数据 No data</text></svg>'
        )
        return "".join(out)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, step = _axis(max(sum(table.get((m, r), 0) for r in regions) for m in months))
    for value in range(0, top + 1, step):
        y = TOP + plot_h - plot_h * value / top
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    slot = plot_w / len(months)
    bar = max(1.0, slot * 0.8)
    label_every = max(1, math.ceil(len(months) / 24))
    for i, month in enumerate(months):
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h
        for j, region in enumerate(regions):
            count = table.get((month, region), 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{colors.get(region, PALETTE[j % len(PALETTE)])}" data-month="{month}" data-region="{escape(region)}"'
                f' data-count="{count}"><title>{month} {escape(region)}: {count}</title></rect>'
            )
        if i % label_every == 0:
            lx, ly = LEFT + i * slot + slot / 2, TOP + plot_h + 14
            out.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" transform="rotate(-45 {lx:.1f} {ly:.1f})">'
                f"{month}</text>"
            )
    x = LEFT
    for j, region in enumerate(regions[:12]):  # legend along the top
        color = colors.get(region, PALETTE[j % len(PALETTE)])
        out.append(f'<rect x="{x}" y="30" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="39">{escape(region)}</text>')
        x += 24 + 13 * len(region)
    out.append("</svg>")
    return "".join(out)
