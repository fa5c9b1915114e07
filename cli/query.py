"""``yibao search / show / events / export``: querying the archive from the command line.

The query syntax, the filters and the export formats are described in docs/search.md. These commands
only read: a missing archive is an error (exit 2), never a new empty archive.

Exit codes: 0 done (also for no results), 1 unknown document (``show``), 2 a bad query, filter or
option (unknown region name or portal, malformed date) or no archive at the path.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from cli.app import App, CommandError, LazyChoice, command
from cli.table import cells as _cells

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.registry import Config
    from storage.query import DocumentFilter

__all__ = ["csv_row", "events", "export", "resolve_region", "search", "show"]

PLAIN_MARK = ("【", "】")  # highlight markers off a terminal (and in --json snippets)
_TTY_MARK = ("\ue000", "\ue001")  # private-use sentinels, turned into rich styles on a terminal
_CODE = re.compile(r"[0-9]{6}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
CSV_LIST_SEPARATORS = {"deputies": "、", "adoption": "、", "urls": " ", "citations": "；"}

FIELDS = (  # (record / documents key, 中文, English) in the order ``show`` prints them
    ("kind", "类别", "kind"),
    ("status", "状态", "status"),
    ("bureau", "发布机构", "bureau"),
    ("region_code", "行政区划", "region"),
    ("doc_no", "文号", "doc no."),
    ("index_no", "索引号", "index no."),
    ("meeting", "会议", "meeting"),
    ("proposal_no", "建议/提案号", "proposal no."),
    ("proposal_title", "建议/提案标题", "proposal title"),
    ("deputies", "代表/委员", "deputies"),
    ("reply_class", "答复类别", "reply class"),
    ("adoption", "采纳情况", "adoption"),
    ("validity", "有效性", "validity"),
    ("published_on", "发布日期", "published"),
    ("generated_on", "成文日期", "written"),
    ("signed_on", "落款日期", "signed"),
    ("theme", "主题分类", "theme"),
    ("public_marker", "公开方式", "disclosure"),
    ("contacts", "联系方式", "contacts"),
    ("attachments", "附件", "attachments"),
    ("first_seen_at", "首次发现", "first seen"),
    ("last_changed_at", "最近变更", "last changed"),
    ("withdrawn_at", "撤下时间", "withdrawn at"),
)
BODY_EXCERPT_LINES = 3


# --- shared options ------------------------------------------------------------------------------


def _sorts() -> tuple[str, ...]:
    from storage.search import SORTS

    return SORTS


def _filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The document filters of ``search`` and ``export``; the command receives them as ``**filters``."""

    def many(flag: str, name: str, metavar: str, text: str, **kw: Any) -> Callable[..., Any]:
        return click.option(flag, name, multiple=True, metavar=metavar, help=text, **kw)

    decorators = (
        many("--portal", "portals", "ID", "posted on this portal (repeatable)"),
        many("--region", "regions", "CODE|NAME", "region code (350000 = province, 350200 = city) or name"),
        many("--kind", "kinds", "KIND", "document kind: suggestion_reply, proposal_reply, policy, ..."),
        many("--class", "classes", "A|B|C|D", "reply class 答复类别 (repeatable)"),
        many("--status", "statuses", "STATUS", "active or withdrawn", type=click.Choice(("active", "withdrawn"))),
        many("--validity", "validity", "TEXT", "有效性 as stored, e.g. 有效 / 失效"),
        many("--deputy", "deputies", "NAME", "addressed to this 代表/委员 or organisation (exact name)"),
        many("--adoption", "adoption", "TEXT", "a point adopted as this (采纳情况, e.g. 部分采纳, 留作参考)"),
        click.option("--since", help="published on or after (YYYY, YYYY-MM or YYYY-MM-DD)"),
        click.option("--until", help="published on or before, inclusive (2025 = through 2025-12-31)"),
        many("--cites", "cites", "文号|TITLE", "cites this document: a 文号 (any brackets) or a 《title》 (repeatable)"),
    )
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


_color_option = click.option(
    "--color", type=click.Choice(("auto", "always", "never")), default="auto", help="ANSI colours"
)


# --- shared helpers ------------------------------------------------------------------------------


