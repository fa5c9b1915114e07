"""The replicas package stands alone, and ``python -m replicas demo`` runs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import replicas
from tests.replicas.helpers import PORTALS

PACKAGE = Path(replicas.__file__).parent
PRODUCT = {"crawler", "spiders", "storage", "alerts"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_replicas_import_nothing_from_the_product() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 12
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in PRODUCT
    }
    assert offenders == set()


def test_demo_runs_and_prints_every_portal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replicas", "demo", "--docs", "30"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for portal_id in PORTALS:
        line = next(line for line in out.splitlines() if line.startswith(portal_id))
        assert re.search(r"http://127\.0\.0\.1:\d+/", line), line
        assert re.search(rf"^  {portal_id}\s+list page 200", out, re.M)
    assert re.search(r"^admin\s.*http://127\.0\.0\.1:\d+/portals$", out, re.M)
    assert "published" in out
    assert "withdrawn" in out
