"""Unit tests of core.diffing: what a reader should see for each kind of change."""

from __future__ import annotations

import json
import time

import pytest

from core.diffing import ChangeSet, FieldChange, diff_versions, split_sentences
from core.records import Attachment, DocumentRecord
from tests.diffing.helpers import PARAGRAPHS, record, replaced, sub

S1 = "一、总体要求"
S1_1, S1_2 = f"{S1} / （一）基准等级系数。", f"{S1} / （二）结算方式。"
S2 = "二、工作措施"
S2_1, S2_2 = f"{S2} / （一）加强基金监管。", f"{S2} / （二）做好宣传解读。"
ATT = {"name": "附件1.pdf", "url": "https://ybj.example.gov.cn/a1.pdf", "sha256": "ab" * 32}

# id, old, new, paragraph kinds, field changes (name, old, new, change), figures (label, old, new), sections
CASES = [
    pytest.param(
        record(),
        record(sub(4, "0.66", "0.68")),
        ["changed"],
        [],
        [("基准等级系数", "0.66", "0.68")],
        [S1_1],
        id="one-figure",
    ),
    pytest.param(
        record(),
        record(sub(3, "34.47亿元", "35.1亿元")),
        ["changed"],
        [],
        [("预算总额", "34.47亿元", "35.1亿元")],
        [S1],
        id="yi-yuan-amount",
    ),
    pytest.param(
        record(),
        record(sub(5, "不超过90%", "不超过85%")),
        ["changed"],
        [],
        [("预付比例", "90%", "85%")],
        [S1_2],
        id="percent",
    ),
    pytest.param(
        record(),
        record([*PARAGRAPHS[:6], "（三）新增条款。定点医疗机构应当按时上传结算清单。", *PARAGRAPHS[6:]]),
        ["added"],
        [],
        [],
        [f"{S1} / （三）新增条款。"],
        id="paragraph-added",
    ),
    pytest.param(
        record(),
        record(PARAGRAPHS[:8] + PARAGRAPHS[9:]),
        ["removed"],
        [],
        [],
        [S2_2],
        id="paragraph-removed",
    ),
    pytest.param(
        record(),
        record(replaced(1, "为进一步规范医保基金使用管理，经研究决定，自2026年1月起全面推行新的结算办法。")),
        ["removed", "added"],
        [],
        [],
        [],
        id="paragraph-rewritten",
    ),
    pytest.param(
        record(),
        record(
            [p.replace("（", "(").replace("）", ")").replace("，", ",") for p in PARAGRAPHS],
            title="宁德市医疗保障局关于调整ＤＩＰ基准等级系数的通知",
            doc_no="宁医保[2025]116号",
        ),
        [],
        [],
        [],
        [],
        id="width-only",
    ),
    pytest.param(
        record(),
        record(validity="失效"),
        [],
        [("validity", "有效", "失效", "changed")],
        [],
        [],
        id="validity",
    ),
    pytest.param(
        record(),
        record(doc_no="宁医保〔2025〕120号"),
        [],
        [("doc_no", "宁医保〔2025〕116号", "宁医保〔2025〕120号", "changed")],
        [],
        [],
        id="doc-no",
    ),
    pytest.param(
        record(),
        record(doc_no="宁医保（2025）第0116号"),
        [],
        [],
        [],
        [],
        id="doc-no-same-canonical",
    ),
    pytest.param(
        record(),
        record(title="宁德市医疗保障局关于调整DIP基准等级系数的补充通知"),
        [],
        [("title", record()["title"], "宁德市医疗保障局关于调整DIP基准等级系数的补充通知", "changed")],
        [],
        [],
        id="title",
    ),
    pytest.param(
        record(),
        record(attachments=[ATT | {"sha256": "cd" * 32}]),
        [],
        [("attachments", "附件1.pdf", "附件1.pdf", "replaced")],
        [],
        [],
        id="attachment-replaced",
    ),
    pytest.param(
        record(),
        record(attachments=[ATT, {"name": "附件2.xlsx", "url": "u", "sha256": "ef" * 32}]),
        [],
        [("attachments", None, "附件2.xlsx", "added")],
        [],
        [],
        id="attachment-added",
    ),
    pytest.param(
        record(),
        record(attachments=[]),
        [],
        [("attachments", "附件1.pdf", None, "removed")],
        [],
        [],
        id="attachment-removed",
    ),
    pytest.param(
        record(),
        record(attachments=[ATT | {"name": "附件1：系数表.pdf"}]),
        [],
        [("attachments", "附件1.pdf", "附件1：系数表.pdf", "renamed")],
        [],
        [],
        id="attachment-renamed",
    ),
    pytest.param(
        record(published_on="2025-08-18"),
        record(published_on=None),
        [],
        [],
        [],
        [],
        id="date-not-printed",
    ),
    pytest.param(
        record(reply_class="A", adoption=["采纳"]),
        record(reply_class="B", adoption=["部分采纳"]),
        [],
        [("reply_class", "A", "B", "changed"), ("adoption", "采纳", "部分采纳", "changed")],
        [],
        [],
        id="reply-class-adoption",
    ),
    pytest.param(
        record(),
        record(sub(8, "多种渠道", "多种渠道（含新媒体）")),
        ["changed"],
        [],
        [],
        [S2_2],
        id="nested-section",
    ),
]


