"""CSS selectors for the generic family, suggested from one list page and one detail page.

- ``link``: the largest group of title-like anchors (text of 6+ characters) that share a container;
  the selector names the container by id or class and is kept only if it selects that group and
  little else;
- ``body``: the element the spiders' text-density rule picks as the article body;
- ``title``: an element whose text is the page's title; ``date``: an element whose own text is a
  publication-date line; ``next_page``: an anchor reading 下一页 that has a class or title.
Every selector is verified on the page it came from; one that cannot be verified is left empty.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import html as lxml_html
from parsel import Selector

from spiders import extract

_TITLE_MIN = 6
_DATE_LINE = re.compile(
    r"(?:发布|发表|成文|印发)?(?:时间|日期)\s*[:：]?\s*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}"
)
_NEXT = re.compile(r"^\s*(?:下一页|下页|后一页|>|›|»)\s*$")
_NOISE_ANCESTORS = {"nav", "header", "footer"}


@dataclass
class Selectors:
    link: str = ""
    title: str = ""
    date: str = ""
    body: str = ""
    next_page: str = ""

    def options(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def _classes(el: lxml_html.HtmlElement) -> list[str]:
    return [c for c in (el.get("class") or "").split() if re.fullmatch(r"[A-Za-z_][\w-]*", c)]


def _tag(el: lxml_html.HtmlElement) -> str:
    return str(el.tag)


def _simple(el: lxml_html.HtmlElement) -> str | None:
    """``#id`` or ``tag.class`` for an element, when it has a usable id or class."""
    ident = el.get("id")
    if ident and re.fullmatch(r"[A-Za-z_][\w-]*", ident):
        return f"#{ident}"
    classes = _classes(el)
    if classes:
        return f"{_tag(el)}.{classes[0]}"
    return None


def _unique(root: lxml_html.HtmlElement, css: str, el: lxml_html.HtmlElement) -> bool:
    try:
        found = root.cssselect(css)
    except Exception:  # an unsupported selector
        return False
    return len(found) == 1 and found[0] is el


def _element_selector(root: lxml_html.HtmlElement, el: lxml_html.HtmlElement) -> str | None:
    """A selector picking exactly ``el``: its own id/class, else an identified ancestor plus its tag."""
    own = _simple(el)
    if own and _unique(root, own, el):
        return own
    for anc in el.iterancestors():
        base = _simple(anc)
        if not base:
            continue
        for css in (f"{base} > {own or _tag(el)}", f"{base} {own or _tag(el)}"):
            if _unique(root, css, el):
                return css
    return None


def link_selector(text: str, base_url: str) -> tuple[str, int]:
    """(selector of the article anchors of a list page, how many it selects), or ("", 0)."""
    root = lxml_html.fromstring(text or "<html></html>")
    groups: dict[lxml_html.HtmlElement, list[lxml_html.HtmlElement]] = defaultdict(list)
    for a in root.iter("a"):
        label = "".join((a.text_content() or "").split()) or (a.get("title") or "")
        href = a.get("href") or ""
        if len(label) < _TITLE_MIN or not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        if any(anc.tag in _NOISE_ANCESTORS for anc in a.iterancestors()):
            continue
        # the container: the nearest ancestor that is not the anchor's own item wrapper
        parent = a.getparent()
        container = (
            parent.getparent()
            if parent is not None and parent.tag in ("li", "dd", "dt", "td", "span", "h3", "h4", "p", "div")
            else parent
        )
        if container is not None:
            groups[container].append(a)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    for container, links in ranked[:3]:
        if len(links) < 2:
            break
        item = links[0].getparent()
        for anc in [container, *container.iterancestors()]:
            base = _simple(anc)
            if not base:
                continue
            steps = (
                [f"{base} {_tag(item)} a", f"{base} a"]
                if item is not None and item is not container
                else [f"{base} a"]
            )
            for css in steps:
                try:
                    found = Selector(text=text).css(css)
                except Exception:
                    continue
                hrefs = {urljoin(base_url, h) for h in found.xpath("@href").getall()}
                wanted = {urljoin(base_url, a.get("href")) for a in links}
                if wanted <= hrefs and len(hrefs) <= len(wanted) + 2:
                    return css, len(found)
            break  # the nearest identified ancestor did not do; a wider one would do worse
    return "", 0


def body_selector(text: str) -> str:
    root = lxml_html.fromstring(text or "<html></html>")
    node = extract.body_node(root)
    if node is None:
        return ""
    return _element_selector(root, node) or ""


def title_selector(text: str, title: str) -> str:
    want = "".join((title or "").split())
    if not want:
        return ""
    root = lxml_html.fromstring(text)
    for tag in ("h1", "h2", "h3", "div", "p", "span", "td"):
        for el in root.iter(tag):
            if "".join((el.text_content() or "").split()) == want:
                css = _element_selector(root, el)
                if css:
                    return css
    return ""


def date_selector(text: str) -> str:
    root = lxml_html.fromstring(text)
    for el in root.iter("div", "span", "p", "td", "li", "em", "time"):
        own = "".join(el.xpath("./text()"))
        if _DATE_LINE.search(own) or (
            el.tag == "time" and re.search(r"(?:19|20)\d{2}", el.text_content() or "")
        ):
            css = _element_selector(root, el)
            if css:
                return css
    return ""


def next_selector(text: str) -> str:
    root = lxml_html.fromstring(text)
    for a in root.iter("a"):
        if (
            _NEXT.match(a.text_content() or "")
            and a.get("href")
            and not a.get("href", "").startswith("javascript:")
        ):
            css = _element_selector(root, a)
            if css:
                return css
            if a.get("title"):
                css = f'a[title="{a.get("title")}"]'
                if _unique(root, css, a):
                    return css
    return ""


def suggest(list_text: str, list_url: str, detail_text: str | None, title: str = "") -> Selectors:
    link, _ = link_selector(list_text, list_url)
    out = Selectors(link=link, next_page=next_selector(list_text))
    if detail_text:
        out.body = body_selector(detail_text)
        out.title = title_selector(detail_text, title)
        out.date = date_selector(detail_text)
    return out
