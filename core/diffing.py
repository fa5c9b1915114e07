"""What changed between two versions of a document, in terms a policy reader understands (pure: no SQL,
no Scrapy).

``diff_versions(old, new)`` takes two record dicts (``storage.versions.get_version`` rows, or
``DocumentRecord.to_dict()``; ``body_text`` included) and returns a ``ChangeSet``:

- ``fields``: metadata changes, for every field the registry (``core.fields``) shows in a diff (标题, 文号,
  索引号, 有效性, 答复类别, 采纳情况, dates, 会议, 建议/提案号, 代表/委员, 附件), each compared in its registry fold
  (width-folded and whitespace-insensitive for text, so a full-width/half-width-only change is no change):
  the same question the archive asks before it makes a version;
- ``paragraphs``: paragraph-level alignment of the body (lines of ``body_text``, keyed by the registry's
  ``text_key``, as the body's comparison form is) with ``difflib``; inside a
  block of replaced paragraphs, old and new paragraphs are paired (in order) when similar enough
  (``PAIR_THRESHOLD``) and reported as ``changed``, the rest as ``removed`` / ``added``. Inside a changed
  paragraph, sentences (split after 。！？；) are aligned, then characters inside replaced sentences, giving
  ``spans_old`` (deleted) / ``spans_new`` (inserted) and the inline ``segments``. Matching runs on the
  width-folded text (``core.normalize.text.fold``, which keeps the length) and positions are reported
  on the original text;
- ``sections``: the outline headings (一、 / （一） …) under which changes occurred;
- ``figures``: numbers (with their unit) that changed inside changed sentences, paired by position, each
  with a label (the few CJK characters before it, e.g. 基准等级系数) and its sentence as context.

Positions are Python string offsets (code points) into the paragraph text, end exclusive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

from core import fields as registry
from core.normalize.outline import heading_level
from core.normalize.text import fold

__all__ = [
    "FIELD_LABELS",
    "PAIR_THRESHOLD",
    "SECTION_SEPARATOR",
    "ChangeSet",
    "FieldChange",
    "FigureChange",
    "ParagraphChange",
    "diff_versions",
    "split_sentences",
]

Span = tuple[int, int]
Segment = tuple[str, str]  # ("=" | "-" | "+", text)
ParagraphKind = Literal["added", "removed", "changed"]

# Two paragraphs of a replaced block are "the same paragraph, changed" at this similarity (Dice coefficient
# of their character bigrams) or above.
PAIR_THRESHOLD = 0.5

# The diff's labels are the registry's (kept under these names for callers of this module).
FIELD_LABELS: dict[str, str] = {f.name: f.zh for f in registry.DIFFED if f.name != "body_text"}
ATTACHMENT_CHANGE_LABELS = registry.ATTACHMENT_CHANGES


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class FieldChange:
    """A metadata field that changed. ``change`` is ``changed`` for ordinary fields; for attachments it is
    ``added`` / ``removed`` / ``replaced`` (same name, other content) / ``renamed`` (same content), and
    ``old`` / ``new`` are the attachment names."""

    name: str
    label_zh: str
    old: str | None
    new: str | None
    change: str = "changed"


@dataclass(frozen=True)
class ParagraphChange:
    """One added, removed or changed paragraph.

    ``spans_old`` are the deleted character ranges of ``old``, ``spans_new`` the inserted ranges of
    ``new``; ``segments`` is the inline form of a changed paragraph: ``("=", text)`` unchanged (new text),
    ``("-", text)`` deleted, ``("+", text)`` inserted, in reading order. ``section`` is the outline heading
    the paragraph sits under (itself, if it is a heading), or None.
    """

    kind: ParagraphKind
    section: str | None
    old: str | None
    new: str | None
    spans_old: tuple[Span, ...] = ()
    spans_new: tuple[Span, ...] = ()
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class FigureChange:
    """A number that changed: ``old`` / ``new`` as printed with their unit (``"34.47亿元"``); one side is
    None when the number was only removed or only added. ``context`` is the (new, else old) sentence."""

    label: str
    old: str | None
    new: str | None
    context: str


@dataclass
class ChangeSet:
    """The changes between two versions (see the module docstring). ``is_new``: there was no old version."""

    fields: list[FieldChange] = field(default_factory=list)
    paragraphs: list[ParagraphChange] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    figures: list[FigureChange] = field(default_factory=list)
    is_new: bool = False

    def is_empty(self) -> bool:
        """True when nothing a reader would care about changed (a new document is never empty)."""
        return not (self.is_new or self.fields or self.paragraphs)

    def changed_fields(self) -> list[str]:
        """The registry names of what changed, in registry order: ``body_text`` when a paragraph did, and
        each field with a field change (what the archive's ``core.fields.changed_fields`` names, plus the
        context fields)."""
        names = {f.name for f in self.fields} | ({"body_text"} if self.paragraphs else set())
        return [f.name for f in registry.DIFFED if f.name in names]

    def counts(self) -> dict[str, int]:
        """Paragraph counts by kind: ``{"changed": n, "added": n, "removed": n}``."""
        out = {"changed": 0, "added": 0, "removed": 0}
        for p in self.paragraphs:
            out[p.kind] += 1
        return out

    def summary(self) -> str:
        """One Chinese line, e.g. ``正文修改 2 处（二、…）：基准等级系数 0.66 → 0.68；有效性 有效 → 失效``."""
        if self.is_new:
            return "新文档"
        parts: list[str] = []
        counts = self.counts()
        body = [
            f"{label} {counts[kind]} {unit}"
            for kind, label, unit in (
                ("changed", "正文修改", "处"),
                ("added", "新增", "段"),
                ("removed", "删除", "段"),
            )
            if counts[kind]
        ]
        if body:
            text = "、".join(body)
            tops = list(dict.fromkeys(s.split(SECTION_SEPARATOR)[0] for s in self.sections))
            if tops:
                shown = "；".join(_short(s, 12) for s in tops[:3])
                text += f"（{shown}{'等' if len(tops) > 3 else ''}）"
            if self.figures:
                figs = "，".join(_figure_text(f) for f in self.figures[:2])
                text += f"：{figs}{'等' if len(self.figures) > 2 else ''}"
            parts.append(text)
        for f in self.fields:
            parts.append(_field_text(f))
        return "；".join(parts) if parts else "无实质变化"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (lists instead of tuples) with ``summary`` and ``counts``."""
        return {
            "is_new": self.is_new,
            "summary": self.summary(),
            "counts": self.counts(),
            "fields": [asdict(f) for f in self.fields],
            "paragraphs": [
                {
                    "kind": p.kind,
                    "section": p.section,
                    "old": p.old,
                    "new": p.new,
                    "spans_old": [list(s) for s in p.spans_old],
                    "spans_new": [list(s) for s in p.spans_new],
                    "segments": [list(s) for s in p.segments],
                }
                for p in self.paragraphs
            ],
            "sections": list(self.sections),
            "figures": [asdict(f) for f in self.figures],
        }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _figure_text(f: FigureChange) -> str:
    label = f"{f.label} " if f.label else ""
    return f"{label}{f.old or '—'} → {f.new or '—'}"


