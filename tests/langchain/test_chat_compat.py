"""langchain-aws ChatBedrockConverse arguments on ChatBedrockKit: same names, same effect,
or a refusal by name before any request."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator

import pytest
from botocore.config import Config
from langchain_core.messages import HumanMessage, SystemMessage

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
GUARDRAIL = {"guardrailIdentifier": "gr-1", "guardrailVersion": "2"}


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _model(server: LocalBedrock, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def test_guardrails_is_guardrail_config_under_langchain_aws_name(server):
    llm = _model(server, guardrails=GUARDRAIL)
    assert llm.guardrail_config == GUARDRAIL
    llm.invoke("hi")
    sent = server.requests_for("Converse")[-1].body["guardrailConfig"]
    assert sent == {"guardrailIdentifier": "gr-1", "guardrailVersion": "2", "trace": "enabled"}


def test_system_prompts_come_before_system_messages(server):
    llm = _model(server, system=["Be terse.", ChatBedrockKit.create_cache_point()])
    llm.invoke([SystemMessage("Answer in French."), HumanMessage("hi")])
    assert server.requests_for("Converse")[-1].body["system"] == [
        {"text": "Be terse."},
        {"cachePoint": {"type": "default"}},
        {"text": "Answer in French."},
    ]


def test_system_takes_text_only():
    with pytest.raises(ValueError, match="system messages take text only"):
        ChatBedrockKit(
            model=MODEL, system=[{"type": "image", "base64": "AA==", "mime_type": "image/png"}]
        )


def test_create_cache_point_is_langchain_aws_shape():
    assert ChatBedrockKit.create_cache_point() == {"cachePoint": {"type": "default"}}


def test_call_time_options_override_the_constructor(server):
    llm = _model(
        server,
        performance_config={"latency": "standard"},
        service_tier="flex",
        request_metadata={"team": "a"},
        additional_model_request_fields={"top_k": 5},
    )
    llm.invoke(
        "hi",
        performance_config={"latency": "optimized"},
        service_tier="priority",
        request_metadata={"team": "b"},
        additional_model_request_fields={"top_k": 9, "extra": 1},
    )
    body = server.requests_for("Converse")[-1].body
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["serviceTier"] == {"type": "priority"}
    assert body["requestMetadata"] == {"team": "b"}
    assert body["additionalModelRequestFields"] == {"top_k": 9, "extra": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"performance_config": {"latency": "fast"}}, "performance_config takes"),
        ({"performance_config": {"latency": "standard", "x": 1}}, "performance_config takes"),
        ({"service_tier": "gold"}, "service_tier"),
        ({"supports_tool_choice_values": ["auto", "maybe"]}, "supports_tool_choice_values"),
        ({"config": {"read_timeout": 3}}, "config must be a botocore.config.Config"),
        ({"base_model_id": "not a model"}, "not a Bedrock model id"),
    ],
)
def test_bad_compat_arguments_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChatBedrockKit(model=MODEL, region_name="us-east-1", **kwargs)


def test_request_options_go_to_invoke_model_as_its_own_members(server):
    # InvokeModel has serviceTier, performanceConfigLatency and requestMetadata (a JSON
    # string) of its own (botocore's service model); they are sent, not refused.
    llm = _model(server, api="invoke", service_tier="priority", request_metadata={"team": "a"})
    request = llm.build_request([HumanMessage("hi")])
    assert request["serviceTier"] == "priority"
    assert json.loads(request["requestMetadata"]) == {"team": "a"}
    assert server.requests == []


def test_supports_tool_choice_values_refuses_a_choice_before_any_request(server):
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    llm = _model(server, supports_tool_choice_values=("auto",))
    with pytest.raises(ConfigurationError, match="takes tool_choice of types \\['auto'\\]"):
        llm.bind_tools([lookup], tool_choice="lookup")
    llm.bind_tools([lookup], tool_choice="auto").invoke("lookup(city='Oslo')")
    # Structured output falls back to an unforced call when forcing is not supported.
    runnable = llm.with_structured_output(lookup)
    assert runnable.invoke("lookup a city") == {"city": "city"}
    assert "toolChoice" not in server.requests_for("Converse")[-1].body["toolConfig"]


def test_response_metadata_carries_langchain_aws_keys_next_to_ours(server):
    server.script(
        "Converse",
        Reply.json(
            converse_reply("ok", latency_ms=42, trace={"promptRouter": {"invokedModelId": "m"}})
        ),
    )
    meta = (
        _model(server, base_model_id="anthropic.claude-sonnet-4-20250514-v1:0")
        .invoke("hi")
        .response_metadata
    )
    assert meta["stopReason"] == "end_turn" and meta["stop_reason"] == "end_turn"
    assert meta["metrics"] == {"latencyMs": [42]} and meta["latency_ms"] == 42
    assert meta["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert meta["ResponseMetadata"]["RequestId"] == meta["request_id"]
    assert meta["model_name"] == "anthropic.claude-sonnet-4-20250514-v1:0"
    assert meta["model_id"] == MODEL
    assert meta["trace"] == {"promptRouter": {"invokedModelId": "m"}}


def test_stream_metadata_reports_latency_as_langchain_aws_does(server):
    full = None
    for chunk in _model(server).stream("hi"):
        full = chunk if full is None else full + chunk
    assert full is not None
    assert full.response_metadata["stopReason"] == "end_turn"
    assert full.response_metadata["metrics"] == {"latencyMs": 1}


def test_botocore_config_is_merged_and_explicit_arguments_win():
    llm = ChatBedrockKit(
        model=MODEL,
        region_name="us-east-1",
        config=Config(read_timeout=7, connect_timeout=3, retries={"max_attempts": 9}),
        max_retries=2,
    )
    config = llm.client_settings().botocore_config()
    assert config.read_timeout == 7 and config.connect_timeout == 3
    assert config.retries["total_max_attempts"] == 3  # max_retries=2 wins over the Config
    assert config.max_pool_connections == 64  # bedrock-kit's default survives
    assert (
        ChatBedrockKit(
            model=MODEL, region_name="us-east-1", config=Config(read_timeout=7), timeout=30
        )
        .client_settings()
        .botocore_config()
        .read_timeout
        == 30
    )


def test_the_api_key_is_a_secret_everywhere(server):
    llm = _model(server, api_key="br-key-123")
    assert llm.bedrock_api_key is not None
    assert "br-key-123" not in repr(llm) and "br-key-123" not in str(llm.client_settings())
    assert b"br-key-123" not in pickle.dumps(llm.client_settings())
    llm.invoke("hi")
    request = server.requests_for("Converse")[-1]
    assert request.headers["Authorization"] == "Bearer br-key-123"
    assert "X-Amz-Date" not in request.headers  # not SigV4-signed as well


def test_model_is_langchain_aws_alias_of_model_id(server):
    assert _model(server).model == MODEL


async def test_the_api_key_is_sent_by_the_async_client_too(server):
    llm = _model(server, api_key="br-key-async")
    try:
        await llm.ainvoke("hi")
    finally:
        await llm.aclose()
    assert server.requests_for("Converse")[-1].headers["Authorization"] == "Bearer br-key-async"
