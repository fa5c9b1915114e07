"""Rendering a ``ChangeSet`` (``core.diffing``) for people (pure: no SQL, no Scrapy).

- ``render_text(cs, color=False)``: plain text for the terminal, mail text parts and chat apps. Metadata
  first (``- 有效性：有效`` / ``+ 有效性：失效``), then changed figures, then the body by section: ``~`` a changed
  paragraph with ``[-deleted-]{+inserted+}`` marks (ANSI red/green instead of marks with ``color=True``),
  ``-`` a removed and ``+`` an added paragraph. Long unchanged stretches of a changed paragraph are cut to
  the changed sentences (``……``) unless ``full=True``. Control characters from crawled text are dropped.
- ``render_html(cs, title=..., url=..., archive_url=...)``: an e-mail-safe HTML document: UTF-8 meta,
  inline styles only, tables for layout, no scripts, no external resources; deletions red with
  strikethrough on #ffebe9, insertions green on #e6ffec. Everything from a crawled page is HTML-escaped,
  and links are only emitted for http(s) URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from core.diffing import ChangeSet, FieldChange, FigureChange, ParagraphChange
from core.fields import ATTACHMENT_CHANGES
from core.normalize.text import fold

__all__ = ["render_html", "render_text"]

BODY_SECTION = "正文"  # heading for changes before the first outline heading
_CONTEXT_MAX = 80  # unchanged text longer than this inside a changed paragraph is cut to whole sentences
_ELLIPSIS = "……"
_SENTENCE_END = re.compile(r"[。!?;]+[”’」』)\]]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# --------------------------------------------------------------------------- shared


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


def _trim_equal(text: str, position: str) -> str:
    """Cut unchanged text around edits to whole sentences: ``position`` is first | middle | last | only."""
    if len(text) <= _CONTEXT_MAX or position == "only":
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(fold(text))]
    if position == "first":  # keep the sentence the first edit starts in
        inner = [e for e in ends if e < len(text)]
        return _ELLIPSIS + text[inner[-1] :] if inner else text
    if position == "last":  # keep up to the end of the sentence the last edit is in
        return text[: ends[0]] + _ELLIPSIS if ends and ends[0] < len(text) else text
    if len(ends) >= 2 and ends[0] < ends[-1]:
        inner = [e for e in ends if e < len(text)]
        head, tail = text[: ends[0]], text[inner[-1] :] if inner else ""
        if len(head) + len(tail) < len(text):
            return head + _ELLIPSIS + tail
    return text


def _segments(p: ParagraphChange, full: bool) -> list[tuple[str, str]]:
    segs = [(op, _clean(text)) for op, text in p.segments]
    if full:
        return segs
    out = []
    for k, (op, text) in enumerate(segs):
        if op == "=":
            first, last = k == 0, k == len(segs) - 1
            position = "only" if first and last else "first" if first else "last" if last else "middle"
            text = _trim_equal(text, position)
        out.append((op, text))
    return out


def _groups(paragraphs: Sequence[ParagraphChange]) -> list[tuple[str, list[ParagraphChange]]]:
    """Consecutive paragraphs with the same section, in document order."""
    out: list[tuple[str, list[ParagraphChange]]] = []
    for p in paragraphs:
        section = _clean(p.section) or BODY_SECTION
        if out and out[-1][0] == section:
            out[-1][1].append(p)
        else:
            out.append((section, [p]))
    return out


def _field_lines(f: FieldChange) -> list[tuple[str, str]]:
    """``(sign, text)`` lines for one metadata change."""
    label = _clean(f.label_zh)
    old, new = _clean(f.old), _clean(f.new)
    if f.name == "attachments" and f.change == "replaced":
        return [("~", f"{label}（内容{ATTACHMENT_CHANGES['replaced']}）：{new}")]
    lines = []
    if f.old is not None:
        lines.append(("-", f"{label}：{old}"))
    if f.new is not None:
        lines.append(("+", f"{label}：{new}"))
    if not lines:
        lines.append(("~", f"{label}：—"))
    return lines


def _figure_text(f: FigureChange) -> str:
    label = f"{_clean(f.label)} " if f.label else ""
    return f"{label}{_clean(f.old) or '—'} → {_clean(f.new) or '—'}"


# --------------------------------------------------------------------------- text

_RED, _GREEN, _CYAN, _BOLD, _STRIKE, _RESET = (
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[36m",
    "\x1b[1m",
    "\x1b[9m",
    "\x1b[0m",
)
_SIGN_COLOR = {"-": _RED, "+": _GREEN, "~": _CYAN}


def render_text(cs: ChangeSet, *, color: bool = False, full: bool = False) -> str:
    """Plain-text rendering (see the module docstring); ends with a newline."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color and text else text

    def line(sign: str, text: str) -> str:
        return paint(_SIGN_COLOR[sign], f"{sign} {text}") if sign != "~" else f"{paint(_CYAN, '~')} {text}"

    out = [paint(_BOLD, f"摘要：{_clean(cs.summary())}")]
    if cs.is_new or cs.is_empty():
        return "\n".join(out) + "\n"
    if cs.fields:
        out.append("")
        out.append(paint(_BOLD, "信息变更"))
        for f in cs.fields:
            out.extend(line(sign, text) for sign, text in _field_lines(f))
    if cs.figures:
        out.append("")
        out.append(paint(_BOLD, "数字变化"))
        out.extend(f"  {_figure_text(f)}" for f in cs.figures)
    for section, paragraphs in _groups(cs.paragraphs):
        out.append("")
        out.append(paint(_BOLD, f"【{section}】"))
        for p in paragraphs:
            if p.kind == "added":
                out.append(line("+", _clean(p.new)))
            elif p.kind == "removed":
                out.append(line("-", _clean(p.old)))
            else:
                out.append(line("~", _inline_text(_segments(p, full), color)))
    return "\n".join(out) + "\n"


