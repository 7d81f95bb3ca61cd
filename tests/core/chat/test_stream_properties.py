"""Property: the stream reducer gives the full correct answer or a typed error, never a part.

Hypothesis builds a valid answer (text, tool-call and reasoning blocks, a stop reason, usage)
and its ConverseStream events, then mutates them: inserts events from a pool of hostile ones
(a second messageStop or metadata, text after completion, a toolUse delta for a block that
never started, what botocore makes of a payload that is not JSON...), deletes, duplicates or
swaps events, cuts the stream, and fails the event source at any point (a typed transport
error, or the bare error botocore raises on a payload it cannot decode).

:func:`reference` is a plain fold of the events written from the documented protocol,
independently of the reducer. For every case, sync and async:

- the reducer completes exactly when the reference says the events are a valid stream and
  nothing failed, and then its result equals the reference answer and the text deltas add up
  to it;
- otherwise it raises a ``bedrock_kit`` error, and no CompletedDelta was given before.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    StreamReducer,
    TextDelta,
    aiter_deltas,
    iter_deltas,
)
from bedrock_kit.core.chat.types import ContentBlock, ReasoningBlock, TextBlock, ToolUseBlock
from bedrock_kit.errors import BedrockKitError, IncompleteStreamError

MODEL = "amazon.nova-micro-v1:0"
PROPERTY = settings(
    max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
STOP_REASONS = ["end_turn", "tool_use", "max_tokens", "stop_sequence", "guardrail_intervened"]


# ------------------------------------------------------------------ the reference fold


@dataclass(frozen=True)
class Answer:
    blocks: tuple[ContentBlock, ...]
    stop_reason: str
    usage: tuple[int, int, int]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def reference(events: list[Any]) -> Answer | None:
    """The answer the events carry, or None when they are not a valid ConverseStream."""
    blocks: dict[int, dict[str, Any]] = {}
    stopped: set[int] = set()
    started = False
    stop: str | None = None
    usage: tuple[int, int, int] | None = None
    for event in events:
        if usage is not None:
            return None  # the stream goes on after metadata
        if not isinstance(event, dict) or len(event) != 1:
            return None
        ((key, value),) = event.items()
        if not isinstance(value, dict) or not value:
            return None  # exception events carry a message; they are failures too
        if key == "messageStart":
            if started or stop is not None or value.get("role") != "assistant":
                return None
            started = True
        elif key in ("contentBlockStart", "contentBlockDelta", "contentBlockStop"):
            index = value.get("contentBlockIndex")
            if stop is not None or not _count(index):
                return None
            started = True
            if key == "contentBlockStart":
                start = value.get("start")
                if index in blocks or index in stopped or not isinstance(start, dict):
                    return None
                tool = start.get("toolUse")
                if list(start) != ["toolUse"] or not isinstance(tool, dict):
                    return None
                if not tool.get("toolUseId") or not tool.get("name"):
                    return None
                blocks[index] = {"kind": "tool", "parts": [], **tool}
            elif key == "contentBlockStop":
                if index in stopped:
                    return None
                stopped.add(index)
            else:
                delta = value.get("delta")
                if index in stopped or not isinstance(delta, dict) or len(delta) != 1:
                    return None
                ((kind, body),) = delta.items()
                block = blocks.get(index)
                if kind == "text":
                    if not isinstance(body, str):
                        return None
                    block = blocks.setdefault(index, {"kind": "text", "parts": []})
                    if block["kind"] != "text":
                        return None
                    block["parts"].append(body)
                elif kind == "toolUse":
                    if block is None or block["kind"] != "tool":
                        return None
                    block["parts"].append(body["input"])
                elif kind == "reasoningContent":
                    block = blocks.setdefault(index, {"kind": "reasoning", "parts": []})
                    if block["kind"] != "reasoning":
                        return None
                    block["parts"].append(body.get("text", ""))
                    if "signature" in body:
                        block["signature"] = body["signature"]
                else:
                    return None
        elif key == "messageStop":
            reason = value.get("stopReason")
            if stop is not None or not isinstance(reason, str) or not reason:
                return None
            stop = reason
        elif key == "metadata":
            counts = value.get("usage") or {}
            wanted = [counts.get(k) for k in ("inputTokens", "outputTokens", "totalTokens")]
            if stop is None or not all(_count(c) for c in wanted):
                return None
            usage = (wanted[0], wanted[1], wanted[2])
        else:
            return None
    if stop is None or usage is None:
        return None  # cut short
    out: list[ContentBlock] = []
    for _, block in sorted(blocks.items()):
        text = "".join(block["parts"])
        if block["kind"] == "text":
            out.append(TextBlock(text))
        elif block["kind"] == "reasoning":
            out.append(ReasoningBlock(text, block.get("signature")))
        else:
            try:
                arguments = json.loads(text) if text.strip() else {}
            except ValueError:
                return None
            if not isinstance(arguments, dict):
                return None
            out.append(ToolUseBlock(block["toolUseId"], block["name"], arguments))
    return Answer(tuple(out), stop, usage)


# ------------------------------------------------------------------ valid streams


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
_ARGS = st.dictionaries(
    st.text("abcxyz", min_size=1, max_size=3),
    st.none() | st.integers(-5, 5) | _TEXT | st.lists(st.integers(0, 3), max_size=2),
    max_size=3,
)


@st.composite
def _block_events(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    kind = draw(st.sampled_from(["text", "tool", "reasoning"]))
    events: list[dict[str, Any]] = []

    def delta(body: dict[str, Any]) -> dict[str, Any]:
        return {"contentBlockDelta": {"contentBlockIndex": index, "delta": body}}

    if kind == "text":
        events += [delta({"text": t}) for t in draw(st.lists(_TEXT, min_size=1, max_size=3))]
    elif kind == "reasoning":
        pieces = draw(st.lists(_TEXT, min_size=1, max_size=2))
        events += [delta({"reasoningContent": {"text": t}}) for t in pieces]
        events.append(delta({"reasoningContent": {"signature": draw(st.text("ab=", max_size=4))}}))
    else:
        tool = {"toolUseId": f"t{index}", "name": draw(st.sampled_from(["get", "put_x"]))}
        events.append(
            {"contentBlockStart": {"contentBlockIndex": index, "start": {"toolUse": tool}}}
        )
        text = json.dumps(draw(_ARGS))
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=3)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        events += [delta({"toolUse": {"input": p}}) for p in pieces if p]
    events.append({"contentBlockStop": {"contentBlockIndex": index}})
    return events


@st.composite
def valid_stream(draw: st.DrawFn) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
    for index in range(draw(st.integers(0, 3))):
        events += draw(_block_events(index))
    inputs, outputs = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    usage = {"inputTokens": inputs, "outputTokens": outputs, "totalTokens": inputs + outputs}
    events.append({"messageStop": {"stopReason": draw(st.sampled_from(STOP_REASONS))}})
    events.append({"metadata": {"usage": usage, "metrics": {"latencyMs": 5}}})
    return events


# ------------------------------------------------------------------ hostile mutations

USAGE = {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}
HOSTILE: list[Any] = [
    {"messageStop": {"stopReason": "end_turn"}},  # a second messageStop
    {"metadata": {"usage": USAGE}},  # a second metadata (usage counted twice)
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "late"}}},
    {"contentBlockDelta": {"contentBlockIndex": 7, "delta": {"toolUse": {"input": "{}"}}}},
    {"contentBlockDelta": {}},  # botocore's decoding of a payload that is not JSON
    {"metadata": {}},
    {"messageStop": {}},
    {"messageStart": {"role": "assistant"}},
    {"contentBlockStart": {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "x"}}}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "a", "citation": {}}}},
    {"contentBlockDelta": {"contentBlockIndex": -1, "delta": {"text": "a"}}},
    {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "[1]"}}}},
    {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1}}},  # no totalTokens
    {"throttlingException": {"message": "slow down"}},
    {"contentBlockDelta": None},
    "not an event",
]


@st.composite
def mutated(draw: st.DrawFn) -> list[Any]:
    events: list[Any] = list(draw(valid_stream()))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "swap", "cut"]))
        at = draw(st.integers(0, len(events)))
        if action == "insert":
            events.insert(at, draw(st.sampled_from(HOSTILE)))
        elif action == "cut":
            del events[at:]
        elif at < len(events):
            if action == "delete":
                del events[at]
            elif action == "duplicate":
                events.insert(at, events[at])
            elif at + 1 < len(events):
                events[at], events[at + 1] = events[at + 1], events[at]
    return events


_FAILURES = st.none() | st.tuples(
    st.integers(0, 40),
    st.sampled_from(
        [
            lambda: IncompleteStreamError("connection cut"),
            lambda: AttributeError("'list' object has no attribute 'get'"),  # botocore decoding
        ]
    ),
)


def _source(events: list[Any], failure: Any) -> Iterator[Any]:
    for i, event in enumerate(events):
        if failure is not None and i == min(failure[0], len(events)):
            raise failure[1]()
        yield event
    if failure is not None and failure[0] >= len(events):
        raise failure[1]()  # the connection breaks after the last event, before the end


async def _asource(events: list[Any], failure: Any) -> AsyncIterator[Any]:
    for event in _source(events, failure):
        await asyncio.sleep(0)
        yield event


def _outcome(deltas: list[Any], error: BaseException | None, events: list[Any], failure: Any):
    expected = None if failure is not None else reference(events)
    completed = [d for d in deltas if isinstance(d, CompletedDelta)]
    if error is not None:
        assert isinstance(error, BedrockKitError), f"untyped {error!r} for {events!r}"
        assert expected is None, f"a valid stream was refused: {error!r} for {events!r}"
        assert completed == [], "a result was given before the error"
        return
    assert expected is not None, f"an invalid stream was accepted: {events!r}"
    assert len(completed) == 1 and deltas[-1] is completed[0]
    result = completed[0].result
    assert result.message.content == expected.blocks
    assert result.raw_stop_reason == expected.stop_reason
    usage = result.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == expected.usage
    texts: dict[int, str] = {}
    for delta in deltas:
        if isinstance(delta, TextDelta):
            texts[delta.index] = texts.get(delta.index, "") + delta.text
    assert "".join(texts[i] for i in sorted(texts)) == result.text


@PROPERTY
@given(events=mutated(), failure=_FAILURES)
def test_sync_reducer_gives_the_reference_answer_or_a_typed_error(events, failure):
    deltas: list[Any] = []
    error: BaseException | None = None
    try:
        for delta in iter_deltas(_source(events, failure), StreamReducer(MODEL)):
            deltas.append(delta)
    except Exception as exc:  # the property inspects it
        error = exc
    _outcome(deltas, error, events, failure)


@PROPERTY
@given(events=mutated(), failure=_FAILURES)
def test_async_reducer_gives_the_reference_answer_or_a_typed_error(events, failure):
    deltas: list[Any] = []

    async def run() -> BaseException | None:
        try:
            async for delta in aiter_deltas(_asource(events, failure), StreamReducer(MODEL)):
                deltas.append(delta)
        except Exception as exc:
            return exc
        return None

    _outcome(deltas, asyncio.run(run()), events, failure)


@PROPERTY
@given(events=valid_stream())
def test_every_valid_stream_is_accepted_whole(events):
    """The control: unmutated streams always complete, equal to the reference."""
    deltas = list(iter_deltas(iter(events), StreamReducer(MODEL)))
    _outcome(deltas, None, events, None)
