from __future__ import annotations

import pytest

from core.normalize import fold, html_to_paragraphs, is_chrome_line, normalize_ws, strip_chrome

# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("答复类别：C类", "答复类别:C类", id="fullwidth-colon"),
        pytest.param("（第0105号）", "(第0105号)", id="fullwidth-parens"),
        pytest.param("厦医保函［2025］33号", "厦医保函[2025]33号", id="fullwidth-square"),
        pytest.param("２０２５年９月８日", "2025年9月8日", id="fullwidth-digits"),
        pytest.param("ＡＢＣ，ｘ；！？", "ABC,x;!?", id="fullwidth-latin-punct"),
        pytest.param("索\u2002引\u2003号\u3000\u00a0:", "索 引 号  :", id="spaces"),
        pytest.param("厦医保函﹝2025﹞33号", "厦医保函〔2025〕33号", id="small-tortoise-to-hexagonal"),
        pytest.param("〔2025〕“医保”【建议提案】", "〔2025〕“医保”【建议提案】", id="kept-brackets-quotes"),
        pytest.param("①②⑴Ⅱ㎡²", "①②⑴Ⅱ㎡²", id="kept-enclosed-numbers"),
        pytest.param("plain ascii: (1)", "plain ascii: (1)", id="ascii-unchanged"),
        pytest.param("", "", id="empty"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected
    assert len(fold(text)) == len(text)


def test_fold_is_length_preserving_on_every_foldable_character() -> None:
    sample = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F)) + "\u3000\u2002\u2003\u00a0\u2028"
    folded = fold(sample)
    assert len(folded) == len(sample)
    assert folded[:94] == "".join(chr(cp) for cp in range(0x21, 0x7F))


# --------------------------------------------------------------------------- whitespace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("  a  b\t\nc  ", "a b c", id="ascii"),
        pytest.param("\u3000\u3000我局高度重视\u00a0\u00a0", "我局高度重视", id="indent-nbsp"),
        pytest.param("联 系 人:陈 \u00a0玮", "联 系 人:陈 玮", id="mixed-run"),
        pytest.param("宁德市医疗保障局\u2003\u2003\u2003\u2002", "宁德市医疗保障局", id="ningde-padding"),
        pytest.param("医\u200b保\ufeff局", "医保局", id="zero-width"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalize_ws(text: str, expected: str) -> None:
    assert normalize_ws(text) == expected


# --------------------------------------------------------------------------- html_to_paragraphs


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("<p>一</p><p>二</p>", ["一", "二"], id="paragraphs"),
        pytest.param("<div>甲<p>乙</p>丙</div>", ["甲", "乙", "丙"], id="mixed-inline-block"),
        pytest.param(
            "<p>厦门市医疗保障局<br>2025年5月6日</p>", ["厦门市医疗保障局", "2025年5月6日"], id="br"
        ),
        pytest.param("<p>a<br/><br/>b</p>", ["a", "b"], id="double-br"),
        pytest.param("<p>医保<span>基金</span><b>监管</b></p>", ["医保基金监管"], id="inline-joined"),
        pytest.param(
            "<p>x</p><script>var a='<p>no</p>';</script><style>p{}</style><p>y</p>",
            ["x", "y"],
            id="script-style",
        ),
        pytest.param("<p>x<!-- comment --></p>", ["x"], id="comment"),
        pytest.param("<p>&nbsp;&nbsp;正文&ensp;内容&emsp;</p><p>&#12288;</p>", ["正文 内容"], id="entities"),
        pytest.param("<p>\u3000\u3000我局高度重视</p>", ["我局高度重视"], id="ideographic-indent"),
        pytest.param(
            '<p>a</p><div style="display: none">hidden</div><p>b</p>', ["a", "b"], id="display-none"
        ),
        pytest.param("<p>a<span hidden>h</span>c</p>", ["ac"], id="hidden-attr-keeps-tail"),
        pytest.param(
            "<table><tr><th>索 引 号</th><td>XM00149-09-01-2025-007</td><th>主题分类</th><td>人大</td></tr>"
            "<tr><th>生成日期</th><td>2025-05-06</td></tr></table>",
            ["索 引 号 XM00149-09-01-2025-007 主题分类 人大", "生成日期 2025-05-06"],
            id="table-rows",
        ),
        pytest.param("<ul><li>一</li><li>二</li></ul>", ["一", "二"], id="list"),
        pytest.param("<pre>行一\n行二</pre>", ["行一", "行二"], id="pre"),
        pytest.param("<p>源码\n换行</p>", ["源码 换行"], id="source-newline-is-space"),
        pytest.param(
            "<html><head><title>标题</title></head><body><h1>题</h1><p>文</p></body></html>",
            ["题", "文"],
            id="full-document",
        ),
        pytest.param("只有文字", ["只有文字"], id="bare-text"),
        pytest.param("<P>大写<BR>标签</P>", ["大写", "标签"], id="uppercase-tags"),
        pytest.param("", [], id="empty"),
        pytest.param("   ", [], id="blank"),
    ],
)
def test_html_to_paragraphs(html: str, expected: list[str]) -> None:
    assert html_to_paragraphs(html) == expected


def test_html_to_paragraphs_keeps_width() -> None:
    assert html_to_paragraphs("<p>答复类别：C类（示例）</p>") == ["答复类别：C类（示例）"]


def test_html_to_paragraphs_encoding_declaration() -> None:
    html = '<?xml version="1.0" encoding="gb2312"?><html><body><p>医保</p></body></html>'
    assert html_to_paragraphs(html) == ["医保"]


