"""Hostile and mistyped config files: every one is refused in one line naming the file, the entry and the field.

The bad inputs of issue 13 (a non-UTF-8 file, ``[archive] path = 5``, nesting deeper than tomllib or the schema
allows, ``inf``/``nan``/huge numbers), invalid TOML, and a misspelled section or key at every level of
``yibao.toml`` and of the shipped registry. Relative paths resolve against the config file's folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from alerts.watchers import load_alerts
from cli.main import main
from crawler import registry
from crawler.config_schema import MAX_NESTING
from crawler.registry import DEFAULT_ARCHIVE, ConfigError, load_registry


@pytest.fixture(autouse=True)
def no_ambient_config(monkeypatch, tmp_path):
    """Neither ``$YIBAO_CONFIG`` nor a ``yibao.toml`` in the working directory leaks into a test."""
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.delenv("YIBAO_DB", raising=False)
    monkeypatch.chdir(tmp_path)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


SMTP = b'[smtp]\nhost = "relay.example.org"\n'

BAD_INPUT = [
    pytest.param('[archive]\npath = "数据.db"\n'.encode("gbk"),
                 "not UTF-8 text (byte 0xca at line 2, column 9); save the file as UTF-8", id="gbk-file"),
    pytest.param("[archive]\npath = 'a.db'\n".encode("utf-16"),
                 "not UTF-8 text (byte 0xff at line 1, column 1); save the file as UTF-8", id="utf-16-file"),
    pytest.param(b"[archive]\npath = 5\n", "[archive]: field 'path' must be a string, got 5", id="archive-path-int"),
    pytest.param(b'[archive]\npath = ""\n', "[archive]: field 'path' must not be empty, got ''", id="archive-path-empty"),
    pytest.param(b"archive = 5\n", "field 'archive' must be a table, got 5", id="archive-not-a-table"),
    pytest.param(b"a = " + nested(5000), "not valid TOML: tables or arrays nested too deeply", id="nesting-tomllib"),
    pytest.param(b'[[portals]]\nid = "nhsa"\nsettings = { X = ' + nested(40) + b" }\n",
                 f"portal 'nhsa': field 'settings.X' nests tables or arrays more than {MAX_NESTING} deep",
                 id="nesting-schema"),
    pytest.param(b"[alerts]\nlease_seconds = inf\n", "[alerts]: field 'lease_seconds' must be a finite number, got inf",
                 id="lease-inf"),
    pytest.param(b"[alerts]\nbackoff_base = 1e308\n",
                 "[alerts]: field 'backoff_base' must be <= 86400, got 1e+308", id="backoff-1e308"),
    pytest.param(b"[alerts]\ntimeout = nan\n", "[alerts]: field 'timeout' must be a finite number, got nan",
                 id="alerts-timeout-nan"),
    pytest.param(SMTP + b"timeout = -inf\n", "[smtp]: field 'timeout' must be a finite number, got -inf",
                 id="smtp-timeout-minus-inf"),
    pytest.param(b'[[portals]]\nid = "nhsa"\nsettings = { DOWNLOAD_DELAY = nan }\n',
                 "portal 'nhsa': field 'settings.DOWNLOAD_DELAY' must be a finite number, got nan",
                 id="scrapy-setting-nan"),
    pytest.param(b"[alerts]\nbackoff_max = 0\n", "[alerts]: field 'backoff_max' must be > 0, got 0",
                 id="backoff-max-zero"),
    pytest.param(b"[alerts]\nbatch_size = 99999999999999999999999\n",
                 "[alerts]: field 'batch_size' must be <= 10000, got 99999999999999999999999",
                 id="batch-size-huge"),
    pytest.param(b"[alerts]\nbackoff_jitter = 1\n", "[alerts]: field 'backoff_jitter' must be < 1, got 1",
                 id="jitter-one"),
    pytest.param(b"[alerts]\nmax_attempts = true\n", "[alerts]: field 'max_attempts' must be an integer, got true",
                 id="bool-for-int"),
    pytest.param(b'[alerts]\ntimeout = "30"\n', "[alerts]: field 'timeout' must be a number, got '30'",
                 id="string-for-number"),
    pytest.param(b"[alerts]\nconcurrency = 2.0\n", "[alerts]: field 'concurrency' must be an integer, got 2.0",
                 id="float-for-int"),
    pytest.param(SMTP + b"port = 70000\n", "[smtp]: field 'port' must be <= 65535, got 70000", id="smtp-port"),
    pytest.param(b'[[portals]]\nid = "nhsa"\nbase_url = http://x\n', "not valid TOML: Invalid value (at line 3, column 12)",
                 id="invalid-toml"),
    pytest.param(b'[[portals]]\nid = "nhsa"\n[[portals]]\nid = "nhsa"\n', "portal 'nhsa': field 'id' is duplicated",
                 id="duplicate-override"),
    pytest.param(b'[[portals]]\nid = "nhsa"\noptions = { sid = 760045 }\n',
                 "portal 'nhsa': field 'options.sid' must be a string, got 760045", id="option-not-a-string"),
    pytest.param(b'[[watchers]]\nname = "w"\nemail = "a@example.org"\n',
                 "watcher 'w': field 'email' needs an [smtp] section", id="email-without-smtp"),
    pytest.param(SMTP + b'[[watchers]]\nname = "w"\nemail = ["a@example.org", "nobody"]\n',
                 "watcher 'w': field 'email' entry 2: must be an e-mail address (name <user@host> or user@host),"
                 " got 'nobody'", id="second-address"),
    pytest.param(b"watchers = 5\n", "'watchers' must be an array of tables ([[watchers]]), got 5", id="watchers-int"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "expected"), BAD_INPUT)
def test_bad_input_is_one_line_naming_file_and_field(tmp_path, content, expected):
    path = tmp_path / "yibao.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_registry(path)
    assert str(raised.value) == f"{path}: {expected}"


@pytest.mark.parametrize(("content", "expected"), [BAD_INPUT[0], BAD_INPUT[5], BAD_INPUT[7], BAD_INPUT[-1]])
def test_the_cli_answers_bad_input_in_one_line_exit_2(tmp_path, capsys, content, expected):
    (tmp_path / "bad.toml").write_bytes(content)
    assert main(["--config", "bad.toml", "portals"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"yibao: config error: bad.toml: {expected}\n"


def test_a_byte_order_mark_and_an_empty_file_are_fine(tmp_path):
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b'\xef\xbb\xbf[archive]\npath = "a.db"\n')
    assert load_registry(bom).archive_path == str(tmp_path / "a.db")
    empty = tmp_path / "empty.toml"
    empty.write_bytes(b"")
    config = load_registry(empty)
    assert (config.archive_path, config.raw) == (DEFAULT_ARCHIVE, {})
    assert config.portals == load_registry().portals


def test_a_folder_is_not_a_config_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    with pytest.raises(ConfigError, match=r"conf\.d: cannot read the config file: Is a directory$"):
        load_registry(tmp_path / "conf.d")


# -- a misspelled section or key, at every level ------------------------------------------------------

COLUMN = '[[portals.columns]]\nname = "政策文件"\nkind = "policies"\nurl = "/zwgk/zcwj/"\n'
MISSPELLED = [
    pytest.param('[archiv]\npath = "a.db"\n', "field 'archiv' is not a known section (did you mean 'archive'?",
                 id="archiv"),
    pytest.param('[smpt]\nhost = "h"\n', "field 'smpt' is not a known section (did you mean 'smtp'?", id="smpt"),
    pytest.param("[alert]\ntimeout = 5\n", "field 'alert' is not a known section (did you mean 'alerts'?", id="alert"),
    pytest.param('[[portal]]\nid = "nhsa"\n', "field 'portal' is not a known section (did you mean 'portals'?",
                 id="portal"),
    pytest.param('[[watcher]]\nname = "w"\n', "field 'watcher' is not a known section (did you mean 'watchers'?",
                 id="watcher"),
    pytest.param('[archive]\npth = "a.db"\n', "[archive]: field 'pth' is not a known [archive] key (did you mean 'path'?",
                 id="archive-key"),
    pytest.param("[alerts]\nlease_second = 400\n",
                 "[alerts]: field 'lease_second' is not a known [alerts] key (did you mean 'lease_seconds'?",
                 id="alerts-key"),
    pytest.param('[smtp]\nhost = "h"\npasword_env = "P"\n',
                 "[smtp]: field 'pasword_env' is not a known [smtp] key (did you mean 'password_env'?", id="smtp-key"),
    pytest.param('[[portals]]\nid = "nhsa"\nshedule = "0 8 * * *"\n',
                 "portal 'nhsa': field 'shedule' is not a known portal key (did you mean 'schedule'?", id="portal-key"),
    pytest.param('[[portals]]\nid = "nhsa"\n' + COLUMN + 'kinds = "x"\n',
                 "portal 'nhsa' column 1: field 'kinds' is not a known column key (did you mean 'kind'?",
                 id="column-key"),
    pytest.param('[[watchers]]\nname = "w"\nkeyword = ["DIP"]\n',
                 "watcher 'w': field 'keyword' is not a known watcher key (did you mean 'keywords'?", id="watcher-key"),
    pytest.param('[[watchers]]\nname = "w"\nwebhook = { url = "http://127.0.0.1:9/h", secret = "S" }\n',
                 "watcher 'w': field 'webhook.secret' is not a known webhook key (did you mean 'secret_env'?",
                 id="webhook-key"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MISSPELLED)
def test_a_misspelled_section_or_key_is_named(tmp_path, text, expected):
    path = tmp_path / "yibao.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_registry(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {expected} known: "), message
    assert "\n" not in message
    if "section" not in expected:  # the same answer from the alerts' loader, without the file name
        with pytest.raises(ConfigError) as again:
            load_alerts(tomllib.loads(text))
        assert str(again.value) == message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[archive]\npath = "a.db"\n', "field 'archive' is not a known section (known: portals)"),
        ('[[portals]]\nid = "nhsa"\nname = "医保局"\nregion_code = "100000"\nfamily = "hanweb"\nbase_url = "x"\n',
         "portal 'nhsa': field 'base_url' must be an absolute http(s) URL, got 'x'"),
        ('[[portals]]\nid = "nhsa"\nbaseurl = "http://x"\n',
         "portal 'nhsa': field 'baseurl' is not a known portal key (did you mean 'base_url'?"),
    ],
)
def test_the_shipped_registry_obeys_the_same_schema(monkeypatch, tmp_path, text, expected):
    shipped = tmp_path / "shipped" / "portals.toml"
    shipped.parent.mkdir()
    shipped.write_text(text, encoding="utf-8")
    monkeypatch.setattr(registry, "REGISTRY_PATH", shipped)
    with pytest.raises(ConfigError) as raised:
        load_registry()
    assert str(raised.value).startswith(f"portals.toml: {expected}")


# -- relative paths resolve against the config file's folder -----------------------------------------


def test_relative_paths_resolve_against_the_config_files_folder(monkeypatch, tmp_path):
    conf = tmp_path / "etc" / "yibao"
    conf.mkdir(parents=True)
    (conf / "certs").mkdir()
    (conf / "certs" / "relay.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    (conf / "yibao.toml").write_text(
        '[archive]\npath = "../../var/archive.db"\n'
        '[smtp]\nhost = "relay.example.org"\nca_file = "certs/relay.pem"\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in (conf / "yibao.toml", Path(os.path.relpath(conf / "yibao.toml", elsewhere))):
        config = load_registry(given)
        assert config.archive_path == str(tmp_path / "var" / "archive.db")
        assert config.raw["smtp"]["ca_file"] == str(conf / "certs" / "relay.pem")
        smtp = load_alerts(config.raw).smtp
        assert smtp is not None
        assert smtp.ca_file == str(conf / "certs" / "relay.pem")
    monkeypatch.setenv("YIBAO_CONFIG", str(conf / "yibao.toml"))
    assert load_registry().archive_path == str(tmp_path / "var" / "archive.db")


def test_a_missing_relative_ca_file_is_named_with_the_resolved_path(tmp_path):
    (tmp_path / "yibao.toml").write_text('[smtp]\nhost = "h"\nca_file = "nope.pem"\n', encoding="utf-8")
    raw = load_registry(tmp_path / "yibao.toml").raw
    with pytest.raises(ConfigError, match=rf"^\[smtp\]: field 'ca_file' must be the path of a PEM file, got "
                                          rf"'{tmp_path / 'nope.pem'}'$"):  # fmt: skip
        load_alerts(raw)


def test_absolute_home_and_default_paths(monkeypatch, tmp_path):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    conf = tmp_path / "conf"
    conf.mkdir()
    cases = {
        f'[archive]\npath = "{tmp_path / "abs.db"}"\n': str(tmp_path / "abs.db"),  # absolute: as written
        '[archive]\npath = "~/yibao/archive.db"\n': str(home / "yibao" / "archive.db"),
        "[archive]\n": DEFAULT_ARCHIVE,  # the default stays relative to the working directory
        "": DEFAULT_ARCHIVE,
    }
    for text, expected in cases.items():
        (conf / "yibao.toml").write_text(text, encoding="utf-8")
        assert load_registry(conf / "yibao.toml").archive_path == expected, text
    assert load_registry().archive_path == DEFAULT_ARCHIVE  # no config file at all


def test_a_config_in_the_working_directory_keeps_its_relative_archive_working(tmp_path):
    (tmp_path / "yibao.toml").write_text('[archive]\npath = "data/mine.db"\n', encoding="utf-8")
    path = Path(load_registry().archive_path)
    assert path == tmp_path / "data" / "mine.db"
    assert path.is_absolute()  # a later chdir (a subprocess started elsewhere) does not move it
