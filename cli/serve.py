"""``yibao serve``: the archive's web UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_serve(args: argparse.Namespace) -> int:
    from crawler.registry import load_registry
    from webui.app import ArchiveMissing, prepare_archive, serve

    config = load_registry(args.config)
    path = Path(args.db or config.archive_path)
    try:
        prepare_archive(path)
    except ArchiveMissing as exc:
        print(f"yibao: {exc}", file=sys.stderr)
        return 2
    where = f"http://{args.host}:{args.port}/"
    print(f"serving {path} read-only at {where} (Ctrl-C stops){' · SQL enabled' if args.allow_sql else ''}")
    serve(path, host=args.host, port=args.port, allow_sql=args.allow_sql)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="browse and search the archive in a web browser (Datasette, read-only)")
    p.add_argument("--db", help="archive path (default: [archive] path of the config)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--allow-sql", action="store_true", help="let visitors run arbitrary read-only SQL")
    p.set_defaults(func=cmd_serve)
