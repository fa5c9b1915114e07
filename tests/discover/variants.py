"""Two portal templates no spider, replica or test has seen, serving replica documents on a local site.

- ``trs_redesign``: a TRS portal after a redesign (Chongqing-like): the home page links only to a 政务公开
  hub, the hub lists 建议提案办理 (a page of two sub-columns, 人大代表建议 and 政协委员提案), 政策文件 and
  工作总结 among noise (指南, 依申请公开), lists are
  ``index.html``/``index_1.html`` with ``.html`` articles and ``createPageHTML(n, k, "index", "html")``, detail
  pages carry no ``<meta>`` tags, their 信息公开 labels share lines (``索引号：… 发文字号：… 主题分类：…``) and
  the body sits in ``div.view.TRS_UEDITOR``.
- ``county_generic``: a county-style site of no known family: ``/list-<n>.html`` and ``list-<n>-2.html`` with
  a 下一页 link, ``/show-<id>.html`` articles, the body in ``#artContent``.

Pages are rendered from a ``ReplicaWorld``'s documents, so every page has its ground truth
(``Document.truth()``). They are served by the tests' tiny ``http.server`` (``LocalSite``).
"""

from __future__ import annotations

from html import escape

from replicas.model import Document
from replicas.sites.base import Site
from tests.crawler.helpers import LocalSite

PAGE = 4  # documents per list page: several pages per column


def _chunks(docs: list[Document]) -> list[list[Document]]:
    docs = sorted(docs, key=lambda d: (d.published_at, d.doc_id), reverse=True)
    return [docs[i : i + PAGE] for i in range(0, len(docs), PAGE)] or [[]]


def _short(title: str) -> str:
    return title if len(title) <= 24 else title[:22] + "..."


# -- a TRS redesign ----------------------------------------------------------------------------------

TRS_COLUMNS = {  # path under /zwgk_535/ -> (name, kind, which documents)
    "jytabl/rddbjy": ("人大代表建议", "replies", lambda d: d.kind == "suggestion_reply"),
    "jytabl/zxwyta": ("政协委员提案", "replies", lambda d: d.kind == "proposal_reply"),
    "zcwj": ("政策文件", "policies", lambda d: d.column == "zcwj"),
    "gzzj": ("工作总结", "reports", lambda d: d.column == "ghzj"),
}


def _trs_detail(doc: Document, name: str) -> str:
    line1 = [("索引号", doc.index_no), ("发文字号", doc.doc_no_raw), ("主题分类", doc.theme)]
    line2 = [("发布机构", doc.bureau), ("成文日期", doc.generated_on), ("有效性", doc.validity)]
    rows = "".join(
        "<p>" + " ".join(f"<span>{label}：{escape(value)}</span>" for label, value in line if value) + "</p>"
        for line in (line1, line2)
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(doc.display_title)}_{escape(doc.bureau)}</title>
<link rel="stylesheet" href="/images/2023/css/detail.css"></head>
<body><div class="head-top">欢迎访问{escape(doc.bureau)}！ <a href="/">首页</a></div>
<div class="bread">您当前的位置：<a href="/">首页</a> &gt; <a href="/zwgk/index.html">政务公开</a> &gt; {escape(name)}</div>
<div class="detail-main"><div class="detail-xxgk">{rows}</div>
<h2 class="detail-tit">{escape(doc.display_title)}</h2>
<div class="detail-time">发布日期：{doc.published_at:%Y-%m-%d %H:%M}　来源：本网　【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div class="view TRS_UEDITOR trs_paper_default trs_word">
{Site.paragraphs(doc.blocks)}
</div>
<div class="detail-share">分享到：<a>微信</a> <a>微博</a></div>
<div class="detail-print"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div><div class="footer">主办单位：{escape(doc.bureau)}</div></body></html>"""


def _trs_list(name: str, docs: list[Document], page: int, pages: int) -> str:
    items = "\n".join(
        f'<div class="tab-item"><a href="./{d.published_at:%Y%m}/t{d.published_at:%Y%m%d}_{d.doc_id}.html" '
        f'title="{escape(d.display_title)}" target="_blank">{escape(_short(d.display_title))}</a>'
        f"<em>{d.published_at:%Y-%m-%d}</em></div>"
        for d in docs
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(name)}</title></head>
<body><div class="bread">您当前的位置：<a href="/">首页</a> &gt; <a href="/zwgk/index.html">政务公开</a> &gt; {escape(name)}</div>
<div class="list-box"><div class="list-tit">{escape(name)}</div>
{items}
</div>
<div class="fy"><script>createPageHTML({pages}, {page}, "index", "html");</script></div>
</body></html>"""


