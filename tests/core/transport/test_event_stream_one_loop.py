"""The lean event stream's one loop and fast decoder give exactly botocore's events.

:class:`LeanEventStream` reads, frames and parses in one loop and asks the lean
``EventParser.event_decoder`` first; botocore's ``EventStream`` over botocore's
``EventStreamBuffer`` and ``parser.parse`` is the reference. Checked here: every message of
fuzzed and recorded streams decodes to botocore's event or is declined (never a different
answer), byte chunkings that split preludes anywhere give the same events, a loop left
early and a new one continue where the first stopped, ``get_initial_response`` still reads
the first message, and the async loop gives what the sync one gives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.eventstream import EventStream, EventStreamBuffer, NoInitialResponseError
from botocore.exceptions import EventStreamError
from botocore.parsers import create_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.transport.event_stream import LeanEventStream, aiter_events, fast_decoder
from bedrock_kit.core.transport.lean import lean_client_from_botocore
from bedrock_kit.testing.conformance import load_recordings
from bedrock_kit.testing.eventstream import encode_event, encode_exception, encode_message
from tests.core.transport.shapes_support import service_model, wire_strategy

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
_FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _parser() -> Any:
    client = boto3.session.Session(region_name="us-east-1", **KEYS).client("bedrock-runtime")
    return lean_client_from_botocore(client)._core.events


@cache
def _shape() -> Any:
    output = service_model("bedrock-runtime").operation_model("ConverseStream").output_shape
    return output.members[output.serialization["payload"]]


class _Raw:
    """An unread body handing its bytes over in the given chunk sizes (cycled)."""

    def __init__(self, data: bytes, sizes: list[int] | None = None) -> None:
        self._data = data
        self._sizes = sizes or [7]
        self.reads = 0

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        offset = 0
        while offset < len(self._data):
            size = self._sizes[self.reads % len(self._sizes)]
            piece = self._data[offset : offset + size]
            offset += len(piece)
            self.reads += 1
            yield piece

    def close(self) -> None:
        pass


def _outcome(stream: Any) -> list[Any]:
    out: list[Any] = []
    try:
        out.extend(stream)
    except Exception as exc:
        out.append((type(exc).__name__, getattr(exc, "response", None) or str(exc)))
    return out


def _botocore_parser() -> Any:
    """The event parser botocore's rest-json parser hands its ``EventStream``."""
    return create_parser("rest-json")._event_stream_parser


def _reference(data: bytes, sizes: list[int] | None = None) -> EventStream[Any]:
    return EventStream(_Raw(data, sizes), _shape(), _botocore_parser(), "ConverseStream")


def _lean(data: bytes, sizes: list[int] | None = None) -> LeanEventStream:
    return LeanEventStream(_Raw(data, sizes), _shape(), _parser(), "ConverseStream")


