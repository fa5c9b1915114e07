"""Citation links in the archive (storage.citations): resolution by 文号 then exact title across portals,
late resolution, lineage with exactly one ``superseded`` event, expiry with exactly one ``expired`` event."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from core.records import KIND_NOTICE, KIND_POLICY, DocumentRecord
from storage import list_events, open_db, record, start_run
from storage.archive import Fetched, record_batch
from storage.citations import (
    cites_where,
    citing_documents,
    document_links,
    expire_due,
    lineage_graph,
    lineage_of_event,
    rebuild_citations,
    term_of,
)
from tests.storage.conftest import healthy_run
from tests.storage.factories import LATER, NOW, policy, reply

OLD_NO = "厦医保规〔2019〕2号"
OLD_TITLE = "厦门市医疗保障局关于规范门诊特殊病种管理的通知"
ABOLISH = f"本通知自2025年4月1日起施行。原《{OLD_TITLE}》（厦医保规[2019]2号）同时废止。"


EARLIER = "2025-08-01T02:00:00Z"
PORTALS = ("fujian_xiamen", "fujian_ningde")


def crawled_before(db: sqlite_utils.Database, portals: tuple[str, ...] = PORTALS) -> None:
    """The portals' first (baseline) crawls are behind them: what the tests record is news."""
    for portal in portals:
        healthy_run(db, EARLIER, portal)


@pytest.fixture(autouse=True)
def _baselines_complete(db: sqlite_utils.Database) -> None:
    crawled_before(db)


def old_policy(**changes: Any) -> DocumentRecord:
    fields: dict[str, Any] = {
        "portal_id": "fujian_xiamen", "title": OLD_TITLE, "doc_no": OLD_NO, "doc_no_raw": "厦医保规[2019]2号",
        "bureau": "厦门市医疗保障局", "region_code": "350200", "index_no": "XM-2019-0002", "published_on": "2019-03-01",
        "body_text": "各有关单位：\n现就门诊特殊病种管理有关事项通知如下。\n一、……",
    }  # fmt: skip
    return policy("https://xm.example.gov.cn/zcwj/old.html", **{**fields, **changes})


def new_policy(body: str = ABOLISH, url: str = "https://xm.example.gov.cn/zcwj/new.html", **changes: Any) -> DocumentRecord:
    fields: dict[str, Any] = {
        "portal_id": "fujian_xiamen", "title": "厦门市医疗保障局关于门诊特殊病种管理的通知", "doc_no": "厦医保规〔2025〕1号",
        "doc_no_raw": "厦医保规〔2025〕1号", "bureau": "厦门市医疗保障局", "region_code": "350200",
        "index_no": "XM-2025-0001", "published_on": "2025-03-20",
        "body_text": "各有关单位：\n为进一步规范门诊特殊病种管理，现通知如下。\n" + body,
    }  # fmt: skip
    return policy(url, **{**fields, **changes})


def citing_reply(text: str, url: str = "https://nd.example.gov.cn/jytabl/r9.html", **changes: Any) -> DocumentRecord:
    return reply(url, body_text="张三代表：\n您的建议收悉，现答复如下。\n" + text, **changes)


def doc_id(db: sqlite_utils.Database, url: str) -> int:
    return int(db.execute("SELECT document_id FROM postings WHERE url = ?", [url]).fetchone()[0])


def superseded(db: sqlite_utils.Database) -> list[tuple[int, str]]:
    return [(e.document_id or 0, e.summary) for e in list_events(db, kind="superseded")]


# --- resolution --------------------------------------------------------------------------------------


