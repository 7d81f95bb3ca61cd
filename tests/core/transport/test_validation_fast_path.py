"""check_text and check_number decide clean input without walking it: same verdicts as the walk.

The fast path (one pass over plain dicts, lists and tuples gathering every string and key for
one ASCII or surrogate check, with a bound on the depth) may only say "clean"; anything it
cannot vouch for goes to the exact walk, which names the path.
"""

from __future__ import annotations

import dataclasses
import math
from types import MappingProxyType

import pytest

from bedrock_kit.core.transport.validation import MAX_DEPTH, check_number, check_text
from bedrock_kit.errors import ConfigurationError

LONE = "\ud800"


@dataclasses.dataclass
class _Opaque:
    text: str


def _nested(levels: int, leaf: object) -> object:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (MappingProxyType({"a": ["ok", LONE]}), "r.a[1]"),  # a Mapping JSON cannot encode
        ({("tuple", "key"): LONE}, "r.('tuple', 'key')"),  # a key JSON refuses
        ({"b": b"\xff", "t": (1, f"x{LONE}")}, "r.t[1]"),  # bytes beside a tuple
        ({"n": 10**5000, "s": LONE}, "r.s"),  # an int too long for the encoder
    ],
)
def test_what_the_fast_path_cannot_encode_is_still_walked(value: object, path: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_text(value, "r")
    assert str(info.value).startswith(path + ":"), str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        {"doc": b"\xed\xa0\x80", "opaque": _Opaque(LONE), "nan": math.nan, "set": {LONE}},
        {"pair": "\ud83d\ude00"},  # a paired surrogate fails the encode, passes the walk
        {"brackets": "[" * (MAX_DEPTH + 50)},  # over the bracket bound, not nested at all
        {"n": 10**5000},
    ],
)
def test_what_the_walk_leaves_alone_passes(value: object) -> None:
    check_text(value, "r")


def test_depth_limit_is_the_same_on_both_paths() -> None:
    check_text(_nested(MAX_DEPTH, "leaf"), "r")
    with pytest.raises(ConfigurationError, match=f"deeper than {MAX_DEPTH} levels"):
        check_text(_nested(MAX_DEPTH + 1, "leaf"), "r")


def test_a_cycle_is_refused_not_recursed_forever() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ConfigurationError, match="deeper than"):
        check_text(loop, "r")


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [
        (True, {"low": 0, "high": 1}),  # a bool is never a number here
        (math.nan, {"low": 0, "high": 1}),
        (math.nan, {}),
        (-math.inf, {"low": 0}),
        (2.0, {"low": 1, "integer": True}),
        (0, {"low": 1, "integer": True}),
        (1.5, {"low": 0, "high": 1}),
    ],
)
def test_check_number_fast_path_refuses_what_the_full_check_refuses(
    value: object, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError):
        check_number(value, "n", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [(math.inf, {"low": 0}), (1, {"low": 1, "integer": True}), (0.0, {"low": 0, "high": 1})],
)
def test_check_number_fast_path_accepts_what_the_full_check_accepts(
    value: object, kwargs: dict[str, object]
) -> None:
    check_number(value, "n", **kwargs)  # type: ignore[arg-type]
