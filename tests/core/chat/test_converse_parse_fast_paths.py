"""parse_converse_response reads every member it did before, with one shared reader.

The parse reads members by subscript over None defaults and skips optional members Bedrock
did not send; the module-level reader's guard names each call itself, so one response's
model and request id never show up in another's error.
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.errors import MalformedResponseError


def _response(request_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 200},
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
        **extra,
    }


def test_errors_name_their_own_call_through_the_shared_reader() -> None:
    for model, request_id in (("m-one", "r-1"), ("m-two", "r-2"), ("m-one", "r-3")):
        broken = _response(request_id, usage={"inputTokens": "3"})
        with pytest.raises(MalformedResponseError, match=r"usage\.inputTokens") as info:
            parse_converse_response(broken, model_id=model)
        assert (info.value.model_id, info.value.request_id) == (model, request_id)
        ok = parse_converse_response(_response(request_id), model_id=model)
        assert (ok.model_id, ok.request_id) == (model, request_id)


def test_bare_python_errors_inside_are_typed_with_the_call() -> None:
    response = _response("r-9", output={"message": {"content": [["not", "a", "block"]]}})
    with pytest.raises(MalformedResponseError) as info:
        parse_converse_response(response, model_id="m-nine")
    assert (info.value.model_id, info.value.request_id) == ("m-nine", "r-9")


def test_every_optional_member_is_still_read() -> None:
    usage = {
        "inputTokens": 3,
        "outputTokens": 2,
        "totalTokens": 13,
        "cacheReadInputTokens": 5,
        "cacheWriteInputTokens": 3.0,
        "cacheDetails": [{"inputTokens": 2, "ttl": "1h"}, {"inputTokens": 1, "ttl": "5m"}],
        "serverToolUsage": {"webSearch": {"calls": 1}},
    }
    response = _response(
        "r-4",
        usage=usage,
        metrics={"latencyMs": 12},
        additionalModelResponseFields={"stop_sequence": "END"},
        trace={"guardrail": {}, "promptRouter": {"invokedModelId": "x"}},
    )
    result = parse_converse_response(response, model_id="m")
    assert result.usage.cache_read_input_tokens == 5
    assert result.usage.cache_write_input_tokens == 3
    assert result.usage.cache_write_1h_input_tokens == 2
    assert result.usage.server_tool_usage == {"webSearch": {"calls": 1}}
    assert result.latency_ms == 12
    assert result.additional_model_response_fields == {"stop_sequence": "END"}
    assert result.trace["promptRouter"] == {"invokedModelId": "x"}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"metrics": {"latencyMs": -1}}, "metrics.latencyMs"),
        ({"metrics": []}, "metrics"),
        ({"stopReason": ""}, "stopReason is empty"),
        ({"usage": {"inputTokens": 3, "outputTokens": True, "totalTokens": 5}}, "outputTokens"),
        ({"additionalModelResponseFields": [[[[]]]]}, None),
    ],
)
def test_fast_paths_refuse_what_the_checks_refuse(
    changes: dict[str, Any], problem: str | None
) -> None:
    response = _response("r-5", **changes)
    if problem is None:  # a list document is kept under "value", not refused
        parsed = parse_converse_response(response, model_id="m")
        assert parsed.additional_model_response_fields == {"value": [[[[]]]]}
        return
    with pytest.raises(MalformedResponseError, match=problem):
        parse_converse_response(response, model_id="m")
