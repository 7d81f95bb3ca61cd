"""LangChain messages -> bedrock-kit core types. Nothing Bedrock-specific is decided here.

Every content dialect LangChain users hold is read: LangChain's standard blocks (v0
``source_type`` and v1 forms, ``non_standard`` wrappers included), OpenAI's ``image_url``,
Anthropic's (``image``/``document`` with a ``source``, ``thinking``, ``redacted_thinking``,
``tool_use``, ``tool_result``, ``cache_control``), langchain-aws's Converse-shaped blocks,
and Bedrock's own wire dicts. So any AIMessage this model produced, v0 or v1, goes back as
history unchanged. What has no Bedrock equivalent is refused by name.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from bedrock_kit.core.chat.converse import block_from_wire
from bedrock_kit.core.chat.messages import (
    AUDIO_FORMATS,
    MEDIA_ALIASES,
    VIDEO_FORMATS,
    document_format,
    document_name,
    image_format,
    parse_data_url,
)
from bedrock_kit.core.chat.types import (
    SERVER_TOOL_USE,
    CachePointBlock,
    CitationsBlock,
    ContentBlock,
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
)
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._content import (
    ChunkBuilder,
    camel_keys,
    response_metadata,
    to_ai_message,
    usage_metadata,
)

__all__ = [
    "ChunkBuilder",
    "response_metadata",
    "to_ai_message",
    "to_core",
    "usage_metadata",
]

_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant"}
# Bedrock's own content-block keys: dicts shaped like the wire pass straight to the core.
_WIRE_KEYS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "json",
        "reasoningContent",
        "cachePoint",
        "guardContent",
        "citationsContent",
        "searchResult",
        # the rest of botocore's ContentBlock members: read and kept as sent
        "toolAddition",
        "toolRemoval",
    }
)
_AUDIO_FORMATS = AUDIO_FORMATS
_VIDEO_FORMATS = VIDEO_FORMATS
_MEDIA_ALIASES = MEDIA_ALIASES
# Block types that stand for tool calls; the calls themselves travel in AIMessage.tool_calls.
_TOOL_CALL_TYPES = frozenset({"tool_use", "tool_call", "function_call"})


# ----------------------------------------------------------------------- media


def _b64(data: Any, what: str) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    try:
        return base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{what}: data is not valid base64 ({exc})") from None


def _data_url(url: str) -> tuple[str, bytes]:
    header, _, data = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise ConfigurationError(
            "image_url must be a base64 data URL (data:image/png;base64,...); Bedrock does "
            "not fetch remote URLs — pass bytes or an s3:// source instead"
        )
    return header[5:].split(";", 1)[0], _b64(data, "image_url")


def _media_block(block: Mapping[str, Any]) -> ContentBlock:
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
    raw = _b64(data, f"{kind} block") if data else None
    s3_uri = url if url and url.startswith("s3://") else None
    if raw is None and s3_uri is None:
        if isinstance(url, str) and url.startswith("data:"):
            mime, raw = parse_data_url(url, f"{kind} block url")
        else:
            raise ConfigurationError(
                f"{kind} block needs base64 data or an s3:// url (Bedrock does not fetch "
                f"remote URLs): {_describe(block)}"
            )
    if kind == "image":
        return ImageBlock(image_format(mime or "image/png"), raw, s3_uri)
    if kind == "text-plain" or (kind == "file" and block.get("text") is not None):
        name = block.get("filename") or block.get("name") or "document"
        return DocumentBlock("txt", document_name(name), text=block.get("text"))
    extras = block.get("extras") or {}
    name = (
        block.get("filename")
        or block.get("name")
        or extras.get("filename")
        or extras.get("name")
        or "document"
    )
    return DocumentBlock(document_format(mime, name), document_name(name), raw, s3_uri=s3_uri)


def _av_format(kind: str, mime: str, formats: frozenset[str]) -> str:
    subtype = (mime or "").rsplit("/", 1)[-1].lower()
    found = _MEDIA_ALIASES.get(subtype, subtype)
    if found not in formats:
        raise ConfigurationError(
            f"{kind} type {mime!r} is not supported by Bedrock; use one of {sorted(formats)}"
        )
    return found


def _av_block(block: Mapping[str, Any]) -> ContentBlock:
    """Standard audio / video blocks, and OpenAI's ``input_audio``, as Converse blocks."""
    kind = "audio" if block["type"] in ("audio", "input_audio") else "video"
    formats = _AUDIO_FORMATS if kind == "audio" else _VIDEO_FORMATS
    if block["type"] == "input_audio":
        inner = block.get("input_audio") or {}
        fmt = _av_format(kind, f"audio/{inner.get('format', '')}", formats)
        return UnknownBlock(
            kind, {"format": fmt, "source": {"bytes": _b64(inner.get("data"), kind)}}
        )
    mime = block.get("mime_type") or ""
    data = block.get("base64") or (
        block.get("data") if block.get("source_type") == "base64" else None
    )
    url = block.get("url") or ""
    if data:
        source: dict[str, Any] = {"bytes": _b64(data, f"{kind} block")}
    elif url.startswith("s3://"):
        source = {"s3Location": {"uri": url}}
    else:
        raise ConfigurationError(
            f"{kind} block needs base64 data or an s3:// url (Bedrock does not fetch "
            f"remote URLs): {_describe(block)}"
        )
    return UnknownBlock(kind, {"format": _av_format(kind, mime, formats), "source": source})