def resolve_region(value: str, config: Config) -> str:
    """A six-digit region code as given, or the code of a place the registry's portals name: a province
    (福建省 / 福建 -> 350000), a city (厦门市 / 厦门 -> 350200) or a portal's name (厦门市医疗保障局)."""
    value = value.strip()
    if _CODE.fullmatch(value):
        return value
    names: dict[str, str] = {}
    for portal in config.portals.values():
        code = portal.region_code
        names.setdefault(portal.name, code)
        if portal.province:
            names.setdefault(portal.province, code[:2] + "0000")
        if portal.city:
            names.setdefault(portal.city, code[:4] + "00")
    for candidate in (value, value + "省", value + "市"):
        if candidate in names:
            return names[candidate]
    places = sorted({n for n in names if not n.endswith("局")}, key=lambda n: names[n])
    raise CommandError(
        f"unknown region {value!r}: give a six-digit code (350000, 350200) or one of {', '.join(places)}"
    )


def _filter(app: App, db: sqlite_utils.Database, given: dict[str, Any]) -> DocumentFilter:
    """The ``DocumentFilter`` of the filter options; region names resolved, portal ids checked."""
    from storage import DocumentFilter
    from storage.cli_support import posted_portal_ids

    if given["portals"]:
        known = set(app.config.portals) | posted_portal_ids(db)
        unknown = [p for p in given["portals"] if p not in known]
        if unknown:
            raise CommandError(f"unknown portal {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return DocumentFilter(
        portals=tuple(given["portals"]),
        regions=tuple(r if _CODE.fullmatch(r) else resolve_region(r, app.config) for r in given["regions"]),
        kinds=tuple(given["kinds"]),
        classes=tuple(given["classes"]),
        statuses=tuple(given["statuses"]),
        validity=tuple(given["validity"]),
        deputies=tuple(given["deputies"]),
        adoption=tuple(given["adoption"]),
        since=given["since"],
        until=given["until"],
        cites=tuple(given.get("cites") or ()),
    )


def _use_color(mode: str) -> bool:
    return mode == "always" or (mode == "auto" and sys.stdout.isatty())


def _plain(text: Any) -> str:
    """One line of crawled text safe for a terminal: no control or bidi characters, no newlines."""
    return _UNPRINTABLE.sub(" ", str(text)) if text is not None else ""


class _Out:
    """Lines to stdout: plain ``print``, or a rich console with styles (``--color``)."""

    def __init__(self, color: bool) -> None:
        self.console = None
        if color:
            from rich.console import Console

            self.console = Console(force_terminal=True, highlight=False, emoji=False, markup=False)

    def line(self, *parts: str | tuple[str, str]) -> None:
        """Parts are text, or (text, rich style); the styles are dropped without colour."""
        if self.console is None:
            print("".join(p if isinstance(p, str) else p[0] for p in parts))
            return
        from rich.text import Text

        text = Text()
        for part in parts:
            if isinstance(part, str):
                _marked(text, part)
            else:
                _marked(text, part[0], part[1])
        self.console.print(text, soft_wrap=True)


def _marked(text: Any, value: str, style: str = "") -> None:
    """Append ``value`` to a rich ``Text``, its ``_TTY_MARK`` spans highlighted."""
    parts = re.split(f"({_TTY_MARK[0]}.*?{_TTY_MARK[1]})", value)
    for part in parts:
        if part.startswith(_TTY_MARK[0]) and part.endswith(_TTY_MARK[1]):
            text.append(part[1:-1], style=f"{style} bold red".strip())
        elif part:
            text.append(part, style=style)


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    from alerts.render import DOC_KIND_LABELS, KIND_LABELS

    return DOC_KIND_LABELS, KIND_LABELS


# --- yibao search --------------------------------------------------------------------------------


@command("search", help="full-text search of the archive, ranked, with filters. QUERY: terms (joined by spaces), "
         '"phrases", OR, -term, NOT, ( ); put -- before a QUERY that starts with -term. Without a QUERY, --cites '
         "lists every document citing a 文号 or 《title》, newest first")
