"""The replica world: every site, every document, the faults and the request counters.

All state lives here behind one lock, so the Python API (tests, benchmarks, the demo) and the
HTTP admin endpoint mutate it the same way while the servers are answering requests.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .bureaus import BUREAUS
from .corpus import FIRST_GENERATED_ID, CorpusGenerator, new_attachment
from .model import Document
from .seeds import load_seed_documents
from .sites.base import Site
from .sites.gkmlpt import GkmlptSite
from .sites.hanweb import HanwebSite
from .sites.sichuan import SichuanSite
from .sites.trs import NingdeSite, XiamenSite

SITE_CLASSES: dict[str, type[Site]] = {
    "fujian_xiamen": XiamenSite,
    "fujian_ningde": NingdeSite,
    "guangdong_zhongshan": GkmlptSite,
    "sichuan": SichuanSite,
    "nhsa": HanwebSite,
}
ROBOTS_MODES = ("allow", "disallow", "missing", "forbidden")


@dataclass
class Faults:
    """Fault modes of one portal, switchable at run time (all off by default)."""

    error_burst: int = 0  # the next N requests answer ``error_status``
    error_status: int = 503
    slow: float = 0.0  # seconds added to every response
    truncate: bool = False  # announce the full Content-Length, send half, close
    wrong_charset: str | None = None  # Content-Type header names this charset
    redirect_loop: bool = False  # every page redirects to itself
    challenge: bool = False  # WAF-style 412 with a $_ts JS challenge page
    ban_after: int = 0  # token bucket: more than N requests in ``ban_window`` s → 403 for ban_seconds
    ban_window: float = 1.0
    ban_seconds: float = 60.0
    force_gzip: bool = False  # gzip even when the client did not ask
    huge: int = 0  # pad HTML pages with this many bytes of markup
    malformed: bool = False  # cut HTML pages mid-tag (unclosed elements, no </html>)
    broken_layout: bool = False  # a redesigned template our spiders do not know
    path_prefix: str = ""  # faults apply only to paths starting with this

    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k not in ("error_status", "ban_window", "ban_seconds"))


@dataclass
class PortalState:
    site: Site
    faults: Faults = field(default_factory=Faults)
    robots: str = "allow"
    counts: Counter[str] = field(default_factory=Counter)  # path -> requests
    statuses: Counter[int] = field(default_factory=Counter)
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path?query, status)
    hits: list[float] = field(default_factory=list)  # recent request times (ban bucket)
    banned_until: float = 0.0


class ReplicaWorld:
    """All replica portals with their documents; thread-safe mutation API."""

    def __init__(self, docs: int = 200, seed: int = 2025, with_seeds: bool = True) -> None:
        self.lock = threading.RLock()
        self.generator = CorpusGenerator(seed)
        self.documents: dict[int, Document] = {}
        self.portals: dict[str, PortalState] = {}
        for portal_id, cls in SITE_CLASSES.items():
            site = cls(BUREAUS[portal_id], self.documents.__getitem__)
            self.portals[portal_id] = PortalState(site, robots=cls.robots_default)
        self.next_id = FIRST_GENERATED_ID + docs
        self._edits = 0
        if with_seeds:
            names = {k: (b.name, b.region_code) for k, b in BUREAUS.items()}
            for doc in load_seed_documents(names):
                self._add(doc)
        for doc in self.generator.generate(docs):
            self._add(doc)

    # -- lookups ---------------------------------------------------------------------------------

    def site(self, portal_id: str) -> Site:
        return self.portals[portal_id].site

    def doc(self, doc_id: int) -> Document:
        return self.documents[doc_id]

    def docs(self, portal_id: str | None = None, *, include_withdrawn: bool = False) -> list[Document]:
        with self.lock:
            return [
                d
                for d in self.documents.values()
                if (portal_id is None or d.portal_id == portal_id)
                and (include_withdrawn or d.status == "published")
            ]

    def truth(self, doc_id: int, variant: str | None = None) -> dict[str, Any]:
        """Ground truth of the page a document is served at (its primary URL by default)."""
        with self.lock:
            doc = self.documents[doc_id]
            site = self.site(doc.portal_id)
            variant = variant or next(iter(site.doc_paths(doc)))
            return site.page_truth(doc, variant)

    def urls(self, doc_id: int) -> dict[str, str]:
        """variant -> path of a document (primary first)."""
        doc = self.documents[doc_id]
        return self.site(doc.portal_id).doc_paths(doc)

    # -- mutations -------------------------------------------------------------------------------

    def _add(self, doc: Document) -> None:
        self.documents[doc.doc_id] = doc
        self.site(doc.portal_id).add(doc)

    def publish(
        self,
        portal_id: str,
        column: str | None = None,
        *,
        kind: str | None = None,
        at: datetime | None = None,
        cites: list[tuple[str, int]] | None = None,
    ) -> Document:
        """Publish a new generated document, newest in its column.

        ``cites``: (relation, doc id) pairs — e.g. ``[("abolishes", 3000123)]`` for a policy that abolishes an
        archived one, ``[("implements", 3000123)]`` for a reply relying on it — makes the body cite exactly
        those documents (by their 文号 when they have one) and no other replica document; its truth
        (``Document.citations``) names them. Without it the body cites nearby policies as generated ones do.
        """
        with self.lock:
            site = self.site(portal_id)
            column = column or site.bureau.columns[0].key
            newest = max((d.published_at for d in self.documents.values()), default=datetime(2025, 1, 1))
            doc_id = self._next_id_for(portal_id)
            links = (
                None if cites is None else [(relation, self.documents[target]) for relation, target in cites]
            )
            doc = self.generator.make(
                portal_id,
                column,
                doc_id=doc_id,
                kind=kind,
                published_at=at or newest + timedelta(hours=1),
                cites=links,
            )
            self._add(doc)
            return doc

    def _next_id_for(self, portal_id: str) -> int:
        """Generated documents are dealt to the bureaus round-robin by id; keep that for new ones, so
        the numbers derived from a document's serial (proposal numbers) stay unique per bureau."""
        index = list(BUREAUS).index(portal_id)
        while (self.next_id - FIRST_GENERATED_ID) % len(BUREAUS) != index:
            self.next_id += 1
        doc_id, self.next_id = self.next_id, self.next_id + 1
        return doc_id

    def _touch(self, doc: Document) -> None:
        doc.version += 1
        doc.modified_at = (doc.modified_at or doc.published_at) + timedelta(minutes=1 + doc.version)

    def edit(self, doc_id: int, paragraph: int | None = None, text: str | None = None) -> Document:
        """Change one body paragraph (by default the longest one: a figure in it changes)."""
        with self.lock:
            doc = self.documents[doc_id]
            if paragraph is None:
                paragraph = max(range(len(doc.blocks)), key=lambda i: len(doc.blocks[i].text))
            self._edits += 1
            block = doc.blocks[paragraph]
            block.text = text if text is not None else block.text.rstrip("。") + f"，预算总额调整为{30 + self._edits}.5亿元。"
            self._touch(doc)
            return doc

    def set_metadata(self, doc_id: int, **fields: Any) -> Document:
        """Change metadata fields, e.g. ``validity="失效"`` (gkmlpt shows it as is_expired)."""
        allowed = {"validity", "title", "title_tag", "doc_no_raw", "doc_no", "index_no", "reply_class"}
        with self.lock:
            doc = self.documents[doc_id]
            for key, value in fields.items():
                if key not in allowed:
                    raise ValueError(f"cannot set {key!r}; settable: {sorted(allowed)}")
                setattr(doc, key, value)
            self._touch(doc)
            return doc

    def withdraw(self, doc_id: int, mode: str | None = None) -> Document:
        """Delist a document; its URL answers 404 or a soft-404 page (the site's default)."""
        with self.lock:
            doc = self.documents[doc_id]
            site = self.site(doc.portal_id)
            doc.status = "withdrawn"
            doc.withdraw_mode = mode or site.withdraw_default
            if doc.withdraw_mode not in ("404", "soft404"):
                raise ValueError("mode must be 404 or soft404")
            return doc

    def restore(self, doc_id: int) -> Document:
        with self.lock:
            doc = self.documents[doc_id]
            doc.status = "published"
            return doc

    def repost(self, doc_id: int, portal_id: str | None = None, column: str | None = None) -> Document:
        """The same document again at another URL (same or another portal); same identity."""
        with self.lock:
            src = self.documents[doc_id]
            portal_id = portal_id or src.portal_id
            site = self.site(portal_id)
            column = column if column is not None else (src.column if portal_id == src.portal_id else site.bureau.columns[0].key)
            new_id, self.next_id = self.next_id, self.next_id + 1
            copy = Document(**{**src.__dict__, "doc_id": new_id, "portal_id": portal_id, "column": column,
                               "blocks": [type(b)(b.text, b.role) for b in src.blocks],
                               "attachments": list(src.attachments), "deputies": list(src.deputies),
                               "adoption": list(src.adoption), "contacts": dict(src.contacts),
                               "published_at": src.published_at + timedelta(hours=2), "modified_at": None,
                               "visits": 0, "version": 1, "seed": None,
                               "status": "published"})
            self._add(copy)
            return copy

    def add_attachment(self, doc_id: int, label: str = "补充材料") -> Document:
        with self.lock:
            doc = self.documents[doc_id]
            doc.attachments.append(new_attachment(doc, label, doc.version + 1))
            self._touch(doc)
            self.site(doc.portal_id).reindex(doc)
            return doc

    def replace_attachment(self, doc_id: int, index: int = 0) -> Document:
        with self.lock:
            doc = self.documents[doc_id]
            if not doc.attachments:
                raise ValueError(f"document {doc_id} has no attachment to replace")
            label = doc.attachments[index].name.split("：", 1)[-1].rsplit(".", 1)[0]
            fresh = new_attachment(doc, label, doc.version + 1)
            fresh.name = doc.attachments[index].name
            doc.attachments[index] = fresh
            self._touch(doc)
            self.site(doc.portal_id).reindex(doc)
            return doc

    # -- faults, robots, counters ----------------------------------------------------------------

    def set_faults(self, portal_id: str, **faults: Any) -> Faults:
        with self.lock:
            state = self.portals[portal_id]
            current = asdict(state.faults)
            unknown = set(faults) - set(current)
            if unknown:
                raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(current)}")
            state.faults = Faults(**{**current, **faults})
            state.site.broken_layout = state.faults.broken_layout
            state.banned_until = 0.0
            return state.faults

    def clear_faults(self, portal_id: str | None = None) -> None:
        with self.lock:
            for pid in [portal_id] if portal_id else list(self.portals):
                self.portals[pid].faults = Faults()
                self.portals[pid].site.broken_layout = False
                self.portals[pid].banned_until = 0.0

    def set_robots(self, portal_id: str, mode: str) -> None:
        if mode not in ROBOTS_MODES:
            raise ValueError(f"robots mode must be one of {ROBOTS_MODES}")
        with self.lock:
            self.portals[portal_id].robots = mode

    def count(self, portal_id: str, method: str, path: str, query: str, status: int) -> None:
        with self.lock:
            state = self.portals[portal_id]
            state.counts[path] += 1
            state.statuses[status] += 1
            if len(state.log) < 200_000:
                state.log.append((method, path + (f"?{query}" if query else ""), status))

    def stats(self, portal_id: str | None = None) -> dict[str, Any]:
        """Requests per portal: total, by path, by status, and the request log."""
        with self.lock:
            ids = [portal_id] if portal_id else list(self.portals)
            return {
                pid: {
                    "total": sum(self.portals[pid].counts.values()),
                    "paths": dict(self.portals[pid].counts),
                    "statuses": {str(k): v for k, v in self.portals[pid].statuses.items()},
                    "log": list(self.portals[pid].log),
                }
                for pid in ids
            }

    def reset_stats(self) -> None:
        with self.lock:
            for state in self.portals.values():
                state.counts.clear()
                state.statuses.clear()
                state.log.clear()

    def rate_limited(self, portal_id: str, now: float | None = None) -> bool:
        """Token-bucket ban: True while the portal answers this client 403."""
        with self.lock:
            state = self.portals[portal_id]
            faults = state.faults
            if not faults.ban_after:
                return False
            now = time.monotonic() if now is None else now
            if now < state.banned_until:
                return True
            state.hits = [t for t in state.hits if now - t < faults.ban_window] + [now]
            if len(state.hits) > faults.ban_after:
                state.banned_until = now + faults.ban_seconds
                state.hits.clear()
                return True
            return False
