"""Watchers that follow citations (``follow_citations = true``): a change of a document cited by a document the
watcher's filters select -- edited, withdrawn, superseded, expired -- is routed to it once, and the message
names the changed document and the citing documents it follows."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest
import sqlite_utils

from alerts.render import event_item, render_event
from alerts.routing import make_router, route_event
from alerts.watchers import AlertSettings, ConfigError, load_watchers
from storage import finish_run, list_events, open_db, record, start_run
from storage.citations import expire_due
from storage.outbox import list_deliveries
from storage.withdrawals import note_gone
from tests.storage.factories import LATER, NOW
from tests.storage.test_citations import (
    OLD_TITLE,
    citing_reply,
    crawled_before,
    doc_id,
    new_policy,
    old_policy,
)

HOOK = 'webhook = { url = "https://hooks.example.org/h", secret_env = "X_SECRET" }'
REPLY_TEXT = f"根据《{OLD_TITLE}》（厦医保规〔2019〕2号），您反映的门诊蓝鲸问题已按规定办理。"
WATCHERS = f"""
[[watchers]]
name = "follower"
keywords = ["蓝鲸问题"]
follow_citations = true
{HOOK}

[[watchers]]
name = "plain"
keywords = ["蓝鲸问题"]
{HOOK}

[[watchers]]
name = "reports"
kinds = ["report"]
follow_citations = true
{HOOK}

