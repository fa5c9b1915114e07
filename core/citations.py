"""Citation links: which documents a body cites, and in what relation; a policy's own term.

Pure (no I/O). :func:`extract_citations` finds every cited document in a body text — by 文号 (any
bracket variant, canonicalised with :func:`core.normalize.numbers.canonical_doc_no`'s form), by
《title》 with or without a 文号, laws and national regulations by title alone — and the relation
the citing clause states. :func:`policy_term` reads ``自…起施行`` / ``有效期N年`` / ``有效期至…``.

Rules (see docs/citations.md, "What is extracted"):

* **What counts as a citation.** A bracketed 文号 (``中府〔2021〕87号``, ``[]【】()［］（）〖〗``, with or
  without 第, full-width digits) — alone or in parentheses right after a 《title》, which it then
  belongs to. A 《title》 without 文号 counts only if its last word (trailing ``(试行)``/``(2025年版)``
  style parentheticals removed) is a document word (:data:`DOC_WORDS`: 办法, 通知, 意见, 规定, 条例,
  法, 方案, 细则, 决定, 批复, 函, 规划, 目录, 标准, …), so 《健康报》, 《中国式现代化之路》 or a
  proposal's 《关于…的建议》 are not documents. Only the outermost 《》 pair counts (a nested
  《》 is part of the title). A 文号 alone on its line, or after a 文号/发文字号 label, is the
  document's own number, not a citation (also with its reply class ``（B类）`` or ``签发人`` on the line);
  so is ``own_doc_no``, any title equal to ``own_title`` or quoted inside it (``关于印发《X》的通知`` →
  《X》) when printed without a 文号 (a same-named predecessor with its own 文号 is a citation), a title
  the clause says is being issued (``现将《X》印发给你们``), a short name (``（以下简称《条例》）``) and the
  proposal a reply answers (``关于修订《X》的提案收悉``, ``《…》（第12号）收悉``).
* **Kind.** ``document`` when a 文号 is given; else ``law`` for a title ending in 法 (not 办法/方法),
  e.g. 《社会保险法》, 《中华人民共和国社会保险法》; ``regulation`` for a title ending in 条例 or one
  followed by a ``(…令第N号)`` order number (部门规章); else ``document``.
* **Relation**, first match wins:

  - ``replaces`` / ``abolishes``: the sentence has 废止 / 不再执行 / 停止执行 / 失效 / 作废 and the
    citation is in that clause or in the clauses just before it that only name documents
    (``原《A》（X〔2019〕2号），自本办法施行之日起废止``). ``replaces`` when the same sentence also
    says 代替/替代/取代, else ``abolishes``. A citation right after 代替/替代/取代 (``本办法代替《A》、《B》``)
    is ``replaces`` too, and so is every document listed one per line after a ``下列文件同时废止：`` head.
  - ``amends``: 修订/修改/修正 in the clause before the citation (``一是修订《X办法》``, ``关于修改《X》的决定``)
    or right after it (``对《X》作如下修改``, ``《X》修订后``).
  - ``implements``: the clause (text from the last ``，。；：`` or line break, citations blanked) before the
    citation contains 根据/按照/依据/依照/遵照/对照/为贯彻落实/为落实/贯彻落实/结合 (``根据《A》和《B》要求``),
    or opens with 以及/及/并/和 after such a clause — unless the clause's own verb issues the document
    (``根据工作安排我局印发了《X》``; ``…印发的《X》`` and ``…印发《X》的要求`` still implement).
  - ``cites`` otherwise.

* Each document appears once per (relation, :func:`citation_key`); a title given with its 文号 elsewhere
  in the text lends its title-only mentions the 文号 of the nearest numbered mention before them.

Everything is regex/scan based on the width-folded text and linear in the text length (a 1 MB body is a
fraction of a second); control characters are treated as spaces.
"""

from __future__ import annotations

import datetime
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

from core.normalize.dates import cn_numeral_to_int
from core.normalize.numbers import DOC_NO_RE, parse_doc_no
from core.normalize.text import fold

__all__ = [
    "DOC_WORDS",
    "KINDS",
    "RELATIONS",
    "Citation",
    "PolicyTerm",
    "citation_key",
    "extract_citations",
    "normalize_title",
    "policy_term",
]

RELATIONS = ("cites", "implements", "replaces", "abolishes", "amends")
KINDS = ("document", "law", "regulation")

