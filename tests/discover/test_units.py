"""The pure parts of discover: column names, gkmlpt trees, fingerprints, generic selectors, entry guesses."""

from __future__ import annotations

import json

import pytest

from crawler.discover import Discovery
from crawler.discover.columns import gkmlpt_columns, kind_from_titles, kind_of_name, parse_sid, parse_tree
from crawler.discover.entry import EntryGuess, guess_place, render, suggest_id, to_portal
from crawler.discover.fingerprints import score_page
from crawler.discover.selectors import suggest


@pytest.mark.parametrize(
    ("name", "kind", "maybe"),
    [
        ("建议提案办理", "replies", False),
        ("人大代表建议", "replies", False),
        ("政协委员提案", "replies", False),
        ("2025年人大代表建议", "replies", False),
        ("规范性文件", "policies", False),
        ("政策法规", "policies", False),
        ("政府信息公开工作年度报告", "reports", False),
        ("工作总结", "reports", False),
        ("其它文件", None, True),
        ("工作动态", None, True),
        ("政府信息公开指南", None, False),
        ("依申请公开", None, False),
        ("宁德市医疗保障局2025年上半年工作总结", None, False),  # an article's title
        ("关于市五届人大四次会议第1472号建议的答复", None, False),
    ],
)
def test_column_names(name, kind, maybe):
    assert kind_of_name(name) == (kind, maybe)


def test_gkmlpt_tree_in_json_and_in_javascript_notation():
    strict = (
        'window._CONFIG = {"SID": "760045", "TREE": [{"id": 3000, "name": "建议提案办理", "jump_url": "", "children": ['
        '{"id": 3001, "name": "人大建议", "children": []}]}, {"id": 3099, "name": "政府信息公开指南",'
        ' "jump_url": "http://x/", "children": []}, {"id": 3005, "name": "规划计划", "children": []}]};'
    )
    loose = (
        "window._CONFIG = { SID: '755041', TREE: [{id: 7, name: '政策文件', children: [{id: 8, name: '其他文件',"
        " children: []}]}, {id: 9, name: '人大建议', jump_url: '', children: []}], SERVICE_AREA_ID: 1 };"
    )
    assert parse_sid(strict) == "760045"
    assert parse_sid(loose) == "755041"
    assert [(c.name, c.url, c.kind) for c in gkmlpt_columns(strict, "http://h/ybj/gkmlpt/index")] == [
        ("人大建议", "http://h/ybj/gkmlpt/index#3001", "replies"),
        ("规划计划", "http://h/ybj/gkmlpt/index#3005", "reports"),
    ]
    assert [(c.name, c.kind) for c in gkmlpt_columns(loose, "http://h/gkmlpt/index")] == [
        ("其他文件", "policies"),  # inherits its parent's kind
        ("人大建议", "replies"),
    ]
    assert parse_tree("no tree here") == []


def test_kind_from_titles_uses_the_classifier():
    kind, tally = kind_from_titles(
        ["【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函", "关于市政协五届四次会议第12号提案的答复",
         "关于开展2025年医保基金监督检查的通知"]
    )  # fmt: skip
    assert (kind, dict(tally)) == ("replies", {"replies": 2, "other": 1})
    assert kind_from_titles(["关于开展检查的通知", "关于某事的通知"])[0] is None  # notices are no column kind


@pytest.mark.parametrize(
    ("html", "family"),
    [
        ('<ul><li><a href="./202505/t20250507_2934567.htm">x</a></li></ul>'
         '<script>createPageHTML(12, 0, "index", "htm");</script>', "trs"),
        ("<script>createPageHTML('page_div', 5, 1, 'list', 'shtml', 70);</script>"
         '<a href="/sc/c108923/2025/7/4/bfdd211a8637554c6c632ce42c16fbed.shtml">x</a>', "sichuan"),
        ("<script>window._CONFIG = {SID: '760045', TREE: []};</script>", "gkmlpt"),
        ('<a href="/ybj/zwgk/content/post_3000042.html">x</a>', "gkmlpt"),
        ("<div id='1'><script type='text/xml'><datastore><recordset></recordset></datastore></script></div>"
         "<script>$('#1').jpage({totalRecord: 9});</script>", "hanweb"),
        ('<meta name="Generator" content="大汉版通"><a href="/art/2021/10/25/art_110_7245.html">x</a>', "hanweb"),
        ('<ul class="newslist"><li><a href="/show-12.html">关于某事的通知</a></li></ul>', None),
    ],
)  # fmt: skip
def test_fingerprints(html, family):
    assert score_page(html, "http://h/col/").best() == family


