"""The field registry: every field of a document once (pure: no SQL, no Scrapy).

Each ``Field`` says what the field is called (Chinese and English), which group it belongs to, how it is
compared (``fold``: the comparison form, one per field), how it is shown (``show``) and what a change of it
does (``change``):

- ``VERSION``: the field enters the comparison hash (``core.identity.comparison_hash``); a change of it makes
  a new version and an event naming it (``storage.archive``), and shows in the diff (``core.diffing``: the
  body as paragraphs, every other field as a field change). Both sides ask the registry the same question,
  ``changed_fields(old, new)``, so "what made a version" and "what a reader sees" cannot drift apart.
- ``CONTEXT``: shown in a diff beside a change that made a version, never making one on its own (the
  dates: see their ``why``). Only a date the new page prints counts: a page that does not print a date
  has not changed it.
- ``None``: not compared at all; ``why`` says why (derived from another field, where it was fetched, the
  portal registry's, our own classification, page furniture).

The archive's own columns of the ``documents`` table (status, first seen, ...) are in ``ARCHIVE_FIELDS``
with their labels; they are not record fields and are never compared.

The labels of document kinds (``DOC_KINDS``), event kinds (``EVENT_KINDS``) and attachment changes
(``ATTACHMENT_CHANGES``) live here too: the CLI, e-mail, webhook text, feed, web UI and diff all read them
from this module.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from core.records import (
    KIND_INTERPRETATION,
    KIND_NOTICE,
    KIND_POLICY,
    KIND_PROPOSAL_REPLY,
    KIND_REPORT,
    KIND_SUGGESTION_REPLY,
    Meeting,
)

__all__ = [
    "ARCHIVE_FIELDS",
    "ATTACHMENT_CHANGES",
    "CONTEXT",
    "DOC_KINDS",
    "DOC_KIND_LABELS",
    "EVENT_FIELDS",
    "EVENT_KINDS",
    "EVENT_KIND_LABELS",
    "FIELDS",
    "SHOW_ORDER",
    "VERSION",
    "Field",
    "Label",
    "attachment_changes",
    "canonical_doc_no",
    "changed_fields",
    "comparison_fields",
    "display",
    "field",
    "fold_width",
    "label",
    "meeting_key",
    "proposal_number",
    "show_fields",
    "text_key",
]

Group = Literal["content", "identity", "reply", "metadata", "dates", "source", "archive"]
Change = Literal["version", "context"]
VERSION: Change = "version"
CONTEXT: Change = "context"


# --------------------------------------------------------------------------- folds (comparison forms)

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ALL_SPACE = re.compile(r"\s+")
_SPACE_BUT_LINE_FEED = re.compile(r"[^\S\n]+")
_YEAR_BRACKETS = re.compile(r"[\[\(（【〔［〖⦅{]\s*(\d{4})\s*[\]\)）】〕］〗⦆}]")
_SERIAL = re.compile(r"〕第?0*(\d+)")


# The compatibility characters that dominate Chinese text (full-width punctuation, the ideographic and other
# wide spaces), each with its compatibility decomposition. A character replaced by its full decomposition
# leaves the string's NFKD -- and so its NFKC -- unchanged; once they are gone a Chinese text is usually NFKC
# already, and ``unicodedata.normalize`` returns it after its quick check instead of decomposing and
# recomposing every character (about 0.13 µs each): 17x faster on Chinese page text.
_COMMON_COMPAT = tuple(
    (ch, unicodedata.normalize("NFKD", ch))
    for ch in "，：（）；！？\u3000\u00a0\u2002\u2003［］／－％＋．﹝﹞０１２３４５６７８９"
    if unicodedata.normalize("NFKD", ch) != ch
)


def fold_width(text: str) -> str:
    """NFKC (full-width ASCII to half-width, compatibility ideographs to unified), zero-width chars dropped."""
    if not text.isascii():
        for ch, decomposed in _COMMON_COMPAT:
            if ch in text:
                text = text.replace(ch, decomposed)
    text = unicodedata.normalize("NFKC", text)
    for char in _ZERO_WIDTH:  # usually absent: a scan each is cheaper than str.translate
        if char in text:
            text = text.replace(char, "")
    return text


def text_key(value: Any) -> str:
    """The comparison form of a text: width-folded, without any whitespace ("" for nothing). Two texts
    that differ only in full-width/half-width forms or in spacing are the same text."""
    return _ALL_SPACE.sub("", fold_width(str(value))) if value else ""


def _list_key(values: Any) -> list[str]:
    return [text_key(v) for v in values or []]


def body_key(text: Any) -> str:
    """The comparison form of a body: its paragraphs (lines) as ``text_key``, empty ones dropped. The diff
    aligns exactly these paragraph keys (``core.diffing``), so the body "changed" exactly when the diff
    has a paragraph to show.

    The body is folded whole rather than line by line (one NFKC pass instead of one per paragraph): the
    same keys, as a line feed neither comes out of NFKC nor composes with a neighbour."""
    folded = _SPACE_BUT_LINE_FEED.sub("", fold_width(str(text or "")))
    return "\n".join(k for k in folded.split("\n") if k)


def canonical_doc_no(doc_no: str | None) -> str:
    """宁医保函[2025]0116号 / 宁医保函（2025）第116号 -> 宁医保函〔2025〕116号."""
    text = _YEAR_BRACKETS.sub(r"〔\1〕", text_key(doc_no))
    return _SERIAL.sub(r"〕\1", text)


def proposal_number(value: Any) -> str:
    """第0105号 / 0105 / 105 -> 105 (a number without its padding; other text as ``text_key``)."""
    text = text_key(value).removeprefix("第").removesuffix("号")
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else value.__dict__


def meeting_key(meeting: Meeting | Mapping[str, Any] | None) -> str:
    """A meeting by its structured fields (level/body/term/session/standing), not by how it was printed;
    the printed text (``text_key``) when it could not be parsed."""
    if not meeting:
        return ""
    m = _as_dict(meeting)
    if m.get("term") and m.get("session"):
        standing = "standing" if m.get("standing") else "plenary"
        return f"{m.get('level') or ''}/{m.get('body')}/{m['term']}/{m['session']}/{standing}"
    return text_key(m.get("text"))


def _attachment_items(attachments: Any) -> list[tuple[str, str, str | None]]:
    """(name as printed, name key, sha256 or None) per attachment."""
    out = []
    for item in attachments or []:
        a = _as_dict(item)
        out.append((a.get("name") or "", text_key(a.get("name")), a.get("sha256") or None))
    return out


def attachments_key(attachments: Any) -> list[list[str]]:
    """The attachments as sorted ``[name key, sha256 or ""]`` pairs (their URLs are not compared: portals
    add cache-busting parameters)."""
    return sorted([key, sha or ""] for _, key, sha in _attachment_items(attachments))


def attachment_changes(old: Any, new: Any) -> list[tuple[str, str | None, str | None]]:
    """``(change, old name, new name)`` per attachment that changed, ``change`` one of ``added``,
    ``removed``, ``replaced`` (same name, both contents known and different) or ``renamed`` (same content,
    another name). An attachment whose content is known on one side only is unchanged (its download
    failed once: not news)."""
    olds, news = _attachment_items(old), _attachment_items(new)
    changes: list[tuple[str, str | None, str | None]] = []
    for o in list(olds):  # 0. same name and content
        match = next((n for n in news if n[1] == o[1] and n[2] == o[2]), None)
        if match is not None:
            olds.remove(o)
            news.remove(match)
    for o in list(olds):  # 1. same content: renamed
        match = next((n for n in news if o[2] and n[2] == o[2]), None)
        if match is not None:
            olds.remove(o)
            news.remove(match)
            if match[1] != o[1]:
                changes.append(("renamed", o[0], match[0]))
    for o in list(olds):  # 2. same name: unchanged, or replaced when both contents are known and differ
        match = next((n for n in news if n[1] == o[1]), None)
        if match is not None:
            olds.remove(o)
            news.remove(match)
            if o[2] and match[2] and o[2] != match[2]:
                changes.append(("replaced", o[0], match[0]))
    changes.extend(("removed", o[0], None) for o in olds)
    changes.extend(("added", None, n[0]) for n in news)
    return changes


# --------------------------------------------------------------------------- display


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == ()


def show_text(value: Any) -> str | None:
    """A value as one line: lists joined with 、; None for nothing."""
    if _blank(value):
        return None
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or None
    return str(value)


def show_list(value: Any) -> str | None:
    """A list (or the JSON text of one, as the ``documents`` table keeps ``deputies``) joined with 、."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value or None
        value = parsed if isinstance(parsed, list) else [value]
    return show_text(value)


