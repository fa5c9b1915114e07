"""The layers of the house, enforced: which package may import which, the replicas kept apart, SQL only in
``storage/``.

Every import of every product module is read with ``ast`` (module-level and inside functions, relative
imports resolved), so a wrong-way arrow fails here whatever its form. Loading an object by its dotted
name (``YIBAO_EVENT_ROUTER = "alerts.routing.router_for_crawler"``) is a plugin point, not an import.
``tests/`` and ``benchmarks/`` may import anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# layer -> the layers it may import (its own included). A layer is a top-level package, or scheduler.py.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "storage": frozenset({"storage", "core"}),
    "crawler": frozenset({"crawler", "spiders", "storage", "core"}),
    "spiders": frozenset({"spiders", "crawler", "storage", "core"}),
    "alerts": frozenset({"alerts", "storage", "core"}),
    "webui": frozenset({"webui", "storage", "core"}),
    "ops": frozenset({"ops", "crawler", "alerts", "storage", "core"}),
    "scheduler": frozenset({"scheduler", "ops", "crawler", "alerts", "storage", "core"}),
    "cli": frozenset({"cli", "scheduler", "ops", "webui", "alerts", "crawler", "spiders", "storage", "core"}),
    "replicas": frozenset({"replicas"}),  # the replicas import nothing from the product
}
# module -> layers it may import beyond its layer's row: only the demo starts replica portals
EXCEPTIONS: dict[str, frozenset[str]] = {"cli.demo": frozenset({"replicas"})}
# the user's config file is the application's root: alerts read their watchers from it through the config
# modules of crawler/ (never the Scrapy glue: settings, pipelines, middlewares, spiders)
CONFIG_MODULES = frozenset({"crawler.registry", "crawler.config_schema"})
CONFIG_READERS = frozenset({"alerts"})
# the pure core does no I/O: no Scrapy, no Twisted, no SQLite, no HTTP, no web server
CORE_FORBIDDEN = frozenset({"scrapy", "twisted", "sqlite3", "sqlite_utils", "datasette", "httpx", "aiohttp",
                            "apprise", "requests"})
SQL_CALLS = frozenset({"execute", "executescript", "executemany", "query"})
SQL_LAYER = "storage"
LAYERS = frozenset(ALLOWED)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def product_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every module of every layer under ``root``."""
    for layer in sorted(LAYERS):
        single = root / f"{layer}.py"
        if single.is_file():
            yield layer, single
        package = root / layer
        if not (package / "__init__.py").is_file():
            continue
        for path in sorted(package.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import statement anywhere in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module or ""
                continue
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
            yield node.lineno, target


def sql_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, name) of every ``x.execute(…)``-style call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            yield node.lineno, node.func.attr


def layer_violations(root: Path) -> list[Violation]:
    """Every import against ``ALLOWED`` / ``EXCEPTIONS`` / ``CORE_FORBIDDEN`` and every SQL call outside
    ``storage/`` in the product under ``root``."""
    found: list[Violation] = []
    for module, path in product_files(root):
        layer = module.split(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        allowed = ALLOWED[layer] | EXCEPTIONS.get(module, frozenset())
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            top = target.split(".")[0]
            if layer in CONFIG_READERS and target in CONFIG_MODULES:
                continue
            if top in LAYERS and top not in allowed:
                found.append(Violation(module, line, f"{layer} imports {target}"))
            elif layer == "core" and top in CORE_FORBIDDEN:
                found.append(Violation(module, line, f"the pure core imports {target}"))
        if layer not in (SQL_LAYER, "replicas"):
            for line, name in sql_calls(tree):
                found.append(Violation(module, line, f".{name}( outside storage/"))
    return sorted(found, key=lambda v: (v.module, v.line))


def test_the_product_keeps_its_layers():
    violations = layer_violations(ROOT)
    assert not violations, "wrong-way imports or SQL outside storage/:\n" + "\n".join(map(str, violations))


def test_the_checker_reads_the_real_tree():
    """Not vacuous: every layer is found, and imports of every form are seen."""
    modules = dict(product_files(ROOT))
    assert {m.split(".")[0] for m in modules} == LAYERS
    assert len(modules) > 80
    seen = {target for _, target in imported_modules(
        ast.parse(modules["spiders.base"].read_text(encoding="utf-8")), "spiders.base", False)}
    assert {"crawler.items", "spiders", "spiders.state", "core.records"} <= seen  # `from . import extract` too


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(text, encoding="utf-8")


def test_the_checker_fails_on_wrong_way_arrows(tmp_path):
    """Adding an arrow the wrong way (in any form) is reported; the right ways are not."""
    write(tmp_path, "core/ok.py", "import re\nfrom core import other\n")
    write(tmp_path, "core/pure.py", "def f():\n    import sqlite3\n    return sqlite3\n")
    write(tmp_path, "storage/db.py", "from core.records import X\ndef f(db):\n    return db.execute('SELECT 1')\n")
    write(tmp_path, "crawler/pipelines/archive.py",
          "from ..runcontext import ctx\n"  # crawler.runcontext: allowed
          "from spiders.base import S\n"  # allowed
          "def open_spider(crawler):\n"
          "    from alerts.routing import router_for_crawler\n"  # the old arrow, function-level
          "    return router_for_crawler(crawler)\n")
    write(tmp_path, "webui/pages.py", "import alerts.render\nfrom storage import q\n")
    write(tmp_path, "alerts/routing.py", "from crawler import registry\ndef f(db):\n    db.query('x')\n")
    write(tmp_path, "alerts/watchers.py", "from crawler.config_schema import S\nfrom crawler.settings import X\n")
    write(tmp_path, "replicas/server.py", "from core.records import DocumentRecord\n")
    write(tmp_path, "cli/main.py", "from replicas.server import ReplicaServer\nfrom ops import jobs\n")
    write(tmp_path, "cli/demo.py", "from replicas.server import ReplicaServer\n")
    write(tmp_path, "ops/jobs.py", "from crawler.registry import Portal\nfrom cli import main\n")
    write(tmp_path, "scheduler.py", "from webui import app\nfrom ops import jobs\n")

    found = {str(v) for v in layer_violations(tmp_path)}

    assert found == {
        "core.pure:2: the pure core imports sqlite3",
        "crawler.pipelines.archive:4: crawler imports alerts.routing",
        "webui.pages:1: webui imports alerts.render",
        "alerts.routing:1: alerts imports crawler",
        "alerts.routing:3: .query( outside storage/",
        "alerts.watchers:2: alerts imports crawler.settings",  # the config modules only, not the Scrapy glue
        "replicas.server:1: replicas imports core.records",
        "cli.main:1: cli imports replicas.server",
        "ops.jobs:2: ops imports cli",
        "scheduler:1: scheduler imports webui",
    }
