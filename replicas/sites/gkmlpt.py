"""Family C: Guangdong NFCMS column site + the gkmlpt 政府信息公开目录 (中山市医疗保障局).

Two layers on one host, so every document is reachable at two URLs (three with the mobile twin):
- NFCMS columns ``/ybj/<path>/index.html``, ``index_2.html`` (page 2 is ``_2``); articles
  ``/ybj/<path>/content/post_<id>.html`` and ``mpost_<id>.html``; no metadata table, the title
  tagged 【建议提案】 for replies;
- gkmlpt: the SPA ``/ybj/gkmlpt/index`` with ``window._CONFIG = {SID, TREE}``, the JSON list API
  ``/ybj/gkmlpt/api/all/<classify>?page=N&sid=…`` (100 a page, ``page=0`` ≡ ``page=1``, ``total`` lower
  than ``post_count``), details ``/ybj/gkmlpt/content/<id//10^6>/<id//10^3>/post_<id>.html`` with an
  8-label metadata table and the body again escaped inside ``_CONFIG.DETAIL``.
HTTP only; attachments at ``/ybj/attachment/<a>/<b>/<c>/<id>.pdf``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from replicas.model import Attachment, Document

from .base import NOT_FOUND, Page, Req, Site, esc, page_count, pager_slice

SID = "760045"
COLUMN_PATHS = {"qtwj": "/ybj/zwgk/zcwj/qtwj/", "gfxwj": "/ybj/zwgk/zcwj/gfxwj/", "ghzj": "/ybj/zwgk/ghjh/"}
BREADCRUMBS = {"qtwj": ("政策文件", "其它文件"), "gfxwj": ("政策文件", "规范性文件"), "ghzj": ("规划计划",)}
CLASSIFY = {3001: "人大建议", 3002: "政协提案", 3003: "规范性文件", 3004: "其他文件", 3005: "规划计划"}
TREE = [
    {"id": 3000, "name": "建议提案办理", "jump_url": "", "children": [
        {"id": 3001, "name": "人大建议", "jump_url": "", "children": []},
        {"id": 3002, "name": "政协提案", "jump_url": "", "children": []},
    ]},
    {"id": 3010, "name": "政策文件", "jump_url": "", "children": [
        {"id": 3003, "name": "规范性文件", "jump_url": "", "children": []},
        {"id": 3004, "name": "其他文件", "jump_url": "", "children": []},
    ]},
    {"id": 3005, "name": "规划计划", "jump_url": "", "children": []},
    {"id": 3099, "name": "政府信息公开指南", "jump_url": "http://www.zs.gov.cn/zwgk/xxgkzn/", "children": []},
]
_COLUMN_LIST = re.compile(r"^(?P<base>/ybj/(?:zwgk/zcwj/\w+|zwgk/ghjh)/)(?:index(?:_(?P<page>\d+))?\.html)?$")
_API = re.compile(r"^/ybj/gkmlpt/api/all/(?P<cid>\d+)$")
API_PAGE = 100


def classify_of(doc: Document) -> int:
    if doc.kind == "suggestion_reply":
        return 3001
    if doc.kind == "proposal_reply":
        return 3002
    if doc.column == "ghzj":
        return 3005
    return 3003 if doc.doc_no else 3004


class GkmlptSite(Site):
    family = "gkmlpt"
    robots_default = "allow"

    def column_path(self, key: str) -> str:
        return COLUMN_PATHS[key] + "index.html"

    def doc_paths(self, doc: Document) -> dict[str, str]:
        i = doc.doc_id
        base = COLUMN_PATHS[doc.column]
        return {
            "gkmlpt": f"/ybj/gkmlpt/content/{i // 1_000_000}/{i // 1_000}/post_{i}.html",
            "nfcms": f"{base}content/post_{i}.html",
            "mobile": f"{base}content/mpost_{i}.html",
        }

    def attachment_path(self, doc: Document, att: Attachment) -> str:
        c = att.file_id
        return f"/ybj/attachment/{c // 1_000_000}/{c // 1_000}/{c}/{c}.{att.ext}"

    def page_truth(self, doc: Document, variant: str) -> dict[str, Any]:
        truth = super().page_truth(doc, variant)
        if variant != "gkmlpt":  # the NFCMS pages show no 信息公开 metadata
            truth.update(index_no=None, validity=None, generated_on=None, theme=None)
            if doc.kind in ("suggestion_reply", "proposal_reply"):
                truth.update(doc_no=None, doc_no_raw=None)
        else:  # the platform always fills 成文日期, with the publication date when none was written
            truth["generated_on"] = doc.generated_on or doc.published_on
            # and always says is_expired / is_abolished: both 0 reads 有效
            truth["validity"] = doc.validity or "有效"
        return truth

    # -- routes --------------------------------------------------------------------------------

    def route(self, req: Req) -> Page | None:
        if req.path in ("/ybj/gkmlpt/index", "/ybj/gkmlpt/"):
            return Page(text=self.gkmlpt_index())
        api = _API.match(req.path)
        if api:
            return self.api(int(api["cid"]), req.query, req.headers.get("host", "127.0.0.1"))
        match = _COLUMN_LIST.match(req.path)
        if match:
            key = next((k for k, v in COLUMN_PATHS.items() if v == match["base"]), None)
            if key is not None and match["page"] not in ("0", "1"):  # page 2 is index_2; no _0, _1
                return self.column_list(key, int(match["page"] or 1))
        return None

    def column_list(self, key: str, page: int) -> Page:
        docs = self.listed(key)
        chunk = pager_slice(docs, page - 1, self.page_size)
        if chunk is None:
            return Page(404, NOT_FOUND)
        if self.broken_layout:
            chunk = []
        etag, stamp = self.list_validators(chunk)
        return Page(text=self.render_list(key, chunk, page, page_count(len(docs), self.page_size)),
                    etag=etag, last_modified=stamp)

    def classified(self, cid: int) -> list[Document]:
        docs = [d for key in self.doc_ids for d in self.listed(key)]
        if cid == 3000:
            docs = [d for d in docs if classify_of(d) in (3001, 3002)]
        elif cid == 3010:
            docs = [d for d in docs if classify_of(d) in (3003, 3004)]
        elif cid != 0:
            docs = [d for d in docs if classify_of(d) == cid]
        return sorted(docs, key=lambda d: (d.published_at, d.doc_id), reverse=True)

    def api(self, cid: int, query: dict[str, str], host: str) -> Page:
        if query.get("sid", SID) != SID:
            return Page(text=json.dumps({"classify": None, "total": 0, "articles": []}), content_type="application/json")
        if cid not in CLASSIFY and cid not in (0, 3000, 3010):
            return Page(404, NOT_FOUND)
        try:
            page = max(1, int(query.get("page", "1") or 1))  # page=0 and page=1 are the same batch
        except ValueError:
            page = 1
        docs = [] if self.broken_layout else self.classified(cid)
        jumps = 1 if cid in (0, 3001) else 0  # the jump item takes one of page 1's 100 slots
        chunk = docs[max(0, (page - 1) * API_PAGE - jumps) : page * API_PAGE - jumps]
        articles = [self.article_json(d, host) for d in chunk]
        if page == 1 and jumps:
            articles.insert(0, {"id": 9000001, "type": "url", "title": "中山市人大代表建议办理工作专题",
                                "url": "http://www.zs.gov.cn/zt/rdjy/", "post_url": ""})
        body = {
            "classify": {"id": cid, "name": CLASSIFY.get(cid, "全部"), "post_count": len(docs) + 1, "jump_url": ""},
            "total": len(docs),
            "offset": (page - 1) * API_PAGE,
            "articles": articles,
        }
        etag, stamp = self.list_validators(chunk)
        return Page(text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                    etag=etag, last_modified=stamp)

    def article_json(self, doc: Document, host: str) -> dict[str, Any]:
        paths = self.doc_paths(doc)
        stamp = int(doc.published_at.timestamp())
        written = doc.generated_on or doc.published_on
        return {
            "id": doc.doc_id,
            "type": "normal",
            "title": doc.display_title,
            "url": f"//{host}" + paths["gkmlpt"],
            "post_url": f"http://{host}" + paths["nfcms"],
            "classify_main": classify_of(doc),
            "classify_main_name": CLASSIFY[classify_of(doc)],
            "identifier": doc.index_no or "",
            "document_number": doc.doc_no_raw or "",
            "publisher": doc.bureau,
            "date": int(datetime.fromisoformat(written).timestamp()),
            "create_time": stamp,
            "display_publish_time": stamp,
            "created_at": f"{doc.published_at:%Y-%m-%d %H:%M:%S}",
            "is_expired": 1 if doc.validity == "失效" else 0,
            "is_abolished": 1 if doc.validity == "废止" else 0,
            "attachment": [
                {"id": a.file_id, "name": a.name, "type": "pdf", "mime": "application/pdf",
                 "size": str(len(a.data)), "url": f"http://{host}" + self.attachment_path(doc, a)}
                for a in doc.attachments
            ],
            "relation": "[]",
        }

    # -- pages -----------------------------------------------------------------------------------

    def gkmlpt_index(self) -> str:
        config = json.dumps({"SID": SID, "TREE": TREE, "SERVICE_AREA_ID": 442000}, ensure_ascii=False)
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开目录-{esc(self.bureau.name)}</title>
<script>window._CONFIG = {config};</script></head>
<body><div id="app"></div><script src="/ybj/gkmlpt/static/js/app.js"></script></body></html>"""

    def crumb(self, key: str) -> str:
        parts = ["<a href=\"/ybj/\">首页</a>", "<a href=\"/ybj/zwgk/\">政务公开</a>"]
        parts += [f"<a href=\"{self.column_path(key)}\">{esc(p)}</a>" for p in BREADCRUMBS[key]]
        return "当前位置：" + "&nbsp;>&nbsp;".join(parts)

    def render_list(self, key: str, docs: list[Document], page: int, pages: int) -> str:
        items = "\n".join(
            f'<li><a href="{self.doc_paths(d)["nfcms"]}" target="_blank">{esc(d.display_title)}</a>'
            f"<span>{d.published_at:%Y-%m-%d}</span></li>"
            for d in docs
        )
        links = " ".join(
            f'<a href="{"index.html" if n == 1 else f"index_{n}.html"}">{n}</a>' if n != page else f"<b>{n}</b>"
            for n in range(1, pages + 1)
        )
        nxt = f'<a class="next" href="index_{page + 1}.html">下一页</a>' if page < pages else ""
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(BREADCRUMBS[key][-1])}-{esc(self.bureau.name)}</title></head>
<body><div class="top">{self.today_bar()}</div>
<div class="crumb">{self.crumb(key)}</div>
<div class="list_con"><ul class="news_list">
{items}
</ul></div>
<div class="pagination">{links} {nxt} <span>共{pages}页</span></div>
</body></html>"""

    def render_detail(self, doc: Document, variant: str) -> str:
        return self.render_gkmlpt(doc) if variant == "gkmlpt" else self.render_nfcms(doc, variant)

    def render_nfcms(self, doc: Document, variant: str) -> str:
        files = "".join(
            f'<p><a class="nfw-cms-attachment" href="{self.attachment_path(doc, a)}">{esc(a.name)}</a></p>'
            for a in doc.attachments
        )
        related = self.related(doc, lambda d: self.doc_paths(d)["nfcms"])
        mobile = ' class="mobile"' if variant == "mobile" else ""
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, BREADCRUMBS[doc.column][-1], extra=f'<meta name="ArticleId" content="{doc.doc_id}">')}
<script>var NFCMS_SITE_ID = "{SID}"; var NFCMS_POST_ID = "{doc.doc_id}";</script></head>
<body{mobile}><div class="top">{self.today_bar()}</div>
<div class="crumb">{self.crumb(doc.column)}</div>
<div class="article">
<h1 class="article-title">{esc(doc.display_title)}</h1>
<div class="article-attr"><span>信息来源：本网</span> <span>发布日期：{doc.published_on}</span> <span>浏览量：{doc.visits}</span> <span class="share">分享：</span></div>
<div class="article-content" wzades="正文">
{self.paragraphs(doc.blocks)}
</div>
<div class="article-attachment">{files}</div>
<div class="related"><h4>相关文章</h4><ul>{related}</ul></div>
</div></body></html>"""

    def render_gkmlpt(self, doc: Document) -> str:
        rows = (
            ("索引号：", doc.index_no or "", "分类：", CLASSIFY[classify_of(doc)]),
            ("发布机构：", doc.bureau, "成文日期：", doc.generated_on or doc.published_on),
            ("名称：", doc.display_title, None, None),
            ("文号：", doc.doc_no_raw or "", "发布日期：", doc.published_on),
            ("主题词：", doc.theme or "", None, None),
        )
        table = "".join(
            f"<tr><td class=\"first\">{a}</td><td>{esc(b)}</td>"
            + (f"<td class=\"first\">{c}</td><td>{esc(d or '')}</td>" if c else "<td colspan=\"2\"></td>")
            + "</tr>"
            for a, b, c, d in rows
        )
        content = self.paragraphs(doc.blocks)
        detail = {
            "id": doc.doc_id, "title": doc.display_title, "abstract": "", "content": content,
            "is_abolished": 1 if doc.validity == "废止" else 0, "is_expired": 1 if doc.validity == "失效" else 0,
            "identifier": doc.index_no or "", "document_number": doc.doc_no_raw or "",
        }
        # as the real platform does: <, >, &, " inside the JSON string escaped as \\u003C etc.
        detail_json = json.dumps(detail, ensure_ascii=False)
        for char, code in (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026")):
            detail_json = detail_json.replace(char, code)
        files = "".join(
            f'<p><a href="{self.attachment_path(doc, a)}">{esc(a.name)}</a></p>' for a in doc.attachments
        )
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, CLASSIFY[classify_of(doc)])}
<script>window._CONFIG = {{SID: '{SID}', DETAIL: {detail_json}, TREE: {json.dumps(TREE, ensure_ascii=False)}}};</script></head>
<body><div class="top">{self.today_bar()}</div>
<div class="content-box">
<table class="classify">{table}</table>
<h1 class="title">{esc(doc.display_title)}</h1>
<div class="article-content">
{content}
</div>
<div class="attachment">{files}</div>
<div class="visits">浏览次数：{doc.visits}</div>
</div></body></html>"""