[[watchers]]
name = "withdrawals-only"
keywords = ["蓝鲸问题"]
follow_citations = true
events = ["withdrawn"]
{HOOK}
"""


def load(text: str) -> Any:
    return load_watchers(tomllib.loads(text))


@pytest.fixture
def db(tmp_path: Any) -> Any:
    database = open_db(tmp_path / "archive.db")
    yield database
    database.close()


@pytest.fixture
def run_id(db: sqlite_utils.Database) -> int:
    crawled_before(db)  # the portals' baselines are complete: what the tests record is news
    return start_run(db, "fujian_xiamen", now=NOW)


@pytest.fixture
def router(db: sqlite_utils.Database, run_id: int) -> Any:
    on_event = make_router(load(WATCHERS))
    record(db, old_policy(), run_id=run_id, now=NOW, on_event=on_event)
    record(db, citing_reply(REPLY_TEXT), run_id=run_id, now=NOW, on_event=on_event)
    return on_event


def rows_for(db: sqlite_utils.Database, kind: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for event in list_events(db, kind=kind):
        for row in list_deliveries(db, event_id=event.id):
            out.setdefault(row.watcher, []).append(row)
    return out


def test_a_superseded_cited_document_alerts_the_follower_once_naming_both(
    db: sqlite_utils.Database, run_id: int, router: Any
) -> None:
    record(db, new_policy(), run_id=start_run(db, "fujian_xiamen", now=LATER), now=LATER, on_event=router)
    (event,) = list_events(db, kind="superseded")
    rows = rows_for(db, "superseded")
    assert list(rows) == ["follower"]  # plain does not follow citations; reports selects no citing document
    (row,) = rows["follower"]
    reply_id = doc_id(db, citing_reply("").url)
    assert row.payload == {"citing": [{"id": reply_id, "title": citing_reply("").title, "doc_no": None,
                                       "relation": "implements", "kind": "suggestion_reply"}]}  # fmt: skip
    assert route_event(db, event, load(WATCHERS)) == 0  # routed again: nothing new

    watcher = load(WATCHERS)[0]
    message = render_event(event_item(db, event.id, AlertSettings()), watcher=watcher, delivery_id="d1")
    assert message.subject == f"【已被替代】{OLD_TITLE}"
    assert "由此文件废止：《厦门市医疗保障局关于门诊特殊病种管理的通知》（厦医保规〔2025〕1号）" in message.text
    assert new_policy().url in message.text
    assert f"《{citing_reply('').title}》（依据）· 文档 #{reply_id}" in message.text
    assert citing_reply("").title in message.html
    assert "厦医保规〔2025〕1号" in message.html
    payload = message.payload
    assert payload["replaced_by"]["document_id"] == doc_id(db, new_policy().url)
    assert payload["citing"][0]["id"] == reply_id
    other = render_event(event_item(db, event.id, AlertSettings()), watcher=load(WATCHERS)[1], delivery_id="d2")
    assert "citing" not in other.payload  # a watcher told nothing about citing documents is shown none


def test_edits_withdrawals_and_expiry_of_a_cited_document_reach_the_follower(
    db: sqlite_utils.Database, run_id: int, router: Any
) -> None:
    edited = old_policy(body_text=old_policy().body_text + "\n本通知自2023年3月1日起施行，有效期3年。")
    record(db, edited, run_id=run_id, now=LATER, on_event=router)
    assert list(rows_for(db, "edited")) == ["follower"]
    (expired,) = expire_due(db, date(2026, 3, 1), now=LATER, on_event=router)
    assert list(rows_for(db, "expired")) == ["follower"]
    later = start_run(db, "fujian_xiamen", now=LATER)
    finish_run(db, later, finish_reason="finished", health="ok", stats={}, now=LATER)  # a healthy run counts
    withdrawn = note_gone(db, old_policy().url, run_id=later, now=LATER, n_required=1, on_event=router)
    assert withdrawn is not None
    assert sorted(rows_for(db, "withdrawn")) == ["follower", "withdrawals-only"]
    assert expire_due(db, date(2027, 1, 1), now=LATER, on_event=router) == []
    message = render_event(event_item(db, expired.id, AlertSettings()), watcher=load(WATCHERS)[0], delivery_id="x")
    assert message.subject == f"【有效期届满】{OLD_TITLE}"
    assert "有效期3年，至2026-02-28" in message.text
    assert citing_reply("").title in message.text


def test_a_change_of_the_citing_document_itself_is_no_citation_alert(
    db: sqlite_utils.Database, run_id: int, router: Any
) -> None:
    record(db, citing_reply(REPLY_TEXT + "特此答复。"), run_id=run_id, now=LATER, on_event=router)
    rows = rows_for(db, "edited")
    assert sorted(rows) == ["follower", "plain"]  # its own filters: both; no citing payload
    assert all(r.payload is None for rs in rows.values() for r in rs)


def test_follow_citations_is_a_boolean() -> None:
    with pytest.raises(ConfigError) as raised:
        load(f'[[watchers]]\nname = "w"\nfollow_citations = "yes"\n{HOOK}\n')
    assert "follow_citations" in str(raised.value)
    (watcher,) = load(f'[[watchers]]\nname = "w"\n{HOOK}\n')
    assert watcher.follow_citations is False
    assert {"superseded", "expired"} <= set(watcher.events)


def test_the_documented_watcher_example_loads() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "citations.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    (watcher,) = load(block)
    assert watcher.follow_citations is True
    assert watcher.kinds == ("suggestion_reply", "proposal_reply")


def test_a_digest_follower_is_told_the_citing_documents_too(db: sqlite_utils.Database, run_id: int) -> None:
    from alerts.render import render_digest

    digest = load(f'[[watchers]]\nname = "daily"\nkeywords = ["蓝鲸问题"]\nfollow_citations = true\nmode = "digest"\n'
                  f'digest_cron = "0 8 * * *"\n{HOOK}\n')  # fmt: skip
    on_event = make_router(digest)
    record(db, old_policy(), run_id=run_id, now=NOW, on_event=on_event)
    record(db, citing_reply(REPLY_TEXT), run_id=run_id, now=NOW, on_event=on_event)
    record(db, new_policy(), run_id=start_run(db, "fujian_xiamen", now=LATER), now=LATER, on_event=on_event)
    (row,) = rows_for(db, "superseded")["daily"]
    assert row.mode == "digest"
    items = [event_item(db, r.event_id, AlertSettings()) for r in list_deliveries(db, watcher="daily") if r.event_id]
    message = render_digest(items, watcher=digest[0], delivery_id="d")
    assert "【已被替代】" in message.text
    assert f"《{citing_reply('').title}》（依据）" in message.text
    superseded_item = next(i for i in message.payload["items"] if i["event"]["kind"] == "superseded")
    assert superseded_item["citing"][0]["title"] == citing_reply("").title