def show_meeting(value: Any) -> str | None:
    """A meeting as printed (its text); the ``documents`` table's ``meeting_text`` as is."""
    if _blank(value):
        return None
    if isinstance(value, str):
        return value
    return _as_dict(value).get("text") or None


def show_kind(value: Any) -> str | None:
    """A document kind by its Chinese name (the code when unknown)."""
    if _blank(value):
        return None
    return DOC_KIND_LABELS.get(str(value), str(value))


def show_contacts(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, Mapping):
        return "，".join(f"{k}: {v}" for k, v in value.items() if v) or None
    return str(value)


def show_attachments(value: Any) -> str | None:
    if _blank(value):
        return None
    names = [(_as_dict(a).get("name") or _as_dict(a).get("url") or "?") for a in value]
    return "、".join(names) or None


def show_outline(value: Any) -> str | None:
    if _blank(value):
        return None
    return " / ".join(str(item[1]) if isinstance(item, list | tuple) else str(item) for item in value) or None


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Label:
    zh: str
    en: str


DOC_KINDS: dict[str, Label] = {
    KIND_SUGGESTION_REPLY: Label("建议答复", "reply to a deputy's suggestion"),
    KIND_PROPOSAL_REPLY: Label("提案答复", "reply to a CPPCC proposal"),
    KIND_POLICY: Label("政策文件", "policy document"),
    KIND_INTERPRETATION: Label("政策解读", "policy interpretation"),
    KIND_REPORT: Label("工作报告", "work report"),
    KIND_NOTICE: Label("通知公告", "notice"),
}
EVENT_KINDS: dict[str, Label] = {
    "new": Label("新发布", "new"),
    "edited": Label("内容修改", "edited"),
    "validity_changed": Label("有效性变更", "validity changed"),
    "metadata_changed": Label("信息变更", "metadata changed"),
    "withdrawn": Label("已撤下", "withdrawn"),
    "reappeared": Label("重新上线", "reappeared"),
    "superseded": Label("已被替代", "superseded"),  # a newer policy replaced or abolished it (docs/citations.md)
    "expired": Label("有效期届满", "expired"),  # the term its text states (有效期) has passed
    "portal_broken": Label("门户异常", "portal broken"),
    "portal_recovered": Label("门户恢复", "portal recovered"),
    "delivery_dead": Label("投递失败", "delivery failed"),
    "test": Label("测试消息", "test message"),
    "digest": Label("汇总", "digest"),
    "baseline": Label("基线", "baseline"),  # the one summary of a portal's (or a new column's) first crawl
}
ATTACHMENT_CHANGES: dict[str, str] = {"added": "新增", "removed": "删除", "replaced": "更新", "renamed": "改名"}
DOC_KIND_LABELS: dict[str, str] = {code: lab.zh for code, lab in DOC_KINDS.items()}
EVENT_KIND_LABELS: dict[str, str] = {code: lab.zh for code, lab in EVENT_KINDS.items()}

