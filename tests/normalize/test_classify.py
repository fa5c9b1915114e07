from __future__ import annotations

import pytest

from core.normalize import classify, parse_meeting, parse_salutation
from core.records import (
    KIND_INTERPRETATION,
    KIND_NOTICE,
    KIND_POLICY,
    KIND_PROPOSAL_REPLY,
    KIND_REPORT,
    KIND_SUGGESTION_REPLY,
)

DEPUTY = parse_salutation("黄彩欢代表：")
MEMBER = parse_salutation("刘建辉委员：")
ORG = parse_salutation("民盟中山市委员会：")


@pytest.mark.parametrize(
    ("title", "kwargs", "expected"),
    [
        # replies by title
        pytest.param(
            "【建议提案】中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函", {},
            KIND_SUGGESTION_REPLY, id="reply-title-suggestion",
        ),
        pytest.param(
            "关于湖北省政协十二届一次会议第20180329号提案的答复", {}, KIND_PROPOSAL_REPLY, id="reply-title-proposal",
        ),
        pytest.param(
            "关于省十四届人大一次会议“123号”议案的答复", {}, KIND_SUGGESTION_REPLY, id="reply-title-yian",
        ),
        pytest.param(
            "关于刘建辉委员提案的答复", {}, KIND_PROPOSAL_REPLY, id="loose-title-proposal",
        ),
        pytest.param(
            "关于某某代表建议的答复", {}, KIND_SUGGESTION_REPLY, id="loose-title-suggestion",
        ),
        # replies by tag, the sub-kind from other evidence
        pytest.param(
            "中山市医疗保障局答复函", {"title_tag": "建议提案", "salutation": MEMBER},
            KIND_PROPOSAL_REPLY, id="tag-with-member",
        ),
        pytest.param(
            "【建议提案】中山市医疗保障局答复函", {"meeting": parse_meeting("市政协十四届四次会议")},
            KIND_PROPOSAL_REPLY, id="tag-in-title-cppcc-meeting",
        ),
        pytest.param(
            "答复函", {"title_tag": "人大建议"}, KIND_SUGGESTION_REPLY, id="tag-renda-jianyi",
        ),
        # replies by body (no usable title: seed 001)
        pytest.param("", {"salutation": MEMBER, "received": True}, KIND_PROPOSAL_REPLY, id="body-member"),
        pytest.param("", {"salutation": DEPUTY, "received": True}, KIND_SUGGESTION_REPLY, id="body-deputy"),
        pytest.param("", {"salutation": ORG, "received": True}, KIND_PROPOSAL_REPLY, id="body-organisation"),
        pytest.param(
            "", {"salutation": MEMBER, "received": True, "column_kind": "policies"},
            KIND_PROPOSAL_REPLY, id="body-signals-any-column",
        ),
        pytest.param(
            "答复函", {"received": True, "column_kind": "replies", "proposal_title": "关于某事的提案"},
            KIND_PROPOSAL_REPLY, id="replies-column-received",
        ),
        pytest.param("", {"salutation": DEPUTY}, KIND_NOTICE, id="salutation-alone-not-reply"),
        # interpretation
        pytest.param("《医疗保障基金使用监督管理办法》政策解读", {}, KIND_INTERPRETATION, id="interpretation"),
        pytest.param("一图读懂2025年城乡居民医保缴费", {}, KIND_INTERPRETATION, id="one-picture"),
        # reports
        pytest.param("中山市医疗保障局2022年上半年工作总结", {}, KIND_REPORT, id="summary"),
        pytest.param("2025年医疗保障工作要点", {}, KIND_REPORT, id="key-points"),
        pytest.param("2024年政府信息公开工作年度报告", {}, KIND_REPORT, id="annual-report"),
        pytest.param("2022年上半年工作总结和下半年工作计划", {}, KIND_REPORT, id="summary-and-plan"),
        pytest.param(
            "关于2024年建议提案办理情况的报告", {"title_tag": "建议提案"}, KIND_REPORT, id="report-about-replies",
        ),
        pytest.param("医保基金运行分析", {"column_kind": "reports"}, KIND_REPORT, id="reports-column"),
        pytest.param(
            "", {"paragraphs": ["2022年上半年,我局……", "一、上半年重点工作", "二、存在问题", "三、下半年工作计划"]},
            KIND_REPORT, id="body-reads-like-report",
        ),
        # policies and notices
        pytest.param(
            "关于印发《医疗保障基金使用监督管理办法》的通知", {"doc_no": "中府〔2021〕87号"}, KIND_POLICY, id="doc-no",
        ),
        pytest.param("中山市医疗保障定点医药机构管理办法", {}, KIND_POLICY, id="policy-noun"),
        pytest.param(
            "中山市医疗保障定点医药机构管理办法", {"column_kind": "reports"}, KIND_POLICY, id="policy-noun-in-reports",
        ),
        pytest.param("关于开展2025年度城乡居民医保参保缴费工作的通知", {}, KIND_NOTICE, id="notice-without-doc-no"),
        pytest.param("关于公布定点医疗机构名单的公告", {}, KIND_NOTICE, id="announcement"),
        pytest.param("", {}, KIND_NOTICE, id="nothing"),
    ],
)  # fmt: skip
def test_classify(title: str, kwargs: dict, expected: str) -> None:
    assert classify(title, **kwargs) == expected
