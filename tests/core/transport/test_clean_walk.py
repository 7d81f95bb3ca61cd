"""check_text's one-pass walk: clean input passes without the exact walk, anything it cannot
vouch for (and every surrogate) is decided by the exact walk, which names the path."""

from __future__ import annotations

import pytest

from bedrock_kit.core.transport import validation
from bedrock_kit.core.transport.validation import MAX_DEPTH, check_text
from bedrock_kit.errors import ConfigurationError

LONE = "\udc80"


class _Text(str):
    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        {"messages": [{"content": [{"text": "tide " * 5000}]}], "n": 1, "f": 0.5, "b": b"\xff"},
        {"pair": "caf\u00e9 \ud83d\ude00", "none": None, "flag": True, "t": ("x", ["y"])},
        [],
        {},
        "plain",
        42,
    ],
)
def test_clean_input_passes_in_one_pass(value: object) -> None:
    assert validation._clean_fast(value)
    check_text(value, "r")


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"messages": [{"content": [{"text": "ok"}, {"text": f"a{LONE}"}]}]}, "r.messages[0]"),
        ({f"k{LONE}": 1}, "r.<key>"),
        ({"a": [_Text(LONE)]}, "r.a[0]"),  # a str subclass: the exact walk reads it
        (("x", ("y", LONE)), "r[1][1]"),
    ],
)
def test_every_surrogate_is_refused_by_path(value: object, path: str) -> None:
    assert not validation._clean_fast(value)
    with pytest.raises(ConfigurationError, match="unpaired surrogate") as info:
        check_text(value, "r")
    assert str(info.value).startswith(path), str(info.value)


@pytest.mark.parametrize("value", [{"s": {LONE}}, {1: "a"}, {"o": object()}])
def test_what_the_walk_cannot_vouch_for_goes_to_the_exact_walk(value: object) -> None:
    assert not validation._clean_fast(value)
    check_text(value, "r")  # the exact walk leaves sets, int keys and objects alone


def test_depth_is_bounded_exactly_at_the_limit() -> None:
    deep: object = "leaf"
    for _ in range(MAX_DEPTH):
        deep = {"d": deep}
    assert validation._clean_fast(deep)
    assert not validation._clean_fast([deep])
    with pytest.raises(ConfigurationError, match="deeper than"):
        check_text([deep], "r")
