"""Converse request building and response parsing on literal dicts."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.chat.converse import (
    block_from_wire,
    block_to_wire,
    build_converse_request,
    parse_converse_response,
)
from bedrock_kit.core.chat.guardrail_config import parse_guardrail_config
from bedrock_kit.core.chat.tool_config import build_json_schema_output, build_tool_config
from bedrock_kit.core.chat.types import (
    CachePointBlock,
    DocumentBlock,
    GuardContentBlock,
    GuardrailConfig,
    ImageBlock,
    InferenceConfig,
    JsonBlock,
    Message,
    ReasoningBlock,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UnknownBlock,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

USER = Message("user", (TextBlock("hi"),))


def test_minimal_request_has_only_what_was_given():
    assert build_converse_request("m", [USER]) == {
        "modelId": "m",
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
    }


def test_inference_config_and_extras():
    request = build_converse_request(
        "m",
        [USER],
        system=[TextBlock("be brief"), CachePointBlock()],
        inference=InferenceConfig(max_tokens=10, temperature=0.0, stop_sequences=("END",)),
        guardrail=GuardrailConfig("g", "1", stream_processing_mode="async"),
        additional_model_request_fields={"thinking": {"type": "enabled"}},
        stream=True,
    )
    assert request["inferenceConfig"] == {
        "maxTokens": 10,
        "temperature": 0.0,
        "stopSequences": ["END"],
    }
    assert request["system"] == [{"text": "be brief"}, {"cachePoint": {"type": "default"}}]
    assert request["guardrailConfig"] == {
        "guardrailIdentifier": "g",
        "guardrailVersion": "1",
        "trace": "enabled",
        "streamProcessingMode": "async",
    }
    assert request["additionalModelRequestFields"] == {"thinking": {"type": "enabled"}}


def test_stream_processing_mode_only_on_stream():
    request = build_converse_request(
        "m", [USER], guardrail=GuardrailConfig("g", "1", stream_processing_mode="sync")
    )
    assert "streamProcessingMode" not in request["guardrailConfig"]


def test_same_role_turns_are_merged_for_parallel_tool_results():
    call = Message("assistant", (ToolUseBlock("a", "f", {}), ToolUseBlock("b", "f", {})))
    r1 = Message("user", (ToolResultBlock("a", (TextBlock("1"),)),))
    r2 = Message("user", (ToolResultBlock("b", (JsonBlock({"x": 1}),), "error"),))
    request = build_converse_request("m", [USER, call, r1, r2])
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]
    assert request["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "a", "content": [{"text": "1"}]}},
        {"toolResult": {"toolUseId": "b", "content": [{"json": {"x": 1}}], "status": "error"}},
    ]


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([], "messages is empty"),
        ([Message("user", ())], "no content"),
        ([Message("system", (TextBlock("x"),))], "role must be"),  # type: ignore[arg-type]
        ([Message("user", (ToolResultBlock("zz", (TextBlock("1"),)),))], "zz"),
        ([Message("assistant", (TextBlock("x"),))], "must be a user turn"),
    ],
)
def test_bad_messages_fail_before_any_request(messages, match):
    with pytest.raises(ConfigurationError, match=match):
        build_converse_request("m", messages)


def test_tool_config_and_choices():
    tools = [
        ToolSpec(
            "get_weather", "Weather", {"type": "object", "properties": {"c": {"type": "string"}}}
        )
    ]
    config = build_tool_config(tools, "get_weather")
    assert config == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Weather",
                    "inputSchema": {
                        "json": {"type": "object", "properties": {"c": {"type": "string"}}}
                    },
                }
            }
        ],
        "toolChoice": {"tool": {"name": "get_weather"}},
    }
    assert build_tool_config(tools, "any")["toolChoice"] == {"any": {}}  # type: ignore[index]
    assert "toolChoice" not in build_tool_config(tools)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("tools", "choice", "match"),
    [
        ([ToolSpec("x" * 65, "d", {})], None, "1-64"),
        ([ToolSpec("has space", "d", {})], None, "invalid"),
        ([ToolSpec("a", "d", {}), ToolSpec("a", "d", {})], None, "unique"),
        ([ToolSpec("a", "d", {})], "b", "neither"),
        ([], "any", "without any tools"),
        ([ToolSpec("a", "d", {"type": "array"})], None, "object"),
    ],
)
def test_tool_config_errors_name_the_problem(tools, choice, match):
    with pytest.raises(ConfigurationError, match=match):
        build_tool_config(tools, choice)


@pytest.mark.parametrize(
    "block",
    [
        TextBlock("t"),
        ImageBlock("png", b"\x89PNG"),
        ImageBlock("jpeg", s3_uri="s3://b/k.jpg"),
        DocumentBlock("pdf", "report", b"%PDF"),
        DocumentBlock("txt", "notes", text="hello", citations=True),
        ToolUseBlock("id", "f", {"a": [1, {"b": None}]}),
        ToolResultBlock("id", (TextBlock("ok"), JsonBlock([1])), "success"),
        ReasoningBlock("think", "sig"),
        ReasoningBlock(redacted_content=b"\x00\x01"),
        CachePointBlock(ttl="1h"),
        GuardContentBlock("check me", ("query",)),
        UnknownBlock("futureBlock", {"x": 1}),
    ],
)
def test_blocks_round_trip_through_the_wire(block):
    assert block_from_wire(block_to_wire(block)) == block


def test_parse_response_with_tool_use_and_cache_usage():
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "<thinking>x</thinking>"},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_1",
                            "name": "get_current_weather",
                            "input": {"location": "Seattle"},
                        }
                    },
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 5,
            "outputTokens": 7,
            "totalTokens": 1012,
            "cacheReadInputTokens": 0,
            "cacheWriteInputTokens": 1000,
        },
        "metrics": {"latencyMs": 803},
        "ResponseMetadata": {"RequestId": "req-1"},
    }
    result = parse_converse_response(response, model_id="m")
    assert result.stop_reason == "tool_use"
    assert result.message.tool_calls == [
        ToolUseBlock("tooluse_1", "get_current_weather", {"location": "Seattle"})
    ]
    assert result.usage.total_input_tokens == 1005
    assert (
        result.usage.input_tokens + result.usage.output_tokens + 1000 == result.usage.total_tokens
    )
    assert (result.request_id, result.latency_ms) == ("req-1", 803)


def test_response_without_message_is_a_typed_error():
    with pytest.raises(MalformedResponseError):
        parse_converse_response({"stopReason": "end_turn"}, model_id="m")


def test_json_schema_output_config():
    config = build_json_schema_output({"type": "object"}, name="Answer")
    assert config["textFormat"]["type"] == "json_schema"
    definition = config["textFormat"]["structure"]["jsonSchema"]
    assert json.loads(definition["schema"]) == {"type": "object"} and definition["name"] == "Answer"


def test_guardrail_config_forms():
    camel = parse_guardrail_config(
        {"guardrailIdentifier": "g", "guardrailVersion": 2, "streamProcessingMode": "async"}
    )
    assert camel == GuardrailConfig("g", "2", "enabled", "async")
    assert parse_guardrail_config(
        {"identifier": "g", "version": "DRAFT", "trace": "disabled"}
    ) == GuardrailConfig("g", "DRAFT", "disabled")
    with pytest.raises(ConfigurationError, match="guardrailVersion"):
        parse_guardrail_config({"guardrailIdentifier": "g"})
    with pytest.raises(ConfigurationError, match="unknown keys"):
        parse_guardrail_config({"guardrailIdentifier": "g", "guardrailVersion": "1", "trase": "x"})


def test_one_hour_cache_writes_are_counted_apart_and_priced_at_their_rate():
    from decimal import Decimal

    from bedrock_kit.core.budget.pricing import load_prices
    from bedrock_kit.core.chat.converse import parse_usage

    wire = {
        "inputTokens": 10,
        "outputTokens": 5,
        "cacheWriteInputTokens": 3000,
        "totalTokens": 3015,
        "cacheDetails": [{"ttl": "5m", "inputTokens": 1000}, {"ttl": "1h", "inputTokens": 2000}],
    }
    usage = parse_usage(wire)
    assert (usage.cache_write_input_tokens, usage.cache_write_1h_input_tokens) == (3000, 2000)
    price = load_prices().price("anthropic.claude-3-5-haiku-20241022-v1:0")
    assert price.cache_write is not None and price.cache_write_1h is not None
    expected = (
        10 * price.input + 5 * price.output + 1000 * price.cache_write + 2000 * price.cache_write_1h
    ) / Decimal(1000)
    assert price.cost(usage) == expected
