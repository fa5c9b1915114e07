"""The declared dependencies are the imported ones: every runtime dependency in pyproject.toml is imported by the
product, and every third-party module the product imports is declared, or comes with a declared dependency that
requires it (checked against that dependency's own metadata)."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import packages_distributions, requires

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.support import ROOT, SINGLE_MODULES, package_files, top_level_packages

# module -> the declared dependency that requires it (Scrapy's own stack, pydantic's core, Datasette's server,
# the arrays of datasketch's MinHash): pinned through that dependency, and checked below that it does require it
COMES_WITH = {
    "twisted": "scrapy", "w3lib": "scrapy", "protego": "scrapy", "cssselect": "scrapy",
    "pydantic_core": "pydantic", "uvicorn": "datasette", "numpy": "datasketch",
}  # fmt: skip


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def imported_modules() -> dict[str, str]:
    """Top-level third-party module -> one product file importing it (module level or inside a function)."""
    files = package_files()
    ours = top_level_packages(files) | {m.removesuffix(".py") for m in SINGLE_MODULES} | {"tests", "benchmarks"}
    product = [f for f in files if f.endswith(".py") and (f.split("/")[0] in ours - {"tests", "benchmarks"}
                                                          or f in SINGLE_MODULES)]
    found: dict[str, str] = {}
    for rel in product:
        for node in ast.walk(ast.parse((ROOT / rel).read_text(encoding="utf-8"), rel)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ours and top != "__future__":
                    found.setdefault(top, rel)
    return found


@cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


def distribution_of(module: str) -> str:
    dists = _distributions().get(module)
    assert dists, f"{module} is imported but no installed distribution provides it"
    return canonicalize_name(dists[0])


def test_every_declared_dependency_is_imported() -> None:
    used = {distribution_of(m) for m in imported_modules()}
    assert declared() - used == set(), "declared but never imported: drop them from pyproject.toml"


def test_every_imported_module_is_declared_or_comes_with_a_declared_dependency() -> None:
    deps = declared()
    for module, where in sorted(imported_modules().items()):
        dist = distribution_of(module)
        if dist in deps:
            continue
        parent = COMES_WITH.get(module)
        assert parent, f"{where} imports {module} ({dist}), which pyproject.toml does not declare"
        assert canonicalize_name(parent) in deps
        required = {canonicalize_name(Requirement(r).name) for r in requires(parent) or []
                    if "extra ==" not in r}  # fmt: skip
        assert dist in required, f"{parent} does not require {dist}: declare it ({where} imports {module})"
