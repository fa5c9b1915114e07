"""``scrapy list`` / ``scrapy crawl <portal_id>`` for every portal in the registry.

Implements Scrapy's SpiderLoaderProtocol: a bespoke spider module ``spiders/<portal_id>.py``
wins; otherwise the portal's family spider is bound to the registry entry.
"""

from __future__ import annotations

import importlib
from typing import Any

from scrapy import Spider

from spiders.families import FAMILIES

from .registry import load_registry


class PortalSpiderLoader:
    def __init__(self, settings: Any) -> None:
        self.config = load_registry(settings.get("YIBAO_CONFIG"))

    @classmethod
    def from_settings(cls, settings: Any) -> PortalSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        portal = self.config.get(spider_name)
        try:
            module = importlib.import_module(f"spiders.{portal.id}")
            return module.SPIDER.for_portal(portal)
        except ModuleNotFoundError as exc:
            if exc.name != f"spiders.{portal.id}":
                raise
        return FAMILIES[portal.family].for_portal(portal)

    def list(self) -> list[str]:
        return list(self.config.portals)

    def find_by_request(self, request: Any) -> list[str]:
        host = request.url.split("/")[2].split(":")[0]
        return [p.id for p in self.config.portals.values() if host in p.allowed_domains]
