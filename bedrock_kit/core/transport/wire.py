"""The one rule for reading what Bedrock sends back: the documented shape, or a typed error.

Every response parser (Converse, ConverseStream events, InvokeModel bodies and chunks,
Retrieve, RetrieveAndGenerate(+Stream), InvokeAgent, CountTokens, embeddings) reads through
a :class:`WireReader`. What is not the documented shape raises
:class:`~bedrock_kit.errors.MalformedResponseError` naming the call, the model or resource,
the request id and a short excerpt of the offending data. Never a bare Python exception
(``AttributeError``, ``KeyError``, ``RecursionError``, a JSON error), and never a default
that reads as "fine": a missing ``usage`` is not 0/0 tokens, a missing ``stopReason`` is
not ``end_turn``.

JSON that the kit parses itself goes through :meth:`WireReader.loads`, which refuses nesting
deeper than :data:`MAX_JSON_DEPTH` (50,000 levels is an error, not a ``RecursionError``);
streamed tool input is metered piece by piece (:class:`JsonDepthMeter`). Bodies botocore
parses itself are checked first by :func:`install_body_check`, a ``before-parse`` hook that
rejects a 2xx body that is empty, not JSON (an HTML page from a captive proxy), not a JSON
object, nested too deep, or with a member of the wrong type; without it botocore hands the
parser ``{}`` (it turns an unparseable body into ``{"message": body}`` and then drops that
key) or raises a bare ``AttributeError`` / ``RecursionError``. Event streams are read
through :func:`~bedrock_kit.core.transport.wire_events.read_events`, which types what
botocore raises on a payload it cannot decode (a payload that is not JSON at all it decodes
to an event without members, which the parsers refuse).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from bedrock_kit.errors import MalformedResponseError

MAX_JSON_DEPTH = 128
"""Deepest nesting of arrays and objects accepted in any JSON Bedrock sends (tool inputs,
bodies, event payloads). Far above any real response; far below Python's recursion limit."""

EXCERPT_CHARS = 200
"""Characters of the offending data quoted in an error message."""

_RAW_CHARS = 64 * 1024  # what MalformedResponseError.raw keeps at most
_SPECIAL = re.compile(r'["\\\[\]{}]')
_PARSE_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError, RecursionError)
_T = TypeVar("_T")

_repr = reprlib.Repr()
_repr.maxlevel = 4
_repr.maxdict = _repr.maxlist = _repr.maxtuple = 8
_repr.maxstring = _repr.maxother = 80
_repr.maxlong = 40