def _inline_text(segments: Iterable[tuple[str, str]], color: bool) -> str:
    parts = []
    for op, text in segments:
        if op == "=":
            parts.append(text)
        elif color:
            parts.append(f"{_RED}{_STRIKE}{text}{_RESET}" if op == "-" else f"{_GREEN}{text}{_RESET}")
        else:
            parts.append(f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return "".join(parts)


# --------------------------------------------------------------------------- HTML

_FONT = (
    "font-family:-apple-system,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',"
    "'Source Han Sans SC',Arial,sans-serif"
)
_DEL = "background-color:#ffebe9;color:#82071e;text-decoration:line-through"
_INS = "background-color:#e6ffec;color:#055d20;text-decoration:none"
_MUTED = "color:#59636e"
_CELL = "padding:6px 8px;border:1px solid #d0d7de;vertical-align:top;text-align:left"
_HEAD_CELL = _CELL + ";background-color:#f6f8fa;font-weight:bold;white-space:nowrap"
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def _e(text: str | None) -> str:
    return escape(_clean(text), quote=True)


def _del(text: str) -> str:
    return f'<span style="{_DEL}">{_e(text)}</span>' if text else ""


def _ins(text: str) -> str:
    return f'<span style="{_INS}">{_e(text)}</span>' if text else ""


def _nowrap(html: str) -> str:
    return f'<span style="white-space:nowrap">{html}</span>'


def _link(url: str | None, label: str) -> str:
    if not url or not _SAFE_URL.match(url):
        return ""
    return f'<a href="{escape(url, quote=True)}" style="color:#0969da">{_e(label)}</a>'


def _row(content: str, style: str = "") -> str:
    return f'<tr><td style="padding:12px 20px;{style}">{content}</td></tr>'


def _heading(text: str) -> str:
    return f'<div style="font-size:15px;font-weight:bold;margin:0 0 8px 0">{_e(text)}</div>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f'<th style="{_HEAD_CELL}">{_e(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>" for row in rows
    )
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        f' style="border-collapse:collapse;font-size:14px"><tr>{head}</tr>{body}</table>'
    )


def _field_row(f: FieldChange) -> list[str]:
    label = _e(f.label_zh)
    if f.name == "attachments":
        label += f'<span style="{_MUTED}">（{_e(ATTACHMENT_CHANGES.get(f.change, f.change))}）</span>'
    return [label, _del(f.old or "") or "—", _ins(f.new or "") or "—"]


def _paragraph_html(p: ParagraphChange, full: bool) -> str:
    block = "margin:0 0 10px 0;padding:6px 10px;border-left:4px solid {};background-color:{}"
    if p.kind == "added":
        style = block.format("#1a7f37", "#e6ffec")
        return f'<div style="{style};color:#055d20">+ {_e(p.new)}</div>'
    if p.kind == "removed":
        style = block.format("#cf222e", "#ffebe9")
        return f'<div style="{style};color:#82071e">- <span style="text-decoration:line-through">{_e(p.old)}</span></div>'
    parts = []
    for op, text in _segments(p, full):
        parts.append(_e(text) if op == "=" else _del(text) if op == "-" else _ins(text))
    style = block.format("#d4a72c", "#ffffff")
    return f'<div style="{style}">{"".join(parts)}</div>'


def render_html_fragment(
    cs: ChangeSet,
    *,
    title: str,
    url: str | None = None,
    archive_url: str | None = None,
    full: bool = False,
) -> str:
    """The diff as one self-contained, inline-styled ``<table>`` (the body of ``render_html``), for
    embedding in a page (the web UI's document view)."""
    rows = []
    links = " · ".join(x for x in (_link(url, "原文"), _link(archive_url, "存档记录")) if x)
    rows.append(
        _row(
            f'<div style="font-size:18px;font-weight:bold;margin:0 0 6px 0">{_e(title)}</div>'
            f'<div style="{_MUTED};font-size:14px">{_e(cs.summary())}</div>'
            + (f'<div style="font-size:14px;margin-top:6px">{links}</div>' if links else ""),
            "border-bottom:1px solid #d0d7de",
        )
    )
    if cs.fields:
        table = _table(("字段", "原内容", "新内容"), (_field_row(f) for f in cs.fields))
        rows.append(_row(_heading("信息变更") + table))
    if cs.figures:
        figures = (
            [
                _e(f.label) or "—",
                _nowrap(_del(f.old or "") or "—"),
                _nowrap(_ins(f.new or "") or "—"),
                _e(f.context),
            ]
            for f in cs.figures
        )
        rows.append(_row(_heading("数字变化") + _table(("项目", "原", "新", "上下文"), figures)))
    for section, paragraphs in _groups(cs.paragraphs):
        body = "".join(_paragraph_html(p, full) for p in paragraphs)
        rows.append(_row(_heading(section) + body))
    if cs.is_empty():
        rows.append(_row(f'<div style="{_MUTED}">无实质变化</div>'))
    legend = (
        f'<span style="{_DEL}">删除</span> <span style="{_INS}">新增</span>'
        f' <span style="{_MUTED}">· Yibao Watch</span>'
    )
    rows.append(_row(f'<div style="font-size:12px">{legend}</div>', "border-top:1px solid #d0d7de"))
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        f' style="max-width:760px;background-color:#ffffff;border:1px solid #d0d7de;{_FONT};'
        'font-size:15px;line-height:1.7;color:#1f2328">\n' + "\n".join(rows) + "\n</table>"
    )


def render_html(
    cs: ChangeSet,
    *,
    title: str,
    url: str | None = None,
    archive_url: str | None = None,
    full: bool = False,
) -> str:
    """A complete e-mail-safe HTML document for ``cs`` (see the module docstring)."""
    table = render_html_fragment(cs, title=title, url=url, archive_url=archive_url, full=full)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title></head>\n"
        f'<body style="margin:0;padding:0;background-color:#f6f8fa">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        ' style="background-color:#f6f8fa"><tr><td align="center" style="padding:16px">\n'
        + table
        + "\n</td></tr></table>\n</body></html>\n"
    )
