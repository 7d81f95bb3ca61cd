"""LangChain messages <-> bedrock-kit core types. Nothing Bedrock-specific is decided here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata

from bedrock_kit.core.chat.converse import block_from_wire
from bedrock_kit.core.chat.messages import (
    decode_base64,
    document_format,
    document_name,
    image_format,
    parse_data_url,
)
from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    StreamDelta,
    TextDelta,
    ToolCallDelta,
)
from bedrock_kit.core.chat.types import (
    CachePointBlock,
    CitationsBlock,
    ContentBlock,
    ConverseResult,
    DocumentBlock,
    GuardContentBlock,
    ImageBlock,
    JsonBlock,
    Message,
    ReasoningBlock,
    SystemBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    Usage,
)
from bedrock_kit.errors import ConfigurationError

_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant"}
# Bedrock's own content-block keys: dicts shaped like the wire pass straight to the core.
_WIRE_KEYS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "toolUse",
        "toolResult",
        "json",
        "reasoningContent",
        "cachePoint",
        "guardContent",
        "citationsContent",
    }
)


# ----------------------------------------------------------------------- LangChain -> core


def _media_block(block: dict[str, Any]) -> ContentBlock:
    """LangChain standard image/file blocks (v0 ``source_type`` and v1 forms)."""
    kind = block["type"]
    if kind in ("text-plain", "file") and block.get("text") is not None:
        # Plain text travels as a text document; it has no bytes to decode.
        name = block.get("filename") or block.get("name") or "document"
        return DocumentBlock("txt", document_name(name), text=block.get("text"))
    mime = block.get("mime_type") or ""
    data = block.get("base64") or (
        block.get("data") if block.get("source_type") == "base64" else None
    )
    url = block.get("url") or (block.get("data") if block.get("source_type") == "url" else None)
    raw = decode_base64(data, f"{kind} block") if data else None
    s3_uri = url if isinstance(url, str) and url.startswith("s3://") else None
    if raw is None and s3_uri is None:
        if isinstance(url, str) and url.startswith("data:"):
            mime, raw = parse_data_url(url, f"{kind} block url")
        else:
            raise ConfigurationError(f"{kind} block needs base64 data or an s3:// url: {block!r}")
    if kind == "image":
        return ImageBlock(image_format(mime or "image/png"), raw, s3_uri)
    name = (block.get("extras") or {}).get("filename") or block.get("filename") or "document"
    return DocumentBlock(document_format(mime, name), document_name(name), raw, s3_uri=s3_uri)


def _content_block(block: Any) -> ContentBlock | None:
    if isinstance(block, str):
        return TextBlock(block) if block else None
    if not isinstance(block, dict):
        raise ConfigurationError(f"unsupported message content block: {block!r}")
    kind = block.get("type")
    if kind is None and _WIRE_KEYS.intersection(block):
        return block_from_wire(block)
    if kind == "text":
        return TextBlock(block["text"]) if block.get("text") else None
    if kind == "image_url":
        value = block.get("image_url")
        url = value.get("url") if isinstance(value, dict) else value
        mime, raw = parse_data_url(url, "image_url block")
        return ImageBlock(image_format(mime), raw)
    if kind in ("image", "file", "text-plain"):
        return _media_block(block)
    if kind == "reasoning_content":
        content = block.get("reasoning_content") or {}
        if "redacted_content" in content:
            return ReasoningBlock(redacted_content=content["redacted_content"])
        return ReasoningBlock(content.get("text", ""), content.get("signature"))
    if kind == "reasoning":
        extras = block.get("extras") or {}
        return ReasoningBlock(
            block.get("reasoning", ""), block.get("signature") or extras.get("signature")
        )
    if kind in ("cache_point", "cachePoint"):
        return CachePointBlock(block.get("cache_type", "default"), block.get("ttl"))
    if kind == "guard_content":
        if not isinstance(block.get("text"), str):
            raise ConfigurationError(f"guard_content block needs its text: {block!r:.80}")
        return GuardContentBlock(block["text"], tuple(block.get("qualifiers") or ()))
    if kind in ("tool_use", "tool_call", "function_call"):
        return None  # tool calls travel in AIMessage.tool_calls
    if kind == "json":
        return JsonBlock(block.get("json", block.get("value")))
    raise ConfigurationError(f"unsupported message content block type {kind!r}: {block!r}")


def _blocks(content: str | list[Any]) -> list[ContentBlock]:
    items = [content] if isinstance(content, str) else content
    return [b for b in (_content_block(item) for item in items) if b is not None]


def _tool_result(message: ToolMessage) -> ToolResultBlock:
    if not message.tool_call_id:
        raise ConfigurationError("ToolMessage.tool_call_id is empty")
    content: list[Any] = []
    if isinstance(message.content, str):
        content = [TextBlock(message.content or "(empty)")]
    else:
        for item in message.content:
            block = _content_block(item)
            if block is not None:
                content.append(block)
        content = content or [TextBlock("(empty)")]
    return ToolResultBlock(
        message.tool_call_id, tuple(content), "error" if message.status == "error" else None
    )


def _ai_blocks(message: AIMessage) -> list[ContentBlock]:
    blocks = _blocks(message.content)
    for call in message.tool_calls:
        if not call.get("id"):
            raise ConfigurationError(f"tool call {call.get('name')!r} has no id")
        blocks.append(ToolUseBlock(call["id"] or "", call["name"], dict(call["args"])))
    return blocks


def to_core(messages: Sequence[BaseMessage]) -> tuple[list[SystemBlock], list[Message]]:
    """Split LangChain messages into Bedrock's system blocks and conversation turns."""
    system: list[SystemBlock] = []
    turns: list[Message] = []
    for i, message in enumerate(messages):
        if isinstance(message, SystemMessage) or (
            isinstance(message, ChatMessage) and message.role == "system"
        ):
            for block in _blocks(message.content):
                if not isinstance(block, TextBlock | CachePointBlock | GuardContentBlock):
                    raise ConfigurationError(f"messages[{i}]: system messages take text only")
                system.append(block)
        elif isinstance(message, AIMessage):
            turns.append(Message("assistant", tuple(_ai_blocks(message))))
        elif isinstance(message, ToolMessage):
            turns.append(Message("user", (_tool_result(message),)))
        elif isinstance(message, HumanMessage | ChatMessage):
            raw_role = getattr(message, "role", "user")
            role = _ROLES.get(raw_role)
            if role is None:
                raise ConfigurationError(f"messages[{i}]: unknown role {raw_role!r}")
            turns.append(Message(role, tuple(_blocks(message.content))))  # type: ignore[arg-type]
        else:
            raise ConfigurationError(
                f"messages[{i}]: unsupported message type {type(message).__name__}"
            )
    return system, turns