def excerpt(data: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line, printable excerpt of ``data`` for an error message."""
    if isinstance(data, bytes | bytearray):
        text = bytes(data[: limit * 4]).decode("utf-8", "replace")
    elif isinstance(data, str):
        text = data
    else:
        text = _repr.repr(data)
    text = " ".join(text.split())
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text) - limit} more characters)"
    return text


def _raw(data: Any) -> str:
    if isinstance(data, bytes | bytearray):
        text = bytes(data[:_RAW_CHARS]).decode("utf-8", "replace")
    elif isinstance(data, str):
        text = data[:_RAW_CHARS]
    else:
        text = _repr.repr(data)
    return text


class JsonDepthMeter:
    """Tracks the nesting depth of JSON text fed in pieces (a streamed tool input).

    Brackets inside strings do not count. :meth:`feed` says False as soon as the depth passes
    ``limit``, so the reducer refuses a hostile stream before its pieces reach anyone.
    """

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._pending_escape = False  # the previous piece ended with a backslash

    def feed(self, text: str) -> bool:
        """Take the next piece; False once the depth passed the limit (stays False)."""
        if self.depth > self.limit:
            return False
        skip = 0 if self._pending_escape else -1  # index of the character a backslash escapes
        self._pending_escape = False
        for match in _SPECIAL.finditer(text):
            at, char = match.start(), match.group()
            if at == skip:
                continue
            if self._in_string:
                if char == "\\":
                    skip = at + 1
                    self._pending_escape = skip == len(text)
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char in "[{":
                self.depth += 1
                if self.depth > self.limit:
                    return False
            elif char in "]}":
                self.depth -= 1
        return True


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` nests arrays/objects deeper than ``limit`` (strings ignored)."""
    if text.count("[") + text.count("{") <= limit:  # cheap and almost always enough
        return False
    return not JsonDepthMeter(limit).feed(text)


def document_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when a decoded JSON value (dicts and lists) nests deeper than ``limit``."""
    containers = (Mapping, list, tuple)
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, containers) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, Mapping) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, containers))
    return False


class _Guard:
    """:meth:`WireReader.guard`'s context manager (a class: read on every response)."""

    __slots__ = ("data", "extra", "model_id", "reader", "request_id")

    def __init__(
        self,
        reader: WireReader,
        data: Any,
        extra: tuple[type[Exception], ...],
        model_id: str | None,
        request_id: str | None,
    ) -> None:
        self.reader, self.data, self.extra = reader, data, extra
        self.model_id, self.request_id = model_id, request_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return None
        reader = self.reader
        if self.extra and isinstance(exc, self.extra):
            raise self._context(reader.malformed(str(exc), self.data)) from exc
        if isinstance(exc, MalformedResponseError):
            # Raised by a reader without context (a shared codec reader): add ours.
            self._context(exc)
            return None
        if isinstance(exc, _PARSE_ERRORS):
            problem = "nesting too deep" if isinstance(exc, RecursionError) else repr(exc)
            raise self._context(
                reader.malformed(f"unexpected shape ({problem})", self.data)
            ) from exc
        return None

    def _context(self, exc: MalformedResponseError) -> MalformedResponseError:
        reader = self.reader
        exc.model_id = exc.model_id or self.model_id or reader.model_id
        exc.request_id = exc.request_id or self.request_id or reader.request_id
        exc.region = exc.region or reader.region
        return exc


@dataclass(frozen=True)
class WireReader:
    """Reads one response (or one stream) and names it in every error it raises.

    Args:
        what: What is being read, as the error message names it (``"Converse response"``).
        model_id: Model, knowledge base or agent the call addressed.
        request_id: ``x-amzn-RequestId`` of the response.
        region: Client region.
        resource: What ``model_id`` names, as errors say it.
        body: The whole raw body, kept as the error's ``raw`` whatever part is wrong
            (None: ``raw`` is the offending part).
    """

    what: str
    model_id: str | None = None
    request_id: str | None = None
    region: str | None = None
    body: bytes | str | None = field(default=None, repr=False)
    resource: str = "model"

    def malformed(self, problem: str, data: Any = None) -> MalformedResponseError:
        """The typed error for ``problem``, quoting an excerpt of ``data``."""
        quoted = "" if data is None else f": {excerpt(data)}"
        raw = self.body if self.body is not None else data
        return MalformedResponseError(
            f"{self.what} is malformed: {problem}{quoted}",
            raw="" if raw is None else _raw(raw),
            model_id=self.model_id,
            region=self.region,
            request_id=self.request_id,
            resource=self.resource,
        )

    def guard(
        self,
        data: Any = None,
        extra: tuple[type[Exception], ...] = (),
        *,
        model_id: str | None = None,
        request_id: str | None = None,
    ) -> _Guard:
        """Turn any bare Python error raised while reading ``data`` into the typed error.

        Wrap pure parsing code only (no user callbacks): there, every ``KeyError`` or
        ``AttributeError`` means the data was not the shape the code expected. ``extra``
        adds error types that mean the same in that block (botocore's parser errors).
        ``model_id`` and ``request_id`` name the call in every error leaving the block
        when this reader does not (a module-level reader shared by every response).
        """
        return _Guard(self, data, extra, model_id, request_id)

    # -- JSON text

    def loads(self, data: bytes | bytearray | str, *, where: str = "body") -> Any:
        """Decode JSON text with the depth limit."""
        if isinstance(data, bytes | bytearray):
            try:
                text = bytes(data).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.malformed(f"{where} is not UTF-8 text ({exc.reason})", data) from exc
        elif isinstance(data, str):
            text = data
        else:
            raise self.malformed(f"{where} is {type(data).__name__}, not JSON text", data)
        if not text.strip():
            raise self.malformed(f"{where} is empty")
        too_deep = f"{where} nests JSON deeper than {MAX_JSON_DEPTH} levels"
        try:
            # The C decoder refuses thousands of levels itself (RecursionError, caught
            # here); what it accepts is measured after, only when it could be too deep.
            value = json.loads(text)
        except RecursionError as exc:
            raise self.malformed(too_deep, text) from exc
        except ValueError as exc:
            raise self.malformed(f"{where} is not JSON ({exc})", text) from exc
        if text.count("[") + text.count("{") > MAX_JSON_DEPTH and document_too_deep(value):
            raise self.malformed(too_deep, text)
        return value

    def loads_object(self, data: bytes | bytearray | str, *, where: str = "body") -> dict[str, Any]:
        """:meth:`loads`, requiring a JSON object."""
        value = self.loads(data, where=where)
        if not isinstance(value, dict):
            raise self.malformed(f"{where} is a JSON {type(value).__name__}, not an object", data)
        return value

    # -- decoded values

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        """``value`` must be an object (a required member)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            problem = "is missing" if value is None else f"is {_kind(value)}, not an object"
            raise self.malformed(f"{where} {problem}", value)
        return value

    def opt_obj(self, value: Any, where: str) -> Mapping[str, Any]:
        """An optional object: None gives ``{}``, anything else but an object is an error."""
        if type(value) is dict:
            return value
        return {} if value is None else self.obj(value, where)

    def items(self, value: Any, where: str) -> Sequence[Any]:
        """``value`` must be a list (a required member)."""
        if not isinstance(value, list | tuple):
            problem = "is missing" if value is None else f"is {_kind(value)}, not a list"
            raise self.malformed(f"{where} {problem}", value)
        return value

    def opt_items(self, value: Any, where: str) -> Sequence[Any]:
        """An optional list: None gives ``()``."""
        return () if value is None else self.items(value, where)

    def text(self, value: Any, where: str, *, empty: bool = True) -> str:
        """``value`` must be a string (non-empty unless ``empty``)."""
        if type(value) is str and (empty or value):
            return value
        if not isinstance(value, str):
            problem = "is missing" if value is None else f"is {_kind(value)}, not a string"
            raise self.malformed(f"{where} {problem}", value)
        if not empty and not value:
            raise self.malformed(f"{where} is empty")
        return value

    def opt_text(self, value: Any, where: str) -> str | None:
        """An optional string."""
        return None if value is None else self.text(value, where)

    def count(self, value: Any, where: str) -> int:
        """A token count or index: an int >= 0 (``28.0`` is accepted, ``True`` is not)."""
        if type(value) is int and value >= 0:
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problem = "is missing" if value is None else "is not a count (an int >= 0)"
            raise self.malformed(f"{where} {problem}", value)
        return value

    def opt_count(self, value: Any, where: str) -> int | None:
        """An optional count."""
        if value is None or (type(value) is int and value >= 0):
            return value
        return self.count(value, where)

    def number(self, value: Any, where: str) -> float:
        """A finite number."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(float(value))
        ):
            problem = "is missing" if value is None else "is not a finite number"
            raise self.malformed(f"{where} {problem}", value)
        return float(value)

    def opt_number(self, value: Any, where: str) -> float | None:
        """An optional finite number."""
        return None if value is None else self.number(value, where)

    def document(self, value: Any, where: str) -> Any:
        """A free-form JSON document (decoded by botocore), within the depth limit."""
        if value and document_too_deep(value):
            raise self.malformed(f"{where} nests deeper than {MAX_JSON_DEPTH} levels", value)
        return value

    def one_of(self, value: Any, allowed: Sequence[_T], where: str) -> _T:
        """``value`` must be one of ``allowed``."""
        if value not in allowed:
            problem = "is missing" if value is None else f"is not one of {list(allowed)}"
            raise self.malformed(f"{where} {problem}", value)
        return value  # type: ignore[no-any-return]


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), f"a {type(value).__name__}")


