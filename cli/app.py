"""What every ``yibao`` command shares: the global options, the application context, the error contract.

Global options. ``--config``, ``--db``, ``--json`` and ``--log-level`` are declared on the group *and* on every
command (``global_options``), so ``yibao --db A search x`` and ``yibao search x --db A`` mean the same; the last
one given wins. Their callbacks write into one ``Options`` held by the ``App`` in click's ``ctx.obj``.

The application context. ``App`` is built once per invocation and loads what a command asks for, once:
the portal registry (``crawler.registry.load_registry``), the alerts config (``alerts.watchers.load_alerts``)
and the archive path. Loading is lazy because options given after the command name are parsed after the
group's callback has run, and because a command that does not need the config (``search --db X``) must keep
working beside a broken ``yibao.toml``.

Archive path, first found: ``--db``, ``$YIBAO_DB``, the config's ``[archive] path``, ``data/archive.db``.

Errors. A command body returns its exit status. Raised errors become one line on stderr, never a traceback:
``ConfigError`` -> ``yibao: config error: ...`` (2); ``CommandError`` (a bad argument, a missing archive) and
the archive's query/filter errors -> ``yibao COMMAND: ...`` (2); ``sqlite3.DatabaseError`` (a file that is not
an archive) -> ``yibao: cannot use the archive: ...`` (2).
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crawler.registry import ConfigError

if TYPE_CHECKING:
    import sqlite_utils

    from alerts.watchers import AlertsConfig
    from crawler.registry import Config

__all__ = [
    "DB_ENV",
    "LOG_LEVELS",
    "App",
    "ArchiveMissing",
    "CommandError",
    "LazyChoice",
    "Options",
    "command",
    "global_options",
    "group",
]

DB_ENV = "YIBAO_DB"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
F = TypeVar("F", bound=Callable[..., Any])


class CommandError(Exception):
    """A problem the user can fix (bad argument, missing archive): ``yibao COMMAND: message``, exit 2."""

    exit_code = 2


class ArchiveMissing(CommandError):
    """A read-only command was pointed at an archive that does not exist (and it must not create one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"no archive at {path} (run `yibao crawl` first, or give --db / ${DB_ENV})")


@dataclass
class Options:
    """The global options, as given before or after the command name (None: not given)."""

    config: str | None = None
    db: str | None = None
    json: bool = False
    log_level: str | None = None


class App:
    """The application context of one invocation (click's ``ctx.obj``); every part loaded on first use."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()

    @cached_property
    def config(self) -> Config:
        """The shipped registry merged with the user's config file (``--config``, $YIBAO_CONFIG, ./yibao.toml)."""
        from crawler.registry import load_registry

        return load_registry(self.options.config)

    @cached_property
    def alerts(self) -> AlertsConfig:
        """``[smtp]``, ``[alerts]`` and ``[[watchers]]`` of the config, validated."""
        from alerts.watchers import load_alerts

        return load_alerts(self.config.raw)

    @cached_property
    def archive_path(self) -> Path:
        """``--db``, else ``$YIBAO_DB``, else the config's ``[archive] path``, else ``data/archive.db``."""
        explicit = self.options.db or os.environ.get(DB_ENV)
        return Path(explicit) if explicit else Path(self.config.archive_path)

    def existing_archive(self) -> Path:
        """The archive path of a read-only command: ``ArchiveMissing`` rather than creating an empty archive."""
        path = self.archive_path
        if not path.exists():
            raise ArchiveMissing(path)
        return path

    @contextmanager
    def archive(self, *, create: bool = False) -> Iterator[sqlite_utils.Database]:
        """The archive, opened (and migrated) for the command, closed after it. Without ``create`` a missing
        archive is an ``ArchiveMissing`` error; with it, the file and its folder are made."""
        from storage import open_db

        if create:
            path = self.archive_path
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            path = self.existing_archive()
        db = open_db(path)
        try:
            yield db
        finally:
            db.close()

    def log_level(self, default: str = "WARNING") -> str:
        return (self.options.log_level or default).upper()

    def configure_logging(self, default: str = "WARNING") -> str:
        """Root logger at ``--log-level`` (else ``default``), a stderr handler if there is none; the level."""
        level = self.log_level(default)
        logging.basicConfig(format=LOG_FORMAT)  # a no-op when the root logger has handlers already
        logging.getLogger().setLevel(level)
        return level


