from __future__ import annotations

import datetime as dt

import pytest

from core.normalize import cn_numeral_to_int, find_signature, parse_date, parse_timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2025-05-07 16:18", "2025-05-07", id="iso-time"),
        pytest.param("2025-05-07 16:18:59", "2025-05-07", id="iso-seconds"),
        pytest.param("2025/5/7", "2025-05-07", id="slash"),
        pytest.param("2025.05.07", "2025-05-07", id="dots"),
        pytest.param("2025年9月8日", "2025-09-08", id="cn-arabic"),
        pytest.param("2025年09月08日", "2025-09-08", id="cn-arabic-padded"),
        pytest.param("2019年03月08日", "2019-03-08", id="guangxi"),
        pytest.param("２０２５年９月８日", "2025-09-08", id="fullwidth-digits"),
        pytest.param("二〇二五年九月八日", "2025-09-08", id="cn-numerals"),
        pytest.param("二○二三年十二月三十一日", "2023-12-31", id="cn-circle-zero"),
        pytest.param("二〇二四年十月二十日", "2024-10-20", id="cn-tens"),
        pytest.param("二〇二四年元月十日", "2024-01-10", id="cn-yuanyue"),
        pytest.param("发布时间：2025-08-18 10:12", "2025-08-18", id="embedded"),
        pytest.param("20250507", "2025-05-07", id="compact"),
        pytest.param("1630512000", "2021-09-02", id="unix-string-cst"),
        pytest.param(1630598400, "2021-09-03", id="unix-int"),
        pytest.param(1630598400.0, "2021-09-03", id="unix-float"),
        pytest.param("1630512000000", "2021-09-02", id="unix-ms"),
        pytest.param(dt.date(2025, 1, 2), "2025-01-02", id="date-object"),
        pytest.param(dt.datetime(2025, 1, 2, 3, 4), "2025-01-02", id="datetime-object"),
        pytest.param("2025-02-30", None, id="impossible"),
        pytest.param("2025年13月1日", None, id="bad-month"),
        pytest.param("ND00263-0200-2025-00071", None, id="index-no-is-not-date"),
        pytest.param("2025", None, id="year-only"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param(True, None, id="bool"),
    ],
)
def test_parse_date(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0, None, id="zero"),
        pytest.param("abc", None, id="junk"),
        pytest.param(1735660800, "2025-01-01", id="midnight-cst"),  # 2024-12-31T16:00Z
    ],
)
def test_parse_timestamp(value: object, expected: str | None) -> None:
    assert parse_timestamp(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("十", 10, id="ten"),
        pytest.param("十六", 16, id="sixteen"),
        pytest.param("二十", 20, id="twenty"),
        pytest.param("三十一", 31, id="thirty-one"),
        pytest.param("五", 5, id="five"),
        pytest.param("二〇二五", 2025, id="year"),
        pytest.param("二○二三", 2023, id="year-circle"),
        pytest.param("16", 16, id="arabic"),
        pytest.param("元", 1, id="yuan"),
        pytest.param("百", None, id="unsupported"),
        pytest.param("", None, id="empty"),
    ],
)
def test_cn_numeral_to_int(text: str, expected: int | None) -> None:
    assert cn_numeral_to_int(text) == expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["专此答复。", "中山市医疗保障局", "2025年9月8日"],
            ("中山市医疗保障局", "2025-09-08"),
            id="zhongshan",
        ),
        pytest.param(
            [
                "再次感谢!",
                "宁德市医疗保障局\u2003\u2003\u2003\u2002",
                "",
                "2025年8月11日\u2003\u2003\u2003\u2003",
                "(此件主动公开)",
            ],
            ("宁德市医疗保障局", "2025-08-11"),
            id="ningde-padding-blank",
        ),
        pytest.param(
            ["正文。", "某某市人民政府办公室", "二〇二五年九月八日"],
            ("某某市人民政府办公室", "2025-09-08"),
            id="cn-numeral-date",
        ),
        pytest.param(
            ["正文。", "厦门市医疗保障局 2025年5月6日"], ("厦门市医疗保障局", "2025-05-06"), id="same-line"
        ),
        pytest.param(
            ["正文。", "中山市医疗保障局 中山市卫生健康局", "2025年9月8日"],
            ("中山市医疗保障局", "2025-09-08"),
            id="joint-first-org",
        ),
        pytest.param(
            ["引用:", "某某局", "2020年1月1日", "正文。", "四川省医疗保障局", "2025年6月30日"],
            ("四川省医疗保障局", "2025-06-30"),
            id="last-block-wins",
        ),
        pytest.param(["正文。", "2025年6月30日"], (None, "2025-06-30"), id="date-without-org"),
        pytest.param(["正文没有落款。"], (None, None), id="none"),
        pytest.param([], (None, None), id="empty"),
        pytest.param(
            ["一、总体情况", "2025年6月30日以来开展了工作。"], (None, None), id="date-inside-sentence-ignored"
        ),
    ],
)
def test_find_signature(paragraphs: list[str], expected: tuple[str | None, str | None]) -> None:
    assert find_signature(paragraphs) == expected