@click.argument("terms", metavar="[QUERY]...", nargs=-1)
@_filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="results per page")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="skip this many results")
@click.option("--sort", type=LazyChoice(_sorts), default="rank",
              help="rank (default: title/文号 matches first, then the others, most recently archived first), "
              "bm25 (slow on a large archive), or by publication date, newest or oldest first (without a "
              "QUERY: newest unless oldest)")
@click.option("--exhaustive", is_flag=True,
              help="count every match (by default counting stops at 1,000: '1,000+ results'); with --sort bm25 "
              "also rank every match (by default, beyond 20,000 matches only the most recently archived are "
              "ranked: bm25 over every match of a common term is slow on a large archive)")
@_color_option
def search(app: App, terms: tuple[str, ...], limit: int, offset: int, sort: str, exhaustive: bool, color: str,
           **given: Any) -> int:  # fmt: skip
    """Ranked results: a first line ``N results``, then per hit its title, metadata line and snippet.
    QUERY: terms (joined by spaces), "phrases", OR, -term, NOT, ( ); ``--`` before a leading -term.
    Without a QUERY, ``--cites`` lists the citing documents by date (the snippet: the clause citing it)."""
    from storage import build_query, search_count
    from storage import search as search_archive
    from storage.citations import RELATION_LABELS, CitingHit, citing_count, citing_search
    from storage.search import COUNT_CAP, RANK_WINDOW, Query, SearchHit, snippet

    as_json = app.options.json
    text = " ".join(terms)
    query: Query | None = build_query(text) if text.strip() else None
    if query is None:
        if not given["cites"]:
            raise CommandError("give a QUERY, or --cites 文号|《title》 to list every document citing it "
                               "(yibao export lists documents by the other filters alone)")  # fmt: skip
        source = click.get_current_context().get_parameter_source("sort")
        if sort in ("rank", "bm25") and source is not click.core.ParameterSource.DEFAULT:
            raise CommandError(f"--sort {sort} ranks the matches of a QUERY: without one, give --sort newest|oldest")
        sort = "oldest" if sort == "oldest" else "newest"
    colored = _use_color(color) and not as_json
    mark = _TTY_MARK if colored else PLAIN_MARK
    with app.archive() as db:
        filters = _filter(app, db, given)
        hits: list[SearchHit | CitingHit] = []  # one list type (a union of two list types joins to object)
        if query is None:
            total = citing_count(db, filters)
            hits += citing_search(db, filters, limit=limit, offset=offset, sort=sort, mark=mark)
        else:
            total = search_count(db, query, filters, cap=None if exhaustive else COUNT_CAP)
            hits += search_archive(db, query, filters=filters, limit=limit, offset=offset, mark=mark,
                                   exhaustive=exhaustive, sort=sort)  # fmt: skip
    # filtered or by date: every match is ordered
    windowed = query is not None and total >= COUNT_CAP and not exhaustive and filters.empty and sort == "bm25"
    # the count stopped at the cap: a lower bound (a listing without a QUERY counts every document)
    at_least = query is not None and total >= COUNT_CAP and not exhaustive
    if as_json:
        results = [{"rank": offset + i, **asdict(hit), "id": hit.document_id} for i, hit in enumerate(hits, 1)]
        payload = {"query": text, "total": total, "total_is_lower_bound": at_least, "limit": limit, "offset": offset,
                   "filters": filters.to_dict(), "sort": sort, "mark": list(PLAIN_MARK),
                   "ranked_among_newest": RANK_WINDOW if windowed else None, "results": results}  # fmt: skip
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    kinds, _ = _labels()
    out = _Out(colored)
    shown = f" (showing {offset + 1}–{offset + len(hits)})" if hits and len(hits) < total else ""
    count = f"{total:,}+ results" if at_least else f"{total} result{'' if total == 1 else 's'}"
    out.line((f"{count}{shown}", "bold"))
    if at_least:
        out.line(("counting stopped there (--exhaustive counts every match)", "dim"))
    if windowed:
        out.line((f"bm25 among the {RANK_WINDOW:,} most recently archived matches if more match"
                  " (--exhaustive ranks all)", "dim"))
    for i, hit in enumerate(hits, offset + 1):
        title = _plain(hit.title)
        if query is not None:
            title = snippet(title, query.terms, width=len(hit.title) * 4 + 4, mark=mark)
        meta = [hit.published_on or "----------", _plain(hit.bureau or "-"), kinds.get(hit.kind, hit.kind)]
        if hit.doc_no:
            meta.append(_plain(hit.doc_no))
        out.line()
        out.line(f"{i:>3}. ", (title, "bold"), (f"  #{hit.document_id}", "cyan"))
        status = [("  [withdrawn 已撤下]", "yellow")] if hit.status == "withdrawn" else []
        out.line("     ", ("  ·  ".join(meta), "dim"), *status)
        if isinstance(hit, CitingHit):  # the clause citing it, after the relation
            zh, en = RELATION_LABELS.get(hit.relation, (hit.relation, hit.relation))
            out.line("     ", (f"{zh} {en}  ", "dim"), _plain(hit.snippet))
        else:
            out.line("     ", _plain(hit.snippet))
    return 0