def _field_text(f: FieldChange) -> str:
    if f.name == "attachments":
        verb = ATTACHMENT_CHANGE_LABELS.get(f.change, f.change)
        if f.change == "renamed":
            return f"附件改名 {_short(f.old or '', 20)} → {_short(f.new or '', 20)}"
        return f"附件{verb} {_short(f.new or f.old or '', 30)}"
    return f"{f.label_zh} {_short(f.old or '—', 30)} → {_short(f.new or '—', 30)}"


# --------------------------------------------------------------------------- entry point


def diff_versions(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> ChangeSet:
    """The ``ChangeSet`` from ``old`` to ``new`` (record dicts with ``body_text``; ``old`` None for a new
    document, which gives an ``is_new`` ChangeSet without paragraph or field changes)."""
    new = _as_mapping(new)
    if old is None:
        return ChangeSet(is_new=True)
    old = _as_mapping(old)
    cs = ChangeSet(fields=_field_changes(old, new))
    _diff_body(old.get("body_text") or "", new.get("body_text") or "", cs)
    return cs


def _as_mapping(record: Any) -> Mapping[str, Any]:
    if isinstance(record, Mapping):
        return record
    data: dict[str, Any] = record.to_dict()  # a DocumentRecord
    return data


# --------------------------------------------------------------------------- metadata

_WS = re.compile(r"\s+")


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """A ``FieldChange`` per registry field (other than the body) that changed, in registry order."""
    out: list[FieldChange] = []
    for f in registry.DIFFED:
        if f.name == "body_text":
            continue
        a, b = old.get(f.name), new.get(f.name)
        if f.name == "attachments":
            out.extend(
                FieldChange(f.name, f.zh, old_name, new_name, change)
                for change, old_name, new_name in registry.attachment_changes(a, b)
            )
        elif f.changed(a, b):
            out.append(FieldChange(f.name, f.zh, f.display(a), f.display(b)))
    return out


# --------------------------------------------------------------------------- sections

_HEADING_END = re.compile(r"[。?!]")
_HEADING_MAX = 30
SECTION_SEPARATOR = " / "


def _heading_text(paragraph: str) -> str:
    m = _HEADING_END.search(fold(paragraph))
    text = paragraph[: m.end()].strip() if m else paragraph.strip()
    return _short(text, _HEADING_MAX)


def _sections(paragraphs: Sequence[str]) -> list[str | None]:
    """Per paragraph, its section: the enclosing level 1–2 headings joined by ``SECTION_SEPARATOR``
    (``二、工作措施 / （一）加强基金监管。``), else the innermost level 3–4 heading, else None."""
    stack: dict[int, str] = {}
    out: list[str | None] = []
    for para in paragraphs:
        level = heading_level(para)
        if level is not None:
            for deeper in [lv for lv in stack if lv >= level]:
                del stack[deeper]
            stack[level] = _heading_text(para)
        major = [stack[lv] for lv in sorted(stack) if lv <= 2]
        if major:
            out.append(SECTION_SEPARATOR.join(major))
        elif stack:
            out.append(stack[max(stack)])
        else:
            out.append(None)
    return out


# --------------------------------------------------------------------------- body


def _paragraphs(body: str) -> list[str]:
    """The body's paragraphs: its lines, stripped, without those that are empty in comparison form."""
    return [line.strip() for line in body.split("\n") if registry.text_key(line)]


_key = registry.text_key  # a paragraph's comparison form: the body's fold, paragraph by paragraph


_PUNCT = re.compile(r"[\W_]+")


def _bigrams(key: str) -> frozenset[str]:
    """Character bigrams of a paragraph key without punctuation (``乙。`` and ``丙。`` share nothing)."""
    text = _PUNCT.sub("", key)
    if len(text) < 2:
        return frozenset((text,)) if text else frozenset()
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two bigram sets: linear time, unlike difflib's ratio on long paragraphs."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if 2 * len(small) < PAIR_THRESHOLD * (len(a) + len(b)):
        return 0.0  # even full overlap could not reach the threshold
    return 2 * len(small & large) / (len(a) + len(b))


def _pair(old_keys: Sequence[str], new_keys: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Order-preserving pairing of a replaced block maximising total similarity (pairs >= threshold);
    returns ``(i, j)`` pairs plus ``(i, None)`` removed and ``(None, j)`` added, in reading order."""
    n, m = len(old_keys), len(new_keys)
    grams_new = [_bigrams(k) for k in new_keys]
    sim = [[_similarity(g, h) for h in grams_new] for g in map(_bigrams, old_keys)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= PAIR_THRESHOLD:
                best = max(best, score[i + 1][j + 1] + sim[i][j])
            score[i][j] = best
    out: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= PAIR_THRESHOLD and score[i][j] == score[i + 1][j + 1] + sim[i][j]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            out.append((i, None))
            i += 1
        else:
            out.append((None, j))
            j += 1
    out.extend((k, None) for k in range(i, n))
    out.extend((None, k) for k in range(j, m))
    return out


def _diff_body(old_body: str, new_body: str, cs: ChangeSet) -> None:
    old_paras, new_paras = _paragraphs(old_body), _paragraphs(new_body)
    old_keys, new_keys = [_key(p) for p in old_paras], [_key(p) for p in new_paras]
    if old_keys == new_keys:
        return
    old_sections, new_sections = _sections(old_paras), _sections(new_paras)
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = (
            _pair(old_keys[i1:i2], new_keys[j1:j2])
            if tag == "replace"
            else ([(k, None) for k in range(i2 - i1)] + [(None, k) for k in range(j2 - j1)])
        )
        for a, b in pairs:
            if a is not None and b is not None:
                change = _changed_paragraph(old_paras[i1 + a], new_paras[j1 + b], new_sections[j1 + b], cs)
                if change is not None:
                    cs.paragraphs.append(change)
            elif a is not None:
                text = old_paras[i1 + a]
                cs.paragraphs.append(
                    ParagraphChange(
                        "removed", old_sections[i1 + a], text, None, ((0, len(text)),), (), (("-", text),)
                    )
                )
            elif b is not None:
                text = new_paras[j1 + b]
                cs.paragraphs.append(
                    ParagraphChange(
                        "added", new_sections[j1 + b], None, text, (), ((0, len(text)),), (("+", text),)
                    )
                )
    seen: set[str] = set()
    for p in cs.paragraphs:
        if p.section and p.section not in seen:
            seen.add(p.section)
            cs.sections.append(p.section)


# --------------------------------------------------------------------------- sentences and characters

_SENTENCE = re.compile(r"[^。!?;]*(?:[。!?;]+[”’」』)\]]*|$)")


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text``: each ends after 。！？；(either width) and any closing quotes/brackets."""
    return [m.span() for m in _SENTENCE.finditer(fold(text)) if m.end() > m.start()]


# A replaced run of sentences bigger than this (old chars x new chars) is not diffed character by
# character as a whole: its sentences are paired first (as paragraphs are), which keeps a rewritten
# long paragraph fast and its highlights readable.
_CHAR_DIFF_LIMIT = 40_000

Unit = tuple[int, int, int, int]  # a1, a2, b1, b2: a changed range of old and its counterpart in new


def _units(
    keys_old: list[str],
    keys_new: list[str],
    sent_old: list[Span],
    sent_new: list[Span],
    len_old: int,
    len_new: int,
) -> list[Unit]:
    """The changed ranges of a paragraph, in order, from its sentence alignment."""

    def start(spans: list[Span], k: int, length: int) -> int:
        return spans[k][0] if k < len(spans) else length

    units: list[Unit] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, keys_old, keys_new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        a1, a2 = start(sent_old, i1, len_old), start(sent_old, i2, len_old)
        b1, b2 = start(sent_new, j1, len_new), start(sent_new, j2, len_new)
        if tag != "replace" or min(i2 - i1, j2 - j1) < 2 or (a2 - a1) * (b2 - b1) <= _CHAR_DIFF_LIMIT:
            units.append((a1, a2, b1, b2))
            continue
        a, b = a1, b1  # cursors: where an unpaired sentence of the other side sits
        for i, j in _pair(keys_old[i1:i2], keys_new[j1:j2]):
            if i is not None:
                s_a, e_a = sent_old[i1 + i]
            if j is not None:
                s_b, e_b = sent_new[j1 + j]
            if i is not None and j is not None:
                units.append((s_a, e_a, s_b, e_b))
                a, b = e_a, e_b
            elif i is not None:
                units.append((s_a, e_a, b, b))
                a = e_a
            else:
                units.append((a, a, s_b, e_b))
                b = e_b
    return units


def _changed_paragraph(old: str, new: str, section: str | None, cs: ChangeSet) -> ParagraphChange | None:
    fold_old, fold_new = fold(old), fold(new)
    sent_old, sent_new = split_sentences(old), split_sentences(new)
    keys_old = [_WS.sub("", fold_old[s:e]) for s, e in sent_old]
    keys_new = [_WS.sub("", fold_new[s:e]) for s, e in sent_new]
    spans_old: list[Span] = []
    spans_new: list[Span] = []
    segments: list[Segment] = []
    figures: list[FigureChange] = []
    pos_new = 0  # how far segments have consumed new
    for a1, a2, b1, b2 in _units(keys_old, keys_new, sent_old, sent_new, len(old), len(new)):
        if b1 > pos_new:
            segments.append(("=", new[pos_new:b1]))
        char_ops = _char_ops(fold_old[a1:a2], fold_new[b1:b2])
        for op, s1, s2, t1, t2 in char_ops:
            if op == "=":
                segments.append(("=", new[b1 + t1 : b1 + t2]))
                continue
            if s2 > s1:
                spans_old.append((a1 + s1, a1 + s2))
                segments.append(("-", old[a1 + s1 : a1 + s2]))
            if t2 > t1:
                spans_new.append((b1 + t1, b1 + t2))
                segments.append(("+", new[b1 + t1 : b1 + t2]))
        pos_new = max(pos_new, b2)
        if any(op != "=" for op, *_ in char_ops):
            figures.extend(_figure_changes(old[a1:a2], new[b1:b2], fold_old[a1:a2], fold_new[b1:b2]))
    if not spans_old and not spans_new:
        return None  # only whitespace moved
    if pos_new < len(new):
        segments.append(("=", new[pos_new:]))
    cs.figures.extend(figures)
    return ParagraphChange(
        "changed", section, old, new, tuple(spans_old), tuple(spans_new), tuple(_merge_segments(segments))
    )


def _char_ops(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Character edit script of ``a`` -> ``b`` (folded texts): ``("=", ...)`` / ``("~", ...)`` with the
    ranges in a and b. Whitespace-only edits count as equal; an edit touching a number is widened to the
    whole number (``[-0.66-]{+0.68+}``, not ``0.6[-6-]{+8+}``); edits separated by one unchanged character
    are merged (a lone common 的 between two edits is noise to a reader)."""
    ops: list[list[Any]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        op = "=" if tag == "equal" or (not a[i1:i2].strip() and not b[j1:j2].strip()) else "~"
        ops.append([op, i1, i2, j1, j2])
    ops = _slide(_coalesce(ops), a, b)
    for k, item in enumerate(ops):
        if item[0] != "~" or not _HAS_DIGIT.search(a[item[1] : item[2]] + b[item[3] : item[4]]):
            continue
        if k > 0:  # the run before is equal in a and b: widen both by its trailing number characters
            prev = ops[k - 1]
            grow = len(_NUM_TAIL.search(a[prev[1] : prev[2]]).group().lstrip(".,"))  # type: ignore[union-attr]
            prev[2] -= grow
            prev[4] -= grow
            item[1] -= grow
            item[3] -= grow
        if k + 1 < len(ops):
            nxt = ops[k + 1]
            grow = len(_NUM_HEAD.match(a[nxt[1] : nxt[2]]).group())  # type: ignore[union-attr]
            nxt[1] += grow
            nxt[3] += grow
            item[2] += grow
            item[4] += grow
    ops = _coalesce([item for item in ops if item[2] > item[1] or item[4] > item[3]])
    out: list[list[Any]] = []
    for item in ops:  # merge "~ =(1 char) ~" into one edit
        if (
            item[0] == "~"
            and len(out) >= 2
            and out[-1][0] == "="
            and out[-1][2] - out[-1][1] == 1
            and not _is_boundary(a[out[-1][1] : out[-1][2]])
        ):
            out.pop()
            out[-1][2], out[-1][4] = item[2], item[4]
        else:
            out.append(item)
    return [tuple(item) for item in out]


_HAS_DIGIT = re.compile(r"\d")
_NUM_TAIL = re.compile(r"[\d.,]*$")
_NUM_HEAD = re.compile(r"(?:\d|[.,](?=\d))*")


def _slide(ops: list[list[Any]], a: str, b: str) -> list[list[Any]]:
    """Move each pure insertion / deletion as far right as the text allows (``市医保局[会同市财政局]负责``,
    not ``市医保[局会同市财政]局负责``): difflib leaves such ties to chance."""
    out: list[list[Any]] = []
    for k, item in enumerate(ops):
        nxt = ops[k + 1] if k + 1 < len(ops) else None
        pure_ins, pure_del = item[1] == item[2], item[3] == item[4]
        if item[0] == "~" and nxt is not None and nxt[0] == "=" and (pure_ins or pure_del):
            seq, s, e, limit = (b, item[3], item[4], nxt[4]) if pure_ins else (a, item[1], item[2], nxt[2])
            n = 0
            while e + n < limit and seq[s + n] == seq[e + n]:
                n += 1
            if n:
                if out and out[-1][0] == "=":
                    out[-1][2] += n
                    out[-1][4] += n
                else:
                    out.append(["=", item[1], item[1] + n, item[3], item[3] + n])
                item = ["~", item[1] + n, item[2] + n, item[3] + n, item[4] + n]
                nxt[1] += n
                nxt[3] += n
        out.append(item)
    return [item for item in out if item[2] > item[1] or item[4] > item[3]]


def _coalesce(ops: list[list[Any]]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for item in ops:
        if out and out[-1][0] == item[0]:
            out[-1][2], out[-1][4] = item[2], item[4]
        else:
            out.append(item)
    return out


def _is_boundary(char: str) -> bool:
    return char in "。!?;,:、 " or not char.strip()


def _merge_segments(segments: Iterable[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return out


# --------------------------------------------------------------------------- figures

_UNITS = (
    "个百分点", "万人次", "亿元", "万元", "千元", "元", "万人", "人次", "人", "%", "‰", "个", "家", "天", "日",
    "小时", "项", "件", "种", "次", "倍", "岁", "张", "所", "床", "台", "例", "批", "条", "户", "名", "位",
    "万", "亿", "分", "点", "年", "月",
)  # fmt: skip
_NUMBER = re.compile(
    r"\d{4}年\d{1,2}月(?:\d{1,2}日)?"  # a date is one token
    r"|(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?\s*(?:" + "|".join(re.escape(u) for u in _UNITS) + r")?"
)
_LABEL_CHARS = re.compile(r"[\u3400-\u9fff]{1,12}$")
_LABEL_SUFFIXES = (
    "调整为", "调整至", "提高到", "提高至", "提升至", "提升到", "增加到", "增加至", "增长到", "增长至", "降低到",
    "降低至", "下调至", "上调至", "下降到", "下降至", "减少到", "减少至", "达到", "增至", "降至", "共计",
    "合计", "累计", "不超过", "不低于", "约为", "为", "是", "约", "共", "达", "至", "到", "由", "从", "的",
    "了", "按", "调整",
)  # fmt: skip


# Common names of figures in 医保 documents: a label ending with one is cut to it (三级医疗机构基准等级系数
# -> 基准等级系数); other labels are cut after the last 的 and to ``_LABEL_MAX`` characters.
_FIGURE_TERMS = (
    "基准等级系数", "等级系数", "调节系数", "预算总额", "基金总额", "预付比例", "报销比例", "支付比例", "结余留用比例",
    "起付标准", "起付线", "封顶线", "最高支付限额", "支付限额", "年度限额", "缴费基数", "缴费标准", "个人缴费",
    "财政补助", "支付标准", "分值单价", "点值", "费率", "增长率", "参保率", "覆盖率", "结算率", "人数", "人次",
    "金额", "费用", "总额", "比例", "天数",
)  # fmt: skip
_LABEL_MAX = 6


def _label(text: str, folded: str, pos: int) -> str:
    """The few CJK characters right before ``pos`` (original text), without a trailing verb (调整为, 由…)."""
    m = _LABEL_CHARS.search(folded, 0, pos)
    if not m:
        return ""
    label = text[m.start() : m.end()]
    changed = True
    while changed and label:
        changed = False
        for suffix in _LABEL_SUFFIXES:
            if label.endswith(suffix):
                label = label[: -len(suffix)]
                changed = True
                break
    term = next((t for t in _FIGURE_TERMS if label.endswith(t)), None)
    if term is not None:
        return term
    return label.rpartition("的")[2][-_LABEL_MAX:]


def _tokens(text: str, folded: str) -> list[tuple[str, str, int, int]]:
    """``(key, display, start, end)`` for each number (+unit) token of ``text``."""
    return [
        (_WS.sub("", m.group()), text[m.start() : m.end()].strip(), m.start(), m.end())
        for m in _NUMBER.finditer(folded)
    ]


def _context(text: str) -> str:
    return _short(text.strip(), 80)


def _figure_changes(old: str, new: str, fold_old: str, fold_new: str) -> list[FigureChange]:
    """Changed number tokens of an aligned pair of sentence blocks, paired by position."""
    tok_old, tok_new = _tokens(old, fold_old), _tokens(new, fold_new)
    if not tok_old and not tok_new:
        return []
    sent_old, sent_new = split_sentences(old), split_sentences(new)

    def sentence(text: str, spans: list[Span], pos: int) -> str:
        return next((text[s:e] for s, e in spans if s <= pos < e), text)

    out: list[FigureChange] = []
    matcher = SequenceMatcher(None, [t[0] for t in tok_old], [t[0] for t in tok_new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds, news = tok_old[i1:i2], tok_new[j1:j2]
        for k in range(max(len(olds), len(news))):
            o = olds[k] if k < len(olds) else None
            n = news[k] if k < len(news) else None
            if n is not None:
                label = _label(new, fold_new, n[2]) or (_label(old, fold_old, o[2]) if o else "")
                ctx = sentence(new, sent_new, n[2])
            else:
                assert o is not None
                label = _label(old, fold_old, o[2])
                ctx = sentence(old, sent_old, o[2])
            out.append(FigureChange(label, o[1] if o else None, n[1] if n else None, _context(ctx)))
    return out
