"""Amazon Nova bodies (``schemaVersion: messages-v1``): Converse-like, bytes as base64."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.converse import block_to_wire
from bedrock_kit.core.chat.invoke._base import (
    BODY,
    CHUNK,
    Codec,
    InvokeInput,
    body_stop,
    converse_response,
    drop_none,
)
from bedrock_kit.core.chat.tool_config import build_tool_config
from bedrock_kit.core.transport.wire import WireReader


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


def _usage(r: WireReader, usage: Mapping[str, Any], where: str) -> dict[str, Any]:
    def count(*names: str) -> int | None:
        value = next((usage[n] for n in names if usage.get(n) is not None), None)
        return r.opt_count(value, f"{where}.{names[0]}")

    return {
        "inputTokens": count("inputTokens"),
        "outputTokens": count("outputTokens"),
        "cacheReadInputTokens": count("cacheReadInputTokenCount", "cacheReadInputTokens") or 0,
        "cacheWriteInputTokens": count("cacheWriteInputTokenCount", "cacheWriteInputTokens") or 0,
    }


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Nova response -> Converse shape (usage key names differ slightly)."""
    output = BODY.obj(body.get("output"), "output")
    message = BODY.obj(output.get("message"), "output.message")
    content = BODY.items(message.get("content"), "output.message.content")
    shaped = converse_response(
        list(content), body_stop(body, body.get("stopReason"), "stopReason"), None, None
    )
    shaped["usage"] = _usage(BODY, BODY.opt_obj(body.get("usage"), "usage"), "usage")
    return shaped


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Nova stream chunks already are Converse events; only usage names are normalised."""
    if "metadata" in chunk:
        metadata = dict(CHUNK.obj(chunk["metadata"], "metadata"))
        usage = _usage(CHUNK, CHUNK.obj(metadata.get("usage"), "metadata.usage"), "metadata.usage")
        if usage["inputTokens"] is not None and usage["outputTokens"] is not None:
            usage["totalTokens"] = sum(usage.values())
        metadata["usage"] = usage
        return [{"metadata": metadata}]
    return [{k: v} for k, v in chunk.items() if k != "amazon-bedrock-invocationMetrics"]


CODEC = Codec("amazon.nova", build_body, parse_body, chunk_events, supports_tools=True)
