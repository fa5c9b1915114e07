"""One small archive for the query tests, built once per session by the real ``storage.record``.

~300 documents from the replicas' corpus generator (as ``benchmarks/search_bench.py`` builds its
archive), plus hand-made records with known text (``HAND``): a rare term in a title and in bodies, phrases
with punctuation and spaces, county/province region codes, a repost on a second portal, an edited
document, a withdrawn one, one without a publication date and one whose title is hostile to CSV and HTML.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from core.records import Attachment, DocumentRecord, Meeting
from replicas.corpus import CorpusGenerator
from storage import finish_run, note_gone, open_db, record, start_run, write_transaction

GENERATED = 300
CORPUS_AT = "2025-01-01T00:00:00Z"
NOW = "2025-08-18T02:00:00Z"
EDITED_AT = "2025-08-19T02:00:00Z"
WITHDRAWN_AT = "2025-08-20T02:00:00Z"
RARE = "萤火"  # in no generated document: only the hand-made ones below
TRICKY_TITLE = '关于"医保,码"推广的通知\n<script>alert(1)</script>'
TRICKY_BODY = '第一段, 含逗号和"引号"。\n第二段：“中文引号”，以及 <b>标签</b>。\n\n第四段, 末尾'
EDITED_BODY_V1 = "一、调整门诊共济保障待遇。\n二、基准等级系数由0.66调整为0.68。"
EDITED_BODY_V2 = "一、调整门诊共济保障待遇。\n二、基准等级系数由0.66调整为0.72。"


def hand(key: str, **fields: Any) -> DocumentRecord:
    base = {
        "url": f"https://test.example.gov.cn/{key}.html",
        "portal_id": "fujian_xiamen",
        "title": f"关于{key}的通知",
        "kind": "notice",
        "bureau": "测试市医疗保障局",
        "region_code": "350200",
        "index_no": f"TEST-{key}",
        "published_on": "2025-05-01",
        "body_text": "为做好相关工作，现通知如下。",
    }
    base.update(fields)
    return DocumentRecord(**base)


HAND: dict[str, DocumentRecord] = {
    "rare_title": hand(
        "rare_title", title=f"关于{RARE}计划试点工作的通知", kind="policy", region_code="350203",
        bureau="厦门市思明区医疗保障局", doc_no="思医保〔2025〕7号", published_on="2025-03-10", validity="有效",
    ),
    "rare_body_once": hand(
        "rare_body_once", title="关于开展政策宣传月活动的通知", region_code="350211",
        body_text="为做好宣传工作，" + f"组织{RARE}志愿服务队深入社区。" + "各单位要高度重视。" * 10,
        published_on="2025-06-30",
    ),
    "rare_body_thrice": hand(
        "rare_body_thrice", title="福建省医疗保障局2024年工作总结", kind="report", region_code="350000",
        bureau="福建省医疗保障局", portal_id="fujian_ningde", published_on="2024-12-31",
        body_text=f"一、{RARE}行动成效明显。\n二、{RARE}工程持续推进。\n三、{RARE}项目全面铺开。",
    ),
    "phrase": hand(
        "phrase", title="关于优化医保服务的通知", kind="policy", region_code="440300", bureau="深圳市医疗保障局",
        portal_id="guangdong_zhongshan", validity="失效", published_on="2025-02-14",
        body_text="推进“互联网+医保”服务，推广异地就医 直接结算，让群众少跑腿。",
    ),
    "phrase_contrast": hand(
        "phrase_contrast", title="关于医保经办的通知", kind="policy", region_code="440300",
        bureau="深圳市医疗保障局", portal_id="guangdong_zhongshan", published_on="2025-02-15",
        body_text="推进互联网医保服务，推广异地就医直接结算。",
    ),
    "reply": hand(
        "reply", title="对市十六届人大五次会议第0105号建议的答复", kind="suggestion_reply", region_code="350900",
        bureau="测试宁德市医疗保障局", portal_id="fujian_ningde", reply_class="A", deputies=["张三", "李四"],
        adoption=["采纳", "部分采纳"], proposal_no="0105", meeting=Meeting("city", "npc", 16, 5, text="市十六届人大五次会议"),
        published_on="2025-08-01", body_text="张三、李四代表：\n您提出的关于推进门诊慢特病待遇保障的建议收悉。",
    ),
    "tricky": hand(
        "tricky", title=TRICKY_TITLE, kind="proposal_reply", reply_class="B", deputies=["王五"],
        doc_no="测医保〔2025〕99号", adoption=["留作参考"], body_text=TRICKY_BODY, published_on="2025-07-07",
        attachments=[Attachment("附件1.pdf", "https://test.example.gov.cn/a1.pdf")],
    ),
    "edited": hand(
        "edited", title="关于调整基准等级系数的通知", kind="policy", doc_no="测医保〔2025〕116号", validity="有效",
        body_text=EDITED_BODY_V1, published_on="2025-04-01",
    ),
    "withdrawn": hand("withdrawn", title="关于暂停某项服务的通知", portal_id="fujian_ningde", published_on="2025-01-20"),
    "undated": hand("undated", title="关于医保政策问答的通知", published_on=None),
}  # fmt: skip
REPOST_URL = "https://sc.example.gov.cn/repost/tricky.html"  # the tricky document again, on sichuan


def fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def to_record(doc: Any) -> DocumentRecord:
    """A generated replica document as the record a crawl would store (its ground truth)."""
    t = doc.truth()
    meeting = Meeting(**t["meeting"], text=doc.meeting.text) if t["meeting"] else None
    return DocumentRecord(
        url=f"http://replica/{doc.portal_id}/{doc.doc_id}", portal_id=doc.portal_id, title=t["title"],
        kind=t["kind"], bureau=t["bureau"], region_code=t["region_code"], index_no=t["index_no"],
        doc_no=t["doc_no"], doc_no_raw=t["doc_no_raw"], meeting=meeting, proposal_no=t["proposal_no"],
        deputies=t["deputies"], proposal_title=t["proposal_title"], reply_class=t["reply_class"],
        adoption=t["adoption"], generated_on=t["generated_on"], published_on=t["published_on"],
        signed_on=t["signed_on"], validity=t["validity"], body_text=t["body_text"],
        attachments=[Attachment(a["name"], "", a["sha256"]) for a in t["attachments"]],
    )  # fmt: skip


@dataclass
class Archive:
    path: Path
    db: sqlite_utils.Database
    ids: dict[str, int]  # HAND key -> document id
    docs: dict[int, dict[str, Any]]  # every document: its row, portals, urls, body, version count, record
    texts: dict[int, str]  # folded title \0 doc_no \0 body: the substring truth of search

    def truth(self, *terms: str) -> set[int]:
        """Documents whose folded title, 文号 or body contains every term (folded)."""
        folded = [fold(t) for t in terms]
        return {i for i, text in self.texts.items() if all(t in text for t in folded)}


def _build(path: Path) -> dict[str, int]:
    db = open_db(path)
    try:
        ids: dict[str, int] = {}
        with write_transaction(db):
            for doc in CorpusGenerator(seed=8).generate(GENERATED):
                record(db, to_record(doc), run_id=None, now=CORPUS_AT)
            for key, rec in HAND.items():
                event = record(db, rec, run_id=None, now=NOW, column="测试栏目")
                assert getattr(event, "kind", None) == "new", key
                ids[key] = event.document_id  # type: ignore[union-attr]
            repost = replace(HAND["tricky"], url=REPOST_URL, portal_id="sichuan")
            assert record(db, repost, run_id=None, now=NOW) is None  # a second posting, no new document
        edit = record(db, replace(HAND["edited"], body_text=EDITED_BODY_V2), run_id=None, now=EDITED_AT)
        assert getattr(edit, "kind", None) == "edited"
        run = start_run(db, "fujian_ningde", now=WITHDRAWN_AT)
        finish_run(db, run, finish_reason="finished", health="ok", stats={}, now=WITHDRAWN_AT)
        gone = note_gone(db, HAND["withdrawn"].url, run_id=run, now=WITHDRAWN_AT, n_required=1)
        assert getattr(gone, "kind", None) == "withdrawn"
        return ids
    finally:
        db.close()


def _snapshot(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    """Every document as plain Python values, read without storage.query (the tests' independent truth)."""
    cursor = db.execute(
        "SELECT d.*, v.body_text AS body_text, v.record_json AS record_json FROM documents d"
        " JOIN versions v ON v.id = d.latest_version_id"
    )
    names = [c[0] for c in cursor.description]
    docs = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    for doc in docs.values():
        doc["deputies"] = json.loads(doc["deputies"])
        doc["record"] = json.loads(doc.pop("record_json"))
        doc["portals"], doc["urls"] = set(), set()
        doc["versions"] = 0
    for document_id, portal_id, url in db.execute("SELECT document_id, portal_id, url FROM postings"):
        docs[document_id]["portals"].add(portal_id)
        docs[document_id]["urls"].add(url)
    for document_id, count in db.execute("SELECT document_id, COUNT(*) FROM versions GROUP BY document_id"):
        docs[document_id]["versions"] = count
    return docs


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    path = tmp_path_factory.mktemp("query") / "archive.db"
    ids = _build(path)
    db = open_db(path)
    docs = _snapshot(db)
    texts = {i: "\x00".join(fold(d[k]) for k in ("title", "doc_no", "body_text")) for i, d in docs.items()}
    yield Archive(path, db, ids, docs, texts)
    db.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A subprocess environment: no inherited YIBAO_* settings (the shipped registry), repo importable."""
    repo = str(Path(__file__).resolve().parents[2])
    out = {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "SCRAPY_"))}
    out["PYTHONPATH"] = os.pathsep.join(p for p in (repo, out.get("PYTHONPATH", "")) if p)
    return out
