"""LlamaIndex chat types <-> bedrock-kit core types. Nothing Bedrock-specific is decided here."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    MessageRole,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.base.llms.types import (
    DocumentBlock as LIDocumentBlock,
)
from llama_index.core.base.llms.types import (
    ImageBlock as LIImageBlock,
)
from llama_index.core.base.llms.types import (
    TextBlock as LITextBlock,
)

from bedrock_kit._prebuilt import prebuilt
from bedrock_kit.core.chat.converse import block_from_wire, block_to_wire
from bedrock_kit.core.chat.messages import (
    IMAGE_FORMATS,
    document_format,
    document_name,
    image_format,
    media_format,
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
    ImageBlock,
    Message,
    ReasoningBlock,
    SystemBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    Usage,
)
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

_ARGUMENTS = WireReader("tool call")

_SYSTEM_ROLES = frozenset({MessageRole.SYSTEM, MessageRole.DEVELOPER})
_USER_ROLES = frozenset({MessageRole.USER})
_ASSISTANT_ROLES = frozenset({MessageRole.ASSISTANT, MessageRole.MODEL, MessageRole.CHATBOT})
_TOOL_ROLES = frozenset({MessageRole.TOOL, MessageRole.FUNCTION})
# LlamaIndex's CacheControl defaults its ttl to 5m, which is also Bedrock's default; sending
# it explicitly would fail on models that accept no ttl at all.
_DEFAULT_CACHE_TTL = "5m"
# Where blocks with no LlamaIndex counterpart travel (as Bedrock wire dicts), so they go
# back unchanged on the next turn.
UNMAPPED_KEY = "bedrock_blocks"
# Where in the turn each of those blocks stood, so the next turn sends them back in order
# (a server tool's call and result come before the text that quotes them).
UNMAPPED_POSITIONS_KEY = "bedrock_block_positions"
# The title LlamaIndex gives a DocumentBlock created without one.
_DEFAULT_DOCUMENT_TITLE = "input_document"


# --------------------------------------------------------------------- LlamaIndex -> core


def _remote(url: str | None) -> bool:
    return bool(url) and not str(url).startswith(("data:", "s3://"))


def _resolved(resolve: Any, kind: str, where: str) -> bytes:
    """The bytes LlamaIndex resolves for a block; its ValueError/OSError become ours."""
    try:
        data: bytes = resolve().read()
    except (ValueError, OSError) as exc:  # binascii.Error is a ValueError
        raise ConfigurationError(f"{where}: cannot read the {kind} block: {exc}") from exc
    if not data:
        raise ConfigurationError(f"{where}: the {kind} block is empty")
    return data


def _image(block: LIImageBlock, where: str) -> ImageBlock:
    url = str(block.url) if block.url else None
    if url and url.startswith("s3://"):
        mime = block.image_mimetype or mimetypes.guess_type(url)[0]
        return ImageBlock(image_format(mime, where=where), s3_uri=url)
    if block.image is None and block.path is None and not url:
        raise ConfigurationError(
            f"{where}: image block has no source: give image bytes, a path, a data: URL or "
            "an s3:// URL"
        )
    if block.image is None and block.path is None and _remote(url):
        raise ConfigurationError(
            f"{where}: Bedrock does not fetch remote image URLs ({url}); pass the bytes, a "
            "path, a data: URL or an s3:// URL"
        )
    mime = block.image_mimetype
    if block.image is None and block.path is None and url:  # a data: URL, decoded strictly
        url_mime, data = parse_data_url(url, f"{where}: image url")
        mime = mime or url_mime
    else:
        data = _resolved(lambda: block.resolve_image(as_base64=False), "image", where)
    if not mime:
        import filetype  # type: ignore[import-untyped]  # a llama-index-core dependency

        guess = filetype.guess(data)
        mime = guess.mime if guess else None
    return ImageBlock(image_format(mime, where=where), data)


def _document(block: LIDocumentBlock, where: str) -> DocumentBlock:
    url = str(block.url) if block.url else None
    if block.data is None and block.path is None and not url:
        raise ConfigurationError(
            f"{where}: document block has no source: give its bytes, a path or an s3:// URL"
        )
    filename = str(block.path or url or block.title or "")
    fmt = document_format(block.document_mimetype, filename, where=where)
    title = block.title
    if title == _DEFAULT_DOCUMENT_TITLE and (block.path or url):
        title = filename.rsplit("/", 1)[-1]  # LlamaIndex's placeholder: the file name says more
    name = document_name(title)
    if url and url.startswith("s3://"):
        return DocumentBlock(fmt, name, s3_uri=url)
    if block.data is None and block.path is None and _remote(url):
        raise ConfigurationError(
            f"{where}: Bedrock does not fetch remote document URLs ({url}); pass the bytes, "
            "a path or an s3:// URL"
        )
    if block.data is None and block.path is None and url and url.startswith("data:"):
        return DocumentBlock(fmt, name, parse_data_url(url, f"{where}: document url")[1])
    return DocumentBlock(fmt, name, _resolved(block.resolve_document, "document", where))


def _citable(block: CitableBlock, where: str) -> DocumentBlock:
    # Bedrock's citable unit is a document with citations enabled.
    texts = [c.text for c in block.content if isinstance(c, LITextBlock)]
    if len(texts) != len(block.content):
        raise ConfigurationError(f"{where}: CitableBlock content must be text for Bedrock")
    return DocumentBlock("txt", document_name(block.title), text="\n".join(texts), citations=True)


def _tool_arguments(kwargs: dict[str, Any] | str, where: str) -> dict[str, Any]:
    if isinstance(kwargs, dict):
        return kwargs
    try:
        value = _ARGUMENTS.loads(kwargs, where="arguments") if kwargs.strip() else {}
    except MalformedResponseError as exc:  # not JSON, or nested deeper than the kit reads
        raise ConfigurationError(f"{where}: tool call arguments are not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: tool call arguments must be a JSON object")
    return value


def _tool_call(block: ToolCallBlock, where: str) -> ToolUseBlock:
    if not block.tool_call_id:
        raise ConfigurationError(f"{where}: tool call {block.tool_name!r} has no tool_call_id")
    return ToolUseBlock(
        block.tool_call_id, block.tool_name, _tool_arguments(block.tool_kwargs, where)
    )


def _media(block: AudioBlock | VideoBlock, where: str) -> UnknownBlock:
    """LlamaIndex audio / video as Converse ``audio`` / ``video`` blocks (bytes or s3)."""
    kind = "audio" if isinstance(block, AudioBlock) else "video"
    url = str(block.url) if block.url else None
    hint = block.format if isinstance(block, AudioBlock) else block.video_mimetype
    hint = (
        hint
        or (mimetypes.guess_type(str(block.path or url or ""))[0])
        or str(block.path or url or "")
    )
    fmt = media_format(kind, hint, where=where)
    if url and url.startswith("s3://"):
        return UnknownBlock(kind, {"format": fmt, "source": {"s3Location": {"uri": url}}})
    data = block.audio if isinstance(block, AudioBlock) else block.video
    if data is None and block.path is None:
        raise ConfigurationError(
            f"{where}: Bedrock does not fetch remote {kind} URLs ({url}); pass the bytes, a "
            "path or an s3:// URL"
        )
    resolve = block.resolve_audio if isinstance(block, AudioBlock) else block.resolve_video
    raw = _resolved(lambda: resolve(as_base64=False), kind, where)
    return UnknownBlock(kind, {"format": fmt, "source": {"bytes": raw}})


def _thinking(block: ThinkingBlock) -> ReasoningBlock:
    info = block.additional_information
    if info.get("redacted_content") is not None:
        return ReasoningBlock(redacted_content=info["redacted_content"])
    return ReasoningBlock(block.content or "", info.get("signature"))


def _cache_point(block: CachePoint) -> CachePointBlock:
    ttl = block.cache_control.ttl
    return CachePointBlock("default", None if ttl == _DEFAULT_CACHE_TTL else ttl)


def _block(block: Any, where: str) -> ContentBlock | None:
    # A text block, the usual one, told by its exact type first: every isinstance check on
    # a pydantic class goes through ABCMeta, and the chain below makes up to nine.
    if type(block) is LITextBlock or isinstance(block, LITextBlock):
        # Bedrock rejects blank text blocks; an empty string carries nothing to keep.
        return TextBlock(block.text) if block.text else None
    if isinstance(block, LIImageBlock):
        return _image(block, where)
    if isinstance(block, LIDocumentBlock):
        return _document(block, where)
    if isinstance(block, CachePoint):
        return _cache_point(block)
    if isinstance(block, ThinkingBlock):
        return _thinking(block)
    if isinstance(block, ToolCallBlock):
        return _tool_call(block, where)
    if isinstance(block, CitableBlock):
        return _citable(block, where)
    if isinstance(block, AudioBlock | VideoBlock):
        return _media(block, where)
    if isinstance(block, CitationBlock):
        raise ConfigurationError(
            f"{where}: {type(block).__name__} is not supported by bedrock-kit's Converse mapping"
        )
    raise ConfigurationError(f"{where}: unsupported content block {type(block).__name__}")


def _blocks(message: ChatMessage, where: str) -> list[ContentBlock]:
    blocks = [b for item in message.blocks if (b := _block(item, where)) is not None]
    if not message.additional_kwargs:  # most messages: no Bedrock blocks kept aside
        return blocks
    unmapped = [block_from_wire(w) for w in message.additional_kwargs.get(UNMAPPED_KEY) or ()]
    positions = message.additional_kwargs.get(UNMAPPED_POSITIONS_KEY)
    if not isinstance(positions, list | tuple) or len(positions) != len(unmapped):
        return blocks + unmapped  # no (or stale) positions: after the mapped blocks
    for position, block in sorted(zip(positions, unmapped, strict=True), key=lambda p: p[0]):
        at = position if isinstance(position, int) and position >= 0 else len(blocks)
        blocks.insert(min(at, len(blocks)), block)
    return blocks


def _legacy_tool_calls(message: ChatMessage, where: str) -> list[ToolUseBlock]:
    # llama-index-llms-bedrock-converse keeps Bedrock toolUse dicts in
    # additional_kwargs["tool_calls"]; accept them so histories carry over.
    calls = []
    for call in message.additional_kwargs.get("tool_calls") or ():
        if not isinstance(call, dict) or "toolUseId" not in call:
            raise ConfigurationError(
                f"{where}: additional_kwargs['tool_calls'] entries must be Bedrock toolUse "
                f"dicts (toolUseId, name, input); use ToolCallBlock instead. Got {call!r}"
            )
        calls.append(
            ToolUseBlock(
                call["toolUseId"],
                call.get("name", ""),
                _tool_arguments(call.get("input") or {}, where),
            )
        )
    return calls


def _assistant(message: ChatMessage, where: str) -> Message:
    blocks = _blocks(message, where)
    if not any(isinstance(b, ToolUseBlock) and not b.server for b in blocks):
        blocks.extend(_legacy_tool_calls(message, where))
    return Message("assistant", tuple(blocks))


def _tool_result(message: ChatMessage, where: str) -> Message:
    kwargs = message.additional_kwargs
    tool_use_id = kwargs.get("tool_call_id") or kwargs.get("tool_use_id")
    if not tool_use_id:
        raise ConfigurationError(
            f"{where}: a tool message needs additional_kwargs['tool_call_id'] naming the call"
        )
    content: list[Any] = []
    for block in _blocks(message, where):
        if not isinstance(block, TextBlock | ImageBlock | DocumentBlock):
            raise ConfigurationError(
                f"{where}: tool results take text, images and documents, not {type(block).__name__}"
            )
        content.append(block)
    # Bedrock rejects an empty tool result; say so explicitly rather than drop the turn.
    error = kwargs.get("status") == "error" or kwargs.get("is_error") is True
    return Message(
        "user",
        (
            ToolResultBlock(
                str(tool_use_id),
                tuple(content) or (TextBlock("(empty)"),),
                "error" if error else None,
            ),
        ),
    )


def to_core(messages: Sequence[ChatMessage]) -> tuple[list[SystemBlock], list[Message]]:
    """Split LlamaIndex chat messages into Bedrock system blocks and conversation turns.

    Same-role runs are merged later, by the core, as Converse requires.

    Raises:
        ConfigurationError: A message or block that cannot be sent, naming its index.
    """
    system: list[SystemBlock] = []
    turns: list[Message] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        role = message.role if type(message.role) is MessageRole else MessageRole(message.role)
        if role in _SYSTEM_ROLES:
            for block in _blocks(message, where):
                if not isinstance(block, TextBlock | CachePointBlock):
                    raise ConfigurationError(f"{where}: system messages take text only")
                system.append(block)
        elif role in _USER_ROLES:
            turns.append(Message("user", tuple(_blocks(message, where))))
        elif role in _ASSISTANT_ROLES:
            turns.append(_assistant(message, where))
        elif role in _TOOL_ROLES:
            turns.append(_tool_result(message, where))
        else:
            raise ConfigurationError(f"{where}: unsupported role {role.value!r}")
    return system, turns


# --------------------------------------------------------------------- core -> LlamaIndex


def usage_dict(usage: Usage) -> dict[str, int]:
    """Billed usage in the keys LlamaIndex's TokenCountingHandler reads.

    ``prompt_tokens`` is every input token: Bedrock's ``inputTokens`` excludes cache reads
    and writes, which are billed input too.
    """
    prompt = usage.total_input_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_write_input_tokens": usage.cache_write_input_tokens,
    }


def raw_of(result: ConverseResult) -> dict[str, Any]:
    """``ChatResponse.raw``: plain JSON values only (agents serialise it).

    ``body`` is the InvokeModel response body of a model no codec reads (raw mode);
    ``server_tool_usage`` is Bedrock's ``usage.serverToolUsage`` (system tools), when sent.
    """
    raw: dict[str, Any] = {
        "usage": usage_dict(result.usage),
        "stop_reason": result.raw_stop_reason,
        "model_id": result.model_id,
        "request_id": result.request_id,
        "latency_ms": result.latency_ms,
    }
    if result.raw_body is not None:
        raw["body"] = result.raw_body
    if result.usage.server_tool_usage:
        raw["server_tool_usage"] = dict(result.usage.server_tool_usage)
    return raw


def response_kwargs(result: ConverseResult) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs``: typed Bedrock facts about the call."""
    return {
        "stop_reason": result.stop_reason,
        "raw_stop_reason": result.raw_stop_reason,
        "model_id": result.model_id,
        "request_id": result.request_id,
        "latency_ms": result.latency_ms,
        "usage": result.usage,
        "guardrail": result.guardrail,
        "additional_model_response_fields": result.additional_model_response_fields,
    }


