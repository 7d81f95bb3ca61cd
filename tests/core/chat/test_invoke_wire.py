"""InvokeModel shapes of round 2 on literal bodies: guardrail blocks, legacy Cohere, raw mode.

The blocked-input chunk is the shape Bedrock sends when a guardrail blocks the prompt of an
InvokeModelWithResponseStream call: one chunk with the guardrail's message,
``amazon-bedrock-guardrailAction: INTERVENED`` and the trace, token counts as floats, and no
completion reason or invocation metrics.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_kit.core.chat.count import estimate_input_tokens, is_unsupported
from bedrock_kit.core.chat.invoke import (
    InvokeStreamAdapter,
    codec_for,
    known_model,
    parse_invoke_response,
)
from bedrock_kit.core.chat.send import build_chat_request
from bedrock_kit.core.chat.stream import CompletedDelta, StreamReducer, TextDelta, iter_deltas
from bedrock_kit.core.chat.types import GuardrailConfig, Message, TextBlock
from bedrock_kit.errors import (
    BedrockValidationError,
    ConfigurationError,
    IncompleteStreamError,
    MalformedResponseError,
)

TITAN = "amazon.titan-text-express-v1"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
COHERE = "cohere.command-text-v14"
SORRY = "Sorry, the model cannot answer this question."
INPUT_TRACE = {
    "guardrail": {
        "input": {
            "gr1": {
                "topicPolicy": {
                    "topics": [{"name": "Finance", "type": "DENY", "action": "BLOCKED"}]
                },
                "invocationMetrics": {
                    "guardrailProcessingLatency": 120,
                    "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1},
                    "guardrailCoverage": {"textCharacters": {"guarded": 20, "total": 20}},
                },
            }
        },
        "actionReason": "Guardrail blocked.",
    }
}
OUTPUT_TRACE = {
    "guardrail": {
        "input": {"gr1": {"invocationMetrics": {"guardrailProcessingLatency": 5}}},
        "outputs": [
            {
                "gr1": {
                    "contentPolicy": {
                        "filters": [{"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"}]
                    }
                }
            }
        ],
    }
}
BLOCKED_TITAN_CHUNK = {
    "outputText": SORRY,
    "index": 0,
    "totalOutputTextTokenCount": 9.0,
    "completionReason": None,
    "inputTextTokenCount": 12.0,
    "amazon-bedrock-guardrailAction": "INTERVENED",
    "amazon-bedrock-trace": INPUT_TRACE,
}


def _wire(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"chunk": {"bytes": json.dumps(c).encode()}} for c in chunks]


def _run(model_id: str, chunks: list[dict[str, Any]]) -> tuple[str, Any]:
    adapter = InvokeStreamAdapter(model_id)

    def events():
        for wire in _wire(chunks):
            yield from adapter.events(wire)
        yield from adapter.end()

    deltas = list(iter_deltas(events(), StreamReducer(model_id)))
    text = "".join(d.text for d in deltas if isinstance(d, TextDelta))
    assert isinstance(deltas[-1], CompletedDelta)
    return text, deltas[-1].result


def test_titan_stream_blocked_input_completes_with_the_guardrail_message():
    text, result = _run(TITAN, [BLOCKED_TITAN_CHUNK])
    assert text == SORRY == result.text
    assert result.stop_reason == "guardrail_intervened" and result.guardrail_intervened
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 9)
    assert result.guardrail is not None
    assert result.guardrail.action_reason == "Guardrail blocked."
    topic = result.guardrail.input_assessments["gr1"].topics[0]
    assert (topic.name, topic.action) == ("Finance", "BLOCKED")


def test_blocked_input_without_token_counts_bills_no_model_tokens():
    chunk = {k: v for k, v in BLOCKED_TITAN_CHUNK.items() if "TokenCount" not in k}
    _, result = _run(TITAN, [chunk])
    assert (result.usage.input_tokens, result.usage.output_tokens) == (0, 0)
    assert result.stop_reason == "guardrail_intervened"


def test_output_blocked_without_any_count_is_malformed_not_zero():
    chunk = {
        "outputText": SORRY,
        "amazon-bedrock-guardrailAction": "INTERVENED",
        "amazon-bedrock-trace": OUTPUT_TRACE,
    }
    with pytest.raises(MalformedResponseError, match="token counts"):
        _run(TITAN, [chunk])


def test_stream_without_guardrail_still_reports_incomplete():
    with pytest.raises(IncompleteStreamError):
        _run(TITAN, [{"outputText": "half an answ", "index": 0}])


def test_intervened_metrics_chunk_without_completion_reason():
    chunk = {
        **BLOCKED_TITAN_CHUNK,
        "amazon-bedrock-invocationMetrics": {"inputTokenCount": 12, "outputTokenCount": 9},
    }
    text, result = _run(TITAN, [chunk])
    assert text == SORRY
    assert result.stop_reason == "guardrail_intervened"
    assert result.usage.total_tokens == 21


def test_anthropic_stream_blocked_input_as_one_message_chunk():
    chunk = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": SORRY}],
        "amazon-bedrock-guardrailAction": "INTERVENED",
        "amazon-bedrock-trace": INPUT_TRACE,
    }
    text, result = _run(CLAUDE, [chunk])
    assert text == SORRY
    assert result.stop_reason == "guardrail_intervened"
    assert result.usage.input_tokens == 0


def test_invoke_blocked_input_body_has_no_stop_reason_and_no_usage():
    body = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": SORRY}],
        "amazon-bedrock-guardrailAction": "INTERVENED",
        "amazon-bedrock-trace": INPUT_TRACE,
    }
    result = parse_invoke_response({}, json.dumps(body).encode(), model_id=CLAUDE)
    assert result.text == SORRY
    assert result.stop_reason == "guardrail_intervened"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (0, 0)
    assert set(result.guardrail.input_assessments) == {"gr1"}


def test_invoke_titan_blocked_with_float_counts():
    body = {
        "inputTextTokenCount": 12.0,
        "results": [{"tokenCount": 9.0, "outputText": SORRY, "completionReason": None}],
        "amazon-bedrock-guardrailAction": "INTERVENED",
        "amazon-bedrock-trace": INPUT_TRACE,
    }
    result = parse_invoke_response({}, json.dumps(body).encode(), model_id=TITAN)
    assert (result.text, result.stop_reason) == (SORRY, "guardrail_intervened")
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 9)


def test_missing_stop_reason_without_a_guardrail_stays_malformed():
    body = {"content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 1}}
    with pytest.raises(MalformedResponseError, match="stop reason is missing"):
        parse_invoke_response({}, json.dumps(body).encode(), model_id=CLAUDE)


# -- legacy Cohere Command


def test_legacy_cohere_stream_top_level_text():
    chunks = [
        {"text": " Low", "is_finished": False},
        {"text": " tide.", "is_finished": False},
        {
            "is_finished": True,
            "finish_reason": "COMPLETE",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 4, "outputTokenCount": 3},
        },
    ]
    text, result = _run(COHERE, chunks)
    assert text == " Low tide." == result.text
    assert result.stop_reason == "end_turn"


def test_legacy_cohere_num_generations_streams_generation_zero():
    chunks = [
        {"text": " Low", "index": 0, "is_finished": False},
        {"text": " High", "index": 1, "is_finished": False},
        {"text": " tide.", "index": 0, "is_finished": False},
        {"text": " water.", "index": 1, "is_finished": False},
        {"index": 1, "is_finished": True, "finish_reason": "MAX_TOKENS"},
        {
            "index": 0,
            "is_finished": True,
            "finish_reason": "COMPLETE",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 4, "outputTokenCount": 6},
        },
    ]
    text, result = _run("cohere.command-light-text-v14", chunks)
    assert text == " Low tide."
    assert result.stop_reason == "end_turn"
    assert result.usage.output_tokens == 6


@pytest.mark.parametrize(
    ("model_id", "chunk"),
    [
        ("cohere.command-r-v1:0", {"text": SORRY}),
        ("meta.llama3-8b-instruct-v1:0", {"generation": SORRY, "stop_reason": None}),
        ("mistral.mistral-7b-instruct-v0:2", {"outputs": [{"text": SORRY, "stop_reason": None}]}),
        ("ai21.jamba-1-5-mini-v1:0", {"choices": [{"message": {"content": SORRY}}]}),
    ],
)
def test_other_providers_stream_blocked_input(model_id, chunk):
    blocked = {**chunk, "amazon-bedrock-guardrailAction": "INTERVENED"}
    text, result = _run(model_id, [{**blocked, "amazon-bedrock-trace": INPUT_TRACE}])
    assert text == SORRY
    assert result.stop_reason == "guardrail_intervened"
    assert result.usage.total_tokens == 0


def test_command_r_codec_is_not_the_legacy_one():
    assert codec_for("cohere.command-r-v1:0").chunk_events is not codec_for(COHERE).chunk_events


# -- raw mode

USER = [Message("user", (TextBlock("hi"),))]


def test_raw_body_is_sent_unchanged():
    body = {"prompt": "hi", "weird": [1, {"x": None}]}
    request = build_chat_request("invoke", "newco.model-v1:0", [], body=body)
    assert json.loads(request["body"]) == body
    assert request["modelId"] == "newco.model-v1:0"
    assert request["contentType"] == "application/json"


def test_raw_body_keeps_the_guardrail_headers():
    guardrail = GuardrailConfig("gr1", "2")
    request = build_chat_request("invoke", "newco.x", [], guardrail=guardrail, body={"a": 1})
    assert (request["guardrailIdentifier"], request["guardrailVersion"]) == ("gr1", "2")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"api": "converse"}, "needs api='invoke'"),
        ({"messages": USER}, "replaces the messages"),
        ({"stream": True}, "needs a codec"),
        ({"body": ["not", "a", "dict"]}, "must be a dict"),
        ({"body": {"x": float("nan")}}, "not JSON-serialisable"),
        ({"body": {"x": object()}}, "not JSON-serialisable"),
    ],
)
def test_raw_body_refusals(kwargs, match):
    args: dict[str, Any] = {"api": "invoke", "messages": [], "body": {"prompt": "hi"}, **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        build_chat_request(args.pop("api"), "newco.model-v1:0", args.pop("messages"), **args)


def test_raw_stream_of_a_known_model_is_allowed():
    request = build_chat_request("invoke", TITAN, [], body={"inputText": "x"}, stream=True)
    assert json.loads(request["body"]) == {"inputText": "x"}


def test_unknown_model_without_body_names_raw_mode():
    assert not known_model("newco.model-v1:0") and known_model(TITAN)
    with pytest.raises(ConfigurationError, match="body="):
        build_chat_request("invoke", "newco.model-v1:0", USER)


def test_raw_response_keeps_the_body_and_header_counts():
    headers = {"x-amzn-bedrock-input-token-count": "3", "x-amzn-bedrock-output-token-count": "2"}
    response = {"ResponseMetadata": {"RequestId": "r1", "HTTPHeaders": headers}}
    body = {"answer": "hi", "n": 1}
    result = parse_invoke_response(response, json.dumps(body).encode(), model_id="newco.m")
    assert result.raw_body == body
    assert result.text == "" and result.stop_reason == "unknown" and result.raw_stop_reason == ""
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 2)
    assert result.request_id == "r1"


def test_raw_response_without_counts_is_malformed():
    with pytest.raises(MalformedResponseError, match="token count"):
        parse_invoke_response({}, b'{"answer": "hi"}', model_id="newco.m")


def test_raw_response_of_a_guardrail():
    body = {"amazon-bedrock-guardrailAction": "INTERVENED", "amazon-bedrock-trace": INPUT_TRACE}
    result = parse_invoke_response({}, json.dumps(body).encode(), model_id="newco.m")
    assert result.stop_reason == "guardrail_intervened"
    assert result.raw_body == body
    assert result.usage.input_tokens == 0


# -- CountTokens refusals


def test_only_the_not_countable_refusal_is_unsupported():
    assert is_unsupported(
        BedrockValidationError("The provided model doesn't support counting tokens.")
    )
    assert not is_unsupported(BedrockValidationError("The provided model identifier is invalid."))
    assert not is_unsupported(ValueError("The provided model doesn't support counting tokens."))


def test_estimate_covers_both_apis():
    converse = build_chat_request("converse", CLAUDE, USER)
    invoke = build_chat_request("invoke", CLAUDE, USER)
    assert estimate_input_tokens(converse) > 0
    assert estimate_input_tokens(invoke) > 0