_KIND_DOC = " · ".join(f"{code} {lab.zh}" for code, lab in DOC_KINDS.items())


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Field:
    """One field. ``fold`` gives its comparison form (JSON-safe: it is hashed), ``show`` its display text.
    ``change`` is ``VERSION``, ``CONTEXT`` or None (see the module docstring); ``why`` says why a field
    does not make a version. ``column`` is the ``documents`` table column holding it (None: only in the
    versions' records); ``record`` is False for the archive's own columns."""

    name: str
    zh: str
    en: str
    group: Group
    change: Change | None
    fold: Callable[[Any], Any] | None = text_key
    show: Callable[[Any], str | None] = show_text
    doc: str = ""
    why: str = ""
    column: str | None = None
    record: bool = True

    @property
    def versioned(self) -> bool:
        """A change of it makes a version (and it enters the comparison hash)."""
        return self.change == VERSION

    @property
    def diffed(self) -> bool:
        """A change of it shows in a diff (as a field change, or for the body as paragraphs)."""
        return self.change is not None

    def key(self, value: Any) -> Any:
        """The comparison form of ``value``."""
        if self.fold is None:
            raise ValueError(f"{self.name} is not compared")
        return self.fold(value)

    def changed(self, old: Any, new: Any) -> bool:
        """Did the field change from ``old`` to ``new``, as a reader counts it?"""
        if self.change is None:
            return False
        if self.name == "attachments":
            return bool(attachment_changes(old, new))
        if self.change == CONTEXT and _blank(new):  # a date the new page does not print is no change
            return False
        return bool(self.key(old) != self.key(new))

    def display(self, value: Any) -> str | None:
        """The field's value as a reader sees it (None: nothing to show)."""
        return self.show(value)

    @property
    def label(self) -> str:
        """``中文 English``, as tables with both languages print it."""
        return f"{self.zh} {self.en}"


