"""What every provider codec shares: its input, and conversions into Converse shapes.

Each codec turns provider bodies into *Converse-shaped* dicts (a response with
``output.message``, ``stopReason``, ``usage``; stream events ``contentBlockDelta``,
``messageStop``, ``metadata``), so the one Converse parser and the one stream reducer serve
InvokeModel too.
"""

from __future__ import annotations

import base64
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
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

BODY = WireReader("InvokeModel response body")
"""Reader of provider response bodies (the caller's guard adds model and request id)."""
CHUNK = WireReader("InvokeModelWithResponseStream chunk")
"""Reader of provider stream chunks."""


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
    chunk_usage: Callable[[Mapping[str, Any]], tuple[int | None, int | None]] | None = None
    """Input and output token counts a stream chunk carries in the provider's own fields
    (Titan ``inputTextTokenCount``...), for a stream a guardrail ends with no metrics chunk."""


INTERVENED = "guardrail_intervened"
"""The Converse stop reason of a response a guardrail changed or blocked."""


def intervened(body: Mapping[str, Any]) -> bool:
    """Whether a body or chunk carries ``amazon-bedrock-guardrailAction: INTERVENED``."""
    return body.get("amazon-bedrock-guardrailAction") == "INTERVENED"


def body_stop(body: Mapping[str, Any], value: Any, where: str) -> str:
    """A body's required stop reason, as sent.

    A guardrail that blocks the input answers with its own message and no stop reason of
    the model (which never ran): with ``amazon-bedrock-guardrailAction: INTERVENED`` a
    missing stop reason is the guardrail's, anything else is malformed.
    """
    if value is None and intervened(body):
        return INTERVENED
    return BODY.text(value, where, empty=False)


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
    stop_reason: Any,
    input_tokens: Any,
    output_tokens: Any,
    *,
    cache_read: Any = None,
    cache_write: Any = None,
) -> dict[str, Any]:
    """A Converse-shaped response dict from a provider body's parts.

    The stop reason is required; token counts are None when the body has none (the
    InvokeModel headers fill them in, and their absence everywhere is an error, not 0).
    Counts may arrive as floats (Titan: ``28.0``).
    """
    usage: dict[str, Any] = {
        "inputTokens": BODY.opt_count(input_tokens, "input token count"),
        "outputTokens": BODY.opt_count(output_tokens, "output token count"),
        "cacheReadInputTokens": BODY.opt_count(cache_read, "cache read token count") or 0,
        "cacheWriteInputTokens": BODY.opt_count(cache_write, "cache write token count") or 0,
    }
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": BODY.text(stop_reason, "stop reason", empty=False),
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
    if metrics is None:
        return []
    where = "amazon-bedrock-invocationMetrics"
    metrics = CHUNK.obj(metrics, where)
    usage = {
        "inputTokens": CHUNK.count(metrics.get("inputTokenCount"), f"{where}.inputTokenCount"),
        "outputTokens": CHUNK.count(metrics.get("outputTokenCount"), f"{where}.outputTokenCount"),
        "cacheReadInputTokens": CHUNK.opt_count(
            metrics.get("cacheReadInputTokenCount"), f"{where}.cacheReadInputTokenCount"
        )
        or 0,
        "cacheWriteInputTokens": CHUNK.opt_count(
            metrics.get("cacheWriteInputTokenCount"), f"{where}.cacheWriteInputTokenCount"
        )
        or 0,
    }
    usage["totalTokens"] = sum(usage.values())
    latency = CHUNK.opt_count(metrics.get("invocationLatency"), f"{where}.invocationLatency")
    return [{"metadata": {"usage": usage, "metrics": {"latencyMs": latency}}}]


def flat_chunk_events(
    chunk: Mapping[str, Any], text_key: str, reason_key: str, stops: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Events of a chunk that holds its text and stop reason at the top (Titan, Llama)."""
    text = CHUNK.opt_text(chunk.get(text_key), text_key)
    events = [text_delta(text)] if text else []
    reason = CHUNK.opt_text(chunk.get(reason_key), reason_key)
    if reason:
        events.append(stop_event(stops.get(reason, reason)))
    return events + metrics_event(chunk)


def max_tokens(inference: InferenceConfig, default: int) -> int:
    """Output limit; some bodies require one."""
    return inference.max_tokens if inference.max_tokens is not None else default


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    """Remove unset optional fields."""
    return {k: v for k, v in body.items() if v is not None and v != []}
