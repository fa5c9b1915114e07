"""The records that flow through Yibao Watch.

``RawPage`` is what a spider yields (bytes decoded, nothing interpreted beyond the page's own
structure); ``DocumentRecord`` is the normalized document that the archive stores and diffs.

This module is part of the pure core: it imports neither Scrapy nor SQLite.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Document kinds (``DocumentRecord.kind``).
KIND_SUGGESTION_REPLY = "suggestion_reply"  # 建议答复 (to NPC deputies, 代表)
KIND_PROPOSAL_REPLY = "proposal_reply"  # 提案答复 (to CPPCC members, 委员)
KIND_POLICY = "policy"  # 政策文件 / 规范性文件 / 通知 with a 文号
KIND_INTERPRETATION = "interpretation"  # 政策解读
KIND_REPORT = "report"  # 工作总结 / 工作报告 / 规划
KIND_NOTICE = "notice"  # 通知公告 without a 文号
KINDS = (
    KIND_SUGGESTION_REPLY,
    KIND_PROPOSAL_REPLY,
    KIND_POLICY,
    KIND_INTERPRETATION,
    KIND_REPORT,
    KIND_NOTICE,
)
REPLY_KINDS = (KIND_SUGGESTION_REPLY, KIND_PROPOSAL_REPLY)


@dataclass(frozen=True)
class Meeting:
    """A people's congress or CPPCC session, e.g. 市十六届人大五次会议.

    ``level`` is national / province / city / county; ``body`` is ``npc`` or ``cppcc``;
    ``standing`` marks a standing-committee (常委会) meeting rather than a plenary session.
    """

    level: str | None
    body: str
    term: int
    session: int
    standing: bool = False
    text: str = ""


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str
    sha256: str | None = None
    size: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class FetchedAttachment(Attachment):
    """An attachment with its fetch state, stored with the record (``spiders.attachments`` decides and makes it):
    ``missing`` when the portal answered 404 or 410 (listed, no hash); the validators of its last 200, for a
    conditional re-fetch."""

    missing: bool = False
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class RawPage:
    """One fetched detail page, as the spider saw it."""

    portal_id: str
    column: str
    column_kind: str  # replies | policies | reports
    url: str
    status: int
    html: str
    encoding: str = "utf-8"
    fetched_at: str = ""
    final_url: str = ""
    meta_table: dict[str, str] = field(default_factory=dict)  # label -> value, labels as printed
    meta_tags: dict[str, str] = field(default_factory=dict)  # <meta name=...> ArticleTitle, PubDate, ...
    listing: dict[str, Any] = field(default_factory=dict)  # title/date/fields shown in the list or API
    body_html: str = ""  # the article container's inner HTML, chrome not yet stripped
    title: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class DocumentRecord:
    """A normalized document. Field names match the replicas' ground truth JSON."""

    url: str
    portal_id: str
    title: str
    kind: str
    bureau: str | None = None
    region_code: str | None = None
    title_tag: str | None = None  # 【建议提案】 -> "建议提案"
    index_no: str | None = None  # 索引号
    doc_no: str | None = None  # 文号, canonical 〔〕 brackets, no zero padding
    doc_no_raw: str | None = None  # 文号 as printed
    meeting: Meeting | None = None
    proposal_no: str | None = None  # as printed, zero padding kept ("0105")
    deputies: list[str] = field(default_factory=list)
    proposal_title: str | None = None
    reply_class: str | None = None  # A / B / C / D (甲乙丙丁 mapped to A..D)
    adoption: list[str] = field(default_factory=list)  # per point, in order
    generated_on: str | None = None  # 生成日期 / 成文日期 (ISO date)
    published_on: str | None = None  # 发布日期 / 发布时间 (ISO date)
    signed_on: str | None = None  # date under the signature (ISO date)
    validity: str | None = None  # 有效 / 失效 / 废止 / ...
    contacts: dict[str, str] = field(default_factory=dict)  # signer, contact, phone
    public_marker: str | None = None  # 主动公开 / 依申请公开 / ...
    body_text: str = ""  # clean display text, paragraphs separated by "\n"
    outline: list[tuple[int, str]] = field(default_factory=list)  # (level, heading line)
    attachments: list[Attachment] = field(default_factory=list)
    theme: str | None = None  # 主题分类

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