def test_a_citation_resolves_by_doc_no_across_portals(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    text = "根据《关于门诊特病的那份通知》（厦医保规（2019）第2号）规定，您提出的问题已解决。"
    record(db, citing_reply(text), run_id=run_id, now=NOW)
    old, rep = doc_id(db, old_policy().url), doc_id(db, citing_reply("").url)
    (link,) = document_links(db, rep)["cites"]
    assert (link.relation, link.document_id, link.doc_no) == ("implements", old, OLD_NO)
    assert link.title == OLD_TITLE  # the archived document's title, not the (wrong) one the reply gave
    assert [(c.document_id, c.relation) for c in citing_documents(db, old)] == [(rep, "implements")]
    assert document_links(db, old)["cited_by"][0].title == citing_reply("").title


def test_a_title_without_doc_no_resolves_by_exact_title(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, citing_reply(f"按照《{OLD_TITLE}》的规定办理。"), run_id=run_id, now=NOW)
    rep = doc_id(db, citing_reply("").url)
    (link,) = document_links(db, rep)["cites"]
    assert link.document_id == doc_id(db, old_policy().url)
    record(db, citing_reply("按照《厦门市医疗保障局关于规范门诊特殊病种的通知》办理。", url="https://nd.example.gov.cn/r2.html",
                            proposal_no="0106"), run_id=run_id, now=NOW)  # fmt: skip
    (near,) = document_links(db, doc_id(db, "https://nd.example.gov.cn/r2.html"))["cites"]
    assert near.document_id is None  # not the exact title: kept, unresolved


def test_an_unresolved_citation_resolves_when_the_cited_document_arrives(
    db: sqlite_utils.Database, run_id: int
) -> None:
    record(db, citing_reply("根据《厦门市医疗保障局关于规范门诊特殊病种管理的通知》（厦医保规〔2019〕2号）执行。"),
           run_id=run_id, now=NOW)  # fmt: skip
    rep = doc_id(db, citing_reply("").url)
    (waiting,) = document_links(db, rep)["cites"]
    assert waiting.document_id is None
    assert waiting.doc_no == OLD_NO
    record(db, old_policy(), run_id=run_id, now=LATER)
    old = doc_id(db, old_policy().url)
    assert [link.document_id for link in document_links(db, rep)["cites"]] == [old]
    assert [c.document_id for c in citing_documents(db, old)] == [rep]


def test_an_ambiguous_title_prefers_the_citing_documents_portal_else_stays_unresolved(
    db: sqlite_utils.Database, run_id: int
) -> None:
    title = "关于做好2025年城乡居民基本医疗保险参保工作的通知"
    body = "各县（区）：\n现就参保工作通知如下。"
    ningde = policy("https://nd.example.gov.cn/p.html", title=title, doc_no=None, doc_no_raw=None, index_no="ND-1",
                    body_text=body + "宁德")  # fmt: skip
    xiamen = policy("https://xm.example.gov.cn/p.html", portal_id="fujian_xiamen", title=title, doc_no=None,
                    doc_no_raw=None, bureau="厦门市医疗保障局", index_no="XM-1", body_text=body + "厦门")  # fmt: skip
    record(db, ningde, run_id=run_id, now=NOW)
    record(db, xiamen, run_id=run_id, now=NOW)
    record(db, citing_reply(f"按照《{title}》要求，我局已部署。"), run_id=run_id, now=NOW)  # on fujian_ningde
    elsewhere = citing_reply(f"按照《{title}》要求。", url="https://fz.example.gov.cn/r.html", portal_id="fujian_fuzhou",
                             bureau="福州市医疗保障局", proposal_no="0301")  # fmt: skip
    record(db, elsewhere, run_id=run_id, now=NOW)
    (same_portal,) = document_links(db, doc_id(db, citing_reply("").url))["cites"]
    assert same_portal.document_id == doc_id(db, ningde.url)
    (ambiguous,) = document_links(db, doc_id(db, elsewhere.url))["cites"]
    assert ambiguous.document_id is None


def test_a_document_never_resolves_a_citation_to_itself(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    renamed = old_policy(title="厦门市医疗保障局关于规范门诊特殊病种管理的补充通知",
                         body_text=f"《{OLD_TITLE}》的附件一调整如下。")  # its own former title  # fmt: skip
    record(db, renamed, run_id=run_id, now=LATER)
    own = doc_id(db, renamed.url)
    (link,) = document_links(db, own)["cites"]
    assert link.title == OLD_TITLE
    assert link.document_id is None


def test_cites_where_selects_the_documents_citing_a_doc_no_or_title(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, citing_reply("根据厦医保规〔2019〕2号文件精神办理。"), run_id=run_id, now=NOW)
    record(db, old_policy(), run_id=run_id, now=NOW)
    rep = doc_id(db, citing_reply("").url)

    def matching(value: str) -> list[int]:
        clause, params = cites_where([value])
        return [r[0] for r in db.execute(f"SELECT d.id FROM documents d WHERE {clause} ORDER BY d.id", params)]

    assert matching("厦医保规[2019]2号") == [rep]
    assert matching(f"《{OLD_TITLE}》") == [rep]  # the title of the document the 文号 resolved to
    assert matching("厦医保规〔2019〕3号") == []


# --- lineage -------------------------------------------------------------------------------------------


def later_run(db: sqlite_utils.Database, now: str = LATER) -> int:
    """A crawl run after the one that archived the fixtures' first documents."""
    return start_run(db, "fujian_xiamen", now=now)


def test_an_abolishing_policy_supersedes_the_old_one_exactly_once(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    second = later_run(db)
    event = record(db, new_policy(), run_id=second, now=LATER)
    assert event is not None
    assert event.kind == "new"
    old, new = doc_id(db, old_policy().url), doc_id(db, new_policy().url)
    [(subject, summary)] = superseded(db)
    assert subject == old
    assert OLD_TITLE in summary
    assert "厦医保规〔2025〕1号" in summary
    (sup,) = list_events(db, kind="superseded")
    assert sup.run_id == second
    replacer = lineage_of_event(db, sup.id)
    assert replacer is not None
    assert (replacer.document_id, replacer.relation, replacer.url) == (new, "abolishes", new_policy().url)
    links = document_links(db, old)
    assert [(link.document_id, link.relation) for link in links["replaced_by"]] == [(new, "abolishes")]
    assert [link.document_id for link in document_links(db, new)["replaces"]] == [old]
    nodes, edges = lineage_graph(db, new)
    assert [n.id for n in nodes] == [old, new]
    assert edges == [(old, new, "abolishes")]

    # a re-crawl, a new version still saying so, a batch re-store, in later runs: no second event
    record(db, new_policy(), run_id=later_run(db), now=LATER)
    record(db, new_policy(body=ABOLISH + "\n特此通知。"), run_id=later_run(db), now="2025-08-20T02:00:00Z")
    record_batch(db, [Fetched(new_policy().url, new_policy(body=ABOLISH + "\n特此通知！"))], run_id=later_run(db),
                 now="2025-08-21T02:00:00Z")  # fmt: skip
    assert len(superseded(db)) == 1
    assert [e.kind for e in list_events(db, document_id=new)] == ["new", "edited", "edited"]


def test_an_edit_that_adds_an_abolishing_clause_supersedes_once(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, new_policy(body="本通知自印发之日起施行。"), run_id=run_id, now=NOW)
    assert superseded(db) == []
    record(db, new_policy(), run_id=later_run(db), now=LATER)  # the same policy, now saying it abolishes
    assert [subject for subject, _ in superseded(db)] == [doc_id(db, old_policy().url)]
    record(db, new_policy(body="本通知自印发之日起施行。"), run_id=later_run(db), now=LATER)  # and taking it back
    record(db, new_policy(), run_id=later_run(db), now=LATER)
    assert len(superseded(db)) == 1


def test_a_crawl_archiving_both_documents_records_the_lineage_without_an_event(
    db: sqlite_utils.Database, run_id: int
) -> None:
    record(db, new_policy(), run_id=run_id, now=NOW)
    record(db, old_policy(), run_id=run_id, now=NOW)  # the same run, in the other order: not news either
    old, new = doc_id(db, old_policy().url), doc_id(db, new_policy().url)
    assert db.execute("SELECT document_id, by_document_id, event_id FROM lineage").fetchall() == [(old, new, None)]
    assert superseded(db) == []
    # once recorded, later runs do not announce it either
    record(db, new_policy(body=ABOLISH + "\n特此通知。"), run_id=later_run(db), now=LATER)
    assert superseded(db) == []


def test_a_supersession_read_during_a_portals_baseline_is_recorded_without_an_event(
    db: sqlite_utils.Database, run_id: int
) -> None:
    """A backfill cut into several runs: the first archives the old policy, a later one (the portal's baseline
    still incomplete) the policy abolishing it. History, not news: the lineage without an event."""
    db.execute("DELETE FROM runs WHERE portal_id = 'fujian_xiamen'")  # xiamen's first crawl is still going on
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, new_policy(), run_id=later_run(db), now=LATER)
    old, new = doc_id(db, old_policy().url), doc_id(db, new_policy().url)
    assert db.execute("SELECT document_id, by_document_id, event_id FROM lineage").fetchall() == [(old, new, None)]
    assert superseded(db) == []


def test_the_old_document_arriving_after_the_abolishing_one_is_superseded_silently(
    db: sqlite_utils.Database, run_id: int
) -> None:
    record(db, new_policy(), run_id=run_id, now=NOW)
    record(db, old_policy(), run_id=later_run(db), now=LATER)  # first archived already abolished
    assert [link.document_id for link in document_links(db, doc_id(db, old_policy().url))["replaced_by"]] == [
        doc_id(db, new_policy().url)]  # fmt: skip
    assert superseded(db) == []


def test_a_reply_saying_a_policy_is_abolished_does_not_supersede_it(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, citing_reply(f"原《{OLD_TITLE}》（厦医保规〔2019〕2号）已于今年废止。"), run_id=later_run(db), now=LATER)
    assert document_links(db, doc_id(db, citing_reply("").url))["cites"][0].relation == "abolishes"
    assert superseded(db) == []
    assert db.execute("SELECT COUNT(*) FROM lineage").fetchone()[0] == 0


def test_a_second_abolishing_policy_is_recorded_without_a_second_event(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, new_policy(), run_id=later_run(db), now=LATER)
    third = new_policy(title="厦门市医疗保障局关于门诊特殊病种待遇的通知", doc_no="厦医保规〔2025〕5号",
                       doc_no_raw="厦医保规〔2025〕5号", index_no="XM-2025-0005", published_on="2025-05-01",
                       url="https://xm.example.gov.cn/zcwj/third.html")  # fmt: skip
    record(db, third, run_id=later_run(db), now=LATER)
    old = doc_id(db, old_policy().url)
    assert len(document_links(db, old)["replaced_by"]) == 2
    assert len(superseded(db)) == 1


def test_a_failed_transaction_leaves_no_lineage_and_the_rerun_supersedes_once(
    db: sqlite_utils.Database, run_id: int
) -> None:
    record(db, old_policy(), run_id=run_id, now=NOW)

    def crash(_db: sqlite_utils.Database, event: object) -> None:
        if getattr(event, "kind", None) == "superseded":
            raise RuntimeError("killed while routing")

    second = later_run(db)
    (outcome,) = record_batch(db, [Fetched(new_policy().url, new_policy())], run_id=second, now=LATER, on_event=crash)
    assert isinstance(outcome, RuntimeError)
    assert db.execute("SELECT COUNT(*) FROM lineage").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM postings WHERE url = ?", [new_policy().url]).fetchone()[0] == 0
    assert superseded(db) == []
    record_batch(db, [Fetched(new_policy().url, new_policy())], run_id=second, now=LATER)  # the rerun
    record_batch(db, [Fetched(new_policy().url, new_policy())], run_id=later_run(db), now=LATER)
    assert len(superseded(db)) == 1


# --- expiry --------------------------------------------------------------------------------------------


def test_a_policy_term_expires_exactly_once(db: sqlite_utils.Database, run_id: int) -> None:
    term = new_policy(body="本通知自2024年1月1日起施行，有效期2年。", published_on="2023-12-20")
    record(db, term, run_id=run_id, now=NOW)  # 2025-08-18: valid through 2025-12-31
    lasting = new_policy("本通知自2025年4月1日起施行，有效期5年。", "https://xm.example.gov.cn/zcwj/l.html",
                         doc_no="厦医保规〔2025〕9号", doc_no_raw="厦医保规〔2025〕9号", index_no="XM-9",
                         title="厦门市医疗保障局关于长期护理保险的通知")  # fmt: skip
    record(db, lasting, run_id=run_id, now=NOW)
    assert expire_due(db, date(2025, 12, 31), now=NOW) == []  # still valid on its last day
    (event,) = expire_due(db, date(2026, 1, 1), now=NOW, run_id=run_id)
    assert event.kind == "expired"
    assert event.document_id == doc_id(db, term.url)
    assert "2025-12-31" in event.summary
    assert expire_due(db, date(2026, 1, 2), now=LATER) == []
    record(db, replace(term, body_text=term.body_text + "\n特此通知。"), run_id=run_id, now=LATER)  # a new version
    assert expire_due(db, date(2026, 2, 1), now=LATER) == []
    assert [e.document_id for e in expire_due(db, date(2030, 4, 1), now=LATER)] == [doc_id(db, lasting.url)]
    assert len(list_events(db, kind="expired")) == 2


def test_a_term_already_ended_when_first_archived_is_marked_without_an_event(
    db: sqlite_utils.Database, run_id: int
) -> None:
    ended = new_policy(body="本通知自2020年1月1日起施行，有效期2年。", published_on="2019-12-20")
    record(db, ended, run_id=run_id, now=NOW)
    assert term_of(db, doc_id(db, ended.url)) == {"effective_from": "2020-01-01", "valid_years": 2,
                                                  "expires_on": "2021-12-31", "expired": True}  # fmt: skip
    assert expire_due(db, date(2026, 1, 1), now=LATER) == []
    assert list_events(db, kind="expired") == []


def test_expired_events_are_routed_in_their_transaction(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, new_policy(body="本办法有效期至2025年12月31日。"), run_id=run_id, now=NOW)
    seen: list[str] = []
    expire_due(db, date(2026, 1, 1), now=LATER, on_event=lambda _db, e: seen.append(e.kind))
    assert seen == ["expired"]


# --- backfill ------------------------------------------------------------------------------------------


def test_rebuild_links_an_archive_stored_before_citations_without_events(
    db: sqlite_utils.Database, run_id: int
) -> None:
    record(db, citing_reply(f"根据《{OLD_TITLE}》（厦医保规〔2019〕2号）办理。"), run_id=run_id, now=NOW)
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, new_policy(body=ABOLISH + "有效期2年。"), run_id=run_id, now=NOW)  # 2025-04-01 .. 2027-03-31
    record(db, new_policy(body="本通知自2020年1月1日起施行，有效期2年。", url="https://xm.example.gov.cn/zcwj/e.html",
                          index_no="XM-E", doc_no="厦医保规〔2019〕9号", doc_no_raw="厦医保规〔2019〕9号",
                          title="厦门市医疗保障局关于已到期事项的通知", published_on="2019-12-01"),
           run_id=run_id, now=NOW)  # fmt: skip
    before = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("lineage", "citation_targets")}
    cited = db.execute("SELECT document_id, relation, key, cited_document_id FROM citations ORDER BY id").fetchall()
    events = len(list_events(db))
    for table in ("lineage", "citations", "citation_targets", "policy_terms"):
        db.execute(f"DELETE FROM {table}")
    db.conn.commit()
    assert rebuild_citations(db) == 4
    assert expire_due(db, date(2026, 1, 1), now=LATER) == []  # the ended term is marked, not announced
    assert db.execute("SELECT document_id, relation, key, cited_document_id FROM citations ORDER BY id").fetchall() \
        == cited
    assert db.execute("SELECT * FROM citation_targets ORDER BY 1, 2").fetchall() == before["citation_targets"]
    lineage = db.execute("SELECT document_id, by_document_id, relation, event_id FROM lineage").fetchall()
    assert lineage == [(doc_id(db, old_policy().url), doc_id(db, new_policy().url), "abolishes", None)]
    assert len(list_events(db)) == events


