"""CJK bigram (storage.search) vs FTS5 trigram on a generated corpus of medical-insurance documents.

Prints, for each index: correctness against substring truth (share of 2-char / 4-char / other terms whose
result set is exactly right), index size, build time (including Python tokenization for the bigram
index), and query latency p50/p95 (all matching ids; and ranked top 20).

    .venv/bin/python -m benchmarks.fts_compare [--docs 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storage.search import build_query, fold_search, index_text

TERMS_2 = [
    "医保",
    "集采",
    "门诊",
    "住院",
    "药品",
    "耗材",
    "支付",
    "结算",
    "参保",
    "缴费",
    "待遇",
    "统筹",
    "基金",
    "监管",
    "定点",
    "报销",
    "慢病",
    "救助",
    "谈判",
    "目录",
]
TERMS_4 = [
    "异地就医",
    "基准等级",
    "分值付费",
    "带量采购",
    "门诊共济",
    "职工医保",
    "居民医保",
    "大病保险",
    "医疗救助",
    "支付标准",
]
TERMS_LONG = [
    "按病种分值付费",
    "基准等级系数",
    "异地就医直接结算",
    "医保基金监管",
    "门诊慢特病",
    "长期护理保险",
]
TERMS_ASCII = ["DIP", "DRG", "CHS", "APP", "2025", "2024"]
FILLERS = [
    "关于",
    "进一步",
    "做好",
    "工作",
    "的",
    "通知",
    "各",
    "有关",
    "单位",
    "根据",
    "要求",
    "现将",
    "事项",
    "如下",
    "年度",
    "推进",
    "改革",
    "落实",
    "加强",
    "管理",
    "服务",
    "保障",
    "制度",
    "政策",
    "医疗",
    "机构",
    "人员",
    "费用",
    "范围",
    "标准",
    "实施",
    "办法",
    "规定",
    "执行",
    "开展",
    "建立",
    "完善",
    "省",
    "市",
    "县",
    "区",
]
VOCAB = TERMS_2 + TERMS_4 + TERMS_LONG + TERMS_ASCII
COLUMNS = ("title", "doc_no", "body")
SEPARATORS = ["", "", "", "", "", "，", "。", "、", "；", "（", "）", "\n"]


def make_corpus(n: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)

    # Zipf-like term frequencies: 医保 is everywhere, the tail terms are in a few percent of documents.
    order = rng.sample(VOCAB, len(VOCAB))
    weights = [1 / (rank + 1) for rank in range(len(order))]

    def prose(words: int) -> str:
        terms = rng.choices(order, weights, k=words)
        return "".join(
            (term if rng.random() < 0.08 else rng.choice(FILLERS)) + rng.choice(SEPARATORS) for term in terms
        )

    return [
        (
            prose(rng.randint(4, 9)) + "的通知",
            f"闽医保〔{rng.choice([2024, 2025])}〕{i}号",
            prose(rng.randint(150, 450)),
        )
        for i in range(n)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def index_bytes(conn: sqlite3.Connection, table: str) -> int:
    names = [table] + [f"{table}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config")]
    sql = f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({', '.join('?' * len(names))})"
    return int(conn.execute(sql, names).fetchone()[0])


def build(conn: sqlite3.Connection, docs: list[tuple[str, str, str]]) -> dict[str, float]:
    folded = [tuple(fold_search(f) for f in doc) for doc in docs]
    ddl = {
        "bigram": "CREATE VIRTUAL TABLE bigram USING fts5(title, doc_no, body, content='', tokenize='ascii')",
        "trigram": "CREATE VIRTUAL TABLE trigram USING fts5(title, doc_no, body, content='', tokenize='trigram')",
        "trigram_content": "CREATE VIRTUAL TABLE trigram_content USING fts5(title, doc_no, body, tokenize='trigram')",
    }
    rows: dict[str, Callable[[], list[tuple[int, str, str, str]]]] = {
        "bigram": lambda: [(i, *(index_text(f) for f in doc)) for i, doc in enumerate(docs)],
        "trigram": lambda: [(i, *doc) for i, doc in enumerate(folded)],
        "trigram_content": lambda: [(i, *doc) for i, doc in enumerate(folded)],
    }
    seconds = {}
    for name, sql in ddl.items():
        conn.execute(sql)

        def load(name: str = name) -> None:
            with conn:
                conn.executemany(
                    f"INSERT INTO {name} (rowid, title, doc_no, body) VALUES (?, ?, ?, ?)", rows[name]()
                )
                conn.execute(f"INSERT INTO {name} ({name}) VALUES ('optimize')")

        seconds[name] = timed(load)
    return seconds


def sample_terms(docs: list[tuple[str, str, str]], size: int, n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        body = fold_search(rng.choice(docs)[2])
        start = rng.randrange(len(body) - size)
        term = body[start : start + size]
        if re.fullmatch(rf"[\u4e00-\u9fff]{{{size}}}", term):
            out.add(term)
    return sorted(out)


def sample_mixed(docs: list[tuple[str, str, str]], n: int, rng: random.Random) -> list[str]:
    """Terms like "dip支付" or "2025年度" that occur in the texts."""
    out: set[str] = set()
    while len(out) < n:
        found = re.findall(r"(?<![a-z0-9])[a-z0-9]+[\u4e00-\u9fff]{2}", fold_search(rng.choice(docs)[2]))
        if found:
            out.add(rng.choice(found))
    return sorted(out)


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    docs = make_corpus(args.docs, args.seed)
    texts = ["\x00".join(fold_search(f) for f in doc) for doc in docs]
    chars = sum(len(t) for t in texts)
    print(f"corpus: {len(docs)} documents, {chars / 1e6:.1f} M chars (avg {chars // len(docs)} per document)")

    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "bench.db")
        build_seconds = build(conn, docs)
        groups = {
            "2-char": TERMS_2 + sample_terms(docs, 2, 30, rng),
            "4-char": TERMS_4 + sample_terms(docs, 4, 30, rng),
            "1-char": ["医", "费", "药", "号"],
            "5+ chars": TERMS_LONG,
            "ASCII/mixed*": ["dip", "drg", "2025", *sample_mixed(docs, 6, rng)],
        }

        def truth(term: str) -> set[int]:
            term = fold_search(term)
            if term.isascii():
                pattern = re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])")
                return {i for i, text in enumerate(texts) if pattern.search(text)}
            if re.match("[a-z0-9]", term):
                pattern = re.compile(rf"(?<![a-z0-9]){re.escape(term)}")
                return {i for i, text in enumerate(texts) if pattern.search(text)}
            return {i for i, text in enumerate(texts) if term in text}

        def ids(sql: str, param: str) -> set[int]:
            return {row[0] for row in conn.execute(sql, [param])}

        methods: dict[str, tuple[str, Callable[[str], str]]] = {
            "bigram MATCH": (
                "SELECT rowid FROM bigram WHERE bigram MATCH ?",
                lambda t: build_query(t).match or "",
            ),
            "trigram MATCH": ("SELECT rowid FROM trigram WHERE trigram MATCH ?", lambda t: f'"{t}"'),
            # one LIKE per column: each can use the trigram index (SQLite 3.40 gets < 3 chars wrong)
            "trigram LIKE": (
                " UNION ".join(f"SELECT rowid FROM trigram_content WHERE {c} LIKE ?1" for c in COLUMNS),
                lambda t: f"%{fold_search(t)}%",
            ),
            # LIKE ... OR LIKE ...: the planner scans every row instead (right, but a full scan)
            "LIKE scan": (
                "SELECT rowid FROM trigram_content WHERE " + " OR ".join(f"{c} LIKE ?1" for c in COLUMNS),
                lambda t: f"%{fold_search(t)}%",
            ),
        }
        ranked = {
            "bigram MATCH": "SELECT rowid FROM bigram WHERE bigram MATCH ? ORDER BY rank LIMIT 20",
            "trigram MATCH": "SELECT rowid FROM trigram WHERE trigram MATCH ? ORDER BY rank LIMIT 20",
        }

        print("\nindex                size        build")
        for name, seconds in build_seconds.items():
            print(f"{name:<18} {index_bytes(conn, name) / 1e6:7.1f} MB   {seconds:6.1f} s")

        print("\ncorrectness (queries whose result set equals substring truth)")
        print("  * ASCII words count whole (dip does not match dip2025), as the bigram index defines them")
        for group, terms in groups.items():
            expected = {t: truth(t) for t in terms}
            line = []
            for method, (sql, translate) in methods.items():
                right = sum(ids(sql, translate(t)) == expected[t] for t in terms)
                line.append(f"{method} {right}/{len(terms)}")
            print(f"  {group:<12} " + "   ".join(line))

        print("\nlatency over the 2-char and 4-char terms (each run 3 times, the scan once)")

        def latency(sql: str, params: list[str], repeats: int) -> str:
            samples = []
            for param in params * repeats:
                start = time.perf_counter()
                conn.execute(sql, [param]).fetchall()
                samples.append(time.perf_counter() - start)
            return percentiles(samples)

        for method, (sql, translate) in methods.items():
            repeats = 1 if method == "LIKE scan" else 3
            for group in ("2-char", "4-char"):
                params = [translate(t) for t in groups[group]]
                print(f"  {method:<14} {group}  all ids   {latency(sql, params, repeats)}")
                if method in ranked:
                    print(f"  {method:<14} {group}  top 20    {latency(ranked[method], params, repeats)}")
        conn.close()


if __name__ == "__main__":
    main()
