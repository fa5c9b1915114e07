"""Storing a DocumentRecord: posting, identity, version, event (and the caller's outbox rows) in one
``BEGIN IMMEDIATE`` transaction.

How ``record()`` decides:

1. The posting (URL) is upserted. A URL already known keeps its document.
2. A new URL is resolved to a document by its strong identity keys (``core.identity``), else, only
   when it has none, by MinHash LSH over stored signatures, else it starts a new document.
3. A new URL of an existing document is a repost: it adds a posting, never a version, even if its text
   differs a little (another portal's template); its strong keys are added to the document's.
4. A known URL whose comparison hash changed since *that URL* was last stored, to a hash different from
   the document's latest version, appends a version and an event when the field registry names a field
   that changed (``core.fields.changed_fields``: the question the diff asks too, so every version has a
   diff to show and every field a diff shows made its version): ``validity_changed`` if validity
   changed, else ``edited`` if body or title changed, else ``metadata_changed``. Comparing per posting
   keeps two slightly different postings of one document from flip-flopping versions.
5. A withdrawn document that shows up again (any posting stored or touched) emits ``reappeared``
   (with a version when its content changed as well).

An identical re-crawl changes only the posting's last-seen fields. Each call is one transaction, so a
crash loses at most the page being stored and a rerun does not duplicate anything. ``record_batch`` stores
several pages (documents and 304 touches) in one transaction -- the same steps, committed together -- so a
crash loses at most that batch, as a whole.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from core import fields as registry
from core import identity
from core.identity import Fingerprint
from core.records import DocumentRecord
from storage.citations import link_version
from storage.db import to_utc_iso, write_transaction
from storage.events import (
    EVENT_EDITED,
    EVENT_METADATA_CHANGED,
    EVENT_NEW,
    EVENT_REAPPEARED,
    EVENT_VALIDITY_CHANGED,
    Event,
    add_event,
)
from storage.search import fts_delete, fts_insert
from storage.token_presence import PresenceBatch
from storage.views import document_columns

OnEvent = Callable[[sqlite_utils.Database, Event], None]

FINGERPRINT_SCHEME = (
    f"minhash-{identity.MINHASH_SCHEME}-{identity.NUM_PERM}-c{identity.SHINGLE_SIZE}"
    f"-b{identity.LSH_BANDS}x{identity.LSH_ROWS}"
)
@dataclass(frozen=True)
class Posting:
    url: str
    document_id: int
    portal_id: str
    column_name: str | None
    first_seen_at: str
    last_seen_at: str
    last_seen_run: int | None
    last_fetched_at: str | None
    etag: str | None
    last_modified: str | None
    content_hash: str
    last_listed_run: int | None
    last_listed_at: str | None
    gone_checks: int
    last_gone_run: int | None
    status: str


@dataclass(frozen=True)
class _Doc:
    id: int
    title: str
    doc_no: str | None
    status: str
    latest_version_id: int


@dataclass(frozen=True)
class _Version:
    id: int
    comparison_hash: str
    record_json: str
    body_text: str


@dataclass(frozen=True)
class _Incoming:
    record: DocumentRecord
    keys: list[str]
    hash: str
    run_id: int | None
    now: str
    etag: str | None
    last_modified: str | None
    column: str | None


def get_posting(db: sqlite_utils.Database, url: str) -> Posting | None:
    columns = ", ".join(Posting.__dataclass_fields__)
    row = db.execute(f"SELECT {columns} FROM postings WHERE url = ?", [url]).fetchone()
    return Posting(*row) if row else None


def _doc(db: sqlite_utils.Database, document_id: int) -> _Doc:
    sql = "SELECT id, title, doc_no, status, latest_version_id FROM documents WHERE id = ?"
    return _Doc(*db.execute(sql, [document_id]).fetchone())


def _version(db: sqlite_utils.Database, version_id: int) -> _Version:
    sql = "SELECT id, comparison_hash, record_json, body_text FROM versions WHERE id = ?"
    return _Version(*db.execute(sql, [version_id]).fetchone())


def record(
    db: sqlite_utils.Database,
    record: DocumentRecord,
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    column: str | None = None,
    on_event: OnEvent | None = None,
) -> Event | None:
    """Store one fetched document; return the event it caused, if any.

    ``etag``/``last_modified`` are the response's validators; ``column`` the registry column the URL was
    listed in (``RawPage.column``; DocumentRecord does not carry it).

    ``on_event(db, event)`` runs inside the same transaction (write outbox rows there, so they commit
    atomically with the event); if it raises, nothing of this call is stored.
    """
    incoming, fingerprint = _incoming(db, record, run_id, to_utc_iso(now), etag, last_modified, column)
    fts = _FtsWrites()
    with write_transaction(db):
        event = _store(db, incoming, fingerprint, on_event, fts)
        fts.apply(db)
    return event


def _incoming(
    db: sqlite_utils.Database,
    record: DocumentRecord,
    run_id: int | None,
    now: str,
    etag: str | None,
    last_modified: str | None,
    column: str | None,
) -> tuple[_Incoming, Fingerprint | None]:
    """The record's keys and hash, and its fingerprint when it may be needed: computed outside the write lock."""
    keys = identity.identity_keys(record)
    fingerprint = None
    if not keys and get_posting(db, record.url) is None:
        fingerprint = identity.text_fingerprint(record.body_text)
    incoming = _Incoming(record, keys, identity.comparison_hash(record), run_id, now, etag, last_modified, column)
    return incoming, fingerprint