# --- yibao show ----------------------------------------------------------------------------------


_ARCHIVE_FIELDS = ("status", "region_code", "first_seen_at", "last_changed_at", "withdrawn_at")


def _field_value(key: str, record: dict[str, Any], document: dict[str, Any]) -> str:
    """A field for display: the latest version's value (the archive's own columns from ``documents``)."""
    value = None if key in _ARCHIVE_FIELDS else record.get(key)
    if value in (None, "", [], {}):
        value = document.get(key)
    if key == "meeting":
        value = value.get("text") if isinstance(value, dict) else None
        value = value or document.get("meeting_text")
    elif key == "kind":
        kinds, _ = _labels()
        value = f"{kinds.get(value, value)} ({value})" if value else None
    elif key == "attachments":
        value = "、".join(a.get("name") or a.get("url") or "?" for a in value or [])
    elif key == "contacts":
        value = "，".join(f"{k}: {v}" for k, v in (value or {}).items())
    elif isinstance(value, list):
        value = "、".join(str(v) for v in value)
    return _plain(value) if value not in (None, "") else ""


@command("show", help="one archived document: fields, postings, version history")
@click.argument("doc_id", metavar="DOC_ID", type=int)
@click.option("--versions", is_flag=True, help="also diff each version against the one before")
@click.option("--body", is_flag=True, help="print the whole body text (default: its start)")
@_color_option
def show(app: App, doc_id: int, versions: bool, body: bool, color: str) -> int:
    """The document's fields, postings, versions (with ``--versions``: diff summaries) and events."""
    from storage import show_document
    from storage.citations import document_links
    from storage.versions import list_versions

    with app.archive() as db:
        shown = show_document(db, doc_id)
        if shown is None:
            print(f"yibao show: unknown document {doc_id}", file=sys.stderr)
            return 1
        shown["links"] = {name: [link.as_dict() for link in links] for name, links in document_links(db, doc_id).items()}
        if versions:
            from core.diffing import diff_versions

            previous = None
            diffs = {}
            for version in list_versions(db, doc_id):
                diffs[version["version_no"]] = diff_versions(previous, version).summary()
                previous = version
            for entry in shown["versions"]:
                entry["diff_summary"] = diffs.get(entry["no"])
    if app.options.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    document, record = shown["document"], shown["record"] or {}
    _, event_kinds = _labels()
    out = _Out(_use_color(color))
    out.line((f"#{doc_id} ", "cyan"), (_plain(document["title"]), "bold"))
    width = max(_cells(f"{zh} {en}") for _, zh, en in FIELDS) + 2
    for key, zh, en in FIELDS:
        value = _field_value(key, record, document)
        if value:
            label = f"{zh} {en}"
            out.line((label + " " * (width - _cells(label)), "dim"), value)
    paragraphs = (record.get("body_text") or "").splitlines()
    if paragraphs:
        out.line()
        out.line(("正文 body", "bold"), f"  ({sum(len(p) for p in paragraphs)} 字)")
        lines = paragraphs if body else paragraphs[:BODY_EXCERPT_LINES]
        for paragraph in lines:
            out.line("  ", _plain(paragraph))
        if len(lines) < len(paragraphs):
            out.line(("  … (--body for all of it)", "dim"))
    out.line()
    out.line(("发布页面 postings", "bold"))
    for posting in shown["postings"]:
        column = f" {posting['column']}" if posting["column"] else ""
        style = "yellow" if posting["status"] != "active" else "green"
        out.line("  ", (f"{posting['status']:<6}", style), f" {posting['portal_id']}{_plain(column)}  ",
                 _plain(posting["url"]))  # fmt: skip
        out.line(
            ("    first seen " + posting["first_seen_at"] + ", last seen " + posting["last_seen_at"], "dim")
        )
    out.line()
    out.line(("版本 versions", "bold"))
    for version in shown["versions"]:
        out.line(f"  v{version['no']}  {version['created_at']}  ", _plain(version["summary"]))
        out.line("      ", (_plain(version["url"]), "dim"))
        if version.get("diff_summary"):
            out.line("      diff: ", (_plain(version["diff_summary"]), "magenta"))
    _show_links(out, shown["links"])
    others = [
        e
        for e in shown["events"]
        if e["kind"] not in ("new", "edited", "metadata_changed", "validity_changed")
    ]
    if others:
        out.line()
        out.line(("其他事件 other events", "bold"))
        for event in others:
            out.line(f"  {event['created_at']}  {event_kinds.get(event['kind'], event['kind'])} ({event['kind']})  ",
                     _plain(event["summary"]))  # fmt: skip
    return 0


