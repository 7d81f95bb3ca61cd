"""Codecs compiled from botocore shapes: input checked and serialized in one pass, output parsed.

botocore walks the shape tree on every call three times (validate, serialize, parse), with a
``getattr`` dispatch per node. Here each shape is compiled once into a small closure, so a
call only runs the checks and conversions its data needs.

The compiled codecs are a fast path, not a second implementation of the rules: whenever the
fast path meets something it is not sure about, it raises :class:`FallbackError` and the caller
runs botocore's own validator, serializer or parser on the same data, so invalid input gets
botocore's exact ``ParamValidationError`` report and odd responses botocore's exact result
(or exception). What the fast path accepts it must accept exactly as botocore does; the
equivalence tests fuzz that promise against botocore.

Two parse flavours exist because botocore has two JSON parsers: the REST-JSON body parser
(integers through ``int()``, floats through ``float()``, booleans through ``ensure_boolean``)
and the event-stream payload parser (scalars passed through as decoded).
"""

from __future__ import annotations

import base64
import decimal
import math
from collections.abc import Callable
from typing import Any, Literal

Flavour = Literal["rest", "event"]
Codec = Callable[[Any], Any]
"""A compiled serializer or parser: value in, converted value out (may raise FallbackError)."""

_FLOATS = (float, decimal.Decimal, int)
_DOCUMENT_SCALARS = (str, int, bool, float)


class FallbackError(Exception):
    """The fast path cannot decide: run botocore's own code on the same data."""


_FALLBACK = FallbackError()


def _fail(_: Any = None) -> Any:
    raise _FALLBACK


