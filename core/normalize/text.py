"""Text helpers: width folding, whitespace normalisation, HTML → paragraphs, chrome removal.

Two forms of a string are used throughout :mod:`core.normalize`:

* the **display form**: original characters (full-width ``，：（）`` stay full-width), whitespace
  collapsed and trimmed by :func:`normalize_ws`. This is what records store.
* the **folded form** from :func:`fold`, used only for matching. Folding is NFKC-style (full-width
  ASCII → ASCII, ideographic/EN/EM/no-break spaces → ``" "``, ``﹝﹞`` → ``〔〕``) but it maps every
  character to exactly one character, so ``len(fold(s)) == len(s)`` and a regex match span on the
  folded string is a valid span on the original. ``〔〕`` and ``“”`` are kept distinct (NFKC does not
  touch them), and so are circled numbers, Roman numerals and superscripts, which NFKC would turn
  into plain digits or letters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from lxml import etree

__all__ = [
    "CONTROL_CHARS",
    "fold",
    "html_to_paragraphs",
    "is_chrome_line",
    "normalize_ws",
    "split_paragraphs",
    "strip_chrome",
    "strip_controls",
]

# --------------------------------------------------------------------------- width folding

# Code points that NFKC would fold but that carry meaning we want to keep when matching:
# circled/parenthesised numbers (outline markers), Roman numerals, super/subscripts.
_FOLD_KEEP_RANGES = (
    (0x00AA, 0x00BA),  # ª ² ³ ¹ º …
    (0x2070, 0x209F),  # super/subscripts
    (0x2160, 0x218F),  # Roman numerals
    (0x2460, 0x24FF),  # ① ⑴ ⒈ Ⓐ …
    (0x2776, 0x2793),  # dingbat circled digits
    (0x3200, 0x33FF),  # ㈠ ㊀ ㎡ … enclosed CJK and squared units
)
_FOLD_SCAN_RANGES = ((0x00A0, 0x33FF), (0xF900, 0xFFEF))


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    keep = set().union(*(range(a, b + 1) for a, b in _FOLD_KEEP_RANGES))
    for lo, hi in _FOLD_SCAN_RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            # NFKC changes a character alone only when it has a decomposition: the cheap test first (start-up)
            if not unicodedata.decomposition(ch) or cp in keep:
                continue
            folded = unicodedata.normalize("NFKC", ch)
            if folded != ch and len(folded) == 1:
                table[cp] = folded
    # Whitespace NFKC leaves alone or maps to several characters.
    for cp in (0x0085, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F):
        table[cp] = " "
    return table


_FOLD_TABLE = _build_fold_table()
# ``str.translate`` with a large dict costs ~100 ns per character on CJK text, so fold the
# characters that dominate Chinese pages with ``str.replace`` (a C scan each) and the rest of
# the table with one regex pass that calls back only for the rare hits.
_FOLD_COMMON = tuple(
    (ch, _FOLD_TABLE[ord(ch)]) for ch in "，：（）；！？\u3000\u00a0\u2002\u2003．［］／－％＋"
)
_FOLD_RARE_RE = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp in sorted(_FOLD_TABLE) if chr(cp) not in dict(_FOLD_COMMON)) + "]"
)
_FOLD_STR = {chr(cp): out for cp, out in _FOLD_TABLE.items()}


def _fold_rare(m: re.Match[str]) -> str:
    return _FOLD_STR[m.group()]


def _fold(text: str) -> str:
    if text.isascii():
        return text
    for src, dst in _FOLD_COMMON:
        if src in text:
            text = text.replace(src, dst)
    return _FOLD_RARE_RE.sub(_fold_rare, text)


_fold_cached = lru_cache(maxsize=2048)(_fold)
_FOLD_CACHE_MAX_LEN = 1000  # paragraphs are cached (folded several times per page); whole texts not


def fold(text: str) -> str:
    """Width-fold ``text`` for matching; the result has the same length as the input.

    Strings up to 1000 characters (paragraphs, titles) are memoised, because ``build_record``
    folds each paragraph in several passes; the cache is bounded (2048 entries).
    """
    if len(text) > _FOLD_CACHE_MAX_LEN:
        return _fold(text)
    return _fold_cached(text)


fold.cache_clear = _fold_cached.cache_clear  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- control characters

# Never stored: C0 controls but tab and newline (ESC, BEL, NUL, VT, FF, CR …), DEL, the C1 block, the bidi
# embeddings/overrides/isolates (U+202A–202E, U+2066–2069: they reorder what a reader sees) and the two
# noncharacters U+FFFE/U+FFFF. None of them is text; several make XML (lxml, the Atom feed) refuse the string.
CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff"
_CONTROL_RE = re.compile(f"[{CONTROL_CHARS}]")
# the controls that separate words (VT, FF, CR, the file/group/record/unit separators, NEL) become a
# space, so that ``a\x0bb`` stays two words; the rest are dropped
_CONTROL_SPACES = frozenset("\x0b\x0c\r\x1c\x1d\x1e\x1f\x85")


def _control(m: re.Match[str]) -> str:
    return " " if m.group() in _CONTROL_SPACES else ""


# a terminal escape sequence goes whole, not only its ESC: CSI (``ESC [ 31 m``) and OSC (``ESC ] … BEL``)
_ESCAPE_RE = re.compile("\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]{0,256}(?:\x07|\x1b\\\\)?)")


def strip_controls(text: str) -> str:
    """``text`` without control characters (see ``CONTROL_CHARS``) and terminal escape sequences; tab and
    newline are kept."""
    if not text or _CONTROL_RE.search(text) is None:  # the common case: one C scan, no copy
        return text
    if "\x1b" in text:
        text = _ESCAPE_RE.sub("", text)
    return _CONTROL_RE.sub(_control, text)


# --------------------------------------------------------------------------- whitespace

_ZERO_WIDTH = ("\u200b", "\ufeff", "\u00ad", "\u200c", "\u200d", "\u2060")


def normalize_ws(text: str) -> str:
    """Drop zero-width and control characters, collapse every whitespace run (any kind) to one ASCII
    space, trim."""
    if not text:
        return ""
    text = strip_controls(text)
    if not text.isascii():
        for zw in _ZERO_WIDTH:
            if zw in text:
                text = text.replace(zw, "")
    # str.split() splits on every Unicode whitespace (U+00A0, U+2002, U+2003, U+3000 …)
    return " ".join(text.split())


def split_paragraphs(text: str) -> list[str]:
    """Plain text → non-empty, whitespace-normalised lines."""
    out = []
    for line in text.splitlines():
        line = normalize_ws(line)
        if line:
            out.append(line)
    return out


# --------------------------------------------------------------------------- HTML → paragraphs

_BLOCK_TAGS = frozenset(
    (
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu",
        "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    )
)  # fmt: skip
_CELL_TAGS = frozenset(("td", "th"))
_SKIP_TAGS = frozenset(
    ("script", "style", "noscript", "template", "head", "title", "iframe", "object", "select", "button")
)
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_HTML_PARSER_UTF8 = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, encoding="utf-8")


def _parse_html(html: str) -> etree._Element | None:
    try:
        return etree.fromstring(html, _HTML_PARSER)
    except ValueError:  # str with an XML encoding declaration
        return etree.fromstring(html.encode("utf-8"), _HTML_PARSER_UTF8)
    except etree.XMLSyntaxError:
        return None


def _remove_keep_tail(el: etree._Element) -> None:
    """Remove ``el`` and its subtree but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