@pytest.mark.parametrize(("old", "new", "kinds", "fields", "figures", "sections"), CASES)
def test_diff_versions(old, new, kinds, fields, figures, sections) -> None:
    cs = diff_versions(old, new)
    assert [p.kind for p in cs.paragraphs] == kinds
    assert [(f.name, f.old, f.new, f.change) for f in cs.fields] == fields
    assert [(f.label, f.old, f.new) for f in cs.figures] == figures
    assert cs.sections == sections
    assert cs.is_empty() == (not kinds and not fields)
    json.dumps(cs.to_dict(), ensure_ascii=False)  # JSON-safe


def _marked(text: str, spans) -> list[str]:
    return [text[s:e] for s, e in spans]


# id, paragraph index, old fragment, new fragment, deleted texts, inserted texts
SPAN_CASES = [
    pytest.param(7, "市医保局", "市卫健委", ["医保局"], ["卫健委"], id="word-in-middle-sentence"),
    pytest.param(4, "0.66", "0.68", ["0.66"], ["0.68"], id="number-widened"),
    pytest.param(3, "34.47亿元", "35.1亿元", ["34.47"], ["35.1"], id="amount-widened"),
    pytest.param(7, "严肃查处", "依法严肃查处", [], ["依法"], id="pure-insertion"),
    pytest.param(7, "，对违规机构予以通报", "", ["，对违规机构予以通报"], [], id="pure-deletion"),
    pytest.param(
        7,
        "对屡查屡犯的机构依法暂停医保服务协议。",
        "对屡查屡犯的机构依法解除医保服务协议，并移交有关部门。",
        ["暂停"],
        ["解除", "，并移交有关部门"],
        id="two-edits-one-sentence",
    ),
]


@pytest.mark.parametrize(("index", "old", "new", "deleted", "inserted"), SPAN_CASES)
def test_character_spans(index, old, new, deleted, inserted) -> None:
    cs = diff_versions(record(), record(sub(index, old, new)))
    (p,) = cs.paragraphs
    assert (p.kind, p.old, p.new) == ("changed", PARAGRAPHS[index], PARAGRAPHS[index].replace(old, new))
    assert _marked(p.old, p.spans_old) == deleted
    assert _marked(p.new, p.spans_new) == inserted
    # the inline segments rebuild both texts
    assert "".join(t for op, t in p.segments if op != "-") == p.new
    assert "".join(t for op, t in p.segments if op != "+") == p.old


