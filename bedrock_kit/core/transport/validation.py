"""Input checks every feature shares, made before any request: text, regions, ARNs, endpoints.

Bedrock rejects some inputs with a vague ValidationException and garbles others without a
word (a lone surrogate travels as a JSON escape and comes back as U+FFFD). These checks name
the offending input and where it sits, as a :class:`~bedrock_kit.errors.ConfigurationError`,
before a client is even built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bedrock_kit.errors import ConfigurationError

__all__ = [
    "check_arn_reachable",
    "check_endpoint_url",
    "check_number",
    "check_region_name",
    "check_text",
    "partition_of",
]

# A high surrogate not followed by a low one, or a low one not preceded by a high one.
_UNPAIRED = re.compile(r"[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")
# botocore's own rule for region names (InvalidRegionError otherwise).
_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
# Region prefix -> partition, most specific first (AWS partitions as botocore names them).
_PARTITIONS: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
)
MAX_DEPTH = 200
"""Deepest nesting a request may have (tool results, schemas); deeper is refused by name."""
_ARN = re.compile(r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):")


def _path(steps: list[tuple[str | int, int]], at: int, root: str) -> str:
    trail: list[str | int] = []
    while at >= 0:
        step, at = steps[at]
        trail.append(step)
    text = root
    for step in reversed(trail):
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


# What a request holds besides text and containers: nothing the walk below looks into.
_LEAVES = frozenset([int, float, bool, type(None), bytes])


def _clean_fast(value: Any) -> bool:
    """True when ``value`` surely holds no unpaired surrogate and nests at most MAX_DEPTH
    levels.

    One pass over plain dicts, lists and tuples, level by level, gathering every string and
    key (each followed by a NUL, so no pair spans two strings) into one text that one
    ``isascii`` call clears; only non-ASCII text is searched. Linear in the size of the
    input, with a few calls per dict, none per string. False (a key that is not a string, a
    Mapping that is not a dict, a str subclass, an object of another type, deep or cyclic
    input, a surrogate) only means the exact walk decides.
    """
    kind = type(value)
    if kind is str:
        return value.isascii() or _UNPAIRED.search(value) is None
    if kind is not dict and kind is not list and kind is not tuple:
        return kind in _LEAVES
    text = ""
    level: list[Any] = [value]
    depth = 0
    while level:
        deeper: list[Any] = []
        for item in level:
            if type(item) is dict:
                for key in item:
                    if type(key) is not str:
                        return False
                    text += key + "\0"
                children = item.values()
            else:
                children = item
            if depth >= MAX_DEPTH and children:  # deeper than the limit (or a cycle)
                return False
            for child in children:
                kind = type(child)
                if kind is str:
                    text += child
                    text += "\0"
                elif kind is dict or kind is list or kind is tuple:
                    deeper += (child,)
                elif kind not in _LEAVES:
                    return False
        level = deeper
        depth += 1
    return text.isascii() or _UNPAIRED.search(text) is None


def check_text(value: Any, where: str) -> None:
    """Refuse unpaired UTF-16 surrogates anywhere in ``value`` (strings, dict keys, lists).

    Bytes are left alone. Clean input costs one pass (see ``_clean_fast``); only
    input that fails it is walked, with an explicit stack (and the path built only for the
    error), so deeply nested input (a tool schema, a JSON tool result) costs linear time and
    cannot exhaust the interpreter's recursion limit.

    Args:
        value: A string or any nesting of mappings, lists and tuples.
        where: Names the input in the error (``messages``, ``query``...).

    Raises:
        ConfigurationError: Naming the path (``messages[0].content[1].text``), the
            character position and the code point.
    """
    if _clean_fast(value):
        return
    steps: list[tuple[str | int, int]] = []  # (step, index of the parent step); -1 is root
    stack: list[tuple[Any, int, int]] = [(value, -1, 0)]
    while stack:
        item, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigurationError(
                f"{_path(steps, at, where)}: nested deeper than {MAX_DEPTH} levels; no Bedrock "
                "request needs this (JSON encoders give up near 1,000 levels)"
            )
        if isinstance(item, str):
            found = _UNPAIRED.search(item)
            if found is not None:
                raise ConfigurationError(
                    f"{_path(steps, at, where)}: unpaired surrogate U+{ord(found.group()):04X} "
                    f"at character {found.start()}; Bedrock needs valid Unicode (it usually "
                    "comes from text decoded with errors='surrogateescape' or sliced UTF-16)"
                )
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and _UNPAIRED.search(key):
                    steps.append(("<key>", at))
                    stack.append((key, len(steps) - 1, depth + 1))
                steps.append((str(key), at))
                stack.append((child, len(steps) - 1, depth + 1))
        elif isinstance(item, list | tuple):
            for i, child in enumerate(item):
                steps.append((i, at))
                stack.append((child, len(steps) - 1, depth + 1))


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> None:
    """Refuse a value that is not a number in ``[low, high]`` (None bounds are open).

    Booleans are refused: ``True`` is an int to Python but never a temperature.
    """
    # The common case, decided without a call (a NaN fails ``value >= low``; a float with
    # no lower bound takes the full check).
    number_type = type(value)
    if (
        (number_type is int or (number_type is float and not integer and low is not None))
        and (low is None or value >= low)
        and (high is None or value <= high)
    ):
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
        or math.isnan(value)
    ):
        kind = "an integer" if integer else "a number"
        raise ConfigurationError(f"{name} must be {kind}, got {value!r}")
    number = float(value)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = (
            f"between {low} and {high}"
            if low is not None and high is not None
            else f">= {low}"
            if low is not None
            else f"<= {high}"
        )
        raise ConfigurationError(f"{name} must be {bounds}, got {value!r}")


def partition_of(region: str) -> str:
    """The AWS partition of a region: ``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``..."""
    return next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")


def check_region_name(region: Any) -> None:
    """Refuse a region name botocore would reject (``InvalidRegionError``) or a non-string."""
    if not isinstance(region, str) or not _REGION.match(region):
        raise ConfigurationError(
            f"region_name {region!r} is not a valid AWS region name (like 'us-east-1')"
        )


def check_endpoint_url(url: Any) -> None:
    """Refuse an endpoint URL that is not ``http(s)://host[:port][/path]``.

    botocore raises a bare ValueError for these when it builds the client, long after the
    object that was given the URL was created.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"endpoint_url must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigurationError(f"endpoint_url {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"endpoint_url {url!r} needs a scheme and a host, like "
            "'https://bedrock-runtime.us-east-1.amazonaws.com' or 'http://127.0.0.1:8000'"
        )


def check_arn_reachable(identifier: str, region: str | None, argument: str = "model") -> None:
    """Refuse an ARN that a client in ``region`` cannot reach (other partition or region).

    Plain ids (``anthropic.claude...``, ``us.anthropic...``) pass: they resolve in the
    client's region. An ARN names its partition and region; a us-east-1 client cannot call
    an ``aws-cn`` model, nor a us-west-2 provisioned model.

    Args:
        identifier: Model id, profile id or ARN.
        region: The client's region; None (not known yet) skips the check.
        argument: Names the argument in the error.

    Raises:
        ConfigurationError: Naming both partitions or both regions.
    """
    found = _ARN.match(identifier) if isinstance(identifier, str) else None
    if found is None or region is None:
        return
    client_partition = partition_of(region)
    if found["partition"] != client_partition:
        raise ConfigurationError(
            f"{argument} {identifier!r} is in partition {found['partition']!r}, but the client "
            f"is in {region!r} (partition {client_partition!r}): use a client in that partition"
        )
    if found["region"] and found["region"] != region:
        raise ConfigurationError(
            f"{argument} {identifier!r} is in region {found['region']!r}, but the client is in "
            f"{region!r}: pass region_name={found['region']!r} or use that region's ARN"
        )
