"""Inputs and wire documents generated from botocore's shapes, for the equivalence tests.

* :func:`sample_input`: a deterministic, valid input for an operation (``full`` sets every
  optional member up to a depth), with URI labels full of characters that must be escaped.
* :func:`input_strategy`: hypothesis strategy of valid inputs (random optional members,
  union members, lengths, unicode, blobs, floats incl. inf/nan, documents).
* :func:`corrupt`: one mutation that a validator may reject (wrong type, missing required,
  unknown key, short string, None, extra union member).
* :func:`wire_strategy`: JSON documents shaped like an output shape as a server would send
  them (every member may be missing or null, unknown keys added, scalars of the wrong type).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.session
from hypothesis import strategies as st

SERVICES = ("bedrock-runtime", "bedrock-agent-runtime")
LABEL_TEXT = "arn:aws:bedrock:us-east-1:123456789012:a b/c+d~e%f"
_MAX_DEPTH = 6


@cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operations(service: str) -> list[str]:
    """Operations the lean client offers (no bidirectional streams)."""
    model = service_model(service)
    return [
        name
        for name in model.operation_names
        if not model.operation_model(name).has_event_stream_input
    ]


def all_operations() -> Iterator[tuple[str, str]]:
    for service in SERVICES:
        for name in operations(service):
            yield service, name


# ------------------------------------------------------------------ deterministic


def sample_input(operation: Any, *, full: bool, variant: int = 0) -> dict[str, Any]:
    """A valid input for ``operation``; ``variant`` rotates the union members chosen."""
    shape = operation.input_shape
    if shape is None:
        return {}
    return _sample(shape, 0, full, variant, top=True)


def _sample(shape: Any, depth: int, full: bool, variant: int, top: bool = False) -> Any:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if shape.is_document_type:
            return {"k": [1, "two", True, None, 2.5, {"n": {}}]}
        names = list(shape.members)
        if shape.is_tagged_union:
            if depth >= _MAX_DEPTH:  # stop recursion: scalars first, then structures
                rank = {"list": 2, "map": 2, "structure": 1}
                names = sorted(names, key=lambda n: rank.get(shape.members[n].type_name, 0))
                names = names[:1]
            names = [names[variant % len(names)]] if names else []
        else:
            required = list(meta.get("required", ()))
            optional = [n for n in names if n not in required]
            names = required + (optional if full and depth < _MAX_DEPTH else [])
        out = {}
        for name in names:
            member = shape.members[name]
            if top and member.serialization.get("location") == "uri":
                out[name] = LABEL_TEXT
            elif depth >= _MAX_DEPTH and member.type_name in ("structure", "list", "map"):
                if name in meta.get("required", ()) or shape.is_tagged_union:
                    out[name] = _sample(member, depth + 1, False, variant)
            else:
                out[name] = _sample(member, depth + 1, full, variant + depth)
        return out
    if kind == "list":
        count = max(1, int(meta.get("min", 1)))
        return [_sample(shape.member, depth + 1, full, variant + i) for i in range(count)]
    if kind == "map":
        key = "k" * max(1, int(shape.key.metadata.get("min", 1)))
        return {key: _sample(shape.value, depth + 1, full, variant)}
    if kind == "string":
        enum = meta.get("enum")
        if enum:
            return enum[variant % len(enum)]
        return 'é"\\x' * max(1, int(meta.get("min", 1)))
    if kind in ("integer", "long"):
        return max(int(meta.get("min", 1)), 1)
    if kind in ("float", "double"):
        return max(float(meta.get("min", 0.5)), 0.5)
    if kind == "boolean":
        return bool(variant % 2 == 0)
    if kind == "blob":
        return b"\x00\xffbytes"
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
    raise AssertionError(f"unknown shape type {kind}")


# ------------------------------------------------------------------ hypothesis: inputs

_TEXT = st.text(max_size=6)
_DOC = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_TEXT, inner, max_size=2),
    max_leaves=5,
)


def input_strategy(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid inputs for ``shape``."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if shape.is_document_type:
            return _DOC
        if depth >= _MAX_DEPTH:
            return st.just(_sample(shape, _MAX_DEPTH, False, 0))
        members = shape.members
        if shape.is_tagged_union:
            return st.one_of(
                [
                    st.fixed_dictionaries({n: input_strategy(m, depth + 1)})
                    for n, m in members.items()
                ]
            )
        required = set(meta.get("required", ()))
        return st.fixed_dictionaries(
            {n: input_strategy(m, depth + 1) for n, m in members.items() if n in required},
            optional={
                n: input_strategy(m, depth + 1) for n, m in members.items() if n not in required
            },
        )
    if kind == "list":
        low = int(meta.get("min", 0))
        return st.lists(input_strategy(shape.member, depth + 1), min_size=low, max_size=low + 2)
    if kind == "map":
        return st.dictionaries(
            input_strategy(shape.key, depth + 1),
            input_strategy(shape.value, depth + 1),
            max_size=2,
        )
    if kind == "string":
        low = int(meta.get("min", 0))
        return st.text(min_size=low, max_size=low + 5)
    if kind in ("integer", "long"):
        return st.integers(min_value=int(meta.get("min", -(2**40))), max_value=2**40)
    if kind in ("float", "double"):
        low = meta.get("min")
        floats = st.floats(min_value=low) if low is not None else st.floats()
        return floats | st.decimals(allow_nan=False, allow_infinity=False, places=3).filter(
            lambda d: low is None or d >= low
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=8) | _TEXT | st.binary(max_size=4).map(bytearray)
    if kind == "timestamp":
        return st.datetimes(
            min_value=datetime.datetime(1990, 1, 1),
            max_value=datetime.datetime(2100, 1, 1),
            timezones=st.just(datetime.timezone.utc),
        )
    raise AssertionError(kind)


_WRONG = st.sampled_from(
    [None, 1, "s", 2.5, True, b"b", [], {}, (), decimal.Decimal("1.5"), object()]
)


@st.composite
def corrupt(draw: Any, value: Any) -> Any:
    """``value`` with one random change somewhere inside it."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value, key=str)))
        choice = draw(st.integers(0, 3))
        changed = dict(value)
        if choice == 0:
            del changed[key]
        elif choice == 1:
            changed["unknownMember"] = draw(_WRONG)
        elif choice == 2:
            changed[key] = draw(corrupt(value[key]))
        else:
            changed[key] = draw(_WRONG)
        return changed
    if isinstance(value, list | tuple) and value and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        changed_list = list(value)
        changed_list[index] = draw(corrupt(value[index]))
        return changed_list
    if isinstance(value, str) and value and draw(st.booleans()):
        return ""
    return draw(_WRONG)


