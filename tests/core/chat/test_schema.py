"""The structural JSON Schema check, cross-checked with jsonschema's meta-schema validation."""

from __future__ import annotations

import jsonschema
import pytest

from bedrock_kit.core.chat.schema import MAX_DEPTH, check_json_schema
from bedrock_kit.errors import ConfigurationError

META = jsonschema.Draft202012Validator

BROKEN = {
    "properties is a list": {"type": "object", "properties": []},
    "properties holds a number": {"type": "object", "properties": {"q": 3}},
    "unknown type": {"type": "object", "properties": {"q": {"type": "strng"}}},
    "type list with unknown": {"type": ["string", "text"]},
    "empty type list": {"type": []},
    "required is a string": {"type": "object", "required": "q"},
    "required repeats": {"type": "object", "required": ["q", "q"]},
    "negative minLength": {"properties": {"q": {"type": "string", "minLength": -1}}},
    "float maxItems": {"properties": {"q": {"type": "array", "maxItems": 1.5}}},
    "empty anyOf": {"properties": {"q": {"anyOf": []}}},
    "anyOf not a list": {"properties": {"q": {"anyOf": {"type": "string"}}}},
    "items is a string": {"properties": {"q": {"type": "array", "items": "string"}}},
    "enum not a list": {"properties": {"q": {"enum": "a"}}},
    "minimum a string": {"properties": {"q": {"type": "number", "minimum": "0"}}},
    "multipleOf zero": {"properties": {"q": {"type": "number", "multipleOf": 0}}},
    "description a number": {"properties": {"q": {"type": "string", "description": 5}}},
    "uniqueItems a string": {"properties": {"q": {"type": "array", "uniqueItems": "yes"}}},
    "nested defs broken": {"$defs": {"A": {"properties": []}}, "type": "object"},
    "additionalProperties a string": {"type": "object", "additionalProperties": "no"},
    "not a list of schemas": {"allOf": [{"type": "string"}, 7]},
    "dependentRequired strings": {"dependentRequired": {"a": "b"}},
}

VALID = {
    "empty": {},
    "boolean schema": True,
    "pydantic-like": {
        "type": "object",
        "title": "Search",
        "properties": {
            "query": {"type": "string", "description": "what to find", "minLength": 1},
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "mode": {"enum": ["fast", "deep"]},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        },
        "required": ["query"],
        "additionalProperties": False,
        "$defs": {"Inner": {"type": "object", "properties": {"x": {"type": "integer"}}}},
    },
    "unknown keywords pass": {"type": "object", "x-vendor": [1, 2], "examples": [{}]},
    "draft-07 tuple items": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_schemas_are_refused_by_keyword(name):
    schema = BROKEN[name]
    with pytest.raises(ConfigurationError, match="invalid JSON Schema") as info:
        check_json_schema(schema, "tool 't'")
    assert str(info.value).startswith("tool 't': invalid JSON Schema")
    # The specification agrees (jsonschema's own meta-schema validation).
    assert not META(META.META_SCHEMA).is_valid(schema), name


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_schemas_pass(name):
    check_json_schema(VALID[name], "tool 't'")
    if name != "draft-07 tuple items":  # array-form items is draft-07, not 2020-12
        META.check_schema(VALID[name])


def test_error_names_the_path():
    schema = {"type": "object", "properties": {"a": {"properties": {"b": {"type": "strng"}}}}}
    with pytest.raises(ConfigurationError, match=r"properties\.a\.properties\.b\.type"):
        check_json_schema(schema, "tool 't'")


def test_deep_schemas_are_refused_without_recursion():
    schema: dict = {"type": "string"}
    for _ in range(50_000):
        schema = {"type": "array", "items": schema}
    with pytest.raises(ConfigurationError, match=f"nested deeper than {MAX_DEPTH}"):
        check_json_schema(schema, "tool 't'")
