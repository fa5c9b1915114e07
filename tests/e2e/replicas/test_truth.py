"""Ground truth: consistent with the served pages; the generator is deterministic and covers the
conventions the product must parse (regexes below are those of portal-families.md §12.2)."""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from pypdf import PdfReader

from replicas import vocab
from replicas.corpus import CONVENTIONS, CorpusGenerator
from replicas.model import RIGHT, Document
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from tests.replicas.helpers import PORTALS, assert_in_order, client, decode, visible_text

KINDS = ("suggestion_reply", "proposal_reply", "policy", "interpretation", "notice", "report")
SPACES = "[ \\t\\u00a0\\u2002\\u2003\\u3000]*"
SALUTATION = re.compile(
    rf"^{SPACES}(?P<names>[^\n:：]{{2,400}}?)(?P<role>代表|委员|同志)(?:们)?\s*(?P<colon>[:：])?\s*$", re.M
)
ORG_SALUTATION = re.compile(
    rf"^{SPACES}(?P<org>[^\n:：]{{1,60}}?(?:委员会|委会|委|总支|支部|小组|界别|党派|联合会|工商联))\s*[:：]\s*$",
    re.M,
)
OFFICE_SALUTATION = re.compile(r"^(?P<office>市[\u4e00-\u9fa5]{2,12}(?:局|委))：$")
DOC_NO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fa5]{1,16}?)\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］】)）]"
    r"\s*第?\s*(?P<seq>\d{1,5})\s*号"
)
DATE_AR = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*日"
)
DATE_CN = re.compile(
    r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})\s*年\s*(?P<m>十[一二]?|[一二三四五六七八九])\s*月\s*"
    r"(?P<d>三十[一]?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])\s*日"
)
REPLY_CLASS = re.compile(
    r"(?:答复|办理|办复)?(?:类别|类型|结果|分类)\s*[:：]\s*(?P<cls>[A-DＡ-Ｄ甲乙丙丁])\s*类?"
)
# the class printed as a mark on a line of its own: 〔A〕 (with 〔公开〕/〔主动公开〕), a lone A, （A类） alone
# or after the 文号
CLASS_MARK = re.compile(
    r"^(?:〔(?P<mark>[A-D])〕(?:[\u3000\s]*〔(?:主动)?公开〕)?|(?P<lone>[A-D])|.{0,20}（(?P<paren>[A-D])类）)$", re.M
)
IDX_FJ = re.compile(
    r"\b(?P<region>[A-Z]{2})(?P<org>\d{5})-(?P<cat>\d{2}-\d{2}|\d{4})-(?P<year>\d{4})-(?P<seq>\d{3,5})\b"
)
IDX_CREDIT = re.compile(r"\b(?P<org>[0-9A-Z]{9}|[0-9A-HJ-NPQRTUWXY]{18})/(?P<year>\d{4})-(?P<seq>\d{4,6})\b")
PROPOSAL_TITLE_IN_BODY = re.compile(
    r"《(?P<ptitle>[^》]{4,120})》\s*[（(]?\s*(?:建议|提案)?\s*(?:第\s*(?P<no>[0-9０-９]{1,10})\s*号)?"
    r"\s*[)）]?\s*(?:建议|提案)?\s*收悉"
)
# the real-world forms: in “” (around an inner 《》 too) or unbracketed after 提出的; the number with or
# without 第, with a category number; 收悉 or 已收悉
PROPOSAL_TITLE_ANY_FORM = re.compile(
    r"(?:《(?P<book>[^》]{4,120})》|“(?P<quoted>(?:[^“”]|“[^“”]+”)+)”|提出的(?P<plain>关于(?:[^。“”]|“[^“”]+”)+?(?:建议|提案)))"
    r"(?:（(?:建议|提案)?第?(?P<no>\d+)号(?:（医药卫生类\d+号）)?）)?(?:建议|提案)?已?收悉"
)
DETAIL = re.compile(r"DETAIL:\s*(\{.*?\})\s*,\s*TREE:", re.S)
CN = {c: i for i, c in enumerate("〇一二三四五六七八九")}


def cn_int(text: str) -> int:
    if "十" not in text:
        return CN[text]
    tens, _, ones = text.partition("十")
    return (CN[tens] if tens else 1) * 10 + (CN[ones] if ones else 0)


def date_iso(line: str) -> str | None:
    if m := DATE_AR.fullmatch(line):
        return f"{int(m['y']):04d}-{int(m['m']):02d}-{int(m['d']):02d}"
    if m := DATE_CN.fullmatch(line):
        year = "".join(str(CN[c]) for c in m["y"])
        return f"{year}-{cn_int(m['m']):02d}-{cn_int(m['d']):02d}"
    return None


