"""Deterministic corpus generator: any number of documents in each bureau's own conventions.

Every document is built from its own ``random.Random`` seeded by (corpus seed, doc id), so document
k is the same whatever else is generated, and publishing a new document at run time is the same
call as generating the corpus. Running prose is drawn from the seed pages' paragraphs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache

from . import vocab
from .bureaus import BUREAUS, POLICIES, REPLIES, REPORTS, Bureau
from .links import REPORT_BASIS, Linker, filler_citations, place
from .model import CENTER, H1, H2, H3, RIGHT, Attachment, Block, Document, Meeting, P
from .pdf import make_pdf
from .seeds import SEEDS, seed_text
from .textutil import cn_date, cn_number, role_of, to_fullwidth

FIRST_GENERATED_ID = 3_000_000
_LINK_WINDOW = 300  # citation targets are dealt within this many ids of the citing document
EPOCH = datetime(2023, 1, 3, 9, 0)
SPAN_HOURS = 24 * 365 * 3 + 24 * 300  # up to late 2026
_UNSAFE_FILLER = re.compile(
    r"收悉|代表[:：]|委员[:：]|采纳|答复类别|此件|联系电话|联系人|领导署名|届.{0,6}会议|〔|^\d|[:：]$"
    r"|报告如下|本报告|特此报告|印发给|转发给|发布会"
)
# Real-world conventions the generator writes documents in (``Document.conventions``); the sites add
# the ones that are a matter of page templates and URLs (see ``Site.page_conventions``).
CONVENTIONS = (
    "ptitle_plain", "ptitle_quoted", "ptitle_quoted_book", "received_yi", "subject_gui", "no_paren_bare",
    "no_category", "meeting_national_formal", "title_without_number", "class_mark", "class_lone",
    "class_label_banli", "class_paren", "class_paren_doc_no", "salutation_no_colon", "salutation_masked",
    "org_short", "huiban", "contacts_paren", "contacts_semicolon", "report_opening", "report_nouns",
    "report_in_policy_column", "policy_cover_no_doc_no", "policy_cover_plain_title", "interp_press",
    "interp_one_picture", "signature_then_attachment", "validity_modified",
)  # fmt: skip
PHONE_AREAS = {"fujian_xiamen": "0592", "fujian_ningde": "0593", "guangdong_zhongshan": "0760", "sichuan": "028",
               "nhsa": "010"}


@cache
def filler_paragraphs() -> tuple[str, ...]:
    """Prose paragraphs of the seed pages that carry no field an extractor looks for."""
    out = []
    for spec in SEEDS:
        for line in seed_text(spec.file).splitlines():
            text = to_fullwidth(line.strip(" \u00a0\u2002\u2003\u3000"))
            if len(text) >= 60 and role_of(text) == P and not _UNSAFE_FILLER.search(text):
                out.append(text)
    return tuple(out)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(vocab.GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(vocab.SURNAMES) + given


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = _name(rng)
        if name not in names:
            names.append(name)
    return names


_BRACKETS = (("〔", "〕"),) * 6 + (("[", "]"), ("（", "）"), ("(", ")"), ("【", "】"), ("［", "］"))


# What a policies column holds, in the order documents are dealt to it (each bureau's k-th document there
# is ``_POLICY_COLUMN_KINDS[k % 20]``): 13 policies, 3 interpretations, 3 notices and a yearly report
# (reports are often filed under 政务公开/政策文件 too).
_POLICY_COLUMN_KINDS = (
    "policy", "notice", "policy", "interpretation", "policy", "policy", "report", "policy", "notice", "policy",
    "interpretation", "policy", "policy", "policy", "notice", "policy", "interpretation", "policy", "policy", "policy",
)  # fmt: skip


def _serial(doc: Document) -> int:
    """A number unique to the document: 文号, 索引号 and proposal numbers never collide by chance."""
    return doc.doc_id - FIRST_GENERATED_ID


def _doc_no(rng: random.Random, prefix: str, year: int, serial: int) -> tuple[str, str]:
    """(raw as printed, canonical) 文号."""
    seq = 200 + serial
    left, right = rng.choice(_BRACKETS)
    printed_seq = f"{seq:05d}" if rng.random() < 0.08 else str(seq)
    return f"{prefix}{left}{year}{right}{printed_seq}号", f"{prefix}〔{year}〕{seq}号"


def _index_no(bureau: Bureau, year: int, kind_code: int, serial: int) -> str | None:
    seq = 1000 + serial
    if bureau.index_scheme == "fj_grid":
        return f"{bureau.index_org}-{('09-01', '01-02', '03-01')[kind_code]}-{year}-{seq:03d}"
    if bureau.index_scheme == "fj_bullet":
        return f"{bureau.index_org}-{('0200', '0101', '0300')[kind_code]}-{year}-{seq:05d}"
    if bureau.index_scheme in ("credit", "org9"):
        return f"{bureau.index_org}/{year}-{seq:05d}"
    return None


def _date_line(rng: random.Random, day: datetime) -> str:
    if rng.random() < 0.2:
        return cn_date(day.year, day.month, day.day)
    return f"{day.year}年{day.month}月{day.day}日"


@cache
def filler_sentences() -> tuple[str, ...]:
    """The seed prose cut into sentences, so that generated paragraphs differ from document to document."""
    return tuple(s + "。" for p in filler_paragraphs() for s in p.split("。") if len(s) >= 12)


def _para(rng: random.Random) -> str:
    """A paragraph of 2–4 seed sentences and one figure of its own."""
    pool = filler_sentences()
    figure = (
        f"截至{rng.randint(2019, 2026)}年{rng.randint(1, 12)}月，累计{rng.randint(12, 990)}家定点医药机构纳入"
        f"{rng.choice(vocab.PROPOSAL_TOPICS)}工作范围，涉及医保基金{rng.randint(1, 99)}.{rng.randint(1, 99)}亿元。"
    )
    sentences = [rng.choice(pool) for _ in range(rng.randint(2, 4))]
    sentences.insert(rng.randint(0, len(sentences)), figure)
    return "".join(sentences)


def _fill(rng: random.Random, low: int, high: int) -> list[Block]:
    return [Block(_para(rng)) for _ in range(rng.randint(low, high))]


class CorpusGenerator:
    """Builds documents for the replica bureaus; ``seed`` fixes the whole corpus."""

    def __init__(self, seed: int = 2025) -> None:
        self.seed = seed
        self._plain: dict[int, Document | None] = {}  # documents without citations, as citation targets
        self.linker = Linker(self._policy_slots, self._plain_doc)

    # -- the slots documents are dealt to (``generate``), for citation targets --------------------------

    @staticmethod
    def slot(doc_id: int) -> tuple[str, str]:
        """(portal id, column key) ``generate`` deals generated document ``doc_id`` to."""
        k = doc_id - FIRST_GENERATED_ID
        bureaus = list(BUREAUS)
        bureau = BUREAUS[bureaus[k % len(bureaus)]]
        turn = (k // len(bureaus)) % 5
        column = bureau.columns[0] if turn in (3, 4) else bureau.columns[turn % len(bureau.columns)]
        return bureau.portal_id, column.key

    def _is_policy_slot(self, doc_id: int) -> bool:
        portal_id, column_key = self.slot(doc_id)
        if BUREAUS[portal_id].column(column_key).kind != POLICIES:
            return False
        return (
            _POLICY_COLUMN_KINDS[(doc_id - FIRST_GENERATED_ID) // 25 % len(_POLICY_COLUMN_KINDS)] == "policy"
        )

    def _policy_slots(self, doc_id: int, same_portal: bool) -> list[int]:
        """Policy slots within ``_LINK_WINDOW`` ids of ``doc_id`` (of its bureau only when ``same_portal``)."""
        nb = len(BUREAUS)
        lo = max(FIRST_GENERATED_ID, doc_id - _LINK_WINDOW)
        ids = range(lo, doc_id + _LINK_WINDOW)
        return [
            i
            for i in ids
            if i != doc_id
            and (not same_portal or (i - FIRST_GENERATED_ID) % nb == (doc_id - FIRST_GENERATED_ID) % nb)
            and self._is_policy_slot(i)
        ]

    def _plain_doc(self, doc_id: int) -> Document | None:
        if doc_id not in self._plain:
            portal_id, column_key = self.slot(doc_id)
            self._plain[doc_id] = self.make(portal_id, column_key, doc_id=doc_id, link=False)
        return self._plain[doc_id]


    def rng_for(self, doc_id: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + doc_id)

    def generate(self, count: int, portal_ids: list[str] | None = None) -> Iterator[Document]:
        """``count`` documents dealt round-robin to the bureaus (only ``portal_ids`` when given)."""
        bureaus = list(BUREAUS)
        made, k = 0, 0
        while made < count:
            bureau = BUREAUS[bureaus[k % len(bureaus)]]
            turn = (k // len(bureaus)) % 5
            column = bureau.columns[0] if turn in (3, 4) else bureau.columns[turn % len(bureau.columns)]
            if portal_ids is None or bureau.portal_id in portal_ids:  # replies are the bulk of what we watch
                yield self.make(bureau.portal_id, column.key, doc_id=FIRST_GENERATED_ID + k)
                made += 1
            k += 1

    def make(
        self,
        portal_id: str,
        column_key: str,
        *,
        doc_id: int,
        kind: str | None = None,
        published_at: datetime | None = None,
        link: bool = True,
        cites: list[tuple[str, Document]] | None = None,
    ) -> Document:
        """Document ``doc_id``. With ``link`` its body cites other documents (``replicas.links``): nearby
        policies picked by its own random stream, or exactly ``cites`` — (relation, document) pairs — when
        given (then no other replica document is cited)."""
        rng = self.rng_for(doc_id)
        bureau = BUREAUS[portal_id]
        column = bureau.column(column_key)
        if published_at is None:
            published_at = EPOCH + timedelta(hours=rng.randint(0, SPAN_HOURS), minutes=rng.randint(0, 59))
        kind = kind or self._pick_kind(rng, column.kind, doc_id)
        doc = Document(
            doc_id=doc_id,
            portal_id=portal_id,
            column=column_key,
            kind=kind,
            title="",
            published_at=published_at,
            blocks=[],
            bureau=bureau.name,
            region_code=bureau.region_code,
        )
        builder = {
            "suggestion_reply": self._reply,
            "proposal_reply": self._reply,
            "policy": self._policy,
            "interpretation": self._interpretation,
            "notice": self._notice,
            "report": self._report,
        }[kind]
        builder(rng, bureau, doc)
        if link:
            self._link(doc, cites)
        return doc

    def _link(self, doc: Document, cites: list[tuple[str, Document]] | None) -> None:
        """Write the citation sentences (their own random stream: the rest of the document is unchanged)."""
        if doc.doc_id < FIRST_GENERATED_ID and cites is None:
            return
        rng = random.Random(f"links:{self.seed}:{doc.doc_id}")
        if cites is not None:
            explicit = self.linker.explicit_sentences(rng, doc, cites)
            place(doc, rng, explicit, at="last" if doc.kind == "policy" else "any")
        elif doc.kind == "policy":
            head, tail, term = self.linker.policy_sentences(rng, doc)
            place(doc, rng, head, at="first")
            if place(doc, rng, tail, at="last"):
                doc.term = term
        else:
            place(doc, rng, self.linker.reply_sentences(rng, doc))
        if "本报告根据《中华人民共和国政府信息公开条例》" in doc.body_text:
            doc.citations.append(REPORT_BASIS)
        doc.citations.extend(filler_citations(doc.body_text))


    @staticmethod
    def _pick_kind(rng: random.Random, column_kind: str, doc_id: int) -> str:
        if column_kind == REPLIES:
            return "suggestion_reply" if rng.random() < 0.6 else "proposal_reply"
        if column_kind == POLICIES:  # dealt in a fixed cycle, so that even a small corpus has every kind
            return _POLICY_COLUMN_KINDS[(doc_id - FIRST_GENERATED_ID) // 25 % len(_POLICY_COLUMN_KINDS)]
        return "report"

    # -- replies -------------------------------------------------------------------------------

    def _reply(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        npc = doc.kind == "suggestion_reply"
        word = "建议" if npc else "提案"
        year = doc.published_at.year
        meetings = bureau.npc_meetings if npc else bureau.cppcc_meetings
        per_bureau = _serial(doc) // len(BUREAUS)  # documents are dealt to the bureaus round-robin
        meeting: Meeting = self._meeting_form(rng, doc, meetings[per_bureau % len(meetings)])
        number = self._proposal_no(bureau, year, per_bureau // len(meetings))
        doc.meeting, doc.proposal_no = meeting, number
        huiban = not npc and bureau.huiban and rng.random() < 0.15
        salutation = self._salutation(rng, doc, npc, bureau, huiban)
        category = ""
        if bureau.level == "national" and not npc and rng.random() < 0.4:
            category = f"（医药卫生类{rng.randint(10, 399)}号）"
            doc.conventions.append("no_category")
        person = len(doc.deputies) == 1 and not doc.deputies[0].endswith(("委员会", "委会"))
        untitled = bureau.untitled_replies and person and rng.random() < 0.25
        if huiban:
            doc.title = f"{bureau.name}关于{meeting.text}第{number}号提案的会办意见"
        elif untitled:  # like seed 001: no session and no number in the title
            doc.title = f"{bureau.name}对{doc.deputies[0]}{'代表' if npc else '委员'}{word}的答复"
            doc.conventions.append("title_without_number")
        else:
            title = (bureau.suggestion_title if npc else bureau.proposal_title).format(meeting=meeting.text, no=number)
            doc.title = title.replace(f"第{number}号", f"第{number}号{category}", 1)
        if bureau.portal_id == "guangdong_zhongshan":
            doc.title_tag = "建议提案"
        doc.theme = ("人大" if npc else "政协") if bureau.index_scheme == "fj_grid" else None
        signed = doc.published_at - timedelta(days=rng.randint(1, 20))
        doc.signed_on = signed.date().isoformat()
        self._reply_metadata(rng, bureau, doc, year, signed)

        blocks: list[Block] = []
        top_marker = None
        if bureau.class_marks and rng.random() < 0.5:
            marks, top_marker = self._class_marks(rng, doc)
            blocks += marks
        doc_no_line = doc.doc_no_raw if doc.doc_no_raw and bureau.portal_id != "fujian_ningde" else None
        class_line = None
        if bureau.reply_class_line:
            doc.reply_class = rng.choice("ABC")
            style = rng.choices(("label", "banli", "paren", "paren_doc_no"), (0.55, 0.15, 0.15, 0.15))[0]
            if style == "paren_doc_no" and doc_no_line:
                doc_no_line = f"{doc_no_line}（{doc.reply_class}类）"
                doc.conventions.append("class_paren_doc_no")
            elif style == "banli":
                class_line = f"办理类别：{doc.reply_class}"
                doc.conventions.append("class_label_banli")
            elif style == "paren":
                class_line = f"（{doc.reply_class}类）"
                doc.conventions.append("class_paren")
            else:
                class_line = f"答复类别：{doc.reply_class}类"
        if doc_no_line:
            blocks.append(Block(doc_no_line, CENTER))
        if class_line:
            blocks.append(Block(class_line))
        blocks.append(Block(salutation))
        blocks.append(Block(self._opening(rng, doc, npc, bureau, huiban=huiban, untitled=untitled, category=category)))
        blocks += self._reply_sections(rng, doc, npc)
        blocks.append(Block(rng.choice(vocab.CLOSINGS)))
        area = PHONE_AREAS[bureau.portal_id]
        if bureau.contacts:
            doc.contacts = {"signer": _name(rng), "contact": _name(rng), "phone": f"0593-{rng.randint(2000000, 2999999)}"}
            blocks += [
                Block(f"领导署名：{doc.contacts['signer']}"),
                Block(f"联 系 人：{doc.contacts['contact']}"),
                Block(f"联系电话：{doc.contacts['phone']}"),
            ]
        elif bureau.contact_style == "semicolon" and rng.random() < 0.3:
            doc.contacts = {"contact": _name(rng), "phone": f"{area}-{rng.randint(5000000, 5999999)}"}
            blocks.append(Block(f"联系人：{doc.contacts['contact']}；联系电话：{doc.contacts['phone']}"))
            doc.conventions.append("contacts_semicolon")
        blocks += [Block(bureau.name, RIGHT), Block(_date_line(rng, signed), RIGHT)]
        if bureau.contact_style == "paren" and rng.random() < 0.3:
            doc.contacts = {"contact": _name(rng), "phone": f"{area}-{rng.randint(80000000, 89999999)}"}
            blocks.append(Block(f"（联系人及电话：{doc.contacts['contact']} {doc.contacts['phone']}）"))
            doc.conventions.append("contacts_paren")
        doc.public_marker = top_marker
        if bureau.public_marker or rng.random() < 0.1:
            doc.public_marker = "主动公开"  # the last marker printed is the one that counts
            blocks.append(Block("（此件主动公开）"))
        doc.blocks = blocks

    @staticmethod
    def _meeting_form(rng: random.Random, doc: Document, meeting: Meeting) -> Meeting:
        """National sessions are printed in several forms (全国政协十四届二次会议, 政协十四届全国委员会第二次会议,
        政协第十四届全国委员会第二次会议; 十四届全国人大二次会议, 第十四届全国人民代表大会第二次会议)."""
        if meeting.level != "national" or rng.random() < 0.5:
            return meeting
        term, session = cn_number(meeting.term), cn_number(meeting.session)
        if meeting.body == "cppcc":
            text = rng.choice((f"政协{term}届全国委员会第{session}次会议", f"政协第{term}届全国委员会第{session}次会议"))
        else:
            text = f"第{term}届全国人民代表大会第{session}次会议"
        doc.conventions.append("meeting_national_formal")
        return Meeting(meeting.level, meeting.body, meeting.term, meeting.session, text)

    @staticmethod
    def _class_marks(rng: random.Random, doc: Document) -> tuple[list[Block], str | None]:
        """Jiangsu-style marks above the letter: 〔B〕 (with 〔公开〕 beside or below it) or a lone B line."""
        doc.reply_class = rng.choice("ABC")
        cls = doc.reply_class
        style = rng.choice(("mark", "mark_public", "mark_line", "lone"))
        doc.conventions.append("class_lone" if style == "lone" else "class_mark")
        if style == "mark_public":
            return [Block(f"〔{cls}〕"), Block("〔公开〕")], "公开"
        if style == "mark_line":
            return [Block(f"〔{cls}〕\u3000\u3000\u3000\u3000〔主动公开〕")], "主动公开"
        return [Block(f"〔{cls}〕" if style == "mark" else cls)], None

    @staticmethod
    def _proposal_no(bureau: Bureau, year: int, seq: int) -> str:
        """Unique within a meeting: ``seq`` comes from the document's serial."""
        if bureau.proposal_digits == 7:  # year + 3 digits (4 past 899 in huge corpora: never a repeat)
            return f"{year}{100 + seq:03d}"
        if bureau.proposal_digits == 8:  # year + 4 digits
            return f"{year}{1000 + seq:04d}"
        return f"{2000 + seq:04d}"

    @staticmethod
    def _reply_metadata(rng: random.Random, bureau: Bureau, doc: Document, year: int, signed: datetime) -> None:
        if bureau.reply_doc_prefix:
            doc.doc_no_raw, doc.doc_no = _doc_no(rng, bureau.reply_doc_prefix, year, _serial(doc))
        doc.index_no = _index_no(bureau, year, 0, _serial(doc))
        if bureau.index_scheme:
            doc.generated_on = signed.date().isoformat()
            doc.validity = "有效"

    def _salutation(self, rng: random.Random, doc: Document, npc: bool, bureau: Bureau, huiban: bool) -> str:
        """The addressee line; ``doc.deputies`` as the page shows them (masked names kept masked)."""
        if huiban:  # sent to the lead office: no deputy is addressed (the member is named in the text)
            doc.conventions.append("huiban")
            return rng.choice(vocab.LEAD_OFFICES) + "："
        if not npc and rng.random() < 0.25:
            if rng.random() < 0.4:
                org = rng.choice(vocab.ORG_PROPOSERS_SHORT)
                doc.conventions.append("org_short")
            else:
                org = rng.choice(vocab.ORG_PROPOSERS).format(city=bureau.short)
            doc.deputies = [org]
            return f"{org}："
        names = _names(rng, 1) if not npc or rng.random() < 0.6 else _names(rng, rng.randint(2, 16))
        if bureau.masked_names and rng.random() < 0.4:
            fully = len(names) == 1 and rng.random() < 0.25
            names = ["***" if fully else n[0] + "*" * (len(n) - 1) for n in names]
            doc.conventions.append("salutation_masked")
        doc.deputies = names
        line = "、".join(names) + ("代表" if npc else "委员")
        if bureau.colon_less and rng.random() < 0.2:
            doc.conventions.append("salutation_no_colon")
            return line
        return line + "："

    @staticmethod
    def _opening(
        rng: random.Random, doc: Document, npc: bool, bureau: Bureau, *, huiban: bool, untitled: bool, category: str
    ) -> str:
        """The sentence acknowledging receipt, in the phrasing real pages use (《》, “”, or no brackets;
        the number as （建议第N号）/（第N号）/（N号）/（第N号（医药卫生类M号））; 收悉 or 已收悉)."""
        word = "建议" if npc else "提案"
        co = rng.choice(vocab.CO_HANDLERS)
        plural = len(doc.deputies) > 1
        addressee = doc.deputies[0] if doc.deputies else ""
        if addressee.endswith(("委员会", "委会")):
            you = rng.choice(("贵委员会", "贵委") if addressee.endswith("委员会") else ("贵会", "贵单位"))
            if you != "贵委":
                doc.conventions.append("subject_gui")
        else:
            you = "你们" if plural else "您"
        national = bureau.level == "national"
        form = rng.choices(("book", "quoted", "plain"), (0.3, 0.3, 0.4) if national else (0.8, 0.12, 0.08))[0]
        if form != "book" and national and rng.random() < 0.3:
            doc.proposal_title = f"关于{rng.choice(vocab.BOOK_TOPICS)}的{word}"
            doc.conventions.append("ptitle_quoted_book")
        else:
            topic = rng.choice(vocab.PROPOSAL_TOPICS)
            doc.proposal_title = topic if form == "book" and plural and rng.random() < 0.5 else f"关于{topic}的{word}"
        received = "收悉"
        if rng.random() < 0.2:
            received = "已收悉"
            doc.conventions.append("received_yi")
        no = doc.proposal_no
        if category:
            number = f"（第{no}号{category}）"
        elif bureau.bare_numbers and rng.random() < 0.3:
            number = f"（{no}号）"
            doc.conventions.append("no_paren_bare")
        else:
            number = rng.choice((f"（{word}第{no}号）", f"（第{no}号）"))
        if form != "book" and not untitled and not huiban and rng.random() < 0.5:
            number = ""  # national pages often name no number: the title carries it
        pt = doc.proposal_title
        if huiban:
            member = _name(rng)
            return f"{member}委员提出的《{pt}》{number}{received}。经认真研究，现提出会办意见如下："
        if untitled:  # the session is named in the opening instead
            assert doc.meeting is not None
            return f"{you}在{doc.meeting.text}上提出的《{pt}》{number}{received}。经研究，现答复如下："
        if form == "quoted":
            doc.conventions.append("ptitle_quoted")
            return f"{you}提出的“{pt}”{number}{received}。经商{co}，现答复如下："
        if form == "plain":
            doc.conventions.append("ptitle_plain")
            return f"{you}提出的{pt}{number}{received}。经商{co}，现答复如下："
        forms = (
            f"{you}提出的《{pt}》{number}{received}。经综合{co}的意见，现答复如下：",
            f"《{pt}》{number}{received}。现答复如下：",
            f"{you}提出的《{pt}》{number}{word}{received}，现会同{co}答复如下：",
        )
        return rng.choice(forms)

    def _reply_sections(self, rng: random.Random, doc: Document, npc: bool) -> list[Block]:
        word = "建议" if npc else "提案"
        heads = rng.sample(vocab.HEADINGS_L1, rng.randint(2, 4))
        blocks: list[Block] = []
        with_points = rng.random() < 0.6
        for i, head in enumerate(heads, start=1):
            blocks.append(Block(f"{cn_number(i)}、{head}", H1))
            if with_points and i == len(heads) - 1:
                blocks += self._points(rng, doc, word)
            else:
                blocks += self._subsections(rng) if rng.random() < 0.4 else _fill(rng, 1, 3)
        return blocks

    @staticmethod
    def _points(rng: random.Random, doc: Document, word: str) -> list[Block]:
        blocks = []
        for j in range(1, rng.randint(2, 5)):
            topic = rng.choice(vocab.PROPOSAL_TOPICS)
            status = rng.choice(vocab.ADOPTIONS)
            doc.adoption.append(status)
            blocks.append(Block(f"（{cn_number(j)}）关于{topic}的{word}。", H2))
            blocks.append(Block(f"{status}该{word}。" + _para(rng)))
        return blocks

    @staticmethod
    def _subsections(rng: random.Random) -> list[Block]:
        blocks: list[Block] = []
        for j, head in enumerate(rng.sample(vocab.HEADINGS_L2, rng.randint(2, 3)), start=1):
            if rng.random() < 0.3:  # heading sentence running on into the paragraph
                blocks.append(Block(f"（{cn_number(j)}）{head}。" + _para(rng), H2))
                continue
            blocks.append(Block(f"（{cn_number(j)}）{head}", H2))
            if rng.random() < 0.3:
                for m, sub in enumerate(rng.sample(vocab.HEADINGS_L3, 2), start=1):
                    blocks.append(Block(f"{m}.{sub}", H3))
                    blocks += _fill(rng, 1, 1)
            else:
                blocks += _fill(rng, 1, 2)
        return blocks

    # -- policies, interpretations, notices, reports ---------------------------------------------

    def _policy(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        year = doc.published_at.year
        subject = rng.choice(vocab.POLICY_SUBJECTS)
        place = "" if bureau.level == "national" else bureau.short + ("市" if bureau.level == "city" else "省")
        cover = rng.random()
        if cover < 0.08:  # a plain 通知 title: only the cover sentence says a policy is handed over
            doc.title = f"{bureau.name}关于贯彻落实{place}{subject}有关事项的通知"
            doc.conventions.append("policy_cover_plain_title")
        else:
            doc.title = f"{bureau.name}关于印发《{place}{subject}》的通知"
        if cover < 0.08 or rng.random() < 0.15:  # many cover notices are published without their 文号
            if cover >= 0.08:
                doc.conventions.append("policy_cover_no_doc_no")
        else:
            doc.doc_no_raw, doc.doc_no = _doc_no(rng, rng.choice(bureau.policy_doc_prefixes), year, _serial(doc))
        doc.index_no = _index_no(bureau, year, 1, _serial(doc))
        signed = doc.published_at - timedelta(days=rng.randint(1, 10))
        doc.signed_on = signed.date().isoformat()
        doc.generated_on = signed.date().isoformat() if bureau.index_scheme or bureau.portal_id == "sichuan" else None
        if bureau.index_scheme in ("fj_grid", "fj_bullet"):  # Zhejiang-style 已修改 beside 有效/失效/废止
            doc.validity = rng.choices(("有效", "失效", "废止", "已修改"), (0.72, 0.1, 0.05, 0.13))[0]
        elif bureau.index_scheme:
            doc.validity = rng.choices(("有效", "失效", "废止"), (0.85, 0.1, 0.05))[0]
        if doc.validity == "已修改":
            doc.conventions.append("validity_modified")
        addressees = vocab.ADDRESSEES[3:] if bureau.level == "national" else vocab.ADDRESSEES[:3]
        blocks = [Block(doc.doc_no_raw, CENTER)] if doc.doc_no_raw else []
        blocks.append(Block(rng.choice(addressees)))
        blocks.append(Block(f"现将《{place}{subject}》印发给你们，请结合实际认真贯彻执行。"))
        blocks += [Block(bureau.name, RIGHT), Block(_date_line(rng, signed), RIGHT)]
        if rng.random() < 0.25:  # the policy printed as 附件1 after the signature, sometimes long
            doc.conventions.append("signature_then_attachment")
            blocks.append(Block(f"附件1：{place}{subject}"))
            blocks += self._articles(rng, rng.randint(40, 60) if rng.random() < 0.4 else rng.randint(3, 8))
            if rng.random() < 0.3:  # a second attachment that is signed and dated itself
                blocks.append(Block("附件2：医疗保障基金使用告知书"))
                blocks += _fill(rng, 1, 2)
                later = signed + timedelta(days=rng.randint(10, 40))
                blocks += [Block(f"{bureau.name}医疗保障基金管理中心", RIGHT), Block(_date_line(rng, later), RIGHT)]
        else:
            blocks.append(Block(f"{place}{subject}", CENTER))
            for i, head in enumerate(rng.sample(vocab.POLICY_HEADINGS, rng.randint(3, 5)), start=1):
                blocks.append(Block(f"{cn_number(i)}、{head}", H1))
                blocks += _fill(rng, 1, 2)
        doc.blocks = blocks
        if rng.random() < 0.4:
            self._attach(rng, doc, rng.randint(1, 2))

    @staticmethod
    def _articles(rng: random.Random, count: int) -> list[Block]:
        """第一条 … 第N条 of a policy's text, under two or three chapter headings."""
        pool = filler_sentences()
        blocks: list[Block] = []
        chapters = rng.sample(vocab.POLICY_HEADINGS, min(3, max(1, count // 15)))
        per = -(-count // len(chapters))
        for c, head in enumerate(chapters):
            blocks.append(Block(f"{cn_number(c + 1)}、{head}", H1))
            for n in range(c * per + 1, min(count, (c + 1) * per) + 1):
                blocks.append(Block(f"第{cn_number(n)}条\u3000{rng.choice(pool)}"))
        return blocks

    def _interpretation(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        subject = rng.choice(vocab.POLICY_SUBJECTS)
        style = rng.random()
        headings = vocab.INTERPRETATION_HEADINGS[: rng.randint(3, 6)]
        if style < 0.15:
            doc.title = f"一图读懂《{subject}》"
            doc.conventions.append("interp_one_picture")
        elif style < 0.4:  # transcripts of press conferences
            quarter = cn_number((doc.published_at.month - 1) // 3 + 1)
            doc.title = rng.choice((f"{bureau.name}{doc.published_at.year}年第{quarter}季度新闻发布会",
                                    f"{bureau.name}“{subject}”政策发布会实录"))
            headings = vocab.PRESS_HEADINGS
            doc.conventions.append("interp_press")
        else:
            doc.title = f"《{subject}》政策解读"
        doc.index_no = _index_no(bureau, doc.published_at.year, 1, _serial(doc))
        doc.validity = "有效" if bureau.index_scheme else None
        if bureau.index_scheme:
            doc.generated_on = doc.published_on
        blocks = []
        for i, head in enumerate(headings, start=1):
            blocks.append(Block(f"{cn_number(i)}、{head}", H1))
            blocks += _fill(rng, 1, 2)
        doc.blocks = blocks

    def _notice(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        subject = rng.choice(vocab.NOTICE_SUBJECTS)
        doc.title = f"关于{subject}的公告" if rng.random() < 0.5 else f"关于{subject}的通知"
        doc.index_no = _index_no(bureau, doc.published_at.year, 1, _serial(doc))
        if bureau.index_scheme:
            doc.generated_on = doc.published_on
            doc.validity = "有效"
        doc.signed_on = doc.published_on
        doc.blocks = [
            *_fill(rng, 2, 4),
            Block("特此公告。"),
            Block(bureau.name, RIGHT),
            Block(_date_line(rng, doc.published_at), RIGHT),
        ]
        if rng.random() < 0.3:
            self._attach(rng, doc, 1)

    def _report(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        year = doc.published_at.year - (1 if doc.published_at.month < 7 else 0)
        name = bureau.name
        styles = (
            ("summary", f"{name}{year}年上半年工作总结", None),
            ("summary_plan", f"{name}{year}年工作总结和{year + 1}年工作计划", None),
            ("rule_of_law", f"{name}{year}年法治政府建设年度报告", None),
            ("gov_info", f"{name}{year}年政府信息公开工作年度报告", "report_opening"),
            ("gov_info_bare", f"{name}{year}年度政府信息公开工作", "report_opening"),  # no head noun
            ("reported", f"{name}{year}年法治政府建设工作", "report_opening"),
            ("key_points", f"{name}{year + 1}年医疗保障工作要点", "report_nouns"),
            ("work_plan", f"{name}{year + 1}年工作计划", "report_nouns"),
            ("shuzhi", f"{name}领导班子{year}年度述职报告", "report_nouns"),
            ("thinking", f"{name}{year}年工作总结及{year + 1}年工作思路", "report_nouns"),
        )
        style, doc.title, convention = rng.choices(styles, (15, 15, 15, 12, 6, 7, 8, 8, 7, 7))[0]
        if convention:
            doc.conventions.append(convention)
        if bureau.column(doc.column).kind != REPORTS:
            doc.conventions.append("report_in_policy_column")
        doc.index_no = _index_no(bureau, doc.published_at.year, 2, _serial(doc))
        if bureau.index_scheme:
            doc.generated_on = doc.published_on
            doc.validity = "有效"
        signed = doc.published_at - timedelta(days=rng.randint(0, 5))
        doc.signed_on = signed.date().isoformat()
        if style.startswith("gov_info"):
            blocks = [Block(f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级有关要求，由{name}编制。"
                            "报告全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况等内容。")]
            headings = list(vocab.GOV_INFO_HEADINGS[: rng.randint(3, 5)])
        elif style == "reported":
            blocks = [Block(f"{year}年，{name}在上级部门的坚强领导下，深入推进法治政府建设。现将有关情况报告如下：")]
            headings = rng.sample(vocab.REPORT_HEADINGS, rng.randint(2, 4))
        else:
            blocks = _fill(rng, 1, 1)
            headings = rng.sample(vocab.REPORT_HEADINGS, rng.randint(2, 4))
        for i, head in enumerate(headings, start=1):
            blocks.append(Block(f"{cn_number(i)}、{head}", H1))
            blocks += self._subsections(rng) if rng.random() < 0.5 else _fill(rng, 1, 3)
        blocks += [Block(bureau.name, RIGHT), Block(_date_line(rng, signed), RIGHT)]
        doc.blocks = blocks

    def _attach(self, rng: random.Random, doc: Document, count: int) -> None:
        for i in range(1, count + 1):
            file_id = rng.randint(1_000_000, 9_999_999)
            label = rng.choice(("申请表", "名单", "目录", "评分表", "流程图"))
            lines = [f"Yibao replica attachment {i} of document {doc.doc_id}", f"file {file_id}: {label}"]
            lines += [f"row {r}: value {rng.randint(1, 99999)}" for r in range(rng.randint(3, 12))]
            doc.attachments.append(Attachment(f"附件{i}：{label}.pdf", make_pdf(lines), file_id))


def new_attachment(doc: Document, label: str, serial: int) -> Attachment:
    """An attachment added or replaced at run time (content depends on ``serial``)."""
    lines = [f"Yibao replica attachment for document {doc.doc_id}", f"{label} revision {serial}"]
    return Attachment(f"附件{len(doc.attachments) + 1}：{label}.pdf", make_pdf(lines), doc.doc_id * 10 + serial)


__all__ = ["CONVENTIONS", "FIRST_GENERATED_ID", "CorpusGenerator", "filler_paragraphs", "new_attachment"]
