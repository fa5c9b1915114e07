"""The benchmark portal: a noisy list → detail site served by the standard library (``http.server``).

``N`` documents, newest first, 20 to a list page (``/xxgk/index.html``, ``index_1.html`` …, a
``下一页`` link to the next); each detail page (``/xxgk/art/<id>.html``) carries what real bureau pages
carry around the article (head scripts and styles, a 100-link navigation, breadcrumbs, the 信息公开
metadata table, related links, a long footer) and links one PDF (``/xxgk/att/<id>.pdf``) that exists
for every ``pdf_every``-th document and is a 404 otherwise. Details and PDFs answer ETag /
Last-Modified with 304, as static web servers do; list pages are generated on each request.

Documents can be edited while the server runs (``edit``): the detail's text, ETag and Last-Modified
change; ``relink`` gives a document's PDF a new URL (its page changes with it). A page may link further
files (``extra``: document id → paths, served from ``files``; a path not there is a 404). Every request is
counted by kind (robots, list, detail, attachment) and status, and by path.

    python -m benchmarks.bench_portal --docs 200 --port 8190     # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import hashlib
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from replicas.corpus import filler_paragraphs
from replicas.pdf import make_pdf

PER_PAGE = 20
LIST_PATH = "/xxgk/index.html"
EPOCH = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
TOPICS = (
    "职工基本医疗保险门诊共济保障", "城乡居民医保参保缴费", "异地就医直接结算", "医疗保障基金使用监督管理",
    "DRG/DIP支付方式改革", "国家组织药品集中带量采购", "长期护理保险试点", "医疗服务价格动态调整",
    "定点医药机构协议管理", "门诊慢特病待遇保障", "医保电子凭证推广应用", "大病保险和医疗救助",
)
NAV = ("首页", "机构概况", "政务公开", "政策文件", "政策解读", "通知公告", "办事服务", "互动交流", "专题专栏",
       "医保动态", "基金监管", "医药价格", "招标采购", "待遇保障", "经办服务", "统计信息", "人事信息", "财务预决算",
       "建议提案办理", "规划计划", "新闻发布", "图片新闻", "视频新闻", "在线访谈", "意见征集", "网上调查")  # fmt: skip
SCRIPT = (
    "var _hmt = _hmt || [];(function(){var hm = document.createElement('script');hm.src = "
    "'https://hm.example.invalid/hm.js?0123456789abcdef';var s = document.getElementsByTagName('script')[0];"
    "s.parentNode.insertBefore(hm, s);})();function setFontSize(size){var el=document.getElementById('zoom');"
    "if(el){el.style.fontSize=size+'px';var ps=el.getElementsByTagName('p');for(var i=0;i<ps.length;i++)"
    "{ps[i].style.fontSize=size+'px';}}}function doPrint(){window.print();}function closeWindow(){"
    "window.opener=null;window.open('','_self');window.close();}"
)
STYLE = ".nav li{float:left;margin:0 8px}.list li{line-height:32px;border-bottom:1px dashed #ddd}" * 12


@dataclass
class Doc:
    id: int
    title: str
    published: datetime
    doc_no: str
    paragraphs: tuple[int, ...]
    version: int = 0
    modified: datetime | None = None
    att_rev: int = 0  # bumped by ``relink``: the PDF's URL changes

    @property
    def last_modified(self) -> datetime:
        return self.modified or self.published

    def etag(self, kind: str) -> str:
        return '"' + hashlib.md5(f"{kind}:{self.id}:{self.version}".encode()).hexdigest()[:16] + '"'


class BenchPortal:
    """The portal's documents and counters; ``serve()`` runs it on 127.0.0.1 in a background thread."""

    def __init__(self, docs: int, *, pdf_every: int = 4, seed: int = 1) -> None:
        self.pdf_every = pdf_every
        self.filler = filler_paragraphs()
        self.docs: list[Doc] = []  # newest first
        for i in range(docs, 0, -1):
            rng = random.Random(seed * 1_000_003 + i)
            day = EPOCH + timedelta(hours=6 * i)
            self.docs.append(Doc(
                id=i, title=f"关于{rng.choice(TOPICS)}有关事项的通知（第{i}号）", published=day,
                doc_no=f"闽医保〔{day.year}〕{i}号",
                paragraphs=tuple(rng.randrange(len(self.filler)) for _ in range(rng.randint(4, 10))),
            ))  # fmt: skip
        self.by_id = {d.id: d for d in self.docs}
        self.counts: Counter[tuple[str, int]] = Counter()
        self.paths: Counter[tuple[str, int]] = Counter()
        self.extra: dict[int, list[str]] = {}
        self.files: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.url = ""

    # -- changes and counters ------------------------------------------------------------------------

    def edit(self, doc_id: int, now: datetime | None = None) -> None:
        doc = self.by_id[doc_id]
        with self.lock:
            doc.version += 1
            doc.modified = (now or datetime.now(UTC)).replace(microsecond=0)

    def relink(self, doc_id: int, now: datetime | None = None) -> None:
        """The document's PDF moves to a new URL (``<id>_r<n>.pdf``; the old one is a 404 from now on)."""
        with self.lock:
            self.by_id[doc_id].att_rev += 1
        self.edit(doc_id, now)

    def attachment_path(self, doc: Doc) -> str:
        return f"/xxgk/att/{doc.id}.pdf" if not doc.att_rev else f"/xxgk/att/{doc.id}_r{doc.att_rev}.pdf"

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.paths.clear()

    def total(self, kind: str | None = None, status: int | None = None) -> int:
        with self.lock:
            return sum(n for (k, s), n in self.counts.items()
                       if (kind is None or k == kind) and (status is None or s == status))  # fmt: skip

    def detail_url(self, doc: Doc) -> str:
        return f"{self.url}/xxgk/art/{doc.id}.html"

    def list_url(self, page: int = 0) -> str:
        return self.url + (LIST_PATH if page == 0 else f"/xxgk/index_{page}.html")

    @property
    def list_pages(self) -> int:
        return max(1, -(-len(self.docs) // PER_PAGE))

    # -- pages -------------------------------------------------------------------------------------------

    def _frame(self, title: str, meta: str, main: str) -> str:
        nav = "".join(f'<li><a href="/{k}/index.html">{name}</a></li>' for k, name in enumerate(NAV * 4))
        footer = "".join(f'<a href="http://www{k}.gov.example.invalid/" target="_blank">{name}网站</a> '
                         for k, name in enumerate(NAV))  # fmt: skip
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta http-equiv="X-UA-Compatible" content="IE=edge">'
            f"<title>{title}_基准市医疗保障局</title>{meta}"
            '<meta name="keywords" content="医疗保障,医保,政务公开"><meta name="description" content="基准市医疗保障局门户网站">'
            '<link rel="stylesheet" href="/css/common.css"><link rel="stylesheet" href="/css/page.css">'
            f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
            '<div class="top"><div class="logo"><img src="/images/logo.png" alt="基准市医疗保障局"></div>'
            '<div class="search"><form action="/search"><input name="q" type="text"><button>搜索</button></form></div>'
            f'</div><div class="nav"><ul>{nav}</ul></div>{main}'
            f'<div class="footer"><div class="links">{footer}</div>'
            "<p>主办：基准市医疗保障局　地址：基准市人民路1号　邮编：350000　电话：0591-12345678</p>"
            "<p>网站标识码：3502000001　闽ICP备00000000号-1　闽公网安备 35020002000001号</p></div>"
            f"<script>{SCRIPT}</script></body></html>"
        )

    def list_page(self, page: int) -> str | None:
        if not 0 <= page < self.list_pages:
            return None
        docs = self.docs[page * PER_PAGE : (page + 1) * PER_PAGE]
        items = "".join(
            f'<li><a href="/xxgk/art/{d.id}.html" title="{d.title}" target="_blank">{d.title}</a>'
            f'<span class="date">{d.published:%Y-%m-%d}</span></li>'
            for d in docs
        )
        pager = f'<div class="page">共{self.list_pages}页　第{page + 1}页　'
        if page + 1 < self.list_pages:
            pager += f'<a class="next" href="index_{page + 1}.html">下一页</a>'
        pager += "</div>"
        main = (f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政务公开</a> &gt; 政策文件</div>'
                f'<div class="main"><ul class="list">{items}</ul>{pager}</div>')  # fmt: skip
        return self._frame("政策文件", "", main)

    def detail_page(self, doc: Doc) -> str:
        paras = [self.filler[k] for k in doc.paragraphs]
        if doc.version:
            paras.append(f"本通知自印发之日起施行（第{doc.version}次修订）。")
        body = "".join(f"<p>{p}</p>" for p in paras)
        extra = "".join(f'<br><a href="{path}">附件{k + 2}：{path.rsplit("/", 1)[-1]}</a>'
                        for k, path in enumerate(self.extra.get(doc.id, [])))  # fmt: skip
        date = f"{doc.published:%Y-%m-%d}"
        meta = (f'<meta name="ArticleTitle" content="{doc.title}"><meta name="PubDate" content="{doc.published:%Y-%m-%d %H:%M}">'
                '<meta name="ContentSource" content="基准市医疗保障局"><meta name="ColumnName" content="政策文件">')  # fmt: skip
        table = (
            '<table class="xxgk"><tr><th>索 引 号：</th><td>' f"350200-0100-{doc.published:%Y}-{doc.id:05d}</td>"
            "<th>主题分类：</th><td>医疗保障</td></tr><tr><th>发布机构：</th><td>基准市医疗保障局</td>"
            f"<th>生成日期：</th><td>{date}</td></tr><tr><th>标　　题：</th><td colspan=\"3\">{doc.title}</td></tr>"
            f"<tr><th>文　　号：</th><td>{doc.doc_no}</td><th>有 效 性：</th><td>有效</td></tr></table>"
        )
        related = "".join(f'<li><a href="/xxgk/zcjd/{doc.id}_{k}.html">政策解读：{TOPICS[(doc.id + k) % len(TOPICS)]}问答</a></li>'
                          for k in range(8))  # fmt: skip
        main = (
            f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政务公开</a> &gt; '
            f'<a href="{LIST_PATH}">政策文件</a></div><div class="main">{table}'
            f'<h1 class="title">{doc.title}</h1><div class="info">发布时间：{date}　来源：基准市医疗保障局　'
            '字号：<a href="javascript:setFontSize(18)">大</a> <a href="javascript:setFontSize(14)">小</a></div>'
            f'<div class="article-body" id="zoom">{body}<p style="text-align:right">基准市医疗保障局</p>'
            f'<p style="text-align:right">{doc.published.year}年{doc.published.month}月{doc.published.day}日</p></div>'
            f'<div class="attach">附件：<a href="{self.attachment_path(doc)}">{doc.title}.pdf</a>{extra}</div>'
            '<div class="share">分享到：<a href="javascript:void(0)">微信</a><a href="javascript:void(0)">微博</a>'
            '<a href="javascript:doPrint()">打印本页</a><a href="javascript:closeWindow()">关闭窗口</a></div>'
            f'<div class="related"><h3>相关链接</h3><ul>{related}</ul></div></div>'
        )
        return self._frame(doc.title, meta, main)

    def pdf(self, doc: Doc) -> bytes | None:
        if doc.id % self.pdf_every:
            return None
        return make_pdf([f"Attachment of document {doc.id}", "Medical insurance policy notice", f"link {doc.att_rev}"])

    def route(self, path: str) -> tuple[str, int, bytes, str, Doc | None]:
        """(kind, status, body, content type, document) of a GET."""
        html = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return "robots", 200, b"User-agent: *\nDisallow: /search\n", "text/plain", None
        if path.startswith("/xxgk/index"):
            stem = path[len("/xxgk/index") : -len(".html")] if path.endswith(".html") else "?"
            page = 0 if stem == "" else int(stem[1:]) if stem[:1] == "_" and stem[1:].isdigit() else -1
            text = self.list_page(page)
            if text is not None:
                return "list", 200, text.encode(), html, None
            return "list", 404, b"<html><body>404 Not Found</body></html>", html, None
        missing = b"<html><body>404 Not Found</body></html>"
        if path.startswith("/xxgk/art/") and path.endswith(".html"):
            stem = path[len("/xxgk/art/") : -len(".html")]
            doc = self.by_id.get(int(stem)) if stem.isdigit() else None
            if doc is not None:
                return "detail", 200, self.detail_page(doc).encode(), html, doc
            return "detail", 404, missing, html, None
        if path.startswith("/xxgk/att/"):
            if path in self.files:
                return "attachment", 200, self.files[path], "application/pdf", None
            stem = path[len("/xxgk/att/") :].removesuffix(".pdf").split("_r")[0]
            doc = self.by_id.get(int(stem)) if stem.isdigit() else None
            data = self.pdf(doc) if doc is not None and path == self.attachment_path(doc) else None
            if data is not None:
                return "attachment", 200, data, "application/pdf", doc
            return "attachment", 404, missing, html, None
        return "other", 404, missing, html, None

    @contextmanager
    def serve(self, port: int = 0) -> Iterator[BenchPortal]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with portal.lock:
                    kind, status, body, ctype, doc = portal.route(path)
                headers: dict[str, str] = {"Content-Type": ctype}
                if status == 200 and kind in ("detail", "attachment"):
                    if kind == "detail" and doc is not None:
                        etag, modified = doc.etag(kind), doc.last_modified
                    else:  # a file: its content's hash
                        etag, modified = '"' + hashlib.md5(body).hexdigest()[:16] + '"', EPOCH
                    headers["ETag"] = etag
                    headers["Last-Modified"] = format_datetime(modified, usegmt=True)
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                with portal.lock:
                    portal.counts[(kind, status)] += 1
                    portal.paths[(path, status)] += 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--port", type=int, default=8190)
    args = parser.parse_args(argv)
    with BenchPortal(args.docs).serve(args.port) as portal:
        print(f"serving {args.docs} documents at {portal.list_url()} (Ctrl-C stops)", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
