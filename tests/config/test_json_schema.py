"""The published JSON Schema (``yibao config schema``) describes the file the loader reads.

``jsonschema`` is not a dependency, so a small validator of the keywords pydantic emits checks the documented
examples (docs/add-a-portal.md, docs/alerts.md) and the shipped registry against the schema, and shows that the
same schema refuses a misspelled key. The declared enums are kept equal to the runtime constants.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from alerts.watchers import AlertSettings, SmtpSettings
from core.records import KINDS
from crawler.config_schema import (
    DOCUMENT_EVENT_KINDS,
    OPS_EVENT_KINDS,
    AlertsSpec,
    DocumentKind,
    SmtpSpec,
    UserConfig,
    json_schema,
)
from crawler.registry import REGISTRY_PATH, load_registry
from storage.events import DOCUMENT_EVENT_KINDS as STORED_EVENT_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}
BOUNDS = {
    "minimum": lambda v, b: v >= b, "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b, "exclusiveMaximum": lambda v, b: v < b,
}  # fmt: skip
KNOWN = {
    "$schema", "$defs", "$ref", "title", "description", "default", "type", "properties", "required",
    "additionalProperties", "items", "anyOf", "allOf", "enum", "const", "pattern", "minLength", "minItems", "format",
    *BOUNDS,
}  # fmt: skip


def problems(schema: dict[str, Any], value: Any, root: dict[str, Any], path: str = "$") -> list[str]:
    """What ``value`` breaks in ``schema`` (the JSON Schema keywords pydantic emits; unknown ones fail loudly)."""
    assert set(schema) <= KNOWN, f"{path}: keywords this checker does not know: {set(schema) - KNOWN}"
    found: list[str] = []
    if "$ref" in schema:
        found += problems(root["$defs"][schema["$ref"].removeprefix("#/$defs/")], value, root, path)
    for part in schema.get("allOf", ()):  # older pydantic wraps a $ref with a description in allOf
        found += problems(part, value, root, path)
    if "anyOf" in schema and all(problems(option, value, root, path) for option in schema["anyOf"]):
        found.append(f"{path}: matches none of anyOf")
    if "type" in schema and not TYPES[schema["type"]](value):
        return [*found, f"{path}: not {schema['type']}: {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} is not {schema['const']!r}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: shorter than {schema['minLength']}")
    if TYPES["number"](value):
        found += [f"{path}: {value} breaks {k} {schema[k]}" for k, ok in BOUNDS.items() if k in schema and not ok(value, schema[k])]
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            found += problems(schema.get("items", {}), item, root, f"{path}[{i}]")
    if isinstance(value, dict):
        declared = schema.get("properties", {})
        found += [f"{path}: {key} is missing" for key in schema.get("required", ()) if key not in value]
        for key, item in value.items():
            if key in declared:
                found += problems(declared[key], item, root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {key} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += problems(schema["additionalProperties"], item, root, f"{path}.{key}")
    return found


def toml_blocks(page: str) -> list[dict[str, Any]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S)]


EXAMPLES = [pytest.param(doc, id=f"{page}-{i}")
            for page in ("add-a-portal.md", "alerts.md") for i, doc in enumerate(toml_blocks(page))]  # fmt: skip


def test_the_schema_is_json_with_descriptions_and_closed_tables():
    schema = json_schema()
    assert json.loads(json.dumps(schema, allow_nan=False)) == schema  # plain JSON: no Infinity, no NaN
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "yibao.toml"
    assert set(schema["properties"]) == {"use_shipped", "only", "portals", "archive", "alerts", "smtp", "watchers",
                                         "cluster"}  # fmt: skip
    tables = [schema, *schema["$defs"].values()]
    assert {t["title"] for t in tables} >= {"PortalEntry", "ColumnSpec", "ArchiveSpec", "AlertsSpec", "SmtpSpec",
                                           "WatcherSpec", "WebhookSpec", "ClusterSpec"}  # fmt: skip
    for table in tables:
        assert table["additionalProperties"] is False, table["title"]  # unknown keys are errors for editors too
        for name, prop in table["properties"].items():
            assert prop.get("description"), f"{table['title']}.{name} has no description"
    text = json.dumps(schema)
    assert '"type": "null"' not in text  # TOML has no null: unset optional keys are simply absent
    portal = schema["$defs"]["PortalEntry"]
    assert portal["required"] == ["id"]  # an override names only the id
    assert portal["properties"]["region_code"]["pattern"] == "^[0-9]{6}$"
    assert portal["properties"]["family"]["enum"] == ["trs", "sichuan", "gkmlpt", "hanweb", "generic"]
    assert schema["$defs"]["AlertsSpec"]["properties"]["lease_seconds"]["maximum"] == 86_400


@pytest.mark.parametrize("document", EXAMPLES)
def test_the_documented_examples_are_valid(tmp_path, document):
    schema = json_schema()
    assert problems(schema, document, schema) == []
    UserConfig.model_validate(document)  # the loader agrees


def test_the_documented_examples_exist():
    by_page = {page: [e.values[0] for e in EXAMPLES if e.id.startswith(page)] for page in ("add-a-portal", "alerts")}
    assert any({"portals", "archive"} <= set(doc) for doc in by_page["add-a-portal"])  # the complete example
    assert any({"use_shipped", "portals"} <= set(doc) for doc in by_page["add-a-portal"])  # only my portals
    assert any("only" in doc for doc in by_page["add-a-portal"])
    assert {"smtp", "alerts", "watchers"} <= set(by_page["alerts"][0])


def test_the_shipped_registry_is_a_valid_user_config():
    schema = json_schema()
    shipped = tomllib.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
    assert problems(schema, shipped, schema) == []
    assert len(load_registry().portals) == len(shipped["portals"])


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"archiv": {"path": "a.db"}}, "$: archiv is not allowed"),
        ({"portals": [{"id": "nhsa", "shedule": "0 8 * * *"}]}, "$.portals[0]: shedule is not allowed"),
        ({"portals": [{"name": "x"}]}, "$.portals[0]: id is missing"),
        ({"portals": [{"id": "nhsa", "region_code": "35050"}]}, "$.portals[0].region_code: '35050' does not match"),
        ({"alerts": {"lease_seconds": 1e308}}, "$.alerts.lease_seconds: 1e+308 breaks maximum"),
        ({"smtp": {"host": "h", "security": "tls"}}, "$.smtp.security: 'tls' not in"),
        ({"watchers": [{"name": "w", "events": ["deleted"]}]}, "$.watchers[0].events: matches none of anyOf"),
        ({"watchers": [{"name": "w", "webhook": {"url": "http://x"}}]}, "$.watchers[0].webhook: secret_env is missing"),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(document, expected):
    schema = json_schema()
    found = problems(schema, document, schema)
    assert any(p.startswith(expected) for p in found), found


def test_a_single_string_is_a_one_element_list_in_the_schema_too():
    schema = json_schema()
    watcher = {"name": "w", "keywords": "DIP", "email": "a@example.org", "classes": "甲"}
    assert problems(schema, {"smtp": {"host": "h"}, "watchers": [watcher]}, schema) == []
    loaded = UserConfig.model_validate({"smtp": {"host": "h"}, "watchers": [watcher]}).watchers[0]
    assert (loaded.keywords, loaded.email, loaded.classes) == (["DIP"], ["a@example.org"], ["A"])


def test_declared_enums_match_the_runtime_constants():
    assert DOCUMENT_EVENT_KINDS == STORED_EVENT_KINDS
    assert tuple(DocumentKind.__args__) == KINDS
    assert set(OPS_EVENT_KINDS).isdisjoint(DOCUMENT_EVENT_KINDS)


def test_section_defaults_match_the_runtime_settings():
    """The schema's defaults (shown to editors) are the ones the dispatcher and mailer use."""
    assert AlertSettings(**AlertsSpec().model_dump()) == AlertSettings()
    spec = SmtpSpec(host="h")
    smtp = SmtpSettings(host="h", port=25)
    for f in fields(SmtpSettings):
        if f.name not in ("host", "port"):
            assert getattr(spec, f.name) == getattr(smtp, f.name), f.name
