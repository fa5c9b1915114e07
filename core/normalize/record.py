"""``RawPage`` → ``DocumentRecord``: pick each field from the most trusted source.

Trust order: the page's metadata table (``RawPage.meta_table``, or a metadata block found at the
top of the body) > ``<meta>`` tags > listing/API fields > the visible page title > values derived
from the body text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.records import REPLY_KINDS, DocumentRecord, Meeting, RawPage

from .classify import classify
from .dates import find_signature, parse_date
from .metadata import canonical_metadata, extract_meta_block, parse_validity
from .numbers import (
    DOC_NO_RE,
    DOC_NO_YEAR_STYLE_RE,
    find_proposal_no,
    normalize_index_no,
    parse_doc_no,
    parse_meeting,
)
from .outline import outline
from .people import Salutation, find_salutation
from .reply import (
    class_mark_doc_no,
    find_adoption,
    find_contacts,
    find_proposal_title,
    find_public_marker,
    find_reply_class,
    has_received,
    parse_reply_title,
    split_title_tag,
)
from .text import fold, html_to_paragraphs, is_chrome_line, normalize_ws, strip_chrome
from .urls import parse_article_url

__all__ = ["build_record", "listing_fields", "meta_tag_fields", "url_date"]

# Listing / API field names per canonical key, most specific first. gkmlpt: identifier,
# document_number, publisher, create_time (发布日期), date (成文日期), is_expired, is_abolished.
_LISTING_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title", "doctitle", "art_title"),
    "index_no": ("identifier", "index_no", "idxid", "syh"),
    "doc_no": ("document_number", "doc_no", "fileno", "wenhao", "filenum"),
    "issuer": ("publisher", "puborg", "pub_unite", "fwjg"),
    "published_on": (
        "create_time", "display_publish_time", "publish_time", "publishedTime", "pub_time", "pubdate",
        "docreltime", "published_on", "pubDate",
    ),
    "generated_on": ("generated_on", "written_date", "gentime", "cwrq"),
    "theme": ("classify_theme_name", "theme", "ztfl"),
}  # fmt: skip
_GKMLPT_MARKERS = ("create_time", "identifier", "is_abolished", "is_expired", "classify_main")
_SELF_SOURCES = frozenset(("本网", "本站", "本站原创", "本网原创", "本网站", "原创"))
_PUB_LABEL_RE = re.compile(r"(?:发布|发表)(?:时间|日期)\s*:")
_TRUNCATED = ("...", "…", "..")
_ATTACHMENT_LINE_RE = re.compile(
    r"(?:附件\s*\d*\s*[:：]?\s*)?\S{1,80}\.(?:pdf|docx?|xlsx?|wps|et|ofd|rtf|zip|rar)", re.I
)
_HEADER_SEARCH = 15  # paragraphs at the top that may hold the date line / title / 文号 line
_CLASS_SEARCH = 20
_MARK_SEARCH = 6  # paragraphs that may hold a reply class mark when the letter has no ``…收悉`` opening


def _str(value: Any) -> str:
    return normalize_ws(str(value)) if value is not None else ""


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "是")
    return bool(value)


def listing_fields(listing: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical keys from a listing row / API record (gkmlpt, Fujian ``apiSearch``, Sichuan JSON).

    Values are returned raw (dates may be unix ints). Besides the ``_LISTING_KEYS`` keys the
    result may hold ``validity`` (废止 for ``is_abolished``, 失效 for ``is_expired``, both of which
    override the page's table) and ``validity_default`` (有效 when both gkmlpt flags are present and
    false; used only when the page shows no 有效性).
    """
    out: dict[str, Any] = {}
    for key, names in _LISTING_KEYS.items():
        for name in names:
            value = listing.get(name)
            if value not in (None, ""):
                out[key] = value
                break
    gkmlpt = any(name in listing for name in _GKMLPT_MARKERS)
    date = listing.get("date")
    if date not in (None, ""):
        # gkmlpt ``date`` is 成文日期; in HTML lists ``date`` is the shown (publication) date.
        out.setdefault("generated_on" if gkmlpt else "published_on", date)
    if _flag(listing.get("is_abolished")):
        out["validity"] = "废止"
    elif _flag(listing.get("is_expired")):
        out["validity"] = "失效"
    elif "is_abolished" in listing and "is_expired" in listing:
        out["validity_default"] = "有效"
    return out


