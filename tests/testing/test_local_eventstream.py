"""The event-stream encoder round-trips through botocore's own decoder."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from bedrock_kit.testing import Reply, build_frames
from bedrock_kit.testing._routes import route_for
from bedrock_kit.testing.eventstream import (
    corrupt,
    encode_error,
    encode_event,
    encode_exception,
    encode_message,
)


def decode(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_event_frame_round_trips_headers_and_json_payload() -> None:
    frame = encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}})
    (message,) = decode(frame)
    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == {"contentBlockIndex": 0, "delta": {"text": "hé"}}


def test_many_frames_in_one_buffer_decode_in_order() -> None:
    data = b"".join(encode_event("e", {"i": i}) for i in range(50))
    assert [json.loads(m.payload)["i"] for m in decode(data)] == list(range(50))


def test_bytes_members_are_base64_in_the_payload() -> None:
    (message,) = decode(encode_event("chunk", {"bytes": b"\x00hi"}))
    assert base64.b64decode(json.loads(message.payload)["bytes"]) == b"\x00hi"


def test_exception_frame_headers() -> None:
    (message,) = decode(encode_exception("throttlingException", "slow down"))
    assert message.headers[":message-type"] == "exception"
    assert message.headers[":exception-type"] == "throttlingException"
    assert json.loads(message.payload) == {"message": "slow down"}


def test_error_frame_headers() -> None:
    (message,) = decode(encode_error("InternalFailure", "boom"))
    assert message.headers[":message-type"] == "error"
    assert message.headers[":error-code"] == "InternalFailure"
    assert message.payload == b""


def test_corrupted_frame_fails_the_message_checksum() -> None:
    with pytest.raises(ChecksumMismatch):
        decode(corrupt(encode_event("e", {"a": 1})))


def test_empty_frame_cannot_be_corrupted() -> None:
    with pytest.raises(ValueError, match="neither headers nor payload"):
        corrupt(encode_message({}, b""))


def test_oversized_header_value_is_rejected() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_message({"x": "y" * 40000}, b"")


def test_build_frames_applies_exception_and_corruption() -> None:
    events = [{"messageStart": {"role": "assistant"}}, {"messageStop": {"stopReason": "end_turn"}}]
    model = route_for("ConverseStream").operation_model
    reply = Reply.events(events, exception_at=(1, "modelStreamErrorException", "x"))
    frames = build_frames(reply, model)
    assert [m.headers.get(":exception-type") for m in decode(b"".join(frames))] == [
        None,
        "modelStreamErrorException",
    ]
    frames = build_frames(Reply.events(events, corrupt_frame=1), model)
    assert len(decode(frames[0])) == 1
    with pytest.raises(ChecksumMismatch):
        decode(frames[1])


def test_modeled_exception_event_in_the_list_becomes_an_exception_frame() -> None:
    model = route_for("ConverseStream").operation_model
    reply = Reply.events([{"throttlingException": {"message": "slow"}}])
    (message,) = decode(build_frames(reply, model)[0])
    assert message.headers[":message-type"] == "exception"
    assert message.headers[":exception-type"] == "throttlingException"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"truncate_after": 5},
        {"corrupt_frame": 2},
        {"exception_at": (3, "throttlingException", "x")},
        {"delay": -1},
    ],
)
def test_fault_options_out_of_range_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Reply.events([{"a": {}}, {"b": {}}], **kwargs)


def test_events_must_be_one_key_mappings() -> None:
    with pytest.raises(ValueError, match=r"events\[0\]"):
        Reply.events([{"a": {}, "b": {}}])