# The last word of a 《title》 that makes it a document (checked after trailing parentheticals are removed).
DOC_WORDS = (
    "办法", "通知", "意见", "规定", "条例", "法", "方案", "细则", "决定", "批复", "函", "规划", "目录",
    "目录库", "标准", "规则", "规范", "规程", "制度", "纲要", "计划", "公告", "通告", "指南", "指引", "清单",
    "答复", "复函", "解释", "原则", "要点", "措施", "协议", "意见稿", "命令", "决议", "安排", "实施方案",
    "管理办法", "试行", "暂行", "指导意见", "工作方案", "章程", "政策", "机制", "目录表", "价格表", "通报",
)  # fmt: skip
_DOC_WORD_RE = re.compile("(?:" + "|".join(sorted(map(re.escape, DOC_WORDS), key=len, reverse=True)) + ")$")
_TRAILING_PAREN_RE = re.compile(r"(?:\s*[(\[〔【][^()\[\]〔〕【】]{0,24}[)\]〕】])+\s*$")
_LAW_PREFIX = "中华人民共和国"
_NOT_LAW_ENDINGS = (
    "办法",
    "方法",
    "做法",
    "算法",
    "疗法",
    "用法",
    "手法",
    "写法",
    "说法",
    "看法",
    "想法",
    "立法",
)
_ORDER_NO_RE = re.compile(r"\s*\(\s*[^()]{0,30}令\s*(?:第\s*)?[0-9一二三四五六七八九十百〇零]{1,6}\s*号\s*\)")

_MAX_TITLE = 160  # a 《 without its 》 within this many characters is not a title
_QUOTE_MAX = 80
_SENTENCE_WINDOW = 400  # characters either side of a citation that its sentence is read in
_MAX_GAP_CLAUSES = 6  # clauses between a citation and the 废止 clause it belongs to

_CTRL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_WS_RE = re.compile(r"\s+")
# 文号 candidates: find the bracketed year first (cheap), then run DOC_NO_RE on a small window.
_YEAR_BRACKET_RE = re.compile(r"[〔\[【(〖]\s*(?:19|20)\d{2}\s*[〕\]】)〗]")
# sentence words in front of a 文号 that core.normalize.numbers does not cut (``本通知文号为厦医保规〔2025〕1号``)
_EXTRA_PREFIX_CUT_RE = re.compile(
    r".*(?:为|是|将|文号|字号|号|在|由|对|通知|办法|意见|规定|细则|文件|要求|本|印发了?|出台|代替|替代|取代"
    r"|修订|修改|修正|废止|同|自|结合|遵照|以及|明确|相比|参照|了|于)"
)
_FORMER_RE = re.compile(r"原")  # 原厦医保规〔2019〕2号: the former one
_OWN_LINE_TAIL_RE = re.compile(r"\s*(?:\(\s*[A-DＡ-Ｄ甲乙丙丁]\s*类\s*\)|签发人\s*:?\s*\S{0,12})?\s*")
_OWN_LABEL_RE = re.compile(r"(?:发文字号|发文文号|文\s*号|发文号|字\s*号)\s*[:：]?\s*$")

_SENTENCE_END = frozenset("。!?;\n\ufdd0")
_CLAUSE_END = _SENTENCE_END | frozenset(",:")
_SENTENCE_END_RE = re.compile("[" + re.escape("".join(sorted(_SENTENCE_END))) + "]")
_CLAUSE_END_RE = re.compile("[" + re.escape("".join(sorted(_CLAUSE_END))) + "]")
_LIST_SEP_RE = re.compile(r"^[\s、,和及与或以及等]*$")

