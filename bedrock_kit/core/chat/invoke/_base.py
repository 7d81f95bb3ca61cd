"""What every provider codec shares: its input, and conversions into Converse shapes.

Each codec turns provider bodies into *Converse-shaped* dicts (a response with
``output.message``, ``stopReason``, ``usage``; stream events ``contentBlockDelta``,
``messageStop``, ``metadata``), so the one Converse parser and the one stream reducer serve
InvokeModel too.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.chat.types import (
    ImageBlock,
    InferenceConfig,
    Message,
    SystemBlock,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
)
from bedrock_kit.errors import ConfigurationError


@dataclass(frozen=True)
class InvokeInput:
    """Everything a codec needs to build an InvokeModel body."""

    messages: Sequence[Message]
    """Conversation turns (merged, alternating, starting with user)."""
    system: Sequence[SystemBlock] = ()
    """System prompt blocks."""
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    """Sampling parameters."""
    tools: Sequence[ToolSpec] = ()
    """Tools, for providers whose InvokeModel body has them."""
    tool_choice: str | None = None
    """None/auto, any, or a tool name."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Provider-specific body fields merged in last (``additional_model_request_fields``)."""


@dataclass(frozen=True)
class Codec:
    """One provider family's InvokeModel body format."""

    name: str
    """Provider family name, as shown in errors."""
    build_body: Callable[[InvokeInput], dict[str, Any]]
    """Core input -> request body."""
    parse_body: Callable[[Mapping[str, Any]], dict[str, Any]]
    """Response body -> Converse-shaped response."""
    chunk_events: Callable[[Mapping[str, Any]], list[dict[str, Any]]]
    """One decoded stream chunk -> Converse stream events."""
    supports_tools: bool = False
    """Whether the body format carries tool definitions."""


def system_text(system: Sequence[SystemBlock]) -> str:
    """System blocks as one string (cache points and guard markers dropped for text formats)."""
    return "\n".join(b.text for b in system if isinstance(b, TextBlock))


def text_only(message: Message, codec: str) -> str:
    """A turn's text for prompt-only formats; other blocks are an error, not silently lost."""
    parts: list[str] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            parts.append(block.text)
        elif isinstance(block, ToolResultBlock):
            parts.extend(c.text for c in block.content if isinstance(c, TextBlock))
        else:
            raise ConfigurationError(
                f"{codec} InvokeModel bodies carry text only, got {type(block).__name__}; "
                "use api='converse' for this content"
            )
    return "".join(parts)


def b64(block: ImageBlock) -> str:
    """Inline image bytes as base64 text (S3 images are not allowed in these bodies)."""
    if block.data is None:
        raise ConfigurationError("InvokeModel bodies need inline image bytes, not an s3:// uri")
    return base64.b64encode(block.data).decode()


def converse_response(
    content: list[dict[str, Any]],
    stop_reason: str,
    input_tokens: Any,
    output_tokens: Any,
    *,
    cache_read: Any = 0,
    cache_write: Any = 0,
) -> dict[str, Any]:
    """A Converse-shaped response dict (token counts may arrive as floats: 28.0)."""
    usage = {
        "inputTokens": int(input_tokens or 0),
        "outputTokens": int(output_tokens or 0),
        "cacheReadInputTokens": int(cache_read or 0),
        "cacheWriteInputTokens": int(cache_write or 0),
    }
    usage["totalTokens"] = sum(usage.values())
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": usage,
    }


def text_delta(text: str, index: int = 0) -> dict[str, Any]:
    """A Converse ``contentBlockDelta`` text event."""
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": text}}}


def stop_event(stop_reason: str) -> dict[str, Any]:
    """A Converse ``messageStop`` event."""
    return {"messageStop": {"stopReason": stop_reason}}


def metrics_event(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``metadata`` from ``amazon-bedrock-invocationMetrics``, sent on the last chunk."""
    metrics = chunk.get("amazon-bedrock-invocationMetrics")
    if not metrics:
        return []
    usage = {
        "inputTokens": int(metrics.get("inputTokenCount") or 0),
        "outputTokens": int(metrics.get("outputTokenCount") or 0),
        "cacheReadInputTokens": int(metrics.get("cacheReadInputTokenCount") or 0),
        "cacheWriteInputTokens": int(metrics.get("cacheWriteInputTokenCount") or 0),
    }
    usage["totalTokens"] = sum(usage.values())
    return [
        {"metadata": {"usage": usage, "metrics": {"latencyMs": metrics.get("invocationLatency")}}}
    ]


def flat_chunk_events(
    chunk: Mapping[str, Any], text_key: str, reason_key: str, stops: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Events of a chunk that holds its text and stop reason at the top (Titan, Llama)."""
    events = [text_delta(chunk[text_key])] if chunk.get(text_key) else []
    reason = chunk.get(reason_key)
    if reason:
        events.append(stop_event(stops.get(reason, reason)))
    return events + metrics_event(chunk)


def max_tokens(inference: InferenceConfig, default: int) -> int:
    """Output limit; some bodies require one."""
    return inference.max_tokens if inference.max_tokens is not None else default


def estimate_tokens(text: str) -> int:
    """Fallback count (one token per four characters) when a provider reports none."""
    return math.ceil(len(text) / 4)


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    """Remove unset optional fields."""
    return {k: v for k, v in body.items() if v is not None and v != []}
