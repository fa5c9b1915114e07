"""Record dicts for the diff tests: a policy with an outline, and small variations of it."""

from __future__ import annotations

from typing import Any

import pytest

PARAGRAPHS = [
    "各县（市、区）医疗保障局：",
    "为贯彻落实国家医保局关于按病种分值付费（DIP）支付方式改革的部署，现就有关事项通知如下。",
    "一、总体要求",
    "坚持以收定支、收支平衡、略有结余的原则，2025年全市DIP预算总额34.47亿元。",
    "（一）基准等级系数。三级医疗机构基准等级系数为0.66，二级医疗机构为0.58。",
    "（二）结算方式。按月预付、年终清算，预付比例不超过90%。",
    "二、工作措施",
    "（一）加强基金监管。各统筹区应当加强对定点医疗机构的稽核，严肃查处欺诈骗保行为，"
    "对违规机构予以通报。监管结果由市医保局负责汇总并向社会公开。对屡查屡犯的机构依法暂停医保服务协议。",
    "（二）做好宣传解读。通过多种渠道开展政策解读。",
    "三、本通知自印发之日起施行。",
]


def record(paragraphs: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """A record dict as ``storage.versions.get_version`` returns it (minus the version columns)."""
    base: dict[str, Any] = {
        "url": "https://ybj.example.gov.cn/zcwj/t1.html",
        "portal_id": "fujian_ningde",
        "title": "宁德市医疗保障局关于调整DIP基准等级系数的通知",
        "kind": "policy",
        "doc_no": "宁医保〔2025〕116号",
        "index_no": "11350900MB1889012X/2025-00123",
        "validity": "有效",
        "published_on": "2025-08-18",
        "generated_on": "2025-08-15",
        "meeting": None,
        "proposal_no": None,
        "deputies": [],
        "adoption": [],
        "reply_class": None,
        "attachments": [
            {"name": "附件1.pdf", "url": "https://ybj.example.gov.cn/a1.pdf", "sha256": "ab" * 32}
        ],
        "body_text": "\n".join(PARAGRAPHS if paragraphs is None else paragraphs),
    }
    base.update(fields)
    return base


def replaced(index: int, text: str) -> list[str]:
    """PARAGRAPHS with paragraph ``index`` replaced by ``text``."""
    out = list(PARAGRAPHS)
    out[index] = text
    return out


def sub(index: int, old: str, new: str) -> list[str]:
    """PARAGRAPHS with ``old`` replaced by ``new`` inside paragraph ``index``."""
    assert old in PARAGRAPHS[index]
    return replaced(index, PARAGRAPHS[index].replace(old, new))


def run_diff(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``yibao ARGV`` in this process: (exit code, out, err)."""
    from cli.main import main  # only the CLI test needs the CLI; the diff tests need the records

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err
