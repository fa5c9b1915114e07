"""What the deployment tests share: the checkout's files, the Docker build context, a wheel, unit files.

``checkout_files``   the files a clone of the project has (git's view: tracked and not ignored)
``package_files``    the files of the top-level packages and modules, by walking them (in process, no git)
``docker_context``   those of them a ``docker build .`` sends, by ``.dockerignore``'s rules
``build_wheel``      ``pip wheel --no-deps --no-build-isolation`` of a copy of some files (offline)
``product_files``    the package's own files: every top-level package (but tests/benchmarks), scheduler.py
``Unit``             a systemd unit file read into sections, rendered onto other paths
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD_DIR = ROOT / "deploy" / "systemd"
NOT_SHIPPED = frozenset({"tests", "benchmarks"})  # top-level packages that stay out of the wheel
SINGLE_MODULES = ("scheduler.py",)
# where the unit files expect things on a server (docs/deploy.md)
INSTALL_BIN = "/opt/yibao/bin/"
CONFIG_DIR = "/etc/yibao"
STATE_DIR = "/var/lib/yibao"
_SKIP_DIRS = frozenset({".git", ".venv", "build", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                        "test-artifacts", "data", ".scrapy"})


def checkout_files(root: Path = ROOT) -> list[str]:
    """Relative paths of the files a clone has: git's tracked and untracked-but-not-ignored files."""
    if (root / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                             capture_output=True, check=True).stdout.decode()
        return sorted(p for p in out.split("\0") if p and (root / p).is_file())
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        files += [str((Path(dirpath) / f).relative_to(root)) for f in filenames]
    return sorted(f for f in files if not f.endswith((".pyc", ".db", ".db-wal", ".db-shm")))


def package_files(root: Path = ROOT) -> list[str]:
    """Relative paths of the files in the top-level packages and single modules, by walking them (no git)."""
    files = [m for m in SINGLE_MODULES if (root / m).is_file()]
    for package in sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file()):
        for dirpath, dirnames, filenames in os.walk(root / package):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS]
            files += [str((Path(dirpath) / f).relative_to(root)) for f in filenames if not f.endswith(".pyc")]
    return sorted(files)


def top_level_packages(files: Iterable[str]) -> set[str]:
    return {f.split("/")[0] for f in files if f.count("/") == 1 and f.endswith("/__init__.py")} - NOT_SHIPPED


def product_files(files: Iterable[str]) -> set[str]:
    """The files a wheel must carry: every file of every shipped package (modules and data alike)."""
    files = list(files)
    packages = top_level_packages(files)
    return {f for f in files if f.split("/")[0] in packages or f in SINGLE_MODULES}


# --- .dockerignore ------------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regular expression over a path."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "**/" matches any number of folders, none included
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        ch = pattern[i]
        out.append({"*": "[^/]*", "?": "[^/]"}.get(ch, re.escape(ch)))
        i += 1
    return re.compile("".join(out))


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception ``!``, regex) per rule, in order; comments and blank lines left out."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((keep, _pattern_regex(pattern)))
    return rules


def docker_context(files: Iterable[str], dockerignore: str) -> list[str]:
    """The files ``docker build`` sends: the last rule matching a file or one of its folders decides."""
    rules = dockerignore_rules(dockerignore)
    sent = []
    for path in files:
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for keep, regex in rules:
            if any(regex.fullmatch(p) for p in prefixes):
                excluded = not keep
        if not excluded:
            sent.append(path)
    return sent


# --- wheels -------------------------------------------------------------------------------------------


def copy_files(files: Iterable[str], dest: Path, root: Path = ROOT) -> Path:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return dest


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel`` of ``source`` with this interpreter's setuptools: no index, no build isolation."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--wheel-dir", str(out), str(source)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("yibao_watch-*.whl")
    return wheel


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def wheel_text(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name).decode()


# --- systemd units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    path: Path
    text: str

    @classmethod
    def read(cls, path: Path) -> Unit:
        return cls(path, path.read_text(encoding="utf-8"))

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, section: str, key: str) -> list[str]:
        """Every value of ``key`` in ``[section]`` (a key may repeat, as Environment= does)."""
        current, values = None, []
        for line in self.text.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
            elif current == section and "=" in line:
                k, v = line.split("=", 1)
                if k.strip() == key:
                    values.append(v.strip())
        return values

    def value(self, section: str, key: str) -> str | None:
        values = self.values(section, key)
        return values[-1] if values else None

    def exec_start(self) -> list[str]:
        (line,) = self.values("Service", "ExecStart")
        return shlex.split(line)

    def environment(self) -> dict[str, str]:
        env = {}
        for assignment in self.values("Service", "Environment"):
            assert '"' not in assignment, f"{self.name}: one plain KEY=value per Environment= line"
            assert " " not in assignment, f"{self.name}: one plain KEY=value per Environment= line"
            key, value = assignment.split("=", 1)
            env[key] = value
        return env

    def render(self, mapping: dict[str, str]) -> Unit:
        """The unit with its server paths replaced (longest first), e.g. onto a test's folders."""
        text = self.text
        for old in sorted(mapping, key=len, reverse=True):
            text = text.replace(old, mapping[old])
        return Unit(self.path, text)


def units() -> list[Unit]:
    return [Unit.read(p) for p in sorted(SYSTEMD_DIR.iterdir()) if p.suffix in (".service", ".timer")]
