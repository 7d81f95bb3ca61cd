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

:class:`LeanEventStream` is botocore's sync ``EventStream`` over that buffer, reading,
framing and parsing in one loop; :func:`aiter_events` is the same loop for aiohttp. Both
ask the parser's fast decoder first (the lean transport's ``EventParser.event_decoder``:
the common event messages decoded from their headers and payload) and take botocore's way
(``parse(message.to_response_dict(), shape)``) for whatever it declines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import botocore.eventstream
from botocore.eventstream import (
    EventStream,
    EventStreamBuffer,
    EventStreamHeaderParser,
    MessagePrelude,
)
from botocore.exceptions import EventStreamError

if TYPE_CHECKING:  # botocore-stubs make EventStream generic; botocore's class is not
    _EventStream = EventStream[dict[str, Any]]
else:
    _EventStream = EventStream

_PRELUDE = 12
"""botocore's ``_PRELUDE_LENGTH``: total length, headers length, prelude CRC."""
MEMO_ENTRIES = 32
"""Distinct header blocks remembered per stream (ConverseStream uses about six)."""
MEMO_KEY_BYTES = 512
"""Longer header blocks are decoded every time, never remembered."""


def _buffer_layout_known() -> bool:
    """Whether botocore's buffer still keeps its bytes and prelude where this module reads
    them (``_data``, ``_prelude.headers_length``, ``_parse_headers``); if not, only the
    header parser is replaced, which botocore's own ``_parse_headers`` calls."""
    buffer = EventStreamBuffer()
    return (
        getattr(botocore.eventstream, "_PRELUDE_LENGTH", None) == _PRELUDE
        and callable(getattr(buffer, "_parse_headers", None))
        and getattr(buffer, "_data", None) == b""
        and hasattr(buffer, "_prelude")
        and "headers_length" in MessagePrelude(0, 0, 0).__dict__
    )


_BUFFER_LAYOUT_KNOWN = _buffer_layout_known()


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

    # Set by botocore's EventStreamBuffer.
    _data: bytes
    _prelude: Any

    def __init__(self) -> None:
        super().__init__()
        self._header_parser = _MemoHeaderParser()
        self._seen = self._header_parser._seen

    if _BUFFER_LAYOUT_KNOWN:

        def _parse_headers(self) -> dict[str, Any]:
            # botocore's own step (the bytes after the prelude, as long as the prelude
            # says, to the header parser), with the memo looked up here: two calls less per
            # message. botocore calls it after both CRC checks, as it calls its parser.
            data = self._data[_PRELUDE : _PRELUDE + self._prelude.headers_length]
            seen = self._seen.get(data) if type(data) is bytes else None
            if seen is None:
                return self._header_parser.parse(data)
            return dict(seen)


FastDecode = Callable[[Any, bytes], "dict[str, Any] | None"] | None
"""``decode(headers, payload)``: an event, or None to take botocore's way."""


def fast_decoder(parser: Any, shape: Any) -> FastDecode:
    """The parser's fast decoder for ``shape``'s events, when it has one."""
    make = getattr(parser, "event_decoder", None)
    return None if make is None else make(shape)


class _Decoder:
    """One stream's message-to-event step, the same for the sync and the async loops.

    It gives what botocore's ``EventStream`` gives for a message (``parser.parse`` of
    ``message.to_response_dict()``; ``EventStreamError`` for an exception or error message;
    None for an empty event, which botocore skips). A parser with an ``event_decoder`` (the
    lean transport's :class:`~bedrock_kit.core.transport.responses.EventParser`) decodes
    the common event messages from their headers and payload first, without the response
    dict; whatever that decoder declines (None) takes the general path.
    """

    __slots__ = ("_operation_name", "_parse", "_shape", "fast")

    def __init__(self, parse: Any, shape: Any, operation_name: str, fast: FastDecode) -> None:
        self._parse = parse
        self._shape = shape
        self._operation_name = operation_name
        self.fast = fast

    def slow(self, message: Any) -> dict[str, Any] | None:
        """botocore's parse of ``message``: the event, or None for an empty one."""
        response = message.to_response_dict()
        parsed = self._parse(response, self._shape)
        if response["status_code"] != 200:
            raise EventStreamError(parsed, self._operation_name)
        return parsed or None