_DERIVED = "derived from another field, which is compared"
_WHERE = "where it was fetched, not what it says (a repost at another URL is the same document)"
_REGISTRY = "the portal registry's, not the page's"
_STAMP = (
    "portals re-stamp dates when they republish or move a page: a new date alone is not news; it is shown"
    " beside a change that made a version"
)
_FURNITURE = "page furniture that moves without the document changing"

# In comparison order: the order of changed_fields (events) and of a diff's field changes.
FIELDS: tuple[Field, ...] = (
    Field("title", "标题", "title", "content", VERSION, doc="Title as published", column="title"),
    Field("body_text", "正文", "body", "content", VERSION, fold=body_key, show=lambda v: None,
          doc="Clean body text, paragraphs separated by line breaks"),
    Field("doc_no", "文号", "doc no.", "identity", VERSION, fold=canonical_doc_no,
          doc="Document number, canonical form (〔〕 brackets, no padding)", column="doc_no"),
    Field("index_no", "索引号", "index no.", "identity", VERSION,
          doc="Index number of the government-information catalogue", column="index_no"),
    Field("validity", "有效性", "validity", "metadata", VERSION,
          doc="As stated by the portal (有效 / 失效 / 废止 …)", column="validity"),
    Field("reply_class", "答复类别", "reply class", "reply", VERSION,
          doc="A: solved or adopted · B: being solved / planned · C: kept for reference", column="reply_class"),
    Field("adoption", "采纳情况", "adoption", "reply", VERSION, fold=_list_key,
          doc="Adoption of each point of the suggestion or proposal, in order"),
    Field("generated_on", "成文日期", "written", "dates", CONTEXT, why=_STAMP,
          doc="Date the document was written", column="generated_on"),
    Field("published_on", "发布日期", "published", "dates", CONTEXT, why=_STAMP,
          doc="Publication date", column="published_on"),
    Field("signed_on", "落款日期", "signed", "dates", CONTEXT, why=_STAMP, doc="Date under the signature"),
    Field("meeting", "会议", "meeting", "identity", VERSION, fold=meeting_key, show=show_meeting,
          doc="The meeting (届次) the suggestion or proposal was made at", column="meeting_text"),
    Field("proposal_no", "建议/提案号", "proposal no.", "identity", VERSION, fold=proposal_number,
          doc="Number of the deputy's suggestion or member's proposal answered", column="proposal_no"),
    Field("deputies", "代表/委员", "deputies", "reply", VERSION, fold=_list_key, show=show_list,
          doc="Deputies or members who made it (JSON list)", column="deputies"),
    Field("attachments", "附件", "attachments", "content", VERSION, fold=attachments_key, show=show_attachments,
          doc="Attached files (name, URL, content hash)"),
    # not compared
    Field("url", "网址", "URL", "source", None, fold=None, why=_WHERE, doc="The URL the record was fetched from"),
    Field("portal_id", "门户", "portal", "source", None, fold=None, why=_WHERE, doc="The portal it was fetched from"),
    Field("kind", "类别", "kind", "metadata", None, fold=None, show=show_kind, column="kind",
          why="our classification (from the column and the title), not the document's words",
          doc=_KIND_DOC),
    Field("bureau", "发布机构", "bureau", "metadata", None, fold=None, why=_REGISTRY, doc="Issuing bureau",
          column="bureau"),
    Field("region_code", "行政区划", "region", "metadata", None, fold=None, why=_REGISTRY,
          doc="GB/T 2260 code of the bureau's region (100000 = national)", column="region_code"),
    Field("title_tag", "标题标签", "title tag", "content", None, fold=None, why=_DERIVED,
          doc="The 【tag】 the title starts with"),
    Field("doc_no_raw", "文号原文", "doc no. as printed", "identity", None, fold=None, why=_DERIVED,
          doc="文号 as printed"),
    Field("proposal_title", "建议/提案标题", "proposal title", "reply", None, fold=None,
          why="restates the suggestion answered; the reply's own title and body are compared",
          doc="Title of the suggestion or proposal answered"),
    Field("outline", "提纲", "outline", "content", None, fold=None, show=show_outline, why=_DERIVED,
          doc="The body's headings (一、 / （一） …)"),
    Field("contacts", "联系方式", "contacts", "metadata", None, fold=None, show=show_contacts, why=_FURNITURE,
          doc="Signer, contact person and phone"),
    Field("public_marker", "公开方式", "disclosure", "metadata", None, fold=None, why=_FURNITURE,
          doc="主动公开 / 依申请公开 …"),
    Field("theme", "主题分类", "theme", "metadata", None, fold=None, why=_FURNITURE,
          doc="The catalogue's subject classification"),
)

