"""End to end: `yibao crawl` over the replica portals routes events into the outbox, `yibao dispatch`
delivers them to a real SMTP server and a real webhook receiver; each watcher gets exactly the events
its filters select, once, signed, with the right diff; a noise-only recrawl sends nothing. The watchers
that want the first crawl's documents one by one say ``baseline = "every"`` (the default is one summary:
tests/alerts/test_baseline.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from core.diffing import diff_versions
from storage.db import open_db
from storage.versions import versions_of_event
from tests.alerts.conftest import alerts_toml
from tests.e2e.alerts.test_delivery import cli, signed
from tests.e2e.crawl.test_crawl_e2e import crawl, query, write_config

PORTAL = "fujian_xiamen"
KEYWORD_TEXT = "，本条简称ＤＩＰ蓝鲸条款，预算总额调整为35.1亿元。"


def watchers(receiver) -> str:
    def hook(path: str) -> str:
        return f'webhook = {{ url = "{receiver.url(path)}", secret_env = "YIBAO_HOOK_SECRET" }}'

    return f"""
[[watchers]]
name = "everything"
baseline = "every"
{hook("/all")}

[[watchers]]
name = "xiamen-changes"
portals = ["{PORTAL}"]
events = ["edited", "validity_changed", "withdrawn"]
email = ["张三 <zhangsan@example.org>"]
{hook("/changes")}

[[watchers]]
name = "keyword"
keywords = ["dip蓝鲸条款"]
email = ["kw@example.org"]
{hook("/kw")}

[[watchers]]
name = "query"
query = '"蓝鲸条款" OR 不存在的词语'
{hook("/query")}

[[watchers]]
name = "new-policies"
kinds = ["policy"]
events = ["new"]
baseline = "every"
{hook("/policies")}

