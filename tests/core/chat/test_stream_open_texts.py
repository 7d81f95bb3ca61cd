"""The reducer's open-text index always names exactly the blocks the fast path may extend.

``StreamReducer.text_delta`` decides with one lookup in ``_open_texts``; it must hold the text
of every block that is a text block, not stopped, before ``messageStop`` (and only those),
after any sequence of events, well-formed or not. Random event sequences are fed through the
checked path and the fast path; after each event the index is compared with what the blocks
say, and both paths must give the same deltas, result and error.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_kit.core.chat.stream import StreamReducer, TextDelta, iter_deltas
from bedrock_kit.errors import BedrockKitError

_INDEX = st.sampled_from([0, 1, 2, True, -1])


def _text(index: Any, text: Any = "t") -> dict[str, Any]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": {"text": text}}}


_EVENT = st.one_of(
    st.just({"messageStart": {"role": "assistant"}}),
    st.builds(_text, _INDEX, st.sampled_from(["a", "", 3])),
    st.builds(
        lambda i: {
            "contentBlockDelta": {
                "contentBlockIndex": i,
                "delta": {"reasoningContent": {"text": "r"}},
            }
        },
        _INDEX,
    ),
    st.builds(
        lambda i: {
            "contentBlockDelta": {
                "contentBlockIndex": i,
                "delta": {"citation": {"title": "c"}},
            }
        },
        _INDEX,
    ),
    st.builds(
        lambda i: {
            "contentBlockStart": {
                "contentBlockIndex": i,
                "start": {"toolUse": {"toolUseId": "t", "name": "n"}},
            }
        },
        _INDEX,
    ),
    st.builds(
        lambda i: {"contentBlockStart": {"contentBlockIndex": i, "start": {"image": {}}}},
        _INDEX,
    ),
    st.builds(lambda i: {"contentBlockStop": {"contentBlockIndex": i}}, _INDEX),
    st.just({"messageStop": {"stopReason": "end_turn"}}),
    st.just({"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}}),
)


def _expected_open(reducer: StreamReducer) -> dict[int, list[str]]:
    if reducer._stop is not None:
        return {}
    return {
        index: block.text
        for index, block in reducer._blocks.items()
        if block.kind == "text" and index not in reducer._stopped
    }


class _Checked(StreamReducer):
    def text_delta(self, event: Any) -> TextDelta | None:
        return None


def _run(cls: type[StreamReducer], events: list[Any]) -> tuple[list[Any], Any]:
    reducer = cls("m", "us-east-1")
    out: list[Any] = []
    try:
        out.extend(iter_deltas(iter(events), reducer))
    except BedrockKitError as exc:
        return out, (type(exc), str(exc))
    return out, None


@settings(max_examples=300, deadline=None)
@given(st.lists(_EVENT, max_size=14))
def test_open_texts_match_the_blocks_after_every_event(events: list[Any]) -> None:
    reducer = StreamReducer("m", "us-east-1")
    for event in events:
        try:
            if reducer.text_delta(event) is None:
                reducer.handle(event)
        except BedrockKitError:
            break
        open_texts = reducer._open_texts
        assert open_texts == _expected_open(reducer)
        for index, texts in open_texts.items():
            assert texts is reducer._blocks[index].text  # the block's own list, extended
    assert _run(StreamReducer, events) == _run(_Checked, events)


def test_a_stopped_block_and_a_stopped_message_close_their_texts() -> None:
    reducer = StreamReducer("m")
    for event in ({"messageStart": {"role": "assistant"}}, _text(0, "a"), _text(1, "b")):
        reducer.handle(event)
    assert set(reducer._open_texts) == {0, 1}
    reducer.handle({"contentBlockStop": {"contentBlockIndex": 0}})
    assert set(reducer._open_texts) == {1}
    assert reducer.text_delta(_text(0, "late")) is None
    assert reducer.text_delta(_text(1, "c")) == TextDelta(1, "c")
    reducer.handle({"messageStop": {"stopReason": "end_turn"}})
    assert reducer._open_texts == {}
    assert reducer.text_delta(_text(1, "late")) is None
    assert reducer.partial_text == "abc"
