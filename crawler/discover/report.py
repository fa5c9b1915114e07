"""Plain-text reports of a discovery and of a portal check (what the CLI prints)."""

from __future__ import annotations

from .check import CheckReport
from .discover import Discovery


def _fields_line(fields: dict[str, str]) -> str:
    return ", ".join(fields) if fields else "none"


def render_discovery(d: Discovery) -> str:
    lines = [f"Site:    {d.site_name or '?'}  ({d.url})"]
    if d.family:
        lines.append(f"Family:  {d.family}" + (f"  — {'; '.join(d.evidence)}" if d.evidence else ""))
    else:
        lines.append("Family:  not recognised")
    if d.scores:
        lines.append(
            "Scores:  " + ", ".join(f"{f} {s}" for f, s in sorted(d.scores.items(), key=lambda x: -x[1]))
        )
    lines.append(f"Requests: {len(d.requests)} (robots.txt included)")
    lines.append("")
    for c in d.columns:
        mark = "+" if c.included else "-"
        kind = c.kind or "?"
        lines.append(f"{mark} {c.name}  [{kind}, by {c.kind_source}]  {c.url}")
        if c.family:
            more = "; a next page follows" if c.next_page else ""
            lines.append(f"    list: {c.links} links by the {c.family} list logic{more}")
        if c.titles:
            lines.append(
                "    titles: "
                + ", ".join(f"{k} {n}" for k, n in sorted(c.titles.items(), key=lambda x: -x[1]))
            )
        if c.sample_url:
            lines.append(f"    sample: {c.sample_url}")
            lines.append(f"    fields: {_fields_line(c.fields)}")
            for key in ("title", "kind", "doc_no", "index_no", "meeting", "proposal_no", "published_on"):
                if key in c.fields:
                    lines.append(f"      {key}: {c.fields[key]}")
        for problem in c.problems:
            lines.append(f"    ! {problem}")
    for note in d.notes:
        lines.append(f"note: {note}")
    for problem in d.problems:
        lines.append(f"problem: {problem}")
    if d.entry:
        lines += ["", "# --- add to your yibao.toml ---", d.entry.rstrip()]
    return "\n".join(lines) + "\n"


def render_check(r: CheckReport) -> str:
    state = "ok" if r.ok else "PROBLEMS"
    lines = [f"{r.portal_id}  {r.name}  family {r.family}: {state}  ({len(r.requests)} requests)"]
    for c in r.columns:
        lines.append(f"  {'ok' if c.ok else '!!'} {c.name} [{c.kind}] {c.url}")
        if c.status is not None:
            more = ", a next page follows" if c.next_page else ""
            lines.append(f"     list: HTTP {c.status}, {c.links} links{more}")
        if c.sample_url:
            lines.append(f"     sample: {c.sample_url}")
            lines.append(f"     fields: {_fields_line(c.fields)}")
        for problem in c.problems:
            lines.append(f"     problem: {problem}")
        for note in c.notes:
            lines.append(f"     note: {note}")
    for problem in r.problems:
        lines.append(f"  problem: {problem}")
    return "\n".join(lines) + "\n"