class _Frames:
    """The messages buffered so far, drained without botocore's end-of-buffer exception.

    ``for message in buffer`` ends each read with a call that raises ``StopIteration``;
    counting the bytes given and taken, the buffer is asked for a message only when a whole
    prelude is there. botocore's ``next`` still frames, checks and decodes every message,
    and still answers ``StopIteration`` for a message not yet complete.
    """

    __slots__ = ("buffer", "pending")

    def __init__(self) -> None:
        self.buffer = MemoEventStreamBuffer()
        self.pending = 0  # bytes given to the buffer and not yet taken as messages

    def add(self, chunk: bytes) -> None:
        self.buffer.add_data(chunk)
        self.pending += len(chunk)

    def drain(self) -> Iterator[Any]:
        """Every complete message in the buffer (used where speed does not matter)."""
        while self.pending >= _PRELUDE:
            try:
                message: Any = self.buffer.next()
            except StopIteration:
                return
            self.pending -= message.prelude.total_length
            yield message


class LeanEventStream(_EventStream):
    """botocore's ``EventStream`` read through :class:`MemoEventStreamBuffer`.

    Same events, same ``EventStreamError`` for an exception message, same ``close`` and
    ``get_initial_response`` (inherited). Reading, framing and parsing happen in one loop
    (botocore chains two generators per event). Its state (the buffer, the open read)
    lives on the stream, so a loop left early and a new one continue where the first
    stopped, as with botocore.
    """

    # Set by botocore's EventStream.__init__.
    _raw_stream: Any
    _parser: Any
    _output_shape: Any
    _operation_name: str
    _event_generator: Iterator[Any]

    def __init__(self, raw_stream: Any, output_shape: Any, parser: Any, operation_name: str):
        super().__init__(raw_stream, output_shape, parser, operation_name)
        self._frames = _Frames()
        self._reads: Iterator[bytes] | None = None

    def _decoder(self) -> _Decoder:
        # Made when a loop starts, from the parser the stream holds then: a caller may
        # replace ``_parser`` after the call (the flows runtime wraps it), as with botocore.
        parser, shape = self._parser, self._output_shape
        fast = fast_decoder(parser, shape)
        return _Decoder(parser.parse, shape, self._operation_name, fast)

    def _read(self) -> Iterator[bytes]:
        reads = self._reads
        if reads is None:
            reads = self._reads = iter(self._raw_stream.stream())
        return reads

    def _create_raw_event_generator(self) -> Iterator[Any]:
        # The messages, for get_initial_response (botocore's use of this generator).
        while True:
            yield from self._frames.drain()
            chunk = next(self._read(), None)
            if chunk is None:
                return
            self._frames.add(chunk)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        frames = self._frames
        buffer = frames.buffer
        take: Callable[[], Any] = buffer.next
        add = buffer.add_data
        decoder = self._decoder()
        fast, slow = decoder.fast, decoder.slow
        reads = self._read()
        while True:
            # Messages already buffered first (a loop left early left some), then reads.
            while frames.pending >= _PRELUDE:
                try:
                    message = take()
                except StopIteration:
                    break
                frames.pending -= message.prelude.total_length
                event = None if fast is None else fast(message.headers, message.payload)
                if event is None:
                    event = slow(message)
                    if event is None:
                        continue
                yield event
            chunk = next(reads, None)
            if chunk is None:
                return
            add(chunk)
            frames.pending += len(chunk)


async def aiter_events(
    chunks: Any, parse: Any, shape: Any, operation_name: str, fast: FastDecode = None
) -> AsyncIterator[dict[str, Any]]:
    """Events of the byte chunks of an async iterator, as :class:`LeanEventStream` gives.

    Args:
        chunks: The body's byte chunks.
        parse: ``parse(response_dict, shape)``, botocore's event parser interface.
        shape: The event-stream union shape.
        operation_name: For ``EventStreamError``.
        fast: The parser's fast decoder (:func:`fast_decoder`), if any.
    """
    frames = _Frames()
    buffer = frames.buffer
    take: Callable[[], Any] = buffer.next
    add = buffer.add_data
    decoder = _Decoder(parse, shape, operation_name, fast)
    fast, slow = decoder.fast, decoder.slow
    async for chunk in chunks:
        add(chunk)
        frames.pending += len(chunk)
        while frames.pending >= _PRELUDE:
            try:
                message = take()
            except StopIteration:
                break
            frames.pending -= message.prelude.total_length
            event = None if fast is None else fast(message.headers, message.payload)
            if event is None:
                event = slow(message)
                if event is None:
                    continue
            yield event
