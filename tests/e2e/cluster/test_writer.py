"""The writer against a real Redis, in this process: a crash after the archive committed and before the stream
was acknowledged delivers the entries again, and storing them again changes nothing (no event twice, no outbox
row twice or lost); a crash before the commit loses nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import redis

from core.records import Attachment, DocumentRecord
from crawler.cluster import messages
from crawler.registry import load_registry
from ops.cluster_writer import Writer
from replicas.server import ReplicaServer
from tests.e2e.cluster.conftest import HOOK_SECRET, PORTALS, RedisServer, config_text, contents, runs

PORTAL = PORTALS[0]


class Crash(RuntimeError):
    pass


def record(n: int, base: str) -> DocumentRecord:
    return DocumentRecord(url=f"{base}/zwgk/zcwj/{n}.html", portal_id=PORTAL, title=f"关于第{n}号文件的通知",
                          kind="policy", doc_no=f"厦医保〔2025〕{n}号", published_on="2025-03-01",
                          body_text=f"第{n}号文件正文。" * 20,
                          attachments=[Attachment(f"附件{n}", f"{base}/files/{n}.pdf", "ab" * 32, 10, "附件文字")])  # fmt: skip


def publish(client: redis.Redis, base: str, job: str = "job-1") -> None:
    """One run of three documents and a 304 of the first, as a worker sends it."""
    client.xadd(messages.STREAM, messages.encode(messages.OPEN, job, {"portal": PORTAL, "started_at": "2026-01-05T08:00:00+00:00"}))  # type: ignore[arg-type]
    for n in (1, 2, 3):
        rec = record(n, base)
        client.xadd(messages.STREAM, messages.encode(messages.DOC, job, messages.doc_message(  # type: ignore[arg-type]
            rec.url, rec, column="政策文件", etag=f'"e{n}"', last_modified=None)))
    client.xadd(messages.STREAM, messages.encode(messages.TOUCH, job, {"url": record(1, base).url}))  # type: ignore[arg-type]
    stats = {"downloader/response_count": 5, "yibao/list_pages": 1, "yibao/listed": 3, "yibao/documents": 3,
             "finish_reason": "finished"}  # fmt: skip
    client.xadd(messages.STREAM, messages.encode(messages.CLOSE, job, {  # type: ignore[arg-type]
        "portal": PORTAL, "reason": "finished", "stats": stats, "listed": [record(n, base).url for n in (1, 2, 3)],
        "gone": []}))  # fmt: skip
    client.set(messages.lock_key(PORTAL), job)


@pytest.fixture
def setup(world: ReplicaServer, fresh_redis: RedisServer, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path, str]:  # fmt: skip
    monkeypatch.setenv("YIBAO_HOOK_SECRET", HOOK_SECRET)
    path = tmp_path / "yibao.toml"
    path.write_text(config_text(world, tmp_path, fresh_redis.url, {}), encoding="utf-8")
    return load_registry(path), tmp_path / "archive.db", world.urls[PORTAL]


def drain(config: Any, db: Path, client: redis.Redis) -> Writer:
    writer = Writer(client, db, config, block_ms=100)
    try:
        writer.run(threading.Event(), until_idle=True)
    finally:
        writer.close()
    return writer


def test_a_crash_between_commit_and_ack_stores_nothing_twice(setup: tuple[Any, Path, str],
                                                             fresh_redis: RedisServer) -> None:  # fmt: skip
    config, db, base = setup
    client = fresh_redis.client
    publish(client, base)
    first = Writer(client, db, config, block_ms=100)
    first.client = _failing(client, "xack")  # the commit is done, the acknowledgement never comes
    first.prepare()
    with pytest.raises(Crash):
        first.step()
    first.close()
    assert client.xlen(messages.STREAM) == 6
    pending = client.xpending(messages.STREAM, messages.GROUP)
    assert pending["pending"] == 6  # read, stored, not acknowledged
    stored_once = contents(db)
    assert stored_once["events"] == {"new": 3}
    drain(config, db, client)  # the next writer reads them again
    assert contents(db) == stored_once  # nothing twice: events, versions, outbox rows
    assert runs(db) == [(PORTAL, "ok", "finished")]
    assert client.xlen(messages.STREAM) == 0
    assert not client.exists(messages.lock_key(PORTAL))  # the portal is free for its next run
    stored = messages.unpack_attachments(client.hget(messages.attachments_key(PORTAL), record(1, base).url))
    assert [a["url"] for a in stored] == [f"{base}/files/1.pdf"]  # for the next crawl's workers
    assert stored[0]["text"] == "附件文字"


def test_a_crash_before_the_commit_loses_nothing(setup: tuple[Any, Path, str], fresh_redis: RedisServer) -> None:
    config, db, base = setup
    client = fresh_redis.client
    publish(client, base)
    first = Writer(client, db, config, block_ms=100)
    first.prepare()
    import ops.cluster_writer as module

    original = module.record_batch

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise Crash("killed before the commit")

    module.record_batch = crash  # type: ignore[assignment]
    try:
        with pytest.raises(Crash):
            first.step()
    finally:
        module.record_batch = original
        first.close()
    assert contents(db)["events"] == {}
    drain(config, db, client)
    assert contents(db)["events"] == {"new": 3}
    assert contents(db)["outbox"] == {"new": 3}
    assert runs(db) == [(PORTAL, "ok", "finished")]


def _failing(client: redis.Redis, name: str) -> Any:
    """``client`` whose method ``name`` raises ``Crash``."""

    class Failing:
        def __getattr__(self, attr: str) -> Any:
            if attr == name:
                def fail(*args: Any, **kwargs: Any) -> Any:
                    raise Crash(f"killed before {name}")

                return fail
            return getattr(client, attr)

    return Failing()


def test_enqueue_takes_the_portals_lock_once_and_queues_what_a_local_crawl_would_get(
    setup: tuple[Any, Path, str], fresh_redis: RedisServer
) -> None:
    from ops.cluster_writer import busy_portals, enqueue

    config, db, _ = setup
    client = fresh_redis.client
    portal = config.get(PORTAL)
    job_id = enqueue(client, db, portal, time_limit=600)
    assert job_id
    assert enqueue(client, db, portal, time_limit=600) is None  # busy: queued already
    assert busy_portals(client, [PORTAL, PORTALS[1]]) == {PORTAL}
    (raw,) = client.lrange(messages.JOBS, 0, -1)
    job = messages.Job.loads(raw)
    assert (job.id, job.portal, job.time_limit) == (job_id, PORTAL, 600)
    assert job.settings["CLOSESPIDER_TIMEOUT"] == "480"  # ops.jobs.soft_time_limit: 600 s less the closing margin
    assert job.settings["YIBAO_REVISIT_BUDGET"] == "0"  # the portal's baseline is pending: backfill settings
    snapshot = messages.CrawlSnapshot.loads(client.get(messages.state_key(job_id)))
    assert snapshot.known == {}
    assert snapshot.history.last_started_at is None


def test_a_job_a_worker_cannot_start_is_a_failed_run_naming_why(setup: tuple[Any, Path, str],
                                                                 fresh_redis: RedisServer) -> None:  # fmt: skip
    from crawler.cluster.worker import Worker

    config, db, _ = setup
    client = fresh_redis.client
    stray = messages.Job(id="stray", portal=PORTAL)  # queued without its crawl state (expired, say)
    client.lpush(messages.JOBS, "not a job")  # taken first (BRPOP): dropped with a log line
    client.lpush(messages.JOBS, stray.dumps())
    worker = Worker(client, fresh_redis.url, config, None)
    assert worker.run(threading.Event(), max_jobs=1) == 1
    assert not worker.running  # no crawl was started
    assert client.llen(messages.JOBS) == 0
    drain(config, db, client)
    assert runs(db) == [(PORTAL, "failed", "no crawl state for the job (expired before a worker took it)")]
    assert not client.exists(messages.lock_key(PORTAL))


def test_a_run_redis_forgot_is_closed_when_the_writer_starts(setup: tuple[Any, Path, str],
                                                             fresh_redis: RedisServer) -> None:  # fmt: skip
    from crawler.run_owner import claim

    config, db, base = setup
    client = fresh_redis.client
    publish(client, base)
    *_, touch, close = client.xrange(messages.STREAM)
    client.xdel(messages.STREAM, touch[0], close[0])  # the run's open and pages are stored, its close never comes
    first = Writer(client, db, config, block_ms=100)
    first.prepare()
    first.step()
    run_id = first.runs["job-1"].run_id
    first.close()
    claim(db, run_id, pid=4_194_305)  # its writer died (no such pid)...
    client.flushall()  # ...and Redis came back without its data
    drain(config, db, client)
    assert runs(db) == [(PORTAL, "failed", "interrupted")]


def test_a_run_closed_as_interrupted_too_early_takes_its_real_close(setup: tuple[Any, Path, str],
                                                                     fresh_redis: RedisServer) -> None:  # fmt: skip
    """A worker starved of CPU past --lock-ttl: its run is closed as interrupted while the crawl still runs; the
    crawl's own close, arriving later, is the run's record."""
    config, db, base = setup
    client = fresh_redis.client
    publish(client, base)
    *_, close = client.xrange(messages.STREAM)
    client.xdel(messages.STREAM, close[0])  # the close comes later
    writer = Writer(client, db, config, block_ms=100)
    writer.prepare()
    writer.step()
    client.delete(messages.lock_key(PORTAL))  # the lock expired
    assert writer.step() == 0  # the stream is drained: the run is closed as interrupted
    assert runs(db) == [(PORTAL, "failed", "interrupted")]
    client.xadd(messages.STREAM, close[1])
    writer.step()
    writer.close()
    assert runs(db) == [(PORTAL, "ok", "finished")]
    assert contents(db)["events"] == {"new": 3}


# --- the attachment cache -------------------------------------------------------------------------------------


def send_run(client: redis.Redis, job: str, records: list[DocumentRecord], gone: tuple[str, ...] = ()) -> None:
    """A run of these documents, closed with these gone URLs, as a worker sends it."""
    client.xadd(messages.STREAM, messages.encode(messages.OPEN, job, {"portal": PORTAL}))  # type: ignore[arg-type]
    for rec in records:
        client.xadd(messages.STREAM, messages.encode(messages.DOC, job, messages.doc_message(  # type: ignore[arg-type]
            rec.url, rec, column="政策文件", etag=None, last_modified=None)))
    client.xadd(messages.STREAM, messages.encode(messages.CLOSE, job, {  # type: ignore[arg-type]
        "portal": PORTAL, "reason": "finished", "stats": {"yibao/listed": len(records)}, "listed": [],
        "gone": list(gone)}))  # fmt: skip
    client.set(messages.lock_key(PORTAL), job)


def cached(client: redis.Redis) -> dict[str, list[str]]:
    """URL -> the attachment URLs of its cache entry; the order set holds the same URLs."""
    entries = {url.decode(): [a["url"] for a in messages.unpack_attachments(blob)]
               for url, blob in client.hgetall(messages.attachments_key(PORTAL)).items()}  # fmt: skip
    assert {url.decode() for url in client.zrange(messages.attachment_order_key(PORTAL), 0, -1)} == set(entries)
    return entries


def test_the_attachment_cache_is_bounded(setup: tuple[Any, Path, str], fresh_redis: RedisServer) -> None:
    """Per portal: at most the cap (the most recently published kept), an entry dropped when its page is stored
    without attachments or reported gone, the keys expiring a while after the portal's last run."""
    from dataclasses import replace

    config, db, base = setup
    client = fresh_redis.client
    docs = [replace(record(n, base), published_on=f"2025-0{n}-01") for n in range(1, 6)]
    send_run(client, "job-a", docs)
    writer = Writer(client, db, config, block_ms=100, attachments_per_portal=3, attachments_ttl=3600)
    try:
        writer.run(threading.Event(), until_idle=True)
        assert sorted(cached(client)) == sorted(d.url for d in docs[2:])  # the three published last
        assert cached(client)[docs[4].url] == [f"{base}/files/5.pdf"]
        for key in (messages.attachments_key(PORTAL), messages.attachment_order_key(PORTAL)):
            assert 3500 < client.ttl(key) <= 3600

        # the next run: no. 5 stored without its attachment, an undated no. 6 (counts as published today), no. 1
        # edited (published first: it stays out, the cap is reached), no. 4 gone (404, said at the run's close)
        client.expire(messages.attachments_key(PORTAL), 60)
        again = [replace(docs[4], attachments=[]), replace(record(6, base), published_on=None),
                 replace(docs[0], body_text="修订后的正文。" * 20)]  # fmt: skip
        send_run(client, "job-b", again, gone=(docs[3].url,))
        writer.run(threading.Event(), until_idle=True)
        assert sorted(cached(client)) == sorted([docs[2].url, again[1].url])
        # no. 3 stored twice in one batch, the second time without its attachment: the last store counts
        send_run(client, "job-c", [docs[2], replace(docs[2], attachments=[])])
        writer.run(threading.Event(), until_idle=True)
        assert sorted(cached(client)) == [again[1].url]
        assert client.ttl(messages.attachments_key(PORTAL)) > 3500  # renewed by the run
    finally:
        writer.close()

    # entries an older writer left (no order, no expiry): given the lowest order when the next writer starts,
    # trimmed to its cap (ties of order go in URL order), the expiry set
    client.delete(messages.attachment_order_key(PORTAL))
    client.persist(messages.attachments_key(PORTAL))
    client.hset(messages.attachments_key(PORTAL), "https://old.example/page.html", messages.pack_attachments([]))
    later = Writer(client, db, config, block_ms=100, attachments_per_portal=1, attachments_ttl=3600)
    try:
        later.prepare()
    finally:
        later.close()
    assert sorted(cached(client)) == ["https://old.example/page.html"]
    assert client.zscore(messages.attachment_order_key(PORTAL), "https://old.example/page.html") == 0
    assert 3500 < client.ttl(messages.attachments_key(PORTAL)) <= 3600
