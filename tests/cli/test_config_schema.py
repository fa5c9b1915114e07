"""``yibao config schema``: a JSON Schema of yibao.toml that accepts a real config and refuses a misspelling."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke

SECTIONS = {"archive", "portals", "watchers", "smtp", "alerts"}


def schema(invoke: Invoke) -> dict:
    done = invoke("config", "schema")
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_the_schema_is_json_describing_every_section(invoke: Invoke) -> None:
    got = schema(invoke)
    assert got["$schema"].startswith("https://json-schema.org/")
    assert got["type"] == "object"
    assert set(got["properties"]) >= SECTIONS
    assert got.get("additionalProperties") is False  # a misspelled section is an error


def test_the_schema_is_valid_and_checks_a_config(invoke: Invoke, config_file: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (the dev extra) validates the schema itself")
    got = schema(invoke)
    validator = jsonschema.validators.validator_for(got)
    validator.check_schema(got)  # valid against its metaschema (draft 2020-12)
    config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    validator(got).validate(config)
    with pytest.raises(jsonschema.ValidationError, match="archiv"):
        validator(got).validate({**config, "archiv": {"path": "x.db"}})
