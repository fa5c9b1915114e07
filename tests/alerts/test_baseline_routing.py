"""Baselines without a crawl: the archive API the run recorder uses (``storage.baselines``), the crawl router's
routing while a baseline is pending, the plan of summaries, their rendering for e-mail, webhook and chat,
and the watcher keys ``baseline`` and ``since`` in the config."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alerts.render import event_item, render_event
from alerts.routing import make_router, plan_baseline
from alerts.watchers import AlertSettings, ConfigError, load_watchers
from storage import list_events, open_db, record, start_run, sync_portals
from storage.baselines import (
    BASELINE_EVENT,
    baseline_events,
    baseline_state,
    complete_baseline,
    in_baseline,
    pending_baseline,
)
from storage.outbox import list_deliveries
from tests.storage.factories import LATER, NOW, policy, reply

PORTAL = "fujian_ningde"
COLUMNS = ["政策文件", "建议提案办理"]
HOOK = 'webhook = { url = "https://hooks.example.org/h", secret_env = "X_SECRET" }'


def watchers(text: str) -> Any:
    import tomllib

    return load_watchers(tomllib.loads(text))


WATCHERS = f"""
[[watchers]]
name = "summary"
{HOOK}

[[watchers]]
name = "policies"
kinds = ["policy"]
apprise = ["json://localhost/"]

[[watchers]]
name = "every"
baseline = "every"
{HOOK}

[[watchers]]
name = "off"
baseline = "off"
{HOOK}

