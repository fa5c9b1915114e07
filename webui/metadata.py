"""Datasette metadata for the archive: what each table and column means, facets, canned queries and
who may see what. ``build_metadata(allow_sql=...)`` returns the dict Datasette takes."""

from __future__ import annotations

from typing import Any

from core.fields import ARCHIVE_FIELDS, FIELDS, field
from storage.browse import FACET_COLUMNS

DATABASE = "archive"  # the name the archive is served under: /archive/documents/{id}

# What each column of the documents table means: the field registry's labels and descriptions.
_DOCUMENT_COLUMNS = {
    f.column: f"{f.zh} {f.doc}" for f in (*ARCHIVE_FIELDS, *FIELDS) if f.column is not None
}

_CANNED = {
    "search": {
        "title": "全文检索 Full-text search",
        "description": 'Ranked search of titles, 文号 and bodies: Chinese terms of any length, "phrases",'
        " OR, -exclusions. The search page (/-/search) shows the same with snippets and filters.",
        "sql": "select d.id, d.title, d.bureau, d.kind, d.published_on, d.doc_no, d.reply_class, d.status"
        " from documents_fts f join documents d on d.id = f.rowid"
        " where documents_fts match yibao_match(:q) order by f.rank limit 100",
    },
    "latest_changes": {
        "title": "最新变化 Latest changes",
        "description": "The 200 most recent change events: new, edited, validity changed, withdrawn.",
        "sql": "select e.created_at, e.kind, e.document_id, d.title, d.bureau, e.summary, e.url"
        " from events e join documents d on d.id = e.document_id"
        " order by e.id desc limit 200",
    },
    "withdrawn_documents": {
        "title": "已撤下 Withdrawn documents",
        "description": "Documents no longer published on any portal, most recently withdrawn first.",
        "sql": "select id, title, bureau, kind, doc_no, published_on, withdrawn_at from documents"
        " where status = 'withdrawn' order by withdrawn_at desc limit 500",
    },
    "replies_by_deputy": {
        "title": "按代表/委员 Replies by deputy or member",
        "description": "Replies to suggestions and proposals made by a deputy or member (a name, or part"
        " of one), with their 答复类别.",
        # the names from deputy_names (m012: each distinct name once, ~120,000 at 1M documents), then their
        # documents from document_deputies (m006), not the JSON of every document (1.0-1.2 s at 1M) nor
        # every (name, document) pair (1.7 million: 0.2 s warm, a 400 on a cold first request)
        "sql": "select d.id, d.title, d.bureau, d.meeting_text, d.proposal_no, d.reply_class, d.published_on,"
        " d.deputies from documents d where d.id in (select document_id from document_deputies"
        " where name in (select name from deputy_names where name like '%' || :deputy || '%'))"
        " order by d.published_on desc, d.id desc limit 500",
    },
    "documents_by_doc_no": {
        "title": "按文号 Documents by 文号",
        "description": "Documents whose 文号 contains the text given (e.g. 医保〔2025〕 or 116号).",
        "sql": "select id, title, bureau, doc_no, kind, validity, published_on, status from documents"
        " where doc_no like '%' || :doc_no || '%' order by published_on desc limit 500",
    },
    "validity_changes": {
        "title": "有效性变化 Validity changes",
        "description": "Documents whose validity changed (e.g. 有效 → 失效), latest first.",
        "sql": "select e.created_at, e.document_id, d.title, d.bureau, d.validity, e.summary"
        " from events e join documents d on d.id = e.document_id where e.kind = 'validity_changed'"
        " order by e.id desc limit 500",
    },
}

# Tables a visitor never needs and that hold private or bulky internals: refused, not just hidden.
_PRIVATE = ("outbox", "identity_keys", "fingerprints", "fingerprint_bands", "meta", "_sqlite_migrations")


def build_metadata(*, allow_sql: bool = False) -> dict[str, Any]:
    """Datasette metadata; ``allow_sql`` lets visitors run their own SQL (off by default)."""
    tables: dict[str, Any] = {
        "documents": {
            "title": "文档 Documents",
            "description": "One row per logical document (reposts merged), with its latest fields."
            ' Search box: Chinese terms of any length, "phrases", OR, -term.',
            "columns": _DOCUMENT_COLUMNS,
            # read from the counts the archive keeps (webui.facets.CountedFacet), not grouped per request
            "facets": [{"counted": column} for column in FACET_COLUMNS],
            "sort_desc": "published_on",
            "label_column": "title",
            "size": 50,
        },
        "versions": {
            "title": "版本 Versions",
            "description": "Every real edit of a document is a new version (append-only).",
            "columns": {
                "version_no": "Version number within the document, from 1",
                "comparison_hash": "Hash of the normalized content that decides whether something changed",
                "record_json": "The structured record of this version (JSON)",
                "body_text": f"{field('body_text').zh} {field('body_text').doc}",
                "url": "The URL this version was fetched from",
            },
            "sort_desc": "id",
            "label_column": "version_no",
        },
        "events": {
            "title": "变化 Events",
            "description": "Changes detected: new, edited, metadata_changed, validity_changed, withdrawn,"
            " reappeared, superseded (abolished or replaced by a later policy), expired (its stated term ended);"
            " portal_broken / portal_recovered for operations.",
            "facets": ["kind", "portal_id"],
            "sort_desc": "id",
        },
        "postings": {
            "title": "网址 Postings",
            "description": "Every URL a document was seen at (a repost is a second posting).",
            "facets": ["portal_id", "status"],
        },
        "runs": {
            "title": "抓取 Crawl runs",
            "description": "One row per crawl of a portal, with its health.",
            "facets": ["portal_id", "health"],
            "sort_desc": "id",
        },
        "portals": {"title": "门户 Portals", "description": "The portal registry as last synced."},
        "citations": {
            "title": "引用 Citations",
            "description": "What each version of a document cites (文号 / 《title》) and how: cites, implements,"
            " replaces, abolishes, amends; the archived document it resolves to, if any.",
            "facets": ["relation", "kind"],
        },
        "lineage": {
            "title": "沿革 Lineage",
            "description": "Which document replaced or abolished which (the superseded event, when it was news).",
        },
        "policy_terms": {
            "title": "有效期 Policy terms",
            "description": "A policy's stated term (自…起施行, 有效期N年) and when it expired.",
        },
        # search and chart internals: kept by the archive, read through the search page and the charts
        "documents_fts": {"hidden": True},
        "documents_heading_fts": {"hidden": True},
        "citation_targets": {"hidden": True},
        "document_deputies": {"hidden": True},
        "document_adoption": {"hidden": True},
        "monthly_counts": {"hidden": True},
        "facet_counts": {"hidden": True},
        "facet_groups": {"hidden": True},
        "token_presence": {"hidden": True},
        "facet_changes": {"hidden": True},
        "sqlite_sequence": {"hidden": True},
        "deputy_names": {"hidden": True},
    }
    for name in _PRIVATE:
        tables[name] = {"hidden": True, "allow": False}
    return {
        "title": "Yibao Watch · 医保局答复与政策存档",
        "description": "Replies to deputies' suggestions and CPPCC proposals, policy documents and reports"
        " of China's medical-insurance bureaus, deduplicated and versioned by Yibao Watch.",
        "about": "Yibao Watch",
        "allow_sql": bool(allow_sql),
        "databases": {
            DATABASE: {
                "title": "存档 Archive",
                "description": "The Yibao Watch archive (read-only).",
                "tables": tables,
                "queries": _CANNED,
                "allow_sql": bool(allow_sql),
            }
        },
    }
