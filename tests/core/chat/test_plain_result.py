"""The plain-answer read of parse_converse_response (``_plain_result``) gives what the
reader gives, and declines (the reader then reads, and names the problem) on anything else:
each case is parsed both ways and compared, results and errors alike."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bedrock_kit.core.chat import converse
from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.errors import BedrockKitError

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
BASE: dict[str, Any] = {
    "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 200, "HTTPHeaders": {}},
    "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
    "metrics": {"latencyMs": 12},
}


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    response = copy.deepcopy(BASE)
    target = response
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return response


_DROP = object()
CASES: dict[str, Any] = {
    "plain": BASE,
    "several texts": _with(("output", "message", "content"), [{"text": "a"}, {"text": ""}]),
    "no content blocks": _with(("output", "message", "content"), []),
    "no metrics": _with(("metrics",), _DROP),
    "metrics null": _with(("metrics",), None),
    "no latency": _with(("metrics",), {}),
    "float latency": _with(("metrics", "latencyMs"), 12.0),
    "negative latency": _with(("metrics", "latencyMs"), -1),
    "bool latency": _with(("metrics", "latencyMs"), True),
    "metrics a list": _with(("metrics",), [1]),
    "no request id": _with(("ResponseMetadata",), _DROP),
    "request id in headers": _with(
        ("ResponseMetadata",), {"HTTPHeaders": {"x-amzn-requestid": "h-1"}}
    ),
    "unknown stop": _with(("stopReason",), "something_new"),
    "empty stop": _with(("stopReason",), ""),
    "stop not text": _with(("stopReason",), 3),
    "no stop": _with(("stopReason",), _DROP),
    "cache counts": _with(
        ("usage",),
        {"inputTokens": 3, "outputTokens": 2, "totalTokens": 9, "cacheReadInputTokens": 4},
    ),
    "float count": _with(("usage", "inputTokens"), 3.0),
    "bool count": _with(("usage", "outputTokens"), True),
    "text count": _with(("usage", "inputTokens"), "3"),
    "no usage": _with(("usage",), _DROP),
    "cache details": _with(("usage", "cacheDetails"), [{"inputTokens": 1, "ttl": "1h"}]),
    "tool block": _with(
        ("output", "message", "content"),
        [{"text": "a"}, {"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}],
    ),
    "text not a string": _with(("output", "message", "content"), [{"text": 5}]),
    "block with two keys": _with(("output", "message", "content"), [{"text": "a", "x": 1}]),
    "block not a dict": _with(("output", "message", "content"), ["hi"]),
    "content a dict": _with(("output", "message", "content"), {"text": "a"}),
    "no message": _with(("output",), {}),
    "output null": _with(("output",), None),
    "trace": _with(("trace",), {"guardrail": {}}),
    "fields": _with(("additionalModelResponseFields",), {"stop_sequence": "END"}),
    "unknown member": _with(("performanceConfig",), {"latency": "standard"}),
    "not a dict": [BASE],
}


def _parse(response: Any, monkeypatch: pytest.MonkeyPatch, fast: bool) -> Any:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(converse, "_plain_result", lambda _response, _model: None)
        try:
            return parse_converse_response(response, model_id=MODEL)
        except BedrockKitError as exc:
            return (type(exc), str(exc), exc.model_id, exc.request_id)


@pytest.mark.parametrize("name", CASES)
def test_the_plain_read_gives_what_the_reader_gives(name, monkeypatch):
    response = CASES[name]
    assert _parse(response, monkeypatch, True) == _parse(response, monkeypatch, False)


def test_the_plain_read_takes_the_usual_answer():
    assert converse._plain_result(BASE, MODEL) is not None
    assert converse._plain_result(CASES["no metrics"], MODEL) is not None
    assert converse._plain_result(CASES["tool block"], MODEL) is None
    assert converse._plain_result(CASES["float count"], MODEL) is None


def test_results_share_no_containers():
    first = parse_converse_response(BASE, model_id=MODEL)
    second = parse_converse_response(BASE, model_id=MODEL)
    assert first == second
    assert first.trace is not second.trace
    assert first.additional_model_response_fields is not second.additional_model_response_fields
