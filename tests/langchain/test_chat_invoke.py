"""ChatBedrockKit(api="invoke"): one cassette per provider codec, invoke and stream.

Recorded through LocalBedrock with provider-native bodies shaped as each provider documents
them; replay checks the request body we send (JSON-matched) and the parsed answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import Reply

pytestmark = pytest.mark.vcr

HEADERS = {"x-amzn-bedrock-input-token-count": "11", "x-amzn-bedrock-output-token-count": "5"}
METRICS = {
    "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": 11,
        "outputTokenCount": 5,
        "invocationLatency": 40,
    }
}

# model id -> (InvokeModel response body, stream chunks, expected stop reason)
PROVIDERS: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str]] = {
    "anthropic.claude-3-haiku-20240307-v1:0": (
        {
            "content": [{"type": "text", "text": "Low tide."}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 11, "output_tokens": 5},
        },
        [
            {"type": "message_start", "message": {"usage": {"input_tokens": 11}}},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Low "},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "tide."},
            },
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 5},
            },
            {"type": "message_stop", **METRICS},
        ],
        "end_turn",
    ),
    "amazon.nova-micro-v1:0": (
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Low tide."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 11, "outputTokens": 5},
        },
        [
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Low "}}},
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "tide."}}},
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": {"inputTokens": 11, "outputTokens": 5}}, **METRICS},
        ],
        "end_turn",
    ),
    "amazon.titan-text-express-v1": (
        {
            "inputTextTokenCount": 11,
            "results": [{"tokenCount": 5, "outputText": "Low tide.", "completionReason": "FINISH"}],
        },
        [
            {"outputText": "Low ", "index": 0},
            {"outputText": "tide.", "index": 0, "completionReason": "FINISH", **METRICS},
        ],
        "end_turn",
    ),
    "meta.llama3-8b-instruct-v1:0": (
        {
            "generation": "Low tide.",
            "prompt_token_count": 11,
            "generation_token_count": 5,
            "stop_reason": "stop",
        },
        [{"generation": "Low "}, {"generation": "tide.", "stop_reason": "stop", **METRICS}],
        "end_turn",
    ),
    "mistral.mistral-7b-instruct-v0:2": (
        {"outputs": [{"text": "Low tide.", "stop_reason": "stop"}]},
        [
            {"outputs": [{"text": "Low "}]},
            {"outputs": [{"text": "tide.", "stop_reason": "stop"}], **METRICS},
        ],
        "end_turn",
    ),
    "cohere.command-r-v1:0": (
        {"text": "Low tide.", "finish_reason": "COMPLETE"},
        [
            {"event_type": "text-generation", "text": "Low ", "is_finished": False},
            {"event_type": "text-generation", "text": "tide.", "is_finished": False},
            {
                "event_type": "stream-end",
                "is_finished": True,
                "finish_reason": "COMPLETE",
                **METRICS,
            },
        ],
        "end_turn",
    ),
    "ai21.jamba-1-5-mini-v1:0": (
        {
            "choices": [
                {"message": {"role": "assistant", "content": "Low tide."}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 5},
        },
        [
            {"choices": [{"delta": {"content": "Low "}}]},
            {"choices": [{"delta": {"content": "tide."}, "finish_reason": "stop"}], **METRICS},
        ],
        "end_turn",
    ),
}


def _model(bedrock, model_id: str) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=model_id,
        api="invoke",
        max_tokens=64,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
    )


@pytest.mark.parametrize("model_id", list(PROVIDERS))
def test_invoke_per_provider(bedrock, model_id):
    body, _, stop = PROVIDERS[model_id]
    bedrock.script("InvokeModel", Reply.json(body, headers=HEADERS))
    msg = _model(bedrock, model_id).invoke([("system", "Be brief."), ("human", "Is it high tide?")])
    assert msg.content == "Low tide."
    assert msg.response_metadata["stop_reason"] == stop
    assert (msg.usage_metadata["input_tokens"], msg.usage_metadata["output_tokens"]) == (11, 5)  # type: ignore[index]


@pytest.mark.parametrize("model_id", list(PROVIDERS))
def test_stream_per_provider(bedrock, model_id):
    _, chunks, stop = PROVIDERS[model_id]
    events = [{"chunk": {"bytes": json.dumps(chunk).encode()}} for chunk in chunks]
    bedrock.script("InvokeModelWithResponseStream", Reply.events(events))
    pieces = list(_model(bedrock, model_id).stream("Is it high tide?"))
    assert "".join(str(p.content) for p in pieces) == "Low tide."
    assert pieces[-1].response_metadata["stop_reason"] == stop
    assert pieces[-1].usage_metadata["output_tokens"] == 5  # type: ignore[index]