class _FtsWrites:
    """The full-text index writes of one transaction, made after its other statements. A statement that needs a
    statement journal (an UPDATE checked for foreign keys, as ``documents.latest_version_id`` is) opens a
    savepoint on the virtual tables too, and FTS5 writes the index data it holds out as a segment then: index
    writes interleaved with such statements cost a segment per document, written last they cost one per
    transaction. ``on_event`` sees the archive without them (the router matches watchers on the record's texts)."""

    def __init__(self) -> None:
        self.writes: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    def insert(self, document_id: int, title: str, doc_no: str | None, body: str) -> None:
        self.writes.append((fts_insert, (document_id, title, doc_no, body)))

    def delete(self, document_id: int, title: str, doc_no: str | None, body: str) -> None:
        self.writes.append((fts_delete, (document_id, title, doc_no, body)))

    def apply(self, db: sqlite_utils.Database) -> None:
        presence = PresenceBatch()  # the token presence summary: written once per partition touched
        for write, args in self.writes:
            if write is fts_insert:
                write(db, *args, presence=presence)
            else:
                write(db, *args)
        presence.flush(db)
        self.writes.clear()


def _store(
    db: sqlite_utils.Database,
    incoming: _Incoming,
    fingerprint: Fingerprint | None,
    on_event: OnEvent | None,
    fts: _FtsWrites,
) -> Event | None:
    """``record``'s work inside an open write transaction (its full-text index writes queued on ``fts``)."""
    posting = get_posting(db, incoming.record.url)
    if posting is not None:
        event = _store_known(db, incoming, posting, fts)
    else:
        if not incoming.keys and fingerprint is None:
            fingerprint = identity.text_fingerprint(incoming.record.body_text)
        event = _store_new_url(db, incoming, fingerprint, fts)
    if event is None:
        return None
    linked = link_version(db, event, incoming.record.body_text) if _made_version(event) else []
    if on_event is not None:
        for made in (event, *linked):
            on_event(db, made)
    return event


def _made_version(event: Event) -> bool:
    """``event`` stored a version (``new``, or a change with a previous version): its citations are linked
    (``storage.citations.link_version``, in this transaction; the ``superseded`` events it adds are routed
    after ``event``)."""
    return event.version_id is not None and (event.kind == EVENT_NEW or event.prev_version_id is not None)


