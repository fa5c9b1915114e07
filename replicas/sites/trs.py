"""Family A: TRS WCM static publishing, Fujian 集约化 dialect (厦门 and 宁德).

Shared by both bureaus: columns at ``/zwgk/<col>/`` with ``index.htm`` then ``index_1.htm`` (page
2 is ``_1``), the ``createPageHTML(pages, current, "index", "htm")`` pager, articles at
``<col>/YYYYMM/tYYYYMMDD_<id>.htm`` and attachments ``P0<YYYYMMDD><digits>.pdf`` beside them. The
two bureaus render visibly different templates (grid metadata vs bulleted metadata, different
class names, different list markup), as the real portals do.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from replicas.model import Attachment, Document

from .base import NOT_FOUND, Page, Req, Site, esc, page_count, pager_slice

_LIST = re.compile(r"^/zwgk/(?P<col>\w+)/(?:index(?:_(?P<page>\d+))?\.htm)?$")


class TrsSite(Site):
    family = "trs"
    stub_beyond_last = False  # deep index_N pages: 404, or a 300-byte stub page (knob)
    # share of list entries that link the mobile copy ``…_wap.htm`` instead of the desktop page (knob;
    # the spiders list such a link as its desktop page: one document, one fetch)
    wap_links = 0.0
    declared_charset = "utf-8"

    def column_path(self, key: str) -> str:
        return f"/zwgk/{key}/"

    def doc_paths(self, doc: Document) -> dict[str, str]:
        """The desktop page and its mobile copy (``…_wap.htm``; Chongqing: ``….html`` and ``…_wap.html``)."""
        d = doc.published_at
        stem = f"/zwgk/{doc.column}/{d:%Y%m}/t{d:%Y%m%d}_{doc.doc_id}"
        return {"main": f"{stem}.htm", "mobile": f"{stem}_wap.htm"}  # same extension as the desktop page

    def page_truth(self, doc: Document, variant: str) -> dict[str, Any]:
        truth = super().page_truth(doc, variant)
        if variant == "mobile":  # the mobile copy shows no 信息公开 metadata, only what the text carries
            truth.update(index_no=None, validity=None, generated_on=None, theme=None)
            if not doc.doc_no_raw or doc.doc_no_raw not in doc.body_text:
                truth.update(doc_no=None, doc_no_raw=None)
        return truth

    def page_conventions(self, doc: Document, variant: str) -> list[str]:
        return ["url_wap_copy"] if variant == "mobile" else []

    def render_detail(self, doc: Document, variant: str) -> str:
        return self.render_mobile(doc) if variant == "mobile" else self.render_desktop(doc)

    def render_mobile(self, doc: Document) -> str:
        files = "".join(f'<li><a href="{esc(self.attachment_path(doc, a))}">{esc(a.name)}</a></li>' for a in doc.attachments)
        return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={self.declared_charset}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, self.column(doc.column).name)}
</head>
<body class="wap">
<header class="m-head"><a href="javascript:history.back()">返回</a><span>{esc(self.bureau.name)}</span></header>
<article class="m-article">
<h1>{esc(doc.display_title)}</h1>
<p class="m-info">{doc.published_at:%Y-%m-%d %H:%M}　{esc(self.bureau.name)}</p>
<section class="m-content">
{self.paragraphs(doc.blocks, indent="")}
</section>
<ul class="m-files">{files}</ul>
</article>
<footer class="m-foot"><a href="{self.primary_path(doc)}">电脑版</a></footer>
</body></html>"""

    def render_desktop(self, doc: Document) -> str:
        raise NotImplementedError

    def list_href(self, doc: Document) -> str:
        """The link a list page prints: the desktop page, or (``wap_links``) its mobile copy."""
        if self.wap_links and (doc.doc_id % 100) < self.wap_links * 100:
            d = doc.published_at
            return f"./{d:%Y%m}/t{d:%Y%m%d}_{doc.doc_id}_wap.htm"
        return self.href(doc)

    def attachment_path(self, doc: Document, att: Attachment) -> str:
        d = doc.published_at
        return f"/zwgk/{doc.column}/{d:%Y%m}/P0{d:%Y%m%d}{att.file_id:012d}.{att.ext}"

    def route(self, req: Req) -> Page | None:
        match = _LIST.match(req.path)
        if match and match["col"] in self.doc_ids and match["page"] != "0":  # page 1 is index.htm only
            return self.list_page(match["col"], int(match["page"] or 0))
        return None

    def list_page(self, key: str, page: int) -> Page:
        docs = self.listed(key)
        chunk = pager_slice(docs, page, self.page_size)
        if chunk is None:
            if self.stub_beyond_last:
                return Page(text='<html><head><meta charset="utf-8"></head><body><div class="list"></div></body></html>',
                            encode_as="utf-8")
            return Page(404, NOT_FOUND)
        if self.broken_layout:
            chunk = []
        etag, stamp = self.list_validators(chunk)
        pages = page_count(len(docs), self.page_size)
        return Page(text=self.render_list(key, chunk, page, pages), etag=etag, last_modified=stamp)

    def href(self, doc: Document) -> str:
        """Relative link as TRS list pages print it: ``./202505/t20250507_2934567.htm``."""
        d = doc.published_at
        return f"./{d:%Y%m}/t{d:%Y%m%d}_{doc.doc_id}.htm"

    def abs_href(self, doc: Document) -> str:
        return self.primary_path(doc)

    def pager(self, pages: int, page: int) -> str:
        return f'<script>createPageHTML({pages}, {page}, "index", "htm");</script>'

    def attachment_links(self, doc: Document) -> str:
        return "".join(
            f'<a href="./P0{doc.published_at:%Y%m%d}{a.file_id:012d}.{a.ext}">{esc(a.name)}</a><br>'
            for a in doc.attachments
        )

    def render_list(self, key: str, docs: list[Document], page: int, pages: int) -> str:
        raise NotImplementedError


