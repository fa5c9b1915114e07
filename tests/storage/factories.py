"""Records and a vocabulary-driven corpus for the storage tests (and the crash worker)."""

from __future__ import annotations

import random
from dataclasses import replace

from core.records import KIND_POLICY, KIND_SUGGESTION_REPLY, Attachment, DocumentRecord, Meeting

NOW = "2025-08-18T02:00:00Z"
LATER = "2025-08-19T02:00:00Z"

BODY = (
    "各县（市、区）医疗保障局：\n"
    "为贯彻落实国家医保局关于按病种分值付费（DIP）支付方式改革的部署，进一步做好异地就医直接结算工作，"
    "现就2025年度基准等级系数调整及门诊共济保障有关事项通知如下。\n"
    "一、统一病种目录库。各统筹区应当按照省级病种目录库执行，不得自行调整。\n"
    "二、规范基金监管。加强对定点医疗机构的稽核，严肃查处欺诈骗保行为。\n"
    "三、本通知自印发之日起施行。"
)


def policy(url: str = "https://ybj.example.gov.cn/zcwj/t1.html", **changes: object) -> DocumentRecord:
    base = DocumentRecord(
        url=url,
        portal_id="fujian_ningde",
        title="宁德市医疗保障局关于调整DIP基准等级系数的通知",
        kind=KIND_POLICY,
        bureau="宁德市医疗保障局",
        region_code="350900",
        index_no="11350900MB1889012X/2025-00123",
        doc_no="宁医保〔2025〕116号",
        doc_no_raw="宁医保[2025]116号",
        published_on="2025-08-18",
        validity="有效",
        body_text=BODY,
        attachments=[Attachment("附件1.pdf", "https://ybj.example.gov.cn/a1.pdf", sha256="ab" * 32)],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def reply(url: str = "https://ybj.example.gov.cn/jytabl/r1.html", **changes: object) -> DocumentRecord:
    base = DocumentRecord(
        url=url,
        portal_id="fujian_ningde",
        title="对市十六届人大五次会议第0105号建议的答复",
        kind=KIND_SUGGESTION_REPLY,
        bureau="宁德市医疗保障局",
        region_code="350900",
        meeting=Meeting("city", "npc", 16, 5, text="市十六届人大五次会议"),
        proposal_no="0105",
        deputies=["张三", "李四"],
        reply_class="A",
        adoption=["采纳"],
        body_text="张三、李四代表：\n您提出的关于推进门诊慢特病待遇保障的建议收悉，现答复如下。" + BODY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def notice(url: str, body: str, title: str = "关于开展医保政策宣传月活动的通知") -> DocumentRecord:
    """A record with no strong identity key (no 文号, 索引号 or proposal number)."""
    return DocumentRecord(url=url, portal_id="fujian_ningde", title=title, kind="notice", body_text=body)


# --- a random corpus of medical-insurance prose ----------------------------------------------------

TERMS_2 = [
    "医保", "集采", "门诊", "住院", "药品", "耗材", "支付", "结算", "参保", "缴费", "待遇", "统筹", "基金",
    "监管", "定点", "报销", "慢病", "特药", "救助", "谈判", "挂网", "目录", "稽核", "异地", "共济",
]  # fmt: skip
TERMS_3 = ["医保局", "医保码", "长护险", "参保人", "病种库", "门诊费", "集采药", "个账户", "统筹区"]
TERMS_4 = [
    "异地就医", "基准等级", "分值付费", "带量采购", "门诊共济", "职工医保", "居民医保", "大病保险",
    "医疗救助", "药品目录", "支付标准", "直接结算", "国家谈判", "按病种分", "欺诈骗保", "定点药店",
]  # fmt: skip
TERMS_LONG = [
    "按病种分值",
    "基准等级系数",
    "按病种分值付费",
    "门诊慢特病",
    "医保基金监管",
    "异地就医直接结算",
]
TERMS_ASCII = ["DIP", "DRG", "CHS", "APP", "2025", "2024", "3"]
TERMS_MIXED = ["DIP付费", "DRG/DIP", "2025年", "第3号", "医保APP", "CHS-DRG"]
FILLERS = [
    "关于", "进一步", "做好", "工作", "的", "通知", "各", "有关", "单位", "根据", "要求", "现将", "事项",
    "如下", "年度", "推进", "改革", "落实", "加强", "管理", "服务", "保障", "制度", "政策", "年", "号", "第",
]  # fmt: skip
VARIANTS = {"DIP": "ＤＩＰ", "2025": "２０２５", "DRG": "drg"}  # full-width / case variants in the text
SEPARATORS = ["", "", "", "", "", "，", "。", "、", " ", "\n", "；", "（", "）", "《", "》"]
ALL_TERMS = TERMS_2 + TERMS_3 + TERMS_4 + TERMS_LONG + TERMS_ASCII + TERMS_MIXED


def _phrase(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        word = rng.choice(ALL_TERMS) if rng.random() < 0.45 else rng.choice(FILLERS)
        if word in VARIANTS and rng.random() < 0.3:
            word = VARIANTS[word]
        out.append(word + rng.choice(SEPARATORS))
    return "".join(out)


def corpus(n: int, seed: int = 7) -> list[DocumentRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        doc_no = f"闽医保〔{rng.choice([2024, 2025])}〕{i + 1}号" if rng.random() < 0.6 else None
        records.append(
            DocumentRecord(
                url=f"https://ybj.example.gov.cn/doc/{i}.html",
                portal_id="fujian",
                title=_phrase(rng, rng.randint(3, 7)).replace("\n", "") + "的通知",
                kind=KIND_POLICY,
                bureau="福建省医疗保障局",
                doc_no=doc_no,
                index_no=f"FJYB-{i:06d}",
                body_text=_phrase(rng, rng.randint(20, 90)),
            )
        )
    return records
