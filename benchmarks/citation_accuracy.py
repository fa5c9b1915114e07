"""Citation extraction accuracy against the replicas' ground truth.

    .venv/bin/python -m benchmarks.citation_accuracy [--docs 2100] [--seed 31] [--show 5] [--crawl]

Builds the replica world in process (no server: the generator gives each document's body text and the
citations written into it, ``Document.citations``), runs ``core.citations.extract_citations`` on every body
(``own_doc_no``/``own_title`` from the document's own metadata, as the pipeline knows them) and prints the
figures below. With ``--crawl`` the world is also served and fully crawled (``yibao crawl --full`` in a
subprocess, into a temporary archive) and the figures are printed a second time for the body text, 文号 and
title the archive stored for each page (first versions), against the truth of the document served there:

1. precision and recall per relation (cites, implements, replaces, abolishes, amends) and overall, a
   citation counting as found when (document, relation, resolution key) match the truth — the key being
   ``no:<canonical 文号>`` or ``title:<normalised title>``;
2. precision and recall of the resolution keys alone (relation ignored), and how often the kind
   (document/law/regulation) of a found citation is right;
3. resolution: each found citation resolved against the world's documents the way the archive resolves —
   by canonical 文号, else by an exact (normalised) title, the cover notice's inner 《title》 included — and
   compared with the document the truth says it refers to (when that document exists in this world);
4. policy terms: ``policy_term`` against ``Document.term`` (effective date, years, expiry);
5. extraction time over the corpus, and on three adversarial 1 MB bodies (a long reply repeating one
   citation between filler and stray brackets, a million 《, a hundred thousand titles before one 同时废止).

``measure`` returns the figures for tests (``tests/replicas/test_citation_truth.py`` asserts ≥ 95 %).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.citations import RELATIONS, Citation, citation_key, extract_citations, normalize_title, policy_term
from replicas.links import inner_title
from replicas.model import Block, CitedDoc, Document
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld

Extractor = Callable[..., list[Citation]]


def truth_key(c: CitedDoc) -> str:
    return f"no:{c.doc_no}" if c.doc_no else f"title:{normalize_title(c.title or '')}"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, name: str) -> str:
        return (
            f"{name:12s} precision {self.precision:7.2%}  recall {self.recall:7.2%}  "
            f"(truth {self.tp + self.fn}, found {self.tp + self.fp})"
        )


@dataclass
class Figures:
    relations: dict[str, Score]
    overall: Score
    keys: Score
    kind_right: int
    kind_total: int
    resolution: Score
    term: Score
    documents: int
    citations: int
    seconds: float


def _resolver(docs: Iterable[Document]) -> Callable[[str], int | None]:
    by_no: dict[str, set[int]] = defaultdict(set)
    by_title: dict[str, set[int]] = defaultdict(set)
    for d in docs:
        if d.doc_no:
            by_no[d.doc_no].add(d.doc_id)
        by_title[normalize_title(d.title)].add(d.doc_id)
        if inner := inner_title(d.title):
            by_title[normalize_title(inner)].add(d.doc_id)

    def resolve(key: str) -> int | None:
        kind, _, value = key.partition(":")
        found = (by_no if kind == "no" else by_title).get(value, set())
        return next(iter(found)) if len(found) == 1 else None

    return resolve


def measure(docs: list[Document], extract: Extractor = extract_citations, *, show: int = 0) -> Figures:
    relations = {r: Score() for r in RELATIONS}
    overall, keys, resolution, term = Score(), Score(), Score(), Score()
    kind_right = kind_total = citations = 0
    ids = {d.doc_id for d in docs}
    resolve = _resolver(docs)
    seconds = 0.0
    for doc in docs:
        body = doc.body_text
        t0 = time.perf_counter()
        found = extract(body, own_doc_no=doc.doc_no, own_title=doc.title)
        seconds += time.perf_counter() - t0
        truth = doc.cited()
        citations += len(truth)
        want = {(c.relation, truth_key(c)): c for c in truth}
        got = {(c.relation, citation_key(c)): c for c in found}
        for pair in want.keys() | got.keys():
            score = relations.get(pair[0], relations["cites"])
            if pair in want and pair in got:
                score.tp += 1
                overall.tp += 1
                kind_total += 1
                kind_right += got[pair].kind == want[pair].kind
            elif pair in got:
                score.fp += 1
                overall.fp += 1
                if len(score.examples) < show:
                    score.examples.append(f"doc {doc.doc_id} extra {pair}: {got[pair].quote}")
            else:
                score.fn += 1
                overall.fn += 1
                if len(score.examples) < show:
                    score.examples.append(f"doc {doc.doc_id} missed {pair}")
        want_keys = {k for _, k in want}
        got_keys = {k for _, k in got}
        keys.tp += len(want_keys & got_keys)
        keys.fp += len(got_keys - want_keys)
        keys.fn += len(want_keys - got_keys)
        # resolution: the document each cited key leads to, against the truth's target (if it exists here)
        truth_target = {truth_key(c): c.target if c.target in ids else None for c in truth}
        for key in got_keys:
            target = resolve(key)
            expected = truth_target.get(key)
            if target is not None and target == expected:
                resolution.tp += 1
            elif target is not None:
                resolution.fp += 1
                if expected is not None:
                    resolution.fn += 1
            elif expected is not None:
                resolution.fn += 1
        resolution.fn += sum(1 for k, t in truth_target.items() if t is not None and k not in got_keys)
        # the policy's own term
        if doc.kind == "policy":
            pt = policy_term(body, published=doc.published_at.date())
            got_term = (
                pt.effective_from.isoformat() if pt.effective_from else None,
                pt.valid_years,
                pt.expires_on.isoformat() if pt.expires_on else None,
            )
            want_term = (
                (doc.term.effective_from, doc.term.valid_years, doc.term.expires_on)
                if doc.term
                else (None,) * 3
            )
            for g, w in zip(got_term, want_term, strict=True):
                if w is not None and g == w:
                    term.tp += 1
                    continue
                if g is not None:
                    term.fp += 1
                if w is not None:
                    term.fn += 1
    return Figures(
        relations, overall, keys, kind_right, kind_total, resolution, term, len(docs), citations, seconds
    )


def report(fig: Figures) -> list[str]:
    lines = [f"{fig.documents} documents, {fig.citations} citations in the truth"]
    lines += [fig.relations[r].line(r) for r in RELATIONS]
    lines.append(fig.overall.line("overall"))
    lines.append(fig.keys.line("keys"))
    lines.append(
        f"kind right   {fig.kind_right / max(1, fig.kind_total):7.2%} of {fig.kind_total} found citations"
    )
    lines.append(fig.resolution.line("resolution"))
    lines.append(fig.term.line("policy term"))
    lines.append(
        f"extraction   {fig.seconds:.2f} s ({fig.seconds / max(1, fig.documents) * 1000:.2f} ms/document)"
    )
    return lines


def crawled_documents(world: ReplicaWorld) -> list[Document]:
    """Serve ``world``, crawl it fully, and return one document per archived page: the replica document's
    truth with the body text, 文号 and title the archive stored for it."""
    server = ReplicaServer(world).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "yibao.toml"
            db = Path(tmp) / "archive.db"
            config.write_text(server.registry_toml() + f'\n[archive]\npath = "{db}"\n', encoding="utf-8")
            cmd = [
                sys.executable,
                "-m",
                "cli.main",
                "--config",
                str(config),
                "crawl",
                "--fast",
                "--json",
                "--full",
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if done.returncode not in (0, 1):
                raise SystemExit(f"crawl failed: {done.stderr[-2000:]}")
            with sqlite3.connect(db) as conn:
                rows = conn.execute(
                    "SELECT url, record_json, body_text FROM versions WHERE version_no = 1"
                ).fetchall()
    finally:
        server.stop()
    out = []
    for url, record_json, body in rows:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        portal = next(pid for pid, base in server.urls.items() if url.startswith(base))
        doc_id, _variant = world.site(portal).paths[path]
        record = json.loads(record_json)
        doc = world.doc(doc_id)
        stored = dataclasses.replace(doc, blocks=[Block(body or "")], doc_no=record.get("doc_no"))
        stored.title = record.get("title") or doc.title
        out.append(stored)
    return out


def adversarial_bodies() -> dict[str, str]:
    """Bodies of about a million characters that a backtracking rule would take minutes over."""
    chunk = "根据《关于某某的通知》（中府〔2021〕87号）要求。" + "医保" * 500 + "\x00《〔2021〕"
    return {
        "repeated citation between filler": chunk * (1_000_000 // len(chunk)),
        "a million 《": "《" * 1_000_000,
        "100,000 titles, one 同时废止": "《关于X的通知》，" * 100_000 + "同时废止。",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2100)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--show", type=int, default=0, help="print this many misses per relation")
    parser.add_argument(
        "--crawl", action="store_true", help="also measure on the body text a full crawl stored"
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    world = ReplicaWorld(docs=args.docs, seed=args.seed)
    print(f"world built in {time.perf_counter() - t0:.1f} s")
    docs = world.docs()
    fig = measure(docs, show=args.show)
    for line in report(fig):
        print(line)
    kinds = Counter(c.kind for d in docs for c in d.cited())
    print("truth kinds  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    for name, body in adversarial_bodies().items():
        t0 = time.process_time()
        found = len(extract_citations(body))
        print(f"adversarial  {name}: {len(body):,} characters, {found:,} citations, "
              f"{time.process_time() - t0:.2f} CPU-s")
    if args.show:
        for name, score in [*fig.relations.items(), ("resolution", fig.resolution)]:
            for example in score.examples:
                print(f"  {name}: {example}")
    if args.crawl:
        t0 = time.perf_counter()
        stored = crawled_documents(world)
        print(
            f"\ncrawled and archived {len(stored)} pages in {time.perf_counter() - t0:.1f} s; on the stored text:"
        )
        for line in report(measure(stored, show=args.show)):
            print(line)


if __name__ == "__main__":
    main()