def _messages(data: bytes) -> list[Any]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def _events(n: int) -> list[bytes]:
    frames = [encode_event("messageStart", {"role": "assistant"})]
    frames += [
        encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f"t{i}"}})
        for i in range(n)
    ]
    frames.append(encode_event("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(encode_event("messageStop", {"stopReason": "end_turn"}))
    frames.append(encode_event("metadata", {"usage": {"inputTokens": 1, "outputTokens": 2}}))
    return frames


def _fuzzed_frame() -> Any:
    stream = _shape()
    events = {n: m for n, m in stream.members.items() if not m.metadata.get("exception")}
    errors = [n for n, m in stream.members.items() if m.metadata.get("exception")]
    headers = {":content-type": "application/json", ":message-type": "event"}
    return st.one_of(
        [
            wire_strategy(member).map(
                lambda doc, name=name: encode_message(
                    {":event-type": name, **headers}, json.dumps(doc).encode()
                )
            )
            for name, member in events.items()
        ]
        + [st.sampled_from(errors).map(lambda n: encode_exception(n, "boom"))]
        + [
            st.sampled_from(
                [
                    encode_message({":event-type": "futureEvent", **headers}, b"{}"),
                    encode_message({":event-type": "contentBlockDelta", **headers}, b""),
                    encode_message({":event-type": "contentBlockDelta", **headers}, b"[1]"),
                    encode_message({":event-type": "contentBlockDelta", **headers}, b" {} "),
                    encode_message({":event-type": "contentBlockDelta", **headers}, b"{}{}"),
                    encode_message({":event-type": "messageStop", **headers}, b"\xff"),
                    encode_message({":event-type": "metadata"}, b'{"usage": {}}'),
                    encode_message({":message-type": "error", ":error-code": "E"}, b""),
                ]
            )
        ]
    )


@_FUZZ
@given(st.lists(_fuzzed_frame(), max_size=6))
def test_fast_decoder_gives_botocores_event_or_declines(frames: list[bytes]) -> None:
    decode = fast_decoder(_parser(), _shape())
    assert decode is not None
    reference = _botocore_parser()
    for message in _messages(b"".join(frames)):
        fast = decode(message.headers, message.payload)
        if fast is None:
            continue
        assert fast == reference.parse(message.to_response_dict(), _shape())


@_FUZZ
@given(
    st.lists(_fuzzed_frame(), max_size=6),
    st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=5),
)
def test_lean_stream_gives_botocores_events_for_any_chunking(
    frames: list[bytes], sizes: list[int]
) -> None:
    data = b"".join(frames)
    assert _outcome(_lean(data, sizes)) == _outcome(_reference(data, sizes))


def test_common_events_take_the_fast_decoder() -> None:
    decode = fast_decoder(_parser(), _shape())
    assert decode is not None
    messages = _messages(b"".join(_events(3)))
    assert all(decode(m.headers, m.payload) is not None for m in messages)
    exception = _messages(encode_exception("throttlingException", "slow"))[0]
    assert decode(exception.headers, exception.payload) is None


def test_recorded_converse_streams_read_as_botocore() -> None:
    recordings = [
        interaction
        for recording in load_recordings()
        for interaction in recording.interactions
        if interaction.operation == "ConverseStream" and interaction.status < 300
    ]
    if not recordings:
        pytest.skip("shared conformance recordings absent")
    decode = fast_decoder(_parser(), _shape())
    assert decode is not None
    fast = 0
    for interaction in recordings:
        data = interaction.body_bytes
        for sizes in ([len(data) or 1], [1], [13, 200, 5]):
            assert _outcome(_lean(data, sizes)) == _outcome(_reference(data, sizes))
        fast += sum(decode(m.headers, m.payload) is not None for m in _messages(data))
    assert fast > 0


def test_a_loop_left_early_and_a_new_one_continue_as_botocore() -> None:
    data = b"".join(_events(6))
    for sizes in ([1], [7], [len(data)], [200, 3]):
        lean, reference = _lean(data, sizes), _reference(data, sizes)
        got: list[Any] = []
        expected: list[Any] = []
        for stream, out in ((lean, got), (reference, expected)):
            for taken, event in enumerate(stream):
                out.append(event)
                if taken == 2:
                    break
            out.append("--")
            out.extend(stream)
            out.append("--")
            out.extend(stream)  # exhausted: nothing more
        assert got == expected
        assert len(got) == 10 + 2  # every event once, and the two marks


def test_get_initial_response_reads_the_first_message_as_botocore() -> None:
    initial = encode_message(
        {":event-type": "initial-response", ":message-type": "event"}, b'{"a": 1}'
    )
    data = initial + b"".join(_events(2))
    for sizes in ([3], [len(data)]):
        lean, reference = _lean(data, sizes), _reference(data, sizes)
        assert lean.get_initial_response().payload == reference.get_initial_response().payload
        assert list(lean) == list(reference)
    no_initial = b"".join(_events(2))
    lean, reference = _lean(no_initial), _reference(no_initial)
    with pytest.raises(NoInitialResponseError):
        lean.get_initial_response()
    with pytest.raises(NoInitialResponseError):
        reference.get_initial_response()
    assert list(lean) == list(reference)  # botocore's rule: the first message is gone


def test_exception_message_raises_eventstreamerror_after_the_events_before_it() -> None:
    data = b"".join(_events(2)[:3]) + encode_exception("throttlingException", "slow down")
    lean = iter(_lean(data, [11]))
    assert [next(lean) for _ in range(3)] == list(_reference(b"".join(_events(2)[:3])))
    with pytest.raises(EventStreamError) as caught:
        next(lean)
    assert caught.value.response["Error"]["Code"] == "throttlingException"


@pytest.mark.parametrize("sizes", [[1], [9], [64, 3], [100_000]])
def test_async_loop_gives_the_sync_events(sizes: list[int]) -> None:
    data = b"".join(_events(5)) + encode_exception("modelStreamErrorException", "cut")

    async def collect() -> list[Any]:
        async def chunks() -> Any:
            for chunk in _Raw(data, sizes).stream():
                yield chunk

        out: list[Any] = []
        parser = _parser()
        decode = fast_decoder(parser, _shape())
        try:
            async for event in aiter_events(
                chunks(), parser.parse, _shape(), "ConverseStream", decode
            ):
                out.append(event)
        except Exception as exc:
            out.append((type(exc).__name__, getattr(exc, "response", None) or str(exc)))
        return out

    expected = _outcome(_reference(data, sizes))
    assert asyncio.run(collect()) == expected
    assert expected[-1][0] == "EventStreamError"
    assert len(expected) == 5 + 5


def test_header_memo_is_looked_up_in_the_buffer_for_this_botocore() -> None:
    from botocore.eventstream import EventStreamBuffer as Botocore

    from bedrock_kit.core.transport import event_stream

    assert event_stream._buffer_layout_known()
    assert event_stream.MemoEventStreamBuffer._parse_headers is not Botocore._parse_headers
    buffer = event_stream.MemoEventStreamBuffer()
    decoded: list[bytes] = []
    parse = buffer._header_parser._parser.parse
    buffer._header_parser._parser.parse = lambda data: decoded.append(data) or parse(data)
    frames = _events(3)
    for frame in frames:
        buffer.add_data(frame)
    reference = Botocore()
    reference.add_data(b"".join(frames))
    got, expected = list(buffer), list(reference)
    assert [(m.headers, m.payload) for m in got] == [(m.headers, m.payload) for m in expected]
    assert got[1].headers is not got[2].headers  # each message its own dict
    assert len(got) == 7
    assert len(decoded) == len(buffer._seen) == 5  # each distinct header block once


def test_a_parser_replaced_after_the_call_parses_as_with_botocore() -> None:
    """The flows runtime wraps ``events._parser`` after the call: the loop must use it."""

    class Marking:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def parse(self, response: Any, shape: Any) -> Any:
            parsed = self._inner.parse(response, shape)
            return parsed or {"unknown": response["headers"].get(":event-type")}

    data = b"".join(_events(1)) + encode_message(
        {":event-type": "futureEvent", ":message-type": "event"}, b"{}"
    )
    lean, reference = _lean(data), _reference(data)
    lean._parser = Marking(lean._parser)
    reference._parser = Marking(reference._parser)
    got = list(lean)
    assert got == list(reference)
    assert got[-1] == {"unknown": "futureEvent"}
