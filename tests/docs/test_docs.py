"""Docs are part of the change: every YIBAO_* setting has a heading in docs/settings.md."""

from __future__ import annotations

from pathlib import Path

import crawler.settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_yibao_setting_is_documented():
    documented = {
        line[3:].strip() for line in (ROOT / "docs" / "settings.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    settings = {name for name in vars(crawler.settings) if name.startswith("YIBAO_")}
    assert settings - documented == set(), "undocumented settings"
    assert documented - settings == set(), "documented settings that do not exist"
