"""Pure normalisation: a fetched detail page (``RawPage``) → ``DocumentRecord``.

No Scrapy, no SQL, no network. See :func:`build_record`; the helpers are exported for spiders
and tests that need one field at a time. Matching always runs on :func:`fold`-ed text (width
folded, same length as the input); stored values keep the page's original width.
"""

from __future__ import annotations

from .classify import classify, reply_kind
from .dates import cn_numeral_to_int, find_signature, parse_date, parse_timestamp
from .metadata import (
    canonical_label,
    canonical_metadata,
    extract_meta_block,
    parse_meta_lines,
    parse_validity,
)
from .numbers import (
    DocNo,
    IndexNo,
    canonical_doc_no,
    find_doc_nos,
    find_meetings,
    find_proposal_no,
    normalize_index_no,
    parse_doc_no,
    parse_index_no,
    parse_meeting,
)
from .outline import heading_level, outline
from .people import Salutation, find_salutation, parse_salutation
from .record import build_record, listing_fields, meta_tag_fields, url_date
from .reply import (
    ReplyTitle,
    class_mark_doc_no,
    find_adoption,
    find_contacts,
    find_proposal_title,
    find_public_marker,
    find_reply_class,
    parse_reply_title,
    split_title_tag,
)
from .text import fold, html_to_paragraphs, is_chrome_line, normalize_ws, split_paragraphs, strip_chrome
from .urls import ArticleUrl, desktop_url, is_article_url, parse_article_url

__all__ = [
    "ArticleUrl",
    "DocNo",
    "IndexNo",
    "ReplyTitle",
    "Salutation",
    "build_record",
    "canonical_doc_no",
    "canonical_label",
    "canonical_metadata",
    "class_mark_doc_no",
    "classify",
    "cn_numeral_to_int",
    "desktop_url",
    "extract_meta_block",
    "find_adoption",
    "find_contacts",
    "find_doc_nos",
    "find_meetings",
    "find_proposal_no",
    "find_proposal_title",
    "find_public_marker",
    "find_reply_class",
    "find_salutation",
    "find_signature",
    "fold",
    "heading_level",
    "html_to_paragraphs",
    "is_article_url",
    "is_chrome_line",
    "listing_fields",
    "meta_tag_fields",
    "normalize_index_no",
    "normalize_ws",
    "outline",
    "parse_article_url",
    "parse_date",
    "parse_doc_no",
    "parse_index_no",
    "parse_meeting",
    "parse_meta_lines",
    "parse_reply_title",
    "parse_salutation",
    "parse_timestamp",
    "parse_validity",
    "reply_kind",
    "split_paragraphs",
    "split_title_tag",
    "strip_chrome",
    "url_date",
]