@dataclass(frozen=True)
class Fetched:
    """One page for ``record_batch``: a fetched document, or (``record`` None) an unchanged fetch of ``url``
    (a 304: what ``touch`` stores)."""

    url: str
    record: DocumentRecord | None = None
    etag: str | None = None
    last_modified: str | None = None
    column: str | None = None


def record_batch(
    db: sqlite_utils.Database,
    pages: Sequence[Fetched],
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    on_event: OnEvent | None = None,
) -> list[Event | Exception | None]:
    """Store ``pages`` in one write transaction, each as ``record`` / ``touch`` would, in order; return per page
    its event (or None) -- or the exception it raised.

    All or nothing first: one transaction without savepoints (a savepoint's release makes the full-text index
    flush a segment, which costs as much as a commit). When a page raises, that transaction is rolled back --
    nothing of it, events and ``on_event``'s outbox rows included, was stored -- and every page is stored again
    in a transaction of its own, so a bad page fails alone and no event is written twice. Call it outside a
    transaction.
    """
    if db.conn.in_transaction:
        raise RuntimeError("record_batch runs its own transactions: call it outside one")
    when = to_utc_iso(now)
    prepared: list[tuple[Fetched, _Incoming | None, Fingerprint | None]] = []
    for page in pages:
        if page.record is None:
            prepared.append((page, None, None))
        else:
            incoming, fingerprint = _incoming(db, page.record, run_id, when, page.etag, page.last_modified, page.column)
            prepared.append((page, incoming, fingerprint))

    fts = _FtsWrites()

    def store_one(page: Fetched, incoming: _Incoming | None, fingerprint: Fingerprint | None) -> Event | None:
        if incoming is None:
            return _touch(db, page.url, run_id, when, page.etag, page.last_modified, on_event)
        return _store(db, incoming, fingerprint, on_event, fts)

    try:
        with write_transaction(db):
            stored = [store_one(*entry) for entry in prepared]
            fts.apply(db)
        return list(stored)
    except Exception as exc:
        fts.writes.clear()
        if len(prepared) == 1:
            return [exc]
    results: list[Event | Exception | None] = []
    for entry in prepared:
        try:
            with write_transaction(db):
                results.append(store_one(*entry))
                fts.apply(db)
        except Exception as exc:
            fts.writes.clear()
            results.append(exc)
    return results


def touch(
    db: sqlite_utils.Database,
    url: str,
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    on_event: OnEvent | None = None,
) -> Event | None:
    """A 304 / unchanged fetch: update last-seen fields, reset the gone counter.

    Returns ``reappeared`` when the document had been withdrawn; None otherwise (also for an unknown URL,
    which has nothing to touch).
    """
    with write_transaction(db):
        return _touch(db, url, run_id, to_utc_iso(now), etag, last_modified, on_event)


def _touch(
    db: sqlite_utils.Database,
    url: str,
    run_id: int | None,
    now: str,
    etag: str | None,
    last_modified: str | None,
    on_event: OnEvent | None,
) -> Event | None:
    """``touch``'s work inside an open write transaction."""
    posting = get_posting(db, url)
    if posting is None:
        return None
    db.execute(
        "UPDATE postings SET last_seen_at = ?, last_seen_run = ?, last_fetched_at = ?,"
        " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), gone_checks = 0,"
        " last_gone_run = NULL, status = 'active' WHERE url = ?",
        [now, run_id, now, etag, last_modified, url],
    )
    doc = _doc(db, posting.document_id)
    event = None
    if doc.status == "withdrawn":
        event = _reappear(db, doc, run_id, now, posting.portal_id, url)
    if event is not None and on_event is not None:
        on_event(db, event)
    return event


# --- the two paths -------------------------------------------------------------------------------


