"""LlamaIndex tools <-> core tool specs, tool choice, and tool calls read from responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatResponse, ToolCallBlock
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.errors import BedrockKitError, ConfigurationError, MalformedResponseError

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool


class ToolCallMissingError(BedrockKitError, ValueError):
    """The response has no tool call although the caller required one."""


def tool_specs(tools: Sequence[BaseTool]) -> list[ToolSpec]:
    """Core tool specs from LlamaIndex tools (name, description, JSON Schema parameters)."""
    return [
        ToolSpec(
            tool.metadata.get_name(),
            tool.metadata.description,
            tool.metadata.get_parameters_dict(),
        )
        for tool in tools
    ]


def tool_choice_name(tool_choice: Any, tool_required: bool) -> str | None:
    """The core's tool choice (``auto``, ``any``, a tool name or None) from LlamaIndex forms.

    Accepts ``auto``, ``required``/``any``, a tool name, an OpenAI-style
    ``{"type": "function", "function": {"name": ...}}`` dict or a Bedrock toolChoice dict.
    """
    if tool_choice is None:
        return "any" if tool_required else None
    if isinstance(tool_choice, dict):
        if "function" in tool_choice:
            return str(tool_choice["function"]["name"])
        if "tool" in tool_choice:
            return str(tool_choice["tool"]["name"])
        if "name" in tool_choice:
            return str(tool_choice["name"])
        for key in ("any", "auto"):
            if key in tool_choice:
                return key
        raise ConfigurationError(f"tool_choice dict not understood: {tool_choice!r}")
    if tool_choice in ("required", "any"):
        return "any"
    if tool_choice == "none":
        raise ConfigurationError(
            "tool_choice='none' is not supported by Bedrock Converse; call chat without tools"
        )
    return str(tool_choice)


def tool_selections(response: ChatResponse, *, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """Every tool call of a response, in order; parallel calls are all kept.

    Streamed chunks carry arguments as partial JSON text; those are parsed leniently. Text
    that is not even partial JSON raises when ``error_on_no_tool_call`` is set.
    """
    calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    if not calls and error_on_no_tool_call:
        raise ToolCallMissingError(
            "expected at least one tool call in the response, got none "
            f"(text: {response.message.content!r})"
        )
    selections = []
    for call in calls:
        kwargs = call.tool_kwargs
        if isinstance(kwargs, str):
            text = kwargs
            try:
                kwargs = parse_partial_json(text) if text.strip() else {}
            except ValueError as exc:
                if error_on_no_tool_call:
                    raise MalformedResponseError(
                        f"tool call {call.tool_name!r} has malformed arguments: {exc}", raw=text
                    ) from exc
                kwargs = {}
        selections.append(
            ToolSelection(
                tool_id=call.tool_call_id or "", tool_name=call.tool_name, tool_kwargs=kwargs
            )
        )
    return selections
