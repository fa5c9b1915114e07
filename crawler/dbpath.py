"""Where the archive lives: the ``YIBAO_DB`` setting, else the ``$YIBAO_DB`` environment variable (so a plain
``scrapy crawl`` agrees with ``yibao``), else the config's ``[archive] path``."""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.settings import BaseSettings

from .registry import load_registry


def archive_path(settings: BaseSettings) -> Path:
    explicit = settings.get("YIBAO_DB") or os.environ.get("YIBAO_DB")
    if explicit:
        return Path(explicit)
    return Path(load_registry(settings.get("YIBAO_CONFIG")).archive_path)
