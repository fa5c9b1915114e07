"""``yibao diff DOC_ID [V1 V2]``: what changed between two versions of an archived document.

Wired into the main CLI by ``register(subparsers)`` (crawler/cli.py)::

    from cli.diff import register as register_diff
    register_diff(sub)

V1/V2 are version numbers (1-based, per document, as in ``versions.version_no``); without them the two
latest versions are compared. Exit codes: 0 printed, 2 unknown document or version, or a document with a
single version ("only one version").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["cmd_diff", "register"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diff`` command to an ``argparse`` subparsers object; returns its parser."""
    p = subparsers.add_parser("diff", help="show what changed between two versions of a document")
    p.add_argument("doc_id", metavar="DOC_ID", type=int, help="document id (documents.id)")
    p.add_argument(
        "versions", metavar="V", type=int, nargs="*", help="two version numbers (default: the last two)"
    )
    p.add_argument("--db", help="archive path (default: [archive] path of the config, else data/archive.db)")
    # also accepted after the command; SUPPRESS keeps a top-level --config from being reset to None
    p.add_argument("--config", default=argparse.SUPPRESS, help="user config file")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="ANSI colours")
    p.add_argument("--full", action="store_true", help="print changed paragraphs whole")
    p.add_argument("--html", action="store_true", help="print the e-mail HTML rendering instead")
    p.add_argument("--json", action="store_true", help="print the change set as JSON")
    p.set_defaults(func=cmd_diff)
    return p


def _archive_path(args: argparse.Namespace) -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    from crawler.registry import load_registry

    return Path(load_registry(getattr(args, "config", None)).archive_path)


def _error(message: str) -> int:
    print(f"yibao diff: {message}", file=sys.stderr)
    return 2


def cmd_diff(args: argparse.Namespace) -> int:
    """Print the diff of ``args.doc_id`` between ``args.versions`` (or its last two versions)."""
    import json

    from core.diff_render import render_html, render_text
    from core.diffing import diff_versions
    from storage import open_db
    from storage.versions import get_document, get_version_by_no, latest_versions

    versions = list(getattr(args, "versions", None) or [])
    if len(versions) not in (0, 2):
        return _error("give two version numbers (V1 V2) or none")
    path = _archive_path(args)
    if not path.exists():
        return _error(f"no archive at {path}")
    db = open_db(path)
    try:
        document = get_document(db, args.doc_id)
        if document is None:
            return _error(f"unknown document {args.doc_id}")
        if versions:
            pair = [get_version_by_no(db, args.doc_id, no) for no in versions]
            for no, version in zip(versions, pair, strict=True):
                if version is None:
                    return _error(f"document {args.doc_id} has no version {no}")
        else:
            pair = latest_versions(db, args.doc_id, 2)
            if len(pair) < 2:
                return _error(f"document {args.doc_id} has only one version")
    finally:
        db.close()
    old, new = pair
    assert old is not None
    assert new is not None
    cs = diff_versions(old, new)
    if getattr(args, "json", False):
        print(json.dumps(cs.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if getattr(args, "html", False):
        sys.stdout.write(render_html(cs, title=new.get("title") or document["title"], url=new.get("url")))
        return 0
    mode = getattr(args, "color", "auto")
    color = mode == "always" or (mode == "auto" and sys.stdout.isatty())
    header = f"#{args.doc_id} {_plain(new.get('title') or document['title'])}\n"
    header += f"v{old['version_no']} ({old['created_at']}) → v{new['version_no']} ({new['created_at']})\n"
    header += f"{_plain(new.get('url') or '')}\n\n"
    sys.stdout.write(header + render_text(cs, color=color, full=getattr(args, "full", False)))
    return 0


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m cli.diff DOC_ID [V1 V2] [--db PATH]``)."""
    parser = argparse.ArgumentParser(prog="yibao")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["diff", *(sys.argv[1:] if argv is None else argv)])
    from crawler.registry import ConfigError

    try:
        return int(args.func(args))
    except ConfigError as exc:
        return _error(f"config error: {exc}")


if __name__ == "__main__":
    sys.exit(main())