def _li_block(block: ContentBlock) -> Any:
    if isinstance(block, TextBlock | CitationsBlock):
        return LITextBlock(text=block.text)
    if isinstance(block, ToolUseBlock) and not block.server:  # server calls: Bedrock ran them
        return ToolCallBlock(tool_call_id=block.id, tool_name=block.name, tool_kwargs=block.input)
    if isinstance(block, ReasoningBlock):
        info: dict[str, Any] = {}
        if block.signature:
            info["signature"] = block.signature
        if block.redacted_content is not None:
            info["redacted_content"] = block.redacted_content
        return ThinkingBlock(content=block.text, additional_information=info)
    if isinstance(block, ImageBlock) and block.data is not None:
        mime = next((m for m, f in IMAGE_FORMATS.items() if f == block.format), None)
        return LIImageBlock(image=block.data, image_mimetype=mime)
    return None


def to_chat_message(message: Message) -> ChatMessage:
    """An assistant ChatMessage; blocks without a LlamaIndex form are kept aside, not lost.

    Server-side tool calls and results (system tools Bedrock ran) are among those: they
    stay in ``additional_kwargs["bedrock_blocks"]`` in wire form, with their positions in
    ``additional_kwargs["bedrock_block_positions"]``, and are never ToolCallBlocks.
    """
    blocks: list[Any] = []
    unmapped: list[dict[str, Any]] = []
    positions: list[int] = []
    citations: list[dict[str, Any]] = []
    for block in message.content:
        converted = _li_block(block)
        if converted is None:  # kept in Bedrock wire form: JSON-friendly for chat stores
            positions.append(len(blocks) + len(unmapped))
            unmapped.append(block_to_wire(block))
        else:
            blocks.append(converted)
        if isinstance(block, CitationsBlock):
            citations.extend(block.citations)
    kwargs: dict[str, Any] = {}
    if unmapped:
        kwargs[UNMAPPED_KEY] = unmapped
        kwargs[UNMAPPED_POSITIONS_KEY] = positions
    if citations:
        kwargs["citations"] = citations
    if not kwargs and _MESSAGE is not None:  # the usual answer: nothing kept aside
        built: ChatMessage = _MESSAGE(blocks)
        return built
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=kwargs)