def test_generic_selectors_from_a_list_and_a_detail_page():
    items = "".join(f'<li><a href="/show-{i}.html">关于第{i}号事项的通知公告</a><span>2025-01-0{i}</span></li>'
                    for i in range(1, 6))  # fmt: skip
    listing = (f'<div class="nav"><a href="/">首页</a><a href="/about.html">本局概况介绍页面</a></div>'
               f'<ul class="news">{items}</ul><div class="pg"><a class="nx" href="/l-2.html">下一页</a></div>')  # fmt: skip
    detail = ("<div class='top'><h1>网站</h1></div><div class='art'><h2 class='tt'>关于第1号事项的通知公告</h2>"
              "<p class='when'>发布日期：2025-01-01</p><div class='txt'><p>" + "正文内容。" * 40 + "</p><p>第二段。</p>"
              "</div></div>")  # fmt: skip
    got = suggest(listing, "http://h/l.html", detail, "关于第1号事项的通知公告")
    assert got.options() == {"link": "ul.news li a", "title": "h2.tt", "date": "p.when", "body": "div.txt",
                             "next_page": "a.nx"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "level", "code", "province", "city"),
    [
        ("国家医疗保障局", "national", "100000", None, None),
        ("四川省医疗保障局", "province", "510000", "四川省", None),
        ("广西壮族自治区医疗保障局", "province", "450000", "广西壮族自治区", None),
        ("重庆市医疗保障局", "province", "500000", "重庆市", None),
        ("广东省中山市医疗保障局", "city", "440000", "广东省", "中山市"),  # the province's code at least
        ("福建省宁德市霞浦县医疗保障局", "county", "350000", "福建省", "宁德市"),
        ("某某市医疗保障局", "city", "000000", None, "某某市"),
    ],
)
def test_place_guesses(name, level, code, province, city):
    got = guess_place(name, places={})
    assert (got["level"], got["region_code"], got["province"], got["city"]) == (level, code, province, city)
    assert guess_place("中山市医疗保障局", places={"中山市": "442000"})["region_code"] == "442000"


def test_ids_and_a_rendered_entry_the_registry_accepts():
    assert suggest_id("http://ybj.xm.gov.cn/") == "xm_ybj"
    assert suggest_id("http://www.zs.gov.cn/ybj/") == "zs_ybj"
    assert suggest_id("https://www.nhsa.gov.cn/col/col26/index.html") == "nhsa"
    assert suggest_id("http://127.0.0.1:8125/") == "site_8125"
    text = render(EntryGuess(
        id="zz_ybj", name="某市医疗保障局", family="generic", base_url="https://ybj.zz.gov.cn",
        home="https://ybj.zz.gov.cn/", columns=[{"name": "建议提案", "kind": "replies",
                                                 "url": "https://ybj.zz.gov.cn/list-1.html"}],
        options={"link": "ul.news li a", "body": "#zoom"}, notes=["a note \"quoted\""],
    ))  # fmt: skip
    assert text.startswith('# a note "quoted"\n[[portals]]\n')
    assert '{ name = "建议提案", kind = "replies", url = "/list-1.html" }' in text
    portal = to_portal(text)
    assert (portal.family, portal.region_code, portal.columns[0].url) == (
        "generic",
        "000000",
        "https://ybj.zz.gov.cn/list-1.html",
    )
    assert portal.options == {"link": "ul.news li a", "body": "#zoom"}


def test_a_discovery_is_json():
    found = Discovery(url="http://h/", requests=[("GET", "http://h/robots.txt", 404)])
    data = json.loads(json.dumps(found.to_dict(), ensure_ascii=False))
    assert data["ok"] is False
    assert data["requests"] == [{"method": "GET", "url": "http://h/robots.txt", "status": 404}]
