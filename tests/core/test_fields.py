"""The field registry (core.fields): every record field once, and one definition of "what changed".

For every field, a change that the diff shows is a change that makes a version (and moves the comparison
hash), and the other way round -- except the documented context fields (dates), which a diff shows beside a
version-making change but which never make one. Noise (width, spacing, padding, a failed download) is
neither.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from core import fields as registry
from core.diffing import diff_versions
from core.identity import comparison_hash, identity_keys
from core.records import KINDS, DocumentRecord, Meeting

ATT = {"name": "附件1.pdf", "url": "https://ybj.example.gov.cn/a1.pdf", "sha256": "ab" * 32, "size": None, "text": None}
MEETING = {"level": "city", "body": "npc", "term": 16, "session": 5, "standing": False, "text": "市十六届人大五次会议"}


def base() -> dict[str, Any]:
    """A reply's record dict with every field set (as storage.versions returns it, minus the version columns)."""
    return {
        "url": "https://ybj.example.gov.cn/jytabl/r1.html",
        "portal_id": "fujian_ningde",
        "title": "对市十六届人大五次会议第0105号建议的答复",
        "kind": "suggestion_reply",
        "bureau": "宁德市医疗保障局",
        "region_code": "350900",
        "title_tag": "建议提案",
        "index_no": "11350900MB1889012X/2025-00123",
        "doc_no": "宁医保函〔2025〕116号",
        "doc_no_raw": "宁医保函[2025]116号",
        "meeting": dict(MEETING),
        "proposal_no": "0105",
        "deputies": ["张三", "李四"],
        "proposal_title": "关于推进门诊慢特病待遇保障的建议",
        "reply_class": "A",
        "adoption": ["采纳"],
        "generated_on": "2025-08-15",
        "published_on": "2025-08-18",
        "signed_on": "2025-08-15",
        "validity": "有效",
        "contacts": {"signer": "王五", "contact": "赵六", "phone": "0593-1234567"},
        "public_marker": "主动公开",
        "body_text": "张三、李四代表：\n您提出的建议收悉，现答复如下。\n一、关于待遇保障。我局已将门诊慢特病纳入保障。",
        "outline": [[1, "一、关于待遇保障。"]],
        "attachments": [dict(ATT)],
        "theme": "医疗保障",
    }


# A real change of each field: (old value, new value). Every record field must have one.
CHANGES: dict[str, tuple[Any, Any]] = {
    "url": (None, "https://ybj.example.gov.cn/jytabl/r1.html?from=list"),
    "portal_id": (None, "fujian"),
    "title": (None, "对市十六届人大五次会议第0105号建议的补充答复"),
    "kind": (None, "proposal_reply"),
    "bureau": (None, "福建省医疗保障局"),
    "region_code": (None, "350000"),
    "title_tag": (None, "建议答复"),
    "index_no": (None, "11350900MB1889012X/2025-00124"),
    "doc_no": (None, "宁医保函〔2025〕117号"),
    "doc_no_raw": (None, "宁医保函（2025）116号"),
    "meeting": (None, {**MEETING, "session": 4, "text": "市十六届人大四次会议"}),
    "proposal_no": (None, "0106"),
    "deputies": (None, ["张三", "王五"]),
    "proposal_title": (None, "关于推进门诊共济保障的建议"),
    "reply_class": (None, "B"),
    "adoption": (None, ["部分采纳"]),
    "generated_on": (None, "2025-08-16"),
    "published_on": (None, "2025-08-19"),
    "signed_on": (None, "2025-08-16"),
    "validity": (None, "失效"),
    "contacts": (None, {"signer": "王五", "contact": "钱七", "phone": "0593-7654321"}),
    "public_marker": (None, "依申请公开"),
    "body_text": (None, "张三、李四代表：\n您提出的建议收悉，现答复如下。\n一、关于待遇保障。我局已将门诊慢特病全部纳入保障。"),
    "outline": (None, [[1, "一、关于待遇保障与支付。"]]),
    "attachments": (None, [{**ATT, "sha256": "cd" * 32}]),
    "theme": (None, "社会保障"),
}

