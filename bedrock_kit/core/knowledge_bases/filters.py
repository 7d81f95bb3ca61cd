"""Typed metadata filters for Knowledge Base retrieval.

A :class:`Filter` wraps one ``RetrievalFilter`` wire dict. Build them with the :class:`F`
helpers and combine them with ``&`` (``andAll``) and ``|`` (``orAll``)::

    F.eq("year", 2024) & F.in_("tag", ["faq", "howto"])

Raw ``RetrievalFilter`` dicts are accepted wherever a filter is, after a shape check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from bedrock_kit.errors import ConfigurationError

FilterValue: TypeAlias = str | int | float | bool | Sequence[str] | Sequence[int | float]
"""A value a metadata attribute is compared with."""

_COMPARISONS = (
    "equals",
    "notEquals",
    "greaterThan",
    "greaterThanOrEquals",
    "lessThan",
    "lessThanOrEquals",
    "in",
    "notIn",
    "startsWith",
    "listContains",
    "stringContains",
)
_COMBINATIONS = ("andAll", "orAll")
OPERATORS: tuple[str, ...] = _COMPARISONS + _COMBINATIONS
"""Every ``RetrievalFilter`` operator Bedrock accepts."""

# Operators whose value must be a number: Bedrock compares numerically.
_NUMERIC = frozenset({"greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals"})
# Operators whose value must be a list (membership tests).
_LISTS = frozenset({"in", "notIn"})
# Operators whose value must be a string.
_STRINGS = frozenset({"startsWith", "stringContains"})


@dataclass(frozen=True)
class Filter:
    """One ``RetrievalFilter``: a comparison, or an ``andAll`` / ``orAll`` of filters."""

    wire: dict[str, Any]
    """The ``RetrievalFilter`` dict sent to Bedrock (a single operator key)."""

    def __and__(self, other: Filter | Mapping[str, Any]) -> Filter:
        return _combine("andAll", [self, coerce_filter(other)])

    def __or__(self, other: Filter | Mapping[str, Any]) -> Filter:
        return _combine("orAll", [self, coerce_filter(other)])

    def to_wire(self) -> dict[str, Any]:
        """The ``RetrievalFilter`` dict."""
        return self.wire


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > 100:
        raise ConfigurationError(
            f"filter key must be a non-empty string of at most 100 characters, got {key!r}"
        )
    return key


def _check_value(op: str, value: object) -> Any:
    if op in _NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigurationError(f"filter {op!r} needs a number, got {value!r}")
    elif op in _LISTS:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
            raise ConfigurationError(f"filter {op!r} needs a non-empty list, got {value!r}")
        return list(value)
    elif op in _STRINGS:
        if not isinstance(value, str):
            raise ConfigurationError(f"filter {op!r} needs a string, got {value!r}")
    elif not isinstance(value, str | int | float | bool | list | tuple):
        raise ConfigurationError(f"filter {op!r} got an unsupported value {value!r}")
    return list(value) if isinstance(value, tuple) else value


def compare(op: str, key: str, value: FilterValue) -> Filter:
    """A comparison filter ``{op: {"key": key, "value": value}}`` after checking its types.

    Args:
        op: A comparison operator, e.g. ``equals`` or ``greaterThan``.
        key: The metadata attribute.
        value: What the attribute is compared with.

    Raises:
        ConfigurationError: Unknown operator, or a value of the wrong type for it.
    """
    if op not in _COMPARISONS:
        raise ConfigurationError(f"unknown filter operator {op!r}; expected one of {_COMPARISONS}")
    return Filter({op: {"key": _check_key(key), "value": _check_value(op, value)}})


def _combine(op: str, filters: Sequence[Filter | Mapping[str, Any]]) -> Filter:
    members: list[dict[str, Any]] = []
    for item in filters:
        wire = coerce_filter(item).wire
        # Flatten (a & b) & c into one andAll: same meaning, shallower request.
        members.extend(wire[op] if set(wire) == {op} else [wire])
    if not members:
        raise ConfigurationError(f"{op} needs at least one filter")
    if len(members) == 1:  # Bedrock requires two or more members; one is just that filter.
        return Filter(members[0])
    return Filter({op: members})


def coerce_filter(value: Filter | Mapping[str, Any], argument: str = "filter") -> Filter:
    """Accept a :class:`Filter` or a raw ``RetrievalFilter`` dict, checking the raw shape.

    Raises:
        ConfigurationError: The dict does not have exactly one known operator, or a
            comparison lacks ``key``/``value``, or a combination is not a list.
    """
    if isinstance(value, Filter):
        return value
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConfigurationError(
            f"{argument} must be a Filter or a dict with exactly one operator of "
            f"{OPERATORS}, got {value!r}"
        )
    ((op, body),) = value.items()
    if op in _COMBINATIONS:
        if not isinstance(body, list | tuple):
            raise ConfigurationError(f"{argument}: {op} must be a list of filters")
        members = [coerce_filter(m, argument).wire for m in body]
        if len(members) < 2:
            raise ConfigurationError(f"{argument}: {op} needs at least two filters")
        return Filter({op: members})
    if op not in _COMPARISONS:
        raise ConfigurationError(f"{argument}: unknown filter operator {op!r}")
    if not isinstance(body, Mapping) or set(body) != {"key", "value"}:
        raise ConfigurationError(f"{argument}: {op} needs exactly 'key' and 'value', got {body!r}")
    return compare(op, body["key"], body["value"])


class F:
    """Short constructors for :class:`Filter` (``F.eq("year", 2024) & F.gt("score", 3)``)."""

    @staticmethod
    def eq(key: str, value: str | int | float | bool) -> Filter:
        """``equals``."""
        return compare("equals", key, value)

    @staticmethod
    def ne(key: str, value: str | int | float | bool) -> Filter:
        """``notEquals``."""
        return compare("notEquals", key, value)

    @staticmethod
    def gt(key: str, value: int | float) -> Filter:
        """``greaterThan``."""
        return compare("greaterThan", key, value)

    @staticmethod
    def gte(key: str, value: int | float) -> Filter:
        """``greaterThanOrEquals``."""
        return compare("greaterThanOrEquals", key, value)

    @staticmethod
    def lt(key: str, value: int | float) -> Filter:
        """``lessThan``."""
        return compare("lessThan", key, value)

    @staticmethod
    def lte(key: str, value: int | float) -> Filter:
        """``lessThanOrEquals``."""
        return compare("lessThanOrEquals", key, value)

    @staticmethod
    def in_(key: str, values: Sequence[str] | Sequence[int | float]) -> Filter:
        """``in``: the attribute is one of ``values``."""
        return compare("in", key, values)

    @staticmethod
    def not_in(key: str, values: Sequence[str] | Sequence[int | float]) -> Filter:
        """``notIn``: the attribute is none of ``values``."""
        return compare("notIn", key, values)

    @staticmethod
    def starts_with(key: str, prefix: str) -> Filter:
        """``startsWith`` (string attributes)."""
        return compare("startsWith", key, prefix)

    @staticmethod
    def list_contains(key: str, value: str | int | float | bool) -> Filter:
        """``listContains``: a list attribute has ``value`` as a member."""
        return compare("listContains", key, value)

    @staticmethod
    def string_contains(key: str, value: str) -> Filter:
        """``stringContains``: a string attribute (or a list member) contains ``value``."""
        return compare("stringContains", key, value)

    @staticmethod
    def and_all(*filters: Filter | Mapping[str, Any]) -> Filter:
        """``andAll`` of the filters (a single filter is returned as is)."""
        return _combine("andAll", filters)

    @staticmethod
    def or_all(*filters: Filter | Mapping[str, Any]) -> Filter:
        """``orAll`` of the filters (a single filter is returned as is)."""
        return _combine("orAll", filters)
