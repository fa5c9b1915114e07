"""Citation links between replica documents, with their ground truth.

Published bodies cite each other the way real ones do: replies and notices name the policies they rely
on (``根据《…》（厦医保规〔2024〕203号）要求``), within their portal and across portals (a city reply citing
the province's or the national bureau's policy), by 文号 in every bracket variant, by 文号 alone, and laws
and national regulations by title only. Policies state their basis, their term (``自…起施行，有效期N年``)
and the earlier policy they abolish or replace (``原《…》（…）同时废止``, ``本办法代替《…》``).

Targets are picked among the documents dealt to nearby slots (the corpus deals documents to bureaus and
columns by id), so document k cites the same documents whatever the corpus size; a target may be
published after the document that cites it, or lie beyond the generated corpus (never published). Every
sentence written here records its citations as ``CitedDoc``s on the document; the seed prose the generator
reuses as filler carries the hand-labelled citations of ``FILLER_CITATIONS``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, timedelta

from .model import Block, CitedDoc, Document, P, Term
from .textutil import cn_date, cn_number

# --------------------------------------------------------------------------- documents outside the world

# (title, printed 文号 or None, canonical 文号 or None, kind). Sequence numbers below 200 never collide with
# generated 文号 (200 + serial).
EXTERNAL: tuple[tuple[str, str | None, str | None, str], ...] = (
    ("中华人民共和国社会保险法", None, None, "law"),
    ("社会保险法", None, None, "law"),
    ("中华人民共和国基本医疗卫生与健康促进法", None, None, "law"),
    ("中华人民共和国医师法", None, None, "law"),
    ("医疗保障基金使用监督管理条例", None, None, "regulation"),
    ("中华人民共和国药品管理法实施条例", None, None, "regulation"),
    ("社会救助暂行办法", None, None, "document"),
    ("中共中央 国务院关于深化医疗保障制度改革的意见", "中发〔2020〕5号", "中发〔2020〕5号", "document"),
    ("国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见", "国办发〔2021〕42号", "国办发〔2021〕42号", "document"),
    ("国务院办公厅关于建立健全职工基本医疗保险门诊共济保障机制的指导意见", "国办发〔2021〕14号",
     "国办发〔2021〕14号", "document"),
    ("国家医疗保障局 财政部关于建立医疗保障待遇清单制度的意见", "医保发〔2021〕5号", "医保发〔2021〕5号", "document"),
    ("国家医疗保障局关于印发DRG/DIP支付方式改革三年行动计划的通知", "医保发[2021]48号", "医保发〔2021〕48号",
     "document"),
)  # fmt: skip
LAWS = [e for e in EXTERNAL if e[3] != "document"]
NATIONAL_DOCS = [e for e in EXTERNAL if e[3] == "document" and e[1]]
# 部门规章 cited with their order number
ORDERS = (
    ("医疗机构医疗保障定点管理暂行办法", "国家医疗保障局令第2号"),
    ("零售药店医疗保障定点管理暂行办法", "国家医疗保障局令第3号"),
)

# --------------------------------------------------------------------------- the seed prose used as filler

# The seed sentences the generator reuses as filler that cite documents, labelled by hand (a sentence that
# names no document — 《中国式现代化之路·人民至上》, a documentary; 《保险服务质量指数》, an index — is absent).
FILLER_CITATIONS: dict[str, tuple[CitedDoc, ...]] = {
    "但现行《社会保险基金财务制度》第六条规定": (CitedDoc("cites", "社会保险基金财务制度", None),),
    "同时，制定《人身保险理赔服务规范》": (CitedDoc("cites", "人身保险理赔服务规范", None),),
    "以今年5月我市出台的《2025年度医保定点医药机构绩效考核暂行方案》为例": (
        CitedDoc("cites", "2025年度医保定点医药机构绩效考核暂行方案", None),
    ),
    "我局按照国家《DIP技术规范》中明确的": (
        CitedDoc("implements", "DIP技术规范", None),
        CitedDoc("implements", "DIP经办规程", None),  # 按照 A 中明确的…，以及 B 中规定的…
    ),
    "按照国家局《DIP技术规范》要求": (CitedDoc("implements", "DIP技术规范", None),),
    "通过解读《社会保险法》《医疗保障基金使用监督管理条例》": (
        CitedDoc("cites", "社会保险法", None, "law"),
        CitedDoc("cites", "医疗保障基金使用监督管理条例", None, "regulation"),
        CitedDoc("cites", "关于办理医保骗保刑事案件若干问题的指导意见", None),
    ),
    "四是认真对照《关于进一步规范医疗行为促进合理医疗检查的指导意见》": (
        CitedDoc("implements", "关于进一步规范医疗行为促进合理医疗检查的指导意见", None),
        CitedDoc("implements", "医疗机构临床路径管理指导原则", None),
    ),
    "出台实施《中山市职工生育保险办法》": (CitedDoc("cites", "中山市职工生育保险办法", None),),
    "一是修订《中山市社会医疗保险医疗费用结算办法》": (
        CitedDoc("amends", "中山市社会医疗保险医疗费用结算办法", None),
    ),
}
# the opening of every generated government-information report
REPORT_BASIS = CitedDoc("implements", "中华人民共和国政府信息公开条例", None, "regulation")


def filler_citations(body: str) -> list[CitedDoc]:
    """The labelled citations of the filler sentences that occur in ``body``."""
    return [c for head, cited in FILLER_CITATIONS.items() if head in body for c in cited]


# --------------------------------------------------------------------------- printing a citation

_BRACKETS = (("〔", "〕"),) * 5 + (("[", "]"), ("（", "）"), ("【", "】"), ("［", "］"), ("﹝", "﹞"))
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CANON_RE = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<seq>\d+)号$")


def print_doc_no(rng: random.Random, canonical: str) -> str:
    """A canonical 文号 as some page prints it: another bracket pair, 第, zero padding, full-width digits."""
    m = _CANON_RE.match(canonical)
    if m is None:
        return canonical
    left, right = rng.choice(_BRACKETS)
    seq = m["seq"]
    if rng.random() < 0.1:
        seq = "第" + seq
    elif rng.random() < 0.05:
        seq = seq.zfill(3)
    text = f"{m['prefix']}{left}{m['year']}{right}{seq}号"
    return text.translate(_FULLWIDTH) if rng.random() < 0.08 else text


def _paren(rng: random.Random, printed_no: str) -> str:
    # full-width, as the replicas print all running text (half-width forms are covered by core's unit tests)
    return f"（{printed_no}）"


def inner_title(title: str) -> str | None:
    """``…关于印发《X》的通知`` → ``X``."""
    m = re.search(r"《([^《》]+)》", title)
    return m[1] if m else None


def _nested(title: str, rng: random.Random) -> str:
    """A cover notice's full title, its inner 《》 printed as 〈〉 (the usual nesting) or left as 《》."""
    return title.replace("《", "〈").replace("》", "〉") if rng.random() < 0.7 else title