@pytest.mark.parametrize("kind", [KIND_POLICY, KIND_NOTICE])
def test_only_policies_and_notices_keep_a_term(db: sqlite_utils.Database, run_id: int, kind: str) -> None:
    record(db, citing_reply("该政策有效期5年，自2020年1月1日起施行。"), run_id=run_id, now=NOW)
    record(db, new_policy(body="本通知自2020年1月1日起施行，有效期2年。", kind=kind), run_id=run_id, now=NOW)
    terms = db.execute("SELECT document_id, valid_years, expires_on FROM policy_terms").fetchall()
    assert terms == [(doc_id(db, new_policy().url), 2, "2021-12-31")]


def test_opening_an_archive_from_before_citations_links_it(db_path: Path, db: sqlite_utils.Database, run_id: int) -> None:
    record(db, citing_reply(f"根据《{OLD_TITLE}》（厦医保规〔2019〕2号）办理。"), run_id=run_id, now=NOW)
    record(db, old_policy(), run_id=run_id, now=NOW)
    for table in ("lineage", "citations", "citation_targets", "policy_terms"):  # as m004 left it
        db.execute(f"DROP TABLE {table}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_citations'")
    db.conn.commit()
    db.close()
    upgraded = open_db(db_path)
    (link,) = document_links(upgraded, doc_id(upgraded, citing_reply("").url))["cites"]
    assert link.document_id == doc_id(upgraded, old_policy().url)
    assert [e.kind for e in list_events(upgraded)] == ["new", "new"]
    upgraded.close()


def test_a_cover_notice_answers_to_the_title_of_what_it_issues(db: sqlite_utils.Database, run_id: int) -> None:
    """Real replies cite 《中山市职工医疗保险办法》 where the archive holds 关于印发《中山市职工医疗保险办法》的通知."""
    cover = old_policy(title="中山市人民政府关于印发《中山市职工医疗保险办法》的通知", doc_no="中府〔2021〕87号",
                       doc_no_raw="中府〔2021〕87号")  # fmt: skip
    record(db, cover, run_id=run_id, now=NOW)
    record(db, citing_reply("按照《中山市职工医疗保险办法》的规定，门诊费用纳入统筹。"), run_id=run_id, now=NOW)
    (link,) = document_links(db, doc_id(db, citing_reply("").url))["cites"]
    assert link.document_id == doc_id(db, cover.url)