_HIDDEN_XPATH = etree.XPath("//*[@hidden or contains(@style, 'none') or contains(@style, 'hidden')]")
_BREAK = "\ufdd0"  # paragraph boundary marker: a Unicode noncharacter, absent from real text
_MARKED_TAGS = (*_BLOCK_TAGS, "br", *_CELL_TAGS)


def html_to_paragraphs(html: str) -> list[str]:
    """Flatten an HTML fragment (or document) into display paragraphs.

    Block elements start and end paragraphs; ``<br>`` ends a line and each line becomes its own
    list item (so ``"\\n".join(result)`` is the same text either way, and line-based parsers such
    as the signature finder see ``org<br>date`` as two lines). Table cells are separated by a
    space and each row is one paragraph, which turns a metadata grid into ``label value label
    value`` lines. ``<script>``, ``<style>``, comments and elements hidden by an inline
    ``display:none`` are dropped. Every paragraph goes through :func:`normalize_ws` (so U+00A0,
    U+2002, U+2003 and U+3000 become plain spaces and indentation disappears); empty paragraphs
    are omitted. Characters keep their original width.

    Implementation: boundary markers are written into the text/tail slots of block elements
    and the text is serialised in one C call (``tostring(method="text")``). This measured faster
    than a recursive walk, ``itertext()``, an XSLT pass, or regex-inserting markers into the source.
    """
    if not html or not html.strip():
        return []
    html = strip_controls(html)  # lxml refuses to set text holding them (VT, FF, \x01 …)
    root = _parse_html(html)
    if root is None:
        return []
    etree.strip_elements(root, *_SKIP_TAGS, with_tail=False)
    if "none" in html or "hidden" in html:  # XPath over every style attribute is slow; skip it
        for el in _HIDDEN_XPATH(root):
            style = el.get("style")
            if el.get("hidden") is not None or (style and _HIDDEN_STYLE_RE.search(style)):
                _remove_keep_tail(el)
    if "<pre" in html or "<PRE" in html:
        for el in root.iter("pre"):
            for node in el.iter():
                if node is not el and node.tail:
                    node.tail = node.tail.replace("\n", _BREAK)
                if node.text:
                    node.text = node.text.replace("\n", _BREAK)
    for el in root.iter(*_MARKED_TAGS):
        tag = el.tag
        if tag == "br":
            el.tail = _BREAK + el.tail if el.tail else _BREAK
        elif tag == "td" or tag == "th":
            el.text = " " + el.text if el.text else " "
            el.tail = " " + el.tail if el.tail else " "
        else:
            el.text = _BREAK + el.text if el.text else _BREAK
            el.tail = _BREAK + el.tail if el.tail else _BREAK
    text = etree.tostring(root, method="text", encoding=str)
    out = []
    if _CONTROL_RE.search(text) is None and not any(zw in text for zw in _ZERO_WIDTH):
        # nothing for normalize_ws to drop anywhere in the text (the usual case): it only collapses whitespace
        for chunk in text.split(_BREAK):
            line = " ".join(chunk.split())
            if line:
                out.append(line)
        return out
    for chunk in text.split(_BREAK):
        if chunk and not chunk.isspace():
            line = normalize_ws(chunk)
            if line:
                out.append(line)
    return out