_IMPLEMENT_RE = re.compile(r"根据|按照|依据|依照|遵照|对照|为贯彻落实|为落实|贯彻落实|贯彻|结合")
# 根据工作安排我局印发了《X》: the clause's own verb issues X (印发的《X》 is still what is followed)
_ISSUED_RE = re.compile(r"(?:印发|出台|制定|发布|下发|起草|修订|出版)(?!的|\ue000)")
_BASIS_AFTER_RE = re.compile(
    r"\s*(?:等)?(?:的|有关|相关)?(?:要求|规定|精神|部署|标准)"
)  # 根据…印发《X》的要求
# a clause that continues an implementing one: 按照《A》中明确的…，以及《B》中规定的…
_CONTINUE_RE = re.compile(r"^\s*(?:以及|及|并|和)")
_ALIAS_RE = re.compile(r"(?:以下)?简称\s*$")
# a 《》 inside the title of the proposal a reply answers: 关于修订《X》的建议（第12号）收悉
_PROPOSAL_AFTER_RE = re.compile(r"[^。!?;\n]{0,40}?(?:建议|提案|议案)[^。!?;\n]{0,30}?收悉")
_AMEND_RE = re.compile(r"修订|修改|修正")
_AMEND_AFTER_RE = re.compile(
    r"^\s*(?:的?部分条款|的?相关内容|的?有关条款|的?部分内容)?\s*(?:进行|作出|作|予以)?(?:如下|了)?\s*(?:修订|修改|修正)"
)
_ABOLISH_RE = re.compile(r"废止|不再执行|停止执行|失效|作废|不再适用")
_REPLACE_RE = re.compile(r"代替|替代|取代")
# the proposal a reply answers: 《完善职工医保门诊共济保障机制》（第2025129号）已收悉
_RECEIVED_RE = re.compile(r"\s*(?:\([^()]{0,30}\))?\s*(?:建议|提案|议案)?\s*(?:已经?)?收悉")
_ISSUE_SELF_RE = re.compile(r"\s*(?:印发给|印发你们|予以印发|印发实施|印发,|转发给|转发你们)")
_SELF_CLAUSE_RE = re.compile(r"^\s*现将\s*$")


@dataclass(frozen=True, slots=True)
class Citation:
    relation: str  # one of RELATIONS
    doc_no: str | None  # canonical 文号, e.g. 中府〔2021〕87号
    title: str | None  # the 《title》 without the brackets
    kind: str  # "document" | "law" | "regulation"
    start: int  # offset of the citation in the text passed in
    quote: str  # the clause it sits in (short, for display)


@dataclass(frozen=True, slots=True)
class PolicyTerm:
    effective_from: datetime.date | None  # 自2025年4月1日起施行
    valid_years: int | None  # 有效期5年
    expires_on: datetime.date | None  # explicit 有效期至… or effective_from/published + valid_years


# --------------------------------------------------------------------------- helpers


def normalize_title(title: str) -> str:
    """The form titles are compared in: width-folded, no whitespace, no inner 《》〈〉 or quotes,
    ``中华人民共和国`` dropped from the front of a law's name."""
    t = fold(_CTRL_RE.sub(" ", title))
    t = _WS_RE.sub("", t)
    t = t.translate(_TITLE_DROP)
    if t.startswith(_LAW_PREFIX) and _is_law_title(t):
        t = t[len(_LAW_PREFIX) :]
    return t.lower()


_TITLE_DROP = str.maketrans("", "", "《》〈〉“”\"'‘’「」『』")


def _is_law_title(t: str) -> bool:
    core = _TRAILING_PAREN_RE.sub("", t)
    return core.endswith("法") and not core.endswith(_NOT_LAW_ENDINGS)


def _is_document_title(t: str) -> bool:
    core = _TRAILING_PAREN_RE.sub("", _WS_RE.sub("", t))
    return bool(core) and _DOC_WORD_RE.search(core) is not None


def citation_key(c: Citation) -> str:
    """The resolution key: ``no:<canonical 文号>`` if the citation has a 文号, else ``title:<normalised title>``."""
    if c.doc_no:
        return f"no:{c.doc_no}"
    return f"title:{normalize_title(c.title or '')}"


def _title_spans(folded: str) -> list[tuple[int, int]]:
    """Outermost 《…》 spans as (start of 《, end after 》); nested pairs belong to the outer title.

    One pass over the brackets and line breaks: a title never crosses a line, and an unclosed 《 is
    dropped once a new 《 opens more than ``_MAX_TITLE`` characters after it.
    """
    spans: list[tuple[int, int]] = []
    depth = 0
    open_at = -1
    for m in _BRACKET_RE.finditer(folded):
        ch = m.group()
        pos = m.start()
        if ch == "\n":
            depth = 0
        elif ch == "《":
            if depth == 0 or pos - open_at > _MAX_TITLE:
                depth = 0
                open_at = pos
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0 and pos + 1 - open_at <= _MAX_TITLE:
                spans.append((open_at, pos + 1))
    return spans


_BRACKET_RE = re.compile("[《》\n]")


@dataclass(slots=True)
class _DocNoHit:
    start: int
    end: int
    canonical: str