# --------------------------------------------------------------------------- the linker

Lookup = Callable[[int], Document | None]  # a document id -> the document (without its citations) or None


class Linker:
    """Writes citation sentences into a generated document and records their truth.

    ``candidates(doc_id)`` lists the ids of policy slots near ``doc_id``; ``lookup`` builds such a document
    (without citations) so that its title, 文号 and date can be cited.
    """

    def __init__(self, candidates: Callable[[int, bool], list[int]], lookup: Lookup) -> None:
        self.candidates = candidates
        self.lookup = lookup

    # -- targets ---------------------------------------------------------------------------------

    def _targets(
        self, rng: random.Random, doc: Document, *, same_portal: bool, earlier: bool = False, want: int = 1
    ) -> list[Document]:
        ids = self.candidates(doc.doc_id, same_portal)
        rng.shuffle(ids)
        out: list[Document] = []
        for tid in ids[:12]:
            target = self.lookup(tid)
            if (
                target is None
                or target.kind != "policy"
                or not target.doc_no
                or not inner_title(target.title)
            ):
                continue
            if earlier and target.published_at >= doc.published_at:
                continue
            if same_portal and target.portal_id != doc.portal_id:
                continue
            out.append(target)
            if len(out) == want:
                break
        return out

    def _cite(self, rng: random.Random, target: Document, relation: str) -> tuple[str, CitedDoc]:
        """``《title》（文号）`` (or the 文号 alone) of an in-world policy, with its truth."""
        assert target.doc_no is not None
        printed = print_doc_no(rng, target.doc_no)
        style = rng.random()
        if style < 0.12:
            return printed, CitedDoc(relation, None, target.doc_no, "document", target.doc_id)
        title = _nested(target.title, rng) if style < 0.3 else inner_title(target.title) or target.title
        text = f"《{title}》{_paren(rng, printed)}"
        return text, CitedDoc(relation, title, target.doc_no, "document", target.doc_id)

    @staticmethod
    def _external(
        rng: random.Random, relation: str, pool: list[tuple[str, str | None, str | None, str]]
    ) -> tuple[str, CitedDoc]:
        title, printed, canonical, kind = rng.choice(pool)
        text = f"《{title}》" + (_paren(rng, printed) if printed else "")
        return text, CitedDoc(relation, title, canonical, kind)

    @staticmethod
    def _order(rng: random.Random, relation: str) -> tuple[str, CitedDoc]:
        title, order = rng.choice(ORDERS)
        return f"《{title}》（{order}）", CitedDoc(relation, title, None, "regulation")

    # -- sentences -------------------------------------------------------------------------------

    def reply_sentences(self, rng: random.Random, doc: Document) -> list[tuple[str, list[CitedDoc]]]:
        """What a reply (or a notice, an interpretation) cites: 0–3 sentences."""
        out: list[tuple[str, list[CitedDoc]]] = []
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            roll = rng.random()
            if roll < 0.5:  # an in-world policy, same portal mostly
                found = self._targets(rng, doc, same_portal=rng.random() < 0.6)
                if not found:
                    continue
                relation = rng.choices(("implements", "cites", "amends"), (0.6, 0.32, 0.08))[0]
                text, truth = self._cite(rng, found[0], relation)
                sentence, truths = self._reply_sentence(rng, relation, text), [truth]
                if truth.title and rng.random() < 0.25:  # named again later by its title alone
                    again = CitedDoc("cites", truth.title, truth.doc_no, "document", truth.target)
                    if rng.random() < 0.5 and relation == "implements":  # …（以下简称《办法》）
                        sentence = f"根据{text}（以下简称《办法》）规定，参保人员可按程序申请相关待遇。《办法》实施后，待遇标准保持不变。"
                    else:
                        sentence += f"《{truth.title}》明确的待遇标准保持不变。"
                        truths.append(again)
                out.append((sentence, truths))
            elif roll < 0.65:  # two in-world policies in one list
                found = self._targets(rng, doc, same_portal=False, want=2)
                if len(found) < 2:
                    continue
                (a, ta), (b, tb) = (
                    self._cite(rng, found[0], "implements"),
                    self._cite(rng, found[1], "implements"),
                )
                joint = rng.choice(("和", "、", "以及"))
                out.append((f"根据{a}{joint}{b}等规定，我局已同步调整经办规程。", [ta, tb]))
            elif roll < 0.85:  # laws and national regulations by title
                relation = rng.choice(("implements", "cites"))
                text, truth = (
                    self._external(rng, relation, LAWS) if rng.random() < 0.8 else self._order(rng, relation)
                )
                if relation == "implements":
                    out.append(
                        (
                            f"{rng.choice(('依据', '按照', '根据'))}{text}有关规定，基金支付范围保持不变。",
                            [truth],
                        )
                    )
                else:
                    out.append((f"{text}对此作出了明确规定，我局将严格遵照执行。", [truth]))
            else:  # a national document outside the replica world
                relation = rng.choice(("implements", "cites"))
                text, truth = self._external(rng, relation, NATIONAL_DOCS)
                if relation == "implements":
                    out.append((f"为贯彻落实{text}，我市进一步完善了配套措施。", [truth]))
                else:
                    out.append((f"{text}印发以来，各地医保部门持续推进相关改革。", [truth]))
        return out

    @staticmethod
    def _reply_sentence(rng: random.Random, relation: str, cited: str) -> str:
        if relation == "implements":
            return rng.choice(
                (
                    f"我局根据{cited}要求，进一步细化了经办流程。",
                    f"按照{cited}规定，参保人员可按程序申请相关待遇。",
                    f"为落实{cited}，我局组织各定点医疗机构开展了专项培训。",
                    f"依据{cited}，相关费用已纳入基金支付范围。",
                    f"结合{cited}有关要求，我市制定了实施细则。",
                    f"按照{cited}文件精神，我局已将相关项目纳入支付范围。",
                    f"根据上级印发的{cited}要求，我局细化了经办规程。",
                    f"按照有关部门印发{cited}的要求，做好政策衔接。",
                )
            )
        if relation == "amends":
            return rng.choice(
                (
                    f"下一步，我局将修订{cited}，进一步扩大保障范围。",
                    f"我局正在对{cited}进行修订，拟提高门诊报销比例。",
                )
            )
        return rng.choice(
            (
                f"此前印发的{cited}对此已有明确规定。",
                f"与{cited}相比，本次调整进一步提高了保障水平。",
                f"具体标准详见{cited}。",
                f"{cited}实施以来，累计惠及参保群众{rng.randint(2, 90)}万人次。",
                f"{cited}明确，异地就医人员享受与参保地相同的待遇。",
                f"其他事项参照{cited}执行。",  # 参照: by analogy, not the basis → cites
                f"根据工作安排我局印发了{cited}，进一步规范了经办服务。",  # the clause's own verb issues it
            )
        )

    def policy_sentences(
        self, rng: random.Random, doc: Document
    ) -> tuple[list[tuple[str, list[CitedDoc]]], list[tuple[str, list[CitedDoc]]], Term | None]:
        """(the basis, put at the start of the policy's text; the term and what it abolishes, at its end;
        the term's truth)."""
        head: list[tuple[str, list[CitedDoc]]] = []
        tail: list[tuple[str, list[CitedDoc]]] = []
        if rng.random() < 0.7:  # the basis: laws, and often a policy one level up (another portal)
            law, tlaw = self._external(rng, "implements", LAWS)
            parts, truths = [law], [tlaw]
            upper = self._targets(rng, doc, same_portal=False) if rng.random() < 0.6 else []
            if upper:
                text, truth = self._cite(rng, upper[0], "implements")
                parts.append(text)
                truths.append(truth)
            elif rng.random() < 0.5:
                text, truth = self._external(rng, "implements", NATIONAL_DOCS)
                parts.append(text)
                truths.append(truth)
            verb = rng.choice(("根据", "依据", "为贯彻落实"))
            head.append((f"{verb}{'和'.join(parts)}等规定，结合本地实际，制定本办法。", truths))
        term_text, term = self._term(rng, doc)
        old = self._targets(rng, doc, same_portal=True, earlier=True) if rng.random() < 0.6 else []
        if old:
            style = rng.random()
            if style < 0.3 and term_text:
                text, truth = self._cite(rng, old[0], "replaces")
                tail.append((f"{term_text.rstrip('。')}，代替{text}。", [truth]))
            elif style < 0.4:
                text, truth = self._cite(rng, old[0], "replaces")
                tail.append((term_text, []))
                tail.append((f"本办法代替{text}。", [truth]))
            elif (
                style < 0.55
                and len(two := self._targets(rng, doc, same_portal=True, earlier=True, want=2)) == 2
            ):
                (a, ta), (b, tb) = self._cite(rng, two[0], "abolishes"), self._cite(rng, two[1], "abolishes")
                tail.append((term_text, []))
                if rng.random() < 0.5:  # one document per line after the head
                    head_line = rng.choice(("下列文件同时废止：", "以下文件自本办法施行之日起废止："))
                    tail.append((f"{head_line}\n{a}；\n{b}。", [ta, tb]))
                else:
                    tail.append((f"原{a}{rng.choice(('、', '和'))}{b}同时废止。", [ta, tb]))
            else:
                text, truth = self._cite(rng, old[0], "abolishes")
                ending = rng.choice(("同时废止", "不再执行", "同时失效", "自本办法施行之日起废止"))
                lead = rng.choice(("原", "", "此前印发的"))
                if rng.random() < 0.5 and term_text:
                    tail.append((f"{term_text.rstrip('。')}，{lead}{text}{ending}。", [truth]))
                else:
                    tail.append((term_text, []))
                    tail.append((f"{lead}{text}{ending}。", [truth]))
        elif term_text:
            tail.append((term_text, []))
        if rng.random() < 0.1:
            found = self._targets(rng, doc, same_portal=True, earlier=True)
            if found:
                text, truth = self._cite(rng, found[0], "amends")
                head.append((f"现对{text}部分条款作如下修改。", [truth]))
        return head, [t for t in tail if t[0]], term

    def explicit_sentences(
        self, rng: random.Random, doc: Document, links: list[tuple[str, Document]]
    ) -> list[tuple[str, list[CitedDoc]]]:
        """Sentences citing the given documents in the given relations (``World.publish(cites=…)``)."""
        out: list[tuple[str, list[CitedDoc]]] = []
        for relation, target in links:
            if not target.doc_no:
                title = inner_title(target.title) or target.title
                text, truth = f"《{title}》", CitedDoc(relation, title, None, "document", target.doc_id)
            else:
                text, truth = self._cite(rng, target, relation)
            if relation == "abolishes":
                out.append((f"原{text}同时废止。", [truth]))
            elif relation == "replaces":
                out.append((f"本办法代替{text}。", [truth]))
            else:
                out.append((self._reply_sentence(rng, relation, text), [truth]))
        return out

    @staticmethod
    def _term(rng: random.Random, doc: Document) -> tuple[str, Term | None]:
        published = doc.published_at.date()
        start = published + timedelta(days=rng.randint(0, 60))
        years = rng.choice((2, 3, 5, 5))
        noun = rng.choice(("本办法", "本细则", "本通知"))
        printed = _print_date(rng, start)
        roll = rng.random()
        if roll < 0.35:
            return f"{noun}自{printed}起施行，有效期{_years(rng, years)}年。", Term(
                start.isoformat(), years, (_add_years(start, years) - timedelta(days=1)).isoformat()
            )
        if roll < 0.5:  # 印发之日 is taken as the date the page gives as published
            return f"{noun}自印发之日起施行，有效期{_years(rng, years)}年。", Term(
                published.isoformat(), years, (_add_years(published, years) - timedelta(days=1)).isoformat()
            )
        if roll < 0.65:
            end = _add_years(start, years) - timedelta(days=1)
            return f"{noun}自{printed}起施行，有效期至{_print_date(rng, end)}。", Term(
                start.isoformat(), None, end.isoformat()
            )
        if roll < 0.85:
            verb = rng.choice(("施行", "实施", "执行"))
            return f"{noun}自{printed}起{verb}。", Term(start.isoformat(), None, None)
        return "", None