[[watchers]]
name = "recent"
since = "2025-06-01"
{HOOK}
"""


@pytest.fixture
def db(tmp_path: Any) -> Any:
    database = open_db(tmp_path / "archive.db")
    sync_portals(database, [{"id": PORTAL, "name": "宁德市医疗保障局<b>", "region_code": "350900"}])
    yield database
    database.close()


def store(db: Any, router: Any, run: int, when: str = NOW) -> list[Any]:
    """Two policies (one published 2024) and a reply of the portal, in its two columns."""
    events = [
        record(db, policy("https://ybj.example.gov.cn/zcwj/p1.html"), run_id=run, now=when, column=COLUMNS[0],
               on_event=router),
        record(db, policy("https://ybj.example.gov.cn/zcwj/p2.html", title="2024年的旧政策", doc_no="宁医保〔2024〕1号",
                          index_no="old-1", published_on="2024-03-01"), run_id=run, now=when, column=COLUMNS[0],
               on_event=router),
        record(db, reply(), run_id=run, now=when, column=COLUMNS[1], on_event=router),
    ]  # fmt: skip
    assert all(e is not None and e.kind == "new" for e in events)
    return events


def test_a_pending_baseline_routes_only_to_every_then_one_summary_per_watcher_and_target(db: Any) -> None:
    chosen = watchers(WATCHERS)
    router = make_router(chosen, baselines=True)
    run = start_run(db, PORTAL, now=NOW)
    assert in_baseline(db, PORTAL, "https://anything") is True  # never crawled successfully
    events = store(db, router, run)
    # while the baseline is pending, only the "every" watcher has rows (one per document)
    assert {(d.watcher, d.event_id) for d in list_deliveries(db)} == {("every", e.id) for e in events}

    pending = pending_baseline(db, PORTAL, COLUMNS)
    assert pending is not None
    assert (pending.whole, pending.columns, pending.portal_name) == (True, tuple(COLUMNS), "宁德市医疗保障局<b>")
    assert [e.id for e in baseline_events(db, pending)] == [e.id for e in events]
    plan = router.plan_baseline(db, pending, run_id=run)  # type: ignore[attr-defined]
    assert plan is not None
    assert {w.name: t.documents for w, t in plan.watchers} == {"summary": 3, "policies": 2, "recent": 2}
    assert plan.totals.by_kind == {"policy": 2, "suggestion_reply": 1}

    assert complete_baseline(db, pending, run_id=run, columns=COLUMNS, now=LATER)
    event = plan(db, LATER)
    assert not complete_baseline(db, pending, run_id=run, columns=COLUMNS, now=LATER)  # once
    assert pending_baseline(db, PORTAL, COLUMNS) is None
    assert baseline_state(db, PORTAL).columns == frozenset(COLUMNS)
    assert event.kind == BASELINE_EVENT
    assert event.summary == "基线：宁德市医疗保障局<b> 3 documents archived"
    rows = [d for d in list_deliveries(db) if d.event_id == event.id]
    assert [(d.watcher, d.channel, d.mode) for d in rows] == [
        ("summary", "webhook", "immediate"), ("policies", "apprise", "immediate"), ("recent", "webhook", "immediate")]
    assert rows[2].payload is not None
    assert rows[2].payload["matching"] == {"documents": 2, "by_kind": {"policy": 1, "suggestion_reply": 1}}
    assert rows[2].payload["since"] == "2025-06-01"

    # the baseline is over: a new document goes to everyone it concerns, one by one
    later = record(db, policy("https://ybj.example.gov.cn/zcwj/p3.html", title="新政策", doc_no="宁医保〔2025〕200号",
                              index_no="new-3"), run_id=run, now=LATER, column=COLUMNS[0], on_event=router)  # fmt: skip
    assert later is not None
    assert in_baseline(db, PORTAL, later.url) is False
    assert sorted(d.watcher for d in list_deliveries(db, event_id=later.id)) == [
        "every", "off", "policies", "recent", "summary"]


def test_a_new_column_is_a_baseline_of_its_own(db: Any) -> None:
    router = make_router(watchers(WATCHERS), baselines=True)
    run = start_run(db, PORTAL, now=NOW)
    first = record(db, policy(), run_id=run, now=NOW, column=COLUMNS[0], on_event=router)
    assert first is not None
    done = pending_baseline(db, PORTAL, COLUMNS[:1])
    assert done is not None
    assert complete_baseline(db, done, run_id=run, columns=COLUMNS[:1], now=NOW)
    # the reply column is added: its documents are its baseline; the policy column's are news
    pending = pending_baseline(db, PORTAL, COLUMNS)
    assert pending is not None
    assert (pending.whole, pending.columns) == (False, (COLUMNS[1],))
    news = record(db, policy("https://ybj.example.gov.cn/zcwj/p9.html", title="又一个", doc_no="宁医保〔2025〕9号",
                             index_no="n-9"), run_id=run, now=LATER, column=COLUMNS[0], on_event=router)  # fmt: skip
    old_reply = record(db, reply(), run_id=run, now=LATER, column=COLUMNS[1], on_event=router)
    assert news is not None
    assert old_reply is not None
    assert in_baseline(db, PORTAL, old_reply.url)
    assert not in_baseline(db, PORTAL, news.url)
    assert {d.watcher for d in list_deliveries(db, event_id=old_reply.id)} == {"every"}
    assert len({d.watcher for d in list_deliveries(db, event_id=news.id)}) == 5
    assert [e.id for e in baseline_events(db, pending)] == [old_reply.id]
    plan = plan_baseline(db, pending, watchers(WATCHERS), run_id=run)
    assert plan is not None
    assert plan.summary == "基线：宁德市医疗保障局<b>（新栏目 建议提案办理） 1 documents archived"
    assert [w.name for w, _ in plan.watchers] == ["summary", "recent"]  # not a policy; undated: since passes it


def test_no_summary_when_no_watcher_selects_anything(db: Any) -> None:
    run = start_run(db, PORTAL, now=NOW)
    record(db, policy(published_on="2020-01-01"), run_id=run, now=NOW, column=COLUMNS[0])
    pending = pending_baseline(db, PORTAL, COLUMNS)
    assert pending is not None
    picky = watchers(f'[[watchers]]\nname = "r"\nkinds = ["report"]\n{HOOK}\n\n'
                     f'[[watchers]]\nname = "s"\nsince = "2025-01-01"\n{HOOK}\n\n'
                     f'[[watchers]]\nname = "o"\nbaseline = "off"\n{HOOK}\n')  # fmt: skip
    assert plan_baseline(db, pending, picky, run_id=run) is None


def test_the_summary_rendered_for_each_channel(db: Any) -> None:
    chosen = watchers(WATCHERS)
    router = make_router(chosen, baselines=True)
    run = start_run(db, PORTAL, now=NOW)
    store(db, router, run)
    pending = pending_baseline(db, PORTAL, COLUMNS)
    assert pending is not None
    plan = router.plan_baseline(db, pending, run_id=run)  # type: ignore[attr-defined]
    complete_baseline(db, pending, run_id=run, columns=COLUMNS, now=LATER)
    event = plan(db, LATER)
    settings = AlertSettings(archive_url="https://archive.example.org/x/archive/documents/{document_id}")
    item = event_item(db, event.id, settings)
    by_name = {w.name: w for w in chosen}

    message = render_event(item, watcher=by_name["recent"], delivery_id="d1")
    assert message.kind == "baseline"
    assert message.subject == "【基线】宁德市医疗保障局<b> 3 documents archived"
    assert "按类型：政策文件 2 · 建议答复 1" in message.text
    assert "符合本订阅条件：2 篇（政策文件 1 · 建议答复 1），只计 2025-06-01 及以后发布的（及未注明日期的）" in message.text
    link = "https://archive.example.org/x/archive/postings?portal_id=fujian_ningde&_sort_desc=first_seen_at"
    assert f"存档：{link}" in message.text
    assert "宁德市医疗保障局&lt;b&gt;" in message.html
    assert "<b>" not in message.html.split("<body", 1)[1]
    assert f'href="{link.replace("&", "&amp;")}"' in message.html
    payload = json.loads(json.dumps(message.payload))
    assert (payload["type"], payload["watcher"], payload["delivery_id"]) == ("baseline", "recent", "d1")
    assert payload["links"] == {"source": None, "archive": link}
    assert payload["baseline"]["documents"] == 3
    assert payload["event"]["summary"] == event.summary
    assert message.chat_text().startswith("【基线】宁德市医疗保障局<b> 3 documents archived")
    assert len(message.chat_text()) < 1000

    other = render_event(item, watcher=by_name["policies"], delivery_id="d2")
    assert "符合本订阅条件：2 篇（政策文件 2）" in other.text
    with pytest.raises(LookupError):  # no summary was planned for "off"
        render_event(item, watcher=by_name["off"], delivery_id="d3")
    # an archive_url without /archive/: the link goes to the same host
    bare = event_item(db, event.id, AlertSettings(archive_url="https://docs.example.org/d/{document_id}"))
    assert bare.archive_url is not None
    assert bare.archive_url.startswith("https://docs.example.org/archive/postings?portal_id=fujian_ningde")
    assert [e.kind for e in list_events(db)] == ["new", "new", "new", "baseline"]


@pytest.mark.parametrize(("line", "problem"), [
    ('since = "2025-13-01"', "field 'since' must be a date like \"2025-01-01\", got '2025-13-01'"),
    ('since = "last year"', "field 'since' must be a date like \"2025-01-01\", got 'last year'"),
    ("since = 2025-01-01T08:00:00", "field 'since' must be a date like \"2025-01-01\""),
    ('baseline = "some"', "field 'baseline' must be one of summary, off, every, got 'some'"),
])  # fmt: skip
def test_bad_baseline_and_since_name_the_watcher_and_field(line: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        watchers(f'[[watchers]]\nname = "w"\n{line}\n{HOOK}\n')
    assert str(raised.value).startswith(f"watcher 'w': {problem}")


def test_since_as_a_toml_date_or_a_string() -> None:
    (a,) = watchers(f'[[watchers]]\nname = "a"\nsince = 2025-01-01\n{HOOK}\n')
    (b,) = watchers(f'[[watchers]]\nname = "b"\nsince = "2025-01-01"\nbaseline = "every"\n{HOOK}\n')
    assert a.since == b.since == "2025-01-01"
    assert (a.baseline, b.baseline) == ("summary", "every")