# --------------------------------------------------------------------------- chrome

_DATE_TOKEN = (
    r"(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)"
)
# Each token is something a template prints around an article. A line is chrome only when it
# consists of nothing but such tokens (see ``is_chrome_line``); body text is never cut apart.
_CHROME_TOKENS = (
    r"当前位置\s*(?::|(?=.*>)).*",
    r"您(?:现在)?的?位置\s*:.*",
    r"首页(?:\s*(?:>|>>|»|/|→)\s*[^>»→]+)+",
    r"字号\s*:?\s*(?:[\[【(]?\s*[大中小]\s*[\]】)]?\s*){0,3}",
    r"[\[【(]?\s*字体\s*:?\s*(?:[大中小]\s*){0,3}[\]】)]?",
    r"[\[【(]?\s*大\s*中\s*小\s*[\]】)]?",
    r"分享(?:到)?\s*:?",
    r"扫一扫在手机上查看当前页面",
    r"扫一扫(?:在手机)?(?:打开|查看)?(?:当前|本)?页面?",
    r"[\[【(]?\s*(?:我要)?打印(?:本页|此页|文章|本文)?\s*[\]】)]?",
    r"[\[【(]?\s*关闭(?:窗口|本页|页面)?\s*[\]】)]?",
    r"[\[【(]?\s*(?:加入)?收藏(?:本页)?\s*[\]】)]?",
    r"[\[【(]?\s*返回(?:顶部|首页|列表)?\s*[\]】)]?",
    r"(?:浏览|访问|阅读|点击)(?:次数|量|数)\s*:?\s*\d*\s*(?:次)?",
    r"(?:发布|发表|更新)(?:时间|日期)\s*:\s*" + _DATE_TOKEN,
    r"(?:信息)?来源\s*:\s*[^\s:]*",
    r"(?:作者|(?:责任)?编辑|发布者|供稿)\s*:\s*[^\s:]*",
    r"[|｜]",
)
_CHROME_LINE_RE = re.compile(r"(?:\s*(?:" + "|".join(_CHROME_TOKENS) + r")\s*)+")
_CHROME_QUICK = frozenset("当您首字分扫打关收返浏访阅点发更信来作责编供上下|｜[【(大")
_PREV_NEXT_RE = re.compile(r"(?:上一篇|下一篇|上一条|下一条)\s*:")
_RELATED_RE = re.compile(r"(?:相关(?:文章|阅读|新闻|链接|推荐|信息|稿件)|推荐阅读|延伸阅读)\s*:?")
_RELATED_FIRST = frozenset("相推延")
_ATTACHMENT_LABEL_RE = re.compile(r"附\s*件\s*:?")
_ATTACHMENT_ITEM_RE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|rtf|zip|rar|7z|txt|jpg|png)\b|^\s*\d{1,2}\s*[.、]", re.I
)
_SENTENCE_END = ("。", "!", "?", ":", ";")


