"""The five seed pages, turned back into publishable documents.

The seed files in ``data/seeds/`` are plain-text extractions of real pages: page chrome and the
metadata block are mixed into the text, and ASCII punctuation stands where the pages print
full-width forms. ``SEEDS`` says, for each file, where it was published, which lines are its body
and what its metadata is; ``load_seed_documents`` builds the ``Document``s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from .model import RIGHT, Block, CitedDoc, Document, Meeting
from .textutil import blocks_from_lines, centered, to_fullwidth


@dataclass(frozen=True)
class SeedSpec:
    file: str
    portal_id: str
    column: str
    doc_id: int
    kind: str
    title: str
    published_at: datetime
    first_body_line: str  # body starts at the first line starting with this text
    last_body_line: str  # ...and ends at the last line starting with this text
    fields: dict[str, Any] = field(default_factory=dict)
    center_lines: tuple[str, ...] = ()  # body lines rendered centred (文号 at the top)


ZS_MEETING = Meeting("city", "npc", 16, 5, "市十六届人大五次会议")

SEEDS: tuple[SeedSpec, ...] = (
    SeedSpec(
        file="000_5e8d3dfb7c48dd27.txt",
        portal_id="guangdong_zhongshan",
        column="qtwj",
        doc_id=2025010,
        kind="suggestion_reply",
        title="中山市医疗保障局关于市十六届人大五次会议第2025010号建议答复的函",
        published_at=datetime(2025, 9, 16, 15, 42),
        first_body_line="黄彩欢代表",
        last_body_line="2025年9月8日",
        fields={
            "title_tag": "建议提案",
            "meeting": ZS_MEETING,
            "proposal_no": "2025010",
            "deputies": ["黄彩欢"],
            "proposal_title": "关于提升基层医院（服务能力）相关问题的建议",
            "adoption": ["部分采纳", "部分采纳", "吸收采纳", "部分采纳", "部分采纳", "部分采纳"],
            "signed_on": "2025-09-08",
            "theme": "人大建议",
            "citations": [
                CitedDoc(
                    "implements",
                    "国家医疗保障局办公室关于印发按病组（DRG）和病种分值（DIP）付费2.0版分组方案并深入推进相关工作的通知",
                    None,
                ),
                CitedDoc("cites", "关于印发中山市社会医疗保险DIP目录库（2025年版）的通知", None),
                CitedDoc("implements", "中山市职工医疗保险办法", "中府〔2021〕87号"),
                CitedDoc("implements", "中山市城乡居民医疗保险办法", "中府〔2021〕88号"),
                CitedDoc("implements", "中山市人民政府关于落实广东省医疗保障待遇清单制度的通知", "中府〔2022〕133号"),
            ],
        },
    ),
    SeedSpec(
        file="001_d560c44fb241c723.txt",
        portal_id="sichuan",
        column="jyta",
        doc_id=1,
        kind="proposal_reply",
        title="四川省医疗保障局对刘建辉委员提案的答复",
        published_at=datetime(2025, 7, 4, 9, 30),
        first_body_line="刘建辉委员",
        last_body_line="2025年6月30日",
        fields={
            "deputies": ["刘建辉"],
            "proposal_title": "关于完善医保DRG支付结算，促进“医、保、患”三方共赢的提案",
            "signed_on": "2025-06-30",
            "citations": [
                CitedDoc("cites", "四川省“三医”协同发展和治理协作会商机制工作方案", None),
                CitedDoc("cites", "社会保险基金财务制度", None),
            ],
        },
    ),
    SeedSpec(
        file="002_bae99781d87ec412.txt",
        portal_id="fujian_xiamen",
        column="jytabl",
        doc_id=2934567,
        kind="suggestion_reply",
        title="厦门市医疗保障局关于市十六届人大五次会议第0105号建议办理情况答复的函",
        published_at=datetime(2025, 5, 7, 16, 18),
        first_body_line="厦医保函〔2025〕33号",
        last_body_line="2025年5月6日",
        center_lines=("厦医保函〔2025〕33号",),
        fields={
            "index_no": "XM00149-09-01-2025-007",
            "theme": "人大",
            "doc_no_raw": "厦医保函〔2025〕33号",
            "doc_no": "厦医保函〔2025〕33号",
            "generated_on": "2025-05-06",
            "validity": "有效",
            "meeting": Meeting("city", "npc", 16, 5, "市十六届人大五次会议"),
            "proposal_no": "0105",
            "deputies": ["叶少静"],
            "proposal_title": "关于在我市即将步入老龄化背景下，进一步优化医疗保障的建议",
            "reply_class": "C",
            "signed_on": "2025-05-06",
            "citations": [
                CitedDoc("implements", "厦门市人民政府办公厅关于办理市十六届人大五次会议代表建议的通知", None),
                CitedDoc(
                    "implements",
                    "福建省医疗保障局关于开展“上网店，查药价，比数据，抓治理”专项行动的函",
                    "闽医保价采函〔2024〕49号",
                ),
                CitedDoc(
                    "implements",
                    "国家卫生健康委医政司关于开展2024年医疗机构处方抽查工作的通知",
                    "国卫医政医疗便函〔2024〕162号",
                ),
                CitedDoc("cites", "人身保险理赔服务规范", None),
            ],
        },
    ),
    SeedSpec(
        file="003_8282d5f99d10aa13.txt",
        portal_id="fujian_ningde",
        column="jytabl",
        doc_id=1728394,
        kind="suggestion_reply",
        title="关于市五届人大四次会议第1472号建议的答复",
        published_at=datetime(2025, 8, 18, 10, 12),
        first_body_line="林洪棋、李英妹",
        last_body_line="(此件主动公开)",
        fields={
            "index_no": "ND00263-0200-2025-00071",
            "doc_no_raw": "宁医保函〔2025〕116号",
            "doc_no": "宁医保函〔2025〕116号",
            "generated_on": "2025-08-11",
            "validity": "有效",
            "meeting": Meeting("city", "npc", 5, 4, "市五届人大四次会议"),
            "proposal_no": "1472",
            "deputies": [
                "林洪棋", "李英妹", "吴元邦", "陈久斌", "陈兆树", "陈秋玲", "陈俊忠", "陈楠",
                "林圣涵", "林容", "林梅芳", "林翠花", "郑倩倩", "黄林敏", "黄祖落", "黄银义",
            ],
            "proposal_title": "完善医保基金管理，切实保障民生福祉",
            "signed_on": "2025-08-11",
            "contacts": {"signer": "陈玉良", "contact": "陈玮", "phone": "0593-2079766"},
            "public_marker": "主动公开",
            "citations": [
                CitedDoc("cites", "2025年度医保定点医药机构绩效考核暂行方案", None),
                CitedDoc("implements", "DIP技术规范", None),
                CitedDoc("implements", "DIP经办规程", None),
                CitedDoc("cites", "社会保险法", None, "law"),
                CitedDoc("cites", "医疗保障基金使用监督管理条例", None, "regulation"),
                CitedDoc("cites", "关于办理医保骗保刑事案件若干问题的指导意见", None),
                CitedDoc("implements", "关于进一步规范医疗行为促进合理医疗检查的指导意见", None),
                CitedDoc("implements", "医疗机构临床路径管理指导原则", None),
            ],
        },
    ),
    SeedSpec(
        file="004_aa5514123f6bbc4e.txt",
        portal_id="guangdong_zhongshan",
        column="ghzj",
        doc_id=2140001,
        kind="report",
        title="中山市医疗保障局2022年上半年工作总结",
        published_at=datetime(2022, 8, 12, 11, 5),
        first_body_line="2022年上半年",
        last_body_line="2022年8月10日",
        fields={
            "signed_on": "2022-08-10",
            "theme": "工作总结",
            "citations": [
                CitedDoc("cites", "中山市职工生育保险办法", None),
                CitedDoc("amends", "中山市社会医疗保险医疗费用结算办法", None),
            ],
        },
    ),
)


_SIGNATURE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def _body_lines(text: str, spec: SeedSpec) -> list[str]:
    lines = [line.strip(" \t\u00a0\u2002\u2003\u3000") for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(spec.first_body_line))
    end = max(i for i, line in enumerate(lines) if line.startswith(spec.last_body_line))
    return [line for line in lines[start : end + 1] if line]


def _blocks(lines: list[str], spec: SeedSpec) -> list[Block]:
    blocks = blocks_from_lines([to_fullwidth(line) for line in lines])
    for block in blocks:
        if block.text in spec.center_lines:
            block.role = centered(block.text).role
    # the signature: the organisation line and the date line under it, right-aligned
    date_at = max(i for i, b in enumerate(blocks) if _SIGNATURE_DATE.fullmatch(b.text))
    for block in blocks[date_at - 1 : date_at + 1]:
        block.role = RIGHT
    return blocks


def seed_text(name: str) -> str:
    return resources.files(__package__).joinpath("data", "seeds", name).read_text(encoding="utf-8")


def load_seed_documents(bureaus: dict[str, tuple[str, str]]) -> list[Document]:
    """Build the seed documents. ``bureaus`` maps portal id → (bureau name, region code)."""
    docs = []
    for spec in SEEDS:
        bureau, region = bureaus[spec.portal_id]
        lines = _body_lines(seed_text(spec.file), spec)
        docs.append(
            Document(
                doc_id=spec.doc_id,
                portal_id=spec.portal_id,
                column=spec.column,
                kind=spec.kind,
                title=spec.title,
                published_at=spec.published_at,
                blocks=_blocks(lines, spec),
                bureau=bureau,
                region_code=region,
                seed=spec.file,
                identity=f"seed-{spec.file[:3]}",
                **spec.fields,
            )
        )
    return docs