def _store_known(db: sqlite_utils.Database, inc: _Incoming, posting: Posting, fts: _FtsWrites) -> Event | None:
    rec = inc.record
    db.execute(
        "UPDATE postings SET last_seen_at = ?, last_seen_run = ?, last_fetched_at = ?, etag = ?,"
        " last_modified = ?, content_hash = ?, column_name = COALESCE(?, column_name), gone_checks = 0,"
        " last_gone_run = NULL, status = 'active' WHERE url = ?",
        [inc.now, inc.run_id, inc.now, inc.etag, inc.last_modified, inc.hash, inc.column, rec.url],
    )
    _add_keys(db, posting.document_id, inc.keys)
    doc = _doc(db, posting.document_id)
    latest = _version(db, doc.latest_version_id)
    same_scheme = posting.content_hash.split(":")[0] == inc.hash.split(":")[0]
    if same_scheme and posting.content_hash != inc.hash:
        completed = _complete(inc.record, latest)
        completed_hash = identity.comparison_hash(completed)
        if latest.comparison_hash != completed_hash:
            baseline = _baseline(db, posting, latest, completed)
            changed = registry.changed_fields(baseline, completed)
            if changed:
                return _new_version(
                    db, dataclasses.replace(inc, record=completed, hash=completed_hash), doc, latest, baseline,
                    changed, fts,
                )
    if doc.status == "withdrawn":
        return _reappear(db, doc, inc.run_id, inc.now, rec.portal_id, rec.url)
    return None


# Metadata a page may simply not print: the same document at a URL that shows less (an NFCMS
# column page vs its gkmlpt page) is not a change. Only values the page omits are filled in, so a
# real change of one of these fields is still a change.
FILLABLE = ("index_no", "doc_no", "doc_no_raw", "validity", "generated_on", "theme")


def _complete(rec: DocumentRecord, latest: _Version) -> DocumentRecord:
    """``rec`` with the metadata its page omits taken from the document's latest version."""
    previous = json.loads(latest.record_json)
    filled = {name: previous[name] for name in FILLABLE if not getattr(rec, name) and previous.get(name)}
    return dataclasses.replace(rec, **filled) if filled else rec


def _baseline(
    db: sqlite_utils.Database, posting: Posting, latest: _Version, completed: DocumentRecord
) -> dict[str, Any]:
    """What ``completed`` is compared with: the latest version, and -- when the document has other
    postings -- the metadata this page shows but the latest version lacks taken as already known. The
    version may have been made from a posting that does not print it (the NFCMS column page of a gkmlpt
    document, fetched first): showing it is no change, and an edit is only the fields that changed."""
    old = {**json.loads(latest.record_json), "body_text": latest.body_text}
    others = db.execute(
        "SELECT 1 FROM postings WHERE document_id = ? AND url != ? LIMIT 1", [posting.document_id, posting.url]
    ).fetchone()
    if others is None:
        return old
    for name in FILLABLE:
        if not old.get(name) and getattr(completed, name):
            old[name] = getattr(completed, name)
    return old


def _store_new_url(
    db: sqlite_utils.Database, inc: _Incoming, fingerprint: Fingerprint | None, fts: _FtsWrites
) -> Event | None:
    document_id = _resolve(db, inc.keys, fingerprint)
    if document_id is None:
        return _new_document(db, inc, fingerprint, fts)
    _insert_posting(db, inc, document_id)
    _add_keys(db, document_id, inc.keys)
    doc = _doc(db, document_id)
    if doc.status == "withdrawn":
        return _reappear(db, doc, inc.run_id, inc.now, inc.record.portal_id, inc.record.url)
    return None


def _resolve(db: sqlite_utils.Database, keys: list[str], fingerprint: Fingerprint | None) -> int | None:
    for key in keys:
        row = db.execute("SELECT document_id FROM identity_keys WHERE key = ?", [key]).fetchone()
        if row:
            return int(row[0])
    return _lsh_match(db, fingerprint) if fingerprint is not None else None


