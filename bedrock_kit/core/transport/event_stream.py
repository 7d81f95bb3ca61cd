"""Event-stream reading around botocore's :class:`~botocore.eventstream.EventStreamBuffer`.

botocore's buffer frames each message, checks its prelude and message CRCs and decodes its
headers with a pure-Python parser: about 60 function calls per message for the three
headers every ConverseStream event carries (``:event-type``, ``:content-type``,
``:message-type``), while a stream repeats the same few header byte strings hundreds of
times. :class:`MemoEventStreamBuffer` is botocore's buffer with a header parser that
remembers what it decoded, keyed on the raw header bytes. The buffer checks the message
CRC (which covers the header bytes) before it parses the headers, so a remembered decoding
is only ever reused for bytes that passed botocore's checks; a header block botocore
refuses (duplicate names, unknown types, bad lengths) raises as before and is never
remembered. Each message still gets its own headers dict.

:class:`LeanEventStream` is botocore's sync ``EventStream`` over that buffer, with the
per-event parse inlined in its iterator; :func:`aiter_events` is the same loop for aiohttp.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from botocore.eventstream import EventStream, EventStreamBuffer, EventStreamHeaderParser
from botocore.exceptions import EventStreamError

if TYPE_CHECKING:  # botocore-stubs make EventStream generic; botocore's class is not
    _EventStream = EventStream[dict[str, Any]]
else:
    _EventStream = EventStream

MEMO_ENTRIES = 32
"""Distinct header blocks remembered per stream (ConverseStream uses about six)."""
MEMO_KEY_BYTES = 512
"""Longer header blocks are decoded every time, never remembered."""


class _MemoHeaderParser:
    """botocore's header parser, remembering the decoding of header bytes it has seen."""

    __slots__ = ("_parser", "_seen")

    def __init__(self) -> None:
        self._parser = EventStreamHeaderParser()
        self._seen: dict[bytes, dict[str, Any]] = {}

    def parse(self, data: bytes) -> dict[str, Any]:
        """The headers in ``data``, as ``EventStreamHeaderParser.parse`` returns them."""
        seen = self._seen.get(data) if type(data) is bytes else None
        if seen is None:
            headers: dict[str, Any] = self._parser.parse(data)
            if (
                type(data) is bytes
                and len(data) <= MEMO_KEY_BYTES
                and len(self._seen) < MEMO_ENTRIES
            ):
                # Values are str, int, bool or bytes (immutable): a shallow copy suffices.
                self._seen[data] = dict(headers)
            return headers
        return dict(seen)


class MemoEventStreamBuffer(EventStreamBuffer):
    """botocore's ``EventStreamBuffer`` whose header decoding is remembered per stream."""

    def __init__(self) -> None:
        super().__init__()
        self._header_parser = _MemoHeaderParser()


class LeanEventStream(_EventStream):
    """botocore's ``EventStream`` read through :class:`MemoEventStreamBuffer`.

    Same events, same ``EventStreamError`` for an exception message, same ``close`` and
    ``get_initial_response`` (inherited).
    """

    # Set by botocore's EventStream.__init__.
    _raw_stream: Any
    _parser: Any
    _output_shape: Any
    _operation_name: str
    _event_generator: Iterator[Any]

    def _create_raw_event_generator(self) -> Iterator[Any]:
        buffer = MemoEventStreamBuffer()
        for chunk in self._raw_stream.stream():
            buffer.add_data(chunk)
            yield from buffer

    def __iter__(self) -> Iterator[dict[str, Any]]:
        parse = self._parser.parse
        shape = self._output_shape
        for message in self._event_generator:
            response = message.to_response_dict()
            parsed = parse(response, shape)
            if response["status_code"] != 200:
                raise EventStreamError(parsed, self._operation_name)
            if parsed:
                yield parsed


async def aiter_events(
    chunks: Any, parse: Any, shape: Any, operation_name: str
) -> AsyncIterator[dict[str, Any]]:
    """Events of the byte chunks of an async iterator, as :class:`LeanEventStream` gives."""
    buffer = MemoEventStreamBuffer()
    async for chunk in chunks:
        buffer.add_data(chunk)
        for message in buffer:
            response = message.to_response_dict()
            parsed = parse(response, shape)
            if response["status_code"] != 200:
                raise EventStreamError(parsed, operation_name)
            if parsed:
                yield parsed
