"""Typed reads of guardrail wire values: what is not the documented type is malformed.

The parsers of ApplyGuardrail responses and guardrail traces read every member through these
helpers. ``None`` and a missing member read as absent (botocore omits absent members; recorded
JSON may carry nulls); a member of the wrong type raises :class:`WireShapeError`, which the
public parse functions turn into :class:`~bedrock_kit.errors.MalformedResponseError` with the
path of the member and a short excerpt, never a bare ``AttributeError`` or ``TypeError``.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bedrock_kit.errors import BedrockKitError, MalformedResponseError

EXCERPT_CHARACTERS = 200
"""Longest excerpt of a malformed value kept in an error."""

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxdict = _REPR.maxlist = 6
_REPR.maxlevel = 3


class WireShapeError(Exception):
    """A wire member is not of its documented type (internal; surfaced as malformed)."""

    def __init__(self, path: str, expected: str, value: Any, *, problem: str | None = None) -> None:
        super().__init__(problem or f"{path} must be {expected}, got {type(value).__name__}")
        self.path = path
        self.value = value


_NOTHING: Any = object()


def excerpt(value: Any) -> str:
    """A short printable excerpt of ``value`` (bytes decoded leniently)."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: EXCERPT_CHARACTERS * 4]).decode("utf-8", errors="replace")
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = _REPR.repr(value)
        except Exception:  # a hostile __repr__ must not hide the real error
            text = f"<{type(value).__name__}>"
    return text if len(text) <= EXCERPT_CHARACTERS else text[: EXCERPT_CHARACTERS - 3] + "..."


@contextmanager
def malformed(
    what: str, *, raw: Any = _NOTHING, body: bytes | None = None, **context: Any
) -> Iterator[None]:
    """Turn shape errors (and bare Python errors of pure parsing) into MalformedResponseError.

    Args:
        what: What was being parsed, for the message (``ApplyGuardrail response``...).
        raw: The value being parsed, excerpted into the error of a bare Python error.
        body: The HTTP body as received: excerpted into the message and ``raw`` when given.
        **context: ``model_id`` / ``request_id`` for the error.
    """
    try:
        yield
    except BedrockKitError:
        raise
    except WireShapeError as exc:
        detail = f"{what} is malformed: {exc}"
        found = exc.value
        if body is not None:
            detail += f"; body {excerpt(body)!r}"
            found = body
        raise MalformedResponseError(detail, raw=excerpt(found), **context) from exc
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
        found = body if body is not None else (None if raw is _NOTHING else raw)
        raise MalformedResponseError(
            f"{what} is malformed: {type(exc).__name__}: {excerpt(str(exc))}",
            raw=excerpt(found),
            **context,
        ) from exc


def obj(value: Any, path: str) -> Mapping[str, Any]:
    """A JSON object member (``{}`` when absent)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WireShapeError(path, "an object", value)
    return value


def objects(value: Any, path: str) -> list[Mapping[str, Any]]:
    """A list of objects (``[]`` when absent; null items skipped)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise WireShapeError(path, "a list", value)
    out = []
    for i, item in enumerate(value):
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise WireShapeError(f"{path}[{i}]", "an object", item)
        out.append(item)
    return out


def strings(value: Any, path: str) -> tuple[str, ...]:
    """A list of strings (``()`` when absent; null items skipped)."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise WireShapeError(path, "a list", value)
    for i, item in enumerate(value):
        if item is not None and not isinstance(item, str):
            raise WireShapeError(f"{path}[{i}]", "a string", item)
    return tuple(item for item in value if item is not None)


def opt_str(value: Any, path: str) -> str | None:
    """A string member, or None."""
    if value is None or isinstance(value, str):
        return value
    raise WireShapeError(path, "a string", value)


def text(value: Any, path: str) -> str:
    """A string member (``""`` when absent)."""
    return opt_str(value, path) or ""


def opt_bool(value: Any, path: str) -> bool | None:
    """A boolean member, or None."""
    if value is None or isinstance(value, bool):
        return value
    raise WireShapeError(path, "a boolean", value)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireShapeError(path, "a number", value)
    if not math.isfinite(value):
        raise WireShapeError(path, "a finite number", value)
    return float(value)


def opt_count(value: Any, path: str) -> int | None:
    """A count (``28`` or ``28.0``: InvokeModel traces send floats), or None."""
    if value is None:
        return None
    number = _number(value, path)
    if number < 0 or number != int(number):
        raise WireShapeError(path, "a whole number >= 0", value)
    return int(number)


def count(value: Any, path: str) -> int:
    """A count (``0`` when absent)."""
    found = opt_count(value, path)
    return 0 if found is None else found


def score(value: Any, path: str) -> float:
    """A finite number (``0.0`` when absent)."""
    return 0.0 if value is None else _number(value, path)
