"""Read models (storage.views) over a real SQLite archive built with the storage factories."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlite_utils

from core import fields as registry
from core.records import Attachment, Meeting
from storage import add_event, list_events, open_db, record, show_document, touch
from storage.views import as_of, event_views, load_document, load_event, portal_stats
from storage.withdrawals import note_gone
from tests.storage.conftest import healthy_run
from tests.storage.factories import BODY, LATER, NOW, policy, reply

LATEST = "2025-08-20T02:00:00Z"
REPOST = "https://ybj.fujian.gov.cn/zfxxgk/copy.html"


@pytest.fixture
def archive(db: sqlite_utils.Database, run_id: int) -> sqlite_utils.Database:
    """A policy in three versions (body edited, then validity), reposted on a second portal, and a reply."""
    record(db, policy(), run_id=run_id, now=NOW)
    record(db, policy(url=REPOST, portal_id="fujian", index_no=None), run_id=run_id, now=NOW)
    record(db, policy(body_text=BODY + "\n四、补充条款。"), run_id=run_id, now=LATER)
    record(db, policy(body_text=BODY + "\n四、补充条款。", validity="失效"), run_id=run_id, now=LATEST)
    record(db, reply(), run_id=run_id, now=NOW)
    return db


def test_document_view(archive: sqlite_utils.Database) -> None:
    view = load_document(archive, 1)
    assert view is not None
    assert (view.id, view.title) == (1, policy().title)
    assert view.row["validity"] == "失效"
    assert view.latest["version_no"] == 3
    assert view.body_text.endswith("四、补充条款。")
    assert [p.url for p in view.postings] == [policy().url, REPOST]  # first seen first
    assert view.portals == ("fujian", "fujian_ningde")
    assert view.versions is None  # not loaded without history
    with pytest.raises(ValueError, match="history"):
        list(view.diff_inputs())
    assert load_document(archive, 99) is None


def test_document_view_mapping_is_what_watchers_match(archive: sqlite_utils.Database) -> None:
    view = load_document(archive, 1)
    assert view is not None
    mapping = view.as_mapping()
    columns = [c[1] for c in archive.execute("PRAGMA table_xinfo(documents)")]
    assert set(mapping) == {*columns, "body_text", "portals"}
    assert mapping["body_text"] == view.body_text
    assert mapping["portals"] == ("fujian", "fujian_ningde")


def test_document_view_with_history(archive: sqlite_utils.Database) -> None:
    view = load_document(archive, 1, history=True)
    assert view is not None
    assert view.versions is not None
    assert view.events is not None
    assert [(v.no, v.event.kind if v.event else None) for v in view.versions] == [
        (1, "new"), (2, "edited"), (3, "validity_changed")
    ]  # fmt: skip
    assert [e.kind for e in view.events] == ["new", "edited", "validity_changed"]
    pairs = list(view.diff_inputs())
    assert [(prev["version_no"] if prev else None, v.no) for prev, v in pairs] == [(2, 3), (1, 2), (None, 1)]
    assert pairs[0][1].record["validity"] == "失效"
    assert view.versions[-1].record == view.latest


def test_document_view_shows_registry_fields(archive: sqlite_utils.Database) -> None:
    view = load_document(archive, 2)
    assert view is not None
    shown = {name: (zh, text) for name, zh, _, text in view.shown()}
    assert shown["kind"] == ("类别", "建议答复")
    assert shown["status"] == ("状态", "active")
    assert shown["meeting"] == ("会议", "市十六届人大五次会议")
    assert shown["deputies"] == ("代表/委员", "张三、李四")
    assert shown["first_seen_at"] == ("首次发现", NOW)
    assert list(shown) == [n for n in registry.SHOW_ORDER if n in shown]  # in show order


def test_show_document_is_the_document_view_as_data(archive: sqlite_utils.Database) -> None:
    shown = show_document(archive, 1)
    assert shown is not None
    assert shown["document"]["deputies"] == []
    assert shown["record"]["version_no"] == 3
    assert [p["url"] for p in shown["postings"]] == [policy().url, REPOST]
    assert set(shown["postings"][0]) == {"url", "portal_id", "column", "status", "first_seen_at", "last_seen_at"}
    assert [(v["no"], v["event_kind"], v["changed_fields"]) for v in shown["versions"]] == [
        (1, "new", []), (2, "edited", ["body_text"]), (3, "validity_changed", ["validity"])
    ]  # fmt: skip
    assert show_document(archive, 99) is None


def test_event_view_is_the_document_as_of_its_version(archive: sqlite_utils.Database) -> None:
    new, edited, validity = (e for e in list_events(archive, document_id=1))
    first = load_event(archive, new.id)
    assert first is not None
    assert first.document is not None
    assert first.document["validity"] == "有效"  # the row says 失效 now; version 1 said 有效
    assert first.document["body_text"] == BODY
    assert first.changes is not None
    assert first.changes.is_new
    assert first.previous is None

    second = load_event(archive, edited.id)
    assert second is not None
    assert second.document is not None
    assert (second.previous["version_no"], second.current["version_no"]) == (1, 2)  # type: ignore[index]
    assert second.document["validity"] == "有效"
    assert second.changes is not None
    assert second.changes.counts()["added"] == 1
    assert second.changes.changed_fields() == list(edited.changed_fields) == ["body_text"]

    third = load_event(archive, validity.id)
    assert third is not None
    assert third.document is not None
    assert third.document["validity"] == "失效"
    assert third.changes is not None
    assert third.changes.summary() == "有效性 有效 → 失效"
    assert third.source_url == policy().url
    assert third.document["portals"] == ("fujian", "fujian_ningde")
    assert [(zh, text) for _, zh, _, text in third.shown(("validity", "doc_no"))] == [
        ("有效性", "失效"), ("文号", "宁医保〔2025〕116号")
    ]  # fmt: skip
    assert load_event(archive, 999) is None


def test_as_of_keeps_the_archive_columns(archive: sqlite_utils.Database) -> None:
    view = load_document(archive, 2)
    assert view is not None
    version = {**view.latest, "meeting": None, "deputies": ["王五"], "title": "旧标题"}
    row = as_of(view.row, version)
    assert (row["title"], row["meeting_text"], row["deputies"]) == ("旧标题", None, '["王五"]')
    assert (row["status"], row["first_seen_at"], row["id"]) == ("active", NOW, 2)


def test_withdrawn_and_ops_events_have_no_diff(db: sqlite_utils.Database) -> None:
    first = healthy_run(db, NOW)
    record(db, policy(), run_id=first, now=NOW)
    withdrawn = None
    for i, when in enumerate(("2025-08-19T02:00:00Z", "2025-08-20T02:00:00Z", "2025-08-21T02:00:00Z")):
        run = healthy_run(db, when)
        withdrawn = note_gone(db, policy().url, run_id=run, now=when) or withdrawn
        assert i < 2 or withdrawn is not None
    assert withdrawn is not None
    assert withdrawn.kind == "withdrawn"
    view = load_event(db, withdrawn.id)
    assert view is not None
    assert view.document is not None
    assert view.document["status"] == "withdrawn"
    assert (view.has_diff, view.changes) == (False, None)
    reappeared = touch(db, policy().url, run_id=None, now=LATEST)
    assert reappeared is not None
    again = load_event(db, reappeared.id)
    assert again is not None
    assert again.changes is None  # back without a content change: no new version, no diff

    ops = add_event(db, kind="portal_broken", document_id=None, now=LATEST, portal_id="fujian_ningde", url=None,
                    summary="门户异常：fujian_ningde")
    ops_view = load_event(db, ops.id)
    assert ops_view is not None
    assert (ops_view.document, ops_view.changes, ops_view.shown()) == (None, None, [])
    assert [v.event.id for v in event_views(db, [ops, withdrawn])] == [ops.id, withdrawn.id]


def test_portal_stats(archive: sqlite_utils.Database) -> None:
    stats = portal_stats(archive, "fujian_ningde", since=LATER)
    assert (stats.documents, stats.events_since) == (2, 2)  # the edit and the validity change
    assert stats.runs
    assert stats.last_finished is None
    assert portal_stats(archive, "fujian", since=NOW).documents == 1
    assert portal_stats(archive, "nowhere", since=NOW).documents == 0


def test_every_documents_column_is_in_the_registry(db: sqlite_utils.Database) -> None:
    columns = {c[1] for c in db.execute("PRAGMA table_xinfo(documents)")}
    registered = {f.column for f in (*registry.FIELDS, *registry.ARCHIVE_FIELDS) if f.column}
    assert columns == registered


# --- what makes a version, through the archive ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"meeting": Meeting("city", "npc", 16, 4, text="市十六届人大四次会议")}, ["meeting"]),
        ({"deputies": ["张三", "王五"]}, ["deputies"]),
        ({"proposal_no": "0106"}, ["proposal_no"]),
    ],
    ids=["meeting", "deputies", "proposal_no"],
)
def test_a_field_the_diff_shows_makes_a_version(
    db: sqlite_utils.Database, run_id: int, changes: dict[str, object], fields: list[str]
) -> None:
    record(db, reply(), run_id=run_id, now=NOW)
    event = record(db, reply(**changes), run_id=run_id, now=LATER)
    assert event is not None
    assert (event.kind, list(event.changed_fields)) == ("metadata_changed", fields)
    view = load_event(db, event.id)
    assert view is not None
    assert view.changes is not None
    assert view.changes.changed_fields() == fields  # what made the version is what the diff shows
    assert event.summary.startswith(f"信息变更（{registry.label(fields[0])}）")


def test_a_failed_attachment_download_is_no_version(db: sqlite_utils.Database, run_id: int) -> None:
    record(db, policy(), run_id=run_id, now=NOW)
    unknown = [Attachment("附件1.pdf", "https://ybj.example.gov.cn/a1.pdf")]  # no sha256: the fetch failed
    assert record(db, policy(attachments=unknown), run_id=run_id, now=LATER) is None
    assert record(db, policy(), run_id=run_id, now=LATEST) is None  # and its content known again: still none
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1


def test_an_older_comparison_scheme_rebaselines_quietly(db: sqlite_utils.Database, run_id: int) -> None:
    """A posting hashed by an older scheme (c1) is re-hashed on its next fetch without an event, even if a
    field the old scheme ignored differs; a real change after that is an event again."""
    record(db, reply(), run_id=run_id, now=NOW)
    db.execute("UPDATE postings SET content_hash = 'c1:0000' WHERE url = ?", [reply().url])
    moved = reply(meeting=Meeting("city", "npc", 16, 4, text="市十六届人大四次会议"))
    assert record(db, moved, run_id=run_id, now=LATER) is None
    (content_hash,) = db.execute("SELECT content_hash FROM postings WHERE url = ?", [reply().url]).fetchone()
    assert content_hash.startswith("c2:")
    event = record(db, replace(moved, reply_class="B"), run_id=run_id, now=LATEST)
    assert event is not None
    assert list(event.changed_fields) == ["reply_class", "meeting"]  # against the latest version


def test_open_db_for_views_is_read_only_work(db_path, archive: sqlite_utils.Database) -> None:
    """The views write nothing: building them leaves the database's change counter alone."""
    before = archive.execute("PRAGMA data_version").fetchone()[0]
    other = open_db(db_path)
    try:
        load_document(other, 1, history=True)
        for event in list_events(other):
            view = load_event(other, event.id)
            assert view is not None
            _ = view.changes
        portal_stats(other, "fujian_ningde", since=NOW)
        assert other.execute("SELECT total_changes()").fetchone()[0] == 0
    finally:
        other.close()
    assert archive.execute("PRAGMA data_version").fetchone()[0] == before