def _doc_no_hits(folded: str) -> list[_DocNoHit]:
    hits: list[_DocNoHit] = []
    last_end = 0
    for m in _YEAR_BRACKET_RE.finditer(folded):
        if m.start() < last_end:
            continue
        lo = max(last_end, m.start() - 17)
        window = folded[lo : m.end() + 12]
        dm = DOC_NO_RE.search(window, m.start() - lo - 16 if m.start() - lo > 16 else 0)
        while dm is not None and lo + dm.end("year") < m.start():
            dm = DOC_NO_RE.search(window, dm.start() + 1)
        if dm is None or lo + dm.start("year") > m.end():
            continue
        doc = parse_doc_no(window[dm.start() : dm.end()])
        if doc is None:
            continue
        end = lo + dm.end()
        start = end - len(doc.raw)
        prefix = doc.prefix
        cut = _EXTRA_PREFIX_CUT_RE.match(prefix) or _FORMER_RE.match(prefix)
        if cut and cut.end() < len(prefix):
            start = folded.find(prefix[cut.end() :], start, end)
            prefix = prefix[cut.end() :]
        hits.append(_DocNoHit(start, end, f"{prefix}〔{doc.year}〕{doc.seq}号"))
        last_end = end
    return hits


def _is_own_doc_no(folded: str, hit: _DocNoHit) -> bool:
    line_start = folded.rfind("\n", 0, hit.start) + 1
    line_end = folded.find("\n", hit.end)
    if line_end < 0:
        line_end = len(folded)
    if not folded[line_start : hit.start].strip() and _OWN_LINE_TAIL_RE.fullmatch(folded, hit.end, line_end):
        return True  # a 文号 alone on its line (or with the reply class / 签发人): the document's own heading
    return _OWN_LABEL_RE.search(folded, max(line_start, hit.start - 12), hit.start) is not None


@dataclass(slots=True)
class _Mention:
    start: int  # offset of 《 or of the 文号
    end: int  # after 》 (and its 文号 parenthesis) or after the 文号
    title: str | None
    doc_no: str | None
    order_no: bool = False


def _mentions(text: str, folded: str) -> list[_Mention]:
    titles = _title_spans(folded)
    hits = _doc_no_hits(folded)
    hit_starts = [h.start for h in hits]
    used: set[int] = set()
    out: list[_Mention] = []
    for t_start, t_end in titles:
        title = text[t_start + 1 : t_end - 1].strip()
        # A 文号 in the parenthesis right after the title (or right after it with no parenthesis).
        j = bisect_left(hit_starts, t_end)
        doc_no = None
        end = t_end
        if j < len(hits):
            h = hits[j]
            between = folded[t_end : h.start]
            if len(between) <= 4 and re.fullmatch(r"\s*[(\[]?\s*", between):
                after = folded[h.end : h.end + 3]
                if between.strip() == "" or re.match(r"\s*[)\]]", after):
                    doc_no = h.canonical
                    used.add(j)
                    close = re.match(r"\s*[)\]]", after)
                    end = h.end + (close.end() if close else 0)
        # a hit inside the title belongs to the title (《…(中府〔2021〕87号)…》 is rare; keep it unused)
        for k in range(bisect_left(hit_starts, t_start), bisect_left(hit_starts, t_end)):
            used.add(k)
        order = _ORDER_NO_RE.match(folded, t_end) if doc_no is None else None
        if order:
            end = order.end()
        out.append(_Mention(t_start, end, title, doc_no, order_no=order is not None))
    for k, h in enumerate(hits):
        if k in used or _is_own_doc_no(folded, h):
            continue
        out.append(_Mention(h.start, h.end, None, h.canonical))
    out.sort(key=lambda m: m.start)
    return out


def _kind(m: _Mention) -> str:
    if m.doc_no:
        return "document"
    if m.order_no:
        return "regulation"
    t = _WS_RE.sub("", fold(m.title or ""))
    core = _TRAILING_PAREN_RE.sub("", t)
    if _is_law_title(core):
        return "law"
    if core.endswith("条例"):
        return "regulation"
    return "document"