# Changes that are no change: how a page prints the same thing differently.
NOISE: dict[str, Any] = {
    "title": " 对市十六届人大五次会议第０１０５号建议的答复 ",
    "index_no": "11350900MB1889012X/2025-00123 ",
    "doc_no": "宁医保函[2025]0116号",
    "meeting": {**MEETING, "text": "宁德市第十六届人民代表大会第五次会议"},  # same session, printed otherwise
    "proposal_no": "第105号",
    "deputies": ["张　三", "李四"],
    "reply_class": "Ａ",
    "adoption": [" 采纳 "],
    "validity": "有 效",
    "body_text": "张三、李四代表：\n\n  您提出的建议收悉，现答复如下。 \n一、关于待遇保障。我局已将门诊慢特病纳入保障。\n",
    "attachments": [{**ATT, "url": "https://ybj.example.gov.cn/a1.pdf?t=999", "sha256": None}],  # download failed
    "published_on": None,  # a page that does not print the date
}

# The documented exception: shown in a diff beside a version-making change, never making one alone.
CONTEXT_ONLY = {"generated_on", "published_on", "signed_on"}


def changed(name: str, value: Any) -> dict[str, Any]:
    return {**base(), name: value}


def shows_in_diff(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return set(diff_versions(old, new).changed_fields())


def test_every_record_field_is_in_the_registry_once() -> None:
    names = [f.name for f in registry.FIELDS]
    assert len(names) == len(set(names))
    assert set(names) == {f.name for f in dataclasses.fields(DocumentRecord)}
    assert all(f.record for f in registry.FIELDS)
    assert not {f.name for f in registry.ARCHIVE_FIELDS} & set(names)
    assert set(CHANGES) == set(names)  # a new field needs its sample change here (and a decision)


def test_every_field_has_labels_a_group_and_a_reason_when_it_makes_no_version() -> None:
    for f in (*registry.FIELDS, *registry.ARCHIVE_FIELDS):
        assert all((f.zh, f.en, f.group)), f.name
        assert f.doc, f.name
        if not f.versioned:
            assert f.why, f"{f.name}: say why a change of it makes no version"
        assert (f.fold is None) == (f.change is None), f.name
    zh = [f.zh for f in (*registry.FIELDS, *registry.ARCHIVE_FIELDS)]
    assert len(zh) == len(set(zh))  # two fields never read the same


@pytest.mark.parametrize("name", [f.name for f in registry.FIELDS])
def test_shows_in_a_diff_iff_makes_a_version(name: str) -> None:
    f = registry.field(name)
    old = base()
    new = changed(name, CHANGES[name][1])
    assert new[name] != old[name]
    in_diff = name in shows_in_diff(old, new)
    makes_version = name in registry.changed_fields(old, new)
    hash_moves = comparison_hash(old) != comparison_hash(new)
    assert in_diff == f.diffed, name
    assert makes_version == f.versioned, name
    assert hash_moves == f.versioned, name
    if name in CONTEXT_ONLY:
        assert (in_diff, makes_version) == (True, False)
        assert registry.changed_fields(old, new, context=True) == [name]
    else:
        assert in_diff == makes_version, f"{name}: shown in a diff but makes no version, or the reverse"


def test_the_exceptions_are_exactly_the_dates() -> None:
    assert {f.name for f in registry.FIELDS if f.diffed and not f.versioned} == CONTEXT_ONLY
    assert {f.name for f in registry.FIELDS if f.versioned and not f.diffed} == set()
    for name in CONTEXT_ONLY:
        assert registry.field(name).change == registry.CONTEXT
        assert "re-stamp" in registry.field(name).why


@pytest.mark.parametrize("name", sorted(NOISE))
def test_noise_is_neither_shown_nor_versioned(name: str) -> None:
    old, new = base(), changed(name, NOISE[name])
    assert shows_in_diff(old, new) == set(), name
    assert registry.changed_fields(old, new, context=True) == [], name
    if name != "attachments":  # a download that failed moves the hash, but names no field: no version
        assert comparison_hash(old) == comparison_hash(new), name


def test_a_meeting_only_change_makes_a_version_and_shows() -> None:
    old, new = base(), changed("meeting", CHANGES["meeting"][1])
    cs = diff_versions(old, new)
    assert [(c.name, c.label_zh, c.old, c.new) for c in cs.fields] == [
        ("meeting", "会议", "市十六届人大五次会议", "市十六届人大四次会议")
    ]
    assert registry.changed_fields(old, new) == ["meeting"]


def test_attachment_renamed_same_content_is_shown_and_versioned() -> None:
    old = base()
    new = changed("attachments", [{**ATT, "name": "附件1：系数表.pdf"}])
    assert [(c.change, c.old, c.new) for c in diff_versions(old, new).fields] == [
        ("renamed", "附件1.pdf", "附件1：系数表.pdf")
    ]
    assert registry.changed_fields(old, new) == ["attachments"]
    # two files swapping names is no change of either
    a, b = {**ATT, "name": "a.pdf", "sha256": "1"}, {**ATT, "name": "b.pdf", "sha256": "1"}
    assert registry.attachment_changes([a, b], [b, a]) == []


def test_changed_fields_follow_registry_order() -> None:
    old = base()
    new = {**old, "attachments": [], "validity": "失效", "title": "新标题", "deputies": ["王五"]}
    assert registry.changed_fields(old, new) == ["title", "validity", "deputies", "attachments"]
    assert diff_versions(old, new).changed_fields() == ["title", "validity", "deputies", "attachments"]


def test_records_and_dicts_compare_alike() -> None:
    data = base()
    data["meeting"] = Meeting(**MEETING)
    record = DocumentRecord(**dict(data.items()))
    assert registry.comparison_fields(record) == registry.comparison_fields(base())
    assert json.dumps(registry.comparison_fields(record), ensure_ascii=False)  # hashable as JSON


def test_identity_keys_use_the_registry_folds() -> None:
    record = DocumentRecord(**{**base(), "meeting": Meeting(**MEETING)})
    noisy = dataclasses.replace(record, doc_no="宁医保函[2025]0116号", proposal_no="第105号",
                                meeting=Meeting(**{**MEETING, "text": "另一种写法"}))
    assert identity_keys(record) == identity_keys(noisy)
    assert identity_keys(record)[0] == f"docno:宁德市医疗保障局|{registry.canonical_doc_no('宁医保函〔2025〕116号')}"


def test_display() -> None:
    assert registry.display("deputies", ["张三", "李四"]) == "张三、李四"
    assert registry.display("deputies", '["张三", "李四"]') == "张三、李四"  # the documents table's JSON text
    assert registry.display("meeting", MEETING) == "市十六届人大五次会议"
    assert registry.display("meeting_text", "市十六届人大五次会议") == "市十六届人大五次会议"
    assert registry.display("kind", "policy") == "政策文件"
    assert registry.display("attachments", [ATT]) == "附件1.pdf"
    assert registry.display("contacts", {"signer": "王五", "phone": ""}) == "signer: 王五"
    assert registry.display("validity", None) is None
    assert registry.display("adoption", []) is None


def test_kind_labels_cover_every_kind() -> None:
    from storage.events import DOCUMENT_EVENT_KINDS

    assert set(registry.DOC_KINDS) == set(KINDS)
    assert set(DOCUMENT_EVENT_KINDS) <= set(registry.EVENT_KINDS)
    assert {"portal_broken", "portal_recovered", "delivery_dead", "test", "digest"} <= set(registry.EVENT_KINDS)


def test_show_fields_is_what_the_show_command_lists() -> None:
    """``show_fields()`` is the ``(key, 中文, English)`` table ``yibao show`` prints, in its order."""
    shown = list(registry.show_fields())
    assert [k for k, _, _ in shown] == list(registry.SHOW_ORDER)
    assert shown[:3] == [("kind", "类别", "kind"), ("status", "状态", "status"), ("bureau", "发布机构", "bureau")]
    assert ("deputies", "代表/委员", "deputies") in shown
    assert all(registry.field(k).zh == zh and registry.field(k).en == en for k, zh, en in shown)
    with pytest.raises(KeyError):
        registry.field("nonsense")
    assert registry.label("nonsense") == "nonsense"