class XiamenSite(TrsSite):
    """厦门: grid metadata table above the title, ``.gl_list1`` lists, a JSON search API."""

    robots_default = "disallow"
    robots_disallow = ("/wcm/", "/ssp/search/admin/")
    channel_ids: ClassVar[dict[str, int]] = {"jytabl": 10541, "zcwj": 10542, "ghzj": 10543}
    site_id = "8e2f5a3b9c1d4e6f8a7b6c5d4e3f2a1b"

    def route(self, req: Req) -> Page | None:
        if req.path == "/ssp/search/api/apiSearch":
            return self.api_search(req.query)
        return super().route(req)

    def api_search(self, query: dict[str, str]) -> Page:
        """``/ssp/search/api/apiSearch?siteId=…&chnlIdList=…&page=N&rows=M`` (sorted by -pubdate)."""
        wanted = {c for c in query.get("chnlIdList", "").split(",") if c}
        keys = [k for k, v in self.channel_ids.items() if not wanted or str(v) in wanted]
        docs = sorted(
            (d for k in keys for d in self.listed(k)), key=lambda d: (d.published_at, d.doc_id), reverse=True
        )
        try:
            page = max(1, int(query.get("page", "1")))
            rows = min(100, max(1, int(query.get("rows") or query.get("datas") or 20)))
        except ValueError:
            return Page(400, json.dumps({"code": 400, "msg": "参数错误"}), content_type="application/json")
        chunk = docs[(page - 1) * rows : page * rows]
        datas = [
            {
                "doctitle": d.display_title,
                "docpuburl": self.primary_path(d),
                "puborg": d.bureau,
                "pubdate": f"{d.published_at:%Y-%m-%d %H:%M:%S}",
                "docreltime": f"{d.published_at:%Y-%m-%d %H:%M:%S}",
                "chnlname": self.column(d.column).name,
                "fileno": d.doc_no_raw or "",
                "idxid": d.index_no or "",
            }
            for d in chunk
        ]
        body = {"code": 200, "total": len(docs), "page": page, "rows": rows, "datas": datas}
        etag, stamp = self.list_validators(chunk)
        return Page(text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                    etag=etag, last_modified=stamp)

    def render_list(self, key: str, docs: list[Document], page: int, pages: int) -> str:
        col = self.column(key)
        items = "\n".join(
            f'<li><a href="{self.list_href(d)}" target="_blank" title="{esc(d.display_title)}">'
            f"{esc(d.display_title)}</a><span>{d.published_at:%Y-%m-%d}</span></li>"
            for d in docs
        )
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(col.name)}-{esc(self.bureau.name)}</title>
<meta name="ColumnName" content="{esc(col.name)}"><meta name="SiteName" content="{esc(self.bureau.name)}">
<script src="/js/common.js"></script></head>
<body>
<div class="header">{self.today_bar()}<div class="logo">{esc(self.bureau.name)}</div></div>
<div class="position">当前位置：<a href="/">首页</a>&nbsp;>&nbsp;<a href="/zwgk/">政务公开</a>&nbsp;>&nbsp;<span>{esc(col.name)}</span></div>
<div class="gl_main"><div class="gl_title">{esc(col.name)}</div>
<ul class="gl_list1">
{items}
</ul>
<div class="page">{self.pager(pages, page)}</div></div>
<div class="footer">主办：{esc(self.bureau.name)}　闽ICP备05004812号</div>
</body></html>"""

    def render_desktop(self, doc: Document) -> str:
        col = self.column(doc.column)
        rows = [
            ("索 引 号", doc.index_no or "", "主题分类", doc.theme or ""),
            ("发布机构", doc.bureau, "文 号", doc.doc_no_raw or ""),
        ]
        grid = "".join(f"<tr><th>{a}</th><td>{esc(b)}</td><th>{c}</th><td>{esc(d)}</td></tr>" for a, b, c, d in rows)
        grid += f'<tr><th>生成日期</th><td colspan="3">{doc.generated_on or ""}</td></tr>'
        grid += f'<tr><th>标 题</th><td colspan="3">{esc(doc.display_title)}</td></tr>'
        grid += f'<tr><th>有效性</th><td colspan="3">{esc(doc.validity or "")}</td></tr>'
        related = self.related(doc, self.abs_href)
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, col.name, pubdate=False)}
</head>
<body>
<div class="header">{self.today_bar()}<div class="logo">{esc(self.bureau.name)}</div></div>
<div class="position">当前位置：<a href="/">首页</a>&nbsp;>&nbsp;<a href="/zwgk/">政务公开</a>&nbsp;>&nbsp;<a href="../">{esc(col.name)}</a></div>
<div class="xxgk_head"><table class="xxgk_table">{grid}</table></div>
<div class="article">
<h1 class="article_title">{esc(doc.display_title)}</h1>
<div class="article_info">发布时间：{doc.published_at:%Y-%m-%d %H:%M}　浏览次数：<span class="visits">{doc.visits}</span>　字号：<a href="javascript:void(0)">大</a> <a href="javascript:void(0)">中</a> <a href="javascript:void(0)">小</a>　分享：</div>
<div class="TRS_Editor"><div class="Custom_UnionStyle">
{self.paragraphs(doc.blocks)}
</div></div>
<div class="fj">附件：{self.attachment_links(doc)}</div>
<div class="ewm">扫一扫在手机上查看当前页面</div>
<div class="dy"><a href="javascript:window.print()">[打印]</a> <a href="javascript:window.close()">[关闭]</a></div>
<div class="xgwz"><h3>相关文章</h3><ul>{related}</ul></div>
</div>
<div class="footer">主办：{esc(self.bureau.name)}　网站标识码：3502000053</div>
</body></html>"""