def test_sentence_change_in_long_paragraph_exact_spans() -> None:
    long = PARAGRAPHS[7]
    cs = diff_versions(record(), record(sub(7, "由市医保局负责汇总", "由市医保局会同市财政局负责汇总")))
    (p,) = cs.paragraphs
    start = long.index("负责汇总")
    assert p.spans_old == ()
    assert p.spans_new == ((start, start + len("会同市财政局")),)
    assert p.new[start : start + 6] == "会同市财政局"
    assert cs.figures == []


def test_width_folded_spans_point_at_original_text() -> None:
    """A full-width → half-width change next to a real edit is not highlighted; positions stay right."""
    old = "预付比例不超过９０％，按月预付。"
    new = "预付比例不超过85%,按月预付。"
    cs = diff_versions(record([old]), record([new]))
    (p,) = cs.paragraphs
    assert _marked(p.old, p.spans_old) == ["９０"]
    assert _marked(p.new, p.spans_new) == ["85"]
    assert [(f.label, f.old, f.new) for f in cs.figures] == [("预付比例", "９０％", "85%")]


def test_figure_added_in_edit_has_context() -> None:
    text = PARAGRAPHS[7].rstrip("。") + "，预算总额调整为31.5亿元。"
    cs = diff_versions(record(), record(replaced(7, text)))
    (fig,) = cs.figures
    assert (fig.label, fig.old, fig.new) == ("预算总额", None, "31.5亿元")
    assert fig.context.endswith("预算总额调整为31.5亿元。")


def test_new_document() -> None:
    cs = diff_versions(None, record())
    assert cs.is_new
    assert not cs.is_empty()
    assert cs.summary() == "新文档"


def test_accepts_document_records() -> None:
    old = DocumentRecord(
        url="u",
        portal_id="p",
        title="t",
        kind="notice",
        body_text="甲。\n乙。",
        attachments=[Attachment("a.pdf", "u", sha256="1")],
    )
    new = DocumentRecord(
        url="u",
        portal_id="p",
        title="t",
        kind="notice",
        body_text="甲。\n丙。",
        attachments=[Attachment("a.pdf", "u", sha256="2")],
    )
    cs = diff_versions(old, new)
    assert [p.kind for p in cs.paragraphs] == ["removed", "added"]
    assert cs.fields == [FieldChange("attachments", "附件", "a.pdf", "a.pdf", "replaced")]


@pytest.mark.parametrize(
    ("cs_args", "expected"),
    [
        pytest.param(
            (record(), record(sub(4, "0.66", "0.68"), validity="失效")),
            "正文修改 1 处（一、总体要求）：基准等级系数 0.66 → 0.68；有效性 有效 → 失效",
            id="body-and-field",
        ),
        pytest.param((record(), record(validity="失效")), "有效性 有效 → 失效", id="field-only"),
        pytest.param((record(), record(attachments=[])), "附件删除 附件1.pdf", id="attachment"),
        pytest.param((record(), record()), "无实质变化", id="nothing"),
    ],
)
def test_summary(cs_args, expected) -> None:
    assert diff_versions(*cs_args).summary() == expected


def test_to_dict_shape() -> None:
    data = diff_versions(record(), record(sub(4, "0.66", "0.68"), validity="失效")).to_dict()
    assert set(data) == {"is_new", "summary", "counts", "fields", "paragraphs", "sections", "figures"}
    assert data["counts"] == {"changed": 1, "added": 0, "removed": 0}
    assert data["fields"] == [
        {"name": "validity", "label_zh": "有效性", "old": "有效", "new": "失效", "change": "changed"}
    ]
    start = PARAGRAPHS[4].index("0.66")
    assert data["paragraphs"][0]["spans_new"] == [[start, start + 4]]
    assert data["figures"] == [
        {
            "label": "基准等级系数",
            "old": "0.66",
            "new": "0.68",
            "context": "三级医疗机构基准等级系数为0.68，二级医疗机构为0.58。",
        }
    ]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param("甲。乙！丙？丁；戊", ["甲。", "乙！", "丙？", "丁；", "戊"], id="all-terminators"),
        pytest.param("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"], id="closing-quote"),
        pytest.param("无标点", ["无标点"], id="no-terminator"),
    ],
)
def test_split_sentences(text, sentences) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