def _lsh_match(db: sqlite_utils.Database, fingerprint: Fingerprint) -> int | None:
    bands = fingerprint.band_hashes()
    rows = db.execute(
        "SELECT DISTINCT f.document_id, f.signature FROM fingerprint_bands b"
        " JOIN fingerprints f ON f.version_id = b.version_id"
        f" WHERE b.band_hash IN ({', '.join('?' * len(bands))}) AND f.scheme = ?",
        [*bands, FINGERPRINT_SCHEME],
    )
    scored = [(fingerprint.jaccard(Fingerprint(sig)), -doc_id) for doc_id, sig in rows]
    if not scored:
        return None
    similarity, neg_id = max(scored)  # most similar; the oldest document on ties
    return -neg_id if similarity >= identity.LSH_THRESHOLD else None


# --- writes --------------------------------------------------------------------------------------


def _insert_posting(db: sqlite_utils.Database, inc: _Incoming, document_id: int) -> None:
    rec = inc.record
    db.execute(
        "INSERT INTO postings (url, document_id, portal_id, column_name, first_seen_at, last_seen_at,"
        " last_seen_run, last_fetched_at, etag, last_modified, content_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            rec.url,
            document_id,
            rec.portal_id,
            inc.column,
            inc.now,
            inc.now,
            inc.run_id,
            inc.now,
            inc.etag,
            inc.last_modified,
            inc.hash,
        ],
    )


def _add_keys(db: sqlite_utils.Database, document_id: int, keys: list[str]) -> None:
    # a key already owned by another document stays with it
    db.conn.executemany(
        "INSERT OR IGNORE INTO identity_keys (key, document_id) VALUES (?, ?)", [(key, document_id) for key in keys]
    )


def _version_payload(rec: DocumentRecord) -> tuple[str, str]:
    """A version's ``record_json`` (the record without its body) and ``body_text``: the JSON of
    ``rec.to_dict()``, without its deep copy of every value."""
    data = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}
    body = data.pop("body_text")
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=_plain), body


def _plain(value: Any) -> dict[str, Any]:
    """A nested record value (Meeting, Attachment) as ``dataclasses.asdict`` makes it, for ``json.dumps``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"not JSON serialisable: {value!r}")


def _append_version(db: sqlite_utils.Database, inc: _Incoming, document_id: int, *, first: bool = False) -> int:
    """Insert ``inc`` as the document's next version (``first``: the document was just created, its number is 1)."""
    rec = inc.record
    record_json, body = _version_payload(rec)
    if first:
        version_no = 1
    else:
        (version_no,) = db.execute(
            "SELECT COALESCE(MAX(version_no), 0) + 1 FROM versions WHERE document_id = ?", [document_id]
        ).fetchone()
    cursor = db.execute(
        "INSERT INTO versions (document_id, version_no, comparison_hash, record_json, body_text, url,"
        " created_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            document_id,
            version_no,
            inc.hash,
            record_json,
            body,
            rec.url,
            inc.now,
            inc.run_id,
        ],
    )
    return int(cursor.lastrowid or 0)


def _store_fingerprint(
    db: sqlite_utils.Database, document_id: int, version_id: int, fingerprint: Fingerprint | None
) -> None:
    if fingerprint is None:
        return
    db.execute(
        "INSERT INTO fingerprints (version_id, document_id, scheme, signature) VALUES (?, ?, ?, ?)",
        [version_id, document_id, FINGERPRINT_SCHEME, fingerprint.signature],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO fingerprint_bands (band_hash, version_id) VALUES (?, ?)",
        [(band_hash, version_id) for band_hash in fingerprint.band_hashes()],
    )


def _document_key(keys: list[str], url: str) -> str:
    """``documents.identity_key`` of a new document: its strongest key, else its first URL."""
    return keys[0] if keys else f"url:{url}"


def _new_summary(title: str) -> str:
    return f"新文档：{title}"


