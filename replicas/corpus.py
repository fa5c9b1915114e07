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
from .bureaus import BUREAUS, POLICIES, REPLIES, Bureau
from .model import CENTER, H1, H2, H3, RIGHT, Attachment, Block, Document, Meeting, P
from .pdf import make_pdf
from .seeds import SEEDS, seed_text
from .textutil import cn_date, cn_number, role_of, to_fullwidth

FIRST_GENERATED_ID = 3_000_000
EPOCH = datetime(2023, 1, 3, 9, 0)
SPAN_HOURS = 24 * 365 * 3 + 24 * 300  # up to late 2026
_UNSAFE_FILLER = re.compile(r"收悉|代表[:：]|委员[:：]|采纳|答复类别|此件|联系电话|领导署名|届.{0,6}会议|〔|^\d|[:：]$")


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
    ) -> Document:
        rng = self.rng_for(doc_id)
        bureau = BUREAUS[portal_id]
        column = bureau.column(column_key)
        if published_at is None:
            published_at = EPOCH + timedelta(hours=rng.randint(0, SPAN_HOURS), minutes=rng.randint(0, 59))
        kind = kind or self._pick_kind(rng, column.kind)
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
        return doc

    @staticmethod
    def _pick_kind(rng: random.Random, column_kind: str) -> str:
        if column_kind == REPLIES:
            return "suggestion_reply" if rng.random() < 0.6 else "proposal_reply"
        if column_kind == POLICIES:
            return rng.choices(("policy", "interpretation", "notice"), (0.7, 0.15, 0.15))[0]
        return "report"

    # -- replies -------------------------------------------------------------------------------

    def _reply(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        npc = doc.kind == "suggestion_reply"
        year = doc.published_at.year
        meetings = bureau.npc_meetings if npc else bureau.cppcc_meetings
        per_bureau = _serial(doc) // len(BUREAUS)  # documents are dealt to the bureaus round-robin
        meeting: Meeting = meetings[per_bureau % len(meetings)]
        number = self._proposal_no(bureau, year, per_bureau // len(meetings))
        doc.meeting, doc.proposal_no = meeting, number
        doc.title = (bureau.suggestion_title if npc else bureau.proposal_title).format(
            meeting=meeting.text, no=number
        )
        if bureau.portal_id == "guangdong_zhongshan":
            doc.title_tag = "建议提案"
        doc.theme = ("人大" if npc else "政协") if bureau.index_scheme == "fj_grid" else None
        signed = doc.published_at - timedelta(days=rng.randint(1, 20))
        doc.signed_on = signed.date().isoformat()
        self._reply_metadata(rng, bureau, doc, year, signed)

        blocks: list[Block] = []
        if doc.doc_no_raw and bureau.portal_id != "fujian_ningde":
            blocks.append(Block(doc.doc_no_raw, CENTER))
        if bureau.reply_class_line:
            doc.reply_class = rng.choice("ABC")
            blocks.append(Block(f"答复类别：{doc.reply_class}类"))
        blocks.append(Block(self._salutation(rng, doc, npc, bureau)))
        blocks.append(Block(self._opening(rng, doc, npc)))
        blocks += self._reply_sections(rng, doc, npc)
        blocks.append(Block(rng.choice(vocab.CLOSINGS)))
        if bureau.contacts:
            doc.contacts = {"signer": _name(rng), "contact": _name(rng), "phone": f"0593-{rng.randint(2000000, 2999999)}"}
            blocks += [
                Block(f"领导署名：{doc.contacts['signer']}"),
                Block(f"联 系 人：{doc.contacts['contact']}"),
                Block(f"联系电话：{doc.contacts['phone']}"),
            ]
        blocks += [Block(bureau.name, RIGHT), Block(_date_line(rng, signed), RIGHT)]
        if bureau.public_marker or rng.random() < 0.1:
            doc.public_marker = "主动公开"
            blocks.append(Block("（此件主动公开）"))
        doc.blocks = blocks

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

    def _salutation(self, rng: random.Random, doc: Document, npc: bool, bureau: Bureau) -> str:
        if npc:
            doc.deputies = _names(rng, 1 if rng.random() < 0.6 else rng.randint(2, 16))
            return "、".join(doc.deputies) + "代表："
        if rng.random() < 0.25:
            org = rng.choice(vocab.ORG_PROPOSERS).format(city=bureau.short)
            doc.deputies = [org]
            return f"{org}："
        doc.deputies = _names(rng, 1)
        return f"{doc.deputies[0]}委员："

    @staticmethod
    def _opening(rng: random.Random, doc: Document, npc: bool) -> str:
        topic = rng.choice(vocab.PROPOSAL_TOPICS)
        word = "建议" if npc else "提案"
        plural = len(doc.deputies) > 1
        doc.proposal_title = topic if plural and rng.random() < 0.5 else f"关于{topic}的{word}"
        co = rng.choice(vocab.CO_HANDLERS)
        you = "你们" if plural else ("贵委" if doc.deputies[0].endswith("委员会") else "您")
        forms = (
            f"{you}提出的《{doc.proposal_title}》（{word}第{doc.proposal_no}号）收悉。经综合{co}的意见，现答复如下：",
            f"《{doc.proposal_title}》（第{doc.proposal_no}号）收悉。现答复如下：",
            f"{you}提出的《{doc.proposal_title}》（第{doc.proposal_no}号）{word}收悉，现会同{co}答复如下：",
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
        doc.title = f"{bureau.name}关于印发《{place}{subject}》的通知"
        doc.doc_no_raw, doc.doc_no = _doc_no(rng, rng.choice(bureau.policy_doc_prefixes), year, _serial(doc))
        doc.index_no = _index_no(bureau, year, 1, _serial(doc))
        signed = doc.published_at - timedelta(days=rng.randint(1, 10))
        doc.signed_on = signed.date().isoformat()
        doc.generated_on = signed.date().isoformat() if bureau.index_scheme or bureau.portal_id == "sichuan" else None
        doc.validity = rng.choices(("有效", "失效", "废止"), (0.85, 0.1, 0.05))[0] if bureau.index_scheme else None
        addressees = vocab.ADDRESSEES[3:] if bureau.level == "national" else vocab.ADDRESSEES[:3]
        blocks = [Block(doc.doc_no_raw, CENTER), Block(rng.choice(addressees))]
        blocks.append(Block(f"现将《{place}{subject}》印发给你们，请结合实际认真贯彻执行。"))
        blocks += [Block(bureau.name, RIGHT), Block(_date_line(rng, signed), RIGHT)]
        blocks.append(Block(f"{place}{subject}", CENTER))
        for i, head in enumerate(rng.sample(vocab.POLICY_HEADINGS, rng.randint(3, 5)), start=1):
            blocks.append(Block(f"{cn_number(i)}、{head}", H1))
            blocks += _fill(rng, 1, 2)
        doc.blocks = blocks
        if rng.random() < 0.4:
            self._attach(rng, doc, rng.randint(1, 2))

    def _interpretation(self, rng: random.Random, bureau: Bureau, doc: Document) -> None:
        doc.title = f"《{rng.choice(vocab.POLICY_SUBJECTS)}》政策解读"
        doc.index_no = _index_no(bureau, doc.published_at.year, 1, _serial(doc))
        doc.validity = "有效" if bureau.index_scheme else None
        if bureau.index_scheme:
            doc.generated_on = doc.published_on
        blocks = []
        for i, head in enumerate(vocab.INTERPRETATION_HEADINGS[: rng.randint(3, 6)], start=1):
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
        doc.title = rng.choice(
            (
                f"{bureau.name}{year}年上半年工作总结",
                f"{bureau.name}{year}年工作总结和{year + 1}年工作计划",
                f"{bureau.name}{year}年法治政府建设年度报告",
            )
        )
        doc.index_no = _index_no(bureau, doc.published_at.year, 2, _serial(doc))
        if bureau.index_scheme:
            doc.generated_on = doc.published_on
            doc.validity = "有效"
        signed = doc.published_at - timedelta(days=rng.randint(0, 5))
        doc.signed_on = signed.date().isoformat()
        blocks = _fill(rng, 1, 1)
        for i, head in enumerate(rng.sample(vocab.REPORT_HEADINGS, rng.randint(2, 4)), start=1):
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


__all__ = ["FIRST_GENERATED_ID", "CorpusGenerator", "filler_paragraphs", "new_attachment"]