# -- the botocore hook


def _body_members(operation_model: Any) -> tuple[bool, bool]:
    """(has body members, has required body members) of the operation's output."""
    shape = operation_model.output_shape
    if shape is None:
        return False, False
    body = [
        name
        for name, member in shape.members.items()
        if member.serialization.get("location") not in ("header", "headers", "statusCode")
    ]
    required = set(shape.metadata.get("required", ()))
    return bool(body), bool(required & set(body))


_FLOAT_WORDS = ("NaN", "Infinity", "-Infinity")


@lru_cache(maxsize=2048)
def _wire_members(shape: Any) -> dict[str, Any]:
    """A structure's member shapes by the name they have on the wire."""
    return {m.serialization.get("name", n): m for n, m in shape.members.items()}


def _path(parts: tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _check_shape(reader: WireReader, shape: Any, value: Any, where: tuple[Any, ...]) -> None:
    """``value`` (decoded JSON) fits botocore's ``shape`` well enough for its parser.

    Mirrors botocore's JSON parser: null members are skipped, null list items kept; a
    member of the wrong type would make that parser raise a bare ``AttributeError`` or
    ``TypeError`` (or pass a wrong type on to us), so it is refused here, by path. Paths
    are built only for the error: this runs on every body.
    """
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return
        if type(value) is not dict:
            reader.obj(value, _path(where))
        if shape.is_tagged_union:
            present = [k for k, v in value.items() if v is not None and k != "__type"]
            if len(present) != 1:
                raise reader.malformed(f"{_path(where)} must have exactly one member set", value)
        known = _wire_members(shape)
        for key, item in value.items():  # the keys sent, not every optional member
            member = known.get(key)
            if member is not None and item is not None:
                _check_shape(reader, member, item, (*where, key))
    elif kind == "list":
        if type(value) is not list:
            reader.items(value, _path(where))
        member = shape.member
        for index, item in enumerate(value):
            if item is not None:
                _check_shape(reader, member, item, (*where, index))
    elif kind == "map":
        if type(value) is not dict:
            reader.obj(value, _path(where))
        item_shape = shape.value
        strict = item_shape.type_name in ("list", "map", "blob")
        for key, item in value.items():
            if item is not None or strict:
                _check_shape(reader, item_shape, item, (*where, repr(key)))
    else:
        _check_scalar(reader, kind, value, where)


def _check_scalar(reader: WireReader, kind: str, value: Any, where: tuple[Any, ...]) -> None:
    if kind == "string":
        if type(value) is not str:
            reader.text(value, _path(where))
    elif kind in ("integer", "long"):
        if type(value) is not int:
            raise reader.malformed(f"{_path(where)} is not an integer", value)
    elif kind in ("float", "double"):
        if type(value) not in (int, float) and value not in _FLOAT_WORDS:
            reader.number(value, _path(where))
    elif kind == "boolean":
        if type(value) is not bool:
            raise reader.malformed(f"{_path(where)} is not a boolean", value)
    elif kind == "blob":
        try:
            base64.b64decode(reader.text(value, _path(where)), validate=True)
        except binascii.Error as exc:
            raise reader.malformed(f"{_path(where)} is not base64", value) from exc
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise reader.malformed(f"{_path(where)} is not a timestamp", value)
        from botocore.utils import parse_timestamp

        try:
            parse_timestamp(value)  # type: ignore[arg-type]  # botocore takes numbers too
        except (ValueError, TypeError, OverflowError, RuntimeError) as exc:
            # RuntimeError: botocore's timezone fallback on a date out of range.
            raise reader.malformed(f"{_path(where)} is not a timestamp", value) from exc


# Operations whose feature package checks the raw body itself, with its own resource
# context (ApplyGuardrail names the guardrail id and version: core/guardrails/apply.py), on
# a botocore client, whose hook does not see the call's arguments. The lean transport
# checks every operation itself, naming the resource (see check_body).
_OWN_BODY_CHECK = frozenset({"ApplyGuardrail"})


@lru_cache(maxsize=512)
def _body_plan(operation_model: Any) -> bool | None:
    """Whether the JSON body has required members; None when there is no JSON body to check."""
    if operation_model.has_streaming_output:
        return None
    service = operation_model.service_model
    protocol = getattr(service, "resolved_protocol", None) or service.metadata.get("protocol")
    if protocol not in ("rest-json", "json"):
        return None
    shape = operation_model.output_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload is not None and shape.members[payload].type_name != "structure":
        return None  # the body is a raw blob or string, read by its own parser
    has_body, has_required = _body_members(operation_model)
    return has_required if has_body else None


# Where each operation names its resource: (argument, resource kind, argument of its version).
_RESOURCES = (
    ("guardrailIdentifier", "guardrail", "guardrailVersion"),
    ("modelId", "model", None),
    ("knowledgeBaseId", "knowledge base", None),
    ("agentId", "agent", "agentAliasId"),
    ("flowIdentifier", "flow", "flowAliasIdentifier"),
)
_VERSION_WORDS = {"guardrail": "version", "agent": "alias", "flow": "alias"}


def response_reader(
    operation_name: str,
    status: int,
    request_id: str | None,
    params: Mapping[str, Any] | None = None,
) -> WireReader:
    """The reader of one response, naming the operation and the resource its request named.

    ``params`` are the call's arguments (the lean transport has them; a botocore hook does
    not): ``ApplyGuardrail response of guardrail gr-1 version 2 (HTTP 200)``.
    """
    what, resource_id, kind = f"{operation_name} response", None, "model"
    for argument, resource, version_argument in _RESOURCES if params else ():
        value = params.get(argument) if params else None
        if isinstance(value, str) and value:
            resource_id, kind = value, resource
            what += f" of {resource} {value}"
            version = params.get(version_argument) if params and version_argument else None
            if version is not None:
                what += f" {_VERSION_WORDS[resource]} {version}"
            break
    rag = params.get("retrieveAndGenerateConfiguration") if params else None
    if resource_id is None and isinstance(rag, Mapping):
        kb = rag.get("knowledgeBaseConfiguration")
        kb_id = kb.get("knowledgeBaseId") if isinstance(kb, Mapping) else None
        if isinstance(kb_id, str) and kb_id:
            resource_id, kind = kb_id, "knowledge base"
            what += f" of knowledge base {kb_id}"
    return WireReader(
        f"{what} (HTTP {status})",
        model_id=resource_id,
        request_id=request_id,
        resource=kind,
    )


def check_body(
    operation_model: Any,
    status: int,
    lowered: Mapping[str, str],
    body: Any,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """Check a 2xx JSON body before it is parsed; returns the decoded object (None: not checked).

    The one body check, for the lean transport (with ``params``, so errors name the
    resource) and the botocore hook of :func:`install_body_check`. Refuses what botocore
    would read as ``{}`` or crash on: an empty body when members are required, a body that
    is not JSON, not an object, nested too deep, or with a member of the wrong type.

    Raises:
        MalformedResponseError: Naming the operation, the resource and the request id.
    """
    if not 200 <= status < 300 or not isinstance(body, bytes | bytearray):
        return None
    has_required = _body_plan(operation_model)
    if has_required is None:
        return None
    reader = response_reader(operation_model.name, status, lowered.get("x-amzn-requestid"), params)
    if not body.strip():
        if has_required:
            content_type = lowered.get("content-type") or "none"
            raise reader.malformed(f"the body is empty (content-type {content_type})")
        return None
    decoded = reader.loads_object(body, where="the body")
    check_decoded(operation_model, decoded, reader)
    return decoded


def check_decoded(operation_model: Any, decoded: Mapping[str, Any], reader: WireReader) -> None:
    """The member-by-member half of :func:`check_body`, on a body already decoded."""
    shape = operation_model.output_shape
    payload = shape.serialization.get("payload")
    if payload is not None:
        _check_shape(reader, shape.members[payload], decoded, (payload,))
        return
    for name, member in shape.members.items():
        if member.serialization.get("location") in ("header", "headers", "statusCode"):
            continue
        key = member.serialization.get("name", name)
        if decoded.get(key) is not None:
            _check_shape(reader, member, decoded[key], (key,))


def _check_body(operation_model: Any, response_dict: Mapping[str, Any], **_: Any) -> None:
    if operation_model.name in _OWN_BODY_CHECK:
        return
    headers = response_dict.get("headers") or {}
    status = int(response_dict.get("status_code") or 0)
    lowered = {str(k).lower(): v for k, v in headers.items()}
    check_body(operation_model, status, lowered, response_dict.get("body"))


def install_body_check(client: Any) -> Any:
    """Register the body check on a boto3 or aiobotocore client (idempotent); returns it.

    Applies to 2xx responses of operations whose output has a JSON body; streaming
    outputs (InvokeModel bodies, event streams) are checked by their parsers instead.
    """
    meta = getattr(client, "meta", None)
    events = getattr(meta, "events", None)
    model = getattr(meta, "service_model", None)
    if events is None or model is None or getattr(client, "checks_bodies", False):
        return client  # the lean client checks every body itself
    service_id = model.service_id.hyphenize()
    events.register(
        f"before-parse.{service_id}", _check_body, unique_id=f"bedrock-kit-body-check-{service_id}"
    )
    return client
