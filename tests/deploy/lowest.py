"""The lowest versions pyproject.toml allows, as pip pins: ``python -m tests.deploy.lowest`` (``make test-lowest``).

Every runtime dependency and the dev dependencies the in-process suites and mypy need is pinned to its lower bound
(``>=X`` becomes ``==X``), so a lower bound that no longer works fails a test instead of a user's install.
``--names`` prints the distribution names as one ``a|b|c`` pattern (for ``pip list | grep -E``).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# dev tools make test-lowest does not run (the linter, the browser driver, the wheel builder)
NOT_NEEDED = frozenset({"ruff", "playwright", "setuptools"})


def lowest_pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [r for r in map(Requirement, project["optional-dependencies"]["dev"]) if r.name not in NOT_NEEDED]
    pins = []
    for req in requirements:
        lower = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
        pins.append(f"{req.name}=={lower[0]}" if lower else req.name)
    return pins


def main(argv: list[str]) -> int:
    pins = lowest_pins()
    if "--names" in argv:
        print("|".join(pin.split("==")[0] for pin in pins))
    else:
        print(" ".join(pins))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