def _openai_file(block: Mapping[str, Any]) -> ContentBlock:
    """OpenAI Chat Completions ``{"type": "file", "file": {"filename", "file_data"}}``."""
    inner = block["file"]
    data_url = str(inner.get("file_data") or "")
    header, _, data = data_url.partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise ConfigurationError(
            "file.file_data must be a base64 data URL (OpenAI file ids cannot be sent to Bedrock)"
        )
    mime = header[5:].split(";", 1)[0]
    return _media_block(
        {"type": "file", "base64": data, "mime_type": mime, "filename": inner.get("filename")}
    )


def _source_block(block: Mapping[str, Any]) -> ContentBlock:
    """Anthropic's ``{"type": "image" | "document", "source": {...}}`` blocks."""
    kind, source = block["type"], block["source"]
    source_type = source.get("type")
    mime = source.get("media_type") or source.get("mediaType") or ""
    if source_type == "base64":
        raw = _b64(source.get("data"), f"{kind} block")
        if kind == "image":
            return ImageBlock(image_format(mime), raw)
        name = block.get("title") or block.get("name") or "document"
        enabled = bool((block.get("citations") or {}).get("enabled"))
        return DocumentBlock(
            document_format(mime, name), document_name(name), raw, citations=enabled
        )
    if kind == "document" and source_type == "text":
        name = block.get("title") or block.get("name") or "document"
        enabled = bool((block.get("citations") or {}).get("enabled"))
        return DocumentBlock(
            "txt", document_name(name), text=str(source.get("data", "")), citations=enabled
        )
    if kind == "video" and source_type in ("base64", "s3Location"):
        fmt = mime.rsplit("/", 1)[-1]
        wire = {"bytes": _b64(source["data"], "video")} if source_type == "base64" else None
        return UnknownBlock("video", {"format": fmt, "source": wire or {"s3Location": source}})
    raise ConfigurationError(
        f"{kind} block with source type {source_type!r}: Bedrock takes inline base64 "
        f"(or s3:// via the standard url form); it does not fetch URLs: {_describe(block)}"
    )


def _describe(block: Mapping[str, Any]) -> str:
    # Errors name the block without dumping megabytes of base64 into logs.
    text = repr(dict(block))
    return text if len(text) <= 200 else text[:200] + "...}"


# ----------------------------------------------------------------------- text and reasoning


