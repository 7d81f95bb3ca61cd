"""BedrockKitLLM.build_request's plain lane (a kept frame, :func:`plain_frame_of`) gives
the request of the general path, for every LLM setting and message list; any setting that
adds a member takes the general path. Mirrors tests/langchain/test_plain_lane.py."""

from __future__ import annotations

import json

import pytest
from llama_index.core.llms import ChatMessage, MessageRole

from bedrock_kit.errors import BedrockKitError
from bedrock_kit.llama_index import BedrockKitLLM, _options

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
KEYS = {"aws_access_key_id": "AKIDPLAINLANE", "aws_secret_access_key": "s" * 40}
SETTINGS = [
    {},
    {"max_tokens": 256},
    {"max_tokens": 10, "temperature": 0.0, "top_p": 1.0, "stop": ["END"]},
    {"temperature": 1},
    {"request_metadata": {}, "performance_config": {}, "prompt_variables": {}},
    {"additional_model_request_fields": {}, "additional_model_response_field_paths": []},
    {"model": "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.x-v1:0"},
    {"system_tools": ["nova_grounding"]},
    {"additional_model_request_fields": {"top_k": 5}},
    {"additional_model_response_field_paths": ["/stop_sequence"]},
    {"guardrail_config": {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}},
    {"performance_config": {"latency": "optimized"}},
    {"service_tier": "flex"},
    {"request_metadata": {"team": "tide"}},
    {"api": "invoke"},
]
PLAIN = 7  # SETTINGS[:PLAIN] add no member: the plain lane serves them
USER, ASSISTANT, SYSTEM = MessageRole.USER, MessageRole.ASSISTANT, MessageRole.SYSTEM
MESSAGES = [
    [ChatMessage(role=USER, content="How tall is the tallest tide?")],
    [ChatMessage(role=USER, content="a"), ChatMessage(role=USER, content="b")],
    [
        ChatMessage(role=USER, content="a"),
        ChatMessage(role=ASSISTANT, content="b"),
        ChatMessage(role=USER, content="c"),
    ],
    [ChatMessage(role=SYSTEM, content="sys"), ChatMessage(role=USER, content="hi")],
    [ChatMessage(role=ASSISTANT, content="starts with the model")],
    [ChatMessage(role=USER, content="bad \ud800 text")],
    [],
]


def _request(llm, messages, general, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        if general:
            patch.setattr(_options, "plain_frame_of", lambda _llm: None)
            patch.setattr("bedrock_kit.llama_index.chat.plain_frame_of", lambda _llm: None)
        try:
            return llm.build_request(messages, **kwargs)
        except BedrockKitError as exc:
            return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("stream", [False, True])
def test_the_plain_lane_gives_the_general_request(settings, stream, monkeypatch):
    llm = BedrockKitLLM(**{"model": MODEL, "region_name": "us-east-1", **KEYS, **settings})
    for messages in MESSAGES:
        plain = _request(llm, messages, False, monkeypatch, stream=stream)
        general = _request(llm, messages, True, monkeypatch, stream=stream)
        assert plain == general, messages
        if isinstance(plain, dict):
            assert json.dumps(plain, default=repr) == json.dumps(general, default=repr)


@pytest.mark.parametrize("index", range(len(SETTINGS)))
def test_only_settings_that_add_no_member_take_the_plain_lane(index):
    llm = BedrockKitLLM(**{"model": MODEL, "region_name": "us-east-1", **KEYS, **SETTINGS[index]})
    assert (_options.plain_frame_of(llm) is not None) == (index < PLAIN)


def test_a_setting_changed_after_construction_is_in_the_next_request():
    llm = BedrockKitLLM(model=MODEL, region_name="us-east-1", max_tokens=100, **KEYS)
    hi = [ChatMessage(role=USER, content="hi")]
    first = llm.build_request(hi)
    first["inferenceConfig"]["maxTokens"] = 1  # the caller's copy only
    llm.temperature = 0.5
    assert llm.build_request(hi)["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.5}
    llm.request_metadata = {"team": "tide"}
    assert llm.build_request(hi)["requestMetadata"] == {"team": "tide"}


def test_call_arguments_take_the_general_path(monkeypatch):
    llm = BedrockKitLLM(model=MODEL, region_name="us-east-1", max_tokens=100, **KEYS)
    calls: list[object] = []
    monkeypatch.setattr("bedrock_kit.llama_index.chat.plain_frame_of", calls.append)
    request = llm.build_request([ChatMessage(role=USER, content="hi")], temperature=0.1)
    assert calls == []
    assert request["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.1}