class NingdeSite(TrsSite):
    """宁德: GBK pages (charset only in ``<meta>``), bulleted metadata with EN/EM-space padding."""

    encoding = "gbk"
    declared_charset = "gb2312"
    charset_in_header = False
    robots_default = "missing"
    withdraw_default = "soft404"
    stub_beyond_last = True
    wap_links = 0.1  # a tenth of the list links point at the mobile copy (…_wap.htm), as on real TRS sites
    page_size = 15

    def render_list(self, key: str, docs: list[Document], page: int, pages: int) -> str:
        col = self.column(key)
        items = "\n".join(
            f'<li><span class="date">[{d.published_at:%Y-%m-%d}]</span>'
            f'<a href="{self.list_href(d)}" title="{esc(d.display_title)}" target="_blank">{esc(d.display_title)}</a></li>'
            for d in docs
        )
        return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={self.declared_charset}">
<title>{esc(col.name)}</title>
</head>
<body>
<div id="top">{self.today_bar()}</div>
<div class="nav-path">您现在的位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; {esc(col.name)}</div>
<div class="list_box">
<div class="list_tit"><h2>{esc(col.name)}</h2></div>
<ul class="list">
{items}
</ul>
<div id="page_div" class="fy">{self.pager(pages, page)}</div>
</div>
<div id="footer">版权所有：{esc(self.bureau.name)}</div>
</body>
</html>"""

    def render_desktop(self, doc: Document) -> str:
        col = self.column(doc.column)
        labels = (
            ("索\u2002引\u2002号", doc.index_no or ""),
            ("发文字号", doc.doc_no_raw or ""),
            ("发布机构", doc.bureau),
            ("生成日期", doc.generated_on or ""),
            ("标\u2003\u2003题", doc.display_title),
            ("有\u2002效\u2002性", doc.validity or ""),
        )
        bullets = "\n".join(f"<li>• <em>{label}：</em><span>{esc(value)}</span></li>" for label, value in labels)
        wh = f'<p class="wh">{esc(doc.doc_no_raw)}</p>' if doc.doc_no_raw else ""
        related = self.related(doc, self.abs_href)
        return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={self.declared_charset}">
<title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, col.name)}
</head>
<body>
<div id="top">{self.today_bar()}</div>
<div class="nav-path">您现在的位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="../">{esc(col.name)}</a></div>
<div class="xxgk_box"><ul class="xxgk-list">
{bullets}
</ul></div>
<div class="detail-title"><h2>{esc(doc.display_title)}</h2>{wh}</div>
<div class="detail-info">发布时间：{doc.published_at:%Y-%m-%d %H:%M}　来源：{esc(self.bureau.name)}　访问量：{doc.visits}</div>
<div id="detailCont" class="detail-cont">
{self.paragraphs(doc.blocks)}
</div>
<div class="detail-fj">{self.attachment_links(doc)}</div>
<div class="ewm"><img src="/images/qr.png" alt=""><p>扫一扫在手机上查看当前页面</p></div>
<div class="xgwz"><div class="xgwz-tit">相关文章</div><ul>{related}</ul></div>
<div id="footer">版权所有：{esc(self.bureau.name)}</div>
</body>
</html>"""