def _citation(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """One citation back to Bedrock's form: from camelCase, snake_case or a v1 annotation."""
    if item.get("type") == "citation":  # v1 annotation built from a Converse citation
        extras = item.get("extras") or {}
        if "location" not in extras:
            return None
        cited: dict[str, Any] = {"location": camel_keys(extras["location"])}
        if item.get("title"):
            cited["title"] = item["title"]
        if item.get("cited_text") is not None:
            cited["sourceContent"] = [{"text": item["cited_text"]}]
        return cited
    wire = camel_keys(dict(item))
    return wire if "location" in wire else None


def _text_block(block: Mapping[str, Any]) -> ContentBlock | None:
    text = block.get("text")
    if not text:
        return None
    found = block.get("citations") or block.get("annotations") or ()
    citations = [c for c in (_citation(i) for i in found if isinstance(i, Mapping)) if c]
    if citations:
        return CitationsBlock(str(text), tuple(citations))
    return TextBlock(str(text))


def _reasoning_block(block: Mapping[str, Any]) -> ContentBlock:
    kind = block["type"]
    if kind == "thinking":
        return ReasoningBlock(block.get("thinking", ""), block.get("signature") or None)
    if kind == "redacted_thinking":
        return ReasoningBlock(redacted_content=_b64(block.get("data", ""), "redacted_thinking"))
    if kind == "reasoning":  # v1
        extras = block.get("extras") or {}
        if extras.get("redacted_content") is not None:
            return ReasoningBlock(redacted_content=extras["redacted_content"])
        return ReasoningBlock(
            block.get("reasoning", ""), block.get("signature") or extras.get("signature")
        )
    content = block.get("reasoning_content") or block.get("reasoningContent") or {}
    if content.get("redacted_content") is not None:
        return ReasoningBlock(redacted_content=content["redacted_content"])
    return ReasoningBlock(content.get("text", ""), content.get("signature") or None)


# ----------------------------------------------------------------------- tools


def _tool_input(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, str):  # a merged stream keeps the arguments as JSON text
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"tool call {name!r}: arguments are not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"tool call {name!r}: arguments must be an object")
    return value


def _tool_result_content(content: Any) -> tuple[Any, ...]:
    items = [content] if isinstance(content, str) else list(content or ())
    blocks: list[Any] = []
    for item in items:
        for block in _content_blocks(item):
            if isinstance(block, CachePointBlock):
                continue  # a cache point marks the prompt, not the tool's output
            if not isinstance(block, TextBlock | JsonBlock | ImageBlock | DocumentBlock):
                raise ConfigurationError(
                    f"tool results hold text, json, images and documents, got {block!r}"
                )
            blocks.append(block)
    return tuple(blocks) or (TextBlock("(empty)"),)


def _anthropic_tool_result(block: Mapping[str, Any]) -> ContentBlock:
    tool_use_id = block.get("tool_use_id") or block.get("toolUseId")
    if not tool_use_id:
        raise ConfigurationError(f"tool_result block has no tool_use_id: {_describe(block)}")
    status: Literal["error"] | None = "error" if block.get("is_error") else None
    return ToolResultBlock(str(tool_use_id), _tool_result_content(block.get("content")), status)


def _server_tool_call(block: Mapping[str, Any]) -> ContentBlock:
    """LangChain's ``server_tool_call`` (or a merged ``server_tool_call_chunk``) back to
    the Converse ``toolUse`` Bedrock ran itself (type ``server_tool_use``)."""
    call_id, name = block.get("id"), block.get("name")
    if not call_id or not name:
        raise ConfigurationError(f"server tool call needs an id and a name: {_describe(block)}")
    extras = block.get("extras") or {}
    kind = extras.get("type") if isinstance(extras, Mapping) else None
    args = block.get("args", {})
    return ToolUseBlock(
        str(call_id), str(name), _tool_input(args, str(name)), str(kind or SERVER_TOOL_USE)
    )


def _server_tool_result(block: Mapping[str, Any]) -> ContentBlock:
    """LangChain's ``server_tool_result`` back to the Converse ``toolResult`` it came from."""
    tool_use_id = block.get("tool_call_id")
    if not tool_use_id:
        raise ConfigurationError(f"server tool result has no tool_call_id: {_describe(block)}")
    extras = block.get("extras") or {}
    extras = extras if isinstance(extras, Mapping) else {}
    status = extras["status"] if "status" in extras else block.get("status")
    if status not in (None, "success", "error"):
        raise ConfigurationError(f"server tool result status {status!r} is not success or error")
    output = block.get("output")
    if isinstance(output, list) and all(
        isinstance(o, Mapping) and _WIRE_KEYS.intersection(o) for o in output
    ):
        content = tuple(block_from_wire(o) for o in output)
    elif isinstance(output, str):
        content = (TextBlock(output),)
    else:
        content = (JsonBlock(output),)
    return ToolResultBlock(str(tool_use_id), content, status, extras.get("type"))  # type: ignore[arg-type]


# ----------------------------------------------------------------------- dispatch


def _wire_blocks(block: Mapping[str, Any]) -> list[ContentBlock]:
    unknown = sorted(set(block) - _WIRE_KEYS)
    if unknown:
        raise ConfigurationError(
            f"content block mixes Bedrock keys with unknown keys {unknown}: {_describe(block)}"
        )
    return [block_from_wire({key: value}) for key, value in block.items()]


def _image(block: Mapping[str, Any]) -> ContentBlock:
    if isinstance(block.get("image"), Mapping):  # langchain-aws: {"type": "image", "image": wire}
        return block_from_wire({"image": block["image"]})
    if isinstance(block.get("source"), Mapping):
        return _source_block(block)
    return _media_block(block)


def _image_url(block: Mapping[str, Any]) -> ContentBlock:
    value = block.get("image_url")
    url = value.get("url") if isinstance(value, Mapping) else value
    mime, raw = parse_data_url(url, "image_url block")
    return ImageBlock(image_format(mime), raw)


def _file(block: Mapping[str, Any]) -> ContentBlock:
    if isinstance(block.get("file"), Mapping):
        return _openai_file(block)
    return _media_block(block)


def _document(block: Mapping[str, Any]) -> ContentBlock:
    if isinstance(block.get("document"), Mapping):
        return block_from_wire({"document": camel_keys(block["document"])})
    if isinstance(block.get("source"), Mapping):
        return _source_block(block)
    return _media_block({**block, "type": "file"})


def _video(block: Mapping[str, Any]) -> ContentBlock:
    if isinstance(block.get("video"), Mapping):
        return block_from_wire({"video": block["video"]})
    if isinstance(block.get("source"), Mapping):
        return _source_block(block)
    return _av_block(block)


def _audio(block: Mapping[str, Any]) -> ContentBlock:
    if isinstance(block.get("audio"), Mapping):
        return block_from_wire({"audio": block["audio"]})
    return _av_block(block)


def _search_result(block: Mapping[str, Any]) -> ContentBlock:
    """A ``search_result`` block (Anthropic's form, or Converse ``searchResult`` wire form)
    as Converse ``searchResult``: source, title, text content, citations switch."""
    if isinstance(block.get("searchResult"), Mapping):
        return block_from_wire({"searchResult": block["searchResult"]})
    source, title = block.get("source"), block.get("title")
    if not isinstance(source, str) or not isinstance(title, str):
        raise ConfigurationError(f"search_result needs a source and a title: {_describe(block)}")
    content = block.get("content")
    items = [content] if isinstance(content, str) else list(content or ())
    texts: list[dict[str, Any]] = []
    for item in items:
        text = item if isinstance(item, str) else (item or {}).get("text")
        if not isinstance(text, str) or not text:
            raise ConfigurationError(f"search_result content must be text: {_describe(block)}")
        texts.append({"text": text})
    if not texts:
        raise ConfigurationError(f"search_result has no content: {_describe(block)}")
    wire: dict[str, Any] = {"source": source, "title": title, "content": texts}
    citations = block.get("citations")
    if isinstance(citations, Mapping) and "enabled" in citations:
        wire["citations"] = {"enabled": bool(citations["enabled"])}
    return UnknownBlock("searchResult", wire)


def _guard(block: Mapping[str, Any]) -> ContentBlock:
    inner = block.get("guard_content")
    text = inner.get("text") if isinstance(inner, Mapping) else block.get("text")
    if not text:
        raise ConfigurationError(f"guard_content block has no text: {_describe(block)}")
    return GuardContentBlock(str(text), tuple(block.get("qualifiers") or ()))


def _cache_point(block: Mapping[str, Any]) -> ContentBlock:
    return CachePointBlock(block.get("cache_type", "default"), block.get("ttl"))


def _json(block: Mapping[str, Any]) -> ContentBlock:
    return JsonBlock(block.get("json", block.get("value")))


_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], ContentBlock | None]] = {
    "text": _text_block,
    "image": _image,
    "image_url": _image_url,
    "file": _file,
    "audio": _audio,
    "input_audio": _av_block,
    "text-plain": _media_block,
    "document": _document,
    "video": _video,
    "reasoning_content": _reasoning_block,
    "reasoning": _reasoning_block,
    "thinking": _reasoning_block,
    "redacted_thinking": _reasoning_block,
    "cache_point": _cache_point,
    "cachePoint": _cache_point,
    "guard_content": _guard,
    "json": _json,
    "tool_result": _anthropic_tool_result,
    "server_tool_call": _server_tool_call,
    "server_tool_call_chunk": _server_tool_call,
    "server_tool_result": _server_tool_result,
    "search_result": _search_result,
}


