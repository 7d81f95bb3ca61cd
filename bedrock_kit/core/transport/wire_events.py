"""Reading a Bedrock event stream through the wire rule of :mod:`.wire`.

:func:`event_stream_of` checks a streaming response before any read (its content type, its
stream member), :func:`released_on_error` closes the connection when such a check refuses
it, and :func:`read_events` / :func:`aread_events` type what botocore raises on a payload it
cannot decode.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from bedrock_kit.core.transport.wire import WireReader

__all__ = [
    "EVENT_STREAM_CONTENT_TYPE",
    "aclose_events",
    "aread_events",
    "event_stream_of",
    "read_events",
    "released_on_error",
    "undecodable",
]

_T = TypeVar("_T")

_UNDECODABLE = "an event-stream payload botocore could not decode"
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def event_stream_of(response: Any, key: str, reader: WireReader) -> Any:
    """The event stream under ``key`` of a botocore response, checked before any read.

    A 200 whose content type says it is not an event stream (an HTML page from a captive
    proxy, a JSON body) is refused here: botocore would read it as frames and fail on a
    checksum, or yield nothing, and the call would look cut short rather than malformed.
    """
    meta = response.get("ResponseMetadata") if isinstance(response, Mapping) else None
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    content_type = headers.get("content-type") if isinstance(headers, Mapping) else None
    if content_type and not str(content_type).startswith(EVENT_STREAM_CONTENT_TYPE):
        raise reader.malformed(f"HTTP 200 with content-type {content_type!r}, not an event stream")
    events = response.get(key) if isinstance(response, Mapping) else None
    if events is None:
        raise reader.malformed(f"it has no {key!r} event stream", response)
    return events


class _Released:
    """:func:`released_on_error`'s context manager (a class: entered on every stream)."""

    def __init__(self, response: Any) -> None:
        self.response = response

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            _close_streams(self.response)


def released_on_error(response: Any) -> _Released:
    """Close the response's open bodies and event streams when checking it fails.

    The headers and top-level members of a streaming response are checked before its
    stream is read (:func:`event_stream_of`, an ``executionId``, a ``sessionId``): a refusal
    there must not leave the connection open until garbage collection (urllib3 would lose
    the pool slot, aiohttp would warn of an unclosed response, a telemetry span would end
    late). Every close is synchronous for botocore, aiobotocore and the lean transport.
    """
    return _Released(response)


def _close_streams(response: Any) -> None:
    if not isinstance(response, Mapping):
        return
    for key, value in response.items():
        close = None if key == "ResponseMetadata" else getattr(value, "close", None)
        if not callable(close):
            continue
        try:
            result = close()
        except Exception:  # the refusal being raised is what the caller needs
            continue
        if inspect.iscoroutine(result):  # pragma: no cover - no known stream closes async
            result.close()


def _botocore_parse_errors() -> tuple[type[Exception], ...]:
    # botocore raises this for a union with no member or two members set, among others.
    from botocore.parsers import ResponseParserError

    return (ResponseParserError,)


def undecodable(reader: WireReader) -> AbstractContextManager[Any]:
    """The guard :func:`read_events` enters when the stream's ``next()`` raises.

    For a loop that reads an event stream itself (one generator less per event): enter it
    around a bare ``raise`` in the ``except`` of that ``next()`` only.
    """
    return reader.guard(_UNDECODABLE, _botocore_parse_errors())


def read_events(events: Iterable[_T], reader: WireReader) -> Iterator[_T]:
    """Iterate a botocore event stream; its bare decoding errors become the typed error.

    botocore decodes each event payload itself: a payload that is a JSON array or string
    makes it raise ``AttributeError``, one nested too deep ``RecursionError``, invalid
    UTF-8 ``UnicodeDecodeError``. Only the stream's own ``next()`` runs under the guard,
    never the consumer's code.
    """
    iterator = iter(events)
    while True:
        # The guard is entered only on an error: a context manager per event costs more
        # than the event's own parsing.
        try:
            event = next(iterator)
        except StopIteration:
            return
        except Exception:
            with undecodable(reader):
                raise
        yield event


async def aread_events(events: AsyncIterable[_T], reader: WireReader) -> AsyncIterator[_T]:
    """Async :func:`read_events`."""
    iterator = aiter(events)
    while True:
        try:
            event = await anext(iterator)
        except StopAsyncIteration:
            return
        except Exception:
            with undecodable(reader):
                raise
        yield event


async def aclose_events(events: Any) -> None:
    """Close an async event stream after reading (or abandoning) it.

    aiobotocore's event stream has no ``close()`` in some versions; its raw stream does.
    The lean transport's and aiobotocore's closes are synchronous; an awaitable one is
    awaited.
    """
    close = getattr(events, "close", None) or getattr(
        getattr(events, "_raw_stream", None), "close", None
    )
    if close is not None:
        value = close()
        if inspect.isawaitable(value):
            await value
