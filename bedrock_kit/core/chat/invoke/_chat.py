"""OpenAI-style ``messages``/``choices`` bodies, shared by Mistral Large and AI21 Jamba."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.invoke._base import (
    BODY,
    CHUNK,
    InvokeInput,
    body_stop,
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


def _tool_call(call: Any, where: str) -> dict[str, Any]:
    call = BODY.obj(call, where)
    function = BODY.obj(call.get("function"), f"{where}.function")
    name = BODY.text(function.get("name"), f"{where}.function.name", empty=False)
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        arguments = (
            BODY.loads_object(arguments, where=f"tool call {name!r} arguments")
            if arguments.strip()
            else {}
        )
    return {
        "toolUse": {
            "toolUseId": BODY.text(call.get("id"), f"{where}.id", empty=False),
            "name": name,
            "input": BODY.document(
                BODY.opt_obj(arguments, f"{where}.function.arguments"), "arguments"
            ),
        }
    }


def parse_chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``choices`` response -> Converse shape."""
    choices = BODY.items(body.get("choices"), "choices")
    if not choices:
        raise BODY.malformed("choices is empty", body)
    choice = BODY.obj(choices[0], "choices[0]")
    message = BODY.obj(choice.get("message"), "choices[0].message")
    text = BODY.opt_text(message.get("content"), "choices[0].message.content")
    content: list[dict[str, Any]] = [{"text": text}] if text else []
    calls = BODY.opt_items(message.get("tool_calls"), "choices[0].message.tool_calls")
    content += [
        _tool_call(call, f"choices[0].message.tool_calls[{i}]") for i, call in enumerate(calls)
    ]
    usage = BODY.opt_obj(body.get("usage"), "usage")
    reason = body_stop(
        body, choice.get("finish_reason") or choice.get("stop_reason"), "choices[0].finish_reason"
    )
    return converse_response(
        content,
        _STOP.get(reason, reason),
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
    )


def chat_chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``choices[].delta`` stream chunk -> Converse events."""
    events: list[dict[str, Any]] = []
    for i, choice in enumerate(CHUNK.opt_items(chunk.get("choices"), "choices")):
        choice = CHUNK.obj(choice, f"choices[{i}]")
        delta = CHUNK.opt_obj(choice.get("delta") or choice.get("message"), f"choices[{i}].delta")
        text = CHUNK.opt_text(delta.get("content"), f"choices[{i}].delta.content")
        if text:
            events.append(text_delta(text))
        reason = CHUNK.opt_text(
            choice.get("finish_reason") or choice.get("stop_reason"), f"choices[{i}].finish_reason"
        )
        if reason:
            events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)
