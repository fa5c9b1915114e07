"""Build and serve the archive's Datasette (``yibao serve``).

Safe to expose by default: the archive is opened read-only (Datasette's ``mode=ro`` connections; no
plugin writes), visitors cannot run their own SQL unless ``allow_sql`` (canned queries still work),
private tables (alert outbox, identity keys, fingerprints) are refused, the database file cannot be
downloaded, and every query has a time limit.
"""

from __future__ import annotations

from pathlib import Path

from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from storage import facet_columns, open_db
from webui import plugin
from webui.metadata import DATABASE, build_metadata

HERE = Path(__file__).parent
SETTINGS = {
    "default_page_size": 50,
    "sql_time_limit_ms": 3000,  # generous for ranked search on a large archive; a runaway query stops
    "facet_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "allow_download": False,  # the whole archive is one click away otherwise
    "suggest_facets": False,  # facets are configured; suggestions cost a scan of a large table
    "truncate_cells_html": 300,  # bodies and record JSON stay readable in table views
    "default_allow_sql": False,
}


class ArchiveMissing(FileNotFoundError):
    """There is no archive at the given path yet."""


def prepare_archive(path: Path) -> None:
    """Apply pending migrations (e.g. the browse columns) once, before serving read-only."""
    if not path.exists():
        raise ArchiveMissing(f"no archive at {path}: run `yibao crawl` (or `yibao demo --keep DIR`) first")
    open_db(path).close()


def _quiet_client_errors() -> None:
    """Datasette prints every error -- a visitor's bad search or a refused page too -- as a rich
    traceback with all local variables (request headers included) when ``rich`` is installed, as it is
    here for the CLI. Without it, Datasette keeps its plain traceback for real server errors only."""
    import datasette.handle_exception as default_handler

    default_handler.rich = None


def make_datasette(path: Path, *, allow_sql: bool = False) -> Datasette:
    """A Datasette serving the archive at ``path`` as ``/archive``, with this project's pages."""
    _quiet_client_errors()
    if not pm.is_registered(plugin):
        pm.register(plugin, name="yibao")
    settings = {**SETTINGS, "default_allow_sql": allow_sql}
    ds = Datasette(
        metadata=build_metadata(allow_sql=allow_sql),
        settings=settings,
        template_dir=str(HERE / "templates"),
        static_mounts=[("yibao-static", str(HERE / "static"))],
    )
    ds.add_database(Database(ds, path=str(path), is_mutable=True), name=DATABASE)
    return ds


def serve(path: Path, *, host: str = "127.0.0.1", port: int = 8001, allow_sql: bool = False,
          log_level: str = "warning") -> None:
    """Serve until interrupted (uvicorn, as the ``datasette`` command does)."""
    import uvicorn

    prepare_archive(path)
    ds = make_datasette(path, allow_sql=allow_sql)
    facet_columns.warm(str(path))  # the facets of a search kept on the table (webui.table_search)
    uvicorn.run(ds.app(), host=host, port=port, log_level=log_level.lower(), lifespan="on")
