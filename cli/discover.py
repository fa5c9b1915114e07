"""``yibao discover URL`` and ``yibao portals check [PORTAL]...``: onboard a bureau's portal, check configured ones."""

from __future__ import annotations

import json

import click

from cli.app import App, CommandError, command

__all__ = ["discover", "portals_check"]


@command("discover", help="find a portal's CMS family and columns from its home (or a column) page; "
         "print a ready [[portals]] entry")  # fmt: skip
@click.argument("url")
@click.option("--max-pages", type=click.IntRange(1, 500), default=30, show_default=True,
              help="page budget (robots.txt not counted)")  # fmt: skip
@click.option("--delay", type=click.FloatRange(0), default=1.0, show_default=True, help="seconds between requests")
@click.option("--user-agent", metavar="UA", help="User-Agent to send (default: the crawler's USER_AGENT setting)")
def discover(app: App, url: str, max_pages: int, delay: float, user_agent: str | None) -> int:
    from crawler.discover import discover as run_discovery
    from crawler.discover import render_discovery

    try:
        found = run_discovery(url, max_pages=max_pages, delay=delay, user_agent=user_agent)
    except ValueError as exc:  # not an http(s) URL
        raise CommandError(str(exc)) from None
    if app.options.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_discovery(found), end="")
    return 0 if found.ok else 1


@command("check", help="read each column's list page and one document of the given (or every enabled) "
         "portal, live; say exactly what is wrong")  # fmt: skip
@click.argument("portal_ids", metavar="[PORTAL]...", nargs=-1)
@click.option("--delay", type=click.FloatRange(0), default=1.0, show_default=True, help="seconds between requests")
def portals_check(app: App, portal_ids: tuple[str, ...], delay: float) -> int:
    from crawler.discover import check_portal, render_check

    config = app.config
    # a disabled entry can be checked before it is enabled: that is what the check is for
    chosen = [config.get(pid, include_disabled=True) for pid in portal_ids] if portal_ids else config.enabled()
    reports = [check_portal(portal, delay=delay) for portal in chosen]
    if app.options.json:
        print(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            print(render_check(report), end="")
    return 0 if all(r.ok for r in reports) else 1