class _Clauses:
    """Sentence and clause boundaries of the folded text, ignoring punctuation inside citations."""

    def __init__(self, folded: str, mentions: list[_Mention]) -> None:
        # built from slices and regex scans, not character by character: this was two thirds of extraction
        parts, last = [], 0
        for m in sorted(mentions, key=lambda m: m.start):
            start = max(m.start, last)
            if start < m.end:
                parts += [folded[last:start], "\ue000" * (m.end - start)]
                last = m.end
        parts.append(folded[last:])
        masked = "".join(parts)
        self.masked = masked
        self.sentence = [m.start() for m in _SENTENCE_END_RE.finditer(masked)]
        self.clause = [m.start() for m in _CLAUSE_END_RE.finditer(masked)]
        self.n = len(masked)

    @staticmethod
    def _bounds(points: list[int], pos: int, n: int) -> tuple[int, int]:
        k = bisect_right(points, pos - 1)
        start = points[k - 1] + 1 if k else 0
        end = points[k] if k < len(points) else n
        return start, end

    def sentence_of(self, pos: int) -> tuple[int, int]:
        return self._bounds(self.sentence, pos, self.n)

    def clause_of(self, pos: int) -> tuple[int, int]:
        return self._bounds(self.clause, pos, self.n)


def _relation(m: _Mention, cl: _Clauses) -> str:
    masked = cl.masked
    s_start, s_end = cl.sentence_of(m.start)
    c_start, c_end = cl.clause_of(m.start)
    # very long "sentences" (no punctuation) are looked at near the citation only: linear time overall
    s_start, s_end = max(s_start, m.start - _SENTENCE_WINDOW), min(s_end, m.end + _SENTENCE_WINDOW)
    c_start, c_end = max(c_start, s_start), min(c_end, s_end)
    sentence = masked[s_start:s_end]
    prefix = masked[c_start : m.start]
    after = masked[m.end : c_end]
    # replaces / abolishes
    abolish = _ABOLISH_RE.search(sentence)
    if abolish:
        verb_pos = s_start + abolish.start()
        v_start, v_end = cl.clause_of(verb_pos)
        in_scope = v_start <= m.start < v_end
        if not in_scope and m.start < v_start:
            # clauses between the citation and the verb clause must name documents only
            gap_ok = True
            k_start = c_start
            steps = 0
            while k_start < v_start:
                steps += 1
                if steps > _MAX_GAP_CLAUSES:
                    gap_ok = False
                    break
                k_s, k_e = cl.clause_of(k_start)
                body = masked[k_s:k_e].replace("\ue000", "")
                if _IMPLEMENT_RE.search(body) or "施行" in body or "实施" in body or "执行" in body:
                    gap_ok = False
                    break
                k_start = k_e + 1
            in_scope = gap_ok
        if in_scope and not _IMPLEMENT_RE.search(prefix):
            return "replaces" if _REPLACE_RE.search(sentence) else "abolishes"
    replace_verbs = list(_REPLACE_RE.finditer(prefix))
    if replace_verbs and _LIST_SEP_RE.match(prefix[replace_verbs[-1].end() :].replace("\ue000", "")):
        return "replaces"  # 代替《A》、《B》: right after the verb, or in the list that follows it
    if _AMEND_RE.search(prefix.replace("\ue000", "")) or _AMEND_AFTER_RE.match(after.replace("\ue000", "")):
        return "amends"
    if (verbs := list(_IMPLEMENT_RE.finditer(prefix))) and (
        not _ISSUED_RE.search(prefix, verbs[-1].end()) or _BASIS_AFTER_RE.match(after.replace("\ue000", ""))
    ):
        return "implements"
    if _CONTINUE_RE.match(prefix) and _IMPLEMENT_RE.search(masked[s_start:c_start]):
        return "implements"
    return "cites"


# 以下文件同时废止： / 下列文件自本办法施行之日起废止： followed by one document per line
_LIST_HEAD_RE = re.compile(
    r"(?:(?:下列|以下|如下)[^。\n]{0,20}?(?P<verb>废止|失效|不再执行|停止执行|代替|替代|取代)"
    r"|(?P<verb2>废止|代替|替代|取代)(?:下列|以下|如下))[^。\n]{0,6}:[ \t]*\n"
)
_LIST_VERBS = ("废止", "失效", "不再执行", "停止执行", "代替", "替代", "取代")  # one is in every head
_LIST_ITEM_RE = re.compile(
    r"[ \t]*(?:\d{1,3}[.、)]|\(\d{1,3}\)|[(（]?[一二三四五六七八九十]{1,3}[、)）]|[-•·])?[ \t]*\ue000"
)


