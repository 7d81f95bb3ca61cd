"""Event payloads are decoded with json's C scanner directly: json.loads's answers, exactly."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.transport.responses import _loads

_TEXTS = [
    '{"contentBlockIndex":0,"delta":{"text":"hi"}}',
    ' {"a":1}',
    '{"a":1} ',
    '{"a":1}\n',
    "\ufeff{}",
    "[1,2]",
    '"x"',
    "1",
    "null",
    '{"a":1}x',
    '{"a":1}{"b":2}',
    "",
    "   ",
    "{",
    '{"a":"\\ud800"}',
    '{"a":' * 50 + "1" + "}" * 50,
]


def _outcome(fn, text):
    try:
        return ("ok", fn(text))
    except Exception as exc:
        return ("error", type(exc), str(exc))


@pytest.mark.parametrize("text", _TEXTS)
def test_same_value_or_error_as_json_loads(text):
    assert _outcome(_loads, text) == _outcome(json.loads, text)


def test_nesting_refused_as_json_refuses_it():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(deep)
    with pytest.raises(RecursionError):
        _loads(deep)