LINK_SECTIONS = (  # (show()'s "links" key, heading)
    ("cites", "引用 cites"),
    ("cited_by", "被引用 cited by"),
    ("replaces", "替代/废止 replaces"),
    ("replaced_by", "被替代/废止 replaced by"),
)


def _show_links(out: _Out, links: dict[str, list[dict[str, Any]]]) -> None:
    """The citation links of ``show``: per section, ``#id`` (or "not archived"), relation, 文号 and title."""
    from storage.citations import RELATION_LABELS

    for key, heading in LINK_SECTIONS:
        if not links.get(key):
            continue
        out.line()
        out.line((heading, "bold"))
        for link in links[key]:
            zh, en = RELATION_LABELS.get(link["relation"], (link["relation"], link["relation"]))
            where = (f"#{link['document_id']}", "cyan") if link["document_id"] is not None else ("未存档 not archived", "dim")
            named = " ".join(x for x in (_plain(link["doc_no"] or ""), f"《{_plain(link['title'])}》" if link["title"] else "") if x)
            status = [("  [withdrawn 已撤下]", "yellow")] if link.get("status") == "withdrawn" else []
            out.line("  ", where, (f"  {zh} {en}  ", "dim"), named, *status)


# --- yibao events --------------------------------------------------------------------------------


@command("events", help="the archive's change events, newest first")
@click.option("--since", help="created at or after this date (YYYY[-MM[-DD]], UTC) or *_at timestamp")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="event kind (repeatable)")
@click.option("--portal", "portals", multiple=True, metavar="ID", help="portal id (repeatable)")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="at most this many events")
@_color_option
def events(app: App, since: str | None, kinds: tuple[str, ...], portals: tuple[str, ...], limit: int,
           color: str) -> int:  # fmt: skip
    """Newest first: time, kind, document id, portal, title; the summary on the next line."""
    from alerts.watchers import OPS_EVENT_KINDS
    from storage import DOCUMENT_EVENT_KINDS, list_events_filtered
    from storage.baselines import BASELINE_EVENT
    from storage.query import document_titles

    known = (*DOCUMENT_EVENT_KINDS, *OPS_EVENT_KINDS, BASELINE_EVENT)
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise CommandError(f"unknown event kind {unknown[0]!r}; known: {', '.join(known)}")
    with app.archive() as db:
        found = list_events_filtered(db, since=since, kinds=list(kinds), portals=list(portals), limit=limit)
        titles = document_titles(db, (e.document_id for e in found))
    if app.options.json:
        rows = [{**asdict(e), "changed_fields": list(e.changed_fields), "title": titles.get(e.document_id or 0)}
                for e in found]  # fmt: skip
        print(json.dumps({"events": rows}, ensure_ascii=False, indent=2))
        return 0
    _, event_kinds = _labels()
    out = _Out(_use_color(color))
    out.line((f"{len(found)} event{'' if len(found) == 1 else 's'}", "bold"))
    for e in found:
        doc = f"#{e.document_id}" if e.document_id is not None else "-"
        kind = f"{event_kinds.get(e.kind, e.kind)} {e.kind}"
        title = _plain(titles.get(e.document_id or 0, ""))
        out.line(f"{e.created_at}  ", (f"{kind:<22}", "yellow"), (f" {doc:<8}", "cyan"),
                 f" {e.portal_id or '-':<20} ", (title, "bold"))  # fmt: skip
        if e.summary:
            out.line("    ", (_plain(e.summary), "dim"))
    return 0


