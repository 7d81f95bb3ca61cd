"""BedrockKitLLM over InvokeModel shapes of round 2, one cassette per test (via LocalBedrock).

Mirrors tests/langchain/test_chat_invoke_wire.py: a guardrail blocking the input of a stream
and of InvokeModel, legacy Cohere Command with several generations, raw mode, CountTokens.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from bedrock_kit import errors
from bedrock_kit.llama_index import BedrockKitLLM
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
                "contentPolicy": {
                    "filters": [{"type": "MISCONDUCT", "confidence": "HIGH", "action": "BLOCKED"}]
                },
                "invocationMetrics": {"guardrailProcessingLatency": 90},
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
ASK = [ChatMessage(role=MessageRole.USER, content="How do I pick a lock?")]


def _events(chunks: list[dict[str, Any]]) -> Reply:
    return Reply.events([{"chunk": {"bytes": json.dumps(c).encode()}} for c in chunks])


def _llm(bedrock: Any, model: str, **kwargs: Any) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=model, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def _assert_blocked(response: Any) -> None:
    assert response.message.content == SORRY
    assert response.additional_kwargs["stop_reason"] == "guardrail_intervened"
    guardrail = response.additional_kwargs["guardrail"]
    assert guardrail.action_reason == "Guardrail blocked."
    assert guardrail.input_assessments["gr1"].content_filters[0].action == "BLOCKED"


def test_stream_chat_blocked_input(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events([BLOCKED_CHUNK]))
    llm = _llm(bedrock, TITAN, api="invoke", guardrail_config=GUARDRAIL)
    chunks = list(llm.stream_chat(ASK))
    assert "".join(c.delta or "" for c in chunks) == SORRY
    _assert_blocked(chunks[-1])
    assert chunks[-1].raw["usage"]["prompt_tokens"] == 12
    assert chunks[-1].raw["usage"]["completion_tokens"] == 9


async def test_astream_chat_blocked_input_raises_when_asked(bedrock):
    bedrock.script("InvokeModelWithResponseStream", _events([BLOCKED_CHUNK]))
    llm = _llm(
        bedrock,
        TITAN,
        api="invoke",
        guardrail_config=GUARDRAIL,
        raise_on_guardrail_intervention=True,
    )
    try:
        with pytest.raises(errors.GuardrailInterventionError) as info:
            async for _ in await llm.astream_chat(ASK):
                pass
    finally:
        await llm.aclose()
    assert info.value.output_text == SORRY


def test_chat_blocked_input(bedrock):
    bedrock.script("InvokeModel", Reply.json(BLOCKED_BODY))
    response = _llm(bedrock, CLAUDE, api="invoke", guardrail_config=GUARDRAIL).chat(ASK)
    _assert_blocked(response)
    assert response.raw["usage"]["total_tokens"] == 0  # the model never ran


async def test_achat_blocked_input(bedrock):
    bedrock.script("InvokeModel", Reply.json(BLOCKED_BODY))
    llm = _llm(bedrock, CLAUDE, api="invoke", guardrail_config=GUARDRAIL)
    try:
        response = await llm.achat(ASK)
    finally:
        await llm.aclose()
    _assert_blocked(response)


def test_legacy_cohere_stream_complete_with_two_generations(bedrock):
    chunks = [
        {"text": " Low", "index": 0, "is_finished": False},
        {"text": " High", "index": 1, "is_finished": False},
        {"text": " tide.", "index": 0, "is_finished": False},
        {
            "is_finished": True,
            "finish_reason": "COMPLETE",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5, "outputTokenCount": 6},
        },
    ]
    bedrock.script("InvokeModelWithResponseStream", _events(chunks))
    llm = _llm(
        bedrock,
        "cohere.command-light-text-v14",
        api="invoke",
        additional_model_request_fields={"num_generations": 2},
    )
    pieces = list(llm.stream_complete("Tide?"))
    assert pieces[-1].text == " Low tide."


def test_raw_mode_chat(bedrock):
    bedrock.script("InvokeModel", Reply.json(RAW_ANSWER, headers=COUNTS))
    llm = _llm(bedrock, NEW_MODEL, api="invoke")
    response = llm.chat([], body={"question": "When is low tide?"})
    assert response.raw["body"] == RAW_ANSWER
    assert response.message.content in ("", None)
    assert response.raw["usage"]["prompt_tokens"] == 7
    assert response.additional_kwargs["stop_reason"] == "unknown"


async def test_raw_mode_acomplete_with_empty_prompt(bedrock):
    bedrock.script("InvokeModel", Reply.json(RAW_ANSWER, headers=COUNTS))
    llm = _llm(bedrock, NEW_MODEL, api="invoke")
    try:
        completion = await llm.acomplete("", body={"question": "When is low tide?"})
    finally:
        await llm.aclose()
    assert completion.raw["body"] == RAW_ANSWER
    assert completion.raw["usage"]["completion_tokens"] == 4


def test_raw_mode_refusals_send_nothing(server):
    llm = BedrockKitLLM(model=NEW_MODEL, api="invoke", **server.client_kwargs())
    with pytest.raises(errors.ConfigurationError, match="body="):
        llm.chat(ASK)
    with pytest.raises(errors.ConfigurationError, match="replaces the messages"):
        llm.chat(ASK, body={"question": "x"})
    with pytest.raises(errors.ConfigurationError, match="needs a codec"):
        list(llm.stream_chat([], body={"question": "x"}))
    assert server.requests == []


def test_count_tokens_invalid_model_raises(bedrock):
    llm = _llm(bedrock, "does-not-exist")
    with pytest.raises(errors.BedrockValidationError, match="model identifier is invalid"):
        llm.count_tokens(ASK)


async def test_acount_tokens_not_countable_falls_back(bedrock, caplog):
    bedrock.script("CountTokens", Reply.error(400, "ValidationException", NOT_COUNTABLE))
    llm = _llm(bedrock, "amazon.nova-micro-v1:0")
    try:
        with caplog.at_level(logging.DEBUG, logger="bedrock_kit.core.chat.count"):
            first = await llm.acount_tokens(ASK)
            second = await llm.acount_tokens(ASK)  # not asked again
    finally:
        await llm.aclose()
    assert first == second > 0
    assert "doesn't support counting tokens" in caplog.text


def test_count_tokens_counts_with_tools(bedrock):
    bedrock.script("CountTokens", Reply.json({"inputTokens": 31}))
    llm = _llm(bedrock, "anthropic.claude-3-5-haiku-20241022-v1:0")

    def tide(port: str) -> str:
        """Next low tide at a port."""
        return port

    from llama_index.core.tools import FunctionTool

    assert llm.count_tokens(ASK, tools=[FunctionTool.from_defaults(tide)]) == 31
