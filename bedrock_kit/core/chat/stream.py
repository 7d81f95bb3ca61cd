"""The one ConverseStream reducer, shared by the sync and the async paths.

Each wire event goes through a small ``_on_<event>`` handler that updates the reducer's state
and returns the deltas a caller should see. The sync and async loops only feed events in
(:func:`iter_deltas`, :func:`aiter_deltas`); all decisions live here.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from bedrock_kit.core.chat.converse import (
    document_fields,
    parse_latency,
    parse_trace,
    parse_usage,
)
from bedrock_kit.core.chat.types import (
    SERVER_TOOL_USE,
    CitationsBlock,
    ContentBlock,
    ConverseResult,
    JsonBlock,
    Message,
    ReasoningBlock,
    StopReason,
    TextBlock,
    ToolResultBlock,
    ToolResultContent,
    ToolUseBlock,
    UnknownBlock,
    parse_stop_reason,
)
from bedrock_kit.core.transport.wire import JsonDepthMeter, WireReader
from bedrock_kit.core.transport.wire_events import undecodable
from bedrock_kit.errors import BedrockKitError, IncompleteStreamError, error_from_client_error


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
class ServerToolDelta:
    """A whole server-side tool block (Bedrock ran the tool), given at its ``contentBlockStop``.

    Never a client tool call: its arguments arrive as ``toolUse`` deltas like a client
    call's, but no :class:`ToolCallDelta` is given for them, so no caller runs the tool.
    """

    index: int
    """Content block index."""
    block: ToolUseBlock | ToolResultBlock
    """The server tool call (``type`` ``server_tool_use``) or the result Bedrock returned."""


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


StreamDelta: TypeAlias = (
    TextDelta | ToolCallDelta | ReasoningDelta | ServerToolDelta | StopDelta | CompletedDelta
)


@dataclass
class _Block:
    # text, tool, result (a server tool's result), reasoning, unknown; "pending": opened by
    # a start whose deltas decide the kind
    kind: str = "text"
    text: list[str] = field(default_factory=list)
    tool_id: str = ""
    tool_name: str = ""
    tool_type: str | None = None
    status: str | None = None
    parts: list[ToolResultContent] = field(default_factory=list)
    signature: str | None = None
    redacted: bytes | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    raw: Any = None
    meter: JsonDepthMeter | None = None


_NOT_JSON = " (botocore decodes an event payload that is not JSON to an empty event)"


class StreamReducer:
    """Turns ConverseStream events into deltas and, at the end, one ConverseResult.

    The stream must be the documented shape: content events, exactly one ``messageStop``,
    then exactly one ``metadata`` with ``usage``, then the end of the stream. Anything else
    (a second ``messageStop`` or ``metadata``, text after completion, a tool-call delta for
    a block no ``contentBlockStart`` opened, an event without its required members, as a
    payload that is not JSON decodes to) raises :class:`MalformedResponseError`; a stream
    that ends early raises :class:`IncompleteStreamError`. The :class:`CompletedDelta` is
    given only once the stream has ended cleanly, so no caller ever sees a result that a
    later event proves wrong.

    Args:
        model_id: Model id of the request, for the result and for errors.
        region: Client region, for errors.
    """

    def __init__(self, model_id: str, region: str | None = None) -> None:
        self.model_id = model_id
        self.region = region
        self._blocks: dict[int, _Block] = {}
        self._stopped: set[int] = set()
        # The text of every text block open for more text (typed text, not stopped, before
        # messageStop): what the fast path checks in one lookup.
        self._open_texts: dict[int, list[str]] = {}
        self._started = False
        self._stop: StopDelta | None = None
        self._additional: dict[str, Any] = {}
        self._result: ConverseResult | None = None
        self.request_id: str | None = None
        self._reader: WireReader | None = None
        self._handlers: dict[str, Callable[[WireReader, Mapping[str, Any]], list[StreamDelta]]] = {
            "messageStart": self._on_message_start,
            "contentBlockStart": self._on_block_start,
            "contentBlockDelta": self._on_block_delta,
            "contentBlockStop": self._on_block_stop,
            "messageStop": self._on_message_stop,
            "metadata": self._on_metadata,
        }

    # -- public

    @property
    def reader(self) -> WireReader:
        """What errors of this stream name: model, request id, region."""
        r = self._reader
        if (
            r is None
            or r.request_id != self.request_id
            or r.model_id != self.model_id
            or r.region != self.region
        ):
            r = self._reader = WireReader(
                "ConverseStream", self.model_id, self.request_id, self.region
            )
        return r

    def text_delta(self, event: Any) -> TextDelta | None:
        """The fast path of :meth:`handle` for the bulk of a stream: a text delta.

        Applies ``event`` and returns its :class:`TextDelta` when it is a well-formed
        ``contentBlockDelta`` text event for a text block already open and not stopped,
        before ``messageStop``; returns None, having changed nothing, for anything else
        (which :meth:`handle` then checks in full). The state it leaves is the one
        :meth:`handle` would leave, so the assembled result is the same.
        """
        # Membership tests and subscripts, not .get(): this runs for every chunk.
        if type(event) is not dict or "contentBlockDelta" not in event or len(event) != 1:
            return None
        value = event["contentBlockDelta"]
        if type(value) is not dict or "delta" not in value or "contentBlockIndex" not in value:
            return None
        delta, index = value["delta"], value["contentBlockIndex"]
        if type(delta) is not dict or "text" not in delta or len(delta) != 1:
            return None
        text = delta["text"]
        # type(index) is int: True would find block 1 (equal hashes).
        if type(text) is not str or type(index) is not int or index not in self._open_texts:
            return None
        self._open_texts[index].append(text)
        return TextDelta(index, text)

    def handle(self, event: Mapping[str, Any]) -> list[StreamDelta]:
        """Apply one wire event; return the deltas it produces (possibly none).

        Raises:
            MalformedResponseError: The event is not the documented shape, or comes after
                the stream completed.
            BedrockKitError: The typed error of an in-stream exception event.
        """
        fast = self.text_delta(event)
        if fast is not None:
            return [fast]
        r = self.reader
        with r.guard(event):
            if not isinstance(event, Mapping):
                raise r.malformed("an event is not an object", event)
            if self._result is not None:
                raise r.malformed("an event arrived after messageStop and metadata", event)
            if len(event) > 1:
                raise r.malformed("an event has more than one member", event)
            for key, value in event.items():
                handler = self._handlers.get(key)
                if handler is not None:
                    if not isinstance(value, Mapping) or not value:
                        raise r.malformed(f"{key} event has no members{_NOT_JSON}", event)
                    return handler(r, value)
                if key.endswith("Exception"):
                    raise self._exception_event(key, value)
            return []  # unknown event types are ignored, as botocore ignores unknown members

    def finish(self) -> ConverseResult:
        """Call when the event stream ends; raises if the answer is incomplete."""
        if self._result is None:
            missing = [
                name
                for name, seen in (("messageStop", self._stop), ("metadata", self._result))
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

    def _content(self, r: WireReader, event: str, index: int) -> _Block | None:
        """The block a content event addresses (None: not seen yet), checking the order."""
        if self._stop is not None:
            raise r.malformed(f"{event} for block {index} after messageStop")
        self._started = True
        if index in self._stopped and event != "contentBlockStart":
            raise r.malformed(f"{event} for block {index} after its contentBlockStop")
        return self._blocks.get(index)

    def _typed(self, r: WireReader, index: int, block: _Block | None, kind: str) -> _Block:
        if block is None:
            block = self._blocks[index] = _Block(kind)
        elif block.kind == "pending":
            block.kind = kind
        elif block.kind != kind:
            raise r.malformed(f"a {kind} delta for block {index}, which is a {block.kind} block")
        if kind == "text":  # only content events call this, for blocks open before messageStop
            self._open_texts[index] = block.text
        return block

    def _on_message_start(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        if self._started or self._stop is not None:
            raise r.malformed("messageStart after the message started", value)
        r.one_of(value.get("role"), ("assistant",), "messageStart.role")
        self._started = True
        return []

    def _on_block_start(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        index = r.count(value.get("contentBlockIndex"), "contentBlockStart.contentBlockIndex")
        if self._content(r, "contentBlockStart", index) is not None or index in self._stopped:
            raise r.malformed(f"contentBlockStart for block {index}, which already started")
        start = r.obj(value.get("start"), "contentBlockStart.start")
        if len(start) != 1:
            raise r.malformed("contentBlockStart.start must have exactly one member", value)
        key, body = next(iter(start.items()))
        if key == "toolUse":
            tool = r.obj(body, "contentBlockStart.start.toolUse")
            block = self._blocks[index] = _Block(
                "tool",
                tool_id=r.text(tool.get("toolUseId"), "start.toolUse.toolUseId", empty=False),
                tool_name=r.text(tool.get("name"), "start.toolUse.name", empty=False),
                tool_type=r.opt_text(tool.get("type"), "start.toolUse.type") or None,
                meter=JsonDepthMeter(),
            )
            if block.tool_type == SERVER_TOOL_USE:
                return []  # given whole at its contentBlockStop, never as a client call
            return [ToolCallDelta(index, block.tool_id, block.tool_name, "")]
        if key == "toolResult":  # a server tool's result, inside the assistant turn
            result = r.obj(body, "contentBlockStart.start.toolResult")
            where = "start.toolResult"
            self._blocks[index] = _Block(
                "result",
                tool_id=r.text(result.get("toolUseId"), f"{where}.toolUseId", empty=False),
                tool_type=r.opt_text(result.get("type"), f"{where}.type") or None,
                status=r.opt_text(result.get("status"), f"{where}.status") or None,
            )
            return []
        # Other starts (images, tool results, types newer than this version) open a block
        # whose deltas decide its kind; with none, it is kept as an UnknownBlock.
        self._blocks[index] = _Block("pending", raw={key: r.document(body, f"start.{key}")})
        return []

    def _on_block_delta(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        index = r.count(value.get("contentBlockIndex"), "contentBlockDelta.contentBlockIndex")
        block = self._content(r, "contentBlockDelta", index)
        delta = r.obj(value.get("delta"), "contentBlockDelta.delta")
        if len(delta) != 1:
            problem = "has no member" + _NOT_JSON if not delta else "has more than one member"
            raise r.malformed(f"contentBlockDelta.delta {problem}", value)
        key, body = next(iter(delta.items()))
        where = f"contentBlockDelta.delta.{key}"
        if key == "text":
            text = r.text(body, where)
            self._typed(r, index, block, "text").text.append(text)
            return [TextDelta(index, text)]
        if key == "toolUse":
            if block is None or block.kind != "tool":
                raise r.malformed(
                    f"a toolUse delta for block {index}, which no contentBlockStart opened as a "
                    "tool call (its name and id are unknown)",
                    value,
                )
            fragment = r.text(r.obj(body, where).get("input"), f"{where}.input")
            assert block.meter is not None
            if not block.meter.feed(fragment):
                raise r.malformed(
                    f"tool call {block.tool_name!r} input nests JSON deeper than "
                    f"{block.meter.limit} levels",
                    fragment,
                )
            block.text.append(fragment)
            if block.tool_type == SERVER_TOOL_USE:
                return []
            return [ToolCallDelta(index, None, None, fragment)]
        if key == "toolResult":
            if block is None or block.kind != "result":
                raise r.malformed(
                    f"a toolResult delta for block {index}, which no contentBlockStart opened "
                    "as a tool result (its toolUseId is unknown)",
                    value,
                )
            self._result_parts(r, block, r.items(body, where), where)
            return []
        if key == "reasoningContent":
            return [self._on_reasoning(r, index, block, r.obj(body, where))]
        if key == "citation":
            citation = r.document(dict(r.obj(body, where)), where)
            self._typed(r, index, block, "text").citations.append(citation)
            return []
        if block is None or block.kind in ("unknown", "pending"):
            self._typed(r, index, block, "unknown").raw = {key: r.document(body, where)}
        return []  # a delta type newer than this version, on a known block: ignored

    def _on_reasoning(
        self, r: WireReader, index: int, block: _Block | None, value: Mapping[str, Any]
    ) -> StreamDelta:
        where = "contentBlockDelta.delta.reasoningContent"
        text = r.opt_text(value.get("text"), f"{where}.text")
        signature = r.opt_text(value.get("signature"), f"{where}.signature")
        redacted = value.get("redactedContent")
        if redacted is not None and not isinstance(redacted, bytes):
            raise r.malformed(f"{where}.redactedContent is not bytes", value)
        if text is None and signature is None and redacted is None:
            raise r.malformed(f"{where} has no member", value)
        block = self._typed(r, index, block, "reasoning")
        if text is not None:
            block.text.append(text)
        if signature is not None:
            block.signature = signature
        if redacted is not None:
            block.redacted = redacted
        return ReasoningDelta(index, text or "", signature, redacted)

    def _result_parts(self, r: WireReader, block: _Block, items: Any, where: str) -> None:
        for i, item in enumerate(items):
            part = r.obj(item, f"{where}[{i}]")
            if "text" in part:
                text = r.text(part["text"], f"{where}[{i}].text")
                last = block.parts[-1] if block.parts else None
                if isinstance(last, TextBlock):  # text arrives in pieces: one block
                    block.parts[-1] = TextBlock(last.text + text)
                else:
                    block.parts.append(TextBlock(text))
            elif "json" in part:
                block.parts.append(JsonBlock(r.document(part["json"], f"{where}[{i}].json")))
            else:
                raise r.malformed(f"{where}[{i}] has neither text nor json", item)

    def _on_block_stop(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        index = r.count(value.get("contentBlockIndex"), "contentBlockStop.contentBlockIndex")
        block = self._content(r, "contentBlockStop", index)
        self._stopped.add(index)
        self._open_texts.pop(index, None)
        if block is not None and (
            block.kind == "result" or (block.kind == "tool" and block.tool_type == SERVER_TOOL_USE)
        ):
            assembled = self._assemble(r, index, block)
            assert isinstance(assembled, ToolUseBlock | ToolResultBlock)
            return [ServerToolDelta(index, assembled)]
        return []

    def _on_message_stop(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        if self._stop is not None:
            raise r.malformed("a second messageStop", value)
        raw = r.text(value.get("stopReason"), "messageStop.stopReason", empty=False)
        extra = value.get("additionalModelResponseFields")
        self._additional = document_fields(r.document(extra, "additionalModelResponseFields"))
        self._stop = StopDelta(parse_stop_reason(raw), raw)
        self._open_texts.clear()
        return [self._stop]

    def _on_metadata(self, r: WireReader, value: Mapping[str, Any]) -> list[StreamDelta]:
        if self._stop is None:
            raise r.malformed("metadata before messageStop", value)
        trace, guardrail = parse_trace(r, value.get("trace"), "metadata.trace")
        self._result = ConverseResult(
            message=Message(
                "assistant",
                tuple(self._assemble(r, i, b) for i, b in sorted(self._blocks.items())),
            ),
            stop_reason=self._stop.stop_reason,
            raw_stop_reason=self._stop.raw_stop_reason,
            usage=parse_usage(value.get("usage"), r, "metadata.usage"),
            model_id=self.model_id,
            latency_ms=parse_latency(r, value.get("metrics"), "metadata.metrics"),
            guardrail=guardrail,
            request_id=self.request_id,
            additional_model_response_fields=self._additional,
            trace=trace,
        )
        return []  # the CompletedDelta comes from the end of the stream (iter_deltas)

    # -- assembly

    def _assemble(self, r: WireReader, index: int, block: _Block) -> ContentBlock:
        text = "".join(block.text)
        if block.kind == "tool":
            arguments = (
                r.loads_object(text, where=f"tool call {block.tool_name!r} input (block {index})")
                if text.strip()
                else {}
            )
            return ToolUseBlock(block.tool_id, block.tool_name, arguments, block.tool_type)
        if block.kind == "result":
            return ToolResultBlock(
                block.tool_id,
                tuple(block.parts),
                block.status,  # type: ignore[arg-type]
                block.tool_type,
            )
        if block.kind == "reasoning":
            if block.redacted is not None:
                return ReasoningBlock(redacted_content=block.redacted)
            return ReasoningBlock(text, block.signature)
        if block.kind in ("unknown", "pending"):
            key = next(iter(block.raw or {}), "")
            return UnknownBlock(key, (block.raw or {}).get(key))
        if block.citations:
            return CitationsBlock(text, tuple(block.citations))
        return TextBlock(text)

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
    """Feed a sync event stream through ``reducer``; the last delta is the CompletedDelta.

    The stream is read here, as :func:`~bedrock_kit.core.transport.wire_events.read_events`
    reads it (one generator less per event): only its own ``next()`` runs under the guard.

    Raises:
        IncompleteStreamError: The stream ended before ``messageStop`` and ``metadata``.
        MalformedResponseError: An event (or botocore's decoding of it) is malformed.
    """
    fast, handle = reducer.text_delta, reducer.handle
    reader = reducer.reader
    iterator = iter(events)
    while True:
        try:
            event = next(iterator)
        except StopIteration:
            break
        except Exception:
            with undecodable(reader):
                raise
        delta = fast(event)
        if delta is not None:
            yield delta
        else:
            yield from handle(event)
    yield CompletedDelta(reducer.finish())


async def aiter_deltas(
    events: AsyncIterable[Mapping[str, Any]], reducer: StreamReducer
) -> AsyncIterator[StreamDelta]:
    """Async :func:`iter_deltas`."""
    fast, handle = reducer.text_delta, reducer.handle
    reader = reducer.reader
    iterator = aiter(events)
    while True:
        try:
            event = await anext(iterator)
        except StopAsyncIteration:
            break
        except Exception:
            with undecodable(reader):
                raise
        delta = fast(event)
        if delta is not None:
            yield delta
        else:
            for each in handle(event):
                yield each
    yield CompletedDelta(reducer.finish())
