"""What the warm-start server (``crawler.launcher``) imports once, so that no crawl it forks imports it again.

Found, not listed: every module a class path of the project's Scrapy settings names (Scrapy's and the project's
middlewares, pipelines, extensions, download handlers, scheduler queues, the event router, ...), Scrapy's
commands (its command line imports them all), the spiders, and the starter's main script (Python 3.11's
forkserver would otherwise run it again in every child). Listed: what a crawl imports late, datasketch's MinHash
(``core.identity.minhash_class``, its module alone: a few ms). A module that fails to import (an optional dependency
that is not installed) is left to the crawl, which fails or not as it would cold. Nothing here installs the
Twisted reactor: each crawl installs its own after the fork.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
from collections.abc import Iterator
from typing import Any

_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def _paths(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if _DOTTED.match(value):
            yield value
        return
    if hasattr(value, "items"):  # class paths are keys (middlewares) or values (download handlers, exporters)
        for key, item in value.items():
            yield from _paths(key)
            yield from _paths(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _paths(item)


def setting_modules() -> list[str]:
    """The modules of every dotted path in the project's settings (Scrapy's defaults included)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    found: set[str] = set()
    for name in settings:
        for path in _paths(settings[name]):
            module = path.rsplit(".", 1)[0]
            if "reactor" not in module:  # importing a reactor module may install it: each crawl installs its own
                found.add(module)
    return sorted(found)


def preload() -> list[str]:
    """Import what a crawl imports; returns the modules that could not be imported."""
    from scrapy.utils.misc import walk_modules_iter

    failed = []
    for module in ("scrapy.cmdline", "scrapy.crawler", *setting_modules()):
        try:
            importlib.import_module(module)
        except Exception:  # an optional dependency: the crawl meets it as it would cold
            failed.append(module)
    try:  # the identity's MinHash, which a crawl imports at its first document without a strong key
        from core.identity import minhash_class

        minhash_class()
    except Exception:
        failed.append("datasketch")
    for package in ("scrapy.commands", "spiders"):
        with contextlib.suppress(Exception):
            for _ in walk_modules_iter(package):
                pass
    _import_main()
    return failed


def _import_main() -> None:
    """The starter's ``__main__`` (``crawler.launcher`` names it), made the server's as the forkserver should have
    made it: each child then finds it in place instead of running it again."""
    from multiprocessing import spawn

    kind, _, target = os.environ.get("YIBAO_LAUNCHER_MAIN", "").partition(":")
    with contextlib.suppress(Exception):
        if kind == "name":
            spawn._fixup_main_from_name(target)  # type: ignore[attr-defined]  # (no public name for it)
        elif kind == "path":
            spawn.import_main_path(target)


# The server's life is its starter's (it exits when the starter is gone), never a signal's: a SIGTERM to the
# starter's process group (systemd, a test, a shell's kill) is for the starter, which stops its crawls cleanly.
with contextlib.suppress(OSError):
    os.setpgid(0, 0)
preload()
