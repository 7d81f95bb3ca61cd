"""Converse ``toolConfig`` and ``outputConfig``: tools the model may call, the shape of
its answer, checked against Bedrock's limits before any request."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_kit.core.chat.schema import check_json_schema
from bedrock_kit.core.chat.types import SystemTool, ToolSpec
from bedrock_kit.errors import ConfigurationError

# Bedrock toolSpec.name constraint.
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def build_tool_spec(spec: ToolSpec) -> dict[str, Any]:
    """Converse ``toolSpec`` for one tool, validated against Bedrock's limits."""
    if not _TOOL_NAME.match(spec.name):
        raise ConfigurationError(
            f"tool name {spec.name!r} is invalid: Bedrock allows 1-64 characters of "
            "letters, digits, '_' and '-'"
        )
    if not isinstance(spec.input_schema, Mapping):
        raise ConfigurationError(f"tool {spec.name!r}: input schema must be a JSON Schema dict")
    if spec.input_schema.get("type", "object") != "object":
        raise ConfigurationError(f"tool {spec.name!r}: input schema must be of type 'object'")
    check_json_schema(spec.input_schema, f"tool {spec.name!r}")
    wire: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description or spec.name,
        "inputSchema": {"json": {"type": "object", "properties": {}, **spec.input_schema}},
    }
    if spec.strict is not None:
        wire["strict"] = spec.strict
    return {"toolSpec": wire}


def build_system_tool(tool: SystemTool) -> dict[str, Any]:
    """Converse ``systemTool`` entry for one server-side tool, its name checked."""
    if not isinstance(tool, SystemTool):
        raise ConfigurationError(f"not a SystemTool: {tool!r}")
    if not isinstance(tool.name, str) or not _TOOL_NAME.match(tool.name):
        raise ConfigurationError(
            f"system tool name {tool.name!r} is invalid: Bedrock allows 1-64 characters of "
            "letters, digits, '_' and '-'"
        )
    return {"systemTool": {"name": tool.name}}


def build_tool_config(
    tools: Sequence[ToolSpec],
    tool_choice: str | None = None,
    system_tools: Sequence[SystemTool] = (),
) -> dict[str, Any] | None:
    """Converse ``toolConfig``.

    Args:
        tools: The tools the model may call (the client runs them).
        tool_choice: None or ``auto`` (model decides), ``any`` (must call a tool), or a
            tool name (must call that tool).
        system_tools: Server-side tools (``systemTool``), listed after the client tools.
    """
    if not tools and not system_tools:
        if tool_choice not in (None, "auto"):
            raise ConfigurationError(f"tool_choice={tool_choice!r} given without any tools")
        return None
    names = [t.name for t in tools] + [t.name for t in system_tools]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"tool names must be unique, got {names}")
    config: dict[str, Any] = {
        "tools": [build_tool_spec(t) for t in tools] + [build_system_tool(t) for t in system_tools]
    }
    if tool_choice in (None, "auto"):
        if tool_choice == "auto":
            config["toolChoice"] = {"auto": {}}
    elif tool_choice == "any":
        config["toolChoice"] = {"any": {}}
    elif tool_choice in names:
        config["toolChoice"] = {"tool": {"name": tool_choice}}
    else:
        raise ConfigurationError(
            f"tool_choice={tool_choice!r} is neither 'auto', 'any' nor one of the tools {names}"
        )
    return config


def build_json_schema_output(
    schema: Mapping[str, Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """Converse ``outputConfig`` constraining the answer text to a JSON Schema.

    Raises:
        ConfigurationError: When ``schema`` is not a valid JSON Schema document.
    """
    check_json_schema(schema, "structured output schema")
    definition: dict[str, Any] = {"schema": json.dumps(schema)}
    if name:
        definition["name"] = name
    if description:
        definition["description"] = description
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}
