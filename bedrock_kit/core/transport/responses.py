"""Sans-I/O response parsing: the same dicts botocore's REST-JSON parser returns.

:class:`ResponsePlan` parses one operation's responses: ``ResponseMetadata`` (RequestId,
HTTPStatusCode, lower-cased HTTPHeaders), header members, the JSON body through the compiled
codecs, a streaming blob body (:class:`botocore.response.StreamingBody` or
:class:`AsyncStreamingBody`) or an event stream (botocore's ``EventStream`` over
:class:`EventParser`, or :class:`AsyncEventStream`). Error responses are parsed by botocore's
own parser, modeled error fields included, so error codes and messages are botocore's.
Whenever the fast path meets a body it did not expect, botocore's parser parses it instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from json.scanner import make_scanner
from typing import Any, cast

from bedrock_kit.core.transport.shapes import Codec, FallbackError, ShapeCompiler
from bedrock_kit.core.transport.wire import MAX_JSON_DEPTH, check_body, document_too_deep

_FALLBACK = FallbackError()
StreamFactory = Callable[[Any, Any, "EventParser", str], Any]
BodyFactory = Callable[[Any, Any], Any]


def response_metadata(status: int, lowered: dict[str, str]) -> dict[str, Any]:
    """botocore's ResponseMetadata (retry fields are added by the caller)."""
    meta: dict[str, Any] = {}
    request_id = lowered.get("x-amzn-requestid")
    if request_id is not None:
        meta["RequestId"] = request_id
    elif "x-amz-request-id" in lowered:
        meta["RequestId"] = lowered["x-amz-request-id"]
        meta["HostId"] = lowered.get("x-amz-id-2", "")
    meta["HTTPStatusCode"] = status
    meta["HTTPHeaders"] = lowered
    return meta


_SCAN = make_scanner(cast(Any, json.JSONDecoder()))  # the C scanner json.loads uses


def _loads(text: str) -> Any:
    """``json.loads(text)`` for an event payload, with json's C scanner called directly.

    AWS sends compact JSON; anything the scanner does not consume whole (whitespace, a
    BOM, trailing data, no JSON at all) gets ``json.loads``'s own answer or error.
    """
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


_DECLINED = (StopIteration, FallbackError, ValueError, TypeError, AttributeError)
"""What :meth:`EventParser.event_decoder` leaves to :meth:`EventParser.parse`."""


class EventParser:
    """Parses event-stream messages into event dicts, as botocore's EventStreamJSONParser.

    It is handed to botocore's ``EventStream`` (sync) and to :class:`AsyncEventStream`.

    Args:
        compiler: The service's shape compiler.
        fallback: botocore's ``EventStreamJSONParser``.
    """

    def __init__(self, compiler: ShapeCompiler, fallback: Any) -> None:
        self._compiler = compiler
        self._fallback = fallback
        self._plans: dict[str, dict[str, Codec | None]] = {}

    def _plan(self, shape: Any) -> dict[str, Codec | None]:
        plan = self._plans.get(shape.name)
        if plan is None:
            plan = {}
            for name, member in shape.members.items():
                simple = member.serialization.get("event") and not any(
                    m.serialization.get("eventheader") or m.serialization.get("eventpayload")
                    for m in member.members.values()
                )
                plan[name] = self._compiler.parser(member, "event") if simple else None
            self._plans[shape.name] = plan
        return plan

    def event_decoder(self, shape: Any) -> Callable[[Mapping[str, Any], bytes], Any]:
        """``decode(headers, payload)``: what :meth:`parse` gives for a message, or None.

        The event of a message :meth:`parse` would decode through its codecs (an event
        message of a modeled type, a JSON object payload the codec accepts), from the
        message's headers and payload, without the response dict; None for anything else
        (an exception or error message, an unknown type, a payload the codec or the JSON
        scanner declines), which :meth:`parse` then parses as before.
        """
        plan = self._plans.get(shape.name) or self._plan(shape)
        scan = _SCAN
        declined = _DECLINED

        def decode(headers: Mapping[str, Any], payload: bytes) -> Any:
            kind = headers.get(":message-type")
            if kind in {"error", "exception"}:
                return None
            name: Any = headers.get(":event-type")
            codec = plan.get(name)
            if codec is None:
                return None
            try:
                if payload:
                    text = payload.decode("utf-8")
                    raw, end = scan(text, 0)
                    if end != len(text):
                        return None
                else:
                    raw = {}
                return {name: codec(raw)}
            except declined:
                return None

        return decode

    def parse(self, response: Mapping[str, Any], shape: Any) -> Any:
        """botocore's ``parser.parse(response_dict, event_stream_shape)`` for one message."""
        if response["status_code"] == 200:
            plan = self._plans.get(shape.name) or self._plan(shape)
            codec = plan.get(response["headers"].get(":event-type"))
            if codec is not None:
                try:
                    body = response["body"]
                    raw = _loads(body.decode("utf-8")) if body else {}
                    return {response["headers"][":event-type"]: codec(raw)}
                except (FallbackError, ValueError, TypeError, AttributeError):
                    pass
        return self._fallback.parse(response, shape)


