"""The portal registry: the shipped file (the real bureaus), user overrides and additions, config discovery,
validation. (Which portals a user file selects, and what naming a left-out one says: test_selection.py.)"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.registry import REGISTRY_PATH, ConfigError, load_registry, user_config_path
from tests.crawler.helpers import SHIPPED, override, yibao
from tests.crawler.helpers import write_config as _write_config


def write_config(path: Path, archive: Path | None, *entries: str) -> Path:
    """A user config over the shipped registry (these tests are about merging with it)."""
    return _write_config(path, archive, *entries, shipped=True)


FAMILIES_BY_ID = {
    "fujian_xiamen": ("trs", "350200", "city"),
    "fujian_ningde": ("trs", "350900", "city"),
    "guangdong_zhongshan": ("gkmlpt", "442000", "city"),
    "sichuan": ("sichuan", "510000", "province"),
    "nhsa": ("hanweb", "100000", "national"),
}

NEW_PORTAL = """
[[portals]]
id = "fujian_quanzhou"
name = "泉州市医疗保障局"
province = "福建省"
city = "泉州市"
region_code = "350500"
family = "trs"
base_url = "http://127.0.0.1:8129"
schedule = "15 8,14 * * 1-5"
settings = { DOWNLOAD_DELAY = 2 }
[[portals.columns]]
name = "建议提案答复"
kind = "replies"
url = "http://127.0.0.1:8129/zwgk/jytabl/"
[[portals.columns]]
name = "政策文件"
kind = "policies"
url = "/zwgk/zcwj/"
"""


@pytest.fixture(autouse=True)
def no_ambient_config(monkeypatch, tmp_path):
    """Neither ``$YIBAO_CONFIG`` nor a ``yibao.toml`` in the working directory leaks into a test."""
    monkeypatch.delenv("YIBAO_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


# -- the shipped registry --------------------------------------------------------------------------


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
# the bureaus the shipped registry describes: the four seed bureaus, the national bureau, and the other 医保局
# portals of known families that public sources show
REAL_BUREAUS = {
    "fujian_xiamen", "fujian_ningde", "guangdong_zhongshan", "sichuan", "nhsa", "fujian", "chongqing", "ningxia",
    "shandong_qingdao", "zhejiang_jinhua", "guangdong_guangzhou", "guangdong_heshan", "gansu_jiayuguan",
    "jiangsu_nantong",
}  # fmt: skip


def shipped_entries() -> list[dict[str, Any]]:
    return tomllib.loads(REGISTRY_PATH.read_text(encoding="utf-8"))["portals"]


def test_shipped_registry_describes_the_real_bureaus():
    config = load_registry()
    assert tuple(config.portals) == SHIPPED
    assert set(SHIPPED) == REAL_BUREAUS
    assert config.archive_path == "data/archive.db"
    assert config.raw == {}
    for pid, (family, region, level) in FAMILIES_BY_ID.items():  # the seed bureaus keep their families
        portal = config.get(pid, include_disabled=True)
        assert (portal.family, portal.region_code, portal.level) == (family, region, level)
    for portal in config.portals.values():
        assert portal.name.endswith("医疗保障局"), portal.id
        assert portal.base_url, portal.id
        assert urlsplit(portal.base_url).scheme in ("http", "https"), portal.id
        assert portal.columns, portal.id
        for column in portal.columns:  # relative column URLs are joined to base_url: the bureau's own host
            assert column.url.startswith(portal.base_url + "/"), column
        assert portal.allowed_domains == (urlsplit(portal.base_url).hostname,)
    assert [c.url for c in config.get("nhsa").columns] == [
        "https://www.nhsa.gov.cn/col/col110/index.html",
        "https://www.nhsa.gov.cn/col/col26/index.html",
    ]
    assert config.get("chongqing").columns[0].url == "https://ylbzj.cq.gov.cn/zwgk_535/zfxxgkml/zcwj_291934/gfxwj/"
    guangzhou = config.get("guangdong_guangzhou", include_disabled=True)
    assert guangzhou.columns[0].url == "http://www.gz.gov.cn/gzybj/gkmlpt/index#0"  # the fragment is kept


def test_nothing_in_the_shipped_registry_points_at_this_machine():
    text = REGISTRY_PATH.read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # values, not the header's comments
    assert not [host for host in LOCAL_HOSTS if host in code]
    for portal in load_registry().portals.values():
        hosts = {urlsplit(u).hostname for u in (portal.base_url, portal.home, *(c.url for c in portal.columns)) if u}
        assert hosts.isdisjoint(LOCAL_HOSTS), portal.id
        assert all(host and host.endswith(".gov.cn") for host in hosts), (portal.id, hosts)


def test_every_shipped_entry_says_verified_and_where_its_facts_come_from():
    for entry in shipped_entries():
        assert entry["verified"] is False, entry["id"]  # nobody has checked one against the live site yet
        assert len(entry["source"]) > 80, entry["id"]  # a note, not a word
    for portal in load_registry().portals.values():
        assert portal.verified is False
        assert portal.source
        assert "\n" not in portal.source  # one line: line-ending backslashes in the file
        if not portal.enabled:  # a disabled entry says why
            assert "Disabled" in portal.source, portal.id


def test_shipped_entries_that_cannot_be_described_completely_are_disabled():
    config = load_registry()
    enabled = {p.id for p in config.enabled()}
    assert {"nhsa", "fujian_xiamen", "chongqing"} <= enabled  # a column path seen in a source
    for pid in ("gansu_jiayuguan", "jiangsu_nantong"):  # generic: guessed selectors
        portal = config.get(pid, include_disabled=True)
        assert portal.family == "generic"
        assert not portal.enabled
        assert "guess" in portal.source
    for portal in config.portals.values():  # a path only derived by a family rule is not enabled
        if "rule:" in portal.source:
            assert not portal.enabled, portal.id


def test_a_shipped_entry_without_a_source_is_refused(monkeypatch, tmp_path):
    from crawler import registry

    shipped = tmp_path / "portals.toml"
    shipped.write_text(
        '[[portals]]\nid = "x_ybj"\nname = "某医保局"\nregion_code = "350500"\nfamily = "trs"\n'
        'columns = [ { name = "政策文件", kind = "policies", url = "https://ybj.x.gov.cn/zcwj/" } ]\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(registry, "REGISTRY_PATH", shipped)
    with pytest.raises(ConfigError, match=r"^portals\.toml: portal 'x_ybj': field 'source' is missing"):
        load_registry()


def test_unknown_portal_id_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown portal id 'nowhere'; known: fujian_xiamen"):
        load_registry().get("nowhere")


# -- user config: override and add -------------------------------------------------------------------


def test_user_config_overrides_a_shipped_portal_and_adds_one(tmp_path):
    path = write_config(
        tmp_path / "mine.toml",
        tmp_path / "archive.db",
        '[[portals]]\nid = "fujian_xiamen"\nbase_url = "https://ybj.example.org:8443"\nenabled = false\n',
        '[[portals]]\nid = "nhsa"\nschedule = "0 6 * * *"\n',
        NEW_PORTAL,
    )
    config = load_registry(path)
    assert tuple(config.portals) == (*SHIPPED, "fujian_quanzhou")
    assert config.archive_path == str(tmp_path / "archive.db")
    assert config.raw["archive"] == {"path": str(tmp_path / "archive.db")}

    xiamen = config.get("fujian_xiamen", include_disabled=True)
    assert xiamen.base_url == "https://ybj.example.org:8443"
    assert [c.url for c in xiamen.columns] == [  # the relative column URLs follow the new base_url
        "https://ybj.example.org:8443/zwgk/zfxxgk/bg/",
    ]
    assert xiamen.allowed_domains == ("ybj.example.org",)
    assert (xiamen.name, xiamen.family, xiamen.region_code) == ("厦门市医疗保障局", "trs", "350200")  # kept
    assert xiamen.source
    assert "ylbz.xm.gov.cn" in xiamen.source
    assert not xiamen.enabled
    assert xiamen not in config.enabled()

    nhsa = config.get("nhsa")
    assert nhsa.schedule == "0 6 * * *"
    assert nhsa.base_url == "https://www.nhsa.gov.cn"  # untouched fields stay

    quanzhou = config.get("fujian_quanzhou")
    assert (quanzhou.name, quanzhou.family, quanzhou.region_code) == ("泉州市医疗保障局", "trs", "350500")
    assert (quanzhou.province, quanzhou.city, quanzhou.level) == ("福建省", "泉州市", "city")
    assert quanzhou.schedule == "15 8,14 * * 1-5"
    assert quanzhou.settings == {"DOWNLOAD_DELAY": 2}
    assert [(c.name, c.kind, c.url) for c in quanzhou.columns] == [
        ("建议提案答复", "replies", "http://127.0.0.1:8129/zwgk/jytabl/"),
        ("政策文件", "policies", "http://127.0.0.1:8129/zwgk/zcwj/"),
    ]
    assert quanzhou.allowed_domains == ("127.0.0.1",)


def test_override_replaces_columns_and_explicit_allowed_domains(tmp_path):
    path = write_config(
        tmp_path / "mine.toml",
        None,
        '[[portals]]\nid = "sichuan"\nallowed_domains = ["ylbzj.sc.gov.cn"]\n'
        'columns = [ { name = "通知公告", kind = "policies", url = "http://ylbzj.sc.gov.cn/scylbzj/tzgg/list.shtml" } ]\n',
    )
    sichuan = load_registry(path).get("sichuan", include_disabled=True)
    assert [c.url for c in sichuan.columns] == ["http://ylbzj.sc.gov.cn/scylbzj/tzgg/list.shtml"]
    assert sichuan.allowed_domains == ("ylbzj.sc.gov.cn",)


def test_a_base_url_with_a_path_prefix_keeps_it(tmp_path):
    path = write_config(tmp_path / "mine.toml", None, override("nhsa", "http://mirror.example.org/nhsa/"))
    assert (
        load_registry(path).get("nhsa").columns[0].url
        == "http://mirror.example.org/nhsa/col/col110/index.html"
    )


# -- discovery ---------------------------------------------------------------------------------------------


def test_discovery_order_explicit_then_env_then_cwd_file(monkeypatch, tmp_path):
    cwd_file = write_config(tmp_path / "yibao.toml", None, override("nhsa", "http://cwd.example.org"))
    env_file = write_config(tmp_path / "env.toml", None, override("nhsa", "http://env.example.org"))
    explicit = write_config(tmp_path / "explicit.toml", None, override("nhsa", "http://explicit.example.org"))

    assert user_config_path() == Path("yibao.toml")  # ./yibao.toml, relative to the working directory
    assert load_registry().get("nhsa").base_url == "http://cwd.example.org"

    monkeypatch.setenv("YIBAO_CONFIG", str(env_file))
    assert user_config_path() == env_file
    assert load_registry().get("nhsa").base_url == "http://env.example.org"

    assert load_registry(explicit).get("nhsa").base_url == "http://explicit.example.org"
    assert load_registry(str(explicit)).get("nhsa").base_url == "http://explicit.example.org"

    monkeypatch.delenv("YIBAO_CONFIG")
    cwd_file.unlink()
    assert user_config_path() is None
    assert load_registry().get("nhsa").base_url == "https://www.nhsa.gov.cn"  # the shipped value


def test_a_named_config_file_that_does_not_exist_is_an_error(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_registry(tmp_path / "missing.toml")
    monkeypatch.setenv("YIBAO_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"gone\.toml: config file not found"):
        load_registry()


# -- validation: every problem fails at load, naming the entry and the field ----------------------------

NEW = 'id = "new_portal"\nname = "新医保局"\nregion_code = "350500"\nfamily = "trs"\n'
COLUMN = '[[portals.columns]]\nname = "政策文件"\nkind = "policies"\nurl = "http://127.0.0.1:9/zwgk/zcwj/"\n'
GENERIC_NEW = NEW.replace('"trs"', '"generic"')


def entry(body: str, column: str = COLUMN) -> str:
    return f"[[portals]]\n{body}{column}"


INVALID = [
    pytest.param(
        entry(NEW.replace('"trs"', '"trss"')),
        "portal 'new_portal'",
        "family",
        "must be one of trs, sichuan",
        id="unknown-family",
    ),
    pytest.param(
        entry(NEW.replace('name = "新医保局"\n', "")),
        "portal 'new_portal'",
        "name",
        "is missing",
        id="missing-name",
    ),
    pytest.param(
        entry(NEW.replace('region_code = "350500"\n', "")),
        "portal 'new_portal'",
        "region_code",
        "is missing",
        id="missing-region-code",
    ),
    pytest.param(
        entry(NEW.replace('family = "trs"\n', "")),
        "portal 'new_portal'",
        "family",
        "is missing",
        id="missing-family",
    ),
    pytest.param(
        entry(NEW.replace('"350500"', '"35050"')),
        "portal 'new_portal'",
        "region_code",
        "six-digit",
        id="region-code-five-digits",
    ),
    pytest.param(
        entry(NEW.replace('"350500"', '"35050X"')),
        "portal 'new_portal'",
        "region_code",
        "six-digit",
        id="region-code-letter",
    ),
    pytest.param(
        entry(NEW.replace('"350500"', '"３５０５００"')),
        "portal 'new_portal'",
        "region_code",
        "six-digit",
        id="region-code-full-width-digits",
    ),
    pytest.param(
        entry(NEW.replace('"350500"', '"350500\\n"')),
        "portal 'new_portal'",
        "region_code",
        "six-digit",
        id="region-code-trailing-newline",
    ),
    pytest.param(
        entry(NEW.replace('"350500"', "350500")),
        "portal 'new_portal'",
        "region_code",
        "must be a string",
        id="region-code-integer",
    ),
    pytest.param(
        entry(NEW.replace('"new_portal"', '"new_portal\\n"')),
        "portal 'new_portal\\n'",
        "id",
        "lower-case ascii",
        id="id-trailing-newline",
    ),
    pytest.param(
        entry(NEW.replace('"new_portal"', '"New-Portal"')),
        "portal 'New-Portal'",
        "id",
        "lower-case ascii",
        id="id-not-lower-ascii",
    ),
    pytest.param(
        entry(NEW, COLUMN.replace('"http://127.0.0.1:9/zwgk/zcwj/"', '"/zwgk/zcwj/"')),
        "portal 'new_portal' column 1",
        "url",
        "relative but the portal has no base_url",
        id="relative-url-without-base-url",
    ),
    pytest.param(
        entry(NEW, COLUMN.replace("http://127.0.0.1:9", "ftp://127.0.0.1:9")),
        "portal 'new_portal' column 1",
        "url",
        "absolute http(s) URL",
        id="column-url-ftp",
    ),
    pytest.param(
        entry(NEW + 'base_url = "file:///srv/www"\n'),
        "portal 'new_portal'",
        "base_url",
        "absolute http(s) URL",
        id="base-url-file-scheme",
    ),
    pytest.param(
        entry(NEW + 'base_url = "http://"\n'),
        "portal 'new_portal'",
        "base_url",
        "absolute http(s) URL",
        id="base-url-without-host",
    ),
    pytest.param(
        entry(NEW + "base_url = 8080\n"),
        "portal 'new_portal'",
        "base_url",
        "URL string",
        id="base-url-not-a-string",
    ),
    pytest.param(
        entry(NEW) + entry(NEW.replace("新医保局", "另一个")),
        "portal 'new_portal'",
        "id",
        "is duplicated",
        id="duplicate-id",
    ),
    pytest.param(
        entry(NEW + 'colour = "red"\n'),
        "portal 'new_portal'",
        "colour",
        "not a known portal key",
        id="unknown-key",
    ),
    pytest.param(
        entry(NEW, COLUMN + 'type = "list"\n'),
        "portal 'new_portal' column 1",
        "type",
        "not a known column key",
        id="unknown-column-key",
    ),
    pytest.param(
        entry(NEW, COLUMN.replace('"policies"', '"news"')),
        "portal 'new_portal' column 1",
        "kind",
        "must be one of replies, policies, reports",
        id="bad-kind",
    ),
    pytest.param(
        entry(NEW, COLUMN.replace('name = "政策文件"\n', "")),
        "portal 'new_portal' column 1",
        "name",
        "is missing",
        id="column-without-name",
    ),
    pytest.param(entry(NEW, ""), "portal 'new_portal'", "columns", "non-empty list", id="no-columns"),
    pytest.param(
        entry(NEW + 'level = "town"\n'),
        "portal 'new_portal'",
        "level",
        "must be one of national",
        id="bad-level",
    ),
    pytest.param(
        entry(NEW + 'schedule = "every morning"\n'),
        "portal 'new_portal'",
        "schedule",
        "five-field cron",
        id="cron-two-fields",
    ),
    pytest.param(
        entry(NEW + 'schedule = "0 8 * *"\n'),
        "portal 'new_portal'",
        "schedule",
        "five-field cron",
        id="cron-four-fields",
    ),
    pytest.param(
        entry(NEW + 'schedule = "61 8 * * *"\n'),
        "portal 'new_portal'",
        "schedule",
        "minute value '61' is out of range",
        id="cron-minute-61",
    ),
    pytest.param(
        entry(NEW + 'schedule = "0 8 * * funday"\n'),
        "portal 'new_portal'",
        "schedule",
        "day of week value 'funday'",
        id="cron-bad-day-name",
    ),
    pytest.param(
        entry(NEW + 'schedule = "*/0 * * * *"\n'),
        "portal 'new_portal'",
        "schedule",
        "step '0'",
        id="cron-zero-step",
    ),
    pytest.param(
        entry(NEW + "schedule = 8\n"),
        "portal 'new_portal'",
        "schedule",
        "five-field cron",
        id="cron-not-a-string",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { body = "div.content" }\n'),
        "portal 'new_portal'",
        "options.link",
        "required for the generic family",
        id="generic-without-link",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { link = "ul.list a" }\n'),
        "portal 'new_portal'",
        "options.body",
        "required for the generic family",
        id="generic-without-body",
    ),
    pytest.param(
        entry(GENERIC_NEW),
        "portal 'new_portal'",
        "options.link",
        "required for the generic family",
        id="generic-without-options",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { link = "a", body = "div", nextpage = "a.next" }\n'),
        "portal 'new_portal'",
        "options.nextpage",
        "not a generic-family option",
        id="generic-unknown-option",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { link = "ul..list a", body = "div" }\n'),
        "portal 'new_portal'",
        "options.link",
        "must be a CSS selector",
        id="generic-link-bad-css",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { link = "a", body = "div", date = "span::attr(x) b" }\n'),
        "portal 'new_portal'",
        "options.date",
        "must be a CSS selector",
        id="generic-date-bad-css",
    ),
    pytest.param(
        entry(GENERIC_NEW + 'options = { link = "a", body = "div", title = 1 }\n'),
        "portal 'new_portal'",
        "options.title",
        "must be a CSS selector",
        id="generic-title-not-a-string",
    ),
    pytest.param(
        entry(NEW + 'options = "sid=1"\n'),
        "portal 'new_portal'",
        "options",
        "must be a table",
        id="options-not-a-table",
    ),
    pytest.param(
        entry(NEW + 'enabled = "false"\n'),
        "portal 'new_portal'",
        "enabled",
        "true or false",
        id="enabled-a-string",
    ),
    pytest.param(
        entry(NEW + 'settings = "DOWNLOAD_DELAY=2"\n'),
        "portal 'new_portal'",
        "settings",
        "must be a table",
        id="settings-not-a-table",
    ),
    pytest.param(
        entry(NEW + 'allowed_domains = "127.0.0.1"\n'),
        "portal 'new_portal'",
        "allowed_domains",
        "list of host names",
        id="allowed-domains-a-string",
    ),
    pytest.param('[[portals]]\nname = "无名"\n', "a portal entry", "id", "is missing", id="entry-without-id"),
    pytest.param(
        '[[portals]]\nid = "fujian_xiamen"\nfamily = "trss"\n',
        "portal 'fujian_xiamen'",
        "family",
        "got 'trss'",
        id="override-with-bad-family",
    ),
    pytest.param(
        '[[portals]]\nid = "nhsa"\nregion_code = "1"\n',
        "portal 'nhsa'",
        "region_code",
        "six-digit",
        id="override-with-bad-region-code",
    ),
]


@pytest.mark.parametrize(("text", "where", "field", "problem"), INVALID)
def test_invalid_config_fails_at_load_naming_entry_and_field(tmp_path, text, where, field, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_registry(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {where}: field '{field}' "), message
    assert problem in message, message
    assert "\n" not in message  # one line


def test_portals_must_be_an_array_of_tables(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[portals]\nid = "nhsa"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: 'portals' must be an array of tables"):
        load_registry(path)


def test_invalid_toml_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[portals]]\nid = "nhsa"\nbase_url = http://x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid TOML: .*line 3"):
        load_registry(path)


def test_valid_cron_forms_are_accepted(tmp_path):
    schedules = ["*/15 * * * *", "0 7-19/2 * * mon-fri", "5 0 1,15 jan,jul *", "0 8 * * 0", "0 8 * * 7"]
    entries = [
        f'[[portals]]\nid = "nhsa"\nschedule = "{schedules[0]}"\n',
        *(
            f'[[portals]]\nid = "{pid}"\nschedule = "{s}"\n'
            for pid, s in zip(SHIPPED[:4], schedules[1:], strict=True)
        ),
    ]
    config = load_registry(write_config(tmp_path / "ok.toml", None, *entries))
    ids = (*SHIPPED[:4], "nhsa")
    assert [config.get(pid, include_disabled=True).schedule for pid in ids] == [*schedules[1:], schedules[0]]


def test_generic_options_accept_parsel_selectors(tmp_path):
    options = {
        "link": "ul.list > li a[href$='.html']",
        "body": "div#zoom, div.TRS_Editor",
        "title": "meta[name=ArticleTitle]::attr(content)",
        "date": "span.date::text",
        "next_page": "",  # an optional selector left unset
    }
    text = entry(
        GENERIC_NEW + "options = { " + ", ".join(f"{k} = {v!r}" for k, v in options.items()) + " }\n"
    )
    path = tmp_path / "ok.toml"
    path.write_text(text, encoding="utf-8")
    portal = load_registry(path).get("new_portal")
    assert portal.family == "generic"
    assert portal.options == options


def test_the_shipped_registry_file_is_the_packaged_one():
    assert REGISTRY_PATH.name == "portals.toml"
    assert REGISTRY_PATH.parent.name == "crawler"


# -- the CLI reports config errors in one line, exit status 2 ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            entry(NEW.replace('"trs"', '"trss"')), "portal 'new_portal': field 'family'", id="family"
        ),
        pytest.param(
            entry(NEW, COLUMN.replace('"policies"', '"news"')),
            "portal 'new_portal' column 1: field 'kind'",
            id="column-kind",
        ),
        pytest.param("[[portals]\n", "not valid TOML", id="toml"),
    ],
)
def test_cli_config_error_is_one_line_exit_2(tmp_path, text, expected):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    done = yibao("--config", str(bad), "portals", cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"yibao: config error: {bad}: "), lines[0]
    assert expected in lines[0]
    assert "Traceback" not in done.stderr
