"""Per-call options of ChatBedrockKit: tools, tool choice, structured output, the request
members a call adds to the model's, and the kept frame of a model that adds none.

Which call keyword arguments are taken is ``CHAT_CALL`` in :mod:`._arguments`.

Pure functions from LangChain's argument shapes to the core's; ChatBedrockKit stays about
the model's fields and calls.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from langchain_core.utils.function_calling import convert_to_json_schema

from bedrock_kit.core.chat.converse import ConverseFrame, plain_frame
from bedrock_kit.core.chat.models import checked_model
from bedrock_kit.core.chat.tool_config import build_json_schema_output, build_tool_config
from bedrock_kit.core.chat.tools import as_system_tool, split_system_tools
from bedrock_kit.core.chat.types import SystemTool, ToolSpec
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.tools import to_tool_spec

# additionalModelRequestFields keys that turn on model reasoning (Anthropic, Nova 2, others).
_REASONING_FIELDS = frozenset({"thinking", "reasoningConfig", "reasoning_config", "reasoning"})
_TOOL_CHOICE_TYPES = ("auto", "any", "tool")


# ----------------------------------------------------------------------- tools


def tool_spec(tool: Any, strict: bool | None) -> ToolSpec:
    """Any LangChain tool form, a Bedrock ``toolSpec`` dict or a ToolSpec -> ToolSpec."""
    if isinstance(tool, Mapping) and "toolSpec" in tool:  # Bedrock wire form
        wire = tool["toolSpec"]
        schema = (wire.get("inputSchema") or {}) if isinstance(wire, Mapping) else {}
        if not isinstance(wire, Mapping) or "name" not in wire or "json" not in schema:
            raise ConfigurationError(
                "a Bedrock toolSpec dict needs 'name' and 'inputSchema': {'json': {...}}, "
                f"got {wire!r:.80}"
            )
        tool = ToolSpec(
            wire["name"], wire.get("description", ""), schema["json"], wire.get("strict")
        )
    spec = to_tool_spec(tool)
    # Not OpenAI's strict conversion (every argument required): the flag alone is sent.
    return replace(spec, strict=strict) if strict is not None else spec


def split_tools(
    tools: Sequence[Any], system_tools: Sequence[Any]
) -> tuple[list[Any], list[SystemTool]]:
    """Client tools, and the system tools found among them or given, checked now."""
    client_tools, found = split_system_tools(tools)
    servers = [*found, *(as_system_tool(t) for t in system_tools)]
    if servers:
        build_tool_config([], None, servers)
    return list(client_tools), servers


def check_unique_names(servers: Sequence[SystemTool], specs: Sequence[ToolSpec]) -> None:
    """A system tool named like a bound tool fails at bind time, not at the first call."""
    clash = {t.name for t in servers} & {t.name for t in specs}
    if clash:
        raise ConfigurationError(
            f"tool names must be unique: system tools {sorted(clash)} share a name with a "
            "bound tool"
        )


def tool_choice(choice: Any, specs: Sequence[ToolSpec]) -> str | None:
    """LangChain tool_choice values -> the core's None / auto / any / tool name."""
    if choice is None or choice == "auto":
        return choice  # type: ignore[no-any-return]
    if choice in ("any", "required"):
        return "any"
    if choice is True:
        if len(specs) != 1:
            raise ConfigurationError("tool_choice=True needs exactly one tool")
        return specs[0].name
    if isinstance(choice, Mapping):
        if "auto" in choice or "any" in choice:  # Bedrock wire form
            return "auto" if "auto" in choice else "any"
        name = (
            (choice.get("function") or {}).get("name")
            or (choice.get("tool") or {}).get("name")
            or choice.get("name")
        )
        if not name:
            raise ConfigurationError(f"tool_choice dict names no tool: {choice!r}")
        return str(name)
    if isinstance(choice, str):
        return choice
    raise ConfigurationError(f"unsupported tool_choice {choice!r}")


def call_tools(
    arg: Mapping[str, Any], supported: Sequence[str] | None, model_id: str
) -> tuple[list[ToolSpec], list[SystemTool], str | None]:
    """A call's client tools, system tools and tool choice, from its ``tools``,
    ``system_tools``, ``strict`` and ``tool_choice`` arguments (each present, maybe None).

    Raises:
        ConfigurationError: A tool or a choice Bedrock (or the model) would refuse.
    """
    client_tools, found = split_system_tools(arg["tools"] or ())
    servers = [*found, *(as_system_tool(t) for t in arg["system_tools"] or ())]
    specs = [tool_spec(t, arg["strict"]) for t in client_tools]
    choice = tool_choice(arg["tool_choice"], specs)
    check_choice_supported(choice, supported, model_id)
    return specs, servers, choice


def choice_type(choice: str | None) -> str | None:
    """``auto``, ``any`` or ``tool`` (a named tool) for a core tool choice."""
    return choice if choice in (None, "auto", "any") else "tool"


def check_choice_supported(
    choice: str | None, supported: Sequence[str] | None, model_id: str
) -> None:
    """Refuse a tool choice outside ``supports_tool_choice_values`` (when it is set)."""
    kind = choice_type(choice)
    if supported is None or kind is None or kind in supported:
        return
    raise ConfigurationError(
        f"model {model_id!r} takes tool_choice of types {list(supported)} "
        f"(supports_tool_choice_values), not {kind!r}"
    )


