"""The 政府信息公开 metadata block: labels as printed → canonical keys, and label/value pairs
found in plain-text lines (the Xiamen grid and the Ningde bullet list)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .text import fold, normalize_ws

__all__ = [
    "LABEL_KEYS",
    "canonical_label",
    "canonical_metadata",
    "extract_meta_block",
    "parse_meta_lines",
    "parse_validity",
]

# Canonical key for each label (whitespace removed). Earlier labels of the same key win in
# ``canonical_metadata`` (主题分类 before 主题词 before 分类, 生成日期 before 成文日期 …).
LABEL_KEYS: dict[str, str] = {
    "索引号": "index_no",
    "文号": "doc_no",
    "发文字号": "doc_no",
    "发文文号": "doc_no",
    "发布机构": "issuer",
    "发文机关": "issuer",
    "发文单位": "issuer",
    "发布单位": "issuer",
    "生成日期": "generated_on",
    "成文日期": "generated_on",
    "成文时间": "generated_on",
    "发文日期": "generated_on",
    "发布日期": "published_on",
    "发布时间": "published_on",
    "标题": "title",
    "名称": "title",
    "文件名称": "title",
    "有效性": "validity",
    "效力状态": "validity",
    "时效性": "validity",
    "主题分类": "theme",
    "主题词": "theme",
    "分类": "theme",  # gkmlpt's 分类 is the catalogue (政协提案, 规划计划): weakest theme source
    "公开方式": "public_marker",
    "公开属性": "public_marker",
}
_STRIP_LABEL_RE = re.compile(r"[\s•·●◆■▪\-:：]+")


def canonical_label(label: str) -> str | None:
    """``索\\u2002引\\u2002号`` / ``标    题：`` / ``• 发文字号:`` → ``index_no`` / ``title`` / ``doc_no``."""
    return LABEL_KEYS.get(_STRIP_LABEL_RE.sub("", fold(label)))


def canonical_metadata(table: Mapping[str, object]) -> dict[str, str]:
    """Labels as printed → canonical keys, values whitespace-normalised; empty values dropped.

    When several labels map to one key the one listed first in ``LABEL_KEYS`` wins, so the
    result does not depend on the order of the page's table. A value that runs on into further
    labels (``索引号`` → ``2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：…``, as an extractor
    reading a line where labels share one line may return it) ends where the next known label
    begins; the pairs after it count too.
    """
    best: dict[str, tuple[int, str]] = {}
    rank = {label: i for i, label in enumerate(LABEL_KEYS)}
    for label, value in table.items():
        text = normalize_ws(str(value)) if value is not None else ""
        for part_label, part_value in [(str(label), _cut_run_on(text)), *_run_on_pairs(text)]:
            stripped = _STRIP_LABEL_RE.sub("", fold(part_label))
            key = LABEL_KEYS.get(stripped)
            if not key or not part_value:
                continue
            order = rank[stripped]
            if key not in best or order < best[key][0]:
                best[key] = (order, part_value)
    return {key: text for key, (_, text) in best.items()}


def _label_pattern(label: str) -> str:
    # Matched on folded text, where U+00A0/U+2002/U+2003/U+3000 padding is already plain spaces.
    return r"\s*".join(re.escape(ch) for ch in label)


# Longest first so 主题分类 wins over 分类, 发文字号 over 文号.
_LABEL_ALT = "|".join(_label_pattern(label) for label in sorted(LABEL_KEYS, key=len, reverse=True))
# A label starts the line or follows whitespace / a bullet / a cell bar, and is followed by a
# colon or whitespace (so 文号 inside a title value is not taken for a label).
_PAIR_LABEL_RE = re.compile(rf"(?<![^\s•·●|])(?P<label>{_LABEL_ALT})\s*(?::|(?=\s)|$)")
_LINE_START_RE = re.compile(rf"[\s•·●◆■▪|-]*(?P<label>{_LABEL_ALT})\s*(?::|\s|$)")


# Inside a value, only a label followed by a colon starts the next pair (a title may contain 文号).
_RUN_ON_LABEL_RE = re.compile(rf"(?<![^\s•·●|])(?P<label>{_LABEL_ALT})\s*:")


def _cut_run_on(value: str) -> str:
    if ":" not in value and "：" not in value:
        return value
    m = _RUN_ON_LABEL_RE.search(fold(value))
    return normalize_ws(value[: m.start()]).strip(" •·●|") if m else value


def _run_on_pairs(value: str) -> list[tuple[str, str]]:
    """The label/value pairs that follow a run-on value (see :func:`canonical_metadata`)."""
    if ":" not in value and "：" not in value:
        return []
    folded = fold(value)
    matches = list(_RUN_ON_LABEL_RE.finditer(folded))
    pairs = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(value)
        pairs.append((value[m.start("label") : m.end("label")], normalize_ws(value[m.end() : end]).strip(" •·●|")))
    return pairs


def _pairs_in_line(line: str) -> list[tuple[str, str]]:
    folded = fold(line)
    if not _LINE_START_RE.match(folded):
        return []
    matches = list(_PAIR_LABEL_RE.finditer(folded))
    pairs = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        label = normalize_ws(line[m.start("label") : m.end("label")])
        value = normalize_ws(line[m.end() : end]).strip(" •·●|")
        pairs.append((label, value))
    return pairs


def parse_meta_lines(lines: Iterable[str] | str) -> dict[str, str]:
    """Find label/value pairs in metadata lines given as plain text.

    Handles the grid layout (``索 引 号 XM00149-09-01-2025-007 主题分类 人大`` — several pairs per
    line, separated by whitespace) and the bullet layout (``• 索\\u2002引\\u2002号: ND00263-…``). Only
    lines that start with a known label (after bullets) are read; others are ignored. Returns
    ``{label as printed (whitespace-normalised): value}`` in page order — the same shape as
    ``RawPage.meta_table``. Feed the result to :func:`canonical_metadata` for canonical keys.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    out: dict[str, str] = {}
    for line in lines:
        for label, value in _pairs_in_line(line):
            out.setdefault(label, value)
    return out


