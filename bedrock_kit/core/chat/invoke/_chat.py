"""OpenAI-style ``messages``/``choices`` bodies, shared by Mistral Large and AI21 Jamba."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.invoke._base import (
    InvokeInput,
    converse_response,
    drop_none,
    metrics_event,
    stop_event,
    system_text,
    text_delta,
    text_only,
)
from bedrock_kit.core.chat.types import Message, TextBlock, ToolResultBlock, ToolUseBlock

_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "model_length": "max_tokens",
    "end_turn": "end_turn",
}


def _messages(message: Message, codec: str) -> list[dict[str, Any]]:
    calls = [b for b in message.content if isinstance(b, ToolUseBlock)]
    results = [b for b in message.content if isinstance(b, ToolResultBlock)]
    if results:
        return [
            {
                "role": "tool",
                "tool_call_id": r.tool_use_id,
                "content": "".join(c.text for c in r.content if isinstance(c, TextBlock)),
            }
            for r in results
        ]
    text = "".join(b.text for b in message.content if isinstance(b, TextBlock))
    if not calls:
        text = text_only(message, codec)
    out: dict[str, Any] = {"role": message.role, "content": text}
    if calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.input)},
            }
            for c in calls
        ]
    return [out]


def build_chat_body(request: InvokeInput, codec: str) -> dict[str, Any]:
    """``messages`` body with optional OpenAI-style tools."""
    inference = request.inference
    messages = (
        [{"role": "system", "content": system_text(request.system)}] if request.system else []
    )
    for message in request.messages:
        messages += _messages(message, codec)
    body = drop_none(
        {
            "messages": messages,
            "max_tokens": inference.max_tokens,
            "temperature": inference.temperature,
            "top_p": inference.top_p,
            "stop": list(inference.stop_sequences) or None,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in request.tools
            ]
            or None,
        }
    )
    return {**body, **request.extra}


def parse_chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``choices`` response -> Converse shape."""
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = [{"text": message["content"]}] if message.get("content") else []
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        content.append(
            {
                "toolUse": {
                    "toolUseId": call.get("id", ""),
                    "name": function.get("name", ""),
                    "input": json.loads(arguments) if isinstance(arguments, str) else arguments,
                }
            }
        )
    usage = body.get("usage") or {}
    reason = choice.get("finish_reason") or choice.get("stop_reason") or ""
    return converse_response(
        content,
        _STOP.get(reason, reason),
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
    )


def chat_chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``choices[].delta`` stream chunk -> Converse events."""
    events: list[dict[str, Any]] = []
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or choice.get("message") or {}
        if delta.get("content"):
            events.append(text_delta(delta["content"]))
        reason = choice.get("finish_reason") or choice.get("stop_reason")
        if reason:
            events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)
