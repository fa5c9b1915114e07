"""Finding the columns that carry replies, policies and reports, by their link texts.

Bureau portals name these columns in a small vocabulary (建议提案办理, 人大建议, 政协提案, 政策文件,
规范性文件, 工作总结, 年度报告 …). ``column_links`` picks them out of a page's anchors; ``hub_links``
finds the pages that usually hold them (政务公开, 信息公开目录, 互动交流); ``gkmlpt_columns`` reads the
category tree of a Guangdong 政府信息公开目录. A column whose name says nothing (其它文件, 工作动态) is
a *maybe*: its kind is decided by classifying the titles on its list page (``kind_from_titles``),
with the product's own classifier.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from core.normalize import classify
from core.records import KIND_POLICY, KIND_PROPOSAL_REPLY, KIND_REPORT, KIND_SUGGESTION_REPLY

from .fingerprints import ARTICLE_LINKS

# (kind, keyword, weight): a longer, more specific keyword wins over a shorter one
KEYWORDS: tuple[tuple[str, str], ...] = (
    ("replies", "建议提案办理"),
    ("replies", "建议提案答复"),
    ("replies", "建议提案"),
    ("replies", "人大代表建议"),
    ("replies", "政协委员提案"),
    ("replies", "人大建议"),
    ("replies", "政协提案"),
    ("replies", "代表建议"),
    ("replies", "委员提案"),
    ("replies", "提案答复"),
    ("replies", "建议答复"),
    ("replies", "建议办理"),
    ("replies", "提案办理"),
    ("replies", "议案"),
    ("policies", "规范性文件"),
    ("policies", "政策文件"),
    ("policies", "政策法规"),
    ("policies", "法规文件"),
    ("policies", "法规政策"),
    ("policies", "政府文件"),
    ("policies", "部门文件"),
    ("policies", "本局文件"),
    ("policies", "文件发布"),
    ("reports", "工作总结"),
    ("reports", "年度报告"),
    ("reports", "工作报告"),
    ("reports", "规划计划"),
    ("reports", "计划总结"),
    ("reports", "规划总结"),
    ("reports", "计划规划"),
    ("reports", "工作计划"),
    ("reports", "工作要点"),
    ("reports", "信息公开年报"),
    ("reports", "规划信息"),
    ("reports", "总结"),
)
# names that say nothing of the kind: sampled, kept only when their titles agree
MAYBE = ("其它文件", "其他文件", "工作动态", "通知公告", "公告公示", "其他", "其它", "政务动态")
# never a document column (guides, rules, forms, request pages)
NEVER = re.compile(
    r"指南|制度|依申请|申请表|意见征集|征求意见|调查|留言|信箱|办事|服务|下载|登录|English|无障碍"
)
# an article's title, not a column's name: column names are short and never "关于…的通知"
MAX_NAME = 14
TITLE_LIKE = re.compile(r"关于|的(?:通知|答复|复函|函|意见|决定|报告)$|(?:19|20)\d{2}年.{0,6}(?:上|下)半年")
HUBS = re.compile(r"政务公开|信息公开|公开目录|主动公开|法定主动|互动交流|政民互动|建议提案")
_FILE = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|rtf|zip|rar|jpg|png|gif)$", re.I)
_JS_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")
_FLAT_NODE = re.compile(r"""["']?id["']?\s*:\s*["']?(\d+)["']?\s*,\s*["']?name["']?\s*:\s*["']([^"']+)["']""")
KIND_OF_RECORD = {
    KIND_SUGGESTION_REPLY: "replies",
    KIND_PROPOSAL_REPLY: "replies",
    KIND_POLICY: "policies",
    KIND_REPORT: "reports",
}


@dataclass(frozen=True)
class ColumnLink:
    name: str
    url: str
    kind: str | None  # None: a "maybe" to decide by its titles
    source: str  # the page it was found on, or "gkmlpt tree"


def _clean(text: str) -> str:
    return "".join(text.split()).strip("·•>》» ")


def kind_of_name(name: str) -> tuple[str | None, bool]:
    """(kind, is_maybe) for a column name; (None, False) when it names no document column."""
    text = _clean(name)
    if not text or len(text) > MAX_NAME or NEVER.search(text) or TITLE_LIKE.search(text):
        return None, False
    best: tuple[int, str] | None = None
    for kind, keyword in KEYWORDS:
        if keyword in text and (best is None or len(keyword) > best[0]):
            best = (len(keyword), kind)
    if best:
        return best[1], False
    return None, text in MAYBE


def _is_article(url: str) -> bool:
    path = url.split("?", 1)[0]
    return any(pattern.search(path) for pattern, _ in ARTICLE_LINKS.values())


def anchors(text: str, base_url: str) -> list[tuple[str, str]]:
    """(text, absolute URL) of every anchor with a usable href."""
    out = []
    for a in Selector(text=text).xpath("//a[@href]"):
        href = a.attrib["href"].strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        label = _clean(" ".join(a.xpath(".//text()").getall())) or _clean(a.attrib.get("title", ""))
        out.append((label, urljoin(base_url, href)))
    return out


def column_links(text: str, base_url: str, on_site: Any) -> list[ColumnLink]:
    """Links of a page that name a replies/policies/reports column (or a maybe)."""
    out: dict[str, ColumnLink] = {}
    for label, url in anchors(text, base_url):
        url = url.split("#", 1)[0] if "/gkmlpt/" not in url else url
        if not on_site(url) or _is_article(url) or _FILE.search(urlsplit(url).path):
            continue
        if urlsplit(url).path in ("", "/") and not urlsplit(url).query:
            continue
        kind, maybe = kind_of_name(label)
        if (kind or maybe) and url not in out:
            out[url] = ColumnLink(label, url, kind, base_url)
    return list(out.values())


def hub_links(text: str, base_url: str, on_site: Any) -> list[str]:
    """Pages likely to list the columns (政务公开, 信息公开目录 …), in page order."""
    out: list[str] = []
    for label, url in anchors(text, base_url):
        url = url.split("#", 1)[0]
        if (
            on_site(url)
            and HUBS.search(label)
            and not NEVER.search(label)
            and len(label) <= 12
            and url not in out
        ):
            out.append(url)
    return out


def gkmlpt_links(text: str, base_url: str, on_site: Any) -> list[str]:
    out = []
    for _, url in anchors(text, base_url):
        path = urlsplit(url).path
        if on_site(url) and "/gkmlpt/" in path:
            index = urljoin(url, path[: path.index("/gkmlpt/") + len("/gkmlpt/")] + "index")
            if index not in out:
                out.append(index)
    return out


# -- gkmlpt category tree --------------------------------------------------------------------------


def _bracketed(text: str, start: int) -> str | None:
    """The balanced ``[...]`` starting at ``text[start]`` (strings respected)."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    return None