def _big_body(seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    words = [
        "医保",
        "基金",
        "监管",
        "门诊",
        "住院",
        "结算",
        "异地就医",
        "支付方式",
        "定点医疗机构",
        "参保人员",
    ]
    paras = []
    for k in range(90):
        if k % 15 == 0:
            paras.append(f"{'一二三四五六'[k // 15]}、第{k}部分")
            continue
        sentences = [
            "".join(rng.choice(words) for _ in range(8)) + f"共{rng.randint(1, 99)}家。" for _ in range(3)
        ]
        paras.append("".join(sentences))
    return paras


def test_twenty_kilobyte_documents_diff_fast() -> None:
    old = _big_body(1)
    new = list(old)
    for k in (5, 17, 33, 48):  # a few edits and one insertion, one deletion
        new[k] = new[k][:20] + "调整为12.5亿元" + new[k][24:]
    new.insert(25, "新增段落：自2026年1月1日起执行。")
    del new[40]
    old_rec, new_rec = record(old), record(new)
    assert len(old_rec["body_text"].encode()) >= 20_000
    best = min(_timed(old_rec, new_rec) for _ in range(5))
    assert best < 0.05, f"{best * 1000:.1f} ms"


def _timed(old, new) -> float:
    start = time.perf_counter()
    cs: ChangeSet = diff_versions(old, new)
    elapsed = time.perf_counter() - start
    assert cs.counts() == {"changed": 4, "added": 1, "removed": 1}
    return elapsed


# id, old paragraphs, new paragraphs, expected sections, expected summary
SECTION_CASES = [
    pytest.param(
        ["前言。", "一、甲", "内容甲。"],
        ["前言有改。", "一、甲", "内容甲。"],
        [],
        "正文修改 1 处",
        id="before-any-heading",
    ),
    pytest.param(
        ["一、甲", "（一）子甲。内容。", "二、乙", "（一）子乙。内容。"],
        ["一、甲", "（一）子甲。内容有改。", "二、乙", "（一）子乙。内容有改。"],
        ["一、甲 / （一）子甲。", "二、乙 / （一）子乙。"],
        "正文修改 2 处（一、甲；二、乙）",
        id="two-top-sections",
    ),
    pytest.param(
        ["一、甲", "（一）子甲。", "正文一。", "（二）子乙。", "正文二。"],
        ["一、甲", "（一）子甲。", "正文一。", "（二）子乙。", "正文二有改。"],
        ["一、甲 / （二）子乙。"],
        "正文修改 1 处（一、甲）",
        id="second-subsection",
    ),
    pytest.param(
        ["一、甲", "1.要点一。", "正文。"],
        ["一、甲", "1.要点一。", "正文有改。"],
        ["一、甲"],
        "正文修改 1 处（一、甲）",
        id="level-three-ignored-under-level-one",
    ),
    pytest.param(
        ["1.要点一。", "正文。"],
        ["1.要点一。", "正文有改。"],
        ["1.要点一。"],
        "正文修改 1 处（1.要点一。）",
        id="only-level-three",
    ),
    pytest.param(
        ["一、甲", "正文。", "二、乙", "正文。"],
        ["一、甲", "正文。", "二、乙（修订）", "正文。"],
        ["二、乙（修订）"],
        "正文修改 1 处（二、乙（修订））",
        id="heading-itself-changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "sections", "summary"), SECTION_CASES)
def test_section_attribution(old, new, sections, summary) -> None:
    cs = diff_versions(record(old), record(new))
    assert cs.sections == sections
    assert cs.summary() == summary