def to_chat_response(result: ConverseResult, *, delta: str | None = None) -> ChatResponse:
    """The ChatResponse for a complete Converse result (or the last chunk of a stream)."""
    message = to_chat_message(result.message)
    build = _RESULT_RESPONSES.get(delta)
    if build is None:
        return ChatResponse(
            message=message,
            raw=raw_of(result),
            delta=delta,
            additional_kwargs=response_kwargs(result),
        )
    # What validation makes of it: a fresh additional_kwargs dict holding the same items.
    response: ChatResponse = build(message, raw_of(result))
    response.additional_kwargs.update(response_kwargs(result))
    return response


def _builders() -> tuple[
    Callable[..., Any] | None,
    Callable[..., Any] | None,
    dict[str | None, Callable[..., Any] | None],
]:
    """Builders of an assistant ChatMessage from its blocks, of a text chunk's ChatResponse
    from its message and delta, and (per delta) of a result's ChatResponse from its message
    and raw, its additional_kwargs an empty dict to fill (None: validate as usual)."""
    # A TextBlock has no Python validators: validating it costs less than building it.
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=[LITextBlock(text="-")])
    response = prebuilt(ChatResponse(message=message, delta="-"), ("message", "delta"))
    results = {
        delta: prebuilt(
            ChatResponse(message=message, raw="-", delta=delta, additional_kwargs={}),
            ("message", "raw"),
        )
        for delta in (None, "")  # an answer, and the last chunk of a stream
    }
    return prebuilt(message, ("blocks",)), response, results