def check_choice_values(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate ``supports_tool_choice_values``."""
    if values is None:
        return None
    found = tuple(values)
    bad = [v for v in found if v not in _TOOL_CHOICE_TYPES]
    if bad:
        raise ConfigurationError(
            f"supports_tool_choice_values takes {list(_TOOL_CHOICE_TYPES)}, got {bad}"
        )
    return found


# ----------------------------------------------------------------------- structured output


def _no_extra_properties(schema: Any) -> None:
    # Bedrock's structured output requires additionalProperties false on every object.
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _no_extra_properties(value)
    elif isinstance(schema, list):
        for value in schema:
            _no_extra_properties(value)


def json_schema_output(
    schema: Mapping[str, Any], name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """Converse ``outputConfig`` for a JSON Schema (objects closed, as Bedrock requires)."""
    closed = copy.deepcopy(dict(schema))
    _no_extra_properties(closed)
    return build_json_schema_output(
        closed,
        name=name or closed.get("title") or "output_schema",
        description=description or closed.get("description"),
    )


def schema_of(schema: Any) -> dict[str, Any]:
    """The JSON Schema of a pydantic class, TypedDict, function or schema dict."""
    return dict(convert_to_json_schema(schema))


def response_format_output(response_format: Any) -> dict[str, Any]:
    """``response_format`` (as langchain 1.x agents and OpenAI-style code pass it) ->
    Converse ``outputConfig``.

    Takes ``{"type": "json_schema", "json_schema": {"name", "schema", ...}}``, a bare JSON
    Schema dict, or a pydantic class.
    """
    if isinstance(response_format, type):
        return json_schema_output(schema_of(response_format))
    if not isinstance(response_format, Mapping):
        raise ConfigurationError(
            f"response_format must be a dict or a pydantic class, got {response_format!r}"
        )
    kind = response_format.get("type")
    if kind == "json_schema":
        block = response_format.get("json_schema") or response_format.get("jsonSchema") or {}
        schema = block.get("schema")
        if isinstance(schema, str):
            schema = json.loads(schema)
        if not isinstance(schema, Mapping):
            raise ConfigurationError("response_format json_schema has no schema")
        return json_schema_output(schema, block.get("name"), block.get("description"))
    if kind == "object" or "properties" in response_format:
        return json_schema_output(response_format)
    raise ConfigurationError(
        f"response_format type {kind!r} is not supported: Bedrock takes 'json_schema' "
        "(a JSON Schema for the answer)"
    )


# ----------------------------------------------------------------------- streams


def wants_blocks(
    request_kwargs: Mapping[str, Any],
    additional_fields: Mapping[str, Any] | None,
    request: Mapping[str, Any],
    output_version: str | None,
) -> bool:
    """Whether a stream should carry indexed content blocks from its first chunk.

    Plain text streams stay strings (``chunk.content`` concatenates); a stream that can
    carry tool calls, reasoning or citations uses blocks throughout, so the merged message
    keeps every block in order.
    """
    if output_version == "v1" or request_kwargs.get("tools") or "toolConfig" in request:
        return True
    if _REASONING_FIELDS.intersection(additional_fields or {}):
        return True
    for message in request.get("messages") or ():
        for block in message.get("content") or ():
            if (block.get("document") or {}).get("citations", {}).get("enabled"):
                return True
    return False


class _Model(Protocol):
    """The fields of a ChatBedrockKit that its requests' members come from (read only)."""

    api: Any
    model_id: Any
    region_name: Any
    max_tokens: Any
    temperature: Any
    top_p: Any
    stop: Any
    system: Any
    additional_model_request_fields: Any
    additional_model_response_field_paths: Any
    guardrail_config: Any
    performance_config: Any
    service_tier: Any
    request_metadata: Any
    prompt_variables: Any
    output_config: Any


# ----------------------------------------------------------------------- request members


def output_config(llm: _Model, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The call's ``outputConfig``: given, from ``response_format``, else the model's."""
    if kwargs and kwargs.get("output_config"):
        return dict(kwargs["output_config"])
    if kwargs and kwargs.get("response_format") is not None:
        return response_format_output(kwargs["response_format"])
    own: dict[str, Any] | None = llm.output_config
    return own


def additional_fields(llm: _Model, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model's ``additionalModelRequestFields`` with the call's over them (or None)."""
    extra = kwargs.get("additional_model_request_fields") if kwargs else None
    own = llm.additional_model_request_fields  # usually neither: no dicts to build
    return ({**(own or {}), **(extra or {})} or None) if own or extra else None


def plain_frame_of(llm: _Model) -> ConverseFrame | None:
    """The kept frame of ``llm``'s Converse requests when it sets nothing but the model and
    its inference configuration (what ``build_request`` builds then, member for member),
    else None. Every field that would add a member is read here."""
    if (
        llm.api != "converse"
        or llm.system
        or llm.additional_model_request_fields
        or llm.additional_model_response_field_paths
        or llm.guardrail_config is not None
        or llm.performance_config
        or llm.service_tier is not None
        or llm.request_metadata
        or llm.prompt_variables
        or llm.output_config
    ):
        return None
    model = checked_model(llm.model_id, llm.region_name)
    return plain_frame(model, llm.max_tokens, llm.temperature, llm.top_p, tuple(llm.stop or ()))