ARCHIVE_FIELDS: tuple[Field, ...] = tuple(
    Field(name, zh, en, "archive", None, fold=None, doc=doc, why="the archive's own", column=name, record=False)
    for name, zh, en, doc in (
        ("id", "文档编号", "document id", "Document id (stable; reposts of the same reply are one document)"),
        ("identity_key", "身份键", "identity key", "The strongest key the document was identified by"),
        ("province", "省份", "province", "Province-level division of region_code"),
        ("published_year", "年份", "year", "Year of publication"),
        ("status", "状态", "status", "active, or withdrawn (gone from every portal after repeated healthy checks)"),
        ("latest_version_id", "当前版本", "current version", "The current version (versions table)"),
        ("first_seen_at", "首次发现", "first seen", "When Yibao Watch first saw it (UTC)"),
        ("last_changed_at", "最近变更", "last changed", "When its last version or status change was recorded (UTC)"),
        ("withdrawn_at", "撤下时间", "withdrawn at", "When it was found withdrawn (UTC)"),
    )
)

_BY_NAME: dict[str, Field] = {f.name: f for f in (*FIELDS, *ARCHIVE_FIELDS)}
_BY_COLUMN: dict[str, Field] = {f.column: f for f in (*FIELDS, *ARCHIVE_FIELDS) if f.column}

# What ``yibao show`` (and the web UI's document page) lists, in order: record fields and archive columns.
SHOW_ORDER = (
    "kind", "status", "bureau", "region_code", "doc_no", "index_no", "meeting", "proposal_no", "proposal_title",
    "deputies", "reply_class", "adoption", "validity", "published_on", "generated_on", "signed_on", "theme",
    "public_marker", "contacts", "attachments", "first_seen_at", "last_changed_at", "withdrawn_at",
)  # fmt: skip
# What a message or feed entry about an event lists under its title, in order.
EVENT_FIELDS = (
    "kind", "bureau", "doc_no", "index_no", "meeting", "proposal_no", "deputies", "reply_class", "validity",
    "published_on",
)  # fmt: skip


# --------------------------------------------------------------------------- lookups


def field(name: str) -> Field:
    """The field called ``name`` (a record field or an archive column; ``meeting_text`` is ``meeting``)."""
    found = _BY_NAME.get(name) or _BY_COLUMN.get(name)
    if found is None:
        raise KeyError(f"no field {name!r} in the registry")
    return found


def label(name: str) -> str:
    """The Chinese label of a field (the name itself when it is not in the registry, e.g. ``status``
    in an event's changed fields is there; a future field is shown by its name rather than failing)."""
    found = _BY_NAME.get(name) or _BY_COLUMN.get(name)
    return found.zh if found is not None else name


def display(name: str, value: Any) -> str | None:
    """``value`` of field ``name`` as a reader sees it."""
    return field(name).display(value)


def show_fields(names: Sequence[str] = SHOW_ORDER) -> Iterator[tuple[str, str, str]]:
    """``(key, 中文, English)`` for each field of ``names`` in that order (default: what ``yibao show``
    prints, in its order)."""
    for name in names:
        f = field(name)
        yield f.name, f.zh, f.en


# --------------------------------------------------------------------------- comparing


def _get(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


VERSIONED: tuple[Field, ...] = tuple(f for f in FIELDS if f.versioned)
DIFFED: tuple[Field, ...] = tuple(f for f in FIELDS if f.diffed)


def comparison_fields(record: Any) -> dict[str, Any]:
    """The comparison forms of the fields that make a version (what ``comparison_hash`` covers); accepts a
    ``DocumentRecord`` or a record dict."""
    return {f.name: f.key(_get(record, f.name)) for f in VERSIONED}


def changed_fields(old: Any, new: Any, *, context: bool = False) -> list[str]:
    """Names of the fields that changed from ``old`` to ``new`` (records or record dicts), in registry
    order: those that make a version, and with ``context=True`` the context fields (dates) too."""
    chosen = DIFFED if context else VERSIONED
    return [f.name for f in chosen if f.changed(_get(old, f.name), _get(new, f.name))]