def meta_tag_fields(meta_tags: Mapping[str, str]) -> dict[str, str]:
    """``ArticleTitle``/``PubDate``/``ContentSource``/``ColumnName`` (names case-insensitive)."""
    lower = {str(k).lower(): _str(v) for k, v in meta_tags.items()}
    out = {}
    for key, name in (
        ("title", "articletitle"),
        ("published_on", "pubdate"),
        ("source", "contentsource"),
        ("column", "columnname"),
    ):
        if lower.get(name):
            out[key] = lower[name]
    return out


def _compact(text: str) -> str:
    return "".join(fold(split_title_tag(text)[0]).split())


def _pick_title(candidates: Sequence[str]) -> tuple[str, str | None]:
    """First non-empty candidate without its 【tag】, and the first tag seen in any candidate."""
    title = ""
    tag = None
    for candidate in candidates:
        bare, found_tag = split_title_tag(candidate)
        tag = tag or found_tag
        if not title and bare:
            title = bare
    return title, tag


def _body_title_line(paragraphs: Sequence[str]) -> str | None:
    """A title printed at the top of the body: a 【tag】 line or a line matching REPLY_TITLE."""
    for para in paragraphs[:6]:
        bare, tag = split_title_tag(para)
        if tag or parse_reply_title(bare):
            return para
    return None


def _drop_title_lines(paragraphs: list[str], titles: Sequence[str]) -> list[str]:
    keys = {_compact(t) for t in titles if t}
    keys.discard("")
    if not keys:
        return paragraphs
    head = [p for p in paragraphs[:6] if _compact(p) not in keys]
    return head + paragraphs[6:]


def _header_published(paragraphs: Sequence[str]) -> str | None:
    """The first chrome line carrying ``发布时间：2025-05-07 16:18`` / ``发布日期：2025-09-16``."""
    for para in paragraphs:
        if "发" not in para:
            continue
        folded = fold(para)
        m = _PUB_LABEL_RE.search(folded)
        if m and is_chrome_line(para):
            found = parse_date(folded[m.end() :])
            if found:
                return found
    return None


def _body_doc_no(paragraphs: Sequence[str]) -> str | None:
    """A paragraph at the top that is nothing but a 文号 (``厦医保函〔2025〕33号``), possibly followed by
    the reply class mark (``宁医保函〔2024〕88号（B类）``)."""
    for para in paragraphs[:_HEADER_SEARCH]:
        folded = fold(para).strip()
        if DOC_NO_RE.fullmatch(folded) or DOC_NO_YEAR_STYLE_RE.fullmatch(folded):
            return para.strip()
        if marked := class_mark_doc_no(para):
            return marked
    return None


def _opening(paragraphs: Sequence[str]) -> int | None:
    """The index of the paragraph that acknowledges receipt (``…收悉``) near the top."""
    for i, para in enumerate(paragraphs[:_CLASS_SEARCH]):
        if has_received(para):
            return i
    return None


def url_date(url: str) -> str | None:
    """The publication date a detail URL carries (TRS ``t20250507_…``, also ``…_wap.html``; Hanweb
    ``/art/2025/5/7/…``; Sichuan ``/2025/5/7/<hex>.shtml``; ``News/Detail/<timestamp>.html``), as ISO;
    else ``None`` (see :mod:`core.normalize.urls`)."""
    parsed = parse_article_url(url)
    return parsed.date if parsed else None


def _drop_attachment_lines(paragraphs: list[str], attachments: Sequence[Any]) -> list[str]:
    """Remove attachment link lines (``附件1：评分表.pdf``) from the body: they are in ``attachments``."""
    names = {"".join(fold(a.name).split()) for a in attachments if getattr(a, "name", "")}
    out = []
    for para in paragraphs:
        if len(para) <= 120 and ("." in para or "．" in para or para in names):
            compact = "".join(fold(para).split())
            if compact in names or _ATTACHMENT_LINE_RE.fullmatch(compact):
                continue
        out.append(para)
    return out


