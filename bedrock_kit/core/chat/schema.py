"""A structural check of JSON Schema documents (tool inputs, structured output).

Bedrock forwards tool schemas to the model provider, which rejects a malformed one with a
vague ValidationException, or worse, accepts it and lets the model guess. This check walks
the schema once, without recursion, and refuses every keyword whose value has the wrong
shape by the JSON Schema specification (draft 2020-12, plus draft-07's ``definitions``,
``dependencies`` and array-form ``items``): ``properties`` that is a list, a ``required``
that is a string, an unknown ``type``, a negative ``minLength``... Unknown keywords pass, as
the specification says they should.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_kit.errors import ConfigurationError

__all__ = ["MAX_DEPTH", "check_json_schema"]

MAX_DEPTH = 100
"""Deepest subschema nesting accepted (bedrock-kit's limit: deeper schemas are mistakes or
attacks, and would exhaust recursion in ``$ref`` inlining and JSON encoding)."""

_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
# Keyword -> how its value holds subschemas.
_ONE_SCHEMA = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "additionalItems",
    }
)
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_COUNTS = frozenset(
    {
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    }
)
_STRINGS = frozenset(
    {
        "title",
        "description",
        "pattern",
        "format",
        "$ref",
        "$id",
        "$schema",
        "$comment",
        "$anchor",
        "contentMediaType",
        "contentEncoding",
    }
)
_BOOLEANS = frozenset({"uniqueItems", "readOnly", "writeOnly", "deprecated"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == len(value)
    )


def _check_type(value: Any) -> str | None:
    kinds = value if isinstance(value, list) else [value]
    if not kinds or not all(isinstance(k, str) for k in kinds):
        return "must be a type name or a list of them"
    unknown = sorted(set(kinds) - _TYPES)
    if unknown:
        return f"names unknown types {unknown}; JSON Schema knows {sorted(_TYPES)}"
    if len(set(kinds)) != len(kinds):
        return "lists a type twice"
    return None


def _problem(key: str, value: Any) -> str | None:
    """What is wrong with ``key: value``, or None. Subschemas are checked by the caller."""
    if key in _SCHEMA_MAPS and not isinstance(value, Mapping):
        return f"must be an object of schemas, got {type(value).__name__}"
    if key in _SCHEMA_LISTS and (not isinstance(value, list) or not value):
        return "must be a non-empty list of schemas"
    if key == "items" and not isinstance(value, bool | Mapping | list):
        return "must be a schema (or a list of schemas)"
    if key == "type":
        return _check_type(value)
    if key == "required" and not _string_list(value):
        return "must be a list of distinct property names"
    if key == "enum" and not isinstance(value, list):
        return "must be a list of values"
    if key in _NUMBERS and not _is_number(value):
        return "must be a number"
    if key == "multipleOf" and not (_is_number(value) and value > 0):
        return "must be a number > 0"
    if key in _COUNTS and not (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ):
        return "must be an integer >= 0"
    if key in _STRINGS and not isinstance(value, str):
        return "must be a string"
    if key in _BOOLEANS and not isinstance(value, bool):
        return "must be true or false"
    if key == "dependentRequired" and not (
        isinstance(value, Mapping) and all(_string_list(v) for v in value.values())
    ):
        return "must map property names to lists of property names"
    return None


def _children(key: str, value: Any) -> list[tuple[str, Any]]:
    """The subschemas under ``key``, each with its path step."""
    if key in _ONE_SCHEMA:
        return [(key, value)]
    if key in _SCHEMA_MAPS:
        return [(f"{key}.{name}", sub) for name, sub in value.items()]
    if key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
        return [(f"{key}[{i}]", sub) for i, sub in enumerate(value)]
    if key == "items":
        return [(key, value)]
    if key == "dependencies" and isinstance(value, Mapping):  # draft-07: schema or names
        return [(f"{key}.{n}", v) for n, v in value.items() if not isinstance(v, list)]
    return []


def _path(steps: list[tuple[str, int]], at: int) -> str:
    trail = []
    while at >= 0:
        step, at = steps[at]
        trail.append(step)
    return ".".join(reversed(trail))


def check_json_schema(schema: Any, where: str) -> None:
    """Refuse a JSON Schema whose keywords have values of the wrong shape.

    Args:
        schema: The schema (a dict, or a boolean schema).
        where: Names the schema in the error (``tool 'search'``).

    Raises:
        ConfigurationError: Naming the keyword's path (``properties.query.type``) and what
            the specification expects there, or a schema nested deeper than
            :data:`MAX_DEPTH` subschemas.
    """
    steps: list[tuple[str, int]] = []  # (path step, index of the parent); -1 is the root
    stack: list[tuple[Any, int, int]] = [(schema, -1, 0)]
    while stack:
        node, at, depth = stack.pop()
        if isinstance(node, bool):
            continue
        path = _path(steps, at)
        if depth > MAX_DEPTH:
            raise ConfigurationError(
                f"{where}: invalid JSON Schema: nested deeper than {MAX_DEPTH} subschemas "
                f"at {path[:120]}..."
            )
        if not isinstance(node, Mapping):
            at_path = f" at {path}" if path else ""
            raise ConfigurationError(
                f"{where}: invalid JSON Schema{at_path}: a schema must be an object or a "
                f"boolean, got {type(node).__name__} {node!r:.60}"
            )
        for key, value in node.items():
            problem = _problem(key, value)
            if problem is not None:
                key_path = f"{path}.{key}" if path else str(key)
                raise ConfigurationError(
                    f"{where}: invalid JSON Schema: {key_path} {problem} (got {value!r:.60})"
                )
            for step, sub in _children(key, value):
                steps.append((step, at))
                stack.append((sub, len(steps) - 1, depth + 1))