# -- truth vs page ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_server() -> Iterator[ReplicaServer]:
    server = ReplicaServer(ReplicaWorld(docs=600, seed=7)).start()
    yield server
    server.stop()


def sample(world: ReplicaWorld) -> list[Document]:
    """Up to three generated documents of every (portal, kind), preferring ones with attachments."""
    picked: list[Document] = []
    for pid in PORTALS:
        for kind in KINDS:
            docs = [d for d in world.docs(pid) if d.kind == kind and not d.seed]
            docs.sort(key=lambda d: (not d.attachments, d.doc_id))
            picked += docs[:3]
    return picked


def test_sample_covers_every_portal_and_kind(sample_server: ReplicaServer) -> None:
    seen = {(d.portal_id, d.kind) for d in sample(sample_server.world)}
    for pid in PORTALS:
        assert {k for p, k in seen if p == pid} == set(KINDS), pid


def check_page_against_truth(server: ReplicaServer, c: httpx.Client, doc: Document) -> int:
    """Fetch every URL of ``doc``; what each page shows agrees with ``world.truth(doc, variant)``."""
    world = server.world
    checked = 0
    for variant, path in world.urls(doc.doc_id).items():
        truth = world.truth(doc.doc_id, variant)
        assert truth["url_path"] == path
        resp = c.get(server.urls[doc.portal_id] + path)
        assert resp.status_code == 200
        markup = decode(resp)
        text = visible_text(markup)
        shown = f"【{truth['title_tag']}】{truth['title']}" if truth["title_tag"] else truth["title"]
        assert shown in text
        assert truth["published_on"] in text
        for key in ("doc_no_raw", "index_no", "generated_on", "theme"):
            if truth[key]:
                assert truth[key] in text, (doc.doc_id, variant, key)
        if truth["validity"]:
            if variant == "gkmlpt":
                found = DETAIL.search(markup)
                assert found
                detail = json.loads(found.group(1))
                assert detail["is_expired"] == int(truth["validity"] == "失效")
                assert detail["is_abolished"] == int(truth["validity"] == "废止")
            else:
                assert re.search(r"有[\s\u2002]*效[\s\u2002]*性\W*" + truth["validity"], text), variant
        assert_in_order(text, truth["body_text"].split("\n"))
        for att in truth["attachments"]:
            assert att["name"] in text
        checked += 1
    return checked


@pytest.mark.parametrize("portal_id", PORTALS)
def test_truth_matches_what_the_page_shows(sample_server: ReplicaServer, portal_id: str) -> None:
    docs = [d for d in sample(sample_server.world) if d.portal_id == portal_id]
    with client() as c:
        checked = sum(check_page_against_truth(sample_server, c, doc) for doc in docs)
    assert checked >= 12


def test_seed_truth_matches_what_the_page_shows(sample_server: ReplicaServer) -> None:
    seeds = [d for d in sample_server.world.docs() if d.seed]
    assert len(seeds) == 5
    with client() as c:
        # Zhongshan: gkmlpt + NFCMS + mobile pages; the TRS bureaus: desktop + _wap copy; Sichuan: one
        assert sum(check_page_against_truth(sample_server, c, doc) for doc in seeds) == 11


def test_nfcms_pages_claim_no_metadata(sample_server: ReplicaServer) -> None:
    world = sample_server.world
    doc = next(d for d in world.docs("guangdong_zhongshan") if d.kind == "policy" and d.index_no)
    gk, nf = world.truth(doc.doc_id, "gkmlpt"), world.truth(doc.doc_id, "nfcms")
    assert gk["index_no"] == doc.index_no
    assert nf["index_no"] is None
    assert nf["validity"] is None
    assert nf["identity"] == gk["identity"]
    assert nf["body_text"] == gk["body_text"]


# -- the generator -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    started = time.perf_counter()
    docs = list(CorpusGenerator(7).generate(2000))
    assert time.perf_counter() - started < 15  # ~0.15 ms a document; generous on a slow runner
    return docs


def test_generator_is_deterministic(corpus: list[Document]) -> None:
    again = [d.truth() for d in CorpusGenerator(7).generate(2000)]
    assert [d.truth() for d in corpus] == again
    other = [d.truth() for d in CorpusGenerator(8).generate(2000)]
    differ = sum(a["body_text"] != b["body_text"] for a, b in zip(again, other, strict=True))
    assert differ > 1900
    # document k does not depend on how many others are generated
    assert [d.truth() for d in CorpusGenerator(7).generate(40)] == again[:40]
    one = CorpusGenerator(7).make(corpus[123].portal_id, corpus[123].column, doc_id=corpus[123].doc_id)
    assert one.truth()["body_text"] == again[123]["body_text"]


