"""The replicas' citation ground truth (``Document.citations`` / ``Document.term``) and the accuracy of
``core.citations`` measured on it (in process: the generator gives body text and truth directly).

The truth is written by the generator (``replicas.links``) beside the sentence it writes, independently of
the extractor; the seed pages and the seed prose reused as filler carry hand-written labels.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from benchmarks.citation_accuracy import Extractor, Figures, measure, report
from core.citations import Citation, extract_citations
from replicas.corpus import CorpusGenerator, filler_sentences
from replicas.links import FILLER_CITATIONS, inner_title
from replicas.model import Document
from replicas.world import ReplicaWorld

THRESHOLD = 0.95
RELATIONS = ("cites", "implements", "replaces", "abolishes", "amends")
_NO_RE = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<seq>\d+)号$")
_WIDE = str.maketrans("０１２３４５６７８９［］（）﹝﹞【】", "0123456789[]()〔〕[]")


@pytest.fixture(scope="module")
def world() -> ReplicaWorld:
    return ReplicaWorld(docs=900, seed=31)


@pytest.fixture(scope="module")
def docs(world: ReplicaWorld) -> list[Document]:
    return world.docs()


def _printed(doc_no: str, body: str) -> bool:
    """The canonical 文号 appears in ``body`` in some printed form (any bracket pair, 第, padding, width)."""
    m = _NO_RE.match(doc_no)
    assert m, doc_no
    pattern = rf"{re.escape(m['prefix'])}[〔\[(]{m['year']}[〕\])]第?0*{m['seq']}号"
    return re.search(pattern, body.translate(_WIDE)) is not None


def test_every_cited_document_is_in_the_body(docs: list[Document]) -> None:
    checked = 0
    for doc in docs:
        for c in doc.cited():
            assert c.relation in RELATIONS
            assert c.kind in ("document", "law", "regulation")
            if c.title:
                assert f"《{c.title}》" in doc.body_text, (doc.doc_id, c)
            if c.doc_no:
                assert _printed(c.doc_no, doc.body_text), (doc.doc_id, c)
            checked += 1
    assert checked > 2000


def test_targets_are_the_documents_named(world: ReplicaWorld, docs: list[Document]) -> None:
    in_world = same = cross = later = 0
    for doc in docs:
        for c in doc.cited():
            if c.target is None or c.target not in world.documents:
                continue
            target = world.doc(c.target)
            in_world += 1
            assert target.doc_no == c.doc_no
            if c.title:
                assert c.title.replace("〈", "《").replace("〉", "》") in (
                    target.title,
                    inner_title(target.title),
                )
            same += target.portal_id == doc.portal_id
            cross += target.portal_id != doc.portal_id
            later += target.published_at > doc.published_at
            if c.relation in ("abolishes", "replaces"):
                assert target.portal_id == doc.portal_id
                assert target.published_at < doc.published_at
    assert in_world > 500
    assert same > 100
    assert cross > 100
    assert later > 50  # resolution has to wait for the cited document


def test_the_corpus_covers_what_extraction_must_handle(docs: list[Document]) -> None:
    relations = Counter(c.relation for d in docs for c in d.cited())
    kinds = Counter(c.kind for d in docs for c in d.cited())
    assert all(relations[r] >= 15 for r in RELATIONS), relations
    assert all(kinds[k] >= 50 for k in ("document", "law", "regulation")), kinds
    bodies = "\n".join(d.body_text for d in docs)
    wanted = ("〔", "［", "【", "﹝", "第", "〈", "不再执行", "同时失效", "同时废止", "代替", "有效期至")  # fmt: skip
    for printed in wanted:
        assert printed in bodies, printed
    assert re.search(r"[０-９]{4}", bodies)  # full-width digits in a 文号
    terms = [d.term for d in docs if d.term]
    assert len(terms) > 40
    assert any(t.valid_years and t.expires_on for t in terms)
    assert any(t.valid_years is None and t.expires_on for t in terms)
    assert any(t.expires_on is None for t in terms)
    # a title-only citation and a 文号-only one
    assert any(c.doc_no is None and c.title for d in docs for c in d.cited())
    assert any(c.doc_no and c.title is None for d in docs for c in d.cited())


def test_document_k_cites_the_same_whatever_the_corpus_size() -> None:
    small = {d.doc_id: d for d in CorpusGenerator(7).generate(60)}
    large = {d.doc_id: d for d in CorpusGenerator(7).generate(400)}
    for doc_id, doc in small.items():
        assert doc.body_text == large[doc_id].body_text
        assert doc.truth()["citations"] == large[doc_id].truth()["citations"]


def test_filler_labels_name_sentences_the_generator_uses() -> None:
    sentences = filler_sentences()
    for head in FILLER_CITATIONS:
        assert any(head in s for s in sentences), head


def test_seed_pages_carry_their_citations(world: ReplicaWorld) -> None:
    zhongshan = world.doc(2025010)
    assert ("implements", "中府〔2021〕87号") in {(c.relation, c.doc_no) for c in zhongshan.citations}
    seeds = [d for d in world.docs() if d.seed]
    assert all(d.citations for d in seeds)


def test_publish_a_policy_that_abolishes_an_archived_one(world: ReplicaWorld) -> None:
    old = next(d for d in world.docs("fujian_xiamen") if d.kind == "policy" and d.doc_no)
    new = world.publish("fujian_xiamen", "zcwj", kind="policy", cites=[("abolishes", old.doc_id)])
    replaced = [c for c in new.cited() if c.target is not None]
    assert [(c.relation, c.doc_no, c.target) for c in replaced] == [("abolishes", old.doc_no, old.doc_id)]
    found = extract_citations(new.body_text, own_doc_no=new.doc_no, own_title=new.title)
    assert ("abolishes", old.doc_no) in {(c.relation, c.doc_no) for c in found}
    reply = world.publish("fujian_xiamen", kind="suggestion_reply", cites=[("implements", old.doc_id)])
    assert [(c.relation, c.target) for c in reply.cited() if c.target] == [("implements", old.doc_id)]


# --------------------------------------------------------------------------- accuracy


def _check(fig: Figures) -> list[str]:
    return [
        f"{name}: precision {s.precision:.2%} recall {s.recall:.2%}"
        for name, s in [*fig.relations.items(), ("resolution", fig.resolution), ("term", fig.term)]
        if s.precision < THRESHOLD or s.recall < THRESHOLD
    ]


def test_precision_and_recall_per_relation_reach_95_percent(docs: list[Document]) -> None:
    fig = measure(docs)
    print("\n".join(report(fig)))
    assert all(fig.relations[r].tp >= 15 for r in RELATIONS)
    assert not _check(fig), _check(fig)


def _no_relation(text: str, **kw: str | None) -> list[Citation]:
    """Finds every document but calls every relation ``cites``."""
    return [dataclasses.replace(c, relation="cites") for c in extract_citations(text, **kw)]


def _no_numbers(text: str, **kw: str | None) -> list[Citation]:
    """Ignores 文号: keeps title-only citations."""
    return [c for c in extract_citations(text, **kw) if c.doc_no is None]


def _no_lineage(text: str, **kw: str | None) -> list[Citation]:
    """Reads 同时废止 / 代替 as a plain mention."""
    return [
        dataclasses.replace(c, relation="cites") if c.relation in ("abolishes", "replaces") else c
        for c in extract_citations(text, **kw)
    ]


@pytest.mark.parametrize("wrong", [_no_relation, _no_numbers, _no_lineage])
def test_a_wrong_extractor_fails_the_measure(docs: list[Document], wrong: Extractor) -> None:
    assert _check(measure(docs, wrong))


def test_extraction_without_knowing_the_document_itself_stays_accurate(docs: list[Document]) -> None:
    """A caller that cannot pass ``own_doc_no``/``own_title``: the 文号 alone on its line and the
    ``现将《…》印发给你们`` title are still recognised as the document's own."""
    fig = measure(docs, lambda text, **kw: extract_citations(text))
    assert fig.overall.precision >= THRESHOLD
    assert fig.overall.recall >= THRESHOLD
