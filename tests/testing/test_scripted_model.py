"""LocalBedrock's ScriptedModel: answers that follow the request, Bedrock's request rules
enforced with Bedrock's own ValidationException, through real boto3 clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_kit.testing import LocalBedrock, ScriptedModel
from bedrock_kit.testing._instances import instance
from bedrock_kit.testing._rules import sign

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
WEATHER = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "inputSchema": {
            "json": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city"],
            }
        },
    }
}


@pytest.fixture
def client() -> Iterator[Any]:
    with LocalBedrock() as server:
        ScriptedModel().install(server)
        yield boto3.client(
            "bedrock-runtime",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": [b if isinstance(b, dict) else {"text": b} for b in blocks]}


def _converse(client: Any, messages: list[Any], **kwargs: Any) -> dict[str, Any]:
    return client.converse(modelId=MODEL, messages=messages, **kwargs)  # type: ignore[no-any-return]


def _refused(client: Any, messages: list[Any], **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        _converse(client, messages, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Message"])


def _content(response: dict[str, Any]) -> list[dict[str, Any]]:
    return response["output"]["message"]["content"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ answers


def test_plain_prompts_are_echoed_with_usage(client):
    response = _converse(client, [_user("Hello there")])
    assert _content(response) == [{"text": "echo: Hello there"}]
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0


def test_a_named_tool_is_called_with_the_prompts_arguments(client):
    response = _converse(
        client, [_user('get_weather(city="Oslo", days=3)')], toolConfig={"tools": [WEATHER]}
    )
    (call,) = [b["toolUse"] for b in _content(response)]
    assert call["name"] == "get_weather" and call["input"] == {"city": "Oslo", "days": 3}
    assert response["stopReason"] == "tool_use"


def test_positional_and_quoted_arguments_are_read(client):
    tools = {"tools": [WEATHER]}
    (positional,) = _content(_converse(client, [_user("get_weather('Rome')")], toolConfig=tools))
    assert positional["toolUse"]["input"] == {"city": "Rome", "days": 1}
    (quoted,) = _content(_converse(client, [_user("Weather for 'Köln' please")], toolConfig=tools))
    assert quoted["toolUse"]["input"]["city"] == "Köln"  # the tool's topic word, quoted value


def test_a_prompt_without_a_tool_topic_gets_text(client):
    response = _converse(client, [_user("Tell me a joke")], toolConfig={"tools": [WEATHER]})
    assert _content(response) == [{"text": "echo: Tell me a joke"}]


def test_forced_tool_choice_calls_the_tool_whatever_the_prompt(client):
    config = {"tools": [WEATHER], "toolChoice": {"tool": {"name": "get_weather"}}}
    (block,) = _content(_converse(client, [_user("hi")], toolConfig=config))
    assert block["toolUse"]["input"] == {"city": "city", "days": 1}


def test_tool_results_are_answered_with_text_quoting_them(client):
    messages = [
        _user("get_weather(city='Oslo')"),
        {
            "role": "assistant",
            "content": [
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}
            ],
        },
        _user({"toolResult": {"toolUseId": "t1", "content": [{"json": {"sky": "clear"}}]}}),
    ]
    response = _converse(client, messages, toolConfig={"tools": [WEATHER]})
    assert _content(response) == [{"text": 'The tools returned: {"sky": "clear"}'}]


def test_output_config_gets_json_valid_for_the_schema(client):
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
            "score": {"type": "number", "minimum": 5},
            "nested": {"$ref": "#/$defs/Inner"},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
        },
        "required": ["name"],
        "$defs": {"Inner": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    output = {
        "textFormat": {
            "type": "json_schema",
            "structure": {"jsonSchema": {"schema": json.dumps(schema)}},
        }
    }
    (block,) = _content(_converse(client, [_user("data")], outputConfig=output))
    assert json.loads(block["text"]) == {
        "name": "name",
        "tags": ["a"],
        "score": 5.0,
        "nested": {"n": 1},
        "maybe": True,
    }


def test_thinking_answers_start_with_signed_reasoning(client):
    response = _converse(client, [_user("why?")], additionalModelRequestFields=THINKING)
    reasoning = _content(response)[0]["reasoningContent"]["reasoningText"]
    assert reasoning["signature"] == sign(reasoning["text"])
    assert _content(response)[1] == {"text": "echo: why?"}


def test_stop_sequences_cut_the_answer(client):
    response = _converse(
        client, [_user("one two three")], inferenceConfig={"stopSequences": ["two"]}
    )
    assert _content(response) == [{"text": "echo: one "}]
    assert response["stopReason"] == "stop_sequence"


def test_streams_carry_the_same_answer(client):
    response = client.converse_stream(
        modelId=MODEL, messages=[_user("get_weather(city='Oslo')")], toolConfig={"tools": [WEATHER]}
    )
    events = list(response["stream"])
    starts = [
        e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e
    ]
    arguments = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e
    )
    assert starts[0]["name"] == "get_weather" and json.loads(arguments) == {
        "city": "Oslo",
        "days": 1,
    }
    assert events[-2] == {"messageStop": {"stopReason": "tool_use"}}


# ------------------------------------------------------------------ Bedrock's rules


def test_a_conversation_must_start_with_a_user_turn(client):
    message = _refused(client, [{"role": "assistant", "content": [{"text": "hi"}]}])
    assert "must start with a user message" in message


def test_roles_must_alternate(client):
    assert "alternate" in _refused(client, [_user("a"), _user("b")])


def test_blank_text_is_refused(client):
    assert "is blank" in _refused(client, [_user("   ")])


def test_tool_blocks_need_a_tool_config(client):
    messages = [
        _user("x"),
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
        },
        _user({"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}),
    ]
    assert "toolConfig field must be defined" in _refused(client, messages)


def test_tool_results_must_answer_the_previous_tool_calls(client):
    tools = {"tools": [WEATHER]}
    stray = [
        _user("x"),
        {"role": "assistant", "content": [{"text": "no call"}]},
        _user({"toolResult": {"toolUseId": "t9", "content": [{"text": "ok"}]}}),
    ]
    assert "do not match any toolUse" in _refused(client, stray, toolConfig=tools)
    unanswered = [
        _user("x"),
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
        },
        _user("never mind"),
    ]
    assert "have no toolResult" in _refused(client, unanswered, toolConfig=tools)


def test_forced_tool_choice_with_thinking_is_refused(client):
    config = {"tools": [WEATHER], "toolChoice": {"any": {}}}
    message = _refused(
        client, [_user("x")], toolConfig=config, additionalModelRequestFields=THINKING
    )
    assert "Thinking may not be enabled when tool_choice forces tool use" in message


def _tool_loop(first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        _user("get_weather(city='Oslo')"),
        {"role": "assistant", "content": first},
        _user({"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}),
    ]


CALL = {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}


def test_thinking_tool_loops_need_the_signed_reasoning_first(client):
    kwargs = {"toolConfig": {"tools": [WEATHER]}, "additionalModelRequestFields": THINKING}
    assert "must start with a thinking block" in _refused(client, _tool_loop([CALL]), **kwargs)
    unsigned = {"reasoningContent": {"reasoningText": {"text": "plan"}}}
    assert "signature is required" in _refused(client, _tool_loop([unsigned, CALL]), **kwargs)
    forged = {"reasoningContent": {"reasoningText": {"text": "plan", "signature": sign("other")}}}
    assert "invalid signature" in _refused(client, _tool_loop([forged, CALL]), **kwargs)
    signed = {"reasoningContent": {"reasoningText": {"text": "plan", "signature": sign("plan")}}}
    assert _content(_converse(client, _tool_loop([signed, CALL]), **kwargs))[-1] == {
        "text": "The tools returned: ok"
    }


def test_a_bad_output_schema_is_refused(client):
    output = {
        "textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{nope"}}}
    }
    assert "not valid JSON" in _refused(client, [_user("x")], outputConfig=output)


# ------------------------------------------------------------------ instances


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date"}, "2026-01-01"),
        ({"type": "integer", "minimum": 10, "maximum": 20}, 10),
        ({"type": "integer", "exclusiveMaximum": 1}, 0),
        ({"type": ["null", "string"]}, "value"),
        ({"const": 7}, 7),
        (
            {
                "allOf": [
                    {"properties": {"a": {"type": "boolean"}}},
                    {"properties": {"b": {"type": "null"}}},
                ]
            },
            {"a": True, "b": None},
        ),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [1, 1]),
    ],
)
def test_instances_are_valid_for_their_schema(schema, expected):
    assert instance(schema) == expected


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="answer_tokens"):
        ScriptedModel(answer_tokens=0)
    with pytest.raises(ValueError, match="chunk_chars"):
        ScriptedModel(chunk_chars=0)
