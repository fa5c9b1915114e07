"""``yibao``: the command line (console script ``yibao = "cli.main:main"``).

One click group; each command lives in the module of its subject (``cli.crawl``, ``cli.status``, ``cli.query``,
``cli.diff``, ``cli.alerts``, ``cli.serve``, ``cli.demo``, ``cli.config``) and only parses, wires and calls
library functions. The options every command shares and the error contract are in ``cli.app``.

Exit status: 0 done; 1 a portal failed or was blocked (``crawl``, ``run --once``, ``status``), an unknown
document (``show``), a failed channel (``alerts test``); 2 a usage or config error, a missing archive; output
cut short by a closed pipe (``yibao search ... | head -1``) still ends with 0, quietly.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from cli.alerts import alerts, deliveries, dispatch, feed
from cli.app import App, global_options
from cli.cluster import worker, writer
from cli.config import config
from cli.crawl import crawl, portals, run
from cli.demo import demo
from cli.diff import diff
from cli.discover import discover
from cli.query import events, export, search, show
from cli.serve import serve
from cli.status import status

__all__ = ["main", "yibao"]


class YibaoGroup(click.Group):
    """The root group: a reader that closes the pipe ends the command quietly, and an in-process run
    (tests, ``cli.demo``) leaves the root logger's level as it found it."""

    def invoke(self, ctx: click.Context) -> Any:
        root = logging.getLogger()
        level = root.level
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
            return result
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(0) from None
        finally:
            root.setLevel(level)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush of what is still buffered does not
    fail again (Python's documented recipe). SIGPIPE is not reset to its default instead: that would also
    kill the scheduler or the web server when a peer closes a socket."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor behind stdout (an in-process test runner)
        pass


@click.group("yibao", cls=YibaoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="yibao-watch", prog_name="yibao", message="%(prog)s %(version)s")
@global_options
def yibao() -> None:
    """Yibao Watch: 医保局 portal crawler and change monitor.

    --config, --db, --json and --log-level are accepted before or after any command. The archive is --db,
    else $YIBAO_DB, else the config's [archive] path, else data/archive.db.
    """


for _command in (portals, crawl, run, status, feed, diff, search, show, events, export, dispatch, deliveries,
                 alerts, serve, demo, config, discover):  # fmt: skip
    yibao.add_command(_command)
for _command in (worker, writer):  # scale-out roles (cli.cluster, docs/scale-out.md)
    yibao.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``yibao`` with ``argv`` (default: the process's arguments); returns the exit status."""
    try:
        result = yibao.main(args=list(argv) if argv is not None else None, prog_name="yibao",
                            standalone_mode=False, obj=App())  # fmt: skip
    except click.ClickException as exc:  # a usage error: click's message, exit 2
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
