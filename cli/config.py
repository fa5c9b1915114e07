"""``yibao config schema``: the JSON Schema of ``yibao.toml``, for editors and CI checks of a config file.

    yibao config schema > yibao.schema.json

The schema is declared with the config's loader (``crawler.config_schema.json_schema()``), so it cannot drift
from what ``yibao`` accepts.
"""

from __future__ import annotations

import json

from cli.app import App, CommandError, command, group

__all__ = ["config"]


@group("config", help="the user config file (yibao.toml)")
def config(app: App) -> int:
    return 0


@command("schema", help="print the JSON Schema of yibao.toml")
def schema(app: App) -> int:
    """Always JSON (``--json`` is accepted and changes nothing)."""
    try:
        from crawler.config_schema import json_schema
    except ImportError as exc:  # a build without the declared schema (or without pydantic)
        raise CommandError(f"the config schema is not available in this build ({exc})") from None
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return 0


config.add_command(schema)
