"""Core results -> LangChain messages, in the content format LangChain reads as Converse.

Messages are labelled ``model_provider="bedrock_converse"``, the name under which
langchain-core registers its translator for Converse-shaped content, and carry the blocks that
translator knows (``text`` with ``citations``, ``reasoning_content`` with its signature,
``tool_use``), so ``message.content_blocks`` and ``output_version="v1"`` give standard blocks.
The same shapes are what langchain-aws's ChatBedrockConverse returns, so code written for it
reads these messages unchanged.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGenerationChunk

from bedrock_kit._prebuilt import prebuilt
from bedrock_kit.core.chat.converse import block_to_wire
from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    ServerToolDelta,
    StreamDelta,
    TextDelta,
    ToolCallDelta,
)
from bedrock_kit.core.chat.types import (
    CitationsBlock,
    ContentBlock,
    ConverseResult,
    ImageBlock,
    JsonBlock,
    ReasoningBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    Usage,
)

MODEL_PROVIDER = "bedrock_converse"
"""``response_metadata["model_provider"]``: langchain-core's translator name for Converse."""

# botocore raises for every non-2xx answer, so a parsed result was a 200.
_HTTP_OK = 200
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


# ----------------------------------------------------------------------- key styles


def snake_keys(value: Any) -> Any:
    """Bedrock camelCase keys -> snake_case, recursively (``sourceContent`` ->
    ``source_content``), as LangChain's Converse translator reads citations."""
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def camel_keys(value: Any) -> Any:
    """The inverse of :func:`snake_keys`; camelCase keys are left as they are."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            head, *rest = str(key).split("_")
            out[head + "".join(part.title() for part in rest)] = camel_keys(item)
        return out
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


# ----------------------------------------------------------------------- blocks


def _text(block: TextBlock) -> dict[str, Any]:
    return {"type": "text", "text": block.text}


def _reasoning(block: ReasoningBlock) -> dict[str, Any]:
    if block.redacted_content is not None:
        content: dict[str, Any] = {"redacted_content": block.redacted_content}
    else:
        content = {"text": block.text}
        if block.signature:
            content["signature"] = block.signature
    return {"type": "reasoning_content", "reasoning_content": content}


def _citations(block: CitationsBlock) -> dict[str, Any]:
    return {
        "type": "text",
        "text": block.text,
        "citations": [snake_keys(dict(c)) for c in block.citations],
    }


def _tool_use(block: ToolUseBlock) -> dict[str, Any]:
    if block.server:  # Bedrock ran it: LangChain's server-side tool call, never a tool_call
        return {
            "type": "server_tool_call",
            "id": block.id,
            "name": block.name,
            "args": block.input,
            "extras": {"type": block.type},
        }
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


def _tool_result(block: ToolResultBlock) -> dict[str, Any]:
    """A server tool's result (in the assistant turn) as LangChain's ``server_tool_result``.

    ``output`` holds the result's content in Converse wire form (``[{"json": ...}]``,
    ``[{"text": ...}]``); ``extras`` keeps the result type and the status exactly as sent.
    """
    return {
        "type": "server_tool_result",
        "tool_call_id": block.tool_use_id,
        "status": block.status or "success",
        "output": [block_to_wire(c) for c in block.content],
        "extras": {"type": block.type, "status": block.status},
    }


def _image(block: ImageBlock) -> dict[str, Any]:
    if block.data is None:  # an s3 image: the wire form, which reads back unchanged
        return block_to_wire(block)
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": f"image/{block.format}",
            "data": base64.b64encode(block.data).decode("ascii"),
        },
    }


def _json(block: JsonBlock) -> dict[str, Any]:
    return {"type": "json", "json": block.value}


def _unknown(block: UnknownBlock) -> dict[str, Any]:
    return {block.type: block.raw}


_TO_LC: dict[type, Callable[[Any], dict[str, Any]]] = {
    TextBlock: _text,
    ReasoningBlock: _reasoning,
    CitationsBlock: _citations,
    ToolUseBlock: _tool_use,
    ToolResultBlock: _tool_result,
    ImageBlock: _image,
    JsonBlock: _json,
    UnknownBlock: _unknown,
}


def lc_block(block: ContentBlock) -> dict[str, Any]:
    """One assistant content block as LangChain content; blocks LangChain has no name for
    keep their Converse wire form (which :func:`~bedrock_kit.langchain._convert.to_core`
    reads back)."""
    convert = _TO_LC.get(type(block))
    return convert(block) if convert is not None else block_to_wire(block)


# ----------------------------------------------------------------------- metadata


def usage_metadata(usage: Usage) -> UsageMetadata:
    """LangChain usage: input_tokens counts cache reads and writes (its convention)."""
    # Literals, not calls of the TypedDicts (the same dicts, built without keyword calls).
    # In the TypedDict's order, the order validation gives them (and so dumps()).
    details: InputTokenDetails = {
        "cache_creation": usage.cache_write_input_tokens,
        "cache_read": usage.cache_read_input_tokens,
    }
    if usage.cache_write_1h_input_tokens:  # the key langchain-anthropic uses for 1 h writes
        details["ephemeral_1h_input_tokens"] = usage.cache_write_1h_input_tokens  # type: ignore[typeddict-unknown-key]
    total_input = usage.total_input_tokens
    return {
        "input_tokens": total_input,
        "output_tokens": usage.output_tokens,
        "total_tokens": total_input + usage.output_tokens,
        "input_token_details": details,
    }


def response_metadata(
    result: ConverseResult, *, model_name: str | None = None, stream: bool = False
) -> dict[str, Any]:
    """Typed Bedrock facts for ``AIMessage.response_metadata``, with langchain-aws's keys.

    Ours are snake_case (``stop_reason``, ``request_id``, ``latency_ms``, ``guardrail``);
    langchain-aws's are Bedrock's own (``stopReason``, ``metrics``, ``ResponseMetadata``,
    ``trace``, ``additionalModelResponseFields``). ``metrics.latencyMs`` is a one-element
    list on invoke and a number on streams, exactly as langchain-aws reports it.

    Args:
        result: The call's result.
        model_name: ``model_name`` to report (langchain-aws: the base model id when given).
        stream: The result came from a stream.
    """
    latency: Any = result.latency_ms if stream else [result.latency_ms]
    meta: dict[str, Any] = {
        "model_id": result.model_id,
        "model_name": model_name or result.model_id,
        "model_provider": MODEL_PROVIDER,
        "stop_reason": result.stop_reason,
        "raw_stop_reason": result.raw_stop_reason,
        "request_id": result.request_id,
        "latency_ms": result.latency_ms,
        "guardrail": result.guardrail,
        "additional_model_response_fields": result.additional_model_response_fields,
        "stopReason": result.raw_stop_reason,
        "ResponseMetadata": {"RequestId": result.request_id, "HTTPStatusCode": _HTTP_OK},
    }
    if result.latency_ms is not None:
        meta["metrics"] = {"latencyMs": latency}
    if result.trace:
        meta["trace"] = dict(result.trace)
    if result.additional_model_response_fields:
        meta["additionalModelResponseFields"] = dict(result.additional_model_response_fields)
    if result.raw_body is not None:  # raw mode: a model no codec reads
        meta["raw_body"] = result.raw_body
    if result.usage.server_tool_usage:
        meta["server_tool_usage"] = dict(result.usage.server_tool_usage)
    return meta


# A plain-text answer as validation makes it (tool_calls empty, usage and metadata given),
# built without validating again per call (bedrock_kit._prebuilt); None: validate.
_PLAIN_ANSWER = prebuilt(
    AIMessage(
        content="-",
        tool_calls=[],
        usage_metadata={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
        response_metadata={"model_id": "-"},
        id="-",
    ),
    ("content", "usage_metadata", "response_metadata", "id"),
)


def to_ai_message(result: ConverseResult, *, model_name: str | None = None) -> AIMessage:
    """The assistant turn as an AIMessage.

    Plain text (one or more text blocks, nothing else) stays a string; anything else is a
    list of blocks in the model's order, tool calls included as ``tool_use`` blocks.
    Server-side tool calls and results (system tools Bedrock ran) are ``server_tool_call``
    and ``server_tool_result`` blocks, never in ``tool_calls``.
    """
    blocks = result.message.content
    content: str | list[Any]
    calls: list[Any]
    texts = [b.text for b in blocks if type(b) is TextBlock]
    if len(texts) == len(blocks):  # plain text: no tool calls either
        if _PLAIN_ANSWER is not None and not result.usage.cache_write_1h_input_tokens:
            # What validation would keep unchanged: a str, ints, a dict, a str or None.
            usage = usage_metadata(result.usage)
            meta = response_metadata(result, model_name=model_name)
            message: AIMessage = _PLAIN_ANSWER("".join(texts), usage, meta, result.request_id)
            return message
        content, calls = "".join(texts), []
    else:
        content = [lc_block(block) for block in blocks]
        calls = [
            {"name": c.name, "args": c.input, "id": c.id, "type": "tool_call"}
            for c in result.message.tool_calls
        ]
    return AIMessage(
        content=content,
        tool_calls=calls,
        usage_metadata=usage_metadata(result.usage),
        response_metadata=response_metadata(result, model_name=model_name),
        id=result.request_id,
    )


# ----------------------------------------------------------------------- streams


# What validation makes of a text chunk and of its generation, made without validating
# again per chunk (bedrock_kit._prebuilt); None: this langchain-core needs validation.
_TEXT_CHUNK = prebuilt(AIMessageChunk(content="-"), ("content",))
_SAMPLE = ChatGenerationChunk(message=AIMessageChunk(content="-"))
_GENERATION = prebuilt(_SAMPLE, ("text", "message"))
_TEXT = type(_SAMPLE.text)
"""What validation stores as a generation's ``text`` (langchain-core's ``TextAccessor``)."""


def text_chunk(text: str) -> AIMessageChunk:
    """``AIMessageChunk(content=text)``, equal to the validated one."""
    return AIMessageChunk(content=text) if _TEXT_CHUNK is None else _TEXT_CHUNK(text)


def generation_chunk(message: AIMessageChunk) -> ChatGenerationChunk:
    """``ChatGenerationChunk(message=message)``, equal to the validated one."""
    if _GENERATION is None or type(message.content) is not str:
        return ChatGenerationChunk(message=message)
    generation: ChatGenerationChunk = _GENERATION(message.text, message)
    return generation


def text_generation(text: str) -> ChatGenerationChunk:
    """``ChatGenerationChunk(message=AIMessageChunk(content=text))``, equal to the validated
    one, for a ``str`` ``text`` (the bulk of a stream: one call, no property read)."""
    if _GENERATION is None or _TEXT_CHUNK is None:
        return generation_chunk(text_chunk(text))
    generation: ChatGenerationChunk = _GENERATION(_TEXT(text), _TEXT_CHUNK(text))
    return generation


class ChunkBuilder:
    """Turns core stream deltas into AIMessageChunks for one stream.

    Args:
        blocks: Emit list content with indexed blocks (as langchain-aws does) from the first
            chunk. Otherwise text arrives as plain strings; a reasoning block or tool call
            that comes before any text switches the stream to blocks.
        model_name: ``model_name`` for the final chunk's metadata.

    A stream that started as plain text and then carries a tool call (a model answering
    with a tool no request bound) cannot become blocks without losing its text: the tool
    call travels in ``tool_call_chunks`` only, and the merged message is not labelled for the
    Converse translator, so ``content_blocks`` reads text and tool calls from the message
    itself.
    """

    def __init__(self, *, blocks: bool = False, model_name: str | None = None) -> None:
        self._blocks = blocks
        self._model_name = model_name
        self._texts: dict[int, list[str]] = {}
        self._mixed = False
        self._server: list[ToolUseBlock | ToolResultBlock] = []  # server blocks sent

    def generation(self, delta: StreamDelta) -> ChatGenerationChunk | None:
        """The generation chunk for ``delta``, or None when it carries nothing for LangChain."""
        if type(delta) is TextDelta and not self._blocks:  # the bulk of a stream
            texts = self._texts.get(delta.index)
            if texts is None:
                texts = self._texts[delta.index] = []
            texts.append(delta.text)
            return text_generation(delta.text)
        chunk = self.chunk(delta)
        return None if chunk is None else generation_chunk(chunk)

    def chunk(self, delta: StreamDelta) -> AIMessageChunk | None:
        """The chunk for ``delta``, or None when it carries nothing for LangChain."""
        if isinstance(delta, TextDelta):
            texts = self._texts.get(delta.index)
            if texts is None:
                texts = self._texts[delta.index] = []
            texts.append(delta.text)
            if not self._blocks:
                return text_chunk(delta.text)
            return self._piece({"type": "text", "text": delta.text, "index": delta.index})
        if isinstance(delta, ReasoningDelta | ToolCallDelta) and not self._texts:
            self._blocks = True  # nothing was sent as a string yet: blocks lose nothing
        if isinstance(delta, ReasoningDelta):
            content: dict[str, Any] = {"text": delta.text}
            if delta.signature:
                content["signature"] = delta.signature
            if delta.redacted_content is not None:
                content = {"redacted_content": delta.redacted_content}
            self._mixed = self._mixed or not self._blocks
            return self._piece(
                {"type": "reasoning_content", "reasoning_content": content, "index": delta.index}
            )
        if isinstance(delta, ToolCallDelta):
            return self._tool_call(delta)
        if isinstance(delta, ServerToolDelta):
            if not self._blocks:
                return None  # plain-text stream: the server blocks come whole at the end
            self._server.append(delta.block)
            return self._piece({**lc_block(delta.block), "index": delta.index})
        if isinstance(delta, CompletedDelta):
            meta = response_metadata(delta.result, model_name=self._model_name, stream=True)
            if self._mixed:
                del meta["model_provider"]
            return AIMessageChunk(
                content=self._final_pieces(delta.result) if self._blocks else "",
                usage_metadata=usage_metadata(delta.result.usage),
                response_metadata=meta,
                chunk_position="last",
            )
        return None

    def _tool_call(self, delta: ToolCallDelta) -> AIMessageChunk:
        chunks: list[Any] = [
            {
                "name": delta.name,
                "args": delta.arguments,
                "id": delta.id,
                "index": delta.index,
                "type": "tool_call_chunk",
            }
        ]
        if not self._blocks:
            self._mixed = True
            return AIMessageChunk(content="", tool_call_chunks=chunks)
        block: dict[str, Any] = {"type": "tool_use", "input": delta.arguments}
        block["id"], block["index"] = delta.id, delta.index
        if delta.name is not None:
            block["name"] = delta.name
        return AIMessageChunk(
            content=[block],
            tool_call_chunks=chunks,
            response_metadata={} if self._mixed else {"model_provider": MODEL_PROVIDER},
        )

    def _piece(self, block: dict[str, Any]) -> AIMessageChunk:
        label = {} if self._mixed else {"model_provider": MODEL_PROVIDER}
        return AIMessageChunk(content=[block], response_metadata=label)

    def _final_pieces(self, result: ConverseResult) -> list[str | dict[str, Any]]:
        pieces = self._citation_pieces(result)
        # Server tool blocks no contentBlockStop closed come whole with the last chunk, at
        # an index after every block sent (so they merge with nothing).
        after = max(self._texts, default=-1) + len(result.message.content) + 1
        for block in result.message.content:
            server = isinstance(block, ToolResultBlock) or (
                isinstance(block, ToolUseBlock) and block.server
            )
            if server and block not in self._server:
                pieces.append({**lc_block(block), "index": after})
                after += 1
        return pieces

    def _citation_pieces(self, result: ConverseResult) -> list[str | dict[str, Any]]:
        # The stream reducer folds citation events into the result's CitationsBlocks; they
        # reach the merged message as a final piece of their text block, found by its text.
        pieces: list[str | dict[str, Any]] = []
        taken: set[int] = set()
        for block in result.message.content:
            if not isinstance(block, CitationsBlock):
                continue
            for index, parts in sorted(self._texts.items()):
                if index not in taken and "".join(parts) == block.text:
                    taken.add(index)
                    cited = _citations(block)
                    pieces.append({**cited, "text": "", "index": index})
                    break
        return pieces
