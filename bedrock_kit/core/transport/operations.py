"""Sans-I/O request building for REST-JSON operations, from botocore's service model.

:class:`OperationPlan` turns an operation's keyword arguments into the HTTP request botocore
would send: method, path with labels percent-encoded as botocore encodes them (``-._~`` kept,
``/`` kept only in greedy labels), query string, headers, and the body (JSON with blobs in
base64, or the raw payload of operations such as InvokeModel). The input is checked on the
way with the rules of botocore's ParamValidator. Anything the fast path does not handle, or
any input it would reject, goes through botocore's own validator and serializer, so invalid
input raises botocore's ``ParamValidationError`` with botocore's report.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bedrock_kit.core.transport.shapes import Codec, FallbackError, ShapeCompiler

_LABEL = re.compile(r"{(.*?)}")
_URI, _QUERY, _HEADER, _BODY = 1, 2, 3, 4
_SAFE = "-._~"
_GREEDY_SAFE = "/~"


@dataclass(frozen=True)
class HTTPRequest:
    """An unsigned request, relative to the endpoint."""

    method: str
    """HTTP method."""
    path: str
    """URL path, labels encoded."""
    query: str
    """Encoded query string (without ``?``), or empty."""
    headers: dict[str, str]
    """Headers the operation sets (Content-Type, modeled headers)."""
    body: bytes
    """Request body."""


class OperationPlan:
    """Request building for one operation, compiled once.

    Args:
        operation_model: botocore ``OperationModel``.
        compiler: The service's shape compiler.
        serializer: botocore's REST-JSON serializer (the fallback path).
    """

    def __init__(self, operation_model: Any, compiler: ShapeCompiler, serializer: Any) -> None:
        self.model = operation_model
        self.name: str = operation_model.name
        self.method: str = operation_model.http.get("method", "POST")
        self.stream_output = bool(
            operation_model.has_event_stream_output or operation_model.has_streaming_output
        )
        self.streaming_input = bool(operation_model.has_streaming_input)
        self._serializer = serializer
        self._template: str = operation_model.http["requestUri"]
        self._parts = _split_template(self._template)
        shape = operation_model.input_shape
        self._shape = shape
        self._members: dict[str, tuple[int, str, Codec]] = {}
        self._required: tuple[str, ...] = ()
        self._payload: str | None = None
        self._streaming_payload = False
        self._empty_body = b""
        self._fast = shape is not None and operation_model.endpoint is None
        self._idempotent = tuple(operation_model.idempotent_members or ())
        if shape is None:
            return
        self._required = tuple(shape.metadata.get("required", ()))
        payload = shape.serialization.get("payload")
        if payload is not None:
            kind = shape.members[payload].type_name
            self._payload = payload
            self._streaming_payload = kind in ("blob", "string")
            if not self._streaming_payload:
                self._fast = False  # structure payloads: botocore's serializer
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            codec = compiler.serializer(member)
            if name == payload and member.type_name == "blob":
                codec = _check_payload  # sent raw: checked, never base64-encoded
            if location == "uri":
                self._members[name] = (_URI, wire, codec)
                if member.type_name not in ("string", "integer", "long"):
                    self._fast = False
            elif location == "querystring":
                self._members[name] = (_QUERY, wire, codec)
                if member.type_name not in ("string", "integer", "long"):
                    self._fast = False
            elif location == "header":
                self._members[name] = (_HEADER, wire, codec)
                if member.type_name != "string" or member.serialization.get("jsonvalue"):
                    self._fast = False
            elif location is None:
                self._members[name] = (_BODY, wire, codec)
            else:  # 'headers' maps
                self._fast = False
        if any("location" not in m.serialization for m in shape.members.values()):
            self._empty_body = b"{}"  # RestJSONSerializer._requires_empty_body

    def build(self, params: Mapping[str, Any]) -> HTTPRequest:
        """The request for ``params`` (the operation's keyword arguments).

        Idempotency tokens left out are generated, as botocore's
        ``generate_idempotent_uuid`` does.

        Raises:
            botocore.exceptions.ParamValidationError: Invalid input, with botocore's report.
        """
        params = self._with_tokens(params)
        if self._fast:
            try:
                return self._build_fast(params)
            except FallbackError:
                pass
        return self.build_with_botocore(params)

    def _with_tokens(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._idempotent:
            missing = [name for name in self._idempotent if name not in params]
            if missing:
                params = dict(params)
                for name in missing:
                    params[name] = str(uuid.uuid4())
        return params

    def _build_fast(self, params: Mapping[str, Any]) -> HTTPRequest:
        for name in self._required:
            if name not in params:
                raise FallbackError
        labels: dict[str, str] = {}
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        body: dict[str, Any] = {}
        payload: Any = None
        members = self._members
        for name, value in params.items():
            member = members.get(name)
            if member is None:
                raise FallbackError
            location, wire, codec = member
            converted = codec(value)
            if value is None:  # a document set to None: valid, and never sent
                continue
            if location == _BODY:
                if name == self._payload:
                    payload = value
                else:
                    body[wire] = converted
            elif location == _URI:
                labels[wire] = str(value)
            elif location == _HEADER:
                headers[wire] = value
            else:
                query[wire] = value
        if self._streaming_payload:
            data = _payload_bytes(payload)
        elif body:
            data = json.dumps(body).encode("utf-8")
        else:
            data = self._empty_body
        if data and not self._streaming_payload and not _has_content_type(headers):
            headers["Content-Type"] = "application/json"
        path = self._render(labels)
        encoded = ""
        if query:
            from botocore.utils import percent_encode_sequence

            encoded = percent_encode_sequence(query)
        return HTTPRequest(self.method, path, encoded, headers, data)

    def _render(self, labels: dict[str, str]) -> str:
        out = []
        for literal, label, greedy in self._parts:
            out.append(literal)
            if label:
                out.append(quote(labels[label], safe=_GREEDY_SAFE if greedy else _SAFE))
        return "".join(out)

    def build_with_botocore(self, params: Mapping[str, Any]) -> HTTPRequest:
        """The same request built by botocore's ParamValidator and RestJSONSerializer."""
        from botocore.exceptions import ParamValidationError
        from botocore.utils import percent_encode_sequence
        from botocore.validate import ParamValidator

        params = self._with_tokens(params)
        if self._shape is not None:
            report = ParamValidator().validate(params, self._shape)
            if report.has_errors():
                raise ParamValidationError(report=report.generate_report())
        serialized = self._serializer.serialize_to_request(dict(params), self.model)
        query = serialized.get("query_string") or ""
        if query and not isinstance(query, str):
            query = percent_encode_sequence(query)
        body = _payload_bytes(serialized.get("body") or b"")
        headers = {str(k): str(v) for k, v in (serialized.get("headers") or {}).items()}
        return HTTPRequest(
            serialized.get("method", self.method), serialized["url_path"], query, headers, body
        )


def _split_template(template: str) -> tuple[tuple[str, str, bool], ...]:
    parts: list[tuple[str, str, bool]] = []
    position = 0
    for match in _LABEL.finditer(template):
        label = match.group(1)
        greedy = label.endswith("+")
        parts.append((template[position : match.start()], label.rstrip("+"), greedy))
        position = match.end()
    parts.append((template[position:], "", False))
    return tuple(parts)


def _check_payload(value: Any) -> Any:
    # ParamValidator._validate_blob.
    if isinstance(value, bytes | bytearray | str) or hasattr(value, "read"):
        return value
    raise FallbackError


def _has_content_type(headers: Mapping[str, str]) -> bool:
    return any(key.lower() == "content-type" for key in headers)


def _payload_bytes(payload: Any) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray):
        return bytes(payload)
    read = getattr(payload, "read", None)
    if callable(read):  # a file-like body: sent as its bytes
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return bytes(payload)


def join_url(endpoint_url: str, path: str, query: str) -> str:
    """botocore's ``_urljoin`` plus the query string, for one endpoint and request path."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(endpoint_url)
    base = parts.path
    if not path or path == "/":
        new_path = base or "/"
    elif base.endswith("/") and path.startswith("/"):
        new_path = base[:-1] + path
    else:
        new_path = base + path
    url = urlunsplit((parts.scheme, parts.netloc, new_path, parts.query, parts.fragment))
    if query:
        url += ("&" if "?" in url else "?") + query
    return url