def is_chrome_line(line: str) -> bool:
    """True when the whole line is page chrome (breadcrumb, font-size switch, share, print, …)."""
    first = line.lstrip()[:1]
    if not first or fold(first) not in _CHROME_QUICK:
        return False
    folded = fold(line).strip()
    if _PREV_NEXT_RE.match(folded):
        return True
    return _CHROME_LINE_RE.fullmatch(folded) is not None


def _looks_like_link_item(line: str) -> bool:
    folded = fold(line).strip()
    return len(folded) <= 100 and not folded.endswith(_SENTENCE_END)


def strip_chrome(paragraphs: Iterable[str]) -> list[str]:
    """Remove chrome lines wherever they occur, plus a ``相关文章`` heading and its link list.

    Link-list lines after a ``相关文章``-style heading are dropped while they look like link
    titles (at most 100 characters, not ending like a sentence); the first line that does not
    ends the list. An empty ``附件：`` label is dropped unless the next kept line looks like an
    attachment (a file name with an office/PDF extension, or a numbered item). Only whole lines
    are removed.
    """
    out: list[str] = []
    in_related = False
    pending_label: str | None = None  # an "附件：" line waiting for its next line
    for para in paragraphs:
        if pending_label is not None:
            if is_chrome_line(para):
                continue
            if _ATTACHMENT_ITEM_RE.search(fold(para)):
                out.append(pending_label)
            pending_label = None
        if para.lstrip()[:1] == "附" and _ATTACHMENT_LABEL_RE.fullmatch(fold(para).strip()):
            pending_label = para
            continue
        if in_related:
            if is_chrome_line(para) or _looks_like_link_item(para):
                continue
            in_related = False
        if para.lstrip()[:1] in _RELATED_FIRST and _RELATED_RE.fullmatch(fold(para).strip()):
            in_related = True
            continue
        if is_chrome_line(para):
            continue
        out.append(para)
    return out
