"""A valid JSON value for a JSON Schema: what the scripted model answers structured output with.

Deterministic and schema-driven: required and optional properties filled, ``$ref`` followed,
the first ``enum`` / ``const`` / non-null ``anyOf`` branch taken, numbers inside their bounds.
Values named in ``hints`` (a tool call's arguments read off the prompt) win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 8


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < _MAX_DEPTH:
        ref = str(schema["$ref"])
        node: Any = root
        for part in ref.lstrip("#/").split("/"):
            if part:
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if low is not None:
        value = max(value, float(low) + (1 if "exclusiveMinimum" in schema else 0))
    if high is not None:
        value = min(value, float(high) - (1 if "exclusiveMaximum" in schema else 0))
    return int(value) if integer else float(value)


def _string(schema: Mapping[str, Any], name: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2026-01-01T00:00:00Z"
    if fmt == "date":
        return "2026-01-01"
    if fmt == "email":
        return "user@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com"
    text = name or "value"
    minimum = int(schema.get("minLength") or 0)
    return text.ljust(minimum, "x")


def _kind(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if kinds else "null"
    if kind is None and "properties" in schema:
        return "object"
    return kind


def instance(
    schema: Mapping[str, Any],
    *,
    root: Mapping[str, Any] | None = None,
    name: str = "",
    hints: Mapping[str, Any] | None = None,
    depth: int = 0,
) -> Any:
    """A JSON value valid for ``schema``.

    Args:
        schema: The JSON Schema.
        root: The document ``$ref`` pointers resolve in (defaults to ``schema``).
        name: The property name, used as the text of string values.
        hints: Values for top-level properties, used when they are given.
        depth: Recursion depth (nested objects stop at a fixed depth).
    """
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            branches = [b for b in schema[key] if _resolve(b, root).get("type") != "null"]
            branch = (branches or schema[key])[0]
            return instance(branch, root=root, name=name, depth=depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            resolved = _resolve(part, root)
            properties = {**merged.get("properties", {}), **resolved.get("properties", {})}
            merged.update(resolved)
            if properties:
                merged["properties"] = properties
        return instance(merged, root=root, name=name, hints=hints, depth=depth + 1)
    kind = _kind(schema)
    if kind == "object":
        out: dict[str, Any] = {}
        if depth >= _MAX_DEPTH:
            return out
        for key, sub in (schema.get("properties") or {}).items():
            if hints and key in hints:
                out[key] = hints[key]
            else:
                out[key] = instance(sub, root=root, name=key, depth=depth + 1)
        return out
    if kind == "array":
        items = schema.get("items") or {}
        count = max(1, int(schema.get("minItems") or 0))
        if depth >= _MAX_DEPTH:
            return []
        return [instance(items, root=root, name=name, depth=depth + 1) for _ in range(count)]
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)
