"""The replicas' own document model and its ground truth.

A ``Document`` is what a bureau publishes: metadata plus a body made of ``Block``s. Sites render it
into their family's HTML; ``Document.truth()`` is the record an ideal extractor would produce from
the rendered page. Replicas import nothing from the crawler, so this model is independent of the
product's ``DocumentRecord`` (the field names match on purpose).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Block roles. Headings carry an outline level. A heading paragraph may run on after its first
# sentence, as in seed 001 "（一）积极推进会商协同机制。2025年3月，…": its outline entry is the text
# up to and including the first "。" (the whole paragraph when it has none).
P, H1, H2, H3, CENTER, RIGHT = "p", "h1", "h2", "h3", "center", "right"
HEADING_LEVEL = {H1: 1, H2: 2, H3: 3}


@dataclass
class Block:
    text: str
    role: str = P

    def outline_entry(self) -> list[Any] | None:
        level = HEADING_LEVEL.get(self.role)
        if level is None:
            return None
        cut = self.text.find("。")
        return [level, self.text[: cut + 1] if cut >= 0 else self.text]


@dataclass
class Attachment:
    name: str  # display name, e.g. "附件1：申请表.pdf"
    data: bytes
    file_id: int  # stable id used by the family's URL scheme

    @property
    def ext(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Meeting:
    level: str  # national | province | city | county
    body: str  # npc | cppcc
    term: int
    session: int
    text: str  # as printed in titles, e.g. 市十六届人大五次会议

    def truth(self) -> dict[str, Any]:
        return {"level": self.level, "body": self.body, "term": self.term, "session": self.session}


@dataclass
class CitedDoc:
    """A document cited in a body, as an ideal extractor reports it (``core.citations.Citation``'s fields).

    ``relation``: cites | implements | replaces | abolishes | amends; ``doc_no`` canonical (〔〕, no 第, no
    padding); ``title`` as printed between the outer 《》; ``kind``: document | law | regulation;
    ``target``: the replica document it refers to (None for laws, regulations and documents outside the
    replica world) — whether that document exists depends on the world (its size, what is published later).
    """

    relation: str
    title: str | None
    doc_no: str | None
    kind: str = "document"
    target: int | None = None

    def key(self) -> tuple[str, str]:
        """(relation, what is cited): a body reports each pair once."""
        return self.relation, self.doc_no or _title_key(self.title or "", self.kind)

    def truth(self) -> dict[str, Any]:
        return {
            "relation": self.relation,
            "doc_no": self.doc_no,
            "title": self.title,
            "kind": self.kind,
            "target": self.target,
        }


def _title_key(title: str, kind: str) -> str:
    bare = "".join(title.split()).translate(str.maketrans("", "", "《》〈〉"))
    return bare.removeprefix("中华人民共和国") if kind == "law" else bare


@dataclass
class Term:
    """A policy's own term as printed: 自…起施行 / 有效期N年 / 有效期至… (ISO dates)."""

    effective_from: str | None = None
    valid_years: int | None = None
    expires_on: str | None = None

    def truth(self) -> dict[str, Any]:
        return {
            "effective_from": self.effective_from,
            "valid_years": self.valid_years,
            "expires_on": self.expires_on,
        }


@dataclass
class Document:
    """One published document. ``doc_id`` is unique within the whole replica world."""

    doc_id: int
    portal_id: str
    column: str  # column key on its portal
    kind: str  # suggestion_reply | proposal_reply | policy | interpretation | report | notice
    title: str
    published_at: datetime
    blocks: list[Block]
    bureau: str
    region_code: str
    title_tag: str | None = None  # rendered as 【tag】 before the title
    index_no: str | None = None
    doc_no_raw: str | None = None
    doc_no: str | None = None
    theme: str | None = None
    generated_on: str | None = None
    validity: str | None = None
    meeting: Meeting | None = None
    proposal_no: str | None = None
    deputies: list[str] = field(default_factory=list)
    proposal_title: str | None = None
    reply_class: str | None = None
    adoption: list[str] = field(default_factory=list)
    signed_on: str | None = None
    contacts: dict[str, str] = field(default_factory=dict)
    public_marker: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    identity: str = ""  # ground-truth identity: reposts share it
    version: int = 1
    modified_at: datetime | None = None
    status: str = "published"  # published | withdrawn
    withdraw_mode: str = "404"  # 404 | soft404
    visits: int = 0
    seed: str | None = None  # seed file name when the document is a seed page
    # real-world conventions this document is written in (``corpus.CONVENTIONS``): for coverage counts
    conventions: list[str] = field(default_factory=list)
    # documents the body cites (ground truth of citation extraction) and a policy's own term
    citations: list[CitedDoc] = field(default_factory=list)
    term: Term | None = None

    def __post_init__(self) -> None:
        if not self.identity:
            self.identity = f"doc-{self.doc_id}"
        if self.modified_at is None:
            self.modified_at = self.published_at

    @property
    def display_title(self) -> str:
        return f"【{self.title_tag}】{self.title}" if self.title_tag else self.title

    @property
    def published_on(self) -> str:
        return self.published_at.date().isoformat()

    @property
    def body_text(self) -> str:
        return "\n".join(b.text for b in self.blocks)

    @property
    def outline(self) -> list[list[Any]]:
        return [e for e in (b.outline_entry() for b in self.blocks) if e is not None]

    def etag(self) -> str:
        """A strong validator over everything a reader sees, noise excluded."""
        payload = json.dumps(self.truth(), ensure_ascii=False, sort_keys=True)
        return '"' + hashlib.sha1(payload.encode()).hexdigest()[:16] + f'-{self.version}"'

    def truth(self) -> dict[str, Any]:
        """Ground truth for extraction tests (field names as in the product's DocumentRecord)."""
        return {
            "doc_id": self.doc_id,
            "portal_id": self.portal_id,
            "identity": self.identity,
            "title": self.title,
            "title_tag": self.title_tag,
            "kind": self.kind,
            "bureau": self.bureau,
            "region_code": self.region_code,
            "index_no": self.index_no,
            "doc_no": self.doc_no,
            "doc_no_raw": self.doc_no_raw,
            "theme": self.theme,
            "meeting": self.meeting.truth() if self.meeting else None,
            "proposal_no": self.proposal_no,
            "deputies": list(self.deputies),
            "proposal_title": self.proposal_title,
            "reply_class": self.reply_class,
            "adoption": list(self.adoption),
            "generated_on": self.generated_on,
            "published_on": self.published_on,
            "signed_on": self.signed_on,
            "validity": self.validity,
            "contacts": dict(self.contacts),
            "public_marker": self.public_marker,
            "body_text": self.body_text,
            "outline": self.outline,
            "attachments": [{"name": a.name, "ext": a.ext, "sha256": a.sha256} for a in self.attachments],
            "version": self.version,
            "status": self.status,
            "conventions": list(self.conventions),
            "citations": [c.truth() for c in self.cited()],
            "term": self.term.truth() if self.term else None,
        }

    def cited(self) -> list[CitedDoc]:
        """``citations`` once per (relation, cited document), in order of first mention."""
        seen: set[tuple[str, str]] = set()
        out = []
        for c in self.citations:
            if c.key() not in seen:
                seen.add(c.key())
                out.append(c)
        return out