# --- yibao export --------------------------------------------------------------------------------


def csv_row(item: dict[str, Any], fields: Iterable[str]) -> list[Any]:
    """One export dict as CSV cells: lists joined (see ``CSV_LIST_SEPARATORS``), None as empty."""
    row = []
    for name in fields:
        value = item[name]
        if isinstance(value, list):
            value = CSV_LIST_SEPARATORS[name].join(value)
        row.append("" if value is None else value)
    return row


def _write(items: Iterable[dict[str, Any]], fmt: str, fh: IO[str], tick: Callable[[], None]) -> int:
    from storage.citations import citation_text
    from storage.query import EXPORT_FIELDS

    count = 0
    if fmt == "csv":
        columns = (*EXPORT_FIELDS, "citations")  # each as citation_text: relation 文号|《title》 [→ #id]
        writer = csv.writer(fh)
        writer.writerow(columns)
        for item in items:
            item = {**item, "citations": [citation_text(c) for c in item.get("citations", ())]}
            writer.writerow(csv_row(item, columns))
            count += 1
            tick()
    else:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
            tick()
    return count


@command("export", help="stream documents as JSON Lines or CSV (UTF-8 with BOM)")
@click.option("--format", "fmt", type=click.Choice(("jsonl", "csv")),
              help="jsonl or csv (required unless --json, which means jsonl)")
@click.option("--query", help="only the documents this search query matches")
@_filter_options
@click.option("-o", "--output", metavar="FILE", help="write to this file (default: stdout)")
def export(app: App, fmt: str | None, query: str | None, output: str | None, **given: Any) -> int:
    """Stream the matching documents to ``-o`` (written to FILE.part, renamed when complete) or stdout."""
    from storage import build_query, count_documents, iter_documents
    from storage.citations import with_citations

    if app.options.json:
        if fmt == "csv":
            raise CommandError("--json writes JSON Lines: give --format csv or --json, not both")
        fmt = "jsonl"
    if fmt is None:
        raise CommandError("give --format jsonl|csv (or --json)")
    parsed = build_query(query) if query else None
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"  # the BOM makes Excel read UTF-8
    with app.archive() as db:
        filters = _filter(app, db, given)
        items = with_citations(db, iter_documents(db, filters, query=parsed))
        show_progress = sys.stderr.isatty() and not (not output and sys.stdout.isatty())
        with _progress(show_progress, lambda: count_documents(db, filters, query=parsed)) as tick:
            if output:
                count = _export_file(Path(output), items, fmt, encoding, tick)
            else:
                count = _export_stdout(items, fmt, encoding, tick)
    if output:
        print(f"exported {count} document{'' if count == 1 else 's'} to {output}", file=sys.stderr)
    return 0


def _export_file(
    target: Path, items: Iterable[dict[str, Any]], fmt: str, encoding: str, tick: Callable[[], None]
) -> int:
    partial = target.with_name(target.name + ".part")  # a failed export leaves no half file behind
    try:
        try:
            fh = partial.open("w", encoding=encoding, newline="")
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from exc
        with fh:
            count = _write(items, fmt, fh, tick)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _export_stdout(items: Iterable[dict[str, Any]], fmt: str, encoding: str, tick: Callable[[], None]) -> int:
    sys.stdout.flush()
    fh = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")  # UTF-8 whatever the locale
    try:  # a closed pipe (`yibao export ... | head`) is ended quietly by cli.main
        count = _write(items, fmt, fh, tick)
        fh.flush()
    finally:
        with suppress(BrokenPipeError, ValueError):
            fh.detach()
    return count


@contextmanager
def _progress(enabled: bool, total: Callable[[], int]) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr (when ``enabled``); yields the per-document tick."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("export", total=total())
        yield lambda: progress.advance(task)
