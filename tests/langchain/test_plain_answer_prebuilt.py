"""A plain-text answer's AIMessage is built without validating again (``_PLAIN_ANSWER``)
and is the validated one: equal, same dump, same fields set, same JSON, for every shape of
result a plain answer can have."""

from __future__ import annotations

import pytest
from langchain_core.load import dumps
from langchain_core.messages import AIMessage

from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.langchain import _content

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
USAGE = {"inputTokens": 8, "outputTokens": 9, "totalTokens": 17}


def _response(**over):
    body = {
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 200},
        "output": {"message": {"role": "assistant", "content": [{"text": "echo"}]}},
        "stopReason": "end_turn",
        "usage": dict(USAGE),
        "metrics": {"latencyMs": 12},
    }
    body.update(over)
    return body


CASES = {
    "plain": _response(),
    "two texts": _response(
        output={"message": {"role": "assistant", "content": [{"text": "a"}, {"text": "b"}]}}
    ),
    "no content": _response(output={"message": {"role": "assistant", "content": []}}),
    "no request id": {k: v for k, v in _response().items() if k != "ResponseMetadata"},
    "no metrics": {k: v for k, v in _response().items() if k != "metrics"},
    "cache tokens": _response(
        usage={**USAGE, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 20}
    ),
    "one hour writes": _response(
        usage={
            **USAGE,
            "cacheWriteInputTokens": 20,
            "cacheDetails": [{"inputTokens": 20, "ttl": "1h"}],
        }
    ),
    "server tools": _response(usage={**USAGE, "serverToolUsage": {"webSearch": 2}}),
    "fields": _response(additionalModelResponseFields={"stop_sequence": "END"}),
    "stop": _response(stopReason="max_tokens"),
}


def _validated(result, model_name):
    saved = _content._PLAIN_ANSWER
    try:
        _content._PLAIN_ANSWER = None
        return _content.to_ai_message(result, model_name=model_name)
    finally:
        _content._PLAIN_ANSWER = saved


def test_the_builder_exists_on_this_langchain_core():
    assert _content._PLAIN_ANSWER is not None


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("model_name", [None, "anthropic.claude-haiku-4-5-20251001-v1:0"])
def test_the_prebuilt_answer_is_the_validated_one(name, model_name):
    result = parse_converse_response(CASES[name], model_id=MODEL)
    fast = _content.to_ai_message(result, model_name=model_name)
    slow = _validated(result, model_name)
    assert type(fast) is AIMessage
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert dumps(fast) == dumps(slow)
    assert fast.text == slow.text and fast.usage_metadata == slow.usage_metadata


def test_each_answer_has_its_own_containers():
    result = parse_converse_response(CASES["plain"], model_id=MODEL)
    first = _content.to_ai_message(result)
    second = _content.to_ai_message(result)
    first.tool_calls.append({"name": "x", "args": {}, "id": "1", "type": "tool_call"})
    first.additional_kwargs["k"] = 1
    first.response_metadata["k"] = 1
    assert second.tool_calls == [] and second.additional_kwargs == {}
    assert "k" not in second.response_metadata
