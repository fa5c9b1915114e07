"""The family spiders, by the registry's ``family`` names (an explicit registry, nothing self-registers)."""

from __future__ import annotations

from spiders.base import PortalSpider

from .generic import GenericSpider
from .gkmlpt import GkmlptSpider
from .hanweb import HanwebSpider
from .sichuan import SichuanSpider
from .trs import TrsSpider

FAMILIES: dict[str, type[PortalSpider]] = {
    "trs": TrsSpider,
    "sichuan": SichuanSpider,
    "gkmlpt": GkmlptSpider,
    "hanweb": HanwebSpider,
    "generic": GenericSpider,
}

__all__ = ["FAMILIES"]
