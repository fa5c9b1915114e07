"""What crosses Redis, (de)serialised in process: records (nested dataclasses, attachments with their fetch
state, outline tuples) come back equal with the same identity hash; jobs, stream entries and crawl-state
snapshots round-trip; what this version cannot read is a ``MessageError``, never a crash or a wrong value."""

from __future__ import annotations

import zlib

import pytest

from core import identity
from core.records import Attachment, DocumentRecord, Meeting
from crawler.cluster import messages
from crawler.cluster.messages import CrawlSnapshot, Job, MessageError
from spiders.attachments import FetchedAttachment
from storage.crawl_state import KnownPosting, RunHistory


def full_record() -> DocumentRecord:
    return DocumentRecord(
        url="http://ybj.example.gov.cn/zwgk/jytabl/2025/0105.html", portal_id="fujian_xiamen",
        title="关于市十六届人大五次会议第0105号建议的答复", kind="suggestion_reply", bureau="厦门市医疗保障局",
        region_code="350200", title_tag="建议提案", index_no="350200-0105", doc_no="厦医保〔2025〕5号",
        doc_no_raw="厦医保〔2025〕05号", meeting=Meeting("city", "npc", 16, 5, standing=False, text="市十六届人大五次会议"),
        proposal_no="0105", deputies=["张三", "李四"], proposal_title="关于门诊共济的建议", reply_class="A",
        adoption=["采纳", "部分采纳"], generated_on="2025-05-01", published_on="2025-05-06", signed_on=None,
        validity="有效", contacts={"signer": "王五", "phone": "0592-0000000"}, public_marker="主动公开",
        body_text="张三代表：\n您提出的关于门诊共济的建议收悉。", outline=[(1, "一、总体情况"), (2, "（一）进展")],
        attachments=[Attachment("附件1", "http://ybj.example.gov.cn/a.pdf", "0" * 64, 1024, "附件正文"),
                     FetchedAttachment("附件2", "http://ybj.example.gov.cn/b.pdf", None, None, None, missing=True,
                                       etag='"x"', last_modified="Tue, 01 Jul 2025 00:00:00 GMT")],
        theme="医疗保障",
    )  # fmt: skip


def test_a_record_comes_back_equal_with_its_identity() -> None:
    rec = full_record()
    back = messages.record_from_dict(messages.record_to_dict(rec))
    assert back == rec
    assert type(back.attachments[0]) is Attachment
    assert type(back.attachments[1]) is FetchedAttachment
    assert back.outline == [(1, "一、总体情况"), (2, "（一）进展")]
    assert identity.comparison_hash(back) == identity.comparison_hash(rec)
    assert identity.identity_keys(back) == identity.identity_keys(rec)
    minimal = DocumentRecord(url="http://x.example/1.html", portal_id="p", title="t", kind="notice")
    assert messages.record_from_dict(messages.record_to_dict(minimal)) == minimal


def test_a_document_travels_through_a_stream_entry() -> None:
    rec = full_record()
    fields = messages.encode(messages.DOC, "job-1", messages.doc_message(rec.url, rec, column="建议提案办理",
                                                                          etag='"abc"', last_modified=None))  # fmt: skip
    msg = messages.decode({k.encode(): v for k, v in fields.items()})  # Redis hands back bytes keys
    assert (msg.kind, msg.job) == ("doc", "job-1")
    assert msg.data["etag"] == '"abc"'
    assert msg.data["column"] == "建议提案办理"
    assert messages.record_from_dict(msg.data["record"]) == rec
    assert len(fields["data"]) < len(rec.body_text.encode()) + 2000  # compressed JSON


