"""Family D: Hanweb JCMS (大汉版通) with the jpage ``dataproxy.jsp`` (国家医疗保障局).

Columns ``/col/col<N>/index.html`` embed the first group of records (3 display pages of 15) in a
``<script type="text/xml"><datastore>`` island followed by ``$('#unit').jpage({totalRecord, perPage})``;
further windows come from ``/module/web/jpage/dataproxy.jsp?startrecord=s&endrecord=e&perpage=p``
(POST form or GET, 1-based inclusive windows) as XML with ``totalrecord``/``totalpage``. Like
nhsa.gov.cn, each window after the first starts with one look-ahead record: the previous window's
last row again. ``?uid=<unit>&pageNum=N`` serves static pages too. Articles
``/art/YYYY/M/D/art_<col>_<id>.html`` with a ``table.xxgk_table`` inside ``#zoom`` (older pages; newer ones
print their labels in shared lines, the newest ``名称/索引号/发文字号/发布日期`` bullets at year-only URLs
``/col/col<N>/art/YYYY/art_<32 hex>.html``, see ``HanwebSite.template``); attachments
``/module/download/downfile.jsp?classid=0&filename=<hex>.pdf`` → 302 ``/attach/0/<hex>.pdf``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from replicas.model import Attachment, Document

from .base import NOT_FOUND, Page, Req, Site, esc, page_count

COLUMNS = {"col104": (104, "356383"), "col109": (109, "356391"), "col110": (110, "356402")}
PER_PAGE = 15
GROUP = 3 * PER_PAGE
WEBNAME = "国家医疗保障局"
_COL = re.compile(r"^/col/(?P<col>col\d+)/(?:index\.html)?$")


def _file_hex(doc: Document, att: Attachment) -> str:
    return hashlib.md5(f"{doc.doc_id}-{att.file_id}".encode()).hexdigest()


class HanwebSite(Site):
    family = "hanweb"
    robots_default = "disallow"
    robots_disallow = ("/jcms/", "/module/visitcount/")
    lookahead_duplicate = True

    def column_path(self, key: str) -> str:
        return f"/col/{key}/index.html"

    @staticmethod
    def template(doc: Document) -> str:
        """The detail template a page was published with: like real portals, the site changed templates
        over the years. ``table``: the 信息公开 table inside ``#zoom`` (to 2023); ``lines``: label/value pairs
        sharing lines above the article (2024–2025); ``bullets``: the national bureau's 名称 / 索引号 /
        发文字号 / 发布日期 bullets, on the new platform with year-only URLs (2026 on)."""
        year = doc.published_at.year
        return "table" if year <= 2023 else ("lines" if year <= 2025 else "bullets")

    def doc_paths(self, doc: Document) -> dict[str, str]:
        d = doc.published_at
        col = COLUMNS[doc.column][0]
        if self.template(doc) == "bullets":  # newer Hanweb platform: /col/colN/art/YYYY/art_<32 hex>.html
            return {"main": f"/col/col{col}/art/{d.year}/art_{hashlib.md5(f'art-{doc.doc_id}'.encode()).hexdigest()}.html"}
        return {"main": f"/art/{d.year}/{d.month}/{d.day}/art_{col}_{doc.doc_id}.html"}

    def attachment_path(self, doc: Document, att: Attachment) -> str:
        return f"/attach/0/{_file_hex(doc, att)}.{att.ext}"

    def page_truth(self, doc: Document, variant: str) -> dict[str, Any]:
        truth = super().page_truth(doc, variant)
        truth["validity"] = None  # no template of this family shows 有效性
        if self.template(doc) == "bullets":  # 名称 / 索引号 / 发文字号 / 发布日期: no 成文日期
            truth["generated_on"] = None
        return truth

    def page_conventions(self, doc: Document, variant: str) -> list[str]:
        template = self.template(doc)
        if template == "lines":
            return ["meta_shared_line"]
        if template == "bullets":
            return ["meta_bullets", "url_art_year"]
        return []

    def download_link(self, doc: Document, att: Attachment) -> str:
        return f"/module/download/downfile.jsp?classid=0&filename={_file_hex(doc, att)}.{att.ext}"

    def route(self, req: Req) -> Page | None:
        match = _COL.match(req.path)
        if match and match["col"] in COLUMNS:
            return self.column_page(match["col"], req.query)
        if req.path in ("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp"):
            return self.dataproxy({**req.query, **req.form})
        if req.path == "/module/download/downfile.jsp":
            target = "/attach/0/" + req.query.get("filename", "")
            if target in self.files:
                return Page(302, "", headers={"Location": target})
            return Page(404, NOT_FOUND)
        return None

    def record(self, doc: Document) -> str:
        title = doc.display_title
        shown = title if len(title) <= 30 else title[:28] + "..."
        return (
            f"<li><a href='{self.primary_path(doc)}' title='{esc(title)}' target=\"_blank\">{esc(shown)}</a>"
            f"<span class=\"time\">{doc.published_at:%Y-%m-%d}</span></li>"
        )

    def nextgroup(self, key: str, page: int) -> str:
        col, unit = COLUMNS[key]
        webname = quote(quote(WEBNAME))  # double-encoded, as the real pages print it
        return (
            f'<a href="/module/web/jpage/dataproxy.jsp?page={page}&appid=1&webid=1&path=/&columnid={col}'
            f'&unitid={unit}&webname={webname}&permissiontype=0"></a>'
        )

    def column_page(self, key: str, query: dict[str, str]) -> Page:
        col, unit = COLUMNS[key]
        docs = [] if self.broken_layout else self.listed(key)
        try:
            page_num = max(1, int(query.get("pageNum", "1")))
        except ValueError:
            page_num = 1
        chunk = docs[(page_num - 1) * PER_PAGE : page_num * PER_PAGE] if "pageNum" in query else docs[:GROUP]
        records = "\n".join(f"<record><![CDATA[{self.record(d)}]]></record>" for d in chunk)
        etag, stamp = self.list_validators(chunk)
        name = self.column(key).name
        html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(name)}-{WEBNAME}</title>
<meta name="Generator" content="大汉版通"><meta name="Author" content="大汉网络">
<meta name="ColumnName" content="{esc(name)}">
<script src="/module/jslib/jquery/jquery.js"></script><script src="/script/pagecontrol.js"></script></head>
<body><div class="top">{self.today_bar()}</div>
<div class="path">当前位置：<a href="/">首页</a> &gt; <a href="/col/col100/index.html">政务公开</a> &gt; {esc(name)}</div>
<div class="list">
<div id="{unit}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[{self.nextgroup(key, 1)}]]></nextgroup>
<recordset>
{records}
</recordset>
</datastore></script></div>
<script>var param_{unit} = {{col:1, webid:1, path:'/', columnid:{col}, sourceContentType:1, unitid:'{unit}', webname:'{WEBNAME}', permissiontype:0}};
$('#{unit}').jpage({{ dataStore: null, totalRecord: {len(docs)}, perPage: {PER_PAGE}, groupSize: 3, proxyUrl: '/module/web/jpage/dataproxy.jsp' }});</script>
</div>
<iframe src="/module/visitcount/visit.jsp?type=1&i_webid=1&i_columnid={col}" style="display:none"></iframe>
<a href="http://www.hanweb.com" style="display:none">Produced By 大汉网络 大汉版通发布系统</a>
</body></html>"""
        return Page(text=html, etag=etag, last_modified=stamp)

    def dataproxy(self, params: dict[str, str]) -> Page:
        key = next((k for k, (col, _) in COLUMNS.items() if str(col) == params.get("columnid")), None)
        if key is None:
            return Page(text='<?xml version="1.0" encoding="UTF-8"?><datastore></datastore>',
                        content_type="text/xml")
        docs = [] if self.broken_layout else self.listed(key)
        try:
            per = max(1, int(params.get("perpage", PER_PAGE)))
            if "startrecord" in params:
                start, end = int(params["startrecord"]), int(params.get("endrecord", params["startrecord"]))
            else:
                page = max(1, int(params.get("page", "1")))
                start, end = (page - 1) * GROUP + 1, page * GROUP
        except ValueError:
            return Page(400, "bad window", content_type="text/plain")
        first = start - 1 if (self.lookahead_duplicate and start > 1) else start
        chunk = docs[max(0, first - 1) : max(0, end)]
        records = "\n".join(f"<record><![CDATA[{self.record(d)}]]></record>" for d in chunk)
        next_page = end // GROUP + 1
        xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<datastore>
