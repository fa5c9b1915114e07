"""storage.versions over a real SQLite archive, and `yibao diff` in process (``cli.main.main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from core.diffing import diff_versions
from storage import list_events, open_db, record
from storage.versions import (
    get_document,
    get_version,
    get_version_by_no,
    latest_versions,
    list_versions,
    versions_of_event,
)
from tests.storage.factories import BODY, LATER, NOW, notice, policy


def run_diff(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``yibao ARGV`` in this process: (exit code, stdout, stderr)."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


EDITED_BODY = BODY.replace("不得自行调整", "不得自行调整<script>x</script>")
LATEST = "2025-08-20T02:00:00Z"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    db = open_db(path)
    record(db, policy(), run_id=None, now=NOW)
    record(db, policy(body_text=EDITED_BODY), run_id=None, now=LATER)
    record(db, policy(body_text=EDITED_BODY, validity="失效"), run_id=None, now=LATEST)
    record(db, notice("https://ybj.example.gov.cn/tzgg/n1.html", "详见附件。"), run_id=None, now=NOW)
    db.close()
    return path


def test_versions_round_trip(archive: Path) -> None:
    db = open_db(archive)
    versions = list_versions(db, 1)
    assert [v["version_no"] for v in versions] == [1, 2, 3]
    first = versions[0]
    assert first == policy().to_dict() | {
        "attachments": [{"name": "附件1.pdf", "url": "https://ybj.example.gov.cn/a1.pdf", "sha256": "ab" * 32,
                         "size": None, "text": None}],
        "id": first["id"], "document_id": 1, "version_no": 1, "created_at": NOW,
        "comparison_hash": first["comparison_hash"], "run_id": None,
    }  # fmt: skip
    assert get_version(db, first["id"]) == first
    assert get_version(db, 999) is None
    assert get_version_by_no(db, 1, 2) == versions[1]
    assert get_version_by_no(db, 1, 4) is None
    assert latest_versions(db, 1) == versions[1:]
    assert latest_versions(db, 2) == list_versions(db, 2)
    doc = get_document(db, 1)
    assert doc is not None
    assert (doc["latest_version_id"], doc["validity"], doc["status"]) == (versions[2]["id"], "失效", "active")
    assert get_document(db, 999) is None
    events = {e.kind: e for e in list_events(db)}
    prev, current = versions_of_event(db, events["validity_changed"].id)
    assert (prev, current) == (versions[1], versions[2])
    new_prev, new_current = versions_of_event(db, next(e for e in list_events(db) if e.kind == "new").id)
    assert new_prev is None
    assert new_current["version_no"] == 1
    with pytest.raises(LookupError):
        versions_of_event(db, 999)
    cs = diff_versions(*versions_of_event(db, events["edited"].id))
    assert [p.kind for p in cs.paragraphs] == ["changed"]
    assert cs.fields == []
    db.close()


@pytest.mark.parametrize(
    ("extra", "code", "out_has", "err_has"),
    [
        pytest.param(
            ["1"],
            0,
            ["v2 (2025-08-19T02:00:00Z) → v3", "- 有效性：有效", "+ 有效性：失效"],
            [],
            id="latest-two",
        ),
        pytest.param(
            ["1", "1", "2"], 0, ["v1 (", "→ v2", "{+<script>x</script>+}", "【一、"], [], id="explicit"
        ),
        pytest.param(["1", "1", "3"], 0, ["正文修改 1 处", "有效性 有效 → 失效"], [], id="skip-one"),
        pytest.param(["2"], 2, [], ["only one version"], id="single-version"),
        pytest.param(["7"], 2, [], ["unknown document 7"], id="unknown-document"),
        pytest.param(["1", "1", "9"], 2, [], ["no version 9"], id="unknown-version"),
        pytest.param(["1", "2"], 2, [], ["two version numbers"], id="one-version-number"),
    ],
)
def test_cmd_diff(archive: Path, capsys, extra, code, out_has, err_has) -> None:
    got, out, err = run_diff(["diff", "--db", str(archive), *extra], capsys)
    assert got == code, err
    for text in out_has:
        assert text in out
    for text in err_has:
        assert text in err
    if code:
        assert out == ""
    assert "\x1b[" not in out  # capsys is no TTY: no colour


def test_cmd_diff_color_json_html(archive: Path, capsys) -> None:
    _, out, _ = run_diff(["diff", "1", "--db", str(archive), "--color", "always"], capsys)
    assert "\x1b[31m- 有效性：有效\x1b[0m" in out
    _, out, _ = run_diff(["diff", "1", "1", "2", "--db", str(archive), "--json"], capsys)
    assert json.loads(out)["counts"] == {"changed": 1, "added": 0, "removed": 0}
    _, out, _ = run_diff(["diff", "1", "1", "2", "--db", str(archive), "--html"], capsys)
    assert out.startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;x&lt;/script&gt;" in out
    assert "<script>" not in out


def test_cmd_diff_finds_the_archive_through_the_config(archive: Path, tmp_path: Path, capsys) -> None:
    config = tmp_path / "yibao.toml"
    config.write_text(f'[archive]\npath = "{archive}"\n', encoding="utf-8")
    code, out, _ = run_diff(["--config", str(config), "diff", "1"], capsys)
    assert code == 0
    assert "有效性" in out
    code, out, _ = run_diff(["diff", "1", "--config", str(config)], capsys)  # after the command as well
    assert code == 0


def test_cmd_diff_missing_archive(tmp_path: Path, capsys) -> None:
    code, _, err = run_diff(["diff", "1", "--db", str(tmp_path / "none.db")], capsys)
    assert code == 2
    assert "no archive" in err
    assert not (tmp_path / "none.db").exists()