def check_document(value: Any) -> Any:
    """botocore's document validation (``_validate_document``), without recursion."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        if item is None or isinstance(item, _DOCUMENT_SCALARS):
            continue
        if isinstance(item, dict):
            extend(item.values())
        elif isinstance(item, list):
            extend(item)
        else:
            raise _FALLBACK
    return value


class ShapeCompiler:
    """Compiles and caches codecs for the shapes of one service model.

    Args:
        serializer: botocore's REST-JSON serializer (used for timestamps, so their formatting
            and precision stay botocore's).
    """

    def __init__(self, serializer: Any) -> None:
        self._serializer = serializer
        self._inputs: dict[str, Codec] = {}
        self._outputs: dict[tuple[str, Flavour], Codec | None] = {}

    # ------------------------------------------------------------------ input

    def serializer(self, shape: Any) -> Codec:
        """A codec that checks ``value`` as botocore's ParamValidator would and returns the
        JSON-ready value botocore's JSONSerializer would write (raises :class:`FallbackError`)."""
        key = _key(shape)
        found = self._inputs.get(key)
        if found is not None:
            return found
        cell: list[Codec] = []
        self._inputs[key] = _late(cell)  # recursive shapes see the cell
        codec = self._compile_input(shape)
        cell.append(codec)
        self._inputs[key] = codec
        return codec

    def _compile_input(self, shape: Any) -> Codec:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            if shape.is_document_type:
                return check_document
            return self._input_structure(shape)
        if kind == "list":
            return self._input_list(shape)
        if kind == "map":
            return self._input_map(shape)
        if kind == "string":
            return _string_check(meta.get("min"))
        if kind in ("integer", "long"):
            return _number_check((int,), meta.get("min"))
        if kind in ("float", "double"):
            return _float_codec(meta.get("min"))
        if kind == "boolean":
            return _bool_check
        if kind == "blob":
            return _blob_codec
        if kind == "timestamp":
            return self._timestamp_codec(shape.serialization.get("timestampFormat"))
        return _fail

    def _input_structure(self, shape: Any) -> Codec:
        members = {
            name: (member.serialization.get("name", name), self.serializer(member))
            for name, member in shape.members.items()
        }
        required = tuple(shape.metadata.get("required", ()))
        union = bool(shape.is_tagged_union)

        def codec(value: Any) -> Any:
            if not isinstance(value, dict) or (union and len(value) != 1):
                raise _FALLBACK
            for name in required:
                if name not in value:
                    raise _FALLBACK
            out = {}
            for name, item in value.items():
                member = members.get(name)
                if member is None:
                    raise _FALLBACK
                out[member[0]] = member[1](item)
            return out

        return codec

    def _input_list(self, shape: Any) -> Codec:
        item_codec = self.serializer(shape.member)
        minimum = shape.metadata.get("min")

        def codec(value: Any) -> Any:
            if not isinstance(value, list | tuple) or (
                minimum is not None and len(value) < minimum
            ):
                raise _FALLBACK
            return [item_codec(item) for item in value]

        return codec

    def _input_map(self, shape: Any) -> Codec:
        key_codec = self.serializer(shape.key)
        value_codec = self.serializer(shape.value)

        def codec(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _FALLBACK
            for key in value:
                key_codec(key)
            return {key: value_codec(item) for key, item in value.items()}

        return codec

    def _timestamp_codec(self, timestamp_format: str | None) -> Codec:
        from botocore.utils import parse_to_aware_datetime

        convert = self._serializer._convert_timestamp_to_str

        def codec(value: Any) -> Any:
            try:
                parse_to_aware_datetime(value)
            except (TypeError, ValueError, AttributeError):
                raise _FALLBACK from None
            return convert(value, timestamp_format)

        return codec

    # ------------------------------------------------------------------ output

    def parser(self, shape: Any, flavour: Flavour) -> Codec | None:
        """A codec turning decoded JSON into what botocore's parser returns; None when the
        value is returned unchanged. Raises :class:`FallbackError` on anything unexpected."""
        key = (_key(shape), flavour)
        if key in self._outputs:
            return self._outputs[key]
        cell: list[Codec] = []
        self._outputs[key] = _late(cell)
        codec = self._compile_output(shape, flavour)
        if codec is None:
            self._outputs[key] = None
            return None
        cell.append(codec)
        self._outputs[key] = codec
        return codec

    def _compile_output(self, shape: Any, flavour: Flavour) -> Codec | None:
        from botocore.utils import parse_timestamp

        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return None
            return self._output_structure(shape, flavour)
        if kind == "list":
            return self._output_list(shape, flavour)
        if kind == "map":
            return self._output_map(shape, flavour)
        if kind == "timestamp":
            return parse_timestamp if flavour == "event" else _rest_timestamp
        if flavour == "event":
            decode: Codec = base64.b64decode
            return decode if kind == "blob" else None
        # A REST body is checked member by member before botocore would parse it (the body
        # check of wire.py): what the check refuses, this falls back on, so the check runs.
        scalar: Codec = _REST_SCALARS.get(kind, _fail)
        return scalar

    def _output_structure(self, shape: Any, flavour: Flavour) -> Codec:
        members = [
            (name, member.serialization.get("name", name), self.parser(member, flavour))
            for name, member in shape.members.items()
        ]
        if shape.is_tagged_union:
            by_wire = {wire: (name, codec) for name, wire, codec in members}

            def union(value: Any) -> Any:
                if type(value) is not dict:
                    raise _FALLBACK
                tag = None
                count = 0
                for key, item in value.items():
                    if item is not None and key != "__type":
                        count += 1
                        tag = key
                if count != 1:
                    raise _FALLBACK  # botocore raises ResponseParserError
                found = by_wire.get(tag)
                if found is None:  # botocore names the first key, null or not
                    return {"SDK_UNKNOWN_MEMBER": {"name": next(iter(value))}}
                item = value[tag]
                return {found[0]: item if found[1] is None else found[1](item)}

            return union

        def structure(value: Any) -> Any:
            if type(value) is not dict:
                raise _FALLBACK
            out = {}
            get = value.get
            for name, wire, codec in members:
                item = get(wire)
                if item is not None:
                    out[name] = item if codec is None else codec(item)
            return out

        return structure

    def _output_list(self, shape: Any, flavour: Flavour) -> Codec:
        item_codec = self.parser(shape.member, flavour)

        def codec(value: Any) -> Any:
            if type(value) is not list:
                raise _FALLBACK
            if item_codec is None:
                return list(value)
            return [None if item is None else item_codec(item) for item in value]

        return codec

    def _output_map(self, shape: Any, flavour: Flavour) -> Codec:
        key_codec = self.parser(shape.key, flavour)
        value_codec = self.parser(shape.value, flavour)

        def codec(value: Any) -> Any:
            if type(value) is not dict:
                raise _FALLBACK
            out = {}
            for key, item in value.items():
                if key_codec is not None:
                    key = key_codec(key)
                if value_codec is not None:
                    if item is None:
                        raise _FALLBACK
                    item = value_codec(item)
                out[key] = item
            return out

        return codec


def _late(cell: list[Codec]) -> Codec:
    def late(value: Any) -> Any:
        return cell[0](value)

    return late


def _key(shape: Any) -> str:
    # Member traits are merged into the member's shape; only the timestamp format changes
    # what a codec does, so it is part of the cache key.
    fmt = shape.serialization.get("timestampFormat")
    return f"{shape.name}@{fmt}" if fmt else str(shape.name)


def _string_check(minimum: int | None) -> Codec:
    if minimum is None:

        def plain(value: Any) -> Any:
            if not isinstance(value, str):
                raise _FALLBACK
            return value

        return plain

    def bounded(value: Any) -> Any:
        if not isinstance(value, str) or len(value) < minimum:
            raise _FALLBACK
        return value

    return bounded


def _number_check(types: tuple[type, ...], minimum: Any) -> Codec:
    def codec(value: Any) -> Any:
        if not isinstance(value, types) or (minimum is not None and value < minimum):
            raise _FALLBACK
        return value

    return codec


def _float_codec(minimum: Any) -> Codec:
    def codec(value: Any) -> Any:
        if not isinstance(value, _FLOATS) or (minimum is not None and value < minimum):
            raise _FALLBACK
        if isinstance(value, decimal.Decimal):
            value = float(value)
        if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return value

    return codec


def _bool_check(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _FALLBACK
    return value


def _blob_codec(value: Any) -> Any:
    # Validation accepts file-like objects too; botocore's JSON serializer then fails on
    # them, which the fallback reproduces.
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, bytes | bytearray):
        raise _FALLBACK
    return base64.b64encode(value).strip().decode("utf-8")


# -- REST body scalars: botocore's conversions, on exactly the types the body check accepts


def _rest_string(value: Any) -> Any:
    if type(value) is not str:
        raise _FALLBACK
    return value


def _rest_integer(value: Any) -> Any:
    if type(value) is not int:
        raise _FALLBACK
    return value


def _rest_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is not int:
        raise _FALLBACK  # "NaN"/"Infinity" words: botocore's own float() on the fallback
    return float(value)


def _rest_boolean(value: Any) -> Any:
    if type(value) is not bool:
        raise _FALLBACK
    return value


def _rest_timestamp(value: Any) -> Any:
    from botocore.utils import parse_timestamp

    if type(value) not in (int, float, str):
        raise _FALLBACK  # a boolean is an int to botocore's parser, not to the body check
    try:
        return parse_timestamp(value)  # botocore takes numbers too
    except (ValueError, TypeError, OverflowError, RuntimeError):
        raise _FALLBACK from None  # the body check names it (RuntimeError: out of range)


def _rest_blob(value: Any) -> Any:
    if type(value) is not str:
        raise _FALLBACK
    return base64.b64decode(value, validate=True)  # binascii.Error: a ValueError


_REST_SCALARS: dict[str, Codec] = {
    "string": _rest_string,
    "integer": _rest_integer,
    "long": _rest_integer,
    "float": _rest_float,
    "double": _rest_float,
    "boolean": _rest_boolean,
    "blob": _rest_blob,
}
