"""``yibao serve``: the archive's web UI (Datasette, read-only)."""

from __future__ import annotations

import click

from cli.app import App, command

__all__ = ["serve"]


@command("serve", no_json="the web UI serves JSON itself (add .json to a table or query URL)",
         help="browse and search the archive in a web browser (Datasette, read-only)")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--allow-sql", is_flag=True, help="let visitors run arbitrary read-only SQL")
def serve(app: App, host: str, port: int, allow_sql: bool) -> int:
    from webui.app import prepare_archive
    from webui.app import serve as serve_archive

    path = app.existing_archive()
    prepare_archive(path)  # migrations, once, before serving read-only
    level = app.configure_logging()
    print(f"serving {path} read-only at http://{host}:{port}/ (Ctrl-C stops){' · SQL enabled' if allow_sql else ''}",
          flush=True)  # fmt: skip
    serve_archive(path, host=host, port=port, allow_sql=allow_sql, log_level=level)
    return 0
