"""Provider codecs on literal bodies: build, parse, stream chunks into Converse shapes."""

from __future__ import annotations

import json
import re

import pytest

from bedrock_kit.core.chat.invoke import (
    InvokeInput,
    InvokeStreamAdapter,
    build_invoke_request,
    codec_for,
    parse_invoke_response,
)
from bedrock_kit.core.chat.stream import StreamReducer, iter_deltas
from bedrock_kit.core.chat.types import (
    GuardrailConfig,
    InferenceConfig,
    Message,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from bedrock_kit.errors import ConfigurationError

CHAT = InvokeInput(
    messages=[
        Message("user", (TextBlock("Hi"),)),
        Message("assistant", (TextBlock("Hello!"),)),
        Message("user", (TextBlock("Joke?"),)),
    ],
    system=[TextBlock("Be funny.")],
    inference=InferenceConfig(max_tokens=50, temperature=0.5, top_p=0.9, stop_sequences=("END",)),
)


def _body(model_id: str, request: InvokeInput = CHAT) -> dict:
    return json.loads(build_invoke_request(model_id, request)["body"])


def test_anthropic_body():
    body = _body("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "system": "Be funny.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]},
            {"role": "user", "content": [{"type": "text", "text": "Joke?"}]},
        ],
        "temperature": 0.5,
        "top_p": 0.9,
        "stop_sequences": ["END"],
    }


def test_anthropic_tools_and_results():
    request = InvokeInput(
        messages=[
            Message("user", (TextBlock("weather?"),)),
            Message("assistant", (ToolUseBlock("t1", "weather", {"city": "Oslo"}),)),
            Message("user", (ToolResultBlock("t1", (TextBlock("rain"),), "error"),)),
        ],
        tools=[
            ToolSpec(
                "weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}}
            )
        ],
        tool_choice="any",
    )
    body = _body("anthropic.claude-3-haiku-20240307-v1:0", request)
    assert body["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert body["tool_choice"] == {"type": "any"}
    assert body["messages"][2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "rain"}],
        "is_error": True,
    }


def _parse(model_id: str, body: dict, headers: dict | None = None):
    # Through parse_invoke_response, as a call goes: InvokeModel's token-count headers are
    # the billed counts, and a body without counts relies on them.
    response = {"ResponseMetadata": {"HTTPHeaders": headers or {}}}
    return parse_invoke_response(response, json.dumps(body).encode(), model_id=model_id)


TOKEN_HEADERS = {"x-amzn-bedrock-input-token-count": "2", "x-amzn-bedrock-output-token-count": "1"}


def test_anthropic_response_with_cache_usage():
    result = _parse(
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        {
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "tool_use", "id": "a", "name": "f", "input": {"x": 1}},
            ],
            "stop_reason": "tool_use",
            "usage": {
                "input_tokens": 3,
                "output_tokens": 4,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 7,
            },
        },
    )
    assert result.text == "hi" and result.message.tool_calls == [ToolUseBlock("a", "f", {"x": 1})]
    assert (
        result.usage.input_tokens,
        result.usage.cache_read_input_tokens,
        result.usage.cache_write_input_tokens,
    ) == (3, 100, 7)


@pytest.mark.parametrize(
    ("model_id", "key", "expected_fragment"),
    [
        ("amazon.titan-text-express-v1", "inputText", "User: Joke?\nBot:"),
        (
            "meta.llama3-8b-instruct-v1:0",
            "prompt",
            "<|start_header_id|>user<|end_header_id|>\n\nJoke?<|eot_id|>",
        ),
        ("mistral.mistral-7b-instruct-v0:2", "prompt", "[INST] Joke? [/INST]"),
        ("cohere.command-r-v1:0", "message", "Joke?"),
        ("cohere.command-text-v14", "prompt", "Joke?"),
    ],
)
def test_prompt_bodies(model_id, key, expected_fragment):
    body = _body(model_id)
    assert expected_fragment in body[key]


def test_chat_bodies_for_mistral_large_and_jamba():
    for model_id in ("mistral.mistral-large-2407-v1:0", "ai21.jamba-1-5-mini-v1:0"):
        body = _body(model_id)
        assert body["messages"][0] == {"role": "system", "content": "Be funny."}
        assert body["messages"][-1] == {"role": "user", "content": "Joke?"}
        assert body["max_tokens"] == 50


def test_nova_body_is_converse_like_with_base64_bytes():
    from bedrock_kit.core.chat.types import ImageBlock

    request = InvokeInput(
        messages=[Message("user", (TextBlock("see"), ImageBlock("png", b"\x89PNG")))]
    )
    body = _body("us.amazon.nova-lite-v1:0", request)
    assert body["schemaVersion"] == "messages-v1"
    assert body["messages"][0]["content"][1] == {
        "image": {"format": "png", "source": {"bytes": "iVBORw=="}}
    }