def test_kinds_portals_and_identity(corpus: list[Document]) -> None:
    assert {d.kind for d in corpus} == set(KINDS)
    assert Counter(d.portal_id for d in corpus) == dict.fromkeys(PORTALS, 400)
    assert len({d.identity for d in corpus}) == 2000
    replies = [d for d in corpus if d.kind.endswith("_reply")]
    assert len(replies) > len(corpus) / 2  # replies are the bulk


def test_both_date_styles_match_signed_on(corpus: list[Document]) -> None:
    styles = Counter()
    for doc in corpus:
        dates = [b.text for b in doc.blocks if b.role == RIGHT and date_iso(b.text)]
        if doc.kind == "interpretation":  # 政策解读 pages carry no signature
            assert dates == []
            assert doc.signed_on is None
            continue
        assert dates, doc.doc_id
        styles["cn" if DATE_CN.fullmatch(dates[0]) else "ar"] += 1
        assert date_iso(dates[0]) == doc.signed_on, (doc.doc_id, dates[0])
        assert doc.signed_on <= doc.published_on
    assert styles["ar"] > styles["cn"] > 100  # 二〇二五年九月八日 is the minority style


def test_doc_no_bracket_variants(corpus: list[Document]) -> None:
    brackets: Counter[str] = Counter()
    padded = 0
    for doc in corpus:
        if not doc.doc_no_raw:
            continue
        m = DOC_NO.fullmatch(doc.doc_no_raw)
        assert m, doc.doc_no_raw
        assert f"{m['prefix']}〔{m['year']}〕{int(m['seq'])}号" == doc.doc_no
        bracket = doc.doc_no_raw[len(m["prefix"])]
        brackets[bracket] += 1
        padded += m["seq"].startswith("0")
        assert doc.doc_no_raw in doc.body_text or doc.portal_id == "fujian_ningde"
    assert set(brackets) == set("〔[（(【［")
    assert brackets.most_common(1)[0][0] == "〔"  # the GB/T 9704 form dominates
    assert padded > 0


def test_salutations(corpus: list[Document]) -> None:
    replies = [d for d in corpus if d.kind.endswith("_reply")]
    multi = org = single = colon_less = masked = office = short_org = 0
    for doc in replies:
        lines = [b.text for b in doc.blocks]
        at = next(i for i, line in enumerate(lines) if "收悉" in line) - 1  # the line above the opening
        salutation = lines[at]
        if (m := OFFICE_SALUTATION.fullmatch(salutation)) is not None and m["office"] in vocab.LEAD_OFFICES:
            assert "huiban" in doc.conventions
            assert doc.title.endswith("提案的会办意见")
            assert doc.deputies == []  # the proposer is named in the text only
            office += 1
        elif (m := SALUTATION.fullmatch(salutation)) is not None:
            names = m["names"].split("、")
            assert names == doc.deputies
            assert m["role"] == ("代表" if doc.kind == "suggestion_reply" else "委员")
            multi += len(names) > 1
            single += len(names) == 1
            colon_less += m["colon"] is None
            masked += any("*" in n for n in names)
        else:
            m = ORG_SALUTATION.fullmatch(salutation)
            assert m, salutation
            assert doc.kind == "proposal_reply"
            assert doc.deputies == [m["org"]]
            org += 1
            short_org += m["org"] in vocab.ORG_PROPOSERS_SHORT
    assert multi > 50
    assert single > multi
    assert org > 20
    assert max(len(d.deputies) for d in replies) >= 10
    for count in (colon_less, masked, office, short_org):  # the real-world forms are there too
        assert count > 10


