from __future__ import annotations

from dataclasses import replace

import pytest
import sqlite_utils

from core.records import Attachment
from storage import get_posting, list_events, record, search_ids, touch
from storage.events import Event
from tests.storage.factories import BODY, LATER, NOW, notice, policy, reply


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    tables = ("documents", "postings", "versions", "events", "identity_keys", "fingerprints")
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def test_new_document(db: sqlite_utils.Database, run_id: int) -> None:
    event = record(db, policy(), run_id=run_id, now=NOW, etag='"e1"', column="政策文件")
    assert event is not None
    assert (event.kind, event.changed_fields, event.run_id) == ("new", (), run_id)
    assert event.summary == "新文档：宁德市医疗保障局关于调整DIP基准等级系数的通知"
    assert counts(db) | {"identity_keys": 0} == {
        "documents": 1, "postings": 1, "versions": 1, "events": 1, "identity_keys": 0, "fingerprints": 0,
    }  # fmt: skip
    assert db.execute("SELECT COUNT(*) FROM identity_keys").fetchone()[0] == 2  # 文号 and 索引号
    doc = db.execute("SELECT * FROM documents").fetchone()
    columns = [c[0] for c in db.execute("SELECT * FROM documents").description]
    doc = dict(zip(columns, doc, strict=True))
    assert doc["status"] == "active"
    assert doc["doc_no"] == "宁医保〔2025〕116号"
    assert doc["latest_version_id"] == event.version_id
    assert doc["first_seen_at"] == NOW
    posting = get_posting(db, policy().url)
    assert posting is not None
    assert (posting.etag, posting.column_name, posting.gone_checks) == ('"e1"', "政策文件", 0)
    assert list_events(db) == [event]


