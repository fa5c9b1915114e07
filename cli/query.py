"""``yibao search / show / events / export``: querying the archive from the command line.

Wired into the main CLI by ``register(subparsers)`` (crawler/cli.py)::

    from cli.query import register as register_query
    register_query(sub)

Every command takes ``--db`` (default: the config's ``[archive] path``) and ``--config``. The query
syntax, the filters and the export formats are described in docs/search.md.

Exit codes: 0 done (also for no results), 1 unknown document (``show``), 2 a bad query, filter or
option (unknown region name or portal, malformed date) or no archive at the path.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.registry import Config
    from storage.query import DocumentFilter

__all__ = ["cmd_events", "cmd_export", "cmd_search", "cmd_show", "register", "resolve_region"]

PLAIN_MARK = ("【", "】")  # highlight markers off a terminal (and in --json snippets)
_TTY_MARK = ("\ue000", "\ue001")  # private-use sentinels, turned into rich styles on a terminal
_CODE = re.compile(r"[0-9]{6}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
CSV_LIST_SEPARATORS = {"deputies": "、", "adoption": "、", "urls": " "}

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


class UsageError(Exception):
    """A bad argument: printed as ``yibao COMMAND: message``, exit status 2."""


# --- wiring --------------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``search``, ``show``, ``events`` and ``export`` to an ``argparse`` subparsers object."""
    from storage.search import RANK_WINDOW, SORTS

    p = subparsers.add_parser("search", help="full-text search of the archive, ranked, with filters")
    p.add_argument(
        "query", metavar="QUERY", nargs="+", help='terms (joined by spaces), "phrases", OR, -term, NOT, ( )'
    )
    _common(p)
    _filters(p)
    p.add_argument("--limit", type=_positive, default=20, help="results per page (default 20)")
    p.add_argument("--offset", type=_non_negative, default=0, help="skip this many results")
    p.add_argument("--json", action="store_true", help="print {query, total, results} as JSON")
    p.add_argument("--sort", choices=SORTS, default="rank",
                   help="rank (default: best match first), or by publication date, newest or oldest first")
    p.add_argument("--exhaustive", action="store_true",
                   help=f"rank every match (by default, beyond {RANK_WINDOW:,} matches only the most recently "
                   "archived are ranked: bm25 over every match of a common term is slow on a large archive)")
    _color(p)
    p.set_defaults(func=_guarded(cmd_search))

    p = subparsers.add_parser("show", help="one archived document: fields, postings, version history")
    p.add_argument("doc_id", metavar="DOC_ID", type=int, help="document id (documents.id)")
    _common(p)
    p.add_argument("--versions", action="store_true", help="also diff each version against the one before")
    p.add_argument("--body", action="store_true", help="print the whole body text (default: its start)")
    p.add_argument("--json", action="store_true")
    _color(p)
    p.set_defaults(func=_guarded(cmd_show))

    p = subparsers.add_parser("events", help="the archive's change events, newest first")
    _common(p)
    p.add_argument("--since", help="created at or after this date (YYYY[-MM[-DD]], UTC) or *_at timestamp")
    p.add_argument("--kind", dest="kinds", action="append", default=[], metavar="KIND", help="event kind")
    p.add_argument("--portal", dest="portals", action="append", default=[], metavar="ID", help="portal id")
    p.add_argument("--limit", type=_positive, default=50, help="at most this many events (default 50)")
    p.add_argument("--json", action="store_true")
    _color(p)
    p.set_defaults(func=_guarded(cmd_events))

    p = subparsers.add_parser("export", help="stream documents as JSON Lines or CSV (UTF-8 with BOM)")
    _common(p)
    p.add_argument("--format", choices=("jsonl", "csv"), required=True)
    p.add_argument("--query", help="only the documents this search query matches")
    _filters(p)
    p.add_argument("-o", "--output", help="write to this file (default: stdout)")
    p.set_defaults(func=_guarded(cmd_export))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="archive path (default: [archive] path of the config, else data/archive.db)")
    # also accepted after the command; SUPPRESS keeps a top-level --config from being reset to None
    p.add_argument("--config", default=argparse.SUPPRESS, help="user config file")


def _filters(p: argparse.ArgumentParser) -> None:
    def many(flag: str, dest: str, metavar: str, text: str, **kw: Any) -> None:
        p.add_argument(flag, dest=dest, action="append", default=[], metavar=metavar, help=text, **kw)

    many("--portal", "portals", "ID", "posted on this portal (repeatable)")
    many("--region", "regions", "CODE|NAME", "region code (350000 = province, 350200 = city) or name")
    many("--kind", "kinds", "KIND", "document kind: suggestion_reply, proposal_reply, policy, ...")
    many("--class", "classes", "A|B|C|D", "reply class 答复类别 (repeatable)")
    many("--status", "statuses", "STATUS", "active or withdrawn", choices=("active", "withdrawn"))
    many("--validity", "validity", "TEXT", "有效性 as stored, e.g. 有效 / 失效")
    many("--deputy", "deputies", "NAME", "addressed to this 代表/委员 or organisation (exact name)")
    many("--adoption", "adoption", "TEXT", "a point adopted as this (采纳情况, e.g. 部分采纳, 留作参考)")
    p.add_argument("--since", help="published on or after (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", help="published on or before, inclusive (2025 = through 2025-12-31)")


