from __future__ import annotations

import functools
import random
import re
import unicodedata
from pathlib import Path

import pytest
import sqlite_utils

from core.records import DocumentRecord
from storage import QueryError, build_query, open_db, record, search, search_ids, write_transaction
from storage.search import index_text
from tests.storage.factories import ALL_TERMS, NOW, TERMS_2, TERMS_3, TERMS_4, corpus

# --- an independent oracle: substring truth on NFKC + lower-case text ------------------------------


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@functools.cache
def term_pattern(term: str) -> re.Pattern[str]:
    """Substring truth; an ASCII letter/digit at the term's edge must sit at a word edge in the text."""
    term = re.sub(r"^[\W_]+|[\W_]+$", "", fold(term))
    left = r"(?<![a-z0-9])" if re.match(r"[a-z0-9]", term) else ""
    right = r"(?![a-z0-9])" if re.search(r"[a-z0-9]$", term) else ""
    return re.compile(left + re.escape(term) + right)


class Truth:
    def __init__(self, docs: dict[int, DocumentRecord]) -> None:
        self.docs = {
            i: "\x00".join(fold(f) for f in (r.title, r.doc_no or "", r.body_text)) for i, r in docs.items()
        }
        self.cache: dict[str, set[int]] = {}

    def __call__(self, term: str) -> set[int]:
        if term not in self.cache:
            pattern = term_pattern(term)
            self.cache[term] = {i for i, text in self.docs.items() if pattern.search(text)}
        return self.cache[term]


# --- small, hand-written cases ---------------------------------------------------------------------

SMALL = [
    ("关于集采，采购目录的通知", "集采，采购目录的说明"),  # 1: 集采采购 must NOT match across "，"
    ("医保局发布DIP付费改革方案", "按病种分值付费（DIP）与基准等级系数"),  # 2
    ("异地就医直接结算", "ＤＩＰ门诊共济２０２５年度"),  # 3: full-width text
    ("第3号公告", "根据闽医保〔2025〕3号文件，门诊慢特病待遇"),  # 4
    ("关于医保APP上线的通知", "CHS-DRG分组方案。DRG/DIP。"),  # 5
    ("住院费用", "DIPX试点；13号"),  # 6: DIP must not match DIPX, 3号 not 13号
]


@pytest.fixture
def small(db: sqlite_utils.Database) -> dict[int, DocumentRecord]:
    docs = {}
    for i, (title, body) in enumerate(SMALL, start=1):
        rec = DocumentRecord(url=f"https://x/{i}", portal_id="p", title=title, kind="notice", body_text=body)
        record(db, rec, run_id=None, now=NOW)
        docs[i] = rec
    return docs


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("医保", {2, 4, 5}),
        ("集采", {1}),
        ("集采采购", set()),
        ('"集采，采购"', {1}),
        ("采购目录", {1}),
        ("医保局", {2}),
        ("异地就医", {3}),
        ("按病种分值", {2}),
        ("DIP", {2, 3, 5}),
        ("dip", {2, 3, 5}),
        ("ＤＩＰ", {2, 3, 5}),
        ("DIP付费", {2}),
        ("DIP门诊", {3}),
        ("2025年", {3}),
        ("2025", {3, 4}),
        ("第3号", {4}),
        ("3号", {4}),
        ("〔2025〕3号", {4}),
        ("医保APP", {5}),
        ("CHS-DRG", {5}),
        ("DRG/DIP", {5}),
        ("保DIP", set()),
        ("局发布DIP", {2}),
        ("门诊 DIP", {3}),
        ("门诊 OR 住院", {3, 4, 6}),
        ("门诊 -DIP", {4}),
        ("门诊 NOT DIP", {4}),
        ("(医保 OR 住院) -APP", {2, 4, 6}),
        ('"异地就医" OR "第3号"', {3, 4}),
        ("付", {2}),
        ("号", {4, 6}),
        ("付 OR 号", {2, 4, 6}),
        ("医保 号", {4}),
        ("医保 -号", {2, 5}),
        ("", set()),
        ("OR", set()),
    ],
)
def test_small_queries(
    db: sqlite_utils.Database, small: dict[int, DocumentRecord], query: str, expected: set[int]
) -> None:
    assert search_ids(db, query) == expected
    assert {hit.document_id for hit in search(db, query, limit=100)} == expected


def test_negative_only_query_is_an_error(db: sqlite_utils.Database) -> None:
    with pytest.raises(QueryError):
        build_query("-医保")
    with pytest.raises(QueryError):
        build_query("医保 OR NOT 集采")


def test_index_text() -> None:
    assert index_text("医保局发布DIP付费。第3号") == "医保 保局 局发 发布 布 dip 付费 费 。 第 3 号"
    assert index_text("，单。") == "单"
    assert index_text("ＤＩＰ２０２５\u200b年  a_b") == "dip2025 年 \U000f0020\U000f0020 a \U000f005f b"


def test_query_translation() -> None:
    assert build_query("医保").match == '"医保"'
    assert build_query("医保局").match == '"医保 保局"'
    assert build_query("医").match == '"医" *'  # one char: any token starting with it
    assert build_query("3号").match == '"3 号" *'
    assert build_query("保DIP").match == '"保 dip"'  # 保 must end its run: the run-final unigram
    assert build_query("医保 -集采").match == '(("医保")) NOT (("集采"))'
    assert build_query("（DIP）").match == '"dip"'  # full-width brackets are text, edges dropped
    assert build_query("").match is None


