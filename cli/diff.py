"""``yibao diff DOC_ID [V1 V2]``: what changed between two versions of an archived document.

V1/V2 are version numbers (1-based, per document, as in ``versions.version_no``); without them the two
latest versions are compared. Exit codes: 0 printed, 2 unknown document or version, a document with a
single version ("only one version"), or no archive. ``python -m cli.diff DOC_ID ...`` is ``yibao diff DOC_ID ...``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from cli.app import App, CommandError, command

__all__ = ["diff"]


def _plain(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


@command("diff", help="show what changed between two versions of a document")
@click.argument("doc_id", metavar="DOC_ID", type=int)
@click.argument("versions", metavar="[V1 V2]", type=int, nargs=-1)
@click.option("--color", type=click.Choice(("auto", "always", "never")), default="auto", help="ANSI colours")
@click.option("--full", is_flag=True, help="print changed paragraphs whole")
@click.option("--html", is_flag=True, help="print the e-mail HTML rendering instead")
def diff(app: App, doc_id: int, versions: tuple[int, ...], color: str, full: bool, html: bool) -> int:
    """Print the diff of ``doc_id`` between ``versions`` (or its last two versions); ``--json``: the change set."""
    from core.diff_render import render_html, render_text
    from core.diffing import diff_versions
    from storage.versions import get_document, get_version_by_no, latest_versions

    if len(versions) not in (0, 2):
        raise CommandError("give two version numbers (V1 V2) or none")
    with app.archive() as db:
        document = get_document(db, doc_id)
        if document is None:
            raise CommandError(f"unknown document {doc_id}")
        pair: list[dict[str, Any]] = []
        if versions:
            for no in versions:
                version = get_version_by_no(db, doc_id, no)
                if version is None:
                    raise CommandError(f"document {doc_id} has no version {no}")
                pair.append(version)
        else:
            pair = latest_versions(db, doc_id, 2)
            if len(pair) < 2:
                raise CommandError(f"document {doc_id} has only one version")
    old, new = pair
    cs = diff_versions(old, new)
    if app.options.json:
        print(json.dumps(cs.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if html:
        sys.stdout.write(render_html(cs, title=new.get("title") or document["title"], url=new.get("url")))
        return 0
    colored = color == "always" or (color == "auto" and sys.stdout.isatty())
    header = f"#{doc_id} {_plain(new.get('title') or document['title'])}\n"
    header += f"v{old['version_no']} ({old['created_at']}) → v{new['version_no']} ({new['created_at']})\n"
    header += f"{_plain(new.get('url') or '')}\n\n"
    sys.stdout.write(header + render_text(cs, color=colored, full=full))
    return 0


if __name__ == "__main__":  # run as `python -m cli.main diff ...` (cli.main imports this module)
    import runpy

    sys.argv[1:1] = ["diff"]
    runpy.run_module("cli.main", run_name="__main__")
