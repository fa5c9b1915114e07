"""m012's deputy_names: each distinct deputy name of document_deputies with its number of documents, kept by
triggers through new documents, edits that change the deputies, and deleted documents."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlite_utils

from storage import open_db, record, start_run
from storage.db import write_transaction
from tests.storage.factories import NOW, reply

LATER = "2026-03-02T08:00:00+00:00"


def grouped(db: sqlite_utils.Database) -> list[tuple[str, int]]:
    return db.execute("SELECT name, COUNT(*) FROM document_deputies GROUP BY name ORDER BY name").fetchall()


def kept(db: sqlite_utils.Database) -> list[tuple[str, int]]:
    return db.execute("SELECT name, documents FROM deputy_names ORDER BY name").fetchall()


def test_the_names_follow_the_documents(tmp_path: Path) -> None:
    db = open_db(tmp_path / "archive.db")
    run_id = start_run(db, "t", now=NOW)
    first = reply("https://ybj.example.gov.cn/jytabl/r1.html")
    record(db, first, run_id=run_id, now=NOW)
    record(db, reply("https://ybj.example.gov.cn/jytabl/r2.html", proposal_no="第9号", deputies=["张三"],
                     title="关于加强门诊共济保障的建议的答复"), run_id=run_id, now=NOW)  # fmt: skip
    assert kept(db) == grouped(db) == [("张三", 2), ("李四", 1)]
    edited = dataclasses.replace(first, deputies=["王五"], body_text=first.body_text + "补充答复。")
    record(db, edited, run_id=run_id, now=LATER)  # 张三 and 李四 replaced by 王五
    assert kept(db) == grouped(db) == [("张三", 1), ("王五", 1)]
    with write_transaction(db):  # the deputies cleared (m006 deletes its rows; m012 forgets the name at 0)
        (doc_id,) = db.execute("SELECT document_id FROM document_deputies WHERE name = '张三'").fetchone()
        db.execute("UPDATE documents SET deputies = '[]' WHERE id = ?", [doc_id])
    assert kept(db) == grouped(db) == [("王五", 1)]
    db.close()
