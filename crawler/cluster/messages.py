"""What crosses Redis between the scheduler, the workers and the writer, and how it is (de)serialised.

Keys (all under ``yibao:``):

``yibao:jobs``                    list of queued crawl jobs (JSON ``Job``), LPUSHed by the scheduler, BRPOPed by workers
``yibao:lock:<portal>``           the job id that owns the portal now: set (NX) at enqueue, kept alive by the worker's
                                  heartbeat, deleted by the writer once the run is closed in the archive
``yibao:job:<id>:state``          the portal's crawl state for that job (``CrawlSnapshot``, zlib'd JSON)
``yibao:job:<id>:closed``         set by the crawl once its ``close`` message is in the stream
``yibao:job:<id>:done``           the run id of a job whose run the writer has closed (an entry delivered again
                                  after a crash is recognised by it)
``yibao:attachments:<portal>``    hash URL -> the stored attachments of that page's latest version (JSON): a cache,
                                  bounded by the writer (``ops.cluster_writer.AttachmentCache``)
``yibao:attachment-order:<portal>`` sorted set URL -> the page's publication date (YYYYMMDD): which cache entries
                                  go first when the portal has more than ``ATTACHMENTS_PER_PORTAL``
``yibao:items``                   the stream of run messages (``open``, ``doc``, ``touch``, ``close``), consumed by
                                  the writer's group ``writer``
``yibao:runs``                    hash job id -> run id, the runs the writer opened and has not closed yet
``yibao:crawl:<portal>:*``        scrapy-redis's request queue and duplicate filter of the portal's running crawl

Stream entries are ``{"kind": ..., "job": ..., "data": zlib(JSON)}``. Items are JSON (never pickle: the archive's
host does not unpickle what a crawl machine sent); the request queue is scrapy-redis's own (pickled requests,
between workers only).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.records import Attachment, DocumentRecord, FetchedAttachment, Meeting
from storage.crawl_state import KnownPosting, RunHistory

PREFIX = "yibao"
JOBS = f"{PREFIX}:jobs"
STREAM = f"{PREFIX}:items"
GROUP = "writer"
RUNS = f"{PREFIX}:runs"
FORMAT = "1"  # the message format; a writer refuses what it does not know

OPEN, DOC, TOUCH, CLOSE = "open", "doc", "touch", "close"
KINDS = (OPEN, DOC, TOUCH, CLOSE)

HEARTBEAT_SECONDS = 5.0  # a running job's lock is refreshed this often
LOCK_TTL = 30  # seconds a job's lock outlives its last heartbeat (then its run is closed as interrupted)
# the attachment cache: at most this many pages' entries per portal (the most recently published kept), and a
# portal's entries expire this long after the writer last stored a page or closed a run of the portal
ATTACHMENTS_PER_PORTAL = 5_000
ATTACHMENTS_TTL = 30 * 86_400


def lock_key(portal_id: str) -> str:
    return f"{PREFIX}:lock:{portal_id}"


def state_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:state"


def closed_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:closed"


def done_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:done"


def attachments_key(portal_id: str) -> str:
    return f"{PREFIX}:attachments:{portal_id}"


def attachment_order_key(portal_id: str) -> str:
    return f"{PREFIX}:attachment-order:{portal_id}"


def crawl_key(portal_id: str) -> str:
    """scrapy-redis's keys of a portal's crawl (``%(spider)s`` is the portal id)."""
    return f"{PREFIX}:crawl:{portal_id}"


class MessageError(ValueError):
    """A stream entry or job this version cannot read."""


@dataclass(frozen=True)
class Job:
    """One crawl of one portal, as the scheduler queues it."""

    id: str
    portal: str
    settings: dict[str, str] = field(default_factory=dict)  # Scrapy settings of this crawl (time limit, backfill)
    time_limit: float = 3600.0  # wall-clock limit, enforced by the worker
    full: bool = False
    enqueued_at: str = ""

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, data: str | bytes) -> Job:
        try:
            raw = json.loads(data)
            job = cls(id=str(raw["id"]), portal=str(raw["portal"]),
                      settings={str(k): str(v) for k, v in dict(raw.get("settings") or {}).items()},
                      time_limit=float(raw.get("time_limit", 3600.0)), full=bool(raw.get("full", False)),
                      enqueued_at=str(raw.get("enqueued_at", "")))  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MessageError(f"not a crawl job: {exc}") from None
        if not job.id or not job.portal:
            raise MessageError("not a crawl job: no id or no portal")
        return job


# --- records --------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"not JSON serialisable: {value!r}")


_FETCH_STATE = frozenset(f.name for f in dataclasses.fields(FetchedAttachment)) - {
    f.name for f in dataclasses.fields(Attachment)}  # fmt: skip


def _attachment(data: Mapping[str, Any]) -> Attachment:
    """An attachment as the spider made it: with its fetch state (``FetchedAttachment``) when it carries one."""
    if _FETCH_STATE & set(data):
        return FetchedAttachment(**data)
    return Attachment(**data)


def record_to_dict(rec: DocumentRecord) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(_plain(rec), ensure_ascii=False, default=_plain))
    return result


def record_from_dict(data: Mapping[str, Any]) -> DocumentRecord:
    """The record ``record_to_dict`` made (equal to the original, nested dataclasses and tuples included)."""
    fields = dict(data)
    try:
        if fields.get("meeting") is not None:
            fields["meeting"] = Meeting(**fields["meeting"])
        fields["attachments"] = [_attachment(a) for a in fields.get("attachments") or []]
        fields["outline"] = [(int(level), str(text)) for level, text in fields.get("outline") or []]
        return DocumentRecord(**fields)
    except (TypeError, ValueError) as exc:
        raise MessageError(f"not a document record: {exc}") from None


def pack_attachments(stored: list[dict[str, Any]]) -> bytes:
    """A page's stored attachments as a value of ``yibao:attachments:<portal>`` (zlib'd JSON: they carry text)."""
    return zlib.compress(json.dumps(stored, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def unpack_attachments(blob: bytes) -> list[dict[str, Any]]:
    try:
        stored = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError):
        return []  # a cache: an unreadable entry is as good as none (the attachments are fetched again)
    return [a for a in stored if isinstance(a, dict)] if isinstance(stored, list) else []


# --- stream entries -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    kind: str  # open | doc | touch | close
    job: str
    data: dict[str, Any]


def encode(kind: str, job: str, data: Mapping[str, Any]) -> dict[str, bytes]:
    """The fields of a stream entry."""
    if kind not in KINDS:
        raise MessageError(f"unknown message kind {kind!r}")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    return {"v": FORMAT.encode(), "kind": kind.encode(), "job": job.encode(), "data": zlib.compress(payload, 1)}


def decode(fields: Mapping[Any, Any]) -> Message:
    """A stream entry's message; ``MessageError`` for one this version cannot read."""
    values = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}

    def text(name: str) -> str:
        value = values.get(name)
        if value is None:
            raise MessageError(f"stream entry without {name!r}")
        return value.decode() if isinstance(value, bytes) else value

    if text("v") != FORMAT:
        raise MessageError(f"message format {text('v')!r}, this writer reads {FORMAT!r}")
    kind = text("kind")
    if kind not in KINDS:
        raise MessageError(f"unknown message kind {kind!r}")
    raw = values.get("data")
    try:
        data = json.loads(zlib.decompress(raw if isinstance(raw, bytes) else str(raw).encode("latin-1")))
    except (zlib.error, ValueError, TypeError) as exc:
        raise MessageError(f"unreadable {kind} message: {exc}") from None
    if not isinstance(data, dict):
        raise MessageError(f"unreadable {kind} message: not an object")
    return Message(kind, text("job"), data)


def doc_message(url: str, rec: DocumentRecord, *, column: str | None, etag: str | None,
                last_modified: str | None) -> dict[str, Any]:  # fmt: skip
    return {"url": url, "column": column, "etag": etag, "last_modified": last_modified,
            "record": record_to_dict(rec)}  # fmt: skip


# --- the crawl state a worker starts from ---------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlSnapshot:
    """``spiders.state.CrawlState``'s inputs, read from the archive on its host: the portal's known postings
    (validators for conditional GETs, revisit dates) and its run history."""

    known: dict[str, KnownPosting]
    history: RunHistory

    def dumps(self) -> bytes:
        data = {"known": [dataclasses.astuple(p) for p in self.known.values()],
                "history": [self.history.last_started_at, self.history.interrupted]}  # fmt: skip
        return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)

    @classmethod
    def loads(cls, blob: bytes) -> CrawlSnapshot:
        try:
            data = json.loads(zlib.decompress(blob))
            known = {row[0]: KnownPosting(*row) for row in data["known"]}
            last, interrupted = data["history"]
        except (zlib.error, ValueError, KeyError, TypeError) as exc:
            raise MessageError(f"unreadable crawl state: {exc}") from None
        return cls(known, RunHistory(last, interrupted=bool(interrupted)))