def _color(p: argparse.ArgumentParser) -> None:
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="ANSI colours")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run ``command``; a bad query or filter becomes ``yibao NAME: message`` and exit status 2."""
    name = command.__name__.removeprefix("cmd_")

    def run(args: argparse.Namespace) -> int:
        from storage import FilterError, QueryError

        try:
            return command(args)
        except (UsageError, QueryError, FilterError) as exc:
            print(f"yibao {name}: {exc}", file=sys.stderr)
            return 2

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


# --- shared helpers ------------------------------------------------------------------------------


class _Context:
    """The registry (loaded on first use) and the archive path of a command."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from crawler.registry import load_registry

            self._config = load_registry(getattr(self.args, "config", None))
        return self._config

    def archive(self) -> Path:
        path = Path(self.args.db) if getattr(self.args, "db", None) else Path(self.config.archive_path)
        if not path.exists():
            raise UsageError(f"no archive at {path}")
        return path


@contextmanager
def _open(ctx: _Context) -> Iterator[sqlite_utils.Database]:
    from storage import open_db

    db = open_db(ctx.archive())
    try:
        yield db
    finally:
        db.close()


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
    raise UsageError(
        f"unknown region {value!r}: give a six-digit code (350000, 350200) or one of {', '.join(places)}"
    )


def _filter(ctx: _Context, db: sqlite_utils.Database) -> DocumentFilter:
    from storage import DocumentFilter

    args = ctx.args
    if args.portals:
        known = set(ctx.config.portals) | {
            p for (p,) in db.execute("SELECT DISTINCT portal_id FROM postings")
        }
        unknown = [p for p in args.portals if p not in known]
        if unknown:
            raise UsageError(f"unknown portal {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return DocumentFilter(
        portals=tuple(args.portals),
        regions=tuple(resolve_region(r, ctx.config) if not _CODE.fullmatch(r) else r for r in args.regions),
        kinds=tuple(args.kinds),
        classes=tuple(args.classes),
        statuses=tuple(args.statuses),
        validity=tuple(args.validity),
        deputies=tuple(args.deputies),
        adoption=tuple(args.adoption),
        since=args.since,
        until=args.until,
    )


def _use_color(args: argparse.Namespace) -> bool:
    mode = getattr(args, "color", "auto")
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


