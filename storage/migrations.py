"""The archive schema, as ordered, append-only migrations (sqlite-utils ``Migrations``).

sqlite-utils >= 4 ships the runner; applied migrations are recorded in its ``_sqlite_migrations`` table
(set ``yibao``). Never edit or reorder an applied migration: append a new function.

Tables (``*_at`` = UTC ISO-8601 text, ``*_on`` = local ISO date):

- ``portals``: registry snapshot (the registry file stays the source of truth).
- ``runs``: one row per crawl; ``health`` 'ok' | 'degraded' | 'failed' | 'blocked'.
- ``documents``: logical documents with their latest fields, ``status`` active | withdrawn.
- ``identity_keys``: strong identity keys (``core.identity.identity_keys``) -> document.
- ``postings``: one row per URL a document was seen at (a repost is a second posting).
- ``versions``: append-only (triggers refuse UPDATE/DELETE); ``record_json`` is the record without
  ``body_text``, which has its own column.
- ``events``: new | edited | validity_changed | metadata_changed | withdrawn | reappeared (document
  ``NULL`` is left possible for operational events).
- ``fingerprints`` + ``fingerprint_bands``: MinHash signatures of key-less versions and their LSH band keys.
- ``documents_fts``: contentless FTS5 over CJK-bigram token text of title, 文号 and body (see search.py).
- ``meta``: key/value, e.g. which FTS tokenizer built the index.
- ``token_presence`` (m011): per (province, kind), a bitmap of the full-text tokens its documents ever had
  (``storage.token_presence``).
- ``deputy_names`` (m012): each deputy name and how many documents name it.
- ``facet_changes`` (m013): documents whose facet columns changed (or that were deleted), for readers
  that keep the facet values in memory (``storage.facet_columns``).
- ``documents_published_desc`` (m014): the documents newest first, a date's documents by id, which is how
  the web UI's documents table pages them.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils
from sqlite_utils.migrations import Migrations

from storage.db import write_transaction
from storage.search import FTS_CREATE_SQL, FTS_RANK, TOKENIZER_VERSION, ensure_index_current

migrations = Migrations("yibao")

_INITIAL = [
    """CREATE TABLE portals (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region_code TEXT,
        level TEXT,
        family TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        synced_at TEXT
    ) STRICT""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        portal_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        finish_reason TEXT,
        health TEXT,
        full INTEGER NOT NULL DEFAULT 0,
        stats_json TEXT
    ) STRICT""",
    "CREATE INDEX runs_portal_started ON runs (portal_id, started_at)",
    """CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        identity_key TEXT NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        bureau TEXT,
        region_code TEXT,
        index_no TEXT,
        doc_no TEXT,
        proposal_no TEXT,
        meeting_text TEXT,
        deputies TEXT NOT NULL DEFAULT '[]',
        reply_class TEXT,
        validity TEXT,
        published_on TEXT,
        generated_on TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
        latest_version_id INTEGER REFERENCES versions (id),
        first_seen_at TEXT NOT NULL,
        last_changed_at TEXT NOT NULL,
        withdrawn_at TEXT
    ) STRICT""",
    "CREATE INDEX documents_doc_no ON documents (doc_no)",
    "CREATE INDEX documents_published ON documents (published_on)",
    """CREATE TABLE identity_keys (
        key TEXT PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents (id)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX identity_keys_document ON identity_keys (document_id)",
    """CREATE TABLE postings (
        url TEXT PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents (id),
        portal_id TEXT NOT NULL,
        column_name TEXT,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        last_seen_run INTEGER REFERENCES runs (id),
        last_fetched_at TEXT,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT NOT NULL,
        last_listed_run INTEGER REFERENCES runs (id),
        last_listed_at TEXT,
        gone_checks INTEGER NOT NULL DEFAULT 0,
        last_gone_run INTEGER REFERENCES runs (id),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'gone'))
    ) STRICT""",
    "CREATE INDEX postings_document ON postings (document_id)",
    "CREATE INDEX postings_portal ON postings (portal_id, status)",
    """CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents (id),
        version_no INTEGER NOT NULL,
        comparison_hash TEXT NOT NULL,
        record_json TEXT NOT NULL,
        body_text TEXT NOT NULL,
        url TEXT NOT NULL,
        created_at TEXT NOT NULL,
        run_id INTEGER REFERENCES runs (id),
        UNIQUE (document_id, version_no)
    ) STRICT""",
    """CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions
       BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END""",
    """CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
       BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        document_id INTEGER REFERENCES documents (id),
        version_id INTEGER REFERENCES versions (id),
        prev_version_id INTEGER REFERENCES versions (id),
        kind TEXT NOT NULL,
        changed_fields TEXT NOT NULL DEFAULT '[]',
        summary TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        run_id INTEGER REFERENCES runs (id),
        portal_id TEXT,
        url TEXT
    ) STRICT""",
    "CREATE INDEX events_created ON events (created_at)",
    "CREATE INDEX events_document ON events (document_id)",
    "CREATE INDEX events_run ON events (run_id)",
    """CREATE TABLE fingerprints (
        version_id INTEGER PRIMARY KEY REFERENCES versions (id),
        document_id INTEGER NOT NULL REFERENCES documents (id),
        scheme TEXT NOT NULL,
        signature BLOB NOT NULL
    ) STRICT""",
    """CREATE TABLE fingerprint_bands (
        band_hash INTEGER NOT NULL,
        version_id INTEGER NOT NULL REFERENCES fingerprints (version_id),
        PRIMARY KEY (band_hash, version_id)
    ) STRICT, WITHOUT ROWID""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
]


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    for sql in _INITIAL:
        db.execute(sql)
    db.execute(FTS_CREATE_SQL)
    db.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('rank', ?)", [FTS_RANK])
    db.execute("INSERT INTO meta (key, value) VALUES ('fts_tokenizer', ?)", [TOKENIZER_VERSION])


def migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations under the write lock (two processes opening a fresh file do not race),
    then rebuild the full-text index if it was built by another tokenizer version."""
    if migrations.pending(db):
        with write_transaction(db):
            migrations.apply(db)
    ensure_index_current(db)



@migrations()
def m002_outbox(db: sqlite_utils.Database) -> None:
    """The alert outbox (``storage.outbox``): one row per (event, watcher, channel target), written in the
    event's transaction; ``status`` pending | sending | sent | failed (a retry is scheduled) | dead."""
    db.execute(
        """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        event_id INTEGER REFERENCES events (id),
        watcher TEXT NOT NULL,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        mode TEXT NOT NULL DEFAULT 'immediate' CHECK (mode IN ('immediate', 'digest')),
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_at TEXT,
        claim_token TEXT,
        lease_until TEXT,
        batch_key TEXT,
        sent_at TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        payload_json TEXT
    ) STRICT"""
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)")
    db.execute("CREATE INDEX outbox_event ON outbox (event_id)")
    db.execute("CREATE INDEX outbox_batch ON outbox (batch_key)")


# GB/T 2260 province-level divisions by the code's first two digits; "10" is this project's code for the
# national bureau (100000).
PROVINCES = {
    "10": "全国", "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省",
    "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省", "41": "河南省", "42": "湖北省",
    "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省", "50": "重庆市", "51": "四川省",
    "52": "贵州省", "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省",
    "64": "宁夏回族自治区", "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区",
    "82": "澳门特别行政区",
}


@migrations()
def m003_browse_columns(db: sqlite_utils.Database) -> None:
    """Generated columns for browsing and faceting (the web UI): ``published_year`` and ``province``
    (the name of the region code's province-level division). VIRTUAL: computed on read, so adding them
    is a schema change only, whatever the archive's size."""
    cases = " ".join(f"WHEN '{prefix}' THEN '{name}'" for prefix, name in PROVINCES.items())
    db.execute(
        "ALTER TABLE documents ADD COLUMN published_year TEXT"
        " GENERATED ALWAYS AS (substr(published_on, 1, 4)) VIRTUAL"
    )
    db.execute(
        "ALTER TABLE documents ADD COLUMN province TEXT"
        f" GENERATED ALWAYS AS (CASE substr(region_code, 1, 2) {cases} END) VIRTUAL"
    )
    db.execute("CREATE INDEX documents_last_changed ON documents (last_changed_at)")


# (index name, columns): what the web UI's facets and monthly charts group by. Without them a facet is
# a scan of the whole table (1.1 s for the province facet at 1M documents, over Datasette's 1 s facet
# limit); with them a scan of one small index (0.1 s). The two (published_on, ...) indexes cover the charts.
FACET_INDEXES = (
    ("documents_kind", "kind"),
    ("documents_status", "status"),
    ("documents_reply_class", "reply_class"),
    ("documents_validity", "validity"),
    ("documents_bureau", "bureau"),
    ("documents_province", "province"),
    ("documents_published_year", "published_year"),
    ("documents_published_region", "published_on, region_code"),
    ("documents_published_bureau", "published_on, bureau"),
)


@migrations()
def m004_facet_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for faceting and charts (``FACET_INDEXES``); one pass over the table each (11 s for all
    nine at 1M documents, at the first open after upgrading)."""
    for name, columns in FACET_INDEXES:
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON documents ({columns})")


@migrations()
def m005_citations(db: sqlite_utils.Database) -> None:
    """Citation links (``storage.citations``): ``citations``, ``citation_targets``, ``lineage`` and
    ``policy_terms``; the documents already archived are linked from their latest versions (no events)."""
    from storage.citations import SCHEMA, rebuild_citations

    for sql in SCHEMA:
        db.execute(sql)
    rebuild_citations(db)


# Documents by 代表/委员 and by 采纳情况 (the latest version's points), kept by triggers in the transaction
# that writes the document: the search filters --deputy and --adoption read them through an index instead
# of parsing every document's JSON (a scan of 1M documents: 1-2 s).
_FILTER_TABLES = [
    """CREATE TABLE document_deputies (
        name TEXT NOT NULL,
        document_id INTEGER NOT NULL,
        PRIMARY KEY (name, document_id)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE document_adoption (
        term TEXT NOT NULL,
        document_id INTEGER NOT NULL,
        PRIMARY KEY (term, document_id)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TRIGGER documents_deputies_insert AFTER INSERT ON documents BEGIN
        INSERT OR IGNORE INTO document_deputies (name, document_id)
            SELECT value, NEW.id FROM json_each(NEW.deputies) WHERE type = 'text';
        INSERT OR IGNORE INTO document_adoption (term, document_id)
            SELECT j.value, NEW.id FROM versions v, json_each(v.record_json, '$.adoption') j
            WHERE v.id = NEW.latest_version_id AND j.type = 'text';
    END""",
    """CREATE TRIGGER documents_deputies_update AFTER UPDATE OF deputies ON documents
       WHEN NEW.deputies IS NOT OLD.deputies BEGIN
        DELETE FROM document_deputies WHERE document_id = OLD.id
            AND name IN (SELECT value FROM json_each(OLD.deputies));
        INSERT OR IGNORE INTO document_deputies (name, document_id)
            SELECT value, NEW.id FROM json_each(NEW.deputies) WHERE type = 'text';
    END""",
    """CREATE TRIGGER documents_adoption_update AFTER UPDATE OF latest_version_id ON documents
       WHEN NEW.latest_version_id IS NOT OLD.latest_version_id BEGIN
        DELETE FROM document_adoption WHERE document_id = OLD.id AND term IN (
            SELECT j.value FROM versions v, json_each(v.record_json, '$.adoption') j
            WHERE v.id = OLD.latest_version_id);
        INSERT OR IGNORE INTO document_adoption (term, document_id)
            SELECT j.value, NEW.id FROM versions v, json_each(v.record_json, '$.adoption') j
            WHERE v.id = NEW.latest_version_id AND j.type = 'text';
    END""",
    """CREATE TRIGGER documents_filters_delete AFTER DELETE ON documents BEGIN
        DELETE FROM document_deputies WHERE document_id = OLD.id
            AND name IN (SELECT value FROM json_each(OLD.deputies));
        DELETE FROM document_adoption WHERE document_id = OLD.id AND term IN (
            SELECT j.value FROM versions v, json_each(v.record_json, '$.adoption') j
            WHERE v.id = OLD.latest_version_id);
    END""",
]


@migrations()
def m006_search_at_scale(db: sqlite_utils.Database) -> None:
    """Search at a million documents (docs/search.md): the title/文号 index ``documents_heading_fts``
    (the first relevance tier), filled from the documents' titles and 文号 (about 40 s at 1M documents),
    and the trigger-kept ``document_deputies`` / ``document_adoption`` tables, filled from the documents
    (about 10 s at 1M)."""
    from storage.search import HEADING_CREATE_SQL, rebuild_heading_index

    db.execute(HEADING_CREATE_SQL)
    rebuild_heading_index(db)
    for sql in _FILTER_TABLES:
        db.execute(sql)
    db.execute(
        "INSERT OR IGNORE INTO document_deputies (name, document_id)"
        " SELECT j.value, d.id FROM documents d, json_each(d.deputies) j WHERE j.type = 'text'"
    )
    db.execute(
        "INSERT OR IGNORE INTO document_adoption (term, document_id)"
        " SELECT j.value, d.id FROM documents d JOIN versions v ON v.id = d.latest_version_id,"
        " json_each(v.record_json, '$.adoption') j WHERE j.type = 'text'"
    )


# The change events the charts count (storage.browse.CHANGE_KINDS, frozen here as this migration's).
_CHART_CHANGES = "('edited', 'metadata_changed', 'validity_changed', 'withdrawn', 'reappeared')"
_COUNT_UP = " ON CONFLICT (series, month, province, bureau) DO UPDATE SET count = count + excluded.count"
_COUNTS = [
    """CREATE TABLE monthly_counts (
        series TEXT NOT NULL CHECK (series IN ('published', 'changed')),
        month TEXT NOT NULL,
        province TEXT NOT NULL,
        bureau TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (series, month, province, bureau)
    ) STRICT, WITHOUT ROWID""",
    f"""CREATE TRIGGER monthly_counts_document_insert AFTER INSERT ON documents
       WHEN NEW.published_on IS NOT NULL BEGIN
        INSERT INTO monthly_counts VALUES ('published', substr(NEW.published_on, 1, 7),
            COALESCE(substr(NEW.region_code, 1, 2), ''), COALESCE(NEW.bureau, ''), 1){_COUNT_UP};
    END""",
    f"""CREATE TRIGGER monthly_counts_document_update AFTER UPDATE OF published_on, region_code, bureau
       ON documents WHEN NEW.published_on IS NOT OLD.published_on OR NEW.region_code IS NOT OLD.region_code
       OR NEW.bureau IS NOT OLD.bureau BEGIN
        INSERT INTO monthly_counts SELECT 'published', substr(OLD.published_on, 1, 7),
            COALESCE(substr(OLD.region_code, 1, 2), ''), COALESCE(OLD.bureau, ''), -1
            WHERE OLD.published_on IS NOT NULL{_COUNT_UP};
        INSERT INTO monthly_counts SELECT 'published', substr(NEW.published_on, 1, 7),
            COALESCE(substr(NEW.region_code, 1, 2), ''), COALESCE(NEW.bureau, ''), 1
            WHERE NEW.published_on IS NOT NULL{_COUNT_UP};
        INSERT INTO monthly_counts SELECT 'changed', substr(e.created_at, 1, 7),
            COALESCE(substr(OLD.region_code, 1, 2), ''), COALESCE(OLD.bureau, ''), -COUNT(*)
            FROM events e WHERE e.document_id = OLD.id AND e.kind IN {_CHART_CHANGES}
            GROUP BY substr(e.created_at, 1, 7){_COUNT_UP};
        INSERT INTO monthly_counts SELECT 'changed', substr(e.created_at, 1, 7),
            COALESCE(substr(NEW.region_code, 1, 2), ''), COALESCE(NEW.bureau, ''), COUNT(*)
            FROM events e WHERE e.document_id = NEW.id AND e.kind IN {_CHART_CHANGES}
            GROUP BY substr(e.created_at, 1, 7){_COUNT_UP};
    END""",
    f"""CREATE TRIGGER monthly_counts_document_delete AFTER DELETE ON documents
       WHEN OLD.published_on IS NOT NULL BEGIN
        INSERT INTO monthly_counts VALUES ('published', substr(OLD.published_on, 1, 7),
            COALESCE(substr(OLD.region_code, 1, 2), ''), COALESCE(OLD.bureau, ''), -1){_COUNT_UP};
    END""",
    f"""CREATE TRIGGER monthly_counts_event_insert AFTER INSERT ON events
       WHEN NEW.kind IN {_CHART_CHANGES} BEGIN
        INSERT INTO monthly_counts SELECT 'changed', substr(NEW.created_at, 1, 7),
            COALESCE(substr(d.region_code, 1, 2), ''), COALESCE(d.bureau, ''), 1
            FROM documents d WHERE d.id = NEW.document_id{_COUNT_UP};
    END""",
    f"""CREATE TRIGGER monthly_counts_event_delete AFTER DELETE ON events
       WHEN OLD.kind IN {_CHART_CHANGES} BEGIN
        INSERT INTO monthly_counts SELECT 'changed', substr(OLD.created_at, 1, 7),
            COALESCE(substr(d.region_code, 1, 2), ''), COALESCE(d.bureau, ''), -1
            FROM documents d WHERE d.id = OLD.document_id{_COUNT_UP};
    END""",
]


@migrations()
def m007_monthly_counts(db: sqlite_utils.Database) -> None:
    """Monthly counts for the charts (``storage.browse``), kept by triggers in the transaction that
    writes the document or event: publications per (month, province prefix, bureau) and change events
    per (month of the event, its document's province prefix and bureau). The charts read a few thousand
    rows instead of grouping every document and event (1.4-1.7 s at 1M documents). Filled here from the
    archive (a few seconds at 1M)."""
    for sql in _COUNTS:
        db.execute(sql)
    db.execute(
        "INSERT INTO monthly_counts SELECT 'published', substr(published_on, 1, 7),"
        " COALESCE(substr(region_code, 1, 2), ''), COALESCE(bureau, ''), COUNT(*) FROM documents"
        " WHERE published_on IS NOT NULL GROUP BY 2, 3, 4"
    )
    db.execute(
        "INSERT INTO monthly_counts SELECT 'changed', substr(e.created_at, 1, 7),"
        " COALESCE(substr(d.region_code, 1, 2), ''), COALESCE(d.bureau, ''), COUNT(*)"
        f" FROM events e JOIN documents d ON d.id = e.document_id WHERE e.kind IN {_CHART_CHANGES}"
        " GROUP BY 2, 3, 4"
    )


# The documents table's facets in the web UI (webui/metadata.py), frozen here as this migration's.
FACET_COUNT_COLUMNS = ("province", "bureau", "kind", "published_year", "reply_class", "validity", "status")
FACET_COUNTS_STALE = "facet_counts_stale"  # meta key: set while the triggers are off (a bulk load)
_FACET_COUNTS_KEPT = f"NOT EXISTS (SELECT 1 FROM meta WHERE key = '{FACET_COUNTS_STALE}')"
_FACET_COUNT_UP = (
    " ON CONFLICT (facet, value, counted, counted_value) DO UPDATE SET count = count + excluded.count"
)


def _facet_count_rows(row: str, sign: int) -> str:
    """``INSERT`` of a document's facet counts (``row`` NEW or OLD), each ``sign`` (+1 or -1): one row per
    facet value it has (``facet`` '') and one per pair of its values of two facets."""
    values = " UNION ALL ".join(f"SELECT '{c}' AS facet, {row}.{c} AS value" for c in FACET_COUNT_COLUMNS)
    return (
        "INSERT INTO facet_counts (facet, value, counted, counted_value, count)"
        f" SELECT a.facet, a.value, b.facet, b.value, {sign}"
        f" FROM (SELECT '' AS facet, '' AS value UNION ALL {values}) a, ({values}) b"
        f" WHERE a.value IS NOT NULL AND b.value IS NOT NULL AND a.facet <> b.facet{_FACET_COUNT_UP};"
    )


_FACET_SOURCES = "region_code, bureau, kind, published_on, reply_class, validity, status"  # of the facets


def _facet_triggers(table: str, rows: Callable[[str, int], str]) -> list[str]:
    """The triggers that keep ``table`` (counts of documents by facet values; ``rows(NEW|OLD, ±1)`` its
    statements for one document) as documents are inserted, change a facet's source or are deleted, while
    the counts are kept (``_FACET_COUNTS_KEPT``: not during a bulk load)."""
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FACET_SOURCES.split(", "))
    return [
        f"""CREATE TRIGGER {table}_document_insert AFTER INSERT ON documents WHEN {_FACET_COUNTS_KEPT} BEGIN
        {rows("NEW", 1)}
    END""",
        f"""CREATE TRIGGER {table}_document_update AFTER UPDATE OF {_FACET_SOURCES} ON documents
       WHEN ({changed})
       AND {_FACET_COUNTS_KEPT} BEGIN
        {rows("OLD", -1)}
        {rows("NEW", 1)}
    END""",
        f"""CREATE TRIGGER {table}_document_delete AFTER DELETE ON documents WHEN {_FACET_COUNTS_KEPT} BEGIN
        {rows("OLD", -1)}
    END""",
    ]

_FACET_COUNTS = [
    """CREATE TABLE facet_counts (
        facet TEXT NOT NULL,
        value TEXT NOT NULL,
        counted TEXT NOT NULL,
        counted_value TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (facet, value, counted, counted_value)
    ) STRICT, WITHOUT ROWID""",
    *_facet_triggers("facet_counts", _facet_count_rows),
]


@migrations()
def m008_facet_counts(db: sqlite_utils.Database) -> None:
    """Counts for the documents table's facets in the web UI (``webui.facets``), kept by triggers in the
    transaction that writes the document: ``facet_counts`` holds, for each facet value (``facet`` ''), how
    many documents have it, and for each pair of values of two facets, how many have both, so the
    facets of the whole table and of one selected value are read, not grouped (1.9-2.6 s at 1M
    documents). The triggers skip while meta holds ``facet_counts_stale`` (a bulk load sets it and
    recounts at its end: ``storage.browse.rebuild_facet_counts``). Filled here from the archive."""
    from storage.browse import rebuild_facet_counts

    for sql in _FACET_COUNTS:
        db.execute(sql)
    rebuild_facet_counts(db)


# m009's indexes: name -> CREATE statement (a bulk load may drop them and run these at its end).
FACET_DATE_INDEXES = {
    f"documents_by_{column}": f"CREATE INDEX IF NOT EXISTS documents_by_{column} ON documents ({column},"
    f" published_on, id, {', '.join(c for c in FACET_COUNT_COLUMNS if c != column)}, region_code)"
    for column in FACET_COUNT_COLUMNS
}


@migrations()
def m009_facet_date_indexes(db: sqlite_utils.Database) -> None:
    """One index per facet of the documents table (``FACET_COUNT_COLUMNS``): the facet, then
    ``published_on`` and ``id``, then the other facets and ``region_code``. The table's rows with a facet
    value selected come newest first from the index (Datasette sorted every selected row: 0.1-0.2 s at
    200,000 documents), as does a search's newest-first walk of one kind or class; a second selected value
    or a search filter's region, kind or class is checked in the index, and a selection is counted from
    it. They replace m004's one-column facet indexes (their prefixes). About 1 s each per 200,000
    documents, at the first open after upgrading; written one document at a time they cost about 55 µs
    of CPU per document (all seven), so a bulk load into a new file may drop them and build them once at
    its end (``FACET_DATE_INDEXES``)."""
    for sql in FACET_DATE_INDEXES.values():
        db.execute(sql)
    for name in ("documents_kind", "documents_status", "documents_reply_class", "documents_validity",
                 "documents_bureau", "documents_province", "documents_published_year"):  # fmt: skip
        db.execute(f"DROP INDEX IF EXISTS {name}")


# m010: every combination of the facet values that documents have, with how many have it (NULL is a value
# here: the key is the JSON array of the seven values, so NULL and '' stay apart).
_GROUP_VALUES = ", ".join(f"{{row}}.{c}" for c in FACET_COUNT_COLUMNS)
_GROUP_KEY = f"json_array({_GROUP_VALUES})"


def _facet_group_row(row: str, sign: int) -> str:
    """The upsert of document ``row``'s (NEW or OLD) group by ``sign`` (+1 or -1); an emptied group is
    deleted."""
    key, values = _GROUP_KEY.format(row=row), _GROUP_VALUES.format(row=row)
    upsert = (
        f"INSERT INTO facet_groups (key, {', '.join(FACET_COUNT_COLUMNS)}, count)"
        f" VALUES ({key}, {values}, {sign}) ON CONFLICT (key) DO UPDATE SET count = count + excluded.count;"
    )
    return upsert if sign > 0 else upsert + f" DELETE FROM facet_groups WHERE key = {key} AND count = 0;"


_FACET_GROUPS = [
    f"""CREATE TABLE facet_groups (
        key TEXT PRIMARY KEY,
        {", ".join(f"{c} TEXT" for c in FACET_COUNT_COLUMNS)},
        count INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID""",
    *_facet_triggers("facet_groups", _facet_group_row),
]


# m010's index of a province's documents of one kind (the other facets and region_code after them)
PROVINCE_KIND_INDEX = (
    "CREATE INDEX IF NOT EXISTS documents_by_province_kind ON documents (province, kind, published_on, id,"
    f" {', '.join(c for c in FACET_COUNT_COLUMNS if c not in ('province', 'kind'))}, region_code)"
)


# every index a bulk load into a new file drops meanwhile and builds once at its end: name -> CREATE statement
BULK_DEFERRED_INDEXES = {**FACET_DATE_INDEXES, "documents_by_province_kind": PROVINCE_KIND_INDEX}


@migrations()
def m010_facet_groups(db: sqlite_utils.Database) -> None:
    """``facet_groups``: each combination of the seven facet values (``FACET_COUNT_COLUMNS``) that
    documents have, and how many do, kept by triggers in the transaction that writes the document (as
    m008's ``facet_counts``, and off with them during a bulk load, recounted by
    ``storage.browse.rebuild_facet_counts``). The documents table's facets with two or more values
    selected (``?province=四川省&kind=policy``) are summed from it
    (``storage.browse.facet_counts_selected``): a read of the groups, however many documents they hold
    (grouping them from a facet index was 0.1 s at 200,000 documents). Filled here from the archive (one grouping pass over the documents).

    ``documents_by_province_kind`` (``PROVINCE_KIND_INDEX``): a province's documents of one kind in date
    order. The table's count of ``?province=…&kind=…`` (Datasette's ``count(*)``) and its rows read only
    them (m009's kind index gave every document of the kind, the province checked on each: 4x the
    reads), and so does a search filtered by a province and a kind (``storage.search``). SQLite never
    takes an index as covering for a query naming a generated (VIRTUAL) column such as ``province``,
    but it reads the table row only for a column the index lacks, so the index has them all."""
    from storage.browse import rebuild_facet_groups

    for sql in _FACET_GROUPS:
        db.execute(sql)
    rebuild_facet_groups(db)
    db.execute(PROVINCE_KIND_INDEX)


@migrations()
def m011_token_presence(db: sqlite_utils.Database) -> None:
    """``token_presence``: per partition (province, kind), a bitmap of the full-text tokens its documents
    ever had (``storage.token_presence``), kept where the full-text rows are written; a search filtered by
    region or kind reads it to prove a query that no document of those partitions can match empty. Filled
    here from the documents' latest versions when there are at most ``MIGRATION_FILL_MAX``, else marked
    incomplete in ``meta`` (unused until ``storage.token_presence.fill`` or ``rebuild_index`` completes it)."""
    from storage import token_presence

    token_presence.create(db)


_DEPUTY_NAMES = [
    """CREATE TABLE deputy_names (
        name TEXT PRIMARY KEY,
        documents INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID""",
    """CREATE TRIGGER deputy_names_insert AFTER INSERT ON document_deputies BEGIN
        INSERT INTO deputy_names VALUES (NEW.name, 1)
            ON CONFLICT (name) DO UPDATE SET documents = documents + 1;
    END""",
    """CREATE TRIGGER deputy_names_delete AFTER DELETE ON document_deputies BEGIN
        UPDATE deputy_names SET documents = documents - 1 WHERE name = OLD.name;
        DELETE FROM deputy_names WHERE name = OLD.name AND documents <= 0;
    END""",
]


@migrations()
def m012_deputy_names(db: sqlite_utils.Database) -> None:
    """``deputy_names``: each distinct name of ``document_deputies`` (m006) and how many documents name it,
    kept by triggers on that table. The web UI's "replies by deputy" (a name or part of one: ``LIKE
    '%…%'``) scans these names, about 120,000 at 1M documents, instead of every (name, document) pair
    (1.7 million: 0.2 s warm, over Datasette's 1 s limit on a cold first request), then reads the matching
    names' documents from ``document_deputies``'s key. Filled here (one grouping pass)."""
    for sql in _DEPUTY_NAMES:
        db.execute(sql)
    db.execute("INSERT INTO deputy_names SELECT name, COUNT(*) FROM document_deputies GROUP BY name")


_FACET_CHANGES = [
    """CREATE TABLE facet_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id INTEGER NOT NULL UNIQUE
    ) STRICT""",
    """CREATE TRIGGER facet_changes_update AFTER UPDATE OF region_code, bureau, kind, published_on,
       reply_class, validity, status ON documents BEGIN
        INSERT OR REPLACE INTO facet_changes (document_id) VALUES (NEW.id);
    END""",
    """CREATE TRIGGER facet_changes_delete AFTER DELETE ON documents BEGIN
        INSERT OR REPLACE INTO facet_changes (document_id) VALUES (OLD.id);
    END""",
]


@migrations()
def m013_facet_changes(db: sqlite_utils.Database) -> None:
    """``facet_changes``: which documents had a facet column changed or were deleted, latest change last
    (``seq`` only grows: AUTOINCREMENT, and a document's older entry is replaced). A reader that keeps the
    documents' facet values in memory (``storage.facet_columns``) reads the entries after the last one it
    saw, and the documents above the highest id it saw, instead of every document again. Inserts are not
    logged: SQLite gives a new row the highest id plus one (an explicit id below the highest, which none
    of the archive's writers uses, would not be seen)."""
    for sql in _FACET_CHANGES:
        db.execute(sql)


@migrations()
def m014_published_desc(db: sqlite_utils.Database) -> None:
    """``documents_published_desc``: the documents by ``published_on`` newest first and, within a date, by
    id, the order in which Datasette's documents table (sorted newest first) pages them: a later page
    (``_next=date,id``) is ``ORDER BY published_on DESC, id`` after ``published_on < date OR
    (published_on = date AND id > id)``. With only m001's ``documents_published`` (read backwards: a
    date's documents highest id first) SQLite answered that ``OR`` with three index searches and a sort
    of every row past the cursor, 1.0 s per page at 1M documents, and the first page, read from that
    index, ended inside a date in the other order than the next page continued it (documents repeated
    or skipped). Read from this index, both are one walk in the same order: 0.2 ms per page. The search's
    own newest-first walk (``published_on DESC, id DESC``) keeps ``documents_published``."""
    db.execute("CREATE INDEX IF NOT EXISTS documents_published_desc ON documents (published_on DESC, id)")