def parse_tree(text: str) -> list[dict[str, Any]]:
    """The ``TREE`` of ``window._CONFIG`` (or ``var TREE = [...]``): nodes with id, name, children."""
    match = re.search(r"""["']?TREE["']?\s*[:=]\s*\[""", text)
    if not match:
        return []
    raw = _bracketed(text, match.end() - 1)
    if raw is None:
        return []
    for candidate in (raw, _JS_KEY.sub(r'\1"\2":', raw.replace("'", '"'))):
        try:
            tree = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(tree, list):
            return [n for n in tree if isinstance(n, dict)]
    return [{"id": int(i), "name": n, "children": []} for i, n in _FLAT_NODE.findall(raw)]


def parse_sid(text: str) -> str | None:
    match = re.search(r"""SID["']?\s*[:=]\s*["']?(\d+)""", text)
    return match[1] if match else None


def gkmlpt_columns(text: str, index_url: str) -> list[ColumnLink]:
    """Leaf categories of the tree whose own name, or a parent's, names a kind (jump links skipped)."""
    out: list[ColumnLink] = []

    def walk(nodes: Iterable[dict[str, Any]], inherited: str | None) -> None:
        for node in nodes:
            if node.get("jump_url") or "id" not in node:
                continue
            name = str(node.get("name", ""))
            kind, maybe = kind_of_name(name)
            if NEVER.search(name):
                continue
            children = [c for c in node.get("children") or [] if isinstance(c, dict)]
            if children:
                walk(children, kind or inherited)
                continue
            if kind or inherited or maybe:
                out.append(ColumnLink(name, f"{index_url}#{node['id']}", kind or inherited, "gkmlpt tree"))

    walk(parse_tree(text), None)
    return out


# -- kind by titles ----------------------------------------------------------------------------------


def kind_from_titles(titles: Iterable[str], share: float = 0.6) -> tuple[str | None, Counter[str]]:
    """The column kind most of these list titles have (the product's classifier), with the tally."""
    tally: Counter[str] = Counter()
    for title in titles:
        if title:
            tally[KIND_OF_RECORD.get(classify(title), "other")] += 1
    total = sum(tally.values())
    if not total:
        return None, tally
    kind, count = tally.most_common(1)[0]
    return (kind if kind != "other" and count / total >= share else None), tally
