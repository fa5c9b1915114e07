"""``scrapy list`` / ``scrapy crawl <portal_id>`` for every portal in the registry.

Implements Scrapy's SpiderLoaderProtocol: a bespoke spider module ``spiders/<portal_id>.py``
wins; otherwise the portal's family spider is bound to the registry entry.
"""

from __future__ import annotations

import builtins
import importlib
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.settings import BaseSettings

from spiders.families import FAMILIES

from .registry import ConfigError, Portal, load_registry


class PortalSpiderLoader:
    def __init__(self, settings: BaseSettings) -> None:
        self.config = load_registry(settings.get("YIBAO_CONFIG"))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PortalSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        try:
            portal = self.config.get(spider_name)
        except ConfigError as exc:  # the protocol's "not found" (genspider, parse, edit rely on KeyError)
            raise KeyError(f"Spider not found: {spider_name} ({exc})") from None
        try:
            module = importlib.import_module(f"spiders.{portal.id}")
        except ModuleNotFoundError as exc:
            if exc.name != f"spiders.{portal.id}":
                raise
        else:  # a portal id may equal a helper module's name (spiders/base.py, listing.py …): no SPIDER there
            bespoke = getattr(module, "SPIDER", None)
            if bespoke is not None:
                return bespoke.for_portal(portal)
        return FAMILIES[portal.family].for_portal(portal)

    def list(self) -> list[str]:
        return list(self.config.portals)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        """The portals whose hosts *and ports* serve this URL (the replicas share 127.0.0.1); else by host."""
        parts = urlsplit(request.url)
        by_netloc = [p.id for p in self.config.portals.values() if parts.netloc in _netlocs(p)]
        return by_netloc or [p.id for p in self.config.portals.values() if parts.hostname in p.allowed_domains]


def _netlocs(portal: Portal) -> set[str]:
    urls = [c.url for c in portal.columns] + ([portal.base_url] if portal.base_url else [])
    return {urlsplit(u).netloc for u in urls}