class AsyncEventStream:
    """An event stream read from an aiohttp response: ``async for event in stream``.

    Yields the same event dicts as botocore's ``EventStream``; an exception message raises
    botocore's ``EventStreamError``.

    Args:
        response: The aiohttp response.
        shape: The event-stream union shape.
        parser: The event parser.
        operation_name: For ``EventStreamError``.
    """

    def __init__(self, response: Any, shape: Any, parser: EventParser, operation_name: str):
        self._raw_stream = response
        self._shape = shape
        self._parser = parser
        self._operation_name = operation_name

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._events()

    def _events(self) -> AsyncIterator[dict[str, Any]]:
        from bedrock_kit.core.transport.event_stream import aiter_events, fast_decoder

        chunks = self._raw_stream.content.iter_any()
        fast = fast_decoder(self._parser, self._shape)
        return aiter_events(chunks, self._parser.parse, self._shape, self._operation_name, fast)

    def close(self) -> None:
        """Close the connection (an unread stream cannot go back to the pool)."""
        self._raw_stream.close()


class AsyncStreamingBody:
    """aiobotocore-style async body of a streaming blob (InvokeModel's ``body``).

    ``async with response["body"] as body: data = await body.read()``; the content length
    is verified as botocore's ``StreamingBody`` verifies it.
    """

    _CHUNK = 1024

    def __init__(self, response: Any, content_length: Any) -> None:
        self._raw_stream = response
        self._content_length = content_length
        self._amount_read = 0

    async def __aenter__(self) -> AsyncStreamingBody:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def read(self, amt: int | None = None) -> bytes:
        """Read at most ``amt`` bytes (all when None).

        Raises:
            botocore.exceptions.IncompleteReadError: Fewer bytes than Content-Length said.
            botocore.exceptions.ResponseStreamingError: The connection broke.
        """
        import aiohttp
        from botocore.exceptions import ReadTimeoutError, ResponseStreamingError

        try:
            chunk: bytes = await self._raw_stream.content.read(-1 if amt is None else amt)
        except asyncio.TimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=str(self._raw_stream.url), error=exc) from exc
        except aiohttp.ClientConnectionError as exc:
            raise ResponseStreamingError(error=exc) from exc
        self._amount_read += len(chunk)
        if amt is None or (not chunk and amt > 0):
            self._verify_content_length()
        return chunk

    async def iter_chunks(self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """Chunks of ``chunk_size`` bytes until the end of the body."""
        while chunk := await self.read(chunk_size):
            yield chunk

    async def iter_lines(
        self, chunk_size: int = _CHUNK, keepends: bool = False
    ) -> AsyncIterator[bytes]:
        """Lines of the body."""
        pending = b""
        async for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def _verify_content_length(self) -> None:
        from botocore.exceptions import IncompleteReadError

        if self._content_length is not None and self._amount_read != int(self._content_length):
            raise IncompleteReadError(
                actual_bytes=self._amount_read, expected_bytes=int(self._content_length)
            )

    def close(self) -> None:
        """Release the connection."""
        self._raw_stream.close()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        self.close()


class ResponsePlan:
    """Parsing of one operation's responses.

    Args:
        operation_model: botocore ``OperationModel``.
        compiler: The service's shape compiler.
        parser: botocore's ``RestJSONParser`` (errors, and the fallback).
        events: The service's :class:`EventParser`.
    """

    def __init__(
        self, operation_model: Any, compiler: ShapeCompiler, parser: Any, events: EventParser
    ) -> None:
        self.model = operation_model
        self.name: str = operation_model.name
        self._parser = parser
        self._events = events
        shape = operation_model.output_shape
        self._shape = shape
        self._headers: list[tuple[str, str, Callable[[Any], Any] | None]] = []
        self._status: list[tuple[str, Any]] = []
        self._header_maps: list[tuple[str, Any]] = []
        self._payload: str | None = None
        self._payload_kind = ""
        self._payload_shape: Any = None
        self._body: Codec | None = None
        if shape is None:
            return
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location == "header":
                wire = str(member.serialization.get("name", name)).lower()
                plain = member.type_name == "string" and not member.serialization.get("jsonvalue")
                codec = None if plain else _header_parser(parser, member)
                self._headers.append((name, wire, codec))
            elif location == "statusCode":
                self._status.append((name, member))
            elif location == "headers":
                self._header_maps.append((name, member))
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            self._payload = payload
            self._payload_shape = member
            if member.serialization.get("eventstream"):
                self._payload_kind = "events"
            elif member.type_name in ("blob", "string"):
                self._payload_kind = "stream"
            else:
                self._payload_kind = "json"
                self._body = compiler.parser(member, "rest")
        else:
            self._body = compiler.parser(shape, "rest")

    @property
    def event_shape(self) -> Any:
        """The event-stream union shape, for streaming operations."""
        return self._payload_shape if self._payload_kind == "events" else None

    def parse(
        self,
        status: int,
        headers: Any,
        lowered: dict[str, str],
        body: Any,
        *,
        events: StreamFactory | None = None,
        stream: BodyFactory | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The parsed 2xx response (``ResponseMetadata`` without the retry fields).

        A JSON body goes through the one body check first (:func:`~bedrock_kit.core.
        transport.wire.check_body`): what botocore would read as ``{}`` or crash on raises
        :class:`~bedrock_kit.errors.MalformedResponseError` naming the resource of
        ``params``. The check runs in full only when the fast path meets something odd.

        Args:
            status: HTTP status (2xx).
            headers: Case-insensitive headers.
            lowered: The same headers as a lower-cased dict.
            body: The body bytes, or the raw response for streaming outputs.
            events: Builds the event stream object from (raw, shape, parser, operation).
            stream: Builds the streaming body from (raw, content_length).
            params: The call's arguments (named in errors).
        """
        parsed: dict[str, Any] = {"ResponseMetadata": None}
        try:
            for name, wire, codec in self._headers:
                value = lowered.get(wire)
                if value is not None:
                    parsed[name] = value if codec is None else codec(value)
            for name, member in self._header_maps:
                parsed[name] = self._parser._parse_header_map(member, headers)
            for name, member in self._status:
                parsed[name] = self._parser._parse_shape(member, status)
            kind = self._payload_kind
            if kind == "events":
                assert events is not None and self._payload is not None
                parsed[self._payload] = events(body, self._payload_shape, self._events, self.name)
            elif kind == "stream":
                assert stream is not None and self._payload is not None
                parsed[self._payload] = stream(body, lowered.get("content-length"))
            elif self._shape is not None:
                if body:
                    raw = json.loads(body.decode("utf-8"))
                else:
                    check_body(self.model, status, lowered, body, params)  # members required?
                    raw = {}
                if type(raw) is not dict or (
                    body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and document_too_deep(raw)
                ):
                    raise _FALLBACK  # not an object, or nested too deep: the check says which
                decoded = raw if self._body is None else self._body(raw)
                if kind == "json":
                    parsed[str(self._payload)] = decoded
                else:
                    parsed.update(decoded)
        except Exception:  # the fast path is never the authority on an odd body
            if self._payload_kind in ("events", "stream"):
                raise
            check_body(self.model, status, lowered, body, params)  # raises, naming the problem
            return self._botocore_parse(status, headers, body)
        parsed["ResponseMetadata"] = response_metadata(status, lowered)
        return parsed

    def _botocore_parse(self, status: int, headers: Any, body: bytes) -> dict[str, Any]:
        response = _response_dict(self.name, status, headers, body)
        parsed: dict[str, Any] = self._parser.parse(response, self._shape)
        return parsed

    def parse_error(self, status: int, headers: Any, body: bytes) -> dict[str, Any]:
        """An error response (status >= 300), parsed by botocore with its modeled fields."""
        response = _response_dict(self.name, status, headers, body)
        parsed: dict[str, Any] = self._parser.parse(response, self._shape)
        if status >= 300:  # botocore's Endpoint._add_modeled_error_fields
            code = (parsed.get("Error") or {}).get("Code")
            if code is not None:
                error_shape = self.model.service_model.shape_for_error_code(code)
                if error_shape is not None:
                    parsed.update(self._parser.parse(response, error_shape))
        return parsed


def _response_dict(name: str, status: int, headers: Any, body: bytes) -> dict[str, Any]:
    from botocore.awsrequest import HeadersDict

    if not isinstance(headers, HeadersDict):
        headers = HeadersDict(headers.items() if hasattr(headers, "items") else headers)
    return {
        "headers": headers,
        "status_code": status,
        "body": body,
        "context": {"operation_name": name},
    }


def _header_parser(parser: Any, member: Any) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        return parser._parse_shape(member, value)

    return parse