# What validation makes of an assistant message with no additional_kwargs and of the
# ChatResponses of a result and of a text chunk, made without validating again per call or
# chunk (bedrock_kit._prebuilt): the blocks given are LlamaIndex blocks and the message a
# ChatMessage, which validation keeps as they are; the delta is a str, raw any value.
_MESSAGE, _TEXT_RESPONSE, _RESULT_RESPONSES = _builders()


def _assistant_message(blocks: list[Any]) -> ChatMessage:
    """``ChatMessage(role=ASSISTANT, blocks=blocks)``, validated once per process only."""
    if _MESSAGE is None:
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
    built: ChatMessage = _MESSAGE(blocks)
    return built


class ChatStream:
    """Turns core stream deltas into ChatResponse chunks with the message so far.

    Args:
        check: Called with the final ConverseResult before the last chunk is made (the
            guardrail check of ``raise_on_guardrail_intervention``); its errors propagate.
    """

    def __init__(self, check: Callable[[ConverseResult], object] | None = None) -> None:
        self._check = check
        # One text block and nothing else so far: the chunk is built from a template.
        self._plain = _TEXT_RESPONSE is not None and _MESSAGE is not None
        self._text: dict[int, str] = {}
        self._thinking: dict[int, str] = {}
        self._tools: dict[int, list[str]] = {}  # index -> [id, name, arguments so far]

    def _message(self) -> ChatMessage:
        parts: list[tuple[int, Any]] = [
            (i, ThinkingBlock(content=t)) for i, t in self._thinking.items()
        ]
        parts += [(i, LITextBlock(text=t)) for i, t in self._text.items()]
        parts += [
            (i, ToolCallBlock(tool_call_id=tid, tool_name=name, tool_kwargs=args))
            for i, (tid, name, args) in self._tools.items()
        ]
        return _assistant_message([b for _, b in sorted(parts, key=lambda p: p[0])])

    def chunk(self, delta: StreamDelta) -> ChatResponse | None:
        """The chunk for one delta; None for deltas a LlamaIndex caller does not see."""
        if isinstance(delta, TextDelta):
            text = delta.text
            texts = self._text
            so_far = texts[delta.index] = texts.get(delta.index, "") + text
            if self._plain and len(texts) == 1:  # inline: one call per chunk fewer
                message = _MESSAGE([LITextBlock(text=so_far)])  # type: ignore[misc]
                built: ChatResponse = _TEXT_RESPONSE(message, text)  # type: ignore[misc]
                return built
            return ChatResponse(message=self._message(), delta=text)
        if isinstance(delta, ToolCallDelta):
            self._plain = False  # the message has other blocks now
            call = self._tools.setdefault(delta.index, ["", "", ""])
            call[0] = delta.id or call[0]
            call[1] = delta.name or call[1]
            call[2] += delta.arguments
            return ChatResponse(message=self._message(), delta="")
        if isinstance(delta, ReasoningDelta):
            self._plain = False
            self._thinking[delta.index] = self._thinking.get(delta.index, "") + delta.text
            return ChatResponse(
                message=self._message(), delta="", additional_kwargs={"thinking_delta": delta.text}
            )
        if isinstance(delta, CompletedDelta):
            if self._check is not None:
                self._check(delta.result)
            return to_chat_response(delta.result, delta="")
        return None  # StopDelta: the stop reason arrives with the CompletedDelta
