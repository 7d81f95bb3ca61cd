"""The lean transport's event-stream reading: botocore's buffer, headers decoded once.

``MemoEventStreamBuffer`` must give exactly what botocore's ``EventStreamBuffer`` gives
(messages, headers, payloads, errors) while decoding each distinct header block once; every
CRC check stays botocore's.
"""

from __future__ import annotations

import asyncio
import io
import struct

import pytest
from botocore.eventstream import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamBuffer,
    EventStreamHeaderParser,
)
from botocore.exceptions import EventStreamError

from bedrock_kit.core.transport import event_stream
from bedrock_kit.core.transport.event_stream import (
    MEMO_ENTRIES,
    MEMO_KEY_BYTES,
    LeanEventStream,
    MemoEventStreamBuffer,
    aiter_events,
)
from bedrock_kit.testing.eventstream import (
    corrupt,
    encode_event,
    encode_exception,
    encode_message,
)


def _deltas(n: int) -> list[bytes]:
    frames = [encode_event("messageStart", {"role": "assistant"})]
    frames += [
        encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f"t{i}"}})
        for i in range(n)
    ]
    frames.append(encode_event("messageStop", {"stopReason": "end_turn"}))
    return frames


def _read(buffer: EventStreamBuffer, data: bytes, piece: int = 7) -> list[tuple[dict, bytes]]:
    out = []
    for start in range(0, len(data), piece):
        buffer.add_data(data[start : start + piece])
        out += [(m.headers, m.payload) for m in buffer]
    return out


class _Counting(EventStreamHeaderParser):
    calls = 0

    def parse(self, data: bytes) -> dict:
        _Counting.calls += 1
        return super().parse(data)


def test_same_messages_as_botocore_and_headers_decoded_once(monkeypatch):
    data = b"".join(_deltas(200))
    expected = _read(EventStreamBuffer(), data)
    _Counting.calls = 0
    monkeypatch.setattr(event_stream, "EventStreamHeaderParser", _Counting)
    got = _read(MemoEventStreamBuffer(), data)
    assert got == expected
    assert len(got) == 202
    # Three distinct header blocks (messageStart, contentBlockDelta, messageStop).
    assert _Counting.calls == 3


def test_each_message_gets_its_own_headers_dict():
    buffer = MemoEventStreamBuffer()
    buffer.add_data(b"".join(_deltas(3)))
    messages = list(buffer)
    first, second = messages[1].headers, messages[2].headers
    assert first == second and first is not second
    first[":event-type"] = "tampered"
    assert messages[3].headers[":event-type"] == "contentBlockDelta"
    buffer.add_data(_deltas(1)[1])
    assert next(buffer).headers[":event-type"] == "contentBlockDelta"


def test_a_bad_crc_still_raises_after_its_headers_were_remembered():
    good, again = _deltas(2)[1:3]
    buffer = MemoEventStreamBuffer()
    buffer.add_data(good)
    assert next(buffer).headers[":event-type"] == "contentBlockDelta"
    buffer.add_data(corrupt(again))
    with pytest.raises(ChecksumMismatch):
        next(buffer)


def test_tampered_header_bytes_fail_the_message_crc_not_the_memo():
    frame = _deltas(1)[1]
    buffer = MemoEventStreamBuffer()
    buffer.add_data(frame)
    next(buffer)
    tampered = bytearray(frame)
    tampered[15] ^= 0x01  # inside ":event-type"'s name, bytes the memo has seen
    buffer.add_data(bytes(tampered))
    with pytest.raises(ChecksumMismatch):
        next(buffer)


def _raw_headers(*pairs: tuple[str, str]) -> bytes:
    out = b""
    for name, value in pairs:
        raw = value.encode()
        out += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    return out


def _frame(raw_headers: bytes, payload: bytes = b"{}") -> bytes:
    import zlib

    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def test_a_duplicate_header_raises_every_time_and_is_never_remembered():
    duplicated = _frame(_raw_headers((":event-type", "a"), (":event-type", "b")))
    buffer = MemoEventStreamBuffer()
    buffer.add_data(duplicated)
    for _ in range(2):  # the frame stays in the buffer: the second read decodes it again
        with pytest.raises(DuplicateHeader):
            next(buffer)
    assert buffer._header_parser._seen == {}


def test_the_memo_is_bounded_in_entries_and_key_size():
    buffer = MemoEventStreamBuffer()
    for i in range(MEMO_ENTRIES * 3):
        buffer.add_data(encode_message({":event-type": f"type{i}"}, b"{}"))
        assert next(buffer).headers == {":event-type": f"type{i}"}
    long_value = "x" * MEMO_KEY_BYTES
    buffer = MemoEventStreamBuffer()
    for _ in range(3):
        buffer.add_data(encode_message({":event-type": long_value}, b"{}"))
        assert next(buffer).headers == {":event-type": long_value}
    seen = buffer._header_parser._seen
    assert seen == {}
    full = MemoEventStreamBuffer()
    for i in range(MEMO_ENTRIES * 3):
        full.add_data(encode_message({":event-type": f"type{i}"}, b"{}"))
        next(full)
    assert len(full._header_parser._seen) == MEMO_ENTRIES


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self):
        body = io.BytesIO(self._data)
        while chunk := body.read(5):
            yield chunk


class _Parser:
    def parse(self, response: dict, shape: object) -> dict:
        return {"headers": dict(response["headers"]), "status": response["status_code"]}


def test_lean_event_stream_raises_eventstreamerror_on_an_exception_message():
    data = _deltas(2)[0] + encode_exception("throttlingException", "slow down")
    stream = LeanEventStream(_Raw(data), None, _Parser(), "ConverseStream")
    events = iter(stream)
    assert next(events)["headers"][":event-type"] == "messageStart"
    with pytest.raises(EventStreamError):
        next(events)


def test_async_events_match_the_sync_stream():
    data = b"".join(_deltas(20))
    sync = list(LeanEventStream(_Raw(data), None, _Parser(), "ConverseStream"))

    async def chunks():
        for start in range(0, len(data), 11):
            yield data[start : start + 11]

    async def collect() -> list[dict]:
        return [e async for e in aiter_events(chunks(), _Parser().parse, None, "ConverseStream")]

    assert asyncio.run(collect()) == sync
    assert len(sync) == 22