<nextgroup><![CDATA[{self.nextgroup(key, next_page)}]]></nextgroup>
<recordset>
{records}
</recordset>
<totalrecord>{len(docs)}</totalrecord>
<totalpage>{page_count(len(docs), per)}</totalpage>
</datastore>"""
        etag, stamp = self.list_validators(chunk)
        return Page(text=xml, content_type="text/xml", etag=etag, last_modified=stamp)

    def metadata_html(self, doc: Document) -> tuple[str, str]:
        """(the metadata above the article, the metadata inside ``#zoom``) for the page's template."""
        template = self.template(doc)
        if template == "lines":  # labels share a line (one text node), padded with ideographic spaces
            lines = (
                f"索\u3000引\u3000号：{doc.index_no or ''}\u3000\u3000发文字号：{doc.doc_no_raw or ''}"
                "\u3000\u3000主题分类：医疗保障",
                f"发文机关：{doc.bureau} | 成文日期：{doc.generated_on or ''} | 发布日期：{doc.published_on}",
            )
            return '<div class="xxgk-info">' + "".join(f"<p>{esc(line)}</p>" for line in lines) + "</div>", ""
        if template == "bullets":
            items = (("名称", doc.display_title), ("索引号", doc.index_no or ""), ("发文字号", doc.doc_no_raw or ""),
                     ("发布日期", doc.published_on))
            bullets = "".join(f"<li>• {label}：{esc(value)}</li>" for label, value in items)
            return f'<ul class="gk-list">{bullets}</ul>', ""
        meta = (
            ("索引号", doc.index_no or "", "主题分类", "医疗保障"),
            ("发文机关", doc.bureau, "成文日期", doc.generated_on or ""),
            ("发文字号", doc.doc_no_raw or "", "发布日期", doc.published_on),
        )
        table = "".join(
            f"<tr><th>{a}：</th><td>{esc(b)}</td><th>{c}：</th><td>{esc(d)}</td></tr>" for a, b, c, d in meta
        )
        return "", f'<table class="xxgk_table">{table}</table>'

    def render_detail(self, doc: Document, variant: str) -> str:
        name = self.column(doc.column).name
        above, inside = self.metadata_html(doc)
        files = "".join(
            f'<p><a href="{self.download_link(doc, a)}" target="_blank">{esc(a.name)}</a></p>' for a in doc.attachments
        )
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(doc.display_title)}</title>
<meta name="Generator" content="大汉版通"><meta name="Author" content="大汉网络">
{self.meta_tags(doc, name)}
</head>
<body><div class="top">{self.today_bar()}</div>
<div class="path">当前位置：<a href="/">首页</a> &gt; <a href="/col/{doc.column}/index.html">{esc(name)}</a></div>
<div class="article">
{above}
<div class="atitle">{esc(doc.display_title)}</div>
<div class="ainfo">发布时间：{doc.published_at:%Y-%m-%d %H:%M}　来源：{WEBNAME}　浏览次数：{doc.visits}　【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div id="zoom">
{inside}
{self.paragraphs(doc.blocks)}
{files}
</div>
<div class="aprint"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
<a href="http://www.hanweb.com" style="display:none">Produced By 大汉网络 大汉版通发布系统</a>
</body></html>"""
