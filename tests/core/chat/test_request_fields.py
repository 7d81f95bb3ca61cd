"""Converse request fields beyond messages and tools, refused by name before any request:
serviceTier, performanceConfig, requestMetadata, promptVariables (Prompt Management ARNs)
and additionalModelResponseFieldPaths; and the InvokeModel members for the same fields."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.chat.converse import build_converse_request
from bedrock_kit.core.chat.request_fields import (
    check_performance_config,
    check_request_metadata,
    check_response_field_paths,
    check_service_tier,
    invoke_fields,
    is_prompt_arn,
    prompt_variables_to_wire,
)
from bedrock_kit.core.chat.send import build_chat_request
from bedrock_kit.core.chat.types import InferenceConfig, Message, SystemTool, TextBlock
from bedrock_kit.errors import ConfigurationError

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
PROMPT = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:2"
HI = [Message("user", (TextBlock("hi"),))]


@pytest.mark.parametrize("tier", ["priority", "default", "flex", "reserved", None])
def test_service_tiers_of_the_service_model_pass(tier):
    assert check_service_tier(tier) == tier


@pytest.mark.parametrize("tier", ["gold", "", 1, "PRIORITY"])
def test_other_service_tiers_are_refused(tier):
    with pytest.raises(ConfigurationError, match="service_tier"):
        check_service_tier(tier)


def test_performance_config():
    assert check_performance_config({"latency": "optimized"}) == "optimized"
    assert check_performance_config(None) is None
    for bad in ({"latency": "fast"}, {"latency": "standard", "x": 1}, "optimized"):
        with pytest.raises(ConfigurationError, match="performance_config"):
            check_performance_config(bad)


def test_request_metadata_limits():
    assert check_request_metadata({"team": "search", "run": "a-1 b:2"}) == {
        "team": "search",
        "run": "a-1 b:2",
    }
    with pytest.raises(ConfigurationError, match="at most 16"):
        check_request_metadata({f"k{i}": "v" for i in range(17)})
    with pytest.raises(ConfigurationError, match="key"):
        check_request_metadata({"bad key!": "v"})
    with pytest.raises(ConfigurationError, match=r"request_metadata\['k'\]"):
        check_request_metadata({"k": "x" * 257})
    with pytest.raises(ConfigurationError, match=r"request_metadata\['k'\]"):
        check_request_metadata({"k": 3})


def test_response_field_paths_limits():
    assert check_response_field_paths(["/stop_sequence"]) == ["/stop_sequence"]
    with pytest.raises(ConfigurationError, match="at most 10"):
        check_response_field_paths([f"/p{i}" for i in range(11)])
    with pytest.raises(ConfigurationError, match="list of JSON pointers"):
        check_response_field_paths("/stop_sequence")
    with pytest.raises(ConfigurationError, match="not a JSON pointer"):
        check_response_field_paths([""])


def test_converse_request_carries_every_field():
    request = build_converse_request(
        MODEL,
        HI,
        request_metadata={"team": "a"},
        performance_latency="optimized",
        service_tier="flex",
        additional_model_response_field_paths=["/stop_sequence"],
    )
    assert request["requestMetadata"] == {"team": "a"}
    assert request["performanceConfig"] == {"latency": "optimized"}
    assert request["serviceTier"] == {"type": "flex"}
    assert request["additionalModelResponseFieldPaths"] == ["/stop_sequence"]


def test_converse_request_refuses_a_bad_tier_before_any_request():
    with pytest.raises(ConfigurationError, match="service_tier"):
        build_converse_request(MODEL, HI, service_tier="gold")


# ------------------------------------------------------------------------ prompt ARNs


def test_prompt_arns_are_recognised():
    assert is_prompt_arn(PROMPT)
    assert is_prompt_arn("arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234")
    assert not is_prompt_arn(MODEL)
    assert not is_prompt_arn("arn:aws:bedrock:us-east-1:123456789012:prompt/short")


def test_prompt_variables_fill_a_prompt_and_messages_may_be_empty():
    request = build_converse_request(PROMPT, [], prompt_variables={"topic": "tides"})
    assert request == {
        "modelId": PROMPT,
        "messages": [],
        "promptVariables": {"topic": {"text": "tides"}},
    }


def test_prompt_variables_already_in_wire_form_are_taken():
    assert prompt_variables_to_wire(PROMPT, {"topic": {"text": "tides"}}) == {
        "topic": {"text": "tides"}
    }


def test_prompt_variables_need_a_prompt_arn():
    with pytest.raises(ConfigurationError, match="prompt ARN"):
        build_converse_request(MODEL, HI, prompt_variables={"topic": "tides"})


def test_prompt_variables_must_be_text():
    with pytest.raises(ConfigurationError, match=r"prompt_variables\['n'\] must be text"):
        prompt_variables_to_wire(PROMPT, {"n": 3})


def test_a_prompt_arn_refuses_the_fields_the_prompt_defines():
    with pytest.raises(ConfigurationError, match="defines its own inferenceConfig"):
        build_converse_request(PROMPT, HI, inference=InferenceConfig(max_tokens=10))
    with pytest.raises(ConfigurationError, match="defines its own system"):
        build_converse_request(PROMPT, HI, system=[TextBlock("be brief")])


def test_an_empty_conversation_without_a_prompt_arn_is_still_refused():
    with pytest.raises(ConfigurationError, match="messages is empty"):
        build_converse_request(MODEL, [])


# ------------------------------------------------------------------------ InvokeModel


def test_invoke_model_members_for_the_same_fields():
    fields = invoke_fields(
        service_tier="priority", performance_latency="optimized", request_metadata={"a": "b"}
    )
    assert fields == {
        "serviceTier": "priority",
        "performanceConfigLatency": "optimized",
        "requestMetadata": '{"a":"b"}',
    }
    assert invoke_fields(service_tier=None, performance_latency=None, request_metadata=None) == {}


def test_build_chat_request_sends_them_with_invoke_model():
    request = build_chat_request(
        "invoke",
        MODEL,
        HI,
        inference=InferenceConfig(max_tokens=10),
        service_tier="flex",
        performance_latency="optimized",
        request_metadata={"team": "a"},
    )
    assert request["serviceTier"] == "flex"
    assert request["performanceConfigLatency"] == "optimized"
    assert json.loads(request["requestMetadata"]) == {"team": "a"}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"system_tools": [SystemTool("nova_grounding")]}, "system_tools"),
        ({"prompt_variables": {"a": "b"}}, "prompt_variables"),
    ],
)
def test_converse_only_fields_are_refused_with_invoke_model(kwargs, name):
    with pytest.raises(ConfigurationError, match=f"{name} are sent with api='converse' only"):
        build_chat_request("invoke", MODEL, HI, **kwargs)
