"""Baseline first crawl, end to end: ``yibao crawl`` over a replica portal, ``yibao dispatch`` to a real SMTP
server (aiosmtpd) and a real webhook receiver.

The first crawl of a portal archives every document and records their events, but a watcher hears of them
in one summary per channel (``baseline = "summary"``, the default), every one of them (``"every"``, the
behaviour before baselines) or nothing (``"off"``); afterwards a new document is one alert again. A column
added later has a baseline of its own. ``since`` leaves out documents published before a date.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.alerts.conftest import alerts_toml
from tests.e2e.alerts.test_delivery import cli, signed
from tests.e2e.crawl.test_crawl_e2e import crawl

PORTAL = "fujian_xiamen"
NAME = "厦门市医疗保障局"
COLUMNS = {  # the replica's columns: registry name, kind, list path
    "jytabl": ("建议提案办理", "replies", "/zwgk/jytabl/"),
    "zcwj": ("政策文件", "policies", "/zwgk/zcwj/"),
    "ghzj": ("规划总结", "reports", "/zwgk/ghzj/"),
}


def config(tmp_path: Path, server: Any, smtp: Any, watchers: str, columns: tuple[str, ...] = tuple(COLUMNS)) -> Path:
    """The portal with the given replica columns, [smtp]/[alerts] and the watchers."""
    listed = ", ".join(f'{{ name = "{COLUMNS[c][0]}", kind = "{COLUMNS[c][1]}", url = "{COLUMNS[c][2]}" }}'
                       for c in columns)  # fmt: skip
    path = tmp_path / "yibao.toml"
    path.write_text(
        f'[archive]\npath = "{tmp_path / "archive.db"}"\n\n'
        f'[[portals]]\nid = "{PORTAL}"\nbase_url = "{server.urls[PORTAL]}"\ncolumns = [{listed}]\n'
        + alerts_toml(smtp.port) + watchers,
        encoding="utf-8",
    )
    return path


def hook(receiver: Any, path: str) -> str:
    return f'webhook = {{ url = "{receiver.url(path)}", secret_env = "YIBAO_HOOK_SECRET" }}'


def dispatch(path: Path) -> dict[str, Any]:
    done = cli(path, "dispatch", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["dead"] == report["retrying"] == 0, report
    return report


def query(tmp_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute(sql, params).fetchall()


def kinds_of(receiver: Any, path: str) -> Counter[str]:
    return Counter(r.headers["X-Yibao-Event"] for r in receiver.delivered(path))


def page(received: Any) -> str:
    """The path of the page an alert is about (titles repeat in the replica corpus; paths do not)."""
    return urlsplit(received.json["event"]["url"]).path


def documents_by_kind(tmp_path: Path, where: str = "1", *params: object) -> dict[str, int]:
    return dict(query(tmp_path, f"SELECT kind, COUNT(*) FROM documents WHERE {where} GROUP BY kind", *params))


WATCHERS = """
[[watchers]]
name = "desk"
portals = ["{portal}"]
email = ["政策组 <desk@example.org>"]
{desk}

[[watchers]]
name = "policies"
kinds = ["policy"]
{policies}

[[watchers]]
name = "every"
baseline = "every"
{every}

[[watchers]]
name = "quiet"
baseline = "off"
{quiet}

[[watchers]]
name = "elsewhere"
portals = ["nhsa"]
{elsewhere}

