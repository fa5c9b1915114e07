"""End to end: a replica portal is crawled (a reply on it cites one of its policies); the portal publishes a
policy that abolishes that one; the next crawl records exactly one ``superseded`` event on the old policy,
and a watcher that follows citations of the replies it selects gets exactly one alert -- by e-mail (a real
SMTP server) and signed webhook (a real HTTP receiver) -- naming both the abolished policy and the reply.
Crawling again changes nothing."""

from __future__ import annotations

import json
from email.message import EmailMessage

from tests.alerts.conftest import alerts_toml
from tests.e2e.alerts.test_delivery import cli, signed
from tests.e2e.crawl.test_crawl_e2e import crawl, query, write_config

PORTAL = "fujian_xiamen"
MARK = "蓝鲸答复"


def watchers(receiver) -> str:
    def hook(path: str) -> str:
        return f'webhook = {{ url = "{receiver.url(path)}", secret_env = "YIBAO_HOOK_SECRET" }}'

    return f"""
[[watchers]]
name = "follows-replies"
keywords = ["{MARK}"]
follow_citations = true
baseline = "off"
email = ["关注者 <follower@example.org>"]
{hook("/follow")}

[[watchers]]
name = "same-filters-no-citations"
keywords = ["{MARK}"]
baseline = "off"
{hook("/plain")}
"""


def dispatch(config) -> dict:
    done = cli(config, "dispatch", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def document_of(tmp_path, server, doc) -> int:
    url = server.urls[PORTAL] + server.world.urls(doc.doc_id)["main"]
    return query(tmp_path, "SELECT document_id FROM postings WHERE url = ?", url)[0][0]


def test_an_abolished_policy_alerts_the_follower_of_a_reply_citing_it_once(
    make_replicas, tmp_path, smtp, receiver, hook_secret
) -> None:
    server = make_replicas(docs=16, seed=5)
    world = server.world
    docs = sorted(world.docs(PORTAL), key=lambda d: d.doc_id)
    old = next(d for d in docs if d.kind == "policy" and d.doc_no)
    reply = next(d for d in docs if d.kind.endswith("_reply"))
    world.edit(reply.doc_id, 0, f"您提出的{MARK}事项收悉。根据《{old.title}》（{old.doc_no_raw or old.doc_no}），"
                                f"我局已按规定办理。")  # fmt: skip
    config = write_config(tmp_path, server)
    config.write_text(config.read_text(encoding="utf-8") + alerts_toml(smtp.port) + watchers(receiver),
                      encoding="utf-8")  # fmt: skip

    assert crawl(config, PORTAL)[PORTAL]["health"] == "ok"
    dispatch(config)
    old_id, reply_id = document_of(tmp_path, server, old), document_of(tmp_path, server, reply)
    cited = query(tmp_path, "SELECT c.cited_document_id FROM citations c JOIN documents d ON d.id = c.document_id"
                            " AND d.latest_version_id = c.version_id WHERE c.document_id = ?", reply_id)  # fmt: skip
    assert (old_id,) in cited
    before = query(tmp_path, "SELECT COALESCE(MAX(id), 0) FROM events")[0][0]
    assert receiver.delivered() == []  # baseline = "off": the first crawl tells these watchers nothing

    new = world.publish(PORTAL, "zcwj", kind="policy")
    world.edit(new.doc_id, 0, f"本通知自发布之日起施行。原《{old.title}》（{old.doc_no_raw or old.doc_no}）同时废止。")
    for i in range(1, len(new.blocks)):  # nothing else in its body cites anything
        world.edit(new.doc_id, i, "特此通知。")
    assert crawl(config, PORTAL)[PORTAL]["health"] == "ok"
    sent = dispatch(config)
    assert sent["dead"] == sent["retrying"] == 0
    new_id = document_of(tmp_path, server, new)

    events = query(tmp_path, "SELECT kind, document_id, summary FROM events WHERE id > ? ORDER BY id", before)
    assert [(k, d) for k, d, _ in events if k == "superseded"] == [("superseded", old_id)]
    assert ("new", new_id) in [(k, d) for k, d, _ in events]
    assert query(tmp_path, "SELECT document_id, by_document_id, relation FROM lineage") == [
        (old_id, new_id, "abolishes")]  # fmt: skip

    (hook,) = receiver.delivered("/follow")
    assert signed(hook)
    assert hook.headers["X-Yibao-Event"] == "superseded"
    payload = hook.json
    assert payload["document"]["id"] == old_id
    assert payload["replaced_by"]["document_id"] == new_id
    assert [c["id"] for c in payload["citing"]] == [reply_id]
    assert receiver.delivered("/plain") == []
    (mail,) = smtp.messages
    assert isinstance(mail, EmailMessage)
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].startswith("【已被替代】")
    assert old.title in text
    assert new.title in text  # the policy that abolished it
    assert reply.title in text  # the reply the watcher follows

    # crawled again: no second event, no second alert
    assert crawl(config, PORTAL)[PORTAL]["health"] == "ok"
    assert dispatch(config)["claimed"] == 0
    assert query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'superseded'")[0][0] == 1
    assert len(receiver.delivered()) == 1
    assert len(smtp.messages) == 1
