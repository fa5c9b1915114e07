"""``pip install .`` ships the whole product: a wheel built from a clean copy of the checkout (offline, a few
seconds) carries every module and data file of every package, the entry point and the declared dependencies.

The slower proof, an install into a fresh venv used from outside the checkout, is ``test_install.py``
(``make test-install``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.deploy.support import (
    ROOT,
    build_wheel,
    checkout_files,
    copy_files,
    product_files,
    wheel_names,
    wheel_text,
)

# data files the product reads at run time (the generic check below covers any added later)
DATA_FILES = ("crawler/portals.toml", "webui/static/yibao.css", "webui/templates/yibao_search.html")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of a copy of the checkout's files (a stale build/ or egg-info of the working tree cannot leak in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = copy_files(checkout_files(), tmp / "src")
    return build_wheel(source, tmp / "dist")


def test_every_module_and_data_file_is_in_the_wheel(wheel: Path) -> None:
    names = wheel_names(wheel)
    expected = product_files(checkout_files())
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    for path in DATA_FILES:
        assert path in names
    seeds = [n for n in names if n.startswith("replicas/data/seeds/")]
    assert len(seeds) >= 5  # the replicas' seed pages: `yibao demo` serves them


def test_nothing_but_the_product_is_in_the_wheel(wheel: Path) -> None:
    names = wheel_names(wheel)
    shipped = {n for n in names if ".dist-info/" not in n}
    assert shipped == product_files(checkout_files())
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/")) or "__pycache__" in n]


def test_entry_point_and_dependencies(wheel: Path) -> None:
    assert "yibao = cli.main:main" in wheel_text(wheel, ".dist-info/entry_points.txt")
    metadata = wheel_text(wheel, ".dist-info/METADATA")
    requires = [Requirement(line.split(":", 1)[1].strip()) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    runtime = {r.name for r in requires if not r.marker}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert runtime == {Requirement(r).name for r in declared}
    assert "aiosmtpd" in runtime  # yibao demo's mail sink: the demo runs from a plain install
    assert not {"beautifulsoup4", "cn2an"} & runtime
    dev = {r.name for r in requires if r.marker and r.marker.evaluate({"extra": "dev"})}
    assert {"pytest", "pytest-xdist", "mypy", "ruff"} <= dev
