"""Detail-page extraction by the traits every family shares, never by one site's class names.

- the standard ``<meta name="ArticleTitle">`` / ``PubDate`` / ``ContentSource`` / ``ColumnName`` tags;
- the 信息公开 metadata block, found by its labels (索引号, 文号/发文字号, 发布机构, 生成日期/成文日期, 有效性 …)
  in any layout (grid table, bullets, label/value cells), label padding with any kind of space;
- the article body: the element whose direct paragraphs carry the most text (text density);
- attachments: links to document files or to a download script;
- plausibility: what is not a document at all (an empty or binary answer, nesting the parser cannot read
  whole, replacement-character soup, an absurd title) is refused with a reason (``ImplausiblePage``), and a
  long title is cut at a sensible boundary (``bound_title``).
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector

from core.normalize.text import normalize_ws, strip_controls
from core.records import Attachment

_SPACES = re.compile(r"[\s\u00a0\u2002\u2003\u3000•·:：]+")
META_LABELS = {
    "索引号", "主题分类", "分类", "主题词", "发布机构", "发文机关", "发文单位", "文号", "发文字号", "生成日期",
    "成文日期", "发文日期", "发布日期", "标题", "名称", "有效性", "效力状态", "时效性",
}
# a label and its value in one text node, as in ``<div>发文日期：2025-06-01</div>``; labels may share the
# node (``索引号：2021-05-00144 发文字号：医保函〔2021〕135号 主题分类：…``): a value ends where the next
# known label (padded with any space, after an optional ``•``/``|``) and its colon begin
_PAD = "\\s*"  # any whitespace (str.isspace: U+00A0, U+2002, U+2003, U+3000 …); compiles in 1/30 of the time of a class
_LABEL_COLON = re.compile(
    "(?:^|(?<=[\\s•·|｜]))(?P<label>"
    + "|".join(_PAD.join(map(re.escape, label)) for label in sorted(META_LABELS, key=len, reverse=True))
    + f"){_PAD}[:：]"
)
_SEPARATORS = " \u00a0\u2002\u2003\u3000•·|｜"
_MAX_VALUE = 120  # characters: a longer "label：…" text is body prose, not a metadata value
SOFT_404 = re.compile(r"页面不存在|您访问的页面不存在|找不到该页面|页面已被删除|信息已被删除|404 Not Found")
ATTACHMENT_HREF = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|rtf|zip|rar)(?:$|\?)|downfile\.jsp", re.I)
_BLOCK_TAGS = {"p", "div", "section", "td", "article"}

TITLE_MAX = 500  # characters: a longer title is cut (at a sentence or clause boundary when there is one)
TITLE_ABSURD = 2000  # characters: a longer "title" is not one (a CMS pasting the body into <title>, an attack)
NESTING_LIMIT = 200  # elements deep: libxml2 stops at 256 without huge_tree, so the page was not read whole
MOJIBAKE_SHARE = 0.05  # U+FFFD among the text's characters: more is a page decoded in the wrong charset
MOJIBAKE_MIN = 10
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"RIFF",
                 b"\xd0\xcf\x11\xe0", b"Rar!", b"7z\xbc\xaf")
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32)])  # not tab, LF, VT, FF, CR
_CUT_AFTER = "。！？；;!?，,、：:）)】」』》 \u3000"  # a title is cut after one of these when it can be


class ImplausiblePage(Exception):
    """A 200 answer that is not a document: ``reason`` is a short key (``yibao/errors/<reason>``), the
    message says what was seen."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_body(body: bytes) -> None:
    """Refuse an empty or a binary answer before it is parsed as HTML."""
    if not body.strip():
        raise ImplausiblePage("empty_page", f"an empty answer ({len(body)} bytes)")
    head = body[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with its byte-order mark: NUL bytes are its text
    if head.lstrip().startswith(_BINARY_MAGIC):
        raise ImplausiblePage("binary", f"a binary answer, not an HTML page (starts {head[:8]!r})")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if b"\x00" in head or controls > len(head) // 10:
        raise ImplausiblePage("binary", f"a binary answer, not an HTML page ({controls} control bytes in its start)")


def check_nesting(root: lxml_html.HtmlElement) -> None:
    """Refuse a tree nested ``NESTING_LIMIT`` deep: the parser gave up on the rest of such a page."""
    if root.xpath("boolean(" + "/*" * NESTING_LIMIT + ")"):
        raise ImplausiblePage("too_deep", f"elements nested more than {NESTING_LIMIT} deep (the page cannot be read whole)")


def check_text(title: str, body_text: str) -> None:
    """Refuse replacement-character soup: a page decoded in the wrong charset, binary read as text, or text
    that went through a wrong decoding before it was published (``锟斤拷`` is U+FFFD's UTF-8 bytes read as GBK)."""
    text = f"{title}{body_text}"
    bad = text.count("\ufffd") + 3 * text.count("锟斤拷")
    if bad >= MOJIBAKE_MIN and bad >= MOJIBAKE_SHARE * len("".join(text.split())):
        raise ImplausiblePage("mojibake", f"{bad} characters of replacement soup (U+FFFD, 锟斤拷) in {len(text)} characters")


def bound_title(text: str | None) -> str | None:
    """A title of display length: whitespace collapsed, controls dropped, cut to ``TITLE_MAX`` characters after
    the last clause boundary when there is one in its last fifth (and marked with ``…``); None for an absurd one
    (over ``TITLE_ABSURD`` characters)."""
    text = normalize_ws(text or "")
    if len(text) > TITLE_ABSURD:
        return None
    if len(text) <= TITLE_MAX:
        return text
    head = text[: TITLE_MAX - 1]
    cut = max(head.rfind(ch) for ch in _CUT_AFTER)
    if cut >= TITLE_MAX * 4 // 5:
        head = head[: cut + 1]
    return head.rstrip(" \u3000，,、：:") + "…"


def label_key(text: str) -> str:
    """``索\u2002引\u2002号：`` → ``索引号``."""
    return _SPACES.sub("", text)


# Every trait reads the page's one parsed tree (``sel.root``) with lxml directly: a parsel Selector per node
# found costs more than the search.
_BODY_TEXT = "//body/descendant::text()[not(ancestor::script or ancestor::style)]"
_BODY_TEXT_NODES = etree.XPath(_BODY_TEXT, smart_strings=False)


def meta_tags(sel: Selector) -> dict[str, str]:
    tags = {}
    for node in sel.root.xpath("//meta[@name and @content]"):
        name = node.get("name", "")
        if name and name not in tags:
            tags[name] = node.get("content", "").strip()
    return tags


def metadata_block(sel: Selector) -> dict[str, str]:
    """Label → value pairs of the 信息公开 block, labels canonicalised (``索 引 号`` → ``索引号``)."""
    tokens = [t for t in map(str.strip, _BODY_TEXT_NODES(sel.root)) if t and t != "•" and t != "·"]
    found: dict[str, str] = {}
    for i, token in enumerate(tokens):
        labels = []
        # a "label：value" token starts with its label (after separators): one match there before a search
        lead = len(token) - len(token.lstrip(_SEPARATORS))
        if (":" in token or "：" in token) and _LABEL_COLON.match(token, lead):
            labels = list(_LABEL_COLON.finditer(token))
        if labels and not token[: labels[0].start()].strip(_SEPARATORS):
            ends = [m.start() for m in labels[1:]] + [len(token)]
            pairs = [
                (label_key(m["label"]), token[m.end() : end].strip(_SEPARATORS))
                for m, end in zip(labels, ends, strict=True)
            ]
            if any(value for _, value in pairs) and all(len(value) <= _MAX_VALUE for _, value in pairs):
                for key, value in pairs:
                    found.setdefault(key, value)
                continue
        # most text is no label: its first kept character (the first ``label_key`` keeps) rules it out
        if len(token) > 12 or token.lstrip(_NOT_LABEL_LEAD)[:1] not in _LABEL_FIRST:
            continue
        key = label_key(token)
        if key not in META_LABELS or key in found:
            continue
        value = ""
        if i + 1 < len(tokens) and label_key(tokens[i + 1]) not in META_LABELS:
            value = tokens[i + 1].strip(" \u00a0\u2002\u2003\u3000：:")
        found[key] = value
    return found


_LABEL_FIRST = frozenset(label[0] for label in META_LABELS)
# what ``label_key`` drops before a label's first character: every whitespace character (``str.isspace``) and
# ``•·:：``
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NOT_LABEL_LEAD = _WHITESPACE + "•·:："


def _density(node: lxml_html.HtmlElement) -> int:
    return sum(len(p.text_content().strip()) for p in node if isinstance(p.tag, str) and p.tag == "p")


def body_node(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The element whose direct ``<p>`` children hold the most text."""
    best, best_score = None, 0
    for node in root.iter(*_BLOCK_TAGS):
        score = _density(node)
        if score > best_score:
            best, best_score = node, score
    return best


def strip_metadata_tables(node: lxml_html.HtmlElement) -> None:
    """Drop tables inside the body that are the metadata block (Hanweb puts it inside #zoom)."""
    for table in node.xpath(".//table"):
        cells = {label_key(t) for t in table.xpath(".//th//text()|.//td//text()")}
        if len(cells & META_LABELS) >= 2:
            table.getparent().remove(table)


def body_parts(root: lxml_html.HtmlElement) -> tuple[str, str]:
    """The body's HTML (metadata tables stripped) and its text, read from a copy of the body element: the
    page's tree is left whole for the other traits (one parse of the page serves them all)."""
    node = body_node(root)
    if node is None:
        return "", ""
    node = copy.deepcopy(node)
    strip_metadata_tables(node)
    text = node.text_content()
    if node.tail and node.tail.strip():  # the serialised body carries the element's tail text too
        text += node.tail
    return lxml_html.tostring(node, encoding="unicode"), text


def body_html(root: lxml_html.HtmlElement) -> str:
    return body_parts(root)[0]


def attachments(sel: Selector, base_url: str) -> list[Attachment]:
    """Links to document files or to a download script, in page order, each URL once.

    A page has a hundred links or more (navigation, footer) and one or two attachments: the links' targets are
    read in one XPath call and searched together (``_ATTACHMENT_ANY``, one regex pass over them joined); only
    the links found there are checked one by one (``ATTACHMENT_HREF``) and read."""
    hrefs = _HREFS(sel.root)
    joined = "\n".join(hrefs)
    if joined.isascii():  # lower-cased, the same length: a case-sensitive search, three times as fast
        positions = [m.start() for m in _ATTACHMENT_ANY_LOWER.finditer(joined.lower())]
    else:
        positions = [m.start() for m in _ATTACHMENT_ANY.finditer(joined)]
    if not positions:
        return []
    starts = list(accumulate((len(h) + 1 for h in hrefs[:-1]), initial=0))
    out, seen = [], set()
    for index in sorted({bisect_right(starts, position) - 1 for position in positions}):
        href = hrefs[index]
        if not ATTACHMENT_HREF.search(href):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        link = _NTH_HREF(sel.root, n=index + 1)[0].getparent()  # the first link to this URL
        name = strip_controls(" ".join(link.xpath(".//text()", smart_strings=False))).strip()
        name = name or url.rsplit("/", 1)[-1]
        out.append(Attachment(name=name, url=url))
    return out


# every link's target, in page order (plain strings: an element or a "smart string" per link costs more than
# the search), and the n-th of them as a "smart string" (``getparent()`` is its link)
_HREFS = etree.XPath("//a/@href", smart_strings=False)
_NTH_HREF = etree.XPath("(//a/@href)[$n]")
# ``ATTACHMENT_HREF`` over the targets joined by newlines: ``$`` also before each newline, so that every target
# it matches alone is found (its matches never span a newline); what this finds is checked alone again. The
# pattern is lower case: on lower-cased ASCII text it matches where the case-insensitive one does.
_ATTACHMENT_ANY = re.compile(ATTACHMENT_HREF.pattern, re.I | re.M)
_ATTACHMENT_ANY_LOWER = re.compile(ATTACHMENT_HREF.pattern, re.M)


def _title_candidates(sel: Selector, tags: dict[str, str]) -> Iterator[str | None]:
    yield tags.get("ArticleTitle")
    yield sel.xpath("normalize-space(//h1)").get()
    yield sel.xpath("normalize-space(//title)").get()


def page_title(sel: Selector, tags: dict[str, str]) -> str:
    """The first of ``ArticleTitle``, ``<h1>``, ``<title>`` that is a plausible title, bounded (``bound_title``);
    "" when there is none."""
    for candidate in _title_candidates(sel, tags):
        title = bound_title(candidate)
        if title:
            return title
    return ""


def check_title(sel: Selector, tags: dict[str, str], title: str) -> None:
    """Refuse a page whose own title (``ArticleTitle``, ``<h1>``, ``<title>``) is absurd wherever it has one."""
    if title:
        return
    longest = max((len(c) for c in _title_candidates(sel, tags) if c), default=0)
    if longest > TITLE_ABSURD:
        raise ImplausiblePage("title_too_long", f"a title of {longest} characters")


def is_soft_404(text: str, body: str) -> bool:
    """A "page not found" text on a page with (almost) no body (the body's length first: the whole page's text is
    searched only then)."""
    return len(body) < 400 and SOFT_404.search(text) is not None