def _years(rng: random.Random, n: int) -> str:
    return cn_number(n) if rng.random() < 0.3 else str(n)


def _print_date(rng: random.Random, day: date) -> str:
    if rng.random() < 0.15:
        return cn_date(day.year, day.month, day.day)
    return f"{day.year}年{day.month}月{day.day}日"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --------------------------------------------------------------------------- placing sentences

_CLOSING_HINTS = ("感谢", "专此答复", "特此", "收悉", "现将", "：", "此件")


def prose_blocks(doc: Document) -> list[int]:
    """Indexes of the body paragraphs a citation sentence may be appended to: running prose only (no
    headings, salutation, opening, closing, signature or metadata lines)."""
    return [
        i
        for i, b in enumerate(doc.blocks)
        if b.role == P
        and len(b.text) >= 40
        and b.text.endswith("。")
        and not any(h in b.text for h in _CLOSING_HINTS)
    ]


def append_sentence(doc: Document, index: int, sentence: str) -> None:
    doc.blocks[index].text += sentence


def place(
    doc: Document, rng: random.Random, sentences: list[tuple[str, list[CitedDoc]]], *, at: str = "any"
) -> bool:
    """Append ``sentences`` to prose paragraphs (``first``/``last``/``any``) and record their truth; False
    when the body has no prose paragraph to put them in."""
    blocks = prose_blocks(doc)
    if not blocks:
        return False
    for text, truth in sentences:
        index = blocks[0] if at == "first" else blocks[-1] if at == "last" else rng.choice(blocks)
        first, *more = text.split("\n")  # further lines: paragraphs of their own after that one
        append_sentence(doc, index, first)
        doc.blocks[index + 1 : index + 1] = [Block(line) for line in more]
        blocks = [b + len(more) if b > index else b for b in blocks]
        doc.citations.extend(truth)
    return True


__all__ = [
    "EXTERNAL",
    "FILLER_CITATIONS",
    "REPORT_BASIS",
    "Linker",
    "filler_citations",
    "inner_title",
    "place",
    "print_doc_no",
    "prose_blocks",
]
