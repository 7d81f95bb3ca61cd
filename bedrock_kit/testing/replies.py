"""Scripted responses for :class:`~bedrock_kit.testing.LocalBedrock`, faults included.

A :class:`Reply` is inert data: the server turns it into bytes on the wire when it answers
the request the reply was scripted for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bedrock_kit.testing import _routes
from bedrock_kit.testing.eventstream import corrupt, dump_json, encode_event, encode_exception

ReplyKind = Literal["json", "events", "raw", "reset"]
EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _check_delay(name: str, value: float) -> float:
    if not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _check_events(events: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    for index, event in enumerate(events):
        if not isinstance(event, Mapping) or len(event) != 1:
            raise ValueError(
                f"events[{index}] must be a one-key mapping {{eventName: members}}, got {event!r}"
            )
    return tuple(events)


@dataclass(frozen=True)
class Reply:
    """One scripted response. Build it with the class-method constructors."""

    kind: ReplyKind
    """``json`` and ``raw`` send a body, ``events`` an event stream, ``reset`` cuts the line."""
    status: int = 200
    """HTTP status code."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers (``x-amzn-RequestId`` and ``Date`` are always added)."""
    body: bytes = b""
    """Response body for ``json`` and ``raw`` replies."""
    stream_events: tuple[Mapping[str, Any], ...] = ()
    """Events ``{eventName: members}`` of an ``events`` reply, in order."""
    delay: float = 0.0
    """Seconds to wait before answering, on top of the server's ``latency``."""
    delay_between: float = 0.0
    """Seconds to wait between event frames."""
    truncate_after: int | None = None
    """Frames sent before the connection is cut mid-stream (no closing chunk)."""
    corrupt_frame: int | None = None
    """Index of the frame whose message CRC is broken."""
    exception_at: tuple[int, str, str] | None = None
    """``(index, exceptionType, message)``: an exception frame there, ending the stream."""
    after_bytes: int | None = None
    """For ``reset``: body bytes of ``cut`` sent before the reset; None resets at once."""
    cut: Reply | None = None
    """For ``reset`` with ``after_bytes``: the reply whose response is cut short."""

    # -- constructors

    @classmethod
    def json(
        cls,
        body: Mapping[str, Any],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """A JSON response (bytes values are sent base64-encoded, as AWS does for blobs).

        Args:
            body: The JSON document.
            status: HTTP status.
            headers: Extra headers.
            delay: Seconds to wait before answering.
        """
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(
            "json",
            status=status,
            headers=merged,
            body=dump_json(dict(body)),
            delay=_check_delay("delay", delay),
        )

    @classmethod
    def error(
        cls,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An AWS error as Bedrock sends it: ``{"message": ...}`` plus ``x-amzn-ErrorType``.

        Args:
            status: HTTP status (429, 500, 503...).
            code: The error code botocore reports, e.g. ``ThrottlingException``.
            message: The error message.
            headers: Extra headers.
            delay: Seconds to wait before answering.
        """
        merged = {"x-amzn-ErrorType": code, **(headers or {})}
        return cls.json({"message": message}, status=status, headers=merged, delay=delay)

    @classmethod
    def raw(
        cls, status: int, headers: Mapping[str, str], body: bytes, *, delay: float = 0.0
    ) -> Reply:
        """Exactly these headers and body bytes (``Content-Length`` is computed).

        Args:
            status: HTTP status.
            headers: Response headers.
            body: Response body.
            delay: Seconds to wait before answering.
        """
        return cls(
            "raw",
            status=status,
            headers=dict(headers),
            body=bytes(body),
            delay=_check_delay("delay", delay),
        )

    @classmethod
    def events(
        cls,
        events: Sequence[Mapping[str, Any]],
        *,
        delay: float = 0.0,
        delay_between: float = 0.0,
        truncate_after: int | None = None,
        corrupt_frame: int | None = None,
        exception_at: tuple[int, str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An ``application/vnd.amazon.eventstream`` response sent with chunked transfer.

        Args:
            events: ``{eventName: members}`` mappings; a modeled exception name
                (``throttlingException``) is sent as an exception frame.
            delay: Seconds to wait before the response headers.
            delay_between: Seconds between frames.
            truncate_after: Frames sent before the connection is cut.
            corrupt_frame: Index of a frame sent with a broken CRC.
            exception_at: ``(index, exceptionType, message)``; the exception frame takes
                that position and ends the stream.
            headers: Extra headers.
        """
        checked = _check_events(events)
        frames = len(checked)
        if exception_at is not None:
            index = exception_at[0]
            if not 0 <= index <= len(checked):
                raise ValueError(f"exception_at index must be in 0..{len(checked)}, got {index}")
            frames = index + 1
        for name, value in (("truncate_after", truncate_after), ("corrupt_frame", corrupt_frame)):
            if value is not None and not 0 <= value < frames + (name == "truncate_after"):
                raise ValueError(f"{name} must index one of the {frames} frames, got {value}")
        merged = {"Content-Type": EVENTSTREAM_CONTENT_TYPE, **(headers or {})}
        return cls(
            "events",
            headers=merged,
            stream_events=checked,
            delay=_check_delay("delay", delay),
            delay_between=_check_delay("delay_between", delay_between),
            truncate_after=truncate_after,
            corrupt_frame=corrupt_frame,
            exception_at=exception_at,
        )

    @classmethod
    def reset(
        cls, after_bytes: int | None = None, *, reply: Reply | None = None, delay: float = 0.0
    ) -> Reply:
        """Reset the TCP connection (RST), optionally after part of a response.

        Args:
            after_bytes: None resets before any response byte; N sends the status line and
                headers of ``reply`` and then N bytes of its body.
            reply: The response to cut short; defaults to the operation's default reply.
            delay: Seconds to wait before acting.
        """
        if after_bytes is not None and (not isinstance(after_bytes, int) or after_bytes < 0):
            raise ValueError(f"after_bytes must be an int >= 0, got {after_bytes!r}")
        if reply is not None and reply.kind == "reset":
            raise ValueError("reply must be a response, not another reset")
        return cls("reset", after_bytes=after_bytes, cut=reply, delay=_check_delay("delay", delay))


def build_frames(reply: Reply, operation_model: Any = None) -> list[bytes]:
    """The event-stream frames of an ``events`` reply, faults applied except truncation.

    Args:
        reply: An ``events`` reply.
        operation_model: botocore operation the reply answers; it tells which event names
            are modeled exceptions.

    Returns:
        Encoded frames, in sending order.
    """
    exceptions = _routes.exception_events(operation_model) if operation_model else frozenset()
    frames: list[bytes] = []
    for index, event in enumerate(reply.stream_events):
        if reply.exception_at is not None and index == reply.exception_at[0]:
            break
        ((name, members),) = event.items()
        if name in exceptions:
            frames.append(encode_exception(name, members))
        else:
            frames.append(encode_event(name, members))
    if reply.exception_at is not None:
        _, exception_type, message = reply.exception_at
        frames.append(encode_exception(exception_type, message))
    if reply.corrupt_frame is not None:
        frames[reply.corrupt_frame] = corrupt(frames[reply.corrupt_frame])
    return frames
