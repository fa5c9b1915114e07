"""Citation links in the archive: what a document cites, what cites it, what replaced what, and when a
policy's term runs out. Extraction is ``core.citations`` (pure); this module stores and resolves.

Tables (``storage.migrations.m005_citations``):

- ``citations``: one row per citation of a stored *version* (citing document and version, relation, the
  resolution key ``core.citations.citation_key``, 文号, title, kind, quote) and the archived document it
  resolves to (``cited_document_id``, NULL while unresolved). A document's citations are those of its
  latest version; the rows of older versions stay (what it cited then).
- ``citation_targets``: the keys an archived document answers to: ``no:<canonical 文号>`` and
  ``title:<normalised title>`` of each of its versions.
- ``lineage``: (superseded document, the document that replaced or abolished it, relation, the
  ``superseded`` event if this link made it).
- ``policy_terms``: a policy's term (``core.citations.policy_term`` of its latest version) and the
  ``expired`` event once it has passed.

How a citation resolves: its key is looked up in ``citation_targets`` (文号 first -- a citation with a 文号
has the ``no:`` key -- else the exact normalised title), across portals, never to the citing document
itself. One candidate: it. Several (two bureaus' notices of the same title): the one that shares a portal
with the citing document, if exactly one does; else, for a 文号, the oldest; for a title, none (left
unresolved rather than guessed). A citation that finds nothing stays unresolved and is resolved when a
document with its key is archived (``link_version`` of that document looks its keys up among the unresolved
rows: a partial index on ``key``).

Lineage: a ``replaces``/``abolishes`` citation of a policy or notice (``SUPERSEDING_KINDS``) that resolves
-- when the citing version is stored, or later when the cited document arrives -- records a ``lineage`` row,
and the first such row of a document archived before that run emits its one ``superseded`` event (on the
old document, naming the new one); a document found superseded by the crawl that first archives it gets the
row without an event. The ``lineage`` primary key and the event id stored with it make this exactly once: a re-crawl
stores no version, a new version finds the row there, and everything is written in the transaction of
the version that caused it (``storage.archive`` calls ``link_version`` inside it), so a killed crawl
leaves all of it or none of it.

Expiry: ``expire_due(db, today)`` writes one ``expired`` event per policy whose ``expires_on`` is before
``today`` and that is not marked expired yet (the crawl calls it at the end of each run); a policy whose term
had already ended when it was first archived is marked expired then, without an event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlite_utils

from core.citations import Citation, citation_key, extract_citations, policy_term
from core.normalize.numbers import canonical_doc_no
from core.records import KIND_NOTICE, KIND_POLICY
from storage.baselines import in_baseline
from storage.db import to_utc_iso, write_transaction
from storage.events import EVENT_EXPIRED, EVENT_SUPERSEDED, Event, add_event
from storage.search import SearchHit, fold_search, snippet

if TYPE_CHECKING:
    from storage.query import DocumentFilter

__all__ = [
    "CITED_CHANGE_KINDS",
    "CITING_PAYLOAD",
    "CITING_SORTS",
    "EVENT_EXPIRED",
    "EVENT_SUPERSEDED",
    "RELATION_LABELS",
    "SUPERSEDING_KINDS",
    "CitingHit",
    "LineageNode",
    "Link",
    "citation_text",
    "citations_export",
    "cites_where",
    "citing_count",
    "citing_documents",
    "citing_payloads",
    "citing_search",
    "document_links",
    "expire_due",
    "lineage_graph",
    "lineage_of_event",
    "link_version",
    "rebuild_citations",
    "search_keys",
    "target_keys",
    "term_of",
    "with_citations",
]

SUPERSEDING = ("replaces", "abolishes")
_BACKFILL = "backfill"  # the stand-in event of rebuild_citations (never stored)
SUPERSEDING_KINDS = (KIND_POLICY, KIND_NOTICE)  # a reply or an interpretation restating it decides nothing
# what happens to a cited document that a watcher following citations hears of
CITED_CHANGE_KINDS = ("edited", "validity_changed", "withdrawn", EVENT_SUPERSEDED, EVENT_EXPIRED)

# (中文, English) of each relation, as the CLI, the web page and alert messages show it: "A <relation> B"
RELATION_LABELS = {
    "cites": ("引用", "cites"),
    "implements": ("依据", "implements"),
    "replaces": ("替代", "replaces"),
    "abolishes": ("废止", "abolishes"),
    "amends": ("修订", "amends"),
}
CITING_PAYLOAD = "citing"  # the outbox payload key naming the citing documents a watcher follows

OnEvent = Callable[[sqlite_utils.Database, Event], None]

SCHEMA = [
    """CREATE TABLE citations (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents (id),
        version_id INTEGER NOT NULL REFERENCES versions (id),
        relation TEXT NOT NULL CHECK (relation IN ('cites', 'implements', 'replaces', 'abolishes', 'amends')),
        key TEXT NOT NULL,
        doc_no TEXT,
        title TEXT,
        kind TEXT NOT NULL,
        quote TEXT NOT NULL DEFAULT '',
        cited_document_id INTEGER REFERENCES documents (id)
    ) STRICT""",
    "CREATE INDEX citations_version ON citations (version_id)",
    "CREATE INDEX citations_cited ON citations (cited_document_id) WHERE cited_document_id IS NOT NULL",
    "CREATE INDEX citations_unresolved ON citations (key) WHERE cited_document_id IS NULL",
    """CREATE TABLE citation_targets (
        key TEXT NOT NULL,
        document_id INTEGER NOT NULL REFERENCES documents (id),
        PRIMARY KEY (key, document_id)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE lineage (
        document_id INTEGER NOT NULL REFERENCES documents (id),
        by_document_id INTEGER NOT NULL REFERENCES documents (id),
        relation TEXT NOT NULL CHECK (relation IN ('replaces', 'abolishes')),
        citation_id INTEGER REFERENCES citations (id),
        event_id INTEGER REFERENCES events (id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (document_id, by_document_id)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX lineage_by ON lineage (by_document_id)",
    "CREATE INDEX lineage_event ON lineage (event_id) WHERE event_id IS NOT NULL",
    """CREATE TABLE policy_terms (
        document_id INTEGER PRIMARY KEY REFERENCES documents (id),
        version_id INTEGER NOT NULL REFERENCES versions (id),
        effective_from TEXT,
        valid_years INTEGER,
        expires_on TEXT,
        expired_on TEXT,
        expired_event_id INTEGER REFERENCES events (id)
    ) STRICT""",
    "CREATE INDEX policy_terms_due ON policy_terms (expires_on) WHERE expired_on IS NULL",
]


# --- keys ----------------------------------------------------------------------------------------


def _no_key(doc_no: str | None, *, canonical: bool = False) -> str | None:
    """The ``no:`` key of a 文号 (``canonical``: already in canonical form, as ``documents.doc_no`` is)."""
    if not doc_no:
        return None
    if not canonical:
        doc_no = canonical_doc_no(doc_no)
        if not doc_no:
            return None
    return citation_key(Citation("cites", doc_no, None, "document", 0, ""))


def _title_key(title: str | None) -> str | None:
    if not title or not title.strip():
        return None
    key = citation_key(Citation("cites", None, title, "document", 0, ""))
    return key if key != "title:" else None


# a cover notice (关于印发《X》的通知) is cited by the title of what it issues: 按照《X》
_COVER_TITLE = re.compile(r"(?:印发|转发|公布|发布|颁布|修订印发)《([^《》]+)》的(?:通知|决定)")


def target_keys(title: str | None, doc_no: str | None) -> list[str]:
    """The keys a document with this title and canonical 文号 (``documents.doc_no``) answers to, 文号 first; a
    cover notice answers to the inner title of the document it issues as well."""
    inner = _COVER_TITLE.search(title or "")
    keys = (_no_key(doc_no, canonical=True), _title_key(title), _title_key(inner.group(1)) if inner else None)
    return list(dict.fromkeys(k for k in keys if k))


def search_keys(value: str) -> list[str]:
    """The keys a user's ``--cites`` value may mean: a 文号 (any bracket style) and/or a title (《》 optional)."""
    text = value.strip()
    keys = [_no_key(text), _title_key(text.strip("《》"))]
    return list(dict.fromkeys(k for k in keys if k))


# --- writing: the hook of storage.archive -----------------------------------------------------------


@dataclass(frozen=True)
class _Citing:
    id: int
    title: str
    doc_no: str | None
    kind: str
    published_on: str | None


def _citing(db: sqlite_utils.Database, document_id: int) -> _Citing:
    row = db.conn.execute(
        "SELECT id, title, doc_no, kind, published_on FROM documents WHERE id = ?", [document_id]
    ).fetchone()
    return _Citing(*row)


def link_version(db: sqlite_utils.Database, event: Event, body_text: str, *, emit: bool = True) -> list[Event]:
    """Store the citations of the version ``event`` made (``new``, or a change with a previous version) and
    resolve them; add the document's keys and resolve the earlier citations waiting for them; record the
    lineage and the policy term they imply. Call it inside the version's write transaction; returns the
    events it added (``superseded``), for the caller to route. ``emit=False`` records lineage without events.

    A handful of statements per version whatever its number of citations (keys looked up together, rows
    inserted with one ``executemany``): it runs for every stored version, inside the crawl's write lock."""
    assert event.document_id is not None
    assert event.version_id is not None
    conn = db.conn
    doc = _citing(db, event.document_id)
    found = extract_citations(body_text, own_doc_no=doc.doc_no, own_title=doc.title)
    keys = target_keys(doc.title, doc.doc_no)
    conn.executemany(
        "INSERT OR IGNORE INTO citation_targets (key, document_id) VALUES (?, ?)", [(key, doc.id) for key in keys]
    )
    added: list[Event] = []
    if found:
        cited_keys = [citation_key(c) for c in found]
        candidates = _candidates(db, cited_keys)
        rows = []
        superseding = False
        for c, key in zip(found, cited_keys, strict=True):
            cited = _pick(db, key, doc.id, candidates.get(key, ()))
            superseding = superseding or (cited is not None and c.relation in SUPERSEDING)
            rows.append((doc.id, event.version_id, c.relation, key, c.doc_no, c.title, c.kind, c.quote, cited))
        conn.executemany(
            "INSERT INTO citations (document_id, version_id, relation, key, doc_no, title, kind, quote,"
            " cited_document_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if superseding:
            for citation_id, relation, cited in conn.execute(
                "SELECT id, relation, cited_document_id FROM citations WHERE version_id = ?"
                " AND relation IN ('replaces', 'abolishes') AND cited_document_id IS NOT NULL ORDER BY id",
                [event.version_id],
            ).fetchall():
                made = _supersede(db, doc, cited, relation, citation_id, event, emit)
                if made is not None:
                    added.append(made)
    added.extend(_resolve_waiting(db, doc.id, keys, event, emit))
    if doc.kind in SUPERSEDING_KINDS:
        _store_term(db, doc, event.version_id, body_text if "有效期" in body_text else "", event)
    return added


def _candidates(db: sqlite_utils.Database, keys: Sequence[str]) -> dict[str, list[int]]:
    """The archived documents answering to each of ``keys`` (one query)."""
    out: dict[str, list[int]] = {}
    for key, document_id in db.conn.execute(
        "SELECT key, document_id FROM citation_targets WHERE key IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(set(keys)), ensure_ascii=False)],
    ):
        out.setdefault(key, []).append(int(document_id))
    return out


def _pick(db: sqlite_utils.Database, key: str, citing_id: int, answering: Sequence[int]) -> int | None:
    """The archived document ``key`` resolves to for a citation of ``citing_id`` among the documents
    ``answering`` to it (module docstring)."""
    candidates = [doc for doc in answering if doc != citing_id]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    shared = [
        int(r[0])
        for r in db.conn.execute(
            "SELECT DISTINCT p.document_id FROM postings p WHERE p.document_id IN"
            " (SELECT value FROM json_each(?)) AND p.portal_id IN"
            " (SELECT portal_id FROM postings WHERE document_id = ?)",
            [json.dumps(candidates), citing_id],
        )
    ]
    if len(shared) == 1:
        return shared[0]
    return min(candidates) if key.startswith("no:") else None


def _resolve_waiting(
    db: sqlite_utils.Database, document_id: int, keys: Sequence[str], event: Event, emit: bool
) -> list[Event]:
    """Resolve the unresolved citations whose key is one of ``keys`` (a document answering to them arrived)."""
    if not keys:
        return []
    rows = db.conn.execute(
        "SELECT id, document_id, relation, key FROM citations WHERE cited_document_id IS NULL AND key IN"
        f" ({', '.join('?' * len(keys))}) AND document_id != ? ORDER BY id",
        [*keys, document_id],
    ).fetchall()
    if not rows:
        return []
    candidates = _candidates(db, keys)
    added: list[Event] = []
    for citation_id, citing_id, relation, key in rows:
        cited = _pick(db, key, citing_id, candidates.get(key, ()))
        if cited is None:
            continue
        db.conn.execute("UPDATE citations SET cited_document_id = ? WHERE id = ?", [cited, citation_id])
        if relation in SUPERSEDING and _is_current(db, citation_id):
            made = _supersede(db, _citing(db, citing_id), cited, relation, citation_id, event, emit)
            if made is not None:
                added.append(made)
    return added


def _is_current(db: sqlite_utils.Database, citation_id: int) -> bool:
    """The citation belongs to its document's latest version (an older version's word is history)."""
    row = db.execute(
        "SELECT 1 FROM citations c JOIN documents d ON d.id = c.document_id AND d.latest_version_id = c.version_id"
        " WHERE c.id = ?",
        [citation_id],
    ).fetchone()
    return row is not None


def _supersede(
    db: sqlite_utils.Database, new: _Citing, old_id: int, relation: str, citation_id: int, cause: Event, emit: bool
) -> Event | None:
    """Record that ``new`` replaces/abolishes ``old_id``; the old document's first such link emits its one
    ``superseded`` event (returned), later ones are recorded without an event."""
    if new.kind not in SUPERSEDING_KINDS or old_id == new.id:
        return None
    old = db.execute(
        "SELECT d.title, d.doc_no, d.published_on, d.latest_version_id,"
        " (SELECT portal_id FROM postings WHERE document_id = d.id ORDER BY first_seen_at, rowid LIMIT 1),"
        " (SELECT url FROM postings WHERE document_id = d.id ORDER BY first_seen_at, rowid LIMIT 1)"
        " FROM documents d WHERE d.id = ?",
        [old_id],
    ).fetchone()
    if old is None:
        return None
    title, doc_no, published_on, version_id, portal_id, url = old
    if published_on and new.published_on and published_on > new.published_on:
        return None  # a document cannot be abolished by an older one: a mis-resolved title
    inserted = db.execute(
        "INSERT OR IGNORE INTO lineage (document_id, by_document_id, relation, citation_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [old_id, new.id, relation, citation_id, cause.created_at],
    ).rowcount
    if inserted != 1 or not emit or not _archived_before(db, old_id, cause) or in_baseline(db, cause.portal_id, cause.url):
        return None
    already = db.execute(
        "SELECT 1 FROM lineage WHERE document_id = ? AND event_id IS NOT NULL LIMIT 1", [old_id]
    ).fetchone()
    if already is not None:
        return None
    verb = "被替代" if relation == "replaces" else "被废止"
    by = f"《{new.title}》" + (f"（{new.doc_no}）" if new.doc_no else "")
    event = add_event(
        db,
        kind=EVENT_SUPERSEDED,
        document_id=old_id,
        version_id=version_id,
        changed_fields=[],
        now=cause.created_at,
        summary=f"{verb}：{title}" + (f"（{doc_no}）" if doc_no else "") + f"，由{by}",
        run_id=cause.run_id,
        portal_id=portal_id,
        url=url,
    )
    db.execute(
        "UPDATE lineage SET event_id = ? WHERE document_id = ? AND by_document_id = ?", [event.id, old_id, new.id]
    )
    return event


def _local_date(stamp: str) -> date:
    """The date in China (UTC+8, no daylight saving) of a ``*_at`` stamp."""
    return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(hours=8)).date()


def _archived_before(db: sqlite_utils.Database, document_id: int, cause: Event) -> bool:
    """Was ``document_id`` archived before the run (else the moment) of ``cause``? A document found superseded
    by the crawl that first archives it -- an archive's first crawl reading an old policy and the one that
    abolished it, in any order -- is recorded as such without an event: that is not news. Nor is a supersession
    found while the abolishing page's portal (or column) is still in its baseline: a backfill cut into several
    runs reads years of history, and whichever run reads the abolishing policy, it announces nothing."""
    row = db.execute(
        "SELECT v.run_id, d.first_seen_at FROM documents d JOIN versions v ON v.document_id = d.id"
        " AND v.version_no = 1 WHERE d.id = ?",
        [document_id],
    ).fetchone()
    if row is None:
        return False
    first_run, first_seen = row
    if first_run is not None and cause.run_id is not None:
        return bool(first_run != cause.run_id)
    return bool(first_seen < cause.created_at)


def _store_term(db: sqlite_utils.Database, doc: _Citing, version_id: int, body_text: str, cause: Event) -> None:
    """Keep the policy's stated term (its latest version's; only a body that states a 有效期 is read: a term
    without one never ends, and reading every policy's 施行 clause costs more than it tells). A term that had
    already ended when the document was first archived is marked expired then, without an event: it is not
    news (an archive's first crawl would otherwise announce every old policy whose term ran out years ago)."""
    published = None
    if doc.published_on:
        try:
            published = date.fromisoformat(doc.published_on[:10])
        except ValueError:
            published = None
    term = policy_term(body_text, published=published)
    if term.effective_from is None and term.valid_years is None and term.expires_on is None:
        db.execute("DELETE FROM policy_terms WHERE document_id = ? AND expired_on IS NULL", [doc.id])
        return
    today = _local_date(cause.created_at)
    first = cause.kind in ("new", _BACKFILL)  # first archived (or first linked, by a backfill)
    ended = first and term.expires_on is not None and term.expires_on < today
    db.execute(
        "INSERT INTO policy_terms (document_id, version_id, effective_from, valid_years, expires_on, expired_on)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET version_id = excluded.version_id,"
        " effective_from = excluded.effective_from, valid_years = excluded.valid_years,"
        " expires_on = excluded.expires_on",
        [
            doc.id,
            version_id,
            term.effective_from.isoformat() if term.effective_from else None,
            term.valid_years,
            term.expires_on.isoformat() if term.expires_on else None,
            today.isoformat() if ended else None,
        ],
    )


# --- expiry ---------------------------------------------------------------------------------------


def expire_due(
    db: sqlite_utils.Database,
    today: date,
    *,
    now: datetime | str | None = None,
    run_id: int | None = None,
    on_event: OnEvent | None = None,
) -> list[Event]:
    """One ``expired`` event for each policy whose term ended before ``today`` (its ``expires_on`` is the
    last day it is valid) and that is not marked expired yet (``expired_on``), each in its own transaction with
    its routing; returns them. Call it outside a transaction."""
    stamp = to_utc_iso(now)
    due = db.execute(
        "SELECT document_id FROM policy_terms WHERE expires_on < ? AND expired_on IS NULL ORDER BY document_id",
        [today.isoformat()],
    ).fetchall()
    events: list[Event] = []
    for (document_id,) in due:
        with write_transaction(db):
            row = db.execute(
                "SELECT t.expires_on, t.valid_years, d.title, d.latest_version_id,"
                " (SELECT portal_id FROM postings WHERE document_id = d.id ORDER BY first_seen_at, rowid LIMIT 1),"
                " (SELECT url FROM postings WHERE document_id = d.id ORDER BY first_seen_at, rowid LIMIT 1)"
                " FROM policy_terms t JOIN documents d ON d.id = t.document_id"
                " WHERE t.document_id = ? AND t.expired_on IS NULL AND t.expires_on < ?",
                [document_id, today.isoformat()],
            ).fetchone()
            if row is None:  # another process expired it meanwhile
                continue
            expires_on, years, title, version_id, portal_id, url = row
            term = f"有效期{years}年，" if years else ""
            event = add_event(
                db, kind=EVENT_EXPIRED, document_id=document_id, version_id=version_id, now=stamp,
                summary=f"有效期届满（{term}至{expires_on}）：{title}", run_id=run_id, portal_id=portal_id, url=url,
            )  # fmt: skip
            db.execute("UPDATE policy_terms SET expired_on = ?, expired_event_id = ? WHERE document_id = ?",
                       [today.isoformat(), event.id, document_id])  # fmt: skip
            if on_event is not None:
                on_event(db, event)
        events.append(event)
    return events


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One citation link as a reader sees it: the other document (None if unresolved), how it is named in
    the text, the relation and the quote."""

    relation: str
    document_id: int | None
    title: str | None  # the archived document's title, else the cited title
    doc_no: str | None
    kind: str
    quote: str
    status: str | None = None  # the archived document's status (active | withdrawn)
    url: str | None = None  # where it was first seen (lineage_of_event)

    def as_dict(self) -> dict[str, Any]:
        return {
            "relation": self.relation, "document_id": self.document_id, "title": self.title, "doc_no": self.doc_no,
            "kind": self.kind, "quote": self.quote, "status": self.status, "url": self.url,
        }  # fmt: skip


_CURRENT = "JOIN documents cd ON cd.id = c.document_id AND cd.latest_version_id = c.version_id"


def _cites(db: sqlite_utils.Database, document_id: int) -> list[Link]:
    rows = db.execute(
        "SELECT c.relation, c.cited_document_id, COALESCE(t.title, c.title), COALESCE(c.doc_no, t.doc_no), c.kind,"
        f" c.quote, t.status FROM citations c {_CURRENT} LEFT JOIN documents t ON t.id = c.cited_document_id"
        " WHERE c.document_id = ? ORDER BY c.id",
        [document_id],
    )
    return [Link(*row) for row in rows]


def citing_documents(db: sqlite_utils.Database, document_id: int) -> list[Link]:
    """The documents whose latest version cites ``document_id`` (one link per citing document and relation)."""
    rows = db.execute(
        "SELECT DISTINCT c.relation, cd.id, cd.title, cd.doc_no, c.kind, c.quote, cd.status, c.id"
        f" FROM citations c {_CURRENT} WHERE c.cited_document_id = ? ORDER BY cd.id, c.id",
        [document_id],
    )
    seen: set[tuple[str, int]] = set()
    out = []
    for relation, doc_id, title, doc_no, kind, quote, status, _ in rows:
        if (relation, doc_id) not in seen:
            seen.add((relation, doc_id))
            out.append(Link(relation, doc_id, title, doc_no, kind, quote, status))
    return out


def _lineage_links(db: sqlite_utils.Database, document_id: int, *, older: bool) -> list[Link]:
    mine, other = ("by_document_id", "document_id") if older else ("document_id", "by_document_id")
    rows = db.execute(
        f"SELECT l.relation, d.id, d.title, d.doc_no, d.status FROM lineage l JOIN documents d ON d.id = l.{other}"
        f" WHERE l.{mine} = ? ORDER BY d.published_on, d.id",
        [document_id],
    )
    return [Link(relation, doc_id, title, doc_no, "document", "", status) for relation, doc_id, title, doc_no, status in rows]


def document_links(db: sqlite_utils.Database, document_id: int) -> dict[str, list[Link]]:
    """``cites`` (the latest version's citations, resolved or not), ``cited_by``, ``replaces`` (what this
    document replaced or abolished) and ``replaced_by``."""
    return {
        "cites": _cites(db, document_id),
        "cited_by": citing_documents(db, document_id),
        "replaces": _lineage_links(db, document_id, older=True),
        "replaced_by": _lineage_links(db, document_id, older=False),
    }


@dataclass(frozen=True)
class LineageNode:
    """A document in a lineage graph: its id, title, 文号, published date, status; ``current`` marks the
    document the graph was drawn for."""

    id: int
    title: str
    doc_no: str | None
    published_on: str | None
    status: str
    current: bool = False


def lineage_graph(
    db: sqlite_utils.Database, document_id: int, *, limit: int = 40
) -> tuple[list[LineageNode], list[tuple[int, int, str]]]:
    """The connected lineage of ``document_id`` (what it replaced, what replaced it, transitively, at most
    ``limit`` documents): its nodes, oldest first, and its edges ``(old, new, relation)``."""
    seen = {document_id}
    edges: set[tuple[int, int, str]] = set()
    frontier = [document_id]
    while frontier and len(seen) < limit:
        rows = db.execute(
            "SELECT document_id, by_document_id, relation FROM lineage WHERE document_id IN"
            " (SELECT value FROM json_each(?)) OR by_document_id IN (SELECT value FROM json_each(?))",
            [json.dumps(frontier), json.dumps(frontier)],
        ).fetchall()
        frontier = []
        for old, new, relation in rows:
            edges.add((int(old), int(new), relation))
            for doc in (int(old), int(new)):
                if doc not in seen and len(seen) < limit:
                    seen.add(doc)
                    frontier.append(doc)
    if not edges:
        return [], []
    rows = db.execute(
        "SELECT id, title, doc_no, published_on, status FROM documents WHERE id IN (SELECT value FROM json_each(?))"
        " ORDER BY COALESCE(published_on, ''), id",
        [json.dumps(sorted(seen))],
    ).fetchall()
    nodes = [LineageNode(int(i), t, n, p, s, int(i) == document_id) for i, t, n, p, s in rows]
    kept = {n.id for n in nodes}
    return nodes, sorted(e for e in edges if e[0] in kept and e[1] in kept)


def term_of(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    """The policy's stated term (``effective_from``, ``valid_years``, ``expires_on``) and ``expired`` (it has
    been marked expired), or None when its text states none."""
    row = db.execute(
        "SELECT effective_from, valid_years, expires_on, expired_on FROM policy_terms WHERE document_id = ?",
        [document_id],
    ).fetchone()
    if row is None:
        return None
    effective_from, years, expires_on, expired_on = row
    return {"effective_from": effective_from, "valid_years": years, "expires_on": expires_on,
            "expired": expired_on is not None}  # fmt: skip


def lineage_of_event(db: sqlite_utils.Database, event_id: int) -> Link | None:
    """The document that replaced or abolished the subject of ``superseded`` event ``event_id``."""
    row = db.execute(
        "SELECT l.relation, d.id, d.title, d.doc_no, d.status,"
        " (SELECT url FROM postings WHERE document_id = d.id ORDER BY first_seen_at, rowid LIMIT 1)"
        " FROM lineage l JOIN documents d ON d.id = l.by_document_id WHERE l.event_id = ?",
        [event_id],
    ).fetchone()
    if row is None:
        return None
    relation, doc_id, title, doc_no, status, url = row
    return Link(relation, doc_id, title, doc_no, "document", "", status, url)


def citing_payloads(db: sqlite_utils.Database, event_id: int) -> dict[str, list[dict[str, Any]]]:
    """Per watcher: the citing documents it was told about with event ``event_id`` (its outbox rows' payload,
    written by ``alerts.routing`` for a ``follow_citations`` watcher)."""
    out: dict[str, list[dict[str, Any]]] = {}
    rows = db.execute(
        "SELECT watcher, payload_json FROM outbox WHERE event_id = ? AND payload_json IS NOT NULL ORDER BY id",
        [event_id],
    )
    for watcher, payload in rows:
        data = json.loads(payload)
        if isinstance(data, dict) and CITING_PAYLOAD in data:
            out.setdefault(watcher, data[CITING_PAYLOAD])
    return out


def citations_export(db: sqlite_utils.Database, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Per document of ``ids``: its latest version's citations as export dicts (relation, 文号, title, kind,
    cited document id or None)."""
    out: dict[int, list[dict[str, Any]]] = {}
    rows = db.execute(
        "SELECT c.document_id, c.relation, c.doc_no, c.title, c.kind, c.cited_document_id"
        f" FROM citations c {_CURRENT} WHERE c.document_id IN (SELECT value FROM json_each(?)) ORDER BY c.id",
        [json.dumps(sorted(set(ids)))],
    )
    for document_id, relation, doc_no, title, kind, cited in rows:
        out.setdefault(int(document_id), []).append(
            {"relation": relation, "doc_no": doc_no, "title": title, "kind": kind, "document_id": cited}
        )
    return out


def with_citations(
    db: sqlite_utils.Database, items: Iterable[dict[str, Any]], *, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Export dicts (``storage.query.iter_documents``) with ``citations`` added: their latest version's
    citations (``citations_export``), read ``batch`` documents at a time."""
    chunk: list[dict[str, Any]] = []

    def attach() -> Iterator[dict[str, Any]]:
        found = citations_export(db, (int(item["id"]) for item in chunk))
        for item in chunk:
            item["citations"] = found.get(int(item["id"]), [])
            yield item

    for item in items:
        chunk.append(item)
        if len(chunk) >= batch:
            yield from attach()
            chunk = []
    if chunk:
        yield from attach()


def citation_text(citation: dict[str, Any]) -> str:
    """One exported citation as text: ``relation 文号`` or ``relation 《title》``, ``→ #id`` when resolved."""
    named = citation.get("doc_no") or f"《{citation.get('title') or ''}》"
    resolved = f" → #{citation['document_id']}" if citation.get("document_id") is not None else ""
    return f"{citation.get('relation')} {named}{resolved}"


def cites_where(values: Sequence[str], alias: str = "d") -> tuple[str, list[Any]]:
    """An SQL boolean over ``documents AS alias``: its latest version cites one of ``values`` (文号 or title,
    ``search_keys``) -- by key, or through a resolved citation of a document with that key."""
    keys = [k for v in values for k in search_keys(v)]
    if not keys:
        return "0", []
    marks = ", ".join("?" * len(keys))
    clause = (
        f"EXISTS (SELECT 1 FROM citations cc WHERE cc.version_id = {alias}.latest_version_id AND"
        f" (cc.key IN ({marks}) OR cc.cited_document_id IN"
        f" (SELECT document_id FROM citation_targets WHERE key IN ({marks}))))"
    )
    return clause, [*keys, *keys]


# --- the documents citing a --cites value, without a search query ----------------------------------


@dataclass(frozen=True)
class CitingHit(SearchHit):
    """A document whose latest version cites one of a filter's ``cites`` values (``citing_search``): a
    ``storage.search.SearchHit`` (``score`` None: listed by date; ``snippet`` the clause that cites it, the
    cited 文号 or title marked) with the relation of that citation."""

    relation: str = "cites"


CITING_SORTS = {  # sort -> ORDER BY over documents AS d (undated documents last either way)
    "newest": "d.published_on IS NULL, d.published_on DESC, d.id DESC",
    "oldest": "d.published_on IS NULL, d.published_on ASC, d.id ASC",
}
# The documents with a citation of one of the keys, from the two citation indexes: an unresolved citation
# by its key (citations_unresolved), a resolved one by the document it resolved to, which answers to that
# key (citations_cited; resolution goes through citation_targets, whose rows are never removed). Citations
# of older versions are among them: the filter's own cites_where keeps the latest version's.
_CITING_IDS = (
    "SELECT c.document_id FROM citations c WHERE c.cited_document_id IS NULL"
    " AND c.key IN (SELECT value FROM json_each(?))"
    " UNION SELECT c.document_id FROM citations c WHERE c.cited_document_id IN"
    " (SELECT document_id FROM citation_targets WHERE key IN (SELECT value FROM json_each(?)))"
)


def _citing_sql(filters: DocumentFilter, select: str, tail: str = "") -> tuple[str, list[Any]]:
    if not filters.cites:
        raise ValueError("a citing listing needs the filter's cites values")
    keys = json.dumps([k for v in filters.cites for k in search_keys(v)])
    where, params = filters.where("d")
    # CROSS JOIN: the citing ids drive (else SQLite may walk a facet's index, every policy, testing each id)
    sql = f"SELECT {select} FROM ({_CITING_IDS}) x CROSS JOIN documents d ON d.id = x.document_id WHERE {where}{tail}"
    return sql, [keys, keys, *params]


def citing_count(db: sqlite_utils.Database, filters: DocumentFilter) -> int:
    """How many documents ``citing_search`` lists for ``filters`` (a ``storage.query.DocumentFilter`` with
    ``cites`` values): every one, counted exactly."""
    sql, params = _citing_sql(filters, "COUNT(*)")
    return int(db.execute(sql, params).fetchone()[0])


def citing_search(
    db: sqlite_utils.Database,
    filters: DocumentFilter,
    *,
    limit: int = 20,
    offset: int = 0,
    sort: str = "newest",
    mark: tuple[str, str] = ("<b>", "</b>"),
) -> list[CitingHit]:
    """The documents whose latest version cites one of ``filters.cites`` (a 文号 or a 《title》, as
    ``cites_where`` reads them) and that pass the filter's other facets, without a search query: newest
    (or ``sort="oldest"``) published first, undated ones last; a page of ``limit`` from ``offset``. Each hit's
    snippet is the clause of its first such citation with the cited 文号 or title marked."""
    if sort not in CITING_SORTS:
        raise ValueError(f"unknown sort {sort!r}: {', '.join(CITING_SORTS)}")
    select = "d.id, d.title, d.doc_no, d.kind, d.status, d.published_on, d.bureau, d.region_code"
    sql, params = _citing_sql(filters, select, f" ORDER BY {CITING_SORTS[sort]} LIMIT ? OFFSET ?")
    rows = db.execute(sql, [*params, limit, offset]).fetchall()
    if not rows:
        return []
    keys = [k for v in filters.cites for k in search_keys(v)]
    marks = ", ".join("?" * len(keys))
    quotes: dict[int, tuple[str, str, list[str]]] = {}
    for document_id, relation, quote, doc_no, title in db.execute(
        f"SELECT c.document_id, c.relation, c.quote, c.doc_no, c.title FROM citations c {_CURRENT}"
        " WHERE c.document_id IN (SELECT value FROM json_each(?)) AND (c.key IN"
        f" ({marks}) OR c.cited_document_id IN (SELECT document_id FROM citation_targets WHERE key IN ({marks})))"
        " ORDER BY c.id",
        [json.dumps([row[0] for row in rows]), *keys, *keys],
    ):
        named = [fold_search(x) for x in (doc_no, title) if x]
        quotes.setdefault(int(document_id), (relation, quote, named))
    hits = []
    for doc_id, title, doc_no, kind, status, published_on, bureau, region_code in rows:
        relation, quote, named = quotes.get(doc_id, ("cites", "", []))
        text = snippet(quote, named, width=len(quote) + 1, mark=mark)
        hits.append(CitingHit(doc_id, title, doc_no, kind, status, published_on, None, text, bureau, region_code,
                              relation))  # fmt: skip
    return hits


# --- backfill -------------------------------------------------------------------------------------


def rebuild_citations(db: sqlite_utils.Database, *, batch: int = 500) -> int:
    """Extract and resolve the citations of every document's latest version that has none stored yet (an
    archive from before citations, or one built by ``storage.bulk``), in id order, ``batch`` documents per
    transaction; no events (lineage found this way is recorded with its relation, silently). Returns the
    number of documents linked."""
    done = 0
    last = 0
    while True:
        rows = db.execute(
            "SELECT d.id, d.latest_version_id, v.body_text, v.created_at, v.run_id FROM documents d"
            " JOIN versions v ON v.id = d.latest_version_id WHERE d.id > ?"
            " AND NOT EXISTS (SELECT 1 FROM citations c WHERE c.version_id = d.latest_version_id)"
            " ORDER BY d.id LIMIT ?",
            [last, batch],
        ).fetchall()
        if not rows:
            return done
        with write_transaction(db):
            for document_id, version_id, body, created_at, run_id in rows:
                event = Event(0, _BACKFILL, document_id, version_id, None, (), "", created_at, run_id, None, None)
                link_version(db, event, body or "", emit=False)
                done += 1
        last = rows[-1][0]