def _first(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


def build_record(
    page: RawPage, *, bureau: str | None = None, region_code: str | None = None
) -> DocumentRecord:
    """Normalise one detail page. Pure: no network, no storage, no Scrapy.

    ``bureau`` (the portal's bureau) is used when the page prints no issuer of its own
    (发布机构/发文机关/发文单位 or the listing's ``publisher``); after it come a non-self
    ``ContentSource`` and the signature organisation.

    ``body_text`` is the article text in display form: one paragraph per line joined with
    ``"\\n"``, original character width, whitespace collapsed and trimmed per paragraph, with page
    chrome, the metadata block, leading copies of the title and attachment link lines (file names
    such as ``附件1：评分表.pdf``, which are in ``attachments``) removed.
    """
    paragraphs = html_to_paragraphs(page.body_html)
    header_published = _header_published(paragraphs)
    block_meta, paragraphs = extract_meta_block(paragraphs)
    paragraphs = strip_chrome(_drop_attachment_lines(paragraphs, page.attachments))

    meta = canonical_metadata(block_meta)
    meta.update(canonical_metadata(page.meta_table))
    tags = meta_tag_fields(page.meta_tags)
    listing = listing_fields(page.listing)

    listing_title = _str(listing.get("title"))
    if listing_title.endswith(_TRUNCATED):
        listing_title = ""
    body_title = _body_title_line(paragraphs)
    title, title_tag = _pick_title(
        [meta.get("title", ""), tags.get("title", ""), listing_title, _str(page.title), body_title or ""]
    )
    paragraphs = _drop_title_lines(paragraphs, [title, body_title or ""])

    # 文号 and 索引号
    doc_no_raw = _first(meta.get("doc_no"), _str(listing.get("doc_no")), _body_doc_no(paragraphs))
    parsed_doc_no = parse_doc_no(doc_no_raw)
    index_no = normalize_index_no(_first(meta.get("index_no"), _str(listing.get("index_no"))))

    # body signals
    salutation: Salutation | None = find_salutation(paragraphs)
    opening_at = _opening(paragraphs)
    opening = paragraphs[opening_at] if opening_at is not None else None
    proposal_title, body_no = find_proposal_title(opening) if opening else (None, None)
    reply_title = parse_reply_title(title)
    meeting: Meeting | None = parse_meeting(title)

    kind = classify(
        title,
        title_tag=title_tag,
        column_kind=page.column_kind,
        column=" ".join(filter(None, (page.column, tags.get("column")))),
        salutation=salutation,
        received=opening is not None,
        doc_no=parsed_doc_no.canonical if parsed_doc_no else None,
        meeting=meeting,
        proposal_title=proposal_title,
        paragraphs=paragraphs,
    )
    is_reply = kind in REPLY_KINDS

    proposal_no = None
    deputies: list[str] = []
    adoption: list[str] = []
    reply_class = None
    if is_reply:
        if meeting is None and opening:
            meeting = parse_meeting(opening)
        proposal_no = _first(
            reply_title.no if reply_title else None,
            find_proposal_no(title),
            body_no,
            find_proposal_no(opening) if opening else None,
        )
        deputies = list(salutation.names) if salutation else []
        adoption = find_adoption(paragraphs)
        # marks (〔A〕, a lone A, （A类）) sit above the letter's opening
        marks_in = opening_at if opening_at is not None else _MARK_SEARCH
        reply_class = find_reply_class(paragraphs[:_CLASS_SEARCH], marks_in=marks_in)

    signature_org, signed_on = find_signature(paragraphs)
    body_text = "\n".join(paragraphs)

    theme = _first(meta.get("theme"), _str(listing.get("theme")))
    if theme and title and _compact(theme) == _compact(title):
        # An empty 主题词 cell can make a text-token extractor pick up the next token (the title).
        theme = None

    source = tags.get("source")
    if source and source in _SELF_SOURCES:
        source = None
    validity = (
        listing.get("validity") or parse_validity(meta.get("validity")) or listing.get("validity_default")
    )

    return DocumentRecord(
        url=page.url,
        portal_id=page.portal_id,
        title=title,
        kind=kind,
        # The document's own issuer wins over the portal's name, so a repost on another portal
        # keeps its bureau (identity keys are built on it).
        bureau=_first(meta.get("issuer"), _str(listing.get("issuer")), bureau, source, signature_org),
        region_code=region_code,
        title_tag=title_tag,
        index_no=index_no,
        doc_no=parsed_doc_no.canonical if parsed_doc_no else None,
        doc_no_raw=doc_no_raw,
        meeting=meeting,
        proposal_no=proposal_no,
        deputies=deputies,
        proposal_title=proposal_title if is_reply else None,
        reply_class=reply_class,
        adoption=adoption,
        generated_on=_first(parse_date(meta.get("generated_on")), parse_date(listing.get("generated_on"))),
        published_on=_first(
            parse_date(meta.get("published_on")),
            parse_date(tags.get("published_on")),
            parse_date(listing.get("published_on")),
            header_published,
            url_date(page.url),
        ),
        signed_on=signed_on,
        validity=validity,
        contacts=find_contacts(paragraphs),
        public_marker=_first(
            find_public_marker(meta.get("public_marker", "")) or meta.get("public_marker"),
            find_public_marker(paragraphs),
        ),
        body_text=body_text,
        outline=outline(paragraphs),
        attachments=list(page.attachments),
        theme=theme,
    )