# --------------------------------------------------------------------------- chrome


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("当前位置：首页\u00a0>\u00a0政务公开\u00a0>\u00a0政策文件", id="breadcrumb"),
        pytest.param("当前位置:首页 > 政务公开 > 政策文件 > 其它文件", id="breadcrumb-ascii"),
        pytest.param("您现在的位置：首页 > 通知公告", id="breadcrumb-variant"),
        pytest.param("当前位置 首页 > 政务公开", id="breadcrumb-no-colon"),
        pytest.param("首页 > 政务公开 > 建议提案", id="breadcrumb-bare"),
        pytest.param("字号：大 中 小", id="font-size"),
        pytest.param("【字体：大 中 小】", id="font-size-bracketed"),
        pytest.param("【大 中 小】", id="size-switch-bracketed"),
        pytest.param("大 中 小", id="size-switch-bare"),
        pytest.param("字号: 分享:", id="font-share"),
        pytest.param("分享：", id="share"),
        pytest.param("分享到： |", id="share-to"),
        pytest.param("扫一扫在手机上查看当前页面", id="qr"),
        pytest.param("[打印] [关闭]", id="print-close"),
        pytest.param("【打印本页】【关闭窗口】", id="print-close-cjk-brackets"),
        pytest.param("打印本页", id="print-page"),
        pytest.param("关闭窗口", id="close-window"),
        pytest.param("浏览次数：123", id="views"),
        pytest.param("访问量：", id="visits-empty"),
        pytest.param("发布时间：2025-05-07 16:18", id="pub-time"),
        pytest.param("发布时间:2025-08-18 10:12", id="pub-time-ascii"),
        pytest.param("信息来源：本网 发布日期：2025-09-16 分享：", id="source-date-share"),
        pytest.param("发布日期：2025年09月16日　浏览次数：88", id="date-cn-views"),
        pytest.param("来源：中山市医疗保障局", id="source"),
        pytest.param("上一篇：关于印发某某办法的通知", id="prev"),
        pytest.param("下一篇:无", id="next"),
    ],
)
def test_chrome_lines(line: str) -> None:
    assert is_chrome_line(line)
    assert strip_chrome([line, "正文。"]) == ["正文。"]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("我局发布时间表如下。", id="word-in-sentence"),
        pytest.param("分享经验，共同提高。", id="share-sentence"),
        pytest.param("关闭不合规的定点机构3家。", id="close-sentence"),
        pytest.param("附件：1.办理情况表.docx", id="attachment-with-file"),
        pytest.param("首页设计方案已完成。", id="homepage-sentence"),
        pytest.param("当前位置信息服务已上线。", id="position-sentence"),
        pytest.param("一、办理工作背景", id="heading"),
        pytest.param("2025年5月6日", id="date-line"),
    ],
)
def test_not_chrome(line: str) -> None:
    assert not is_chrome_line(line)
    assert strip_chrome([line]) == [line]


def test_strip_chrome_related_articles_and_list() -> None:
    paragraphs = [
        "宁德市医疗保障局",
        "2025年8月11日",
        "（此件主动公开）",
        "扫一扫在手机上查看当前页面",
        "相关文章",
        "关于市五届人大四次会议第1500号建议的答复",
        "关于市五届人大四次会议第1501号建议的答复 2025-08-19",
    ]
    assert strip_chrome(paragraphs) == paragraphs[:3]


def test_strip_chrome_related_list_stops_at_sentence() -> None:
    paragraphs = ["相关文章：", "某链接标题", "这是一个很完整的正文句子。"]
    assert strip_chrome(paragraphs) == ["这是一个很完整的正文句子。"]


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["正文。", "附件：", "扫一扫在手机上查看当前页面"], ["正文。"], id="empty-label-dropped"
        ),
        pytest.param(["正文。", "附件:"], ["正文。"], id="empty-label-last"),
        pytest.param(
            ["正文。", "附件：", "1.建议办理情况统计表.xlsx"],
            ["正文。", "附件：", "1.建议办理情况统计表.xlsx"],
            id="label-with-items-kept",
        ),
        pytest.param(
            ["正文。", "附件：", "[打印]", "办理情况.pdf"],
            ["正文。", "附件：", "办理情况.pdf"],
            id="label-kept-across-chrome",
        ),
    ],
)
def test_strip_chrome_attachment_label(paragraphs: list[str], expected: list[str]) -> None:
    assert strip_chrome(paragraphs) == expected


def test_strip_chrome_anywhere_in_container() -> None:
    paragraphs = [
        "当前位置：首页 > 政务公开",
        "标题",
        "字号：大 中 小",
        "正文一。",
        "[打印] [关闭]",
        "正文二。",
    ]
    assert strip_chrome(paragraphs) == ["标题", "正文一。", "正文二。"]


def test_fold_table_is_every_single_character_nfkc_fold_outside_the_kept_ranges() -> None:
    """The table is built by skipping characters without a decomposition (NFKC leaves those alone): it holds
    exactly what testing every character of the scanned ranges finds."""
    import unicodedata

    from core.normalize import text

    expected = {}
    for lo, hi in text._FOLD_SCAN_RANGES:
        for cp in range(lo, hi + 1):
            if any(a <= cp <= b for a, b in text._FOLD_KEEP_RANGES):
                continue
            folded = unicodedata.normalize("NFKC", chr(cp))
            if folded != chr(cp) and len(folded) == 1:
                expected[cp] = folded
    expected.update(dict.fromkeys((0x0085, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F), " "))
    assert expected == text._FOLD_TABLE
