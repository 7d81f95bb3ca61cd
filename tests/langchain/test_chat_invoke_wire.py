"""ChatBedrockKit over InvokeModel shapes of round 2, one cassette per test (via LocalBedrock).

A guardrail that blocks the input of a stream (one chunk, no completion reason, no metrics),
the same block on InvokeModel, legacy Cohere Command with several generations, raw mode for
a model no codec knows, and CountTokens refusals. Sync and async.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage

from bedrock_kit import errors
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import Reply

pytestmark = pytest.mark.vcr

TITAN = "amazon.titan-text-express-v1"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
NEW_MODEL = "newco.frontier-v1:0"
SORRY = "Sorry, the model cannot answer this question."
GUARDRAIL = {"guardrailIdentifier": "gr1", "guardrailVersion": "1"}
TRACE = {
    "guardrail": {
        "input": {
            "gr1": {
                "topicPolicy": {
                    "topics": [{"name": "Finance", "type": "DENY", "action": "BLOCKED"}]
                },
                "invocationMetrics": {
                    "guardrailProcessingLatency": 120,
                    "usage": {"topicPolicyUnits": 1},
                    "guardrailCoverage": {"textCharacters": {"guarded": 20, "total": 20}},
                },
            }
        },
        "actionReason": "Guardrail blocked.",
    }
}
BLOCKED_CHUNK = {
    "outputText": SORRY,
    "index": 0,
    "totalOutputTextTokenCount": 9.0,
    "completionReason": None,
    "inputTextTokenCount": 12.0,
    "amazon-bedrock-guardrailAction": "INTERVENED",
    "amazon-bedrock-trace": TRACE,
}
BLOCKED_BODY = {
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": SORRY}],
    "amazon-bedrock-guardrailAction": "INTERVENED",
    "amazon-bedrock-trace": TRACE,
}
COUNTS = {"x-amzn-bedrock-input-token-count": "7", "x-amzn-bedrock-output-token-count": "4"}
RAW_ANSWER = {"answer": {"text": "Low tide at noon."}, "finish": "done"}
NOT_COUNTABLE = "The provided model doesn't support counting tokens."


def _events(chunks: list[dict[str, Any]]) -> Reply:
    return Reply.events([{"chunk": {"bytes": json.dumps(c).encode()}} for c in chunks])


def _model(bedrock: Any, model_id: str, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=model_id, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def _merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


def _assert_blocked(message: Any) -> None:
    assert message.content == SORRY
    assert message.response_metadata["stop_reason"] == "guardrail_intervened"
    guardrail = message.response_metadata["guardrail"]
    assert guardrail.action_reason == "Guardrail blocked."
    assert guardrail.input_assessments["gr1"].topics[0].action == "BLOCKED"


def test_stream_blocked_input(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events([BLOCKED_CHUNK]))
    llm = _model(bedrock, TITAN, api="invoke", guardrails=GUARDRAIL)
    message = _merged(list(llm.stream("Which stock should I buy?")))
    _assert_blocked(message)
    assert message.usage_metadata is not None
    assert (message.usage_metadata["input_tokens"], message.usage_metadata["output_tokens"]) == (
        12,
        9,
    )


async def test_astream_blocked_input(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events([BLOCKED_CHUNK]))
    llm = _model(bedrock, TITAN, api="invoke", guardrails=GUARDRAIL)
    try:
        message = _merged([c async for c in llm.astream("Which stock should I buy?")])
    finally:
        await llm.aclose()
    _assert_blocked(message)
    assert message.usage_metadata is not None
    assert message.usage_metadata["total_tokens"] == 21


def test_stream_blocked_input_raises_when_asked(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events([BLOCKED_CHUNK]))
    llm = _model(
        bedrock, TITAN, api="invoke", guardrails=GUARDRAIL, raise_on_guardrail_intervention=True
    )
    with pytest.raises(errors.GuardrailInterventionError) as info:
        list(llm.stream("Which stock should I buy?"))
    assert info.value.output_text == SORRY


def test_invoke_blocked_input(bedrock):
    bedrock.script("InvokeModel", Reply.json(BLOCKED_BODY))
    message = _model(bedrock, CLAUDE, api="invoke", guardrails=GUARDRAIL).invoke("Stocks?")
    _assert_blocked(message)
    assert message.usage_metadata is not None
    assert message.usage_metadata["total_tokens"] == 0  # the model never ran


async def test_ainvoke_blocked_input_raises_when_asked(bedrock):
    bedrock.script("InvokeModel", Reply.json(BLOCKED_BODY))
    llm = _model(
        bedrock, CLAUDE, api="invoke", guardrails=GUARDRAIL, raise_on_guardrail_intervention=True
    )
    try:
        with pytest.raises(errors.GuardrailInterventionError) as info:
            await llm.ainvoke("Stocks?")
    finally:
        await llm.aclose()
    assert info.value.output_text == SORRY


LEGACY_CHUNKS = [
    {"text": " Low", "index": 0, "is_finished": False},
    {"text": " High", "index": 1, "is_finished": False},
    {"text": " tide.", "index": 0, "is_finished": False},
    {
        "is_finished": True,
        "finish_reason": "COMPLETE",
        "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5, "outputTokenCount": 6},
    },
]


def test_legacy_cohere_stream_with_two_generations(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events(LEGACY_CHUNKS))
    llm = _model(
        bedrock,
        "cohere.command-text-v14",
        api="invoke",
        additional_model_request_fields={"num_generations": 2},
    )
    message = _merged(list(llm.stream("Tide?")))
    assert message.content == " Low tide."
    assert message.response_metadata["stop_reason"] == "end_turn"
    if bedrock.server is not None:  # recording: the request asked for two generations
        sent = bedrock.server.requests_for("InvokeModelWithResponseStream")[0].body
        assert sent["num_generations"] == 2


def test_raw_mode_invoke(bedrock):
    bedrock.script("InvokeModel", Reply.json(RAW_ANSWER, headers=COUNTS))
    llm = _model(bedrock, NEW_MODEL, api="invoke")
    body = {"question": "When is low tide?", "max_new_tokens": 20}
    message = llm.invoke([], body=body)
    assert message.content == ""
    assert message.response_metadata["raw_body"] == RAW_ANSWER
    assert message.response_metadata["stop_reason"] == "unknown"
    assert message.usage_metadata is not None
    assert (message.usage_metadata["input_tokens"], message.usage_metadata["output_tokens"]) == (
        7,
        4,
    )
    if bedrock.server is not None:
        assert bedrock.server.requests_for("InvokeModel")[0].body == body


async def test_raw_mode_ainvoke(bedrock):
    bedrock.script("InvokeModel", Reply.json(RAW_ANSWER, headers=COUNTS))
    llm = _model(bedrock, NEW_MODEL, api="invoke")
    try:
        message = await llm.ainvoke([], body={"question": "When is low tide?"})
    finally:
        await llm.aclose()
    assert message.response_metadata["raw_body"] == RAW_ANSWER


def test_raw_mode_refusals_send_nothing(server):
    llm = ChatBedrockKit(model=NEW_MODEL, api="invoke", **server.client_kwargs())
    with pytest.raises(errors.ConfigurationError, match="body="):
        llm.invoke("no codec, no body")
    with pytest.raises(errors.ConfigurationError, match="replaces the messages"):
        llm.invoke("hi", body={"question": "x"})
    with pytest.raises(errors.ConfigurationError, match="needs a codec"):
        list(llm.stream([], body={"question": "x"}))
    with pytest.raises(errors.ConfigurationError, match="api='invoke'"):
        ChatBedrockKit(model=NEW_MODEL, **server.client_kwargs()).invoke([], body={"x": 1})
    assert server.requests == []


def test_count_tokens_invalid_model_raises(bedrock):
    llm = _model(bedrock, "anthropic.claude-nonexistent-v9:0")
    bedrock.script(
        "CountTokens",
        Reply.error(400, "ValidationException", "The provided model identifier is invalid."),
    )
    with pytest.raises(errors.BedrockValidationError, match="model identifier is invalid"):
        llm.get_num_tokens_from_messages([HumanMessage("How many tokens?")])


async def test_acount_tokens_invalid_model_raises(bedrock):
    llm = _model(bedrock, "does-not-exist")
    try:
        with pytest.raises(errors.BedrockValidationError, match="model identifier is invalid"):
            await llm.aget_num_tokens_from_messages([HumanMessage("How many tokens?")])
    finally:
        await llm.aclose()


def test_count_tokens_not_countable_falls_back_once(bedrock, caplog):
    bedrock.script("CountTokens", Reply.error(400, "ValidationException", NOT_COUNTABLE))
    llm = _model(bedrock, "us.amazon.nova-micro-v1:0")
    messages = [HumanMessage("How many tokens is this sentence?")]
    with caplog.at_level(logging.DEBUG, logger="bedrock_kit.core.chat.count"):
        first = llm.get_num_tokens_from_messages(messages)
        second = llm.get_num_tokens_from_messages(messages)  # not asked again
    assert first == second > 0
    assert "doesn't support counting tokens" in caplog.text
    assert "estimate" in caplog.text


async def test_acount_tokens_counts(bedrock):
    bedrock.script("CountTokens", Reply.json({"inputTokens": 17}))
    llm = _model(bedrock, "us.anthropic.claude-3-5-haiku-20241022-v1:0")
    try:
        assert await llm.aget_num_tokens_from_messages([HumanMessage("Count me")]) == 17
    finally:
        await llm.aclose()
