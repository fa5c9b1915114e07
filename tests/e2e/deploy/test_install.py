"""A plain ``pip install`` of the wheel into a fresh venv, used from a folder outside the checkout: the console
script, the shipped registry, Scrapy's project (by SCRAPY_SETTINGS_MODULE, no scrapy.cfg), and the demo with its
replica portals and seed pages, all from site-packages.

It installs the dependencies from the package index (a few minutes), so it is left out of ``make test``:
``make test-install`` runs it (``-m install``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.support import ROOT, build_wheel, checkout_files, copy_files

pytestmark = pytest.mark.install


def test_pip_install_of_the_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    wheel = build_wheel(copy_files(checkout_files(), tmp_path / "src"), tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    started = time.monotonic()
    done = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", str(wheel)], capture_output=True, text=True,
                          timeout=1800)  # fmt: skip
    install_seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-4000:]
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB; pip install with its dependencies "
          f"{install_seconds:.0f} s")  # fmt: skip

    work = tmp_path / "elsewhere"  # no checkout, no yibao.toml, no scrapy.cfg here
    work.mkdir()
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(*argv: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(list(argv), cwd=work, env={**env, **extra}, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        return done

    run(str(bin_dir / "pip"), "check")
    where = run(str(bin_dir / "python"), "-c", "import cli, crawler, replicas.seeds as s; print(crawler.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed copy, not the checkout
    assert str(ROOT) not in where.stdout
    assert "yibao" in run(str(bin_dir / "yibao"), "--version").stdout
    assert "demo" in run(str(bin_dir / "yibao"), "--help").stdout
    assert "fujian_xiamen" in run(str(bin_dir / "yibao"), "portals").stdout
    spiders = run(str(bin_dir / "scrapy"), "list", SCRAPY_SETTINGS_MODULE="crawler.settings").stdout.split()
    assert "fujian_xiamen" in spiders
    started = time.monotonic()
    demo = run(str(bin_dir / "yibao"), "demo", "--docs", "20", timeout=900).stdout
    print(f"yibao demo --docs 20 from the installed package: {time.monotonic() - started:.0f} s")
    assert "Events recorded" in demo
    assert "Alerts delivered" in demo
    assert "[edited" in demo