def _abolished_lists(masked: str, mentions: list[_Mention]) -> dict[int, str]:
    """Mentions listed one per line after a ``以下文件同时废止：`` head: start offset → relation."""
    out: dict[int, str] = {}
    if "\n" not in masked or not any(verb in masked for verb in _LIST_VERBS):
        return out  # the head's regex, tried at every offset, cost more than the rest of the extraction
    starts = [m.start for m in mentions]
    for head in _LIST_HEAD_RE.finditer(masked):
        relation = "replaces" if (head["verb"] or head["verb2"]) in ("代替", "替代", "取代") else "abolishes"
        pos = head.end()
        while (item := _LIST_ITEM_RE.match(masked, pos)) is not None:
            line_end = masked.find("\n", pos)
            line_end = len(masked) if line_end < 0 else line_end
            for k in range(bisect_left(starts, pos), bisect_left(starts, line_end)):
                out[starts[k]] = relation
            pos = line_end + 1
            if pos >= len(masked) or item.end() > line_end:
                break
    return out


def _quote(text: str, cl: _Clauses, pos: int) -> str:
    s_start, s_end = cl.sentence_of(pos)
    lo = max(s_start, pos - _QUOTE_MAX // 3)
    hi = min(s_end, lo + _QUOTE_MAX)
    q = _WS_RE.sub(" ", text[lo:hi]).strip()
    return ("…" if lo > s_start else "") + q + ("…" if hi < s_end else "")


def _nearest_number(numbered: list[tuple[int, str]], pos: int) -> str:
    """The 文号 of the closest numbered mention before ``pos`` (else the first after it): two documents
    of one name (an old and a new 办法) are told apart by the number printed nearest."""
    before = [no for at, no in numbered if at < pos]
    return before[-1] if before else numbered[0][1]


# --------------------------------------------------------------------------- extraction


def extract_citations(
    text: str, *, own_doc_no: str | None = None, own_title: str | None = None
) -> list[Citation]:
    """Every document ``text`` cites, once per (relation, :func:`citation_key`), in order of first mention.

    ``own_doc_no`` / ``own_title`` name the document itself so that its own number and title are never
    returned as citations.
    """
    if not text:
        return []
    clean = _CTRL_RE.sub(" ", text)
    folded = fold(clean)
    mentions = _mentions(clean, folded)
    if not mentions:
        return []
    own_no = None
    if own_doc_no:
        parsed = parse_doc_no(own_doc_no)
        own_no = parsed.canonical if parsed else None
    own_titles: set[str] = set()
    if own_title:
        own_titles.add(normalize_title(own_title))
        for inner in _title_spans(fold(own_title)):
            own_titles.add(normalize_title(own_title[inner[0] + 1 : inner[1] - 1]))
    # titles given with a 文号 somewhere lend it to their title-only mentions (and vice versa)
    no_of_title: dict[str, list[tuple[int, str]]] = {}  # title -> (position, 文号) of its numbered mentions
    title_of_no: dict[str, str] = {}
    for m in mentions:
        if m.title and m.doc_no:
            no_of_title.setdefault(normalize_title(m.title), []).append((m.start, m.doc_no))
            title_of_no.setdefault(m.doc_no, m.title)
    cl = _Clauses(folded, mentions)
    listed = _abolished_lists(cl.masked, mentions)
    aliases: set[str] = set()
    seen: set[tuple[str, str]] = set()
    out: list[Citation] = []
    for m in mentions:
        doc_no = m.doc_no
        title = m.title
        if title is not None:
            norm = normalize_title(title)
            if not norm:
                continue
            own = norm in own_titles
            if doc_no is None and not own and norm in no_of_title:
                doc_no = _nearest_number(no_of_title[norm], m.start)
            if doc_no is None and not m.order_no and not _is_document_title(title):
                continue
            if own and doc_no is None:
                continue  # the document itself (a new 办法 often has the name of the one it replaces: 文号 differ)
            if doc_no is None and (norm in aliases or _ALIAS_RE.search(folded, max(0, m.start - 6), m.start)):
                aliases.add(norm)  # （以下简称《条例》）: a short name for a document named just before
                continue
            if _PROPOSAL_AFTER_RE.match(cl.masked, m.end) or (
                doc_no is None and _RECEIVED_RE.match(folded, m.end)
            ):
                continue
            c_start, _ = cl.clause_of(m.start)
            if _ISSUE_SELF_RE.match(cl.masked, m.end) and _SELF_CLAUSE_RE.match(
                cl.masked[c_start : m.start].replace("\ue000", "")
            ):
                continue
        elif doc_no is not None:
            title = title_of_no.get(doc_no)
        if doc_no is not None and own_no is not None and doc_no == own_no:
            continue
        relation = listed.get(m.start) or _relation(m, cl)
        kind = "document" if doc_no else _kind(m)
        c = Citation(relation, doc_no, title, kind, m.start, "")
        key = (relation, citation_key(c))
        if key in seen:
            continue
        seen.add(key)
        out.append(replace(c, quote=_quote(clean, cl, m.start)))
    return out


# --------------------------------------------------------------------------- policy term

_NUM = r"[0-9〇○零一二三四五六七八九十两]"
_DATE = rf"(?P<y>{_NUM}{{4}})\s*年\s*(?P<m>{_NUM}{{1,3}})\s*月\s*(?P<d>{_NUM}{{1,3}})\s*[日号]"
_EFFECTIVE_RE = re.compile(
    rf"(?:自|从|于)\s*{_DATE}\s*(?:起|开始)?\s*(?:施行|实施|执行|生效|起施行|起实施|起执行)"
)
_EFFECTIVE_ISSUE_RE = re.compile(r"自\s*(?:印发|发布|公布|下发)之日起\s*(?:施行|实施|执行|生效)")
_VALID_YEARS_RE = re.compile(rf"有效期\s*(?:为|是)?\s*(?P<n>{_NUM}{{1,3}})\s*年")
_EXPIRES_RE = re.compile(
    rf"有效期\s*(?:为|是)?\s*(?:(?:自|从)?\s*{_DATE.replace('?P<', '?P<s')}\s*(?:起)?\s*)?(?:至|到)\s*{_DATE}(?:\s*止)?"
)


def _date_of(m: re.Match[str], prefix: str = "") -> datetime.date | None:
    y = cn_numeral_to_int(m[prefix + "y"])
    mo = cn_numeral_to_int(m[prefix + "m"])
    d = cn_numeral_to_int(m[prefix + "d"])
    if y is None or mo is None or d is None:
        return None
    try:
        return datetime.date(y, mo, d)
    except ValueError:
        return None


def _effective_from(folded: str, published: datetime.date | None) -> datetime.date | None:
    """The policy's own start date: a ``本办法/本通知…自…起施行`` statement (the last one) wins; without one,
    the last ``自…起施行/生效`` (``执行``/``实施`` alone are too often about one measure: ``自2023年1月1日起执行``)."""
    best: tuple[int, int, datetime.date | None] | None = None
    candidates = [(m, _date_of(m)) for m in _EFFECTIVE_RE.finditer(folded)]
    candidates += [(m, published) for m in _EFFECTIVE_ISSUE_RE.finditer(folded)]
    for m, day in candidates:
        subject = _OWN_SUBJECT_RE.search(folded, max(0, m.start() - 14), m.start()) is not None
        verb = m.group().rstrip()[-2:]
        if not subject and verb not in ("施行", "生效"):
            continue
        rank = (int(subject), m.start(), day)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


_OWN_SUBJECT_RE = re.compile(
    r"本(?:办法|通知|细则|规定|方案|意见|决定|规则|规程|制度|标准|公告|政策|措施|实施办法|实施细则)[^,。;]{0,6}$"
)


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def policy_term(text: str, *, published: datetime.date | None = None) -> PolicyTerm:
    """A policy's own term: when it takes effect, for how many years, until when.

    ``expires_on`` is the explicit ``有效期至…`` date if printed, else ``effective_from`` (or
    ``published`` when the text gives no start date) plus ``valid_years`` years minus one day
    (``自2025年4月1日起施行，有效期5年`` → 2030-03-31). ``自印发之日起施行`` takes ``published``.
    """
    if not text:
        return PolicyTerm(None, None, None)
    folded = fold(_CTRL_RE.sub(" ", text))
    effective: datetime.date | None = None
    expires: datetime.date | None = None
    years: int | None = None
    if m := _EXPIRES_RE.search(folded):
        expires = _date_of(m)
        if m["sy"] is not None:
            effective = _date_of(m, "s")
    if effective is None:
        effective = _effective_from(folded, published)
    if m := _VALID_YEARS_RE.search(folded):
        n = cn_numeral_to_int(m["n"])
        years = n if n and n < 100 else None
    if expires is None and years:
        base = effective or published
        if base is not None:
            expires = _add_years(base, years) - datetime.timedelta(days=1)
    return PolicyTerm(effective, years, expires)