def trs_redesign(site: LocalSite, docs: list[Document], bureau: str) -> dict[str, tuple[str, Document]]:
    """Serve the redesign on ``site``; returns detail URL -> (column path, document)."""
    site.page("/robots.txt", "User-agent: *\nDisallow: /wcm/\n", Content_Type="text/plain")
    site.page(
        "/",
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(bureau)}</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/zwgk/index.html">政务公开</a> <a href="/hdjl/index.html">互动交流</a>
<a href="/bsfw/">办事服务</a></div><h1 class="logo">{escape(bureau)}</h1>
<div class="news"><h3>工作动态</h3><a href="/xwdt/202501/t20250102_1.html">我局召开2025年工作会议部署全年重点任务</a></div>
</body></html>""",
    )
    # the hub names 建议提案办理, a page of two sub-columns, beside the columns that list documents
    hub = '<li><a href="/zwgk_535/jytabl/">建议提案办理</a></li>' + "".join(
        f'<li><a href="/zwgk_535/{path}/">{escape(name)}</a></li>'
        for path, (name, _, _) in TRS_COLUMNS.items()
        if not path.startswith("jytabl/")
    )
    subs = "".join(
        f'<li><a href="/zwgk_535/{path}/">{escape(name)}</a></li>'
        for path, (name, _, _) in TRS_COLUMNS.items()
        if path.startswith("jytabl/")
    )
    site.page(
        "/zwgk_535/jytabl/",
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>建议提案办理</title></head><body>'
        f'<div class="bread"><a href="/">首页</a> &gt; 建议提案办理</div><ul class="sub-cols">{subs}</ul></body></html>',
    )
    site.page(
        "/zwgk/index.html",
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务公开_{escape(bureau)}</title></head>
<body><div class="zwgk-nav"><a href="/zwgk/xxgkzn/">政府信息公开指南</a> <a href="/zwgk/ysqgk/">依申请公开</a>
<ul class="zwgk-menu">{hub}</ul></div></body></html>""",
    )
    served: dict[str, tuple[str, Document]] = {}
    for path, (name, _, wanted) in TRS_COLUMNS.items():
        chunks = _chunks([d for d in docs if wanted(d)])
        for page, chunk in enumerate(chunks):
            body = _trs_list(name, chunk, page, len(chunks))
            if page == 0:
                site.page(f"/zwgk_535/{path}/", body)
            site.page(f"/zwgk_535/{path}/index{f'_{page}' if page else ''}.html", body)
            for doc in chunk:
                detail = (
                    f"/zwgk_535/{path}/{doc.published_at:%Y%m}/t{doc.published_at:%Y%m%d}_{doc.doc_id}.html"
                )
                site.page(detail, _trs_detail(doc, name))
                served[site.url + detail] = (f"/zwgk_535/{path}/", doc)
    return served


# -- a county site of no known family ---------------------------------------------------------------

COUNTY_COLUMNS = {  # list number -> (name, kind, which documents)
    12: ("建议提案", "replies", lambda d: d.kind in ("suggestion_reply", "proposal_reply")),
    13: ("政策文件", "policies", lambda d: d.column == "zcwj"),
    14: ("工作总结", "reports", lambda d: d.column == "ghzj"),
}


def _county_list(number: int, name: str, docs: list[Document], page: int, pages: int) -> str:
    items = "\n".join(
        f'<li><span class="time">{d.published_at:%Y-%m-%d}</span><a href="/show-{d.doc_id}.html" '
        f'title="{escape(d.display_title)}" target="_blank">{escape(_short(d.display_title))}</a></li>'
        for d in docs
    )
    nxt = f'<a class="next" href="/list-{number}-{page + 2}.html">下一页</a>' if page + 1 < pages else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(name)}</title></head>
<body><div class="menu"><a href="/">首页</a></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; {escape(name)}</div>
<ul class="newslist">
{items}
</ul>
<div class="pages"><a href="/list-{number}.html">首页</a> {nxt} <span>共{pages}页</span></div>
</body></html>"""


def _county_detail(doc: Document) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(doc.display_title)}</title></head>
<body><div class="menu"><a href="/">首页</a></div>
<div class="article"><h1 class="art-title">{escape(doc.display_title)}</h1>
<div class="art-info"><span class="pubtime">发布时间：{doc.published_at:%Y-%m-%d %H:%M}</span>
<span>来源：{escape(doc.bureau)}</span> <span>浏览：{doc.doc_id % 97}次</span></div>
<div class="art-content" id="artContent">
{Site.paragraphs(doc.blocks)}
</div><div class="art-share">分享到：</div></div></body></html>"""


def county_generic(site: LocalSite, docs: list[Document], bureau: str) -> dict[str, tuple[str, Document]]:
    """Serve the county site on ``site``; returns detail URL -> (column path, document)."""
    menu = "".join(
        f'<a href="/list-{n}.html">{escape(name)}</a>' for n, (name, _, _) in COUNTY_COLUMNS.items()
    )
    site.page(
        "/",
        f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(bureau)}</title></head>
<body><div class="menu"><a href="/">首页</a>{menu}<a href="/list-20.html">办事指南</a></div>
<h1>{escape(bureau)}</h1></body></html>""",
    )
    served: dict[str, tuple[str, Document]] = {}
    for number, (name, _, wanted) in COUNTY_COLUMNS.items():
        chunks = _chunks([d for d in docs if wanted(d)])
        for page, chunk in enumerate(chunks):
            path = f"/list-{number}.html" if page == 0 else f"/list-{number}-{page + 1}.html"
            site.page(path, _county_list(number, name, chunk, page, len(chunks)))
            for doc in chunk:
                site.page(f"/show-{doc.doc_id}.html", _county_detail(doc))
                served[f"{site.url}/show-{doc.doc_id}.html"] = (f"/list-{number}.html", doc)
    return served
