"""Encoder for ``application/vnd.amazon.eventstream`` frames, as Bedrock sends them.

A frame is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
headers, the payload and a CRC32 of everything before it. Only string headers are needed for
Bedrock's response streams, so only those are written.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_STRING_HEADER = 7  # event-stream header value type for UTF-8 strings
_MAX_HEADER_VALUE = 0x7FFF


def _crc(data: bytes, start: int = 0) -> int:
    return zlib.crc32(data, start) & 0xFFFFFFFF


def _encode_headers(headers: Mapping[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        if len(raw_name) > 255 or len(raw_value) > _MAX_HEADER_VALUE:
            raise ValueError(f"event-stream header {name!r} is too long")
        out += bytes([len(raw_name)]) + raw_name
        out += bytes([_STRING_HEADER]) + struct.pack(">H", len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream frame with correct prelude and message CRCs.

    Args:
        headers: String headers, in order.
        payload: Raw payload bytes.

    Returns:
        The encoded frame.
    """
    raw_headers = _encode_headers(headers)
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    prelude_crc = _CRC.pack(_crc(prelude))
    body = prelude + prelude_crc + raw_headers + payload
    return body + _CRC.pack(_crc(body))


def _json_default(value: Any) -> Any:
    # Blob members travel base64-encoded in JSON payloads (InvokeAgent chunk.bytes).
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} in an event payload")


def dump_json(value: Any) -> bytes:
    """Compact JSON as AWS sends it; bytes become base64 strings."""
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode("utf-8")


def encode_event(event_type: str, payload: Mapping[str, Any] | bytes) -> bytes:
    """An ``event`` frame; a mapping payload is sent as JSON.

    Args:
        event_type: The ``:event-type`` header (``messageStart``, ``chunk``...).
        payload: The event's members, or raw bytes for ``eventpayload`` blob members.

    Returns:
        The encoded frame.
    """
    body = payload if isinstance(payload, bytes) else dump_json(payload)
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, body)


def encode_exception(exception_type: str, payload: str | Mapping[str, Any]) -> bytes:
    """An ``exception`` frame (botocore raises it as ``EventStreamError``).

    Args:
        exception_type: The ``:exception-type`` header, e.g. ``throttlingException``.
        payload: The message, or all members of the exception (``message``,
            ``originalStatusCode``...).

    Returns:
        The encoded frame.
    """
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    members = {"message": payload} if isinstance(payload, str) else payload
    return encode_message(headers, dump_json(members))


def encode_error(error_code: str, message: str) -> bytes:
    """An ``error`` frame (the service-side form without a modeled exception type)."""
    headers = {":error-code": error_code, ":error-message": message, ":message-type": "error"}
    return encode_message(headers, b"")


def corrupt(frame: bytes) -> bytes:
    """The frame with one byte before the message CRC flipped, so that CRC no longer matches.

    The prelude is left intact, so a decoder reads the whole frame and then fails its
    checksum instead of waiting for bytes that never come.
    """
    if len(frame) <= _PRELUDE.size + 2 * _CRC.size:
        raise ValueError("frame has neither headers nor payload to corrupt")
    index = len(frame) - _CRC.size - 1
    return frame[:index] + bytes([frame[index] ^ 0xFF]) + frame[index + 1 :]