@pytest.mark.parametrize(
    ("model_id", "body", "text", "stop"),
    [
        (
            "amazon.titan-text-lite-v1",
            {
                "inputTextTokenCount": 5.0,
                "results": [{"tokenCount": 10.0, "outputText": "t", "completionReason": "LENGTH"}],
            },
            "t",
            "max_tokens",
        ),
        (
            "meta.llama3-70b-instruct-v1:0",
            {
                "generation": "l",
                "prompt_token_count": 4,
                "generation_token_count": 1,
                "stop_reason": "stop",
            },
            "l",
            "end_turn",
        ),
        (
            "mistral.mixtral-8x7b-instruct-v0:1",
            {"outputs": [{"text": "m", "stop_reason": "length"}]},
            "m",
            "max_tokens",
        ),
        ("cohere.command-r-plus-v1:0", {"text": "c", "finish_reason": "COMPLETE"}, "c", "end_turn"),
        (
            "ai21.jamba-instruct-v1:0",
            {
                "choices": [
                    {"message": {"role": "assistant", "content": "j"}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 2, "completion_tokens": 1},
            },
            "j",
            "end_turn",
        ),
    ],
)
def test_response_bodies_parse_to_converse_results(model_id, body, text, stop):
    # Mistral instruct and Cohere bodies carry no token counts: the headers do.
    result = _parse(model_id, body, TOKEN_HEADERS)
    assert (result.text, result.stop_reason) == (text, stop)


def test_unknown_provider_names_supported_ones():
    with pytest.raises(
        ConfigurationError,
        match=re.escape("ai21, amazon.nova, amazon.titan, anthropic, cohere, meta, mistral"),
    ):
        codec_for("stability.sd3-large-v1:0")


def test_tools_on_a_provider_without_tools_is_an_error():
    request = InvokeInput(messages=CHAT.messages, tools=[ToolSpec("f", "d", {"type": "object"})])
    with pytest.raises(ConfigurationError, match="no tools"):
        build_invoke_request("meta.llama3-8b-instruct-v1:0", request)


def test_non_text_content_in_prompt_formats_is_an_error_not_a_silent_drop():
    from bedrock_kit.core.chat.types import ImageBlock

    request = InvokeInput(messages=[Message("user", (ImageBlock("png", b"x"),))])
    with pytest.raises(ConfigurationError, match="text only"):
        build_invoke_request("amazon.titan-text-express-v1", request)


def test_guardrail_arguments():
    kwargs = build_invoke_request(
        "amazon.titan-text-express-v1", CHAT, guardrail=GuardrailConfig("g", "DRAFT")
    )
    assert (kwargs["guardrailIdentifier"], kwargs["guardrailVersion"], kwargs["trace"]) == (
        "g",
        "DRAFT",
        "ENABLED",
    )


def _chunks(*chunks: dict) -> list[dict]:
    return [{"chunk": {"bytes": json.dumps(c).encode()}} for c in chunks]


def test_stream_adapter_with_late_guardrail_action():
    adapter = InvokeStreamAdapter("amazon.titan-text-express-v1")
    wire = _chunks(
        {"outputText": "Hello ", "index": 0},
        {"outputText": "{NAME}", "index": 0, "completionReason": "FINISH"},
        {
            "amazon-bedrock-guardrailAction": "INTERVENED",
            "amazon-bedrock-trace": {
                "guardrail": {
                    "outputs": [
                        {
                            "g": {
                                "sensitiveInformationPolicy": {
                                    "piiEntities": [
                                        {"type": "NAME", "match": "Bob", "action": "ANONYMIZED"}
                                    ]
                                }
                            }
                        }
                    ]
                }
            },
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 3,
                "outputTokenCount": 4,
                "invocationLatency": 9,
            },
        },
    )
    events = [e for w in wire for e in adapter.events(w)]
    result = list(iter_deltas(events, StreamReducer("m")))[-1].result  # type: ignore[union-attr]
    assert result.text == "Hello {NAME}"
    assert result.stop_reason == "guardrail_intervened"
    assert (
        result.guardrail is not None
        and result.guardrail.output_assessments["g"][0].pii_entities[0].match == "Bob"
    )
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 4)


def test_anthropic_stream_with_tool_use():
    adapter = InvokeStreamAdapter("anthropic.claude-3-haiku-20240307-v1:0")
    wire = _chunks(
        {"type": "message_start", "message": {"usage": {"input_tokens": 5}}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "f"},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"a"'},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": ": 1}"},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 6},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5, "outputTokenCount": 6},
        },
    )
    events = [e for w in wire for e in adapter.events(w)]
    result = list(iter_deltas(events, StreamReducer("m")))[-1].result  # type: ignore[union-attr]
    assert result.message.tool_calls == [ToolUseBlock("t", "f", {"a": 1})]
    assert result.stop_reason == "tool_use"


def test_stream_without_final_metrics_is_incomplete():
    from bedrock_kit.errors import IncompleteStreamError

    adapter = InvokeStreamAdapter("meta.llama3-8b-instruct-v1:0")
    events = [e for w in _chunks({"generation": "half"}) for e in adapter.events(w)]
    with pytest.raises(IncompleteStreamError):
        list(iter_deltas(events, StreamReducer("m")))
