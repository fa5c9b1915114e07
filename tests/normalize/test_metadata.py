from __future__ import annotations

import pytest

from core.normalize import (
    canonical_label,
    canonical_metadata,
    extract_meta_block,
    parse_meta_lines,
    parse_validity,
)


@pytest.mark.parametrize(
    ("label", "key"),
    [
        pytest.param("索引号", "index_no", id="index"),
        pytest.param("索 引 号", "index_no", id="index-spaces"),
        pytest.param("索\u2002引\u2002号", "index_no", id="index-ensp"),
        pytest.param("索\u3000引\u3000号：", "index_no", id="index-ideographic-colon"),
        pytest.param("• 索\u2002引\u2002号:", "index_no", id="index-bullet"),
        pytest.param("文 号", "doc_no", id="wenhao"),
        pytest.param("发文字号", "doc_no", id="fawenzihao"),
        pytest.param("发布机构", "issuer", id="issuer"),
        pytest.param("发文机关", "issuer", id="fawenjiguan"),
        pytest.param("发文单位", "issuer", id="fawendanwei"),
        pytest.param("生成日期", "generated_on", id="generated"),
        pytest.param("成文日期", "generated_on", id="chengwen"),
        pytest.param("发布日期", "published_on", id="published"),
        pytest.param("标    题", "title", id="title-spaces"),
        pytest.param("标\u2002\u2002\u2002\u2002题", "title", id="title-ensp"),
        pytest.param("标\u3000\u3000题", "title", id="title-ideographic"),
        pytest.param("名称", "title", id="mingcheng"),
        pytest.param("有 效 性", "validity", id="validity"),
        pytest.param("有\u2002效\u2002性", "validity", id="validity-ensp"),
        pytest.param("效力状态", "validity", id="xiaolizhuangtai"),
        pytest.param("主题分类", "theme", id="theme"),
        pytest.param("分类", "theme", id="fenlei"),
        pytest.param("主题词", "theme", id="keywords"),
        pytest.param("发布时间", "published_on", id="pub-time"),
        pytest.param("公开方式", "public_marker", id="public"),
        pytest.param("浏览次数", None, id="unknown"),
    ],
)
def test_canonical_label(label: str, key: str | None) -> None:
    assert canonical_label(label) == key


def test_canonical_metadata_priority_is_independent_of_order() -> None:
    table = {
        "主题词": "医保",
        "分类": "综合政务",
        "主题分类": "人大",
        "成文日期": "2025-01-02",
        "生成日期": "2025-01-01",
    }
    reversed_table = dict(reversed(list(table.items())))
    expected = {"theme": "人大", "generated_on": "2025-01-01"}
    assert canonical_metadata(table) == expected
    assert canonical_metadata(reversed_table) == expected


def test_canonical_metadata_drops_empty_and_unknown() -> None:
    assert canonical_metadata({"文号": "", "浏览次数": "12", "标 题": "  关于 某事  "}) == {
        "title": "关于 某事"
    }


