"""Every label a reader sees comes from the field registry (core.fields): no module keeps its own table of
field, document-kind or event-kind labels."""

from __future__ import annotations

import re
from pathlib import Path

from core import fields as registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "storage", "crawler", "spiders", "alerts", "webui", "ops", "cli")
# cli/query.py keeps its (key, 中文, English) table until it reads core.fields.show_fields (owned by the CLI
# work of issue 11); test_the_show_table_is_the_registrys keeps it equal to the registry meanwhile.
NOT_YET = {"cli/query.py"}


def _labels() -> dict[str, str]:
    out = {f.name: f.zh for f in (*registry.FIELDS, *registry.ARCHIVE_FIELDS)}
    out.update({f.column: f.zh for f in registry.FIELDS if f.column})
    out.update(registry.DOC_KIND_LABELS)
    out.update(registry.EVENT_KIND_LABELS)
    return out


def test_no_module_keeps_its_own_label_table() -> None:
    """A ``"doc_no": "文号"`` or ``("doc_no", "文号")`` pair anywhere outside the registry is a label table."""
    pairs = [
        re.compile(rf"""["']{re.escape(name)}["'][ \t]*[:,][ \t]*["']{re.escape(zh)}""")
        for name, zh in _labels().items()
    ]
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "core/fields.py" or relative in NOT_YET:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{relative}: {p.pattern}" for p in pairs if p.search(text)]
    assert offenders == []


def test_the_scan_finds_a_table() -> None:
    text = 'FIELDS = (("bureau", "发布机构"), ("kind", "类别"))\nKINDS = {"edited": "内容修改"}'
    found = [name for name, zh in _labels().items() if re.search(rf"""["']{name}["'][ \t]*[:,][ \t]*["']{zh}""", text)]
    assert sorted(found) == ["bureau", "edited", "kind"]


def test_label_names_other_modules_export_are_the_registrys() -> None:
    from alerts import render
    from core import diffing
    from webui import labels

    assert render.KIND_LABELS is registry.EVENT_KIND_LABELS
    assert render.DOC_KIND_LABELS is registry.DOC_KIND_LABELS
    assert labels.KINDS_ZH is registry.DOC_KIND_LABELS
    assert labels.EVENTS_ZH is registry.EVENT_KIND_LABELS
    assert diffing.ATTACHMENT_CHANGE_LABELS is registry.ATTACHMENT_CHANGES
    assert {f.name: f.zh for f in registry.FIELDS if f.diffed and f.name != "body_text"} == diffing.FIELD_LABELS


def test_web_column_descriptions_are_the_registrys() -> None:
    from webui.metadata import DATABASE, build_metadata

    tables = build_metadata()["databases"][DATABASE]["tables"]
    for column, description in tables["documents"]["columns"].items():
        f = registry.field(column)
        assert description == f"{f.zh} {f.doc}", column
    assert tables["versions"]["columns"]["body_text"].startswith("正文 ")


def test_the_show_table_is_the_registrys() -> None:
    from cli import query

    assert tuple(query.FIELDS) == tuple(registry.show_fields())
