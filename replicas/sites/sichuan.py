"""Family B: the Sichuan ".shtml column" dialect (四川省医疗保障局).

Columns ``/scylbzj/<c + 6 digits>/list.shtml`` then ``list_2.shtml`` (page 2 is ``_2``, unlike TRS),
the ``createPageHTML('page_div', pages, current, 'list', 'shtml', records)`` pager, articles at
``/scylbzj/<col>/YYYY/M/D/<32 hex>.shtml`` without zero padding. Reply pages carry no metadata
table; policy pages show a ``发文日期`` line. Served as UTF-8 with no charset anywhere, and with
Last-Modified but no ETag.
"""

from __future__ import annotations

import hashlib
import re

from replicas.model import Attachment, Document

from .base import NOT_FOUND, Page, Req, Site, esc, page_count, pager_slice

CODES = {"jyta": "c108923", "zcwj": "c108921", "ghzj": "c108925"}
_LIST = re.compile(r"^/scylbzj/(?P<code>c\d{6})/(?:list(?:_(?P<page>\d+))?\.shtml)?$")


class SichuanSite(Site):
    family = "sichuan"
    charset_in_header = False
    declare_meta_charset = False
    etag_support = False
    robots_default = "forbidden"
    withdraw_default = "soft404"
    page_size = 15

    def column_path(self, key: str) -> str:
        return f"/scylbzj/{CODES[key]}/list.shtml"

    def doc_paths(self, doc: Document) -> dict[str, str]:
        d = doc.published_at
        hexid = hashlib.md5(f"sc-{doc.doc_id}".encode()).hexdigest()
        return {"main": f"/scylbzj/{CODES[doc.column]}/{d.year}/{d.month}/{d.day}/{hexid}.shtml"}

    def attachment_path(self, doc: Document, att: Attachment) -> str:
        return f"/scylbzj/uploadfiles/{doc.published_at:%Y%m}/{att.file_id}.{att.ext}"

    def route(self, req: Req) -> Page | None:
        match = _LIST.match(req.path)
        if not match:
            return None
        key = next((k for k, v in CODES.items() if v == match["code"]), None)
        if key is None:
            return None
        page = int(match["page"] or 1)
        if match["page"] in ("0", "1"):  # list_1.shtml (and list_0) do not exist on this dialect
            return Page(404, NOT_FOUND)
        docs = self.listed(key)
        chunk = pager_slice(docs, page - 1, self.page_size)
        if chunk is None:
            return Page(404, NOT_FOUND)
        if self.broken_layout:
            chunk = []
        _, stamp = self.list_validators(chunk)
        return Page(text=self.render_list(key, chunk, page, len(docs)), last_modified=stamp)

    def render_list(self, key: str, docs: list[Document], page: int, total: int) -> str:
        col = self.column(key)
        items = "\n".join(
            f'<li><a href="{self.primary_path(d)}" target="_blank" title="{esc(d.display_title)}">'
            f'{esc(d.display_title)}</a><span class="time">{d.published_at:%Y-%m-%d}</span></li>'
            for d in docs
        )
        pages = page_count(total, self.page_size)
        return f"""<!DOCTYPE html>
<html><head>
<title>{esc(col.name)} - {esc(self.bureau.name)}</title>
<meta name="ColumnName" content="{esc(col.name)}">
</head><body>
<div class="top">{self.today_bar()}</div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/scylbzj/zwgk/">政务公开</a> &gt; {esc(col.name)}</div>
<div class="list-content"><ul>
{items}
</ul></div>
<div id="page_div"></div>
<script>createPageHTML('page_div', {pages}, {page}, 'list', 'shtml', {total});</script>
<div class="foot">{esc(self.bureau.name)}版权所有</div>
</body></html>"""

    def render_detail(self, doc: Document, variant: str) -> str:
        col = self.column(doc.column)
        fwrq = f'<div class="fwrq">发文日期：{doc.generated_on}</div>' if doc.generated_on else ""
        files = "".join(
            f'<p><a href="{self.attachment_path(doc, a)}">{esc(a.name)}</a></p>' for a in doc.attachments
        )
        return f"""<!DOCTYPE html>
<html><head>
<title>{esc(doc.display_title)}</title>
{self.meta_tags(doc, col.name)}
</head><body>
<div class="top">{self.today_bar()}</div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/scylbzj/zwgk/">政务公开</a> &gt; <a href="{self.column_path(doc.column)}">{esc(col.name)}</a></div>
<div class="detail">
<h2 class="title">{esc(doc.display_title)}</h2>
<div class="info">发布时间：{doc.published_at:%Y-%m-%d %H:%M}　点击数：{doc.visits}</div>
{fwrq}
<div class="share">分享到： |</div>
<div id="cmsArticleContent" class="content">
{self.paragraphs(doc.blocks, indent="")}
</div>
<div class="fujian">{files}</div>
<div class="print"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div>
<div class="foot">{esc(self.bureau.name)}版权所有</div>
</body></html>"""
