"""Onboarding and checking portals: ``discover(url)`` and ``check_portal(portal)``.

``discover`` turns a bureau's home page (or any column page) into a ready ``[[portals]]`` entry:
family by fingerprints, the replies/policies/reports columns by their link texts, one list and one
detail page sampled per column through the family spider and the normalizer. ``check_portal`` does
the same for a configured portal and says what is wrong. Both fetch politely (robots.txt, one
request at a time, a page budget) and only from the portal's own site.
"""

from __future__ import annotations

from .check import CheckReport, ColumnCheck, check_portal
from .discover import ColumnReport, Discovery, default_user_agent, discover
from .fetch import Fetch, HttpRequest, HttpResponse, httpx_fetch
from .report import render_check, render_discovery

__all__ = [
    "CheckReport",
    "ColumnCheck",
    "ColumnReport",
    "Discovery",
    "Fetch",
    "HttpRequest",
    "HttpResponse",
    "check_portal",
    "default_user_agent",
    "discover",
    "httpx_fetch",
    "render_check",
    "render_discovery",
]
