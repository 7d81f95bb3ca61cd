"""Bedrock's request rules for Converse, checked the way the service checks them.

Each rule returns the ValidationException message Bedrock would send, or None. They cover
what clients get wrong in practice: roles that do not alternate, blank text, tool results
that answer no tool call, tool blocks without a ``toolConfig``, forced tool choice with
thinking on, and reasoning that comes back altered or unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Rule = Callable[[Mapping[str, Any]], "str | None"]

_SECRET = b"LocalBedrock reasoning signature"


def sign(text: str) -> str:
    """The signature LocalBedrock gives a reasoning text (and checks when it comes back)."""
    return hmac.new(_SECRET, text.encode(), hashlib.sha256).hexdigest()


def thinking_enabled(request: Mapping[str, Any]) -> bool:
    """Whether the request turns on Anthropic-style extended thinking."""
    fields = request.get("additionalModelRequestFields") or {}
    thinking = fields.get("thinking") if isinstance(fields, Mapping) else None
    return isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")


def _messages(request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [m for m in request.get("messages") or () if isinstance(m, Mapping)]


def _blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [b for b in message.get("content") or () if isinstance(b, Mapping)]


def _roles(request: Mapping[str, Any]) -> str | None:
    messages = _messages(request)
    if not messages:
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."  # noqa: E501
    if messages[0].get("role") != "user":
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."  # noqa: E501
    for i in range(1, len(messages)):
        if messages[i].get("role") == messages[i - 1].get("role"):
            return (
                "A conversation must alternate between user and assistant roles. Make sure "
                "the conversation alternates between user and assistant roles and try again."
            )
    return None


def _content(request: Mapping[str, Any]) -> str | None:
    for i, message in enumerate(_messages(request)):
        blocks = _blocks(message)
        if not blocks:
            return f"The content field in the Message object at messages.{i} is empty."
        for j, block in enumerate(blocks):
            if len(block) != 1:
                return (
                    f"messages.{i}.content.{j}: a content block must set exactly one member, "
                    f"got {sorted(block)}"
                )
            if "text" in block and not str(block["text"] or "").strip():
                return (
                    f"The text field in the ContentBlock object at messages.{i}.content.{j} "
                    "is blank. Add text to the text field, and try again."
                )
    return None


def _tool_ids(message: Mapping[str, Any], key: str, id_key: str) -> list[str]:
    # Server-side tool calls and results (Bedrock ran them; both sit in the assistant turn)
    # are not client tool calls: they need no toolResult in the next user turn.
    return [
        str((b[key] or {}).get(id_key, ""))
        for b in _blocks(message)
        if key in b and not _server_side(b[key], message)
    ]


def _server_side(block: Any, message: Mapping[str, Any]) -> bool:
    if not isinstance(block, Mapping):
        return False
    if block.get("type") == "server_tool_use":
        return True
    # A toolResult inside an assistant turn can only be a server tool's.
    return message.get("role") == "assistant" and "content" in block


def _tools(request: Mapping[str, Any]) -> str | None:
    messages = _messages(request)
    uses_tools = any("toolUse" in b or "toolResult" in b for m in messages for b in _blocks(m))
    config = request.get("toolConfig") or {}
    if uses_tools and not config.get("tools"):
        return (
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    for i, message in enumerate(messages):
        results = _tool_ids(message, "toolResult", "toolUseId")
        if not results:
            continue
        previous = messages[i - 1] if i else {}
        asked = set(_tool_ids(previous, "toolUse", "toolUseId"))
        stray = [r for r in results if r not in asked]
        if stray:
            return (
                f"messages.{i}: toolResult blocks {stray} do not match any toolUse block in "
                "the previous assistant turn."
            )
    for i, message in enumerate(messages[:-1]):
        answered = set(_tool_ids(messages[i + 1], "toolResult", "toolUseId"))
        missing = [a for a in _tool_ids(message, "toolUse", "toolUseId") if a not in answered]
        if missing:
            return (
                f"messages.{i + 1}: the toolUse blocks {missing} of messages.{i} have no "
                "toolResult block in the next user turn."
            )
    return _tool_choice(request)


def _tool_choice(request: Mapping[str, Any]) -> str | None:
    config = request.get("toolConfig") or {}
    choice = config.get("toolChoice") or {}
    names = [
        (t.get("toolSpec") or {}).get("name") for t in config.get("tools") or () if "toolSpec" in t
    ]
    if "tool" in choice and choice["tool"].get("name") not in names:
        return f"toolChoice names the tool {choice['tool'].get('name')!r}, not one of {names}."
    if ("any" in choice or "tool" in choice) and thinking_enabled(request):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def _signed(block: Mapping[str, Any], where: str) -> str | None:
    reasoning = block.get("reasoningContent")
    if not isinstance(reasoning, Mapping):
        return None
    if "redactedContent" in reasoning:
        return None
    text = reasoning.get("reasoningText") or {}
    signature = text.get("signature")
    if not signature:
        return f"{where}.reasoningContent: signature is required."
    if not hmac.compare_digest(str(signature), sign(str(text.get("text", "")))):
        return f"{where}.reasoningContent: invalid signature."
    return None


def _reasoning(request: Mapping[str, Any]) -> str | None:
    # Reasoning of earlier turns is dropped by the model unread; what continues a tool loop
    # with thinking on must be there, first, and exactly as signed.
    messages = _messages(request)
    if not thinking_enabled(request) or len(messages) < 2:
        return None
    last, previous = messages[-1], messages[-2]
    if not _tool_ids(last, "toolResult", "toolUseId"):
        return None
    blocks = _blocks(previous)
    first = blocks[0] if blocks else {}
    if "reasoningContent" not in first:
        found = next(iter(first), "nothing")
        return (
            f"Expected `thinking` or `redacted_thinking`, but found `{found}`. When "
            "`thinking` is enabled, a final `assistant` message must start with a "
            "thinking block."
        )
    index = len(messages) - 2
    for j, block in enumerate(blocks):
        problem = _signed(block, f"messages.{index}.content.{j}")
        if problem:
            return problem
    return None


def _output_config(request: Mapping[str, Any]) -> str | None:
    structure = ((request.get("outputConfig") or {}).get("textFormat") or {}).get("structure")
    if not structure:
        return None
    schema = (structure.get("jsonSchema") or {}).get("schema")
    try:
        json.loads(str(schema))
    except (TypeError, ValueError):
        return "outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON."
    return None


def _inference(request: Mapping[str, Any]) -> str | None:
    max_tokens = (request.get("inferenceConfig") or {}).get("maxTokens")
    if max_tokens is not None and max_tokens < 1:
        return "inferenceConfig.maxTokens must be at least 1."
    return None


RULES: Sequence[Rule] = (_roles, _content, _tools, _reasoning, _output_config, _inference)
"""Every rule, in the order Bedrock reports them."""


def violation(request: Mapping[str, Any]) -> str | None:
    """The first rule ``request`` breaks, as Bedrock's message; None when it is valid."""
    for rule in RULES:
        found = rule(request)
        if found:
            return found
    return None
