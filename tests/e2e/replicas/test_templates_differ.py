"""The two TRS bureaus use visibly different templates: a spider that knows one bureau's class names
finds nothing on the other (the real portals differ the same way)."""

from __future__ import annotations

import httpx
from parsel import Selector

XIAMEN_LIST, XIAMEN_BODY, XIAMEN_META = "ul.gl_list1 li a", "div.TRS_Editor p", "div.xxgk_head th"


def page(server, portal: str, path: str) -> Selector:
    response = httpx.get(server.urls[portal] + path, timeout=10)
    response.raise_for_status()
    text = response.content.decode("gb18030" if portal == "fujian_ningde" else "utf-8")
    return Selector(text=text)


def test_xiamen_class_names_do_not_work_on_ningde(replicas):
    world = replicas.world
    xm_doc = world.docs("fujian_xiamen")[0]
    nd_doc = world.docs("fujian_ningde")[0]
    xm_list = page(replicas, "fujian_xiamen", "/zwgk/jytabl/")
    nd_list = page(replicas, "fujian_ningde", "/zwgk/jytabl/")
    assert xm_list.css(XIAMEN_LIST)
    assert not nd_list.css(XIAMEN_LIST)
    xm_detail = page(replicas, "fujian_xiamen", world.urls(xm_doc.doc_id)["main"])
    nd_detail = page(replicas, "fujian_ningde", world.urls(nd_doc.doc_id)["main"])
    assert xm_detail.css(XIAMEN_BODY)
    assert xm_detail.css(XIAMEN_META)
    assert not nd_detail.css(XIAMEN_BODY)
    assert not nd_detail.css(XIAMEN_META)
    # ...while the family's stable traits hold on both: article URL pattern, pager script, labels
    for sel in (xm_list, nd_list):
        assert sel.re(r"createPageHTML\(\d+, 0, \"index\", \"htm\"\)")
        assert any("/t20" in href for href in sel.css("a::attr(href)").getall())
    assert "发布机构" in "".join(nd_detail.css("body ::text").getall())