_STRONG_KEYS = frozenset(("index_no", "doc_no", "issuer", "generated_on", "validity"))


def extract_meta_block(
    paragraphs: Sequence[str], *, search: int = 15, min_lines: int = 2
) -> tuple[dict[str, str], list[str]]:
    """Find the metadata block among the first ``search`` paragraphs and cut it out.

    The block is the first run of at least ``min_lines`` consecutive paragraphs that start with a
    metadata label and that name at least two different fields, one of them a strong one
    (索引号, 文号, 发布机构, 生成日期, 有效性), so a body table starting with 名称/分类 is left alone.
    Returns ``(pairs as printed, paragraphs without the block)``; when no block is
    found the pairs are empty and the paragraphs are returned unchanged (as a new list).
    """
    n = len(paragraphs)
    i = 0
    while i < min(n, search):
        if not _LINE_START_RE.match(fold(paragraphs[i])):
            i += 1
            continue
        end = i + 1
        while end < n and _LINE_START_RE.match(fold(paragraphs[end])):
            end += 1
        if end - i >= min_lines:
            pairs = parse_meta_lines(paragraphs[i:end])
            keys = {canonical_label(label) for label in pairs}
            if len(keys) >= 2 and keys & _STRONG_KEYS:
                return pairs, [*paragraphs[:i], *paragraphs[end:]]
        i = end
    return {}, list(paragraphs)


_VALIDITY_RE = re.compile(
    r"现行有效|部分失效|已失效|失效|已废止|废止|已修改|已修订|尚未生效|未生效|有效|无效"
)
_VALIDITY_LABEL_RE = re.compile(r"\s*(?:有\s*效\s*性|效力状态|时效性)\s*:?")
_VALIDITY_CANON = {"已失效": "失效", "已废止": "废止", "已修订": "已修改", "未生效": "尚未生效"}


def parse_validity(value: str | None) -> str | None:
    """``有效`` / ``失效`` / ``废止`` / ``现行有效`` / ``部分失效`` / ``已修改`` / ``尚未生效`` / ``无效``.

    ``已失效`` → ``失效``, ``已废止`` → ``废止``, ``已修订`` → ``已修改``; anything else → ``None``.
    Accepts a bare value or a labelled line (``有 效 性: 有效``).
    """
    if not value:
        return None
    folded = fold(value)
    label = _VALIDITY_LABEL_RE.match(folded)
    m = _VALIDITY_RE.search(folded, label.end() if label else 0)
    if not m:
        return None
    return _VALIDITY_CANON.get(m.group(0), m.group(0))