def _new_document(
    db: sqlite_utils.Database, inc: _Incoming, fingerprint: Fingerprint | None, fts: _FtsWrites
) -> Event:
    rec = inc.record
    fields = document_columns(rec)
    identity_key = _document_key(inc.keys, rec.url)
    cursor = db.execute(
        f"INSERT INTO documents (identity_key, {', '.join(fields)}, first_seen_at, last_changed_at)"
        f" VALUES (?, {', '.join('?' * len(fields))}, ?, ?)",
        [identity_key, *fields.values(), inc.now, inc.now],
    )
    document_id = int(cursor.lastrowid or 0)
    version_id = _append_version(db, inc, document_id, first=True)
    db.execute("UPDATE documents SET latest_version_id = ? WHERE id = ?", [version_id, document_id])
    _insert_posting(db, inc, document_id)
    _add_keys(db, document_id, inc.keys)
    _store_fingerprint(db, document_id, version_id, fingerprint)
    fts.insert(document_id, rec.title, rec.doc_no, rec.body_text)
    return add_event(
        db,
        kind=EVENT_NEW,
        document_id=document_id,
        version_id=version_id,
        now=inc.now,
        summary=_new_summary(rec.title),
        run_id=inc.run_id,
        portal_id=rec.portal_id,
        url=rec.url,
    )


def _new_version(
    db: sqlite_utils.Database,
    inc: _Incoming,
    doc: _Doc,
    latest: _Version,
    baseline: dict[str, Any],
    changed: list[str],
    fts: _FtsWrites,
) -> Event:
    """Append ``inc`` as the document's next version and record its event; ``changed`` are the fields
    that differ from ``baseline`` (``_baseline``: the latest version, as far as this page can tell)."""
    rec = inc.record
    version_id = _append_version(db, inc, doc.id)
    fields = document_columns(rec)
    db.execute(
        f"UPDATE documents SET {', '.join(f'{name} = ?' for name in fields)}, latest_version_id = ?,"
        " last_changed_at = ?, status = 'active', withdrawn_at = NULL WHERE id = ?",
        [*fields.values(), version_id, inc.now, doc.id],
    )
    if not inc.keys:
        _store_fingerprint(db, doc.id, version_id, identity.text_fingerprint(rec.body_text))
    fts.delete(doc.id, doc.title, doc.doc_no, latest.body_text)
    fts.insert(doc.id, rec.title, rec.doc_no, rec.body_text)
    kind = EVENT_REAPPEARED if doc.status == "withdrawn" else _change_kind(changed)
    return add_event(
        db,
        kind=kind,
        document_id=doc.id,
        version_id=version_id,
        prev_version_id=latest.id,
        changed_fields=changed,
        now=inc.now,
        summary=_summary(kind, rec.title, changed, baseline.get("validity"), rec.validity),
        run_id=inc.run_id,
        portal_id=rec.portal_id,
        url=rec.url,
    )


def _reappear(
    db: sqlite_utils.Database, doc: _Doc, run_id: int | None, now: str, portal_id: str, url: str
) -> Event:
    db.execute("UPDATE documents SET status = 'active', withdrawn_at = NULL WHERE id = ?", [doc.id])
    return add_event(
        db,
        kind=EVENT_REAPPEARED,
        document_id=doc.id,
        version_id=doc.latest_version_id,
        changed_fields=["status"],
        now=now,
        summary=f"重新出现：{doc.title}",
        run_id=run_id,
        portal_id=portal_id,
        url=url,
    )


def _change_kind(changed: list[str]) -> str:
    if "validity" in changed:
        return EVENT_VALIDITY_CHANGED
    if "body_text" in changed or "title" in changed:
        return EVENT_EDITED
    return EVENT_METADATA_CHANGED


def _summary(kind: str, title: str, changed: list[str], old_validity: str | None, new_validity: str | None) -> str:
    labels = "、".join(registry.label(name) for name in changed)
    if kind == EVENT_VALIDITY_CHANGED:
        return f"有效性 {old_validity or '—'} → {new_validity or '—'}：{title}"
    if kind == EVENT_REAPPEARED:
        return f"重新出现（{labels}有变）：{title}" if changed else f"重新出现：{title}"
    if kind == EVENT_EDITED:
        return f"内容修改（{labels}）：{title}"
    return f"信息变更（{labels}）：{title}"
