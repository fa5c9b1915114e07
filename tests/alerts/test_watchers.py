"""Watcher config validation, filters and the routing of events into the outbox (same transaction)."""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.routing import document_view, make_router
from alerts.watchers import OPS_EVENT_KINDS, load_alerts, load_watchers, query_matches
from crawler.registry import ConfigError
from storage.archive import record
from storage.db import open_db
from storage.events import Event
from storage.outbox import list_deliveries
from storage.runs import start_run
from storage.search import search_ids
from tests.storage.factories import LATER, NOW, notice, policy, reply

SMTP = '[smtp]\nhost = "127.0.0.1"\nport = 2525\nsender = "Watch <w@example.org>"\n'
LOCAL_HOOKS = "[alerts]\nallow_loopback = true\n"  # the webhook URLs below point at this machine


def config(watcher: str, extra: str = SMTP) -> dict[str, Any]:
    return tomllib.loads(extra + "\n[[watchers]]\n" + watcher)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('name = "w1"\nemail = ["a@example.org"]\ncolour = "red"', "colour"),
        ('name = "w1"\nemail = ["a@example.org"]\nmode = "hourly"', "mode"),
        ('name = "w1"\nemail = ["a@example.org"]\nmode = "digest"', "digest_cron"),
        ('name = "w1"\nemail = ["a@example.org"]\nmode = "digest"\ndigest_cron = "0 25 * * *"', "digest_cron"),
        ('name = "w1"\nemail = ["a@example.org"]\nmode = "digest"\ndigest_cron = "0 8 * *"', "digest_cron"),
        ('name = "w1"\nemail = ["a@example.org"]\nmode = "digest"\ndigest_cron = "0 0 31 2 *"', "digest_cron"),
        ('name = "w1"\nemail = ["a@example.org"]\ndigest_cron = "0 8 * * *"', "digest_cron"),
        ('name = "w1"\nemail = ["a@example.org"]\nevents = ["new", "deleted"]', "events"),
        ('name = "w1"\nemail = ["a@example.org"]\nevents = []', "events"),
        ('name = "w1"\nemail = ["not-an-address"]', "email"),
        ('name = "w1"\nemail = ["a@example.org, b@example.org"]', "email"),
        ('name = "w1"\nwebhook = { secret_env = "S" }', "webhook.url"),
        ('name = "w1"\nwebhook = { url = "ftp://x/hook", secret_env = "S" }', "webhook.url"),
        ('name = "w1"\nwebhook = { url = "http://x/hook" }', "webhook.secret_env"),
        ('name = "w1"\nwebhook = { url = "http://x/hook", secret_env = "" }', "webhook.secret_env"),
        ('name = "w1"\nwebhook = { url = "http://x/hook", secret_env = "S", retries = 3 }', "webhook.retries"),
        ('name = "w1"\nwebhook = "http://x/hook"', "webhook"),
        ('name = "w1"\napprise = ["nosuchservice://token"]', "apprise"),
        ('name = "w1"\napprise = ["env:1BAD"]', "apprise"),
        ('name = "w1"\nkinds = ["memo"]\nemail = ["a@example.org"]', "kinds"),
        ('name = "w1"\nclasses = ["E"]\nemail = ["a@example.org"]', "classes"),
        ('name = "w1"\nregions = ["35"]\nemail = ["a@example.org"]', "regions"),
        ('name = "w1"\nquery = "-医保"\nemail = ["a@example.org"]', "query"),
        ('name = "w1"\nkeywords = "DIP"\nportals = []\nemail = ["a@example.org"]', "portals"),
        ('name = "w1"\nops = "yes"\nemail = ["a@example.org"]', "ops"),
        ('name = "w1"\nportals = ["fujian_xiamen"]', "email"),  # no channel at all
        ('name = "has space"\nemail = ["a@example.org"]', "name"),
    ],
)
def test_bad_watcher_config_names_watcher_and_field(body: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_watchers(config(body))
    message = str(info.value)
    assert f"field '{field}'" in message, message
    assert "watcher" in message
    if 'name = "w1"' in body:
        assert "watcher 'w1'" in message, message


def test_other_sections_are_validated_too() -> None:
    cases = [
        ('[smtp]\nhost = "h"\nsecurity = "tls"\n', "[smtp]", "security"),
        ('[smtp]\nhost = "h"\nusername_env = "U"\n', "[smtp]", "password_env"),
        ('[smtp]\nhost = "h"\nsender = "nobody"\n', "[smtp]", "sender"),
        ('[alerts]\nmax_attempts = 0\n', "[alerts]", "max_attempts"),
        ('[alerts]\ntimezone = "Mars/Olympus"\n', "[alerts]", "timezone"),
        ('[alerts]\narchive_url = "https://a/{doc}"\n', "[alerts]", "archive_url"),
        ('[alerts]\nretries = 3\n', "[alerts]", "retries"),
        ('[alerts]\nlease_seconds = 10\ntimeout = 30\n', "[alerts]", "lease_seconds"),
    ]
    for text, where, field in cases:
        with pytest.raises(ConfigError) as info:
            load_alerts(tomllib.loads(text))
        assert where in str(info.value)
        assert f"field '{field}'" in str(info.value)
    with pytest.raises(ConfigError, match=r"watcher 'w1': field 'email' needs an \[smtp\] section"):
        load_watchers(config('name = "w1"\nemail = ["a@example.org"]', extra=""))
    with pytest.raises(ConfigError, match="watcher 'w1': field 'name' is duplicated"):
        load_watchers(tomllib.loads(SMTP + '[[watchers]]\nname = "w1"\nemail = ["a@example.org"]\n' * 2))


def test_good_config_keeps_the_issue_shape() -> None:
    raw = tomllib.loads(
        SMTP
        + LOCAL_HOOKS
        + """
[[watchers]]
name = "fujian-dip"
portals = ["fujian_quanzhou"]
events = ["new", "edited", "validity_changed", "withdrawn"]
keywords = ["DIP", "按病种分值"]
mode = "digest"
digest_cron = "0 8 * * 1-5"
email = ["张三 <watcher@example.org>"]
webhook = { url = "http://127.0.0.1:9000/hook", secret_env = "YIBAO_HOOK_SECRET" }
apprise = ["dingtalk://secret@token/", "env:YIBAO_WECOM_URL"]

[[watchers]]
name = "ops"
ops = true
webhook = { url = "http://127.0.0.1:9000/ops", secret_env = "YIBAO_HOOK_SECRET" }
"""
    )
    fujian, ops = load_watchers(raw)
    assert fujian.mode == "digest"
    assert fujian.digest_cron == "0 8 * * 1-5"
    assert fujian.keywords == ("DIP", "按病种分值")
    assert [c for c, _ in fujian.targets()] == ["email", "webhook", "apprise", "apprise"]
    assert all("token" not in t and "secret" not in t for _, t in fujian.targets())  # no secrets in the outbox
    assert fujian.targets()[-1] == ("apprise", "env:YIBAO_WECOM_URL")
    assert fujian.apprise_url(fujian.targets()[2][1]) == "dingtalk://secret@token/"
    assert ops.events == OPS_EVENT_KINDS
    # digests follow cron's day numbering (1-5 = Monday-Friday) in Asia/Shanghai
    friday_evening = datetime(2025, 8, 22, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    assert fujian.next_digest_at(friday_evening).isoformat() == "2025-08-25T08:00:00+08:00"  # Monday


def _event(kind: str = "new", portal: str | None = "fujian_ningde", document_id: int | None = 1) -> Event:
    return Event(1, kind, document_id, 1, None, (), "", NOW, None, portal, None)


def test_filters() -> None:
    doc = {"title": "关于调整按病种分值付费（ＤＩＰ）的通知", "kind": "policy", "region_code": "350902",
           "doc_no": "宁医保〔2025〕116号", "reply_class": None, "body_text": "正文提到门诊共济。",
           "portals": ("fujian_ningde",)}

    def watcher(body: str) -> Any:
        return load_watchers(config(f'name = "w"\nemail = ["a@example.org"]\n{body}'))[0]

    assert watcher("").matches(_event(), doc)
    assert watcher('keywords = ["dip"]').matches(_event(), doc)  # width folded, case-insensitive
    assert watcher('keywords = ["门诊共济"]').matches(_event(), doc)  # body
    assert watcher('keywords = ["116号"]').matches(_event(), doc)  # 文号
    assert not watcher('keywords = ["集采"]').matches(_event(), doc)
    assert watcher('portals = ["fujian_xiamen", "fujian_ningde"]').matches(_event(), doc)
    assert not watcher('portals = ["nhsa"]').matches(_event(), doc)
    assert watcher('portals = ["nhsa"]').matches(_event(portal="nhsa"), doc)  # the event's portal counts too
    assert watcher('regions = ["350000"]').matches(_event(), doc)  # province prefix
    assert watcher('regions = ["350900"]').matches(_event(), doc)  # city prefix
    assert not watcher('regions = ["350500"]').matches(_event(), doc)
    assert watcher('kinds = ["policy", "notice"]').matches(_event(), doc)
    assert not watcher('kinds = ["suggestion_reply"]').matches(_event(), doc)
    assert not watcher('classes = ["A"]').matches(_event(), doc)
    assert watcher('classes = ["甲"]').matches(_event(), {**doc, "reply_class": "A"})
    assert not watcher('events = ["edited"]').matches(_event(), doc)
    assert watcher('query = "DIP 116号"').matches(_event(), doc)
    assert not watcher('query = "DIP -门诊"').matches(_event(), doc)
    assert not watcher('enabled = false').matches(_event(), doc)
    # operational events go to ops watchers only, by kind
    assert not watcher("").matches(_event("portal_broken", document_id=None), None)
    assert watcher("ops = true").matches(_event("portal_broken", document_id=None), None)
    assert watcher('ops = true\nportals = ["fujian_ningde"]').matches(_event("delivery_dead", None, None), None)
    assert not watcher("ops = true").matches(_event(), doc)  # an ops watcher without events: ops only
    assert watcher('ops = true\nevents = ["new"]').matches(_event(), doc)


QUERIES = [
    "DIP", "dip", "ＤＩＰ", "DIPX", "分值", "分值付费", "病种 -建议", "医保局 OR 张三", '"基准等级系数"', "门诊 AND 共济",
    "116号", "16号", "宁医保〔2025〕116号", "局", "答复 (张三 OR 王五)", "集采", "2025年度", "5年", "通知 -DIP",
]  # fmt: skip


def test_query_matches_like_the_search_index(tmp_path) -> None:
    """``query`` is evaluated in Python exactly as ``storage.search`` answers it from the FTS index."""
    db = open_db(tmp_path / "a.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    records = [
        policy(),
        reply(),
        notice("https://x.example/n1", "关于开展医保政策宣传月活动的通知全文，集采药品进医院。" * 3),
        policy("https://x.example/p2", title="DIPX 试点方案", doc_no="宁医保〔2025〕16号", index_no="i2",
               body_text="第二个文件。"),
    ]
    for rec in records:
        record(db, rec, run_id=run, now=NOW)
    ids = [row[0] for row in db.execute("SELECT id FROM documents ORDER BY id")]
    for query in QUERIES:
        expected = search_ids(db, query)
        got = set()
        for doc_id in ids:
            doc = document_view(db, doc_id)
            if query_matches(query, [doc["title"], doc["doc_no"] or "", doc["body_text"]]):
                got.add(doc_id)
        assert got == expected, query


def test_routing_writes_rows_in_the_event_transaction(tmp_path) -> None:
    raw = config('name = "all"\nemail = ["a@example.org", "b@example.org"]\n'
                 'webhook = { url = "http://127.0.0.1:9/h", secret_env = "S" }\n'
                 '[[watchers]]\nname = "replies"\nkinds = ["suggestion_reply"]\nemail = ["c@example.org"]\n'
                 '[[watchers]]\nname = "daily"\nmode = "digest"\ndigest_cron = "0 8 * * *"\nemail = ["d@example.org"]\n',
                 extra=SMTP + LOCAL_HOOKS)
    router = make_router(load_watchers(raw))
    db = open_db(tmp_path / "a.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    record(db, policy(), run_id=run, now=NOW, on_event=router)
    rows = list_deliveries(db)
    assert sorted((r.watcher, r.channel, r.target) for r in rows) == [
        ("all", "email", "a@example.org"), ("all", "email", "b@example.org"),
        ("all", "webhook", "http://127.0.0.1:9/h"), ("daily", "email", "d@example.org"),
    ]  # fmt: skip
    assert len({r.idempotency_key for r in rows}) == 4
    digest = next(r for r in rows if r.watcher == "daily")
    assert digest.mode == "digest"
    assert digest.next_attempt_at == "2025-08-19T00:00:00Z"  # 08:00 Shanghai after 10:00 on the 18th
    assert {r.next_attempt_at for r in rows if r.mode == "immediate"} == {NOW}

    record(db, policy(), run_id=run, now=LATER, on_event=router)  # unchanged: no event, no row
    assert len(list_deliveries(db)) == 4

    def broken(db_: Any, event: Event) -> None:
        router(db_, event)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):  # the router fails: neither the event nor its rows are stored
        record(db, reply(), run_id=run, now=LATER, on_event=broken)
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert len(list_deliveries(db)) == 4
    event = record(db, reply(), run_id=run, now=LATER, on_event=router)
    assert sorted(r.watcher for r in list_deliveries(db, event_id=event.id)) == ["all"] * 3 + ["daily", "replies"]

    with pytest.raises(sqlite3.IntegrityError):  # one row per key
        db.execute("INSERT INTO outbox (idempotency_key, watcher, channel, target, next_attempt_at, created_at)"
                   " VALUES (?, 'x', 'email', 'x', ?, ?)", [rows[0].idempotency_key, NOW, NOW])


@pytest.mark.parametrize(
    ("url", "alerts", "problem"),
    [
        pytest.param("http://127.0.0.1:9/h", "", "points at this machine", id="loopback-not-allowed"),
        pytest.param("http://169.254.169.254/latest", LOCAL_HOOKS, "link-local or cloud metadata", id="metadata"),
        pytest.param("https://u:p@hooks.example.org/h", "", "must not carry credentials", id="credentials"),
    ],
)
def test_webhook_targets_we_must_never_post_to_are_refused_at_load(url, alerts, problem) -> None:
    raw = config(f'name = "w"\nwebhook = {{ url = "{url}", secret_env = "S" }}\n', extra=alerts)
    with pytest.raises(ConfigError, match=rf"watcher 'w': field 'webhook.url' .*{problem}"):
        load_watchers(raw)


def test_a_local_receiver_is_allowed_explicitly_and_archive_url_is_checked() -> None:
    hook = 'name = "w"\nwebhook = { url = "http://127.0.0.1:9/h", secret_env = "S" }\n'
    assert load_watchers(config(hook, extra=LOCAL_HOOKS))[0].webhook.url == "http://127.0.0.1:9/h"
    bad_link = '[alerts]\narchive_url = "http://169.254.169.254/documents/{document_id}"\n'
    with pytest.raises(ConfigError, match=r"\[alerts\]: field 'archive_url' .*metadata"):
        load_watchers(config('name = "w"\nemail = ["a@example.org"]\n', extra=SMTP + bad_link))
