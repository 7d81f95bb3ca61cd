"""The one ConverseStream reducer, shared by the sync and the async paths.

Each wire event goes through a small ``_on_<event>`` handler that updates the reducer's state
and returns the deltas a caller should see. The sync and async loops only feed events in
(:func:`iter_deltas`, :func:`aiter_deltas`); all decisions live here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from bedrock_kit.core.chat.converse import document_fields, parse_stop_reason, parse_usage
from bedrock_kit.core.chat.types import (
    CitationsBlock,
    ContentBlock,
    ConverseResult,
    Message,
    ReasoningBlock,
    StopReason,
    TextBlock,
    ToolUseBlock,
    UnknownBlock,
    Usage,
)
from bedrock_kit.core.guardrails.assessments import parse_guardrail_trace
from bedrock_kit.errors import (
    BedrockKitError,
    IncompleteStreamError,
    MalformedResponseError,
    error_from_client_error,
)


@dataclass(frozen=True)
class TextDelta:
    """A piece of answer text."""

    index: int
    """Content block index."""
    text: str
    """The new text."""


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call: the start carries id and name, later pieces JSON text."""

    index: int
    """Content block index."""
    id: str | None
    """``toolUseId`` (start only)."""
    name: str | None
    """Tool name (start only)."""
    arguments: str
    """A fragment of the arguments' JSON text."""


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of model reasoning."""

    index: int
    """Content block index."""
    text: str = ""
    """New reasoning text."""
    signature: str | None = None
    """Signature, sent once at the end of a reasoning block."""
    redacted_content: bytes | None = None
    """Redacted reasoning bytes."""


@dataclass(frozen=True)
class StopDelta:
    """Generation stopped (``messageStop``); usage follows in :class:`CompletedDelta`."""

    stop_reason: StopReason
    """Why generation stopped."""
    raw_stop_reason: str
    """``stopReason`` as sent."""


@dataclass(frozen=True)
class CompletedDelta:
    """The stream is complete: the whole result, with usage and guardrail trace."""

    result: ConverseResult
    """The assembled result, equal to what Converse would have returned."""


StreamDelta: TypeAlias = TextDelta | ToolCallDelta | ReasoningDelta | StopDelta | CompletedDelta


@dataclass
class _Block:
    kind: str = "text"
    text: list[str] = field(default_factory=list)
    tool_id: str = ""
    tool_name: str = ""
    signature: str | None = None
    redacted: bytes | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    raw: Any = None


class StreamReducer:
    """Turns ConverseStream events into deltas and, at the end, one ConverseResult.

    Args:
        model_id: Model id of the request, for the result and for errors.
        region: Client region, for errors.
    """

    def __init__(self, model_id: str, region: str | None = None) -> None:
        self.model_id = model_id
        self.region = region
        self._blocks: dict[int, _Block] = {}
        self._stop: StopDelta | None = None
        self._additional: dict[str, Any] = {}
        self._metadata: Mapping[str, Any] | None = None
        self._result: ConverseResult | None = None
        self.request_id: str | None = None
        self._handlers: dict[str, Callable[[Any], list[StreamDelta]]] = {
            "messageStart": self._on_message_start,
            "contentBlockStart": self._on_block_start,
            "contentBlockDelta": self._on_block_delta,
            "contentBlockStop": self._on_block_stop,
            "messageStop": self._on_message_stop,
            "metadata": self._on_metadata,
        }

    # -- public

    def handle(self, event: Mapping[str, Any]) -> list[StreamDelta]:
        """Apply one wire event; return the deltas it produces (possibly none)."""
        for key, value in event.items():
            handler = self._handlers.get(key)
            if handler is not None:
                return handler(value or {})
            if key.endswith("Exception"):
                raise self._exception_event(key, value)
        return []  # unknown event types are ignored, as botocore ignores unknown members

    def finish(self) -> ConverseResult:
        """Call when the event stream ends; raises if the answer is incomplete."""
        if self._result is None:
            missing = [
                name
                for name, seen in (("messageStop", self._stop), ("metadata", self._metadata))
                if seen is None
            ]
            raise IncompleteStreamError(
                f"ConverseStream ended without {' and '.join(missing)}: the answer is partial",
                partial_text=self.partial_text,
                model_id=self.model_id,
                region=self.region,
                request_id=self.request_id,
            )
        return self._result

    @property
    def partial_text(self) -> str:
        """Text received so far."""
        return "".join("".join(b.text) for _, b in sorted(self._blocks.items()) if b.kind == "text")

    # -- handlers

    def _block(self, index: int, kind: str) -> _Block:
        block = self._blocks.get(index)
        if block is None:
            block = self._blocks[index] = _Block(kind)
        return block

    def _on_message_start(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        return []

    def _on_block_start(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        index = int(value.get("contentBlockIndex") or 0)
        start = value.get("start") or {}
        if "toolUse" in start:
            tool = start["toolUse"] or {}
            block = self._block(index, "tool")
            block.tool_id, block.tool_name = tool.get("toolUseId", ""), tool.get("name", "")
            return [ToolCallDelta(index, block.tool_id, block.tool_name, "")]
        return []

    def _on_block_delta(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        index = int(value.get("contentBlockIndex") or 0)
        delta = value.get("delta") or {}
        if "text" in delta:
            text = delta["text"] or ""
            block = self._block(index, "text")
            block.text.append(text)
            return [TextDelta(index, text)]
        if "toolUse" in delta:
            fragment = (delta["toolUse"] or {}).get("input", "")
            self._block(index, "tool").text.append(fragment)
            return [ToolCallDelta(index, None, None, fragment)]
        if "reasoningContent" in delta:
            return [self._on_reasoning(index, delta["reasoningContent"] or {})]
        if "citation" in delta:
            block = self._block(index, "text")
            block.citations.append(delta["citation"])
            return []
        key = next(iter(delta), "")
        self._block(index, "unknown").raw = {key: delta.get(key)}
        return []

    def _on_reasoning(self, index: int, value: Mapping[str, Any]) -> StreamDelta:
        block = self._block(index, "reasoning")
        if "text" in value:
            block.text.append(value["text"])
        if "signature" in value:
            block.signature = value["signature"]
        if "redactedContent" in value:
            block.redacted = value["redactedContent"]
        return ReasoningDelta(
            index, value.get("text", ""), value.get("signature"), value.get("redactedContent")
        )

    def _on_block_stop(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        return []

    def _on_message_stop(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        raw = value.get("stopReason") or ""
        self._stop = StopDelta(parse_stop_reason(raw), raw)
        self._additional = document_fields(value.get("additionalModelResponseFields"))
        return [self._stop, *self._complete()]

    def _on_metadata(self, value: Mapping[str, Any]) -> list[StreamDelta]:
        self._metadata = value
        return self._complete()

    # -- assembly

    def _complete(self) -> list[StreamDelta]:
        if self._stop is None or self._metadata is None:
            return []
        meta = self._metadata
        trace = meta.get("trace") or {}
        self._result = ConverseResult(
            message=Message(
                "assistant", tuple(self._assemble(b) for _, b in sorted(self._blocks.items()))
            ),
            stop_reason=self._stop.stop_reason,
            raw_stop_reason=self._stop.raw_stop_reason,
            usage=parse_usage(meta.get("usage")) if meta.get("usage") else Usage(),
            model_id=self.model_id,
            latency_ms=(meta.get("metrics") or {}).get("latencyMs"),
            guardrail=parse_guardrail_trace(trace.get("guardrail")),
            request_id=self.request_id,
            additional_model_response_fields=self._additional,
            trace=dict(trace),
        )
        return [CompletedDelta(self._result)]

    def _assemble(self, block: _Block) -> ContentBlock:
        text = "".join(block.text)
        if block.kind == "tool":
            return ToolUseBlock(block.tool_id, block.tool_name, self._parse_arguments(block, text))
        if block.kind == "reasoning":
            if block.redacted is not None:
                return ReasoningBlock(redacted_content=block.redacted)
            return ReasoningBlock(text, block.signature)
        if block.kind == "unknown":
            key = next(iter(block.raw or {}), "")
            return UnknownBlock(key, (block.raw or {}).get(key))
        if block.citations:
            return CitationsBlock(text, tuple(block.citations))
        return TextBlock(text)

    def _parse_arguments(self, block: _Block, text: str) -> dict[str, Any]:
        if not text.strip():
            return {}
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedResponseError(
                f"tool call {block.tool_name!r} streamed invalid JSON arguments: {exc}",
                raw=text,
                model_id=self.model_id,
                region=self.region,
                request_id=self.request_id,
            ) from exc
        if not isinstance(arguments, dict):
            raise MalformedResponseError(
                f"tool call {block.tool_name!r} arguments are not a JSON object",
                raw=text,
                model_id=self.model_id,
                region=self.region,
                request_id=self.request_id,
            )
        return arguments

    def _exception_event(self, key: str, value: Any) -> BedrockKitError:
        message = (value or {}).get("message", key) if isinstance(value, dict) else str(value)
        fake = {"Error": {"Code": key, "Message": message}, "ResponseMetadata": {}}
        error = error_from_client_error(
            _WireError(fake), model_id=self.model_id, region=self.region
        )
        error.request_id = self.request_id
        return error


class _WireError(Exception):
    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response["Error"]["Message"])
        self.response = response


def iter_deltas(
    events: Iterable[Mapping[str, Any]], reducer: StreamReducer
) -> Iterator[StreamDelta]:
    """Feed a sync event stream through ``reducer``; raise if it ends incomplete."""
    for event in events:
        yield from reducer.handle(event)
    reducer.finish()


async def aiter_deltas(
    events: AsyncIterable[Mapping[str, Any]], reducer: StreamReducer
) -> AsyncIterator[StreamDelta]:
    """Feed an async event stream through ``reducer``; raise if it ends incomplete."""
    async for event in events:
        for delta in reducer.handle(event):
            yield delta
    reducer.finish()