XIAMEN_GRID = [
    "索 引 号 XM00149-09-01-2025-007 主题分类 人大",
    "发布机构 厦门市医疗保障局 文 号 厦医保函〔2025〕33号",
    "生成日期 2025-05-06",
    "标 题 厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函",
    "有效性 有效",
]
NINGDE_BULLETS = [
    "• 索\u2002引\u2002号: ND00263-0200-2025-00071",
    "  • 发文字号: 宁医保函〔2025〕116号",
    "  • 发布机构: 宁德市医疗保障局",
    "  • 生成日期: 2025-08-11",
    "  • 标\u2002\u2002\u2002\u2002题: 关于市五届人大四次会议第1472号建议的答复",
    "  • 有\u2002效\u2002性: 有效",
]
GKMLPT_ROWS = [
    "索引号：114403006955506492/2021-00426 分类：综合政务",
    "发布机构：中山市医疗保障局 成文日期：2021-09-02",
    "名称：关于某事的通知",
    "文号： 发布日期：2021-09-03",
    "主题词：",
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            XIAMEN_GRID,
            {
                "index_no": "XM00149-09-01-2025-007",
                "theme": "人大",
                "issuer": "厦门市医疗保障局",
                "doc_no": "厦医保函〔2025〕33号",
                "generated_on": "2025-05-06",
                "title": "厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函",
                "validity": "有效",
            },
            id="xiamen-grid",
        ),
        pytest.param(
            NINGDE_BULLETS,
            {
                "index_no": "ND00263-0200-2025-00071",
                "doc_no": "宁医保函〔2025〕116号",
                "issuer": "宁德市医疗保障局",
                "generated_on": "2025-08-11",
                "title": "关于市五届人大四次会议第1472号建议的答复",
                "validity": "有效",
            },
            id="ningde-bullets",
        ),
        pytest.param(
            GKMLPT_ROWS,
            {
                "index_no": "114403006955506492/2021-00426",
                "theme": "综合政务",
                "issuer": "中山市医疗保障局",
                "generated_on": "2021-09-02",
                "title": "关于某事的通知",
                "published_on": "2021-09-03",
            },
            id="gkmlpt-empty-values",
        ),
    ],
)
def test_parse_meta_lines(lines: list[str], expected: dict[str, str]) -> None:
    assert canonical_metadata(parse_meta_lines(lines)) == expected


def test_parse_meta_lines_labels_as_printed() -> None:
    pairs = parse_meta_lines(NINGDE_BULLETS[:1] + XIAMEN_GRID[:1])
    assert pairs == {"索 引 号": "ND00263-0200-2025-00071", "主题分类": "人大"}


def test_parse_meta_lines_accepts_text_and_ignores_other_lines() -> None:
    text = "关于某事的通知\n发布时间：2025-05-07 16:18\n正文第一段。"
    assert parse_meta_lines(text) == {"发布时间": "2025-05-07 16:18"}


def test_label_word_inside_value_is_not_a_label() -> None:
    assert parse_meta_lines(["标 题 关于调整分类目录和文号规范的通知"]) == {
        "标 题": "关于调整分类目录和文号规范的通知"
    }


def test_extract_meta_block_cuts_block() -> None:
    paragraphs = ["当前位置：首页", *XIAMEN_GRID, "厦门市医疗保障局关于……的函", "正文。"]
    pairs, rest = extract_meta_block(paragraphs)
    assert canonical_metadata(pairs)["doc_no"] == "厦医保函〔2025〕33号"
    assert rest == ["当前位置：首页", "厦门市医疗保障局关于……的函", "正文。"]


@pytest.mark.parametrize(
    "paragraphs",
    [
        pytest.param(["名称 规格 单价", "分类 甲类 乙类", "正文。"], id="body-table-weak-labels"),
        pytest.param(["发布时间：2025-05-07 16:18", "正文。"], id="single-line"),
        pytest.param(["正文。"] * 20 + XIAMEN_GRID, id="beyond-search-window"),
    ],
)
def test_extract_meta_block_leaves_body_alone(paragraphs: list[str]) -> None:
    pairs, rest = extract_meta_block(paragraphs)
    assert pairs == {}
    assert rest == paragraphs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("有效", "有效", id="valid"),
        pytest.param("现行有效", "现行有效", id="current"),
        pytest.param("失效", "失效", id="expired"),
        pytest.param("已失效", "失效", id="already-expired"),
        pytest.param("废止", "废止", id="abolished"),
        pytest.param("已废止", "废止", id="already-abolished"),
        pytest.param("部分失效", "部分失效", id="partly"),
        pytest.param("已修订", "已修改", id="revised"),
        pytest.param("有 效 性： 有效", "有效", id="labelled"),
        pytest.param("有效性：失效", "失效", id="labelled-unspaced"),
        pytest.param("效力状态:已废止", "废止", id="labelled-status"),
        pytest.param("未知", None, id="unknown"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_parse_validity(value: str | None, expected: str | None) -> None:
    assert parse_validity(value) == expected