[[watchers]]
name = "nhsa-only"
portals = ["nhsa"]
{hook("/nhsa")}
"""


def dispatch(config: Path) -> dict:
    done = cli(config, "dispatch", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def received_events(receiver, path: str) -> list[int]:
    return sorted(r.json["event"]["id"] for r in receiver.delivered(path))


def test_watchers_receive_exactly_their_events(make_replicas, tmp_path, smtp, receiver, hook_secret) -> None:
    server = make_replicas(docs=20, seed=11)
    world = server.world
    config = write_config(tmp_path, server)
    config.write_text(config.read_text(encoding="utf-8") + alerts_toml(smtp.port) + watchers(receiver),
                      encoding="utf-8")

    summary = crawl(config, PORTAL)
    assert summary[PORTAL]["health"] == "ok", summary
    first = dispatch(config)
    documents = query(tmp_path, "SELECT COUNT(*) FROM documents")[0][0]
    assert first["sent"] >= documents  # everything (+ new policies)
    assert first["dead"] == first["retrying"] == 0

    docs = sorted(world.docs(PORTAL), key=lambda d: d.doc_id)
    edited, expiring, withdrawn = docs[1], docs[3], docs[4]
    longest = max(range(len(edited.blocks)), key=lambda i: len(edited.blocks[i].text))
    world.edit(edited.doc_id, longest, edited.blocks[longest].text.rstrip("。") + KEYWORD_TEXT)
    world.set_metadata(expiring.doc_id, validity="失效")
    world.withdraw(withdrawn.doc_id)
    published = world.publish(PORTAL, "zcwj", kind="policy")
    crawl(config, PORTAL)
    dispatch(config)
    crawl(config, PORTAL)  # the second gone check withdraws
    dispatch(config)

    events = query(tmp_path, "SELECT e.id, e.kind, e.portal_id, d.kind FROM events e JOIN documents d"
                             " ON d.id = e.document_id ORDER BY e.id")
    kinds = Counter(kind for _, kind, _, _ in events)
    assert kinds == {"new": documents + 1, "edited": 1, "validity_changed": 1, "withdrawn": 1}, kinds
    by_kind = {kind: [e for e, k, _, _ in events if k == kind] for kind in kinds}

    # noise only: nothing new is routed or sent
    before = len(receiver.requests), len(smtp.raw)
    crawl(config, PORTAL)
    quiet = dispatch(config)
    assert quiet["claimed"] == 0
    assert (len(receiver.requests), len(smtp.raw)) == before

    # each watcher: exactly the events its filters select, each once, signed
    assert received_events(receiver, "/all") == [e for e, *_ in events]
    changes = by_kind["edited"] + by_kind["validity_changed"] + by_kind["withdrawn"]
    assert received_events(receiver, "/changes") == sorted(changes)
    assert received_events(receiver, "/kw") == by_kind["edited"]
    assert received_events(receiver, "/query") == by_kind["edited"]
    policies_new = sorted(e for e, kind, _, doc_kind in events if kind == "new" and doc_kind == "policy")
    assert received_events(receiver, "/policies") == policies_new
    assert len(policies_new) >= 2  # the published one among them
    assert published.kind == "policy"
    assert receiver.delivered("/nhsa") == []
    assert len(receiver.requests) == len(receiver.delivered())  # no failures on the way
    deliveries = [r.headers["X-Yibao-Delivery"] for r in receiver.requests]
    assert len(deliveries) == len(set(deliveries))
    assert all(signed(r) for r in receiver.requests)
    assert {r.headers["X-Yibao-Event"] for r in receiver.delivered("/changes")} == {
        "edited", "validity_changed", "withdrawn"}  # fmt: skip

    # the diff in the payload is the archive's diff of that version
    (edit_hook,) = receiver.delivered("/kw")
    payload = edit_hook.json
    assert payload["schema_version"] == 1
    assert payload["watcher"] == "keyword"
    assert payload["document"]["id"] == query(tmp_path, "SELECT document_id FROM events WHERE id = ?",
                                              by_kind["edited"][0])[0][0]
    db = open_db(tmp_path / "archive.db", migrate=False)
    previous, current = versions_of_event(db, by_kind["edited"][0])
    db.close()
    expected = diff_versions(previous, current)
    assert payload["diff"] == json.loads(json.dumps(expected.to_dict()))
    assert payload["diff"]["summary"].startswith("正文修改 1 处")
    assert "35.1亿元" in payload["diff"]["summary"]
    assert any("蓝鲸条款" in (p["new"] or "") for p in payload["diff"]["paragraphs"])
    assert payload["links"]["source"].startswith(server.urls[PORTAL].rstrip("/"))
    (validity_hook,) = [r for r in receiver.delivered("/changes") if r.json["event"]["kind"] == "validity_changed"]
    assert "有效性 有效 → 失效" in validity_hook.json["diff"]["summary"]
    assert validity_hook.json["document"]["validity"] == "失效"
    (withdrawn_hook,) = [r for r in receiver.delivered("/changes") if r.json["event"]["kind"] == "withdrawn"]
    assert withdrawn_hook.json["diff"] is None
    assert withdrawn_hook.json["document"]["status"] == "withdrawn"

    # e-mail: one message per event to each address, multipart, links, Message-ID = delivery id
    mails = smtp.to("zhangsan@example.org")
    assert sorted(m["X-Yibao-Event"] for m in mails) == ["edited", "validity_changed", "withdrawn"]
    keys = dict(query(tmp_path, "SELECT event_id, idempotency_key FROM outbox WHERE watcher = 'xiamen-changes'"
                                " AND channel = 'email'"))
    assert sorted(m["Message-ID"] for m in mails) == sorted(f"<{keys[e]}@example.org>" for e in changes)
    for mail in mails:
        assert str(mail["To"]) == "张三 <zhangsan@example.org>"
        assert mail.get_content_type() == "multipart/alternative"
        html = mail.get_body(("html",)).get_content()
        assert "https://archive.example.org/documents/" in html
        assert server.urls[PORTAL].split("//")[1].rstrip("/") in html
    (kw_mail,) = smtp.to("kw@example.org")
    assert "蓝鲸条款" in kw_mail.get_body(("plain",)).get_content()
    assert len(smtp.raw) == 4
    assert query(tmp_path, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("sent", len(deliveries) + 4)]