def _content_blocks(block: Any) -> list[ContentBlock]:
    """One LangChain content item as core blocks (none for empty text and tool calls)."""
    if isinstance(block, str):
        return [TextBlock(block)] if block else []
    if not isinstance(block, Mapping):
        raise ConfigurationError(f"unsupported message content block: {block!r}")
    kind = block.get("type")
    if kind is None:
        if _WIRE_KEYS.intersection(block):
            return _wire_blocks(block)
        raise ConfigurationError(f"content block has no type: {_describe(block)}")
    if kind == "non_standard":  # content_blocks' wrapper around what it had no name for
        value = block.get("value")
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"non_standard block holds no block: {_describe(block)}")
        return _content_blocks(value)
    if kind in _TOOL_CALL_TYPES:
        return []
    convert = _BY_TYPE.get(kind)
    if convert is None:
        raise ConfigurationError(
            f"unsupported message content block type {kind!r}: Bedrock has no equivalent "
            f"({_describe(block)})"
        )
    found = convert(block)
    blocks = [found] if found is not None else []
    control = block.get("cache_control")  # Anthropic's cache marker -> a Bedrock cache point
    if isinstance(control, Mapping):
        blocks.append(CachePointBlock("default", control.get("ttl")))
    return blocks


def _blocks(content: str | list[Any]) -> list[ContentBlock]:
    items = [content] if isinstance(content, str) else content
    return [b for item in items for b in _content_blocks(item)]