def test_snippet_and_ranking(db: sqlite_utils.Database) -> None:
    body = "前言。" * 40 + "本市全面推行按病种分值付费（DIP），" + "其他内容。" * 40
    for i, (title, text) in enumerate([("一般通知", body), ("按病种分值付费实施细则", "细则正文。")]):
        rec = DocumentRecord(url=f"https://r/{i}", portal_id="p", title=title, kind="policy", body_text=text)
        record(db, rec, run_id=None, now=NOW)
    hits = search(db, "按病种分值付费")
    assert [h.title for h in hits] == ["按病种分值付费实施细则", "一般通知"]  # title weighs more
    assert "<b>按病种分值付费</b>（DIP）" in hits[1].snippet
    assert hits[1].snippet.startswith("…")
    assert search(db, "DIP", mark=("[", "]"))[0].snippet.count("[DIP]") == 1
    assert [h.title for h in search(db, "按病种分值付费", limit=1, offset=1)] == ["一般通知"]


# --- substring truth on a generated corpus ---------------------------------------------------------

Indexed = tuple[sqlite_utils.Database, dict[int, DocumentRecord], Truth]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    path: Path = tmp_path_factory.mktemp("fts") / "corpus.db"
    database = open_db(path)
    docs = {}
    with write_transaction(database):
        for rec in corpus(3000):
            event = record(database, rec, run_id=None, now=NOW)
            assert event is not None
            docs[event.document_id or 0] = rec
    yield database, docs, Truth(docs)
    database.close()


def sampled_terms(docs: dict[int, DocumentRecord], n: int, seed: int) -> list[str]:
    """Random 2-4 char substrings of the texts (any position: across words, runs and separators)."""
    rng = random.Random(seed)
    texts = [r.body_text for r in docs.values()] + [r.title for r in docs.values()]
    out: list[str] = []
    while len(out) < n:
        text = rng.choice(texts)
        size = rng.choice([2, 3, 4])
        start = rng.randrange(max(1, len(text) - size))
        term = text[start : start + size]
        if re.search(r'[\s()"“”]', term) or not re.sub(r"[\W_]", "", term) or term.startswith("-"):
            continue
        out.append(term)
    return out


def test_every_vocabulary_term_matches_substring_truth(indexed: Indexed) -> None:
    db, docs, truth = indexed
    for term in [
        *ALL_TERMS,
        "ｄｉｐ",
        "付费",
        "系数",
        "个账户",
        "慢特病",
        "（DIP）",
        "医",
        "局",
        "号",
        "年",
        "第",
        "费",
    ]:
        assert search_ids(db, term) == truth(term), term
    for size, terms in {2: TERMS_2, 3: TERMS_3, 4: TERMS_4}.items():
        assert all(len(t) == size for t in terms)
        assert all(0 < len(truth(t)) < len(docs) for t in terms)  # the corpus really exercises them


def test_sampled_substrings_match_substring_truth(indexed: Indexed) -> None:
    db, docs, truth = indexed
    terms = sampled_terms(docs, 400, seed=11)
    assert sum(bool(re.search(r"[a-zA-Z0-9０-９Ａ-Ｚａ-ｚ]", t)) for t in terms) > 20  # mixed terms
    assert sum(bool(re.search(r"[，。、；（）《》/-]", t)) for t in terms) > 20  # separators inside
    for term in terms:
        assert search_ids(db, term) == truth(term), term


def test_phrases_with_spaces_match_substring_truth(indexed: Indexed) -> None:
    db, docs, truth = indexed
    rng = random.Random(5)
    texts = [r.body_text for r in docs.values()]
    checked = 0
    while checked < 40:
        text = rng.choice(texts)
        at = text.find(" ", rng.randrange(len(text)))
        phrase = text[max(0, at - 2) : at + 3]
        if at < 2 or len(phrase) < 5 or '"' in phrase or not phrase.strip():
            continue
        assert search_ids(db, f'"{phrase}"') == truth(phrase), phrase
        checked += 1


def test_boolean_combinations_match_substring_truth(indexed: Indexed) -> None:
    db, docs, truth = indexed
    rng = random.Random(23)
    pool = ALL_TERMS + sampled_terms(docs, 60, seed=29)
    for _ in range(150):
        a, b, c = (rng.choice(pool) for _ in range(3))
        qa, qb, qc = (f'"{t}"' if rng.random() < 0.3 else t for t in (a, b, c))
        ta, tb, tc = truth(a), truth(b), truth(c)
        cases = {
            f"{qa} {qb}": ta & tb,
            f"{qa} AND {qb} AND {qc}": ta & tb & tc,
            f"{qa} OR {qb}": ta | tb,
            f"{qa} -{qb}": ta - tb,
            f"{qa} NOT {qb}": ta - tb,
            f"({qa} OR {qb}) -{qc}": (ta | tb) - tc,
            f"{qa} {qb} OR {qc}": (ta & tb) | tc,
            f"{qa} ({qb} OR {qc})": ta & (tb | tc),
        }
        for query, expected in cases.items():
            assert search_ids(db, query) == expected, query


def test_search_results_agree_with_search_ids(indexed: Indexed) -> None:
    db, docs, _ = indexed
    for query in ["医保", "异地就医 DIP", "门诊 -集采", "第3号", "号 OR 系数", '"医保 局"']:
        hits = search(db, query, limit=len(docs))
        assert {h.document_id for h in hits} == search_ids(db, query)
        assert len(hits) == len({h.document_id for h in hits})