def test_identical_recrawl_creates_nothing(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    before = counts(db)
    assert record(db, policy(), run_id=run_id, now=LATER) is None
    assert counts(db) == before
    posting = get_posting(db, policy().url)
    assert posting is not None
    assert (posting.first_seen_at, posting.last_seen_at) == (NOW, LATER)


def test_noise_is_not_a_change(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    noisy = policy(
        body_text=BODY.replace("2025", "２０２５").replace("\n", "\n\n  ") + "\n",
        published_on="2025-08-19",
        title=" 宁德市医疗保障局关于调整ＤＩＰ基准等级系数的通知 ",
        doc_no="宁医保〔2025〕0116号",
        attachments=[Attachment("附件1.pdf", "https://ybj.example.gov.cn/a1.pdf?t=999", sha256="ab" * 32)],
    )
    assert record(db, noisy, run_id=run_id, now=LATER) is None
    assert counts(db)["versions"] == 1


@pytest.mark.parametrize(
    ("changes", "kind", "fields"),
    [
        ({"body_text": BODY + "\n四、补充条款。"}, "edited", ("body_text",)),
        ({"title": "宁德市医疗保障局关于调整DIP基准等级系数的补充通知"}, "edited", ("title",)),
        ({"validity": "失效"}, "validity_changed", ("validity",)),
        (
            {"validity": "失效", "body_text": BODY + "（已废止）"},
            "validity_changed",
            ("body_text", "validity"),
        ),
        (
            {"attachments": [Attachment("附件1.pdf", "x", sha256="cd" * 32)]},
            "metadata_changed",
            ("attachments",),
        ),
        ({"index_no": "11350900MB1889012X/2025-00124"}, "metadata_changed", ("index_no",)),
    ],
    ids=["body", "title", "validity", "validity+body", "attachment", "index_no"],
)
def test_changes_make_one_version_and_event(
    db: sqlite_utils.Database, run_id: int, changes: dict[str, object], kind: str, fields: tuple[str, ...]
) -> None:
    first = record(db, policy(), run_id=run_id, now=NOW)
    assert first is not None
    event = record(db, policy(**changes), run_id=run_id, now=LATER)
    assert event is not None
    assert (event.kind, event.changed_fields) == (kind, fields)
    assert event.prev_version_id == first.version_id
    assert event.version_id != first.version_id
    assert counts(db)["documents"] == 1
    assert counts(db)["versions"] == 2
    assert [e.kind for e in list_events(db)] == ["new", kind]
    latest = db.execute("SELECT latest_version_id, last_changed_at FROM documents").fetchone()
    assert latest == (event.version_id, LATER)
    version_nos = [r[0] for r in db.execute("SELECT version_no FROM versions ORDER BY id")]
    assert version_nos == [1, 2]
    # ... and a re-crawl of the changed page is quiet again
    assert record(db, policy(**changes), run_id=run_id, now=LATER) is None


def test_validity_summary(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    event = record(db, policy(validity="失效"), run_id=run_id, now=LATER)
    assert event is not None
    assert event.summary.startswith("有效性 有效 → 失效")


def test_edit_updates_full_text_index(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    assert search_ids(db, "稽核") == {1}
    record(db, policy(body_text=BODY.replace("稽核", "检查") + "长护险试点"), run_id=run_id, now=LATER)
    assert search_ids(db, "稽核") == set()
    assert search_ids(db, "长护险") == {1}
    assert search_ids(db, "异地就医") == {1}


def test_repost_with_same_doc_no_is_one_document(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    repost = policy(
        url="https://ybj.fujian.gov.cn/zfxxgk/copy.html",
        portal_id="fujian",
        index_no=None,  # the provincial portal prints no 索引号 ...
        doc_no="宁医保[2025]116号",  # ... and other brackets
        body_text="来源：宁德市医疗保障局\n" + BODY,  # and its own template line
    )
    assert record(db, repost, run_id=run_id, now=LATER) is None
    assert counts(db)["documents"] == 1
    assert counts(db)["postings"] == 2
    assert counts(db)["versions"] == 1
    assert {p[0] for p in db.execute("SELECT document_id FROM postings")} == {1}
    # re-crawling both postings, each unchanged, never flip-flops versions
    for _ in range(2):
        assert record(db, policy(), run_id=run_id, now=LATER) is None
        assert record(db, repost, run_id=run_id, now=LATER) is None
    assert counts(db)["versions"] == 1


def test_repost_matched_by_index_no_or_proposal_key(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(doc_no=None), run_id=run_id, now=NOW)
    assert (
        record(db, policy(url="https://other/1", doc_no=None, portal_id="x"), run_id=run_id, now=NOW) is None
    )
    record(db, reply(), run_id=run_id, now=NOW)
    assert record(db, reply(url="https://other/2", proposal_no="105"), run_id=run_id, now=NOW) is None
    assert counts(db)["documents"] == 2
    assert counts(db)["postings"] == 4


def test_edit_at_one_posting_of_a_reposted_document(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    repost = policy(url="https://ybj.fujian.gov.cn/copy.html", portal_id="fujian")
    record(db, repost, run_id=run_id, now=NOW)
    edited = record(db, policy(validity="失效"), run_id=run_id, now=LATER)
    assert edited is not None
    assert edited.kind == "validity_changed"
    # the repost has not caught up yet: its unchanged hash is not a change of the document
    assert record(db, repost, run_id=run_id, now=LATER) is None
    # when it catches up, the document already has that version
    assert record(db, replace(repost, validity="失效"), run_id=run_id, now=LATER) is None
    assert counts(db)["versions"] == 2


def test_metadata_only_one_posting_prints_is_no_edit(db: sqlite_utils.Database, run_id: int) -> None:
    """A gkmlpt page (with 索引号) and its NFCMS column page (without), the column page archived first:
    an edit is one event naming the body only, whichever page brings it."""
    column_page = policy(url="https://zs.example.gov.cn/post_1.html", index_no=None)
    gkmlpt_page = policy(url="https://zs.example.gov.cn/gkmlpt/content/1.html")
    assert record(db, column_page, run_id=run_id, now=NOW).kind == "new"
    assert record(db, gkmlpt_page, run_id=run_id, now=NOW) is None  # the same document at a second URL
    body = BODY.replace("不得自行调整", "可以适当调整")
    edited = record(db, replace(gkmlpt_page, body_text=body), run_id=run_id, now=LATER)
    assert (edited.kind, list(edited.changed_fields)) == ("edited", ["body_text"])
    assert record(db, replace(column_page, body_text=body), run_id=run_id, now=LATER) is None
    assert counts(db)["versions"] == 2


def test_metadata_a_lone_posting_starts_printing_is_a_change(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(index_no=None), run_id=run_id, now=NOW)
    changed = record(db, policy(), run_id=run_id, now=LATER)
    assert (changed.kind, list(changed.changed_fields)) == ("metadata_changed", ["index_no"])


def test_keyless_repost_found_by_minhash(db: sqlite_utils.Database, run_id: int) -> None:
    first = record(db, notice("https://a/1", BODY), run_id=run_id, now=NOW)
    assert first is not None
    assert counts(db)["fingerprints"] == 1
    bands = db.execute("SELECT COUNT(*) FROM fingerprint_bands").fetchone()[0]
    assert bands == 10
    near = notice(
        "https://b/2", BODY.replace("。", "。 ").replace("严肃查处", "严厉查处"), title="转发：宣传月"
    )
    assert record(db, near, run_id=run_id, now=LATER) is None
    assert counts(db)["documents"] == 1
    assert counts(db)["postings"] == 2
    other = notice(
        "https://c/3", "关于公布2025年度定点医药机构名单的公告。" * 3 + "具体名单见附件，请参保人知悉。"
    )
    assert record(db, other, run_id=run_id, now=LATER) is not None
    assert counts(db)["documents"] == 2


def test_short_keyless_bodies_are_not_merged(db: sqlite_utils.Database, run_id: int) -> None:
    assert record(db, notice("https://a/1", "详见附件。", title="通知一"), run_id=run_id, now=NOW)
    assert record(db, notice("https://a/2", "详见附件。", title="通知二"), run_id=run_id, now=NOW)
    assert counts(db)["documents"] == 2
    assert counts(db)["fingerprints"] == 0


def test_keyless_edit_refreshes_fingerprint(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, notice("https://a/1", BODY), run_id=run_id, now=NOW)
    new_body = BODY + "\n四、" + "新增门诊共济保障条款，明确个人账户家庭共济范围。" * 4
    event = record(db, notice("https://a/1", new_body), run_id=run_id, now=LATER)
    assert event is not None
    assert event.kind == "edited"
    assert counts(db)["fingerprints"] == 2
    assert record(db, notice("https://b/1", new_body), run_id=run_id, now=LATER) is None
    assert counts(db)["documents"] == 1


def test_on_event_runs_inside_the_transaction(db: sqlite_utils.Database, run_id: int) -> None:
    seen: list[tuple[Event, bool, int]] = []

    def on_event(conn: sqlite_utils.Database, event: Event) -> None:
        (rows,) = conn.execute("SELECT COUNT(*) FROM events WHERE id = ?", [event.id]).fetchone()
        seen.append((event, conn.conn.in_transaction, rows))

    event = record(db, policy(), run_id=run_id, now=NOW, on_event=on_event)
    assert seen == [(event, True, 1)]


def test_failing_on_event_rolls_everything_back(db: sqlite_utils.Database, run_id: int) -> None:
    def on_event(conn: sqlite_utils.Database, event: Event) -> None:
        raise RuntimeError("outbox full")

    with pytest.raises(RuntimeError):
        record(db, policy(), run_id=run_id, now=NOW, on_event=on_event)
    assert set(counts(db).values()) == {0}
    assert search_ids(db, "医保") == set()
    assert record(db, policy(), run_id=run_id, now=NOW) is not None


def test_touch(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW, etag='"e1"')
    db.execute("UPDATE postings SET gone_checks = 1")
    assert touch(db, policy().url, run_id=run_id, now=LATER, etag='"e2"') is None
    posting = get_posting(db, policy().url)
    assert posting is not None
    assert (posting.last_seen_at, posting.last_fetched_at, posting.etag, posting.gone_checks) == (
        LATER,
        LATER,
        '"e2"',
        0,
    )
    assert touch(db, "https://unknown/", run_id=run_id, now=LATER) is None
    assert counts(db)["versions"] == 1


def test_batch_rerun_creates_nothing(db: sqlite_utils.Database, run_id: int) -> None:
    from tests.storage.factories import corpus

    batch = corpus(60, seed=3) + [notice(f"https://n/{i}", BODY + str(i) * 3) for i in range(5)]
    events = [record(db, r, run_id=run_id, now=NOW) for r in batch]
    assert sum(e is not None for e in events) == 61  # 60 + the first notice; 4 near-duplicates merge
    before = counts(db)
    assert all(record(db, r, run_id=run_id, now=LATER) is None for r in batch)
    assert counts(db) == before