# --- options -------------------------------------------------------------------------------------


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False:  # not given here: keep what an earlier position set
            return
        setattr(ctx.ensure_object(App).options, name, value.upper() if name == "log_level" else value)

    return callback


def global_options(f: F) -> F:
    """``--config``, ``--db``, ``--json`` and ``--log-level``, for the group and for every command."""
    decorators = (
        click.option("--config", metavar="FILE", expose_value=False, callback=_remember("config"),
                     help="user config file (default: $YIBAO_CONFIG, else ./yibao.toml)"),
        click.option("--db", metavar="PATH", expose_value=False, callback=_remember("db"),
                     help=f"archive (default: ${DB_ENV}, else the config's [archive] path, else data/archive.db)"),
        click.option("--json", "json_", is_flag=True, expose_value=False, callback=_remember("json"),
                     help="machine-readable output"),
        click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), expose_value=False,
                     callback=_remember("log_level"), help="logging (and Scrapy's LOG_LEVEL) threshold"),
    )  # fmt: skip
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


class LazyChoice(click.ParamType):
    """A ``click.Choice`` whose choices are read on first use: ``load`` may import a module too slow to
    import for every ``yibao --help`` (the storage package takes a second)."""

    name = "choice"

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    @cached_property
    def _choice(self) -> click.Choice[str]:
        return click.Choice(tuple(self._load()))

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        return self._choice.get_metavar(param, ctx)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return self._choice.convert(value, param, ctx)


# --- commands ------------------------------------------------------------------------------------


def _fail(message: str, code: int = 2) -> click.exceptions.Exit:
    print(message, file=sys.stderr)
    return click.exceptions.Exit(code)


def _wrap(f: Callable[..., int | None], no_json: str | None) -> Callable[..., int]:
    """The callback of a command: ``f(app, **params)`` with the error contract of this module; its return
    value becomes the exit status (click ignores a callback's return value in standalone mode)."""

    @functools.wraps(f)
    def callback(**params: Any) -> int:
        ctx = click.get_current_context()
        app = ctx.ensure_object(App)
        name = ctx.command_path
        if no_json is not None and app.options.json:
            raise _fail(f"{name}: --json: {no_json}")
        try:
            code = f(app, **params)
        except ConfigError as exc:
            raise _fail(f"yibao: config error: {exc}") from None
        except CommandError as exc:
            raise _fail(f"{name}: {exc}", exc.exit_code) from None
        except sqlite3.DatabaseError as exc:  # e.g. --db pointing at a file that is not an archive
            raise _fail(f"yibao: cannot use the archive: {exc}") from None
        except ValueError as exc:
            from storage import FilterError, QueryError

            if isinstance(exc, QueryError | FilterError):  # a bad query or filter value
                raise _fail(f"{name}: {exc}") from None
            raise
        if code:
            raise click.exceptions.Exit(code)
        return 0

    return callback


def _globals_last(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Add the global options so that ``--help`` lists them after the command's own options (click takes
    ``__click_params__`` in reverse: the first in that list is the last option shown)."""
    own = list(getattr(callback, "__click_params__", []))
    callback.__click_params__ = []  # type: ignore[attr-defined]
    global_options(callback)
    callback.__click_params__ = [*callback.__click_params__, *own]  # type: ignore[attr-defined]
    return callback


def command(name: str, *, no_json: str | None = None, **attrs: Any) -> Callable[[Callable[..., int | None]], click.Command]:
    """A ``yibao`` command from ``f(app, **params) -> exit status``, with the global options.

    ``no_json``: the command has no JSON output; ``--json`` is refused with this explanation."""

    def decorate(f: Callable[..., int | None]) -> click.Command:
        return click.command(name, **attrs)(_globals_last(_wrap(f, no_json)))

    return decorate


def group(name: str, **attrs: Any) -> Callable[[Callable[..., int | None]], click.Group]:
    """A group of ``yibao`` commands with the global options; its callback ``f(app, **params)`` runs
    before the subcommand (or alone, with ``invoke_without_command=True``)."""

    def decorate(f: Callable[..., int | None]) -> click.Group:
        return click.group(name, **attrs)(_globals_last(_wrap(f, None)))

    return decorate
