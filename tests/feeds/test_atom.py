"""The Atom feed over a factory-built archive (no crawl): one entry per document event, as of its version,
operational events left out, crawled text escaped; ``core.feed`` renders EventViews alone."""

from __future__ import annotations

import feedparser
import sqlite_utils

from core.feed import render_atom
from storage import add_event, list_events, record
from storage.feeds import build_feed
from storage.views import event_views
from tests.storage.factories import BODY, LATER, NOW, policy, reply

HOSTILE = "<script>alert('x')</script>关于调整DIP基准等级系数的通知"
LATEST = "2025-08-20T02:00:00Z"


def _archive(db: sqlite_utils.Database) -> None:
    record(db, policy(), run_id=None, now=NOW)
    record(db, reply(), run_id=None, now=NOW)
    record(db, policy(body_text=BODY.replace("不得自行调整", "可以适当调整") + "\n四、基准等级系数调整为0.68。"), run_id=None, now=LATER)
    record(db, reply(title=HOSTILE, reply_class="B"), run_id=None, now=LATER)
    add_event(db, kind="portal_broken", document_id=None, now=LATEST, portal_id="fujian_ningde", url=None,
              summary="门户异常：fujian_ningde 连续 3 次抓取失败")


def test_feed_of_the_archive(db: sqlite_utils.Database) -> None:
    _archive(db)
    xml = build_feed(db, link="http://127.0.0.1:8001/")
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, parsed.bozo_exception
    assert [e.tags[0].term for e in parsed.entries] == ["edited", "edited", "new", "new"]  # newest first
    assert b"<script>" not in xml
    retitled, edited, new_reply, new_policy = parsed.entries
    assert retitled.title == f"[内容修改] {HOSTILE}"  # as text, and as of that version
    assert new_reply.title == f"[新发布] {reply().title}"  # the reply's first version had the old title
    assert "答复类别 A → B" in retitled.summary
    assert edited.summary.startswith("正文修改 1 处、新增 1 段")
    assert "基准等级系数" in edited.summary
    content = new_reply.content[0].value
    assert "<th align=\"left\">代表/委员</th><td>张三、李四</td>" in content
    assert "<th align=\"left\">类别</th><td>建议答复</td>" in content
    assert new_policy.link == policy().url
    assert {t.term for e in parsed.entries for t in e.tags} >= {"fujian_ningde"}


def test_a_given_list_of_events_and_an_empty_feed(db: sqlite_utils.Database) -> None:
    _archive(db)
    ops = [e for e in list_events(db) if e.document_id is None]
    assert len(ops) == 1
    assert feedparser.parse(build_feed(db, events=ops)).entries == []  # operational events have no entry
    empty = feedparser.parse(render_atom([], title="空", feed_id="tag:x"))
    assert (empty.bozo, empty.feed.title, empty.entries) == (0, "空", [])
    chosen = [e for e in list_events(db) if e.kind == "new"]
    parsed = feedparser.parse(render_atom(event_views(db, chosen), feed_id="tag:x"))
    assert [e.id for e in parsed.entries] == [f"tag:yibao-watch,2026:event/{e.id}" for e in reversed(chosen)]


def test_the_default_feed_is_the_latest_events(db: sqlite_utils.Database) -> None:
    _archive(db)
    parsed = feedparser.parse(build_feed(db, limit=3))  # the 3 latest events, the ops one among them
    assert [e.tags[0].term for e in parsed.entries] == ["edited", "edited"]