# ----------------------------------------------------------------------- core -> LangChain


def usage_metadata(usage: Usage) -> UsageMetadata:
    """LangChain usage: input_tokens counts cache reads and writes (its convention)."""
    details = InputTokenDetails(
        cache_read=usage.cache_read_input_tokens, cache_creation=usage.cache_write_input_tokens
    )
    if usage.cache_write_1h_input_tokens:  # the key langchain-anthropic uses for 1 h writes
        details["ephemeral_1h_input_tokens"] = usage.cache_write_1h_input_tokens  # type: ignore[typeddict-unknown-key]
    return UsageMetadata(
        input_tokens=usage.total_input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_input_tokens + usage.output_tokens,
        input_token_details=details,
    )


def response_metadata(result: ConverseResult) -> dict[str, Any]:
    """Typed Bedrock facts for ``AIMessage.response_metadata``."""
    return {
        "model_id": result.model_id,
        "model_name": result.model_id,
        "model_provider": "bedrock",
        "stop_reason": result.stop_reason,
        "raw_stop_reason": result.raw_stop_reason,
        "request_id": result.request_id,
        "latency_ms": result.latency_ms,
        "guardrail": result.guardrail,
        "additional_model_response_fields": result.additional_model_response_fields,
    }


def _lc_block(block: ContentBlock) -> dict[str, Any] | None:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ReasoningBlock):
        if block.redacted_content is not None:
            return {
                "type": "reasoning_content",
                "reasoning_content": {"redacted_content": block.redacted_content},
            }
        return {
            "type": "reasoning_content",
            "reasoning_content": {"text": block.text, "signature": block.signature},
        }
    if isinstance(block, CitationsBlock):
        return {"type": "text", "text": block.text, "citations": list(block.citations)}
    if isinstance(block, ToolUseBlock):
        return None
    if isinstance(block, UnknownBlock):
        return {block.type: block.raw}
    return {"type": "bedrock", "block": block}


def to_ai_message(result: ConverseResult) -> AIMessage:
    """The assistant turn as an AIMessage: text content stays a plain string when possible."""
    blocks = result.message.content
    if all(isinstance(b, TextBlock | ToolUseBlock) for b in blocks):
        content: str | list[Any] = result.text
    else:
        content = [b for b in (_lc_block(block) for block in blocks) if b is not None]
    return AIMessage(
        content=content,
        tool_calls=[
            {"name": c.name, "args": c.input, "id": c.id, "type": "tool_call"}
            for c in result.message.tool_calls
        ],
        usage_metadata=usage_metadata(result.usage),
        response_metadata=response_metadata(result),
        id=result.request_id,
    )


class ChunkBuilder:
    """Turns core stream deltas into AIMessageChunks for one stream."""

    def __init__(self) -> None:
        self._list_content = False

    def chunk(self, delta: StreamDelta) -> AIMessageChunk | None:
        """The chunk for ``delta``, or None when it carries nothing for LangChain."""
        if isinstance(delta, TextDelta):
            if self._list_content:
                return AIMessageChunk(
                    content=[{"type": "text", "text": delta.text, "index": delta.index}]
                )
            return AIMessageChunk(content=delta.text)
        if isinstance(delta, ReasoningDelta):
            self._list_content = True
            content: dict[str, Any] = {"text": delta.text}
            if delta.signature:
                content["signature"] = delta.signature
            if delta.redacted_content is not None:
                content = {"redacted_content": delta.redacted_content}
            return AIMessageChunk(
                content=[
                    {
                        "type": "reasoning_content",
                        "reasoning_content": content,
                        "index": delta.index,
                    }
                ]
            )
        if isinstance(delta, ToolCallDelta):
            return AIMessageChunk(
                content=[] if self._list_content else "",
                tool_call_chunks=[
                    {
                        "name": delta.name,
                        "args": delta.arguments,
                        "id": delta.id,
                        "index": delta.index,
                        "type": "tool_call_chunk",
                    }
                ],
            )
        if isinstance(delta, CompletedDelta):
            return AIMessageChunk(
                content=[] if self._list_content else "",
                usage_metadata=usage_metadata(delta.result.usage),
                response_metadata=response_metadata(delta.result),
                chunk_position="last",
            )
        return None