# ------------------------------------------------------------------ hypothesis: wire JSON

_SCALAR = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | _TEXT


def wire_strategy(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON values a server might send for ``shape`` (often right, sometimes wrong)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return _DOC
        if depth >= _MAX_DEPTH:
            return st.just({})
        members = {
            m.serialization.get("name", n): wire_strategy(m, depth + 1)
            for n, m in shape.members.items()
            if m.serialization.get("location") is None
        }
        if shape.is_tagged_union and members:
            one = st.one_of([st.fixed_dictionaries({k: v}) for k, v in members.items()])
            return one | st.fixed_dictionaries({}, optional={**members, "newMember": _SCALAR})
        return st.fixed_dictionaries(
            {}, optional={**members, "unknownKey": _SCALAR, "p": st.just("abcdefgh")}
        )
    if kind == "list":
        return st.lists(wire_strategy(shape.member, depth + 1) | st.none(), max_size=3)
    if kind == "map":
        return st.dictionaries(_TEXT, wire_strategy(shape.value, depth + 1), max_size=2)
    if kind == "string":
        enum = shape.metadata.get("enum")
        return (st.sampled_from(enum) if enum else _TEXT) | _SCALAR
    if kind in ("integer", "long"):
        return st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, width=16) | _SCALAR
    if kind in ("float", "double"):
        return st.floats(allow_nan=False) | st.integers(-9, 9) | _SCALAR
    if kind == "boolean":
        return st.booleans() | st.sampled_from(["true", "false", "TRUE"]) | _SCALAR
    if kind == "blob":
        return st.binary(max_size=6).map(_b64) | _TEXT
    if kind == "timestamp":
        return (
            st.integers(0, 2**31).map(float)
            | st.just("2024-01-02T03:04:05Z")
            | st.just("2024-01-02T03:04:05.123Z")
            | _SCALAR
        )
    raise AssertionError(kind)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