def _cells(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters are two wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    from alerts.render import DOC_KIND_LABELS, KIND_LABELS

    return DOC_KIND_LABELS, KIND_LABELS


# --- yibao search --------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    """Ranked results: a first line ``N results``, then per hit its title, metadata line and snippet."""
    from storage import build_query, search, search_count
    from storage.search import RANK_WINDOW, snippet

    ctx = _Context(args)
    text = " ".join(args.query)
    query = build_query(text)
    with _open(ctx) as db:
        filters = _filter(ctx, db)
        total = search_count(db, query, filters)
        color = _use_color(args) and not args.json
        mark = _TTY_MARK if color else PLAIN_MARK
        hits = search(db, query, filters=filters, limit=args.limit, offset=args.offset, mark=mark,
                      exhaustive=args.exhaustive, sort=args.sort)
    # filtered or by date: every match is ordered
    windowed = total > RANK_WINDOW and not args.exhaustive and filters.empty and args.sort == "rank"
    if args.json:
        results = [
            {"rank": args.offset + i, **asdict(hit), "id": hit.document_id} for i, hit in enumerate(hits, 1)
        ]
        payload = {"query": text, "total": total, "limit": args.limit, "offset": args.offset,
                   "filters": filters.to_dict(), "sort": args.sort, "mark": list(PLAIN_MARK),
                   "ranked_among_newest": RANK_WINDOW if windowed else None, "results": results}  # fmt: skip
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    kinds, _ = _labels()
    out = _Out(color)
    shown = f" (showing {args.offset + 1}–{args.offset + len(hits)})" if hits and len(hits) < total else ""
    out.line((f"{total} result{'' if total == 1 else 's'}{shown}", "bold"))
    if windowed:
        out.line((f"ranked among the {RANK_WINDOW:,} most recently archived matches (--exhaustive ranks all)",
                  "dim"))
    for i, hit in enumerate(hits, args.offset + 1):
        title = snippet(_plain(hit.title), query.terms, width=len(hit.title) * 4 + 4, mark=mark)
        meta = [hit.published_on or "----------", _plain(hit.bureau or "-"), kinds.get(hit.kind, hit.kind)]
        if hit.doc_no:
            meta.append(_plain(hit.doc_no))
        out.line()
        out.line(f"{i:>3}. ", (title, "bold"), (f"  #{hit.document_id}", "cyan"))
        status = [("  [withdrawn 已撤下]", "yellow")] if hit.status == "withdrawn" else []
        out.line("     ", ("  ·  ".join(meta), "dim"), *status)
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


def cmd_show(args: argparse.Namespace) -> int:
    """The document's fields, postings, versions (with ``--versions``: diff summaries) and events."""
    from storage import show_document
    from storage.versions import list_versions

    ctx = _Context(args)
    with _open(ctx) as db:
        shown = show_document(db, args.doc_id)
        if shown is None:
            print(f"yibao show: unknown document {args.doc_id}", file=sys.stderr)
            return 1
        if args.versions:
            from core.diffing import diff_versions

            previous = None
            diffs = {}
            for version in list_versions(db, args.doc_id):
                diffs[version["version_no"]] = diff_versions(previous, version).summary()
                previous = version
            for entry in shown["versions"]:
                entry["diff_summary"] = diffs.get(entry["no"])
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    document, record = shown["document"], shown["record"] or {}
    _, event_kinds = _labels()
    out = _Out(_use_color(args))
    out.line((f"#{args.doc_id} ", "cyan"), (_plain(document["title"]), "bold"))
    width = max(_cells(f"{zh} {en}") for _, zh, en in FIELDS) + 2
    for key, zh, en in FIELDS:
        value = _field_value(key, record, document)
        if value:
            label = f"{zh} {en}"
            out.line((label + " " * (width - _cells(label)), "dim"), value)
    body = (record.get("body_text") or "").splitlines()
    if body:
        out.line()
        out.line(("正文 body", "bold"), f"  ({sum(len(p) for p in body)} 字)")
        lines = body if args.body else body[:BODY_EXCERPT_LINES]
        for paragraph in lines:
            out.line("  ", _plain(paragraph))
        if len(lines) < len(body):
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


# --- yibao events --------------------------------------------------------------------------------


def cmd_events(args: argparse.Namespace) -> int:
    """Newest first: time, kind, document id, portal, title; the summary on the next line."""
    from alerts.watchers import OPS_EVENT_KINDS
    from storage import DOCUMENT_EVENT_KINDS, list_events_filtered
    from storage.query import document_titles

    known = (*DOCUMENT_EVENT_KINDS, *OPS_EVENT_KINDS)
    unknown = [k for k in args.kinds if k not in known]
    if unknown:
        raise UsageError(f"unknown event kind {unknown[0]!r}; known: {', '.join(known)}")
    ctx = _Context(args)
    with _open(ctx) as db:
        events = list_events_filtered(
            db, since=args.since, kinds=args.kinds, portals=args.portals, limit=args.limit
        )
        titles = document_titles(db, (e.document_id for e in events))
    if args.json:
        rows = [{**asdict(e), "changed_fields": list(e.changed_fields), "title": titles.get(e.document_id or 0)}
                for e in events]  # fmt: skip
        print(json.dumps({"events": rows}, ensure_ascii=False, indent=2))
        return 0
    _, event_kinds = _labels()
    out = _Out(_use_color(args))
    out.line((f"{len(events)} event{'' if len(events) == 1 else 's'}", "bold"))
    for e in events:
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
    from storage.query import EXPORT_FIELDS

    count = 0
    if fmt == "csv":
        writer = csv.writer(fh)
        writer.writerow(EXPORT_FIELDS)
        for item in items:
            writer.writerow(csv_row(item, EXPORT_FIELDS))
            count += 1
            tick()
    else:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
            tick()
    return count


def cmd_export(args: argparse.Namespace) -> int:
    """Stream the matching documents to ``-o`` (written to FILE.part, renamed when complete) or stdout."""
    from storage import build_query, count_documents, iter_documents

    ctx = _Context(args)
    query = build_query(args.query) if args.query else None
    encoding = "utf-8-sig" if args.format == "csv" else "utf-8"  # the BOM makes Excel read UTF-8
    with _open(ctx) as db:
        filters = _filter(ctx, db)
        items = iter_documents(db, filters, query=query)
        show_progress = sys.stderr.isatty() and not (not args.output and sys.stdout.isatty())
        with _progress(show_progress, lambda: count_documents(db, filters, query=query)) as tick:
            if args.output:
                count = _export_file(Path(args.output), items, args.format, encoding, tick)
            else:
                count = _export_stdout(items, args.format, encoding, tick)
    if args.output:
        print(f"exported {count} document{'' if count == 1 else 's'} to {args.output}", file=sys.stderr)
    return 0


def _export_file(
    target: Path, items: Iterable[dict[str, Any]], fmt: str, encoding: str, tick: Callable[[], None]
) -> int:
    partial = target.with_name(target.name + ".part")  # a failed export leaves no half file behind
    try:
        try:
            fh = partial.open("w", encoding=encoding, newline="")
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
        with fh:
            count = _write(items, fmt, fh, tick)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _export_stdout(items: Iterable[dict[str, Any]], fmt: str, encoding: str, tick: Callable[[], None]) -> int:
    sys.stdout.flush()
    fh = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")  # UTF-8 whatever the locale
    try:
        count = _write(items, fmt, fh, tick)
        fh.flush()
    except BrokenPipeError:  # `yibao export ... | head`: the reader is gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
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