def test_reply_classes_meetings_and_numbers(corpus: list[Document]) -> None:
    replies = [d for d in corpus if d.kind.endswith("_reply")]
    classes = Counter()
    forms = Counter()
    for doc in replies:
        assert doc.meeting is not None
        assert doc.meeting.body == ("npc" if doc.kind == "suggestion_reply" else "cppcc")
        if "title_without_number" in doc.conventions:  # the session and number are in the opening
            assert doc.meeting.text in doc.body_text
            assert f"（{doc.proposal_no}号）" in doc.body_text or f"第{doc.proposal_no}号" in doc.body_text
        else:
            assert doc.meeting.text in doc.title
            assert f"第{doc.proposal_no}号" in doc.title
        m = PROPOSAL_TITLE_ANY_FORM.search(doc.body_text)
        assert m, doc.body_text[:200]
        form = next(g for g in ("book", "quoted", "plain") if m[g])
        forms[form] += 1
        assert m[form] == doc.proposal_title
        assert m["no"] in (None, doc.proposal_no)
        label = REPLY_CLASS.search(doc.body_text)
        mark = CLASS_MARK.search(doc.body_text)
        if doc.reply_class:
            found = label["cls"] if label else (mark["mark"] or mark["lone"] or mark["paren"] if mark else None)
            assert found == doc.reply_class, doc.doc_id
            classes[doc.reply_class] += 1
        else:
            assert label is None
            assert mark is None
    assert set(classes) == {"A", "B", "C"}
    assert set(forms) == {"book", "quoted", "plain"}
    assert {d.portal_id for d in replies if d.reply_class} == {"fujian_xiamen", "sichuan"}
    assert {(d.meeting.level, d.meeting.body) for d in replies if d.meeting} >= {
        ("city", "npc"),
        ("city", "cppcc"),
        ("province", "npc"),
        ("province", "cppcc"),
        ("national", "npc"),
        ("national", "cppcc"),
    }
    national = {d.meeting.text for d in replies if d.meeting and d.meeting.level == "national"}
    assert {t for t in national if "全国委员会" in t or "全国人民代表大会" in t}  # the formal national forms
    lengths = {len(d.proposal_no) for d in replies if d.proposal_no}
    assert lengths == {4, 7}  # 0105-style and 2025010-style


def test_every_real_world_convention_is_generated(corpus: list[Document]) -> None:
    """Each convention of the project's real-world list that the text carries occurs in a 2,000-document
    corpus (the page-template ones are counted by the extraction-accuracy crawl)."""
    used = Counter(c for d in corpus for c in d.conventions)
    assert set(used) == set(CONVENTIONS)
    assert min(used.values()) >= 5, used


def test_adoption_phrases(corpus: list[Document]) -> None:
    with_points = [d for d in corpus if d.adoption]
    assert len(with_points) > 300
    used = Counter(a for d in with_points for a in d.adoption)
    assert set(used) == set(vocab.ADOPTIONS)
    for doc in with_points[:200]:
        assert_in_order(doc.body_text, [f"{a}该" for a in doc.adoption])


def test_index_numbers_and_fujian_fields(corpus: list[Document]) -> None:
    for doc in corpus:
        if doc.portal_id in ("fujian_xiamen", "fujian_ningde"):
            assert doc.index_no
            assert IDX_FJ.fullmatch(doc.index_no), doc.index_no
        elif doc.portal_id in ("guangdong_zhongshan", "nhsa"):
            assert doc.index_no
            assert IDX_CREDIT.fullmatch(doc.index_no), doc.index_no
        else:
            assert doc.index_no is None
    ningde = [d for d in corpus if d.portal_id == "fujian_ningde" and d.kind.endswith("_reply")]
    assert all(d.public_marker == "主动公开" and "（此件主动公开）" in d.body_text for d in ningde)
    assert all(set(d.contacts) == {"signer", "contact", "phone"} for d in ningde)
    validity = Counter(d.validity for d in corpus if d.kind == "policy" and d.validity)
    assert set(validity) == {"有效", "失效", "废止", "已修改"}  # 已修改 on the Fujian (TRS) bureaus only
    assert {d.portal_id for d in corpus if d.validity == "已修改"} == {"fujian_xiamen", "fujian_ningde"}


def test_outline_and_fullwidth_punctuation(corpus: list[Document]) -> None:
    for doc in corpus[:300]:
        if doc.kind == "notice":  # short notices have no numbered headings
            assert doc.outline == []
            continue
        assert doc.outline
        assert all(level in (1, 2, 3) for level, _ in doc.outline)
        assert doc.outline[0][0] == 1
        assert not re.search(r"[,;()]|(?<!\d):|:(?!\d)", doc.body_text.replace(doc.doc_no_raw or "\0", ""))


def test_attachments_are_real_pdfs(corpus: list[Document]) -> None:
    with_files = [d for d in corpus if d.attachments]
    assert len(with_files) > 50
    assert {d.kind for d in with_files} == {"policy", "notice"}
    assert max(len(d.attachments) for d in with_files) == 2
    for doc in with_files[:10]:
        for att in doc.attachments:
            assert att.ext == "pdf"
            assert re.fullmatch(r"附件\d：\w+\.pdf", att.name)
            text = PdfReader(io.BytesIO(att.data)).pages[0].extract_text()
            assert f"of document {doc.doc_id}" in text
            assert f"file {att.file_id}" in text
