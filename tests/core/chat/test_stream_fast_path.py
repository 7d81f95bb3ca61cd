"""The reducer's text-delta fast path changes nothing but the cost.

Every stream here is reduced twice, with the fast path and with it switched off (every event
through the checked ``handle``): the deltas, the final result and any error must be the same.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from bedrock_kit.core.chat.stream import StreamReducer, TextDelta, iter_deltas
from bedrock_kit.testing.conformance import conformance_dir, load_recordings

_START = {"messageStart": {"role": "assistant"}}
_STOP = {"messageStop": {"stopReason": "end_turn"}}
_META = {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 5, "totalTokens": 8}}}


def _text(index: Any, text: Any) -> dict[str, Any]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": text}}}


def _block_stop(index: int) -> dict[str, Any]:
    return {"contentBlockStop": {"contentBlockIndex": index}}


class _Checked(StreamReducer):
    """The reducer with the fast path off."""

    def text_delta(self, event: Any) -> TextDelta | None:
        return None


def _reduce(cls: type[StreamReducer], events: list[Any]) -> tuple[list[Any], Any]:
    reducer = cls("amazon.nova-micro-v1:0", "us-east-1")
    reducer.request_id = "req-1"
    deltas: list[Any] = []
    try:
        for delta in iter_deltas(iter(events), reducer):
            deltas.append(delta)
    except Exception as exc:  # the same error, message included, is part of the contract
        return deltas, (type(exc), str(exc), getattr(exc, "request_id", None))
    return deltas, None


_TOOL_START = {
    "contentBlockStart": {
        "contentBlockIndex": 1,
        "start": {"toolUse": {"toolUseId": "t1", "name": "lookup"}},
    }
}
_CASES: dict[str, list[Any]] = {
    "plain": [_START, _text(0, "a"), _text(0, "b"), _text(0, "c"), _block_stop(0), _STOP, _META],
    "two blocks interleaved": [
        _START,
        _text(0, "a"),
        _text(1, "x"),
        _text(0, "b"),
        _text(1, "y"),
        _STOP,
        _META,
    ],
    "opened by a start": [
        _START,
        {"contentBlockStart": {"contentBlockIndex": 0, "start": {"image": {"format": "png"}}}},
        _text(0, "a"),
        _text(0, "b"),
        _STOP,
        _META,
    ],
    "text after its block stopped": [_START, _text(0, "a"), _block_stop(0), _text(0, "b")],
    "text for a tool block": [_START, _TOOL_START, _text(1, "a")],
    "text for a tool block after text": [_START, _text(0, "a"), _TOOL_START, _text(1, "b")],
    "bool index": [_START, _text(0, "a"), _text(True, "b"), _STOP, _META],
    "float index": [_START, _text(0, "a"), _text(0.0, "b"), _STOP, _META],
    "negative index": [_START, _text(0, "a"), _text(-1, "b")],
    "text not a string": [_START, _text(0, "a"), _text(0, 7)],
    "text None": [_START, _text(0, "a"), _text(0, None)],
    "delta with two members": [
        _START,
        _text(0, "a"),
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "b", "x": 1}}},
    ],
    "delta missing": [_START, _text(0, "a"), {"contentBlockDelta": {"contentBlockIndex": 0}}],
    "index missing": [_START, _text(0, "a"), {"contentBlockDelta": {"delta": {"text": "b"}}}],
    "event with two members": [_START, _text(0, "a"), {**_text(0, "b"), **_STOP}],
    "text after messageStop": [_START, _text(0, "a"), _STOP, _text(0, "b")],
    "text after metadata": [_START, _text(0, "a"), _STOP, _META, _text(0, "b")],
    "a mapping that is not a dict": [
        _START,
        _text(0, "a"),
        MappingProxyType(_text(0, "b")),
        {"contentBlockDelta": MappingProxyType(_text(0, "c")["contentBlockDelta"])},
        _STOP,
        _META,
    ],
    "reasoning then text in another block": [
        _START,
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"reasoningContent": {"text": "hmm"}},
            }
        },
        _text(0, "a"),
    ],
    "ends early": [_START, _text(0, "a"), _text(0, "b")],
}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_fast_path_gives_what_the_checked_path_gives(name):
    events = _CASES[name]
    fast = _reduce(StreamReducer, events)
    checked = _reduce(_Checked, events)
    assert fast == checked
    assert fast[0] or fast[1] is not None  # every case produces something to compare


def test_the_fast_path_is_taken_for_text_deltas_of_an_open_text_block():
    reducer = StreamReducer("m")
    assert reducer.text_delta(_text(0, "a")) is None  # no block yet: the checked path opens it
    reducer.handle(_text(0, "a"))
    assert reducer.text_delta(_text(0, "b")) == TextDelta(0, "b")
    assert reducer.partial_text == "ab"
    for refused in (_text(True, "c"), _text(0, 1), _text(1, "c"), _START, [], None):
        assert reducer.text_delta(refused) is None
    assert reducer.partial_text == "ab"  # refusals change nothing


def _recorded_streams() -> list[Any]:
    if conformance_dir() is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/conformance absent"))]
    cases = []
    for recording in load_recordings():
        for n, interaction in enumerate(recording.interactions):
            if interaction.operation == "ConverseStream" and interaction.events:
                events = [
                    {e.event_type: e.payload}
                    for e in interaction.events
                    if e.message_type == "event"
                ]
                cases.append(pytest.param(events, id=f"{recording.id}-{n}"))
    return cases


@pytest.mark.conformance
@pytest.mark.parametrize("events", _recorded_streams())
def test_recorded_streams_reduce_the_same_with_the_fast_path(events):
    fast = _reduce(StreamReducer, events)
    assert fast == _reduce(_Checked, events)
    assert fast[0]
