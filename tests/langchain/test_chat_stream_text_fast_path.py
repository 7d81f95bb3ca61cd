"""ChunkBuilder's text fast path gives the chunks of its checked path, chunk for chunk.

``ChunkBuilder.generation`` builds a plain-text stream's text deltas in one step
(``text_generation``); the checked path is ``generation_chunk(builder.chunk(delta))``. For
streams of every content kind (text at several indexes, citations, reasoning, tool calls,
server tools, blocks requested or not) both give equal generations (``==``, state, field
order, ``TextAccessor`` text), the same final chunk, and the same merged message.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from bedrock_kit.core.chat.stream import StreamReducer, iter_deltas
from bedrock_kit.langchain._content import (
    ChunkBuilder,
    generation_chunk,
    text_generation,
)

_USAGE = {"usage": {"inputTokens": 3, "outputTokens": 5, "totalTokens": 8}}


def _text(index: int, text: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": text}}}


def _stop(index: int) -> dict[str, Any]:
    return {"contentBlockStop": {"contentBlockIndex": index}}


def _end(reason: str = "end_turn") -> list[dict[str, Any]]:
    return [{"messageStop": {"stopReason": reason}}, {"metadata": _USAGE}]


_START = {"messageStart": {"role": "assistant"}}
_STREAMS = {
    "text": [_START, _text(0, "Hel"), _text(0, "lo"), _text(0, ""), _stop(0), *_end()],
    "two text blocks": [
        _START,
        _text(0, "a"),
        _stop(0),
        _text(1, "b"),
        _text(1, "c"),
        _stop(1),
        *_end(),
    ],
    "citation": [
        _START,
        _text(0, "cited"),
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"citation": {"title": "t", "sourceContent": [{"text": "s"}]}},
            }
        },
        _stop(0),
        *_end(),
    ],
    "reasoning first": [
        _START,
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"reasoningContent": {"text": "think"}},
            }
        },
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"reasoningContent": {"signature": "sig"}},
            }
        },
        _stop(0),
        _text(1, "answer"),
        _stop(1),
        *_end(),
    ],
    "text then tool call": [
        _START,
        _text(0, "let me look"),
        _stop(0),
        {
            "contentBlockStart": {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": "t1", "name": "lookup"}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"q"'}}}},
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": ':"x"}'}}}},
        _stop(1),
        *_end("tool_use"),
    ],
}


def _deltas(events: list[dict[str, Any]]) -> list[Any]:
    return list(iter_deltas(events, StreamReducer("amazon.nova-micro-v1:0", "us-east-1")))


def _state(generation: ChatGenerationChunk) -> tuple[Any, ...]:
    message = generation.message
    return (
        list(generation.__dict__.items()),
        generation.model_fields_set,
        type(generation.text),
        list(message.__dict__.items()),
        message.model_fields_set,
        message.__pydantic_extra__,
    )


def _both(deltas: list[Any], blocks: bool) -> tuple[list[Any], list[Any]]:
    fast = ChunkBuilder(blocks=blocks, model_name="m")
    checked = ChunkBuilder(blocks=blocks, model_name="m")
    got, expected = [], []
    for delta in deltas:
        got.append(fast.generation(delta))
        chunk = checked.chunk(delta)
        expected.append(None if chunk is None else generation_chunk(chunk))
    return got, expected


def _merged(generations: list[Any]) -> Any:
    present = [g for g in generations if g is not None]
    total = present[0]
    for generation in present[1:]:
        total = total + generation
    return total


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("name", sorted(_STREAMS))
def test_fast_path_gives_the_checked_paths_chunks(name: str, blocks: bool) -> None:
    got, expected = _both(_deltas(_STREAMS[name]), blocks)
    assert len(got) == len(expected)
    for built, reference in zip(got, expected, strict=True):
        assert (built is None) == (reference is None)
        if built is not None:
            assert built == reference
            assert _state(built) == _state(reference)
    assert _merged(got) == _merged(expected)
    usage = _merged(got).message.usage_metadata
    assert usage is not None and usage["total_tokens"] == 8


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.text(max_size=6)),
        min_size=1,
        max_size=12,
    )
)
def test_fast_path_gives_the_checked_paths_chunks_for_any_text(pieces: list[Any]) -> None:
    events: list[dict[str, Any]] = [_START]
    for index, text in sorted(pieces, key=lambda p: p[0]):  # blocks in order
        events.append(_text(index, text))
    events += _end()
    got, expected = _both(_deltas(events), blocks=False)
    for built, reference in zip(got, expected, strict=True):
        assert (built is None) == (reference is None)
        if built is not None:
            assert _state(built) == _state(reference)
    assert _merged(got) == _merged(expected)


def test_text_generation_is_the_validated_pair() -> None:
    for text in ("", "x", "multi\nline ✓"):
        built = text_generation(text)
        validated = ChatGenerationChunk(message=AIMessageChunk(content=text))
        assert built == validated
        assert _state(built) == _state(validated)
    one, two = text_generation("a"), text_generation("a")
    assert one.message.response_metadata is not two.message.response_metadata
    assert one.model_fields_set is not two.model_fields_set