def test_a_close_with_scrapy_stats_is_plain_json() -> None:
    from datetime import UTC, datetime

    stats = {"start_time": datetime(2026, 1, 5, tzinfo=UTC), "yibao/coverage": {"title": 1.0}, "n": 3}
    msg = messages.decode(messages.encode(messages.CLOSE, "j", {"reason": "finished", "stats": stats}))
    assert msg.data["stats"] == {"start_time": "2026-01-05 00:00:00+00:00", "yibao/coverage": {"title": 1.0}, "n": 3}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param({"v": b"9", "kind": b"doc", "job": b"j", "data": zlib.compress(b"{}")}, "format '9'", id="version"),
        pytest.param({"v": b"1", "kind": b"drop", "job": b"j", "data": zlib.compress(b"{}")}, "unknown message kind",
                     id="kind"),
        pytest.param({"v": b"1", "kind": b"doc", "job": b"j", "data": b"not zlib"}, "unreadable doc", id="corrupt"),
        pytest.param({"v": b"1", "kind": b"doc", "job": b"j", "data": zlib.compress(b"[1]")}, "not an object",
                     id="not-an-object"),
        pytest.param({"v": b"1", "kind": b"doc", "data": zlib.compress(b"{}")}, "without 'job'", id="no-job"),
    ],
)  # fmt: skip
def test_what_this_version_cannot_read_is_a_message_error(fields: dict[str, bytes], problem: str) -> None:
    with pytest.raises(MessageError, match=problem):
        messages.decode(fields)


def test_a_record_of_another_shape_is_a_message_error() -> None:
    data = messages.record_to_dict(full_record())
    data["colour"] = "red"
    with pytest.raises(MessageError, match="not a document record"):
        messages.record_from_dict(data)
    with pytest.raises(MessageError, match="unknown message kind"):
        messages.encode("drop", "j", {})


def test_jobs_round_trip_and_bad_ones_are_refused() -> None:
    job = Job(id="abc", portal="sichuan", settings={"CLOSESPIDER_TIMEOUT": "3480", "YIBAO_LOOKBACK_PAGES": "500"},
              time_limit=3600.0, full=True, enqueued_at="2026-01-05T00:00:00+00:00")  # fmt: skip
    assert Job.loads(job.dumps()) == job
    assert Job.loads(job.dumps().encode()) == job
    for bad in ("not json", "[]", '{"id": "x"}', '{"id": "", "portal": "p"}', '{"id": "x", "portal": "p", '
                '"time_limit": "soon"}'):  # fmt: skip
        with pytest.raises(MessageError, match="crawl job"):
            Job.loads(bad)


def test_a_crawl_state_snapshot_round_trips() -> None:
    known = {
        "http://a.example/1.html": KnownPosting("http://a.example/1.html", "政策文件", '"e1"', None,
                                                "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "active"),
        "http://a.example/2.html": KnownPosting("http://a.example/2.html", None, None,
                                                "Tue, 01 Jul 2025 00:00:00 GMT", "2026-01-01T00:00:00Z", None, "gone"),
    }  # fmt: skip
    snap = CrawlSnapshot(known, RunHistory("2026-01-02T00:00:00Z", interrupted=True))
    assert CrawlSnapshot.loads(snap.dumps()) == snap
    empty = CrawlSnapshot({}, RunHistory(None, interrupted=False))
    assert CrawlSnapshot.loads(empty.dumps()) == empty
    with pytest.raises(MessageError, match="crawl state"):
        CrawlSnapshot.loads(b"garbage")


def test_keys_name_the_portal_and_the_job() -> None:
    assert messages.lock_key("sichuan") == "yibao:lock:sichuan"
    assert messages.state_key("j1") == "yibao:job:j1:state"
    assert messages.attachments_key("nhsa") == "yibao:attachments:nhsa"


def test_stored_attachments_are_packed_and_a_bad_entry_is_no_entry() -> None:
    stored = [{"name": "附件1", "url": "http://a.example/1.pdf", "sha256": "0" * 64, "text": "正文" * 500}]
    blob = messages.pack_attachments(stored)
    assert messages.unpack_attachments(blob) == stored
    assert len(blob) < len(str(stored).encode())
    assert messages.unpack_attachments(b"not zlib") == []
    assert messages.unpack_attachments(zlib.compress(b'{"a": 1}')) == []