def _tool_result(message: ToolMessage) -> ToolResultBlock:
    if not message.tool_call_id:
        raise ConfigurationError("ToolMessage.tool_call_id is empty")
    return ToolResultBlock(
        message.tool_call_id,
        _tool_result_content(message.content or "(empty)"),
        "error" if message.status == "error" else None,
    )


def _ai_blocks(message: AIMessage) -> list[ContentBlock]:
    """Content in order; tool calls where their blocks stand, the rest after.

    ``tool_calls`` is the authority on a call's arguments (a merged stream keeps them as
    JSON text in the content); a ``tool_use`` block with no matching call is read as is.
    """
    calls = {call.get("id"): call for call in message.tool_calls}
    for call in message.tool_calls:
        if not call.get("id"):
            raise ConfigurationError(f"tool call {call.get('name')!r} has no id")
    blocks: list[ContentBlock] = []
    placed: set[str] = set()
    items = [message.content] if isinstance(message.content, str) else message.content
    for item in items:
        if isinstance(item, Mapping) and item.get("type") in _TOOL_CALL_TYPES:
            call_id = item.get("id") or item.get("call_id")
            if not call_id or call_id in placed:
                continue
            found = calls.get(call_id)
            if found is not None:
                blocks.append(ToolUseBlock(call_id, found["name"], dict(found["args"])))
            elif item.get("name"):
                name = str(item["name"])
                args = item.get("input", item.get("args", {}))
                blocks.append(ToolUseBlock(str(call_id), name, _tool_input(args, name)))
            else:
                continue
            placed.add(call_id)
        else:
            blocks.extend(_content_blocks(item))
    for call in message.tool_calls:
        if call["id"] not in placed:
            blocks.append(ToolUseBlock(call["id"] or "", call["name"], dict(call["args"])))
    return blocks


def system_blocks(items: Sequence[Any], where: str) -> list[SystemBlock]:
    """System prompt blocks: strings, LangChain text blocks or Bedrock wire dicts."""
    found: list[SystemBlock] = []
    for item in items:
        for block in _content_blocks(item):
            if not isinstance(block, TextBlock | CachePointBlock | GuardContentBlock):
                raise ConfigurationError(f"{where}: system messages take text only")
            found.append(block)
    return found


def to_core(messages: Sequence[BaseMessage]) -> tuple[list[SystemBlock], list[Message]]:
    """Split LangChain messages into Bedrock's system blocks and conversation turns."""
    system: list[SystemBlock] = []
    turns: list[Message] = []
    for i, message in enumerate(messages):
        if type(message) is HumanMessage and type(content := message.content) is str:
            # The usual turn, decided without the isinstance chain below (every check on a
            # pydantic class goes through ABCMeta); an empty text is no block, as there.
            turns.append(Message("user", (TextBlock(content),) if content else ()))
        elif isinstance(message, SystemMessage) or (
            isinstance(message, ChatMessage) and message.role == "system"
        ):
            content = message.content
            system.extend(
                system_blocks([content] if isinstance(content, str) else content, f"messages[{i}]")
            )
        elif isinstance(message, AIMessage):
            turns.append(Message("assistant", tuple(_ai_blocks(message))))
        elif isinstance(message, ToolMessage):
            turns.append(Message("user", (_tool_result(message),)))
        elif isinstance(message, HumanMessage | ChatMessage):
            # Not getattr(message, "role", ...): a miss on a pydantic model raises inside.
            raw_role = message.role if isinstance(message, ChatMessage) else "user"
            role = _ROLES.get(raw_role)
            if role is None:
                raise ConfigurationError(f"messages[{i}]: unknown role {raw_role!r}")
            turns.append(Message(role, tuple(_blocks(message.content))))  # type: ignore[arg-type]
        else:
            raise ConfigurationError(
                f"messages[{i}]: unsupported message type {type(message).__name__}"
            )
    return system, turns
