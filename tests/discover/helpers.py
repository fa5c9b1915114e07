"""Shared by the discover tests: the columns each replica bureau really has, request recording, archive reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.discover.fetch import HttpRequest, HttpResponse, httpx_fetch
from tests.crawler.helpers import query

FAMILY = {"fujian_xiamen": "trs", "fujian_ningde": "trs", "guangdong_zhongshan": "gkmlpt", "sichuan": "sichuan",
          "nhsa": "hanweb"}  # fmt: skip
# the gkmlpt directory of the Zhongshan replica: category id -> kind (its TREE; 政府信息公开指南 is a jump link)
ZHONGSHAN_TREE = {3001: "replies", 3002: "replies", 3003: "policies", 3004: "policies", 3005: "reports"}


def expected_columns(server, portal_id: str) -> dict[str, str]:
    """Column URL path (+ #fragment) -> kind, as the replica site serves its bureau's columns."""
    if portal_id == "guangdong_zhongshan":
        return {f"/ybj/gkmlpt/index#{cid}": kind for cid, kind in ZHONGSHAN_TREE.items()}
    site = server.world.site(portal_id)
    return {site.column_path(c.key): c.kind for c in site.bureau.columns}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass
class Recorder:
    """A transport that records every request before sending it for real."""

    requests: list[HttpRequest] = field(default_factory=list)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return httpx_fetch(request)

    def netlocs(self) -> set[str]:
        return {urlsplit(r.url).netloc for r in self.requests}


def archived(archive) -> dict[str, tuple[str, dict]]:
    """url -> (portal id, latest record with its body_text) for every posting in the archive."""
    rows = query(
        archive,
        "SELECT p.url, p.portal_id, v.record_json, v.body_text FROM postings p"
        " JOIN documents d ON d.id = p.document_id JOIN versions v ON v.id = d.latest_version_id",
    )
    return {url: (portal, {**json.loads(record), "body_text": body}) for url, portal, record, body in rows}
