"""Anthropic Claude Messages API bodies (``anthropic_version: bedrock-2023-05-31``)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.invoke._base import (
    BODY,
    CHUNK,
    Codec,
    InvokeInput,
    b64,
    body_stop,
    converse_response,
    drop_none,
    intervened,
    max_tokens,
    metrics_event,
    stop_event,
    system_text,
    text_delta,
)
from bedrock_kit.core.chat.types import (
    CachePointBlock,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    JsonBlock,
    ReasoningBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from bedrock_kit.errors import ConfigurationError

_VERSION = "bedrock-2023-05-31"
_DEFAULT_MAX_TOKENS = 4096  # the Messages API requires max_tokens


def _result_content(block: ToolResultBlock) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in block.content:
        if isinstance(item, TextBlock):
            out.append({"type": "text", "text": item.text})
        elif isinstance(item, JsonBlock):
            out.append({"type": "text", "text": json.dumps(item.value)})
        else:
            out.append(_block(item))
    return out


def _block(block: ContentBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ImageBlock):
        media = f"image/{block.format}"
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media, "data": b64(block)},
        }
    if isinstance(block, DocumentBlock) and block.format == "pdf" and block.data is not None:
        data = base64.b64encode(block.data).decode()
        return {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": data},
        }
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": _result_content(block),
        }
        if block.status == "error":
            result["is_error"] = True
        return result
    if isinstance(block, ReasoningBlock):
        if block.redacted_content is not None:
            return {
                "type": "redacted_thinking",
                "data": base64.b64encode(block.redacted_content).decode(),
            }
        return {"type": "thinking", "thinking": block.text, "signature": block.signature}
    raise ConfigurationError(f"Anthropic InvokeModel bodies cannot carry {type(block).__name__}")


def _content(blocks: tuple[ContentBlock, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, CachePointBlock):
            if not out:
                raise ConfigurationError("a cache point must follow some content")
            out[-1]["cache_control"] = {"type": "ephemeral"}
        else:
            out.append(_block(block))
    return out


def _tool_choice(choice: str | None) -> dict[str, Any] | None:
    if choice in (None, "auto"):
        return None if choice is None else {"type": "auto"}
    if choice == "any":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Anthropic Messages body."""
    inference = request.inference
    body = drop_none(
        {
            "anthropic_version": _VERSION,
            "max_tokens": max_tokens(inference, _DEFAULT_MAX_TOKENS),
            "system": system_text(request.system) or None,
            "messages": [
                {"role": m.role, "content": _content(m.content)} for m in request.messages
            ],
            "temperature": inference.temperature,
            "top_p": inference.top_p,
            "stop_sequences": list(inference.stop_sequences) or None,
            "tools": [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
            or None,
            "tool_choice": _tool_choice(request.tool_choice) if request.tools else None,
        }
    )
    return {**body, **request.extra}


def _converse_block(block: Any, where: str) -> dict[str, Any]:
    block = BODY.obj(block, where)
    kind = BODY.text(block.get("type"), f"{where}.type", empty=False)
    if kind == "text":
        return {"text": BODY.text(block.get("text"), f"{where}.text")}
    if kind == "tool_use":
        return {
            "toolUse": {
                "toolUseId": BODY.text(block.get("id"), f"{where}.id", empty=False),
                "name": BODY.text(block.get("name"), f"{where}.name", empty=False),
                "input": BODY.obj(block.get("input"), f"{where}.input"),
            }
        }
    if kind == "thinking":
        return {
            "reasoningContent": {
                "reasoningText": {
                    "text": BODY.text(block.get("thinking"), f"{where}.thinking"),
                    "signature": BODY.opt_text(block.get("signature"), f"{where}.signature"),
                }
            }
        }
    if kind == "redacted_thinking":
        data = BODY.text(block.get("data"), f"{where}.data")
        try:
            return {"reasoningContent": {"redactedContent": base64.b64decode(data, validate=True)}}
        except binascii.Error as exc:
            raise BODY.malformed(f"{where}.data is not base64", data) from exc
    return {kind: dict(block)}


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Messages API response -> Converse shape."""
    usage = BODY.opt_obj(body.get("usage"), "usage")
    return converse_response(
        [
            _converse_block(b, f"content[{i}]")
            for i, b in enumerate(BODY.items(body.get("content"), "content"))
        ],
        body_stop(body, body.get("stop_reason"), "stop reason"),
        usage.get("input_tokens"),
        usage.get("output_tokens"),
        cache_read=usage.get("cache_read_input_tokens"),
        cache_write=usage.get("cache_creation_input_tokens"),
    )


def _delta(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    index = CHUNK.count(chunk.get("index"), "index")
    delta = CHUNK.obj(chunk.get("delta"), "delta")
    kind = CHUNK.text(delta.get("type"), "delta.type")
    wire: dict[str, Any]
    if kind == "text_delta":
        wire = {"text": CHUNK.text(delta.get("text"), "delta.text")}
    elif kind == "input_json_delta":
        wire = {"toolUse": {"input": CHUNK.text(delta.get("partial_json"), "delta.partial_json")}}
    elif kind == "thinking_delta":
        wire = {"reasoningContent": {"text": CHUNK.text(delta.get("thinking"), "delta.thinking")}}
    elif kind == "signature_delta":
        signature = CHUNK.text(delta.get("signature"), "delta.signature")
        wire = {"reasoningContent": {"signature": signature}}
    else:
        return []
    return [{"contentBlockDelta": {"contentBlockIndex": index, "delta": wire}}]


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One Messages streaming event -> Converse stream events."""
    kind = CHUNK.text(chunk.get("type"), "type", empty=False)
    if kind == "message_start":
        return [{"messageStart": {"role": "assistant"}}]
    if kind == "content_block_start":
        index = CHUNK.count(chunk.get("index"), "index")
        block = CHUNK.obj(chunk.get("content_block"), "content_block")
        if block.get("type") == "tool_use":
            start = {
                "toolUse": {
                    "toolUseId": CHUNK.text(block.get("id"), "content_block.id"),
                    "name": CHUNK.text(block.get("name"), "content_block.name"),
                }
            }
            return [{"contentBlockStart": {"contentBlockIndex": index, "start": start}}]
        return []
    if kind == "content_block_delta":
        return _delta(chunk)
    if kind == "content_block_stop":
        return [
            {"contentBlockStop": {"contentBlockIndex": CHUNK.count(chunk.get("index"), "index")}}
        ]
    if kind == "message_delta":
        delta = CHUNK.obj(chunk.get("delta"), "delta")
        reason = CHUNK.opt_text(delta.get("stop_reason"), "delta.stop_reason")
        return [stop_event(reason)] if reason else []
    if kind == "message_stop":
        return metrics_event(chunk)
    if kind == "message" and intervened(chunk):
        # A guardrail that blocks the input answers with one whole message, not deltas.
        return [
            text_delta(CHUNK.text(block.get("text"), f"content[{i}].text"), i)
            for i, block in enumerate(_objects(chunk.get("content"), "content"))
            if block.get("type") == "text"
        ] + metrics_event(chunk)
    return []


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    items = CHUNK.opt_items(value, where)
    return [CHUNK.obj(item, f"{where}[{i}]") for i, item in enumerate(items)]


def chunk_usage(chunk: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Token counts of ``message_start`` (``message.usage``), ``message_delta`` (``usage``)
    or a whole ``message`` chunk."""
    holder = chunk.get("message") if chunk.get("type") == "message_start" else chunk
    usage = CHUNK.opt_obj(CHUNK.opt_obj(holder, "message").get("usage"), "usage")
    return (
        CHUNK.opt_count(usage.get("input_tokens"), "usage.input_tokens"),
        CHUNK.opt_count(usage.get("output_tokens"), "usage.output_tokens"),
    )


CODEC = Codec(
    "anthropic", build_body, parse_body, chunk_events, supports_tools=True, chunk_usage=chunk_usage
)