[[watchers]]
name = "edits-only"
events = ["edited"]
{edits}
"""


def test_first_crawl_is_one_summary_per_watcher_and_channel_then_one_alert_per_new_document(
        make_replicas, tmp_path, smtp, receiver, hook_secret) -> None:
    server = make_replicas(docs=90, seed=11)
    world = server.world
    watchers = WATCHERS.format(portal=PORTAL, **{name: hook(receiver, f"/{name}") for name in
                                                 ("desk", "policies", "every", "quiet", "elsewhere", "edits")})
    path = config(tmp_path, server, smtp, watchers)

    summary = crawl(path, PORTAL)
    assert summary[PORTAL]["health"] == "ok", summary
    first = dispatch(path)
    (documents,) = query(tmp_path, "SELECT COUNT(*) FROM documents")[0]
    assert documents == len(world.docs(PORTAL)) >= 12
    # the archive as before: every document, one "new" event each; plus the one baseline event
    assert dict(query(tmp_path, "SELECT kind, COUNT(*) FROM events GROUP BY kind")) == {"new": documents,
                                                                                       "baseline": 1}
    ((baseline_id, baseline_summary),) = query(tmp_path, "SELECT id, summary FROM events WHERE kind = 'baseline'")
    assert baseline_summary == f"基线：{NAME} {documents:,} documents archived"

    # one summary per watcher and channel: webhook and e-mail of "desk", the webhook of "policies"
    assert kinds_of(receiver, "/desk") == {"baseline": 1}
    assert kinds_of(receiver, "/policies") == {"baseline": 1}
    (mail,) = smtp.to("desk@example.org")
    assert mail["X-Yibao-Event"] == "baseline"
    assert str(mail["Subject"]) == f"【基线】{NAME} {documents:,} documents archived"
    plain = mail.get_body(("plain",)).get_content()
    assert f"{documents:,} 篇文档已存档" in plain
    assert "按类型：" in plain
    assert f"/archive/postings?portal_id={PORTAL}" in plain
    html = mail.get_body(("html",)).get_content()
    assert "https://archive.example.org/archive/postings?portal_id=" in html
    assert len(smtp.raw) == 1
    # "every": each document, as before baselines; "off", another portal's and an edits-only watcher: nothing
    assert kinds_of(receiver, "/every") == {"new": documents}
    assert sorted(r.json["document"]["id"] for r in receiver.delivered("/every")) == list(range(1, documents + 1))
    assert receiver.delivered("/quiet") == receiver.delivered("/elsewhere") == receiver.delivered("/edits") == []
    assert first["sent"] == 3 + documents

    # the summaries' payload: the archive's counts per kind, and what the watcher's filters select
    (desk,) = receiver.delivered("/desk")
    payload = desk.json
    assert signed(desk)
    assert (payload["schema_version"], payload["type"], payload["watcher"]) == (1, "baseline", "desk")
    assert (payload["event"]["id"], payload["event"]["kind"]) == (baseline_id, "baseline")
    body = payload["baseline"]
    assert (body["portal_id"], body["portal_name"], body["scope"]) == (PORTAL, NAME, "portal")
    assert body["columns"] == [COLUMNS[c][0] for c in COLUMNS]
    assert body["documents"] == documents
    assert body["by_kind"] == documents_by_kind(tmp_path)
    assert body["matching"] == {"documents": documents, "by_kind": documents_by_kind(tmp_path)}
    assert payload["links"]["archive"] == (f"https://archive.example.org/archive/postings?portal_id={PORTAL}"
                                           "&_sort_desc=first_seen_at")
    (policies,) = receiver.delivered("/policies")
    policy_count = documents_by_kind(tmp_path)["policy"]
    assert policies.json["baseline"]["documents"] == documents
    assert policies.json["baseline"]["matching"] == {"documents": policy_count, "by_kind": {"policy": policy_count}}
    assert query(tmp_path, "SELECT watcher, channel, mode FROM outbox WHERE event_id = ? ORDER BY id",
                 baseline_id) == [("desk", "email", "immediate"), ("desk", "webhook", "immediate"),
                                  ("policies", "webhook", "immediate")]  # fmt: skip

    # an unchanged re-crawl sends nothing (no second baseline)
    crawl(path, PORTAL)
    assert dispatch(path)["claimed"] == 0

    # one new document: one alert to each watcher it concerns, on each channel
    published = world.publish(PORTAL, "zcwj", kind="policy")
    crawl(path, PORTAL)
    dispatch(path)
    for name in ("desk", "policies", "every", "quiet"):  # "off" is about baselines only
        assert page(receiver.delivered(f"/{name}")[-1]) == world.urls(published.doc_id)["main"], name
    assert kinds_of(receiver, "/desk") == kinds_of(receiver, "/policies") == {"baseline": 1, "new": 1}
    assert kinds_of(receiver, "/every") == {"new": documents + 1}
    assert kinds_of(receiver, "/quiet") == {"new": 1}
    assert receiver.delivered("/elsewhere") == receiver.delivered("/edits") == []
    assert [m["X-Yibao-Event"] for m in smtp.to("desk@example.org")] == ["baseline", "new"]
    assert query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'baseline'") == [(1,)]
    assert query(tmp_path, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("sent", 3 + documents + 5)]
    deliveries = [r.headers["X-Yibao-Delivery"] for r in receiver.requests]
    assert len(deliveries) == len(set(deliveries)) == len(receiver.delivered())


def test_a_failed_first_crawl_announces_nothing_and_its_rerun_is_still_the_baseline(
        make_replicas, tmp_path, smtp, receiver, hook_secret) -> None:
    server = make_replicas(docs=30, seed=3)
    world = server.world
    path = config(tmp_path, server, smtp, f'[[watchers]]\nname = "desk"\n{hook(receiver, "/desk")}\n')
    world.set_faults(PORTAL, broken_layout=True)  # list pages without a single article: failed
    assert crawl(path, PORTAL)[PORTAL]["health"] == "failed"
    dispatch(path)
    assert receiver.requests == []
    world.clear_faults(PORTAL)
    assert crawl(path, PORTAL)[PORTAL]["health"] == "ok"
    dispatch(path)
    (summary,) = receiver.delivered("/desk")
    assert summary.json["type"] == "baseline"
    assert summary.json["baseline"]["documents"] == len(world.docs(PORTAL))


def test_since_leaves_out_documents_published_before_it(make_replicas, tmp_path, smtp, receiver,
                                                        hook_secret) -> None:
    server = make_replicas(docs=90, seed=11)
    world = server.world
    dates = sorted(d.published_at.date().isoformat() for d in world.docs(PORTAL))
    since = dates[len(dates) // 2]
    watchers = (f'[[watchers]]\nname = "recent-every"\nbaseline = "every"\nsince = "{since}"\n'
                f'{hook(receiver, "/recent-every")}\n\n'
                f'[[watchers]]\nname = "recent"\nsince = "{since}"\n{hook(receiver, "/recent")}\n')  # fmt: skip
    path = config(tmp_path, server, smtp, watchers)
    crawl(path, PORTAL)
    dispatch(path)
    rows = query(tmp_path, "SELECT id, published_on FROM documents")
    kept = sorted(doc for doc, published in rows if published is None or published >= since)
    assert 0 < len(kept) < len(rows)
    assert sorted(r.json["document"]["id"] for r in receiver.delivered("/recent-every")) == kept
    (summary,) = receiver.delivered("/recent")
    assert summary.json["baseline"]["documents"] == len(rows)
    assert summary.json["baseline"]["matching"]["documents"] == len(kept)
    assert summary.json["baseline"]["since"] == since

    # after the baseline: a new document dated before ``since`` is left out, one dated after it is sent
    old = world.publish(PORTAL, "zcwj", kind="policy", at=world.docs(PORTAL)[0].published_at.replace(year=2001))
    crawl(path, PORTAL)
    dispatch(path)
    old_path = world.urls(old.doc_id)["main"]
    assert query(tmp_path, "SELECT d.published_on FROM documents d JOIN postings p ON p.document_id = d.id"
                           " WHERE p.url = ?", server.urls[PORTAL].rstrip("/") + old_path) == [(old.published_at.date().isoformat(),)]
    assert len(receiver.delivered("/recent-every")) == len(kept)  # archived, and not sent
    assert kinds_of(receiver, "/recent") == {"baseline": 1}
    new = world.publish(PORTAL, "zcwj", kind="policy")
    crawl(path, PORTAL)
    dispatch(path)
    assert [page(r) for r in receiver.delivered("/recent")[1:]] == [world.urls(new.doc_id)["main"]]
    assert page(receiver.delivered("/recent-every")[-1]) == world.urls(new.doc_id)["main"]
    assert len(receiver.delivered("/recent-every")) == len(kept) + 1


def test_a_newly_added_column_has_a_baseline_of_its_own(make_replicas, tmp_path, smtp, receiver,
                                                        hook_secret) -> None:
    server = make_replicas(docs=90, seed=11)
    world = server.world
    watchers = (f'[[watchers]]\nname = "desk"\nemail = ["desk@example.org"]\n{hook(receiver, "/desk")}\n\n'
                f'[[watchers]]\nname = "every"\nbaseline = "every"\n{hook(receiver, "/every")}\n')  # fmt: skip
    path = config(tmp_path, server, smtp, watchers, columns=("jytabl", "ghzj"))
    crawl(path, PORTAL)
    dispatch(path)
    (first,) = receiver.delivered("/desk")
    assert first.json["baseline"]["scope"] == "portal"
    assert first.json["baseline"]["columns"] == ["建议提案办理", "规划总结"]
    before = query(tmp_path, "SELECT COUNT(*) FROM documents")[0][0]
    assert first.json["baseline"]["documents"] == before

    # the policy column is added: its first crawl is its baseline (one summary), the rest of the portal
    # is not (a new reply in the old column is one alert)
    reply = world.publish(PORTAL, "jytabl")
    path = config(tmp_path, server, smtp, watchers)
    # (policies print no meeting nor deputies: against the replies-only history that reads as a coverage
    # drop, a degraded run -- a successful one all the same, which completes the column's baseline)
    assert crawl(path, PORTAL)[PORTAL]["health"] in ("ok", "degraded")
    dispatch(path)
    policies = query(tmp_path, "SELECT COUNT(DISTINCT document_id) FROM postings WHERE column_name = '政策文件'")[0][0]
    assert policies == len([d for d in world.docs(PORTAL) if d.column == "zcwj"]) > 0
    assert query(tmp_path, "SELECT COUNT(*) FROM documents")[0][0] == before + 1 + policies
    assert kinds_of(receiver, "/desk") == {"baseline": 2, "new": 1}
    new_alert = next(r for r in receiver.delivered("/desk") if r.headers["X-Yibao-Event"] == "new")
    assert page(new_alert) == world.urls(reply.doc_id)["main"]
    (column,) = [r.json for r in receiver.delivered("/desk")[1:] if r.json["type"] == "baseline"]
    assert column["baseline"]["scope"] == "columns"
    assert column["baseline"]["columns"] == ["政策文件"]
    assert column["baseline"]["documents"] == policies
    assert column["event"]["summary"] == f"基线：{NAME}（新栏目 政策文件） {policies:,} documents archived"
    assert "column_name__in=%E6%94%BF%E7%AD%96%E6%96%87%E4%BB%B6" in column["links"]["archive"]
    summaries = [m for m in smtp.to("desk@example.org") if m["X-Yibao-Event"] == "baseline"]
    assert len(summaries) == 2
    assert f"新栏目 政策文件 首次完整抓取完成：{policies:,} 篇文档已存档" in summaries[1].get_body(("plain",)).get_content()
    assert kinds_of(receiver, "/every") == {"new": before + 1 + policies}

    # and from now on a new policy is one alert
    policy = world.publish(PORTAL, "zcwj", kind="policy")
    crawl(path, PORTAL)
    dispatch(path)
    assert kinds_of(receiver, "/desk") == {"baseline": 2, "new": 2}
    assert page(receiver.delivered("/desk")[-1]) == world.urls(policy.doc_id)["main"]
