"""Where the archive lives: ``YIBAO_DB`` setting, else the config's ``[archive] path``."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings

from .registry import load_registry


def archive_path(settings: BaseSettings) -> Path:
    explicit = settings.get("YIBAO_DB")
    if explicit:
        return Path(explicit)
    return Path(load_registry(settings.get("YIBAO_CONFIG")).archive_path)
