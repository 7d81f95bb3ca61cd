"""Amazon Nova bodies (``schemaVersion: messages-v1``): Converse-like, bytes as base64."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.converse import block_to_wire, build_tool_config
from bedrock_kit.core.chat.invoke._base import Codec, InvokeInput, converse_response, drop_none


def _base64_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _base64_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_base64_bytes(v) for v in value]
    return value


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Nova messages-v1 body."""
    inference = request.inference
    body = drop_none(
        {
            "schemaVersion": "messages-v1",
            "system": [block_to_wire(b) for b in request.system] or None,
            "messages": [
                {"role": m.role, "content": [_base64_bytes(block_to_wire(b)) for b in m.content]}
                for m in request.messages
            ],
            "inferenceConfig": drop_none(
                {
                    "maxTokens": inference.max_tokens,
                    "temperature": inference.temperature,
                    "topP": inference.top_p,
                    "stopSequences": list(inference.stop_sequences) or None,
                }
            )
            or None,
            "toolConfig": build_tool_config(request.tools, request.tool_choice),
        }
    )
    return {**body, **request.extra}


def _usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = converse_response(
        [],
        "",
        usage.get("inputTokens"),
        usage.get("outputTokens"),
        cache_read=usage.get("cacheReadInputTokenCount") or usage.get("cacheReadInputTokens"),
        cache_write=usage.get("cacheWriteInputTokenCount") or usage.get("cacheWriteInputTokens"),
    )
    return dict(shaped["usage"])


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Nova response -> Converse shape (usage key names differ slightly)."""
    message = (body.get("output") or {}).get("message") or {}
    shaped = converse_response(
        list(message.get("content") or ()), body.get("stopReason") or "", 0, 0
    )
    shaped["usage"] = _usage(body.get("usage") or {})
    return shaped


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Nova stream chunks already are Converse events; only usage names are normalised."""
    if "metadata" in chunk:
        metadata = dict(chunk["metadata"] or {})
        metadata["usage"] = _usage(metadata.get("usage") or {})
        return [{"metadata": metadata}]
    return [{k: v} for k, v in chunk.items() if k != "amazon-bedrock-invocationMetrics"]


CODEC = Codec("amazon.nova", build_body, parse_body, chunk_events, supports_tools=True)
