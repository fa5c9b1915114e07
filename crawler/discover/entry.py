"""A ready ``[[portals]]`` entry: id, name, level and region guesses, family, columns, options.

The entry is rendered as TOML text, parsed back and validated by the registry's own rules, so what
``yibao discover`` prints is exactly what a user config accepts. Guesses are marked with comments.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.registry import ConfigError, Portal, load_registry

# GB/T 2260 province-level codes (the national bureau uses 100000 in the registry)
PROVINCES = {
    "北京": "110000",
    "天津": "120000",
    "河北": "130000",
    "山西": "140000",
    "内蒙古": "150000",
    "辽宁": "210000",
    "吉林": "220000",
    "黑龙江": "230000",
    "上海": "310000",
    "江苏": "320000",
    "浙江": "330000",
    "安徽": "340000",
    "福建": "350000",
    "江西": "360000",
    "山东": "370000",
    "河南": "410000",
    "湖北": "420000",
    "湖南": "430000",
    "广东": "440000",
    "广西": "450000",
    "海南": "460000",
    "重庆": "500000",
    "四川": "510000",
    "贵州": "520000",
    "云南": "530000",
    "西藏": "540000",
    "陕西": "610000",
    "甘肃": "620000",
    "青海": "630000",
    "宁夏": "640000",
    "新疆": "650000",
}
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_SKIP_LABELS = {"www", "gov", "cn", "com", "net", "org", "edu", "http", "https", "index", "html", "htm"}
UNKNOWN_REGION = "000000"
_BUREAU = ("医疗保障局", "医保局")
_PROVINCE_SUFFIX = re.compile(r"^(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)?")
_CITY = re.compile(r"^(.{1,6}?(?:自治州|地区|盟|市))")
_COUNTY = re.compile(r"^.{1,6}?(?:县|区|旗)(?:医疗保障局|医保局)")


@dataclass
class EntryGuess:
    id: str
    name: str
    family: str
    base_url: str
    home: str
    columns: list[dict[str, str]]
    level: str = "city"
    region_code: str = UNKNOWN_REGION
    province: str | None = None
    city: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # comment lines printed above the entry


def suggest_id(url: str) -> str:
    """``http://ybj.xm.gov.cn/`` → ``xm_ybj``; ``http://www.zs.gov.cn/ybj/`` → ``zs_ybj``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if re.fullmatch(r"[\d.]+|\[[0-9a-f:]+\]", host) or host == "localhost":
        return f"site_{parts.port or 80}"
    labels = [lab for lab in reversed(host.split(".")) if lab not in _SKIP_LABELS]
    # a bureau living under its city's host (www.zs.gov.cn/ybj/): the folder names it
    folders = [s for s in parts.path.split("/") if s]
    segments = folders if len(folders) == 1 and parts.path.endswith("/") else []
    words = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in labels + segments]
    words = [w for w in words if w]
    ident = "_".join(dict.fromkeys(words)) or "portal"
    if not ident[0].isalpha():
        ident = "p_" + ident
    return ident[:64]


def registry_portals() -> dict[str, Portal]:
    """The portals of the registry (and of ./yibao.toml or $YIBAO_CONFIG), or none if it cannot be read."""
    try:
        return load_registry().portals
    except (ConfigError, OSError):
        return {}


def known_places() -> dict[str, str]:
    """Place names → region codes the registry's portals already use (their cities and provinces)."""
    places: dict[str, str] = {}
    for portal in registry_portals().values():
        if portal.city:
            places[portal.city] = portal.region_code
        if portal.province and portal.level == "province":
            places[portal.province] = portal.region_code
    return places


def guess_place(name: str, places: dict[str, str] | None = None) -> dict[str, Any]:
    """level, region_code, province and city guessed from a bureau's name (``UNKNOWN_REGION`` if no code)."""
    out: dict[str, Any] = {"level": "city", "region_code": UNKNOWN_REGION, "province": None, "city": None}
    if name.startswith("国家"):
        out.update(level="national", region_code="100000")
        return out
    rest = name
    province = next((p for p in PROVINCES if name.startswith(p)), None)
    if province:
        suffix = _PROVINCE_SUFFIX.match(name[len(province) :])
        out["province"] = province + (
            suffix[0] if suffix and suffix[0] else "市" if province in MUNICIPALITIES else "省"
        )
        rest = name[len(province) + (len(suffix[0]) if suffix else 0) :]
        out["region_code"] = PROVINCES[province]  # at least the province's code
        if rest.startswith(_BUREAU):
            out["level"] = "province"
            return out
    places = places if places is not None else known_places()
    city = _CITY.match(rest) if province not in MUNICIPALITIES else None
    if city:
        out["city"] = city[1]
        out["region_code"] = places.get(city[1], out["region_code"])
        rest = rest[len(city[1]) :]
    if _COUNTY.match(rest):
        out["level"] = "county"
    return out


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def relative(url: str, base_url: str) -> str:
    return url[len(base_url) :] or "/" if url.startswith(base_url + "/") else url


def render(entry: EntryGuess) -> str:
    lines = [f"# {note}" for note in entry.notes]
    lines += ["[[portals]]", f"id = {toml_value(entry.id)}", f"name = {toml_value(entry.name)}"]
    if entry.province:
        lines.append(f"province = {toml_value(entry.province)}")
    if entry.city:
        lines.append(f"city = {toml_value(entry.city)}")
    region_note = (
        "  # unknown: write the six-digit GB/T 2260 code"
        if entry.region_code == UNKNOWN_REGION
        else "  # guessed from the name: check it"
    )
    lines.append(f"region_code = {toml_value(entry.region_code)}{region_note}")
    lines.append(f"level = {toml_value(entry.level)}  # guessed from the name")
    lines.append(f"family = {toml_value(entry.family)}")
    lines.append(f"home = {toml_value(entry.home)}")
    lines.append(f"base_url = {toml_value(entry.base_url)}")
    if entry.options:
        lines.append(f"options = {toml_value(entry.options)}")
    lines.append("columns = [")
    for col in entry.columns:
        lines.append(
            "  "
            + toml_value(
                {"name": col["name"], "kind": col["kind"], "url": relative(col["url"], entry.base_url)}
            )
            + ","
        )
    lines.append("]")
    return "\n".join(lines) + "\n"


def to_portal(text: str) -> Portal:
    """The Portal a rendered entry describes, loaded as a user config holding it would be (``ConfigError``
    if the registry's rules refuse it)."""
    pid = tomllib.loads(text)["portals"][0]["id"]
    with tempfile.TemporaryDirectory(prefix="yibao-discover-") as folder:
        path = Path(folder) / "discovered.toml"
        path.write_text(text, encoding="utf-8")
        return load_registry(path).get(pid)
