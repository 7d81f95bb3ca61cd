"""Every public LlamaIndex class refuses a misspelt argument by name, with a suggestion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.query_engine import CustomQueryEngine

from bedrock_kit.errors import UnknownArgumentError
from bedrock_kit.llama_index import (
    BedrockAgentQueryEngine,
    BedrockGuardrail,
    BedrockGuardrailNodePostprocessor,
    BedrockKitEmbedding,
    BedrockKitLLM,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerateQueryEngine,
    BudgetEventHandler,
    GuardedQueryEngine,
    TokenBudgetHandler,
)

KEYS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "AKIAARGUMENTSTEST000",
    "aws_secret_access_key": "arguments-test-secret-000000000000000000",
}
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


class _Echo(CustomQueryEngine):
    def custom_query(self, query_str: str) -> str:
        return query_str


def _guard(**kwargs: Any) -> BedrockGuardrail:
    return BedrockGuardrail(guardrail_id="gr-1", **KEYS, **kwargs)


CLIENT_CLASSES: dict[str, Callable[..., Any]] = {
    "BedrockKitLLM": lambda **kw: BedrockKitLLM(model=MODEL, **KEYS, **kw),
    "BedrockKitEmbedding": lambda **kw: BedrockKitEmbedding(
        model="amazon.titan-embed-text-v2:0", **KEYS, **kw
    ),
    "BedrockGuardrail": _guard,
    "BedrockKnowledgeBaseRetriever": lambda **kw: BedrockKnowledgeBaseRetriever(
        "KB12345678", **KEYS, **kw
    ),
    "BedrockRetrieveAndGenerateQueryEngine": lambda **kw: BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id="KB12345678", model=MODEL, **KEYS, **kw
    ),
    "BedrockAgentQueryEngine": lambda **kw: BedrockAgentQueryEngine(
        "AGENT12345", "ALIAS12345", **KEYS, **kw
    ),
}


@pytest.mark.parametrize("name", sorted(CLIENT_CLASSES))
@pytest.mark.parametrize(
    ("misspelt", "suggestion"),
    [
        ("regoin_name", "region_name"),
        ("endpoint", "endpoint_url"),
        ("max_retry", "max_retries"),
        ("credentials_profile", "credentials_profile_name"),
    ],
)
def test_client_arguments_are_checked_everywhere(name, misspelt, suggestion):
    make = CLIENT_CLASSES[name]
    make()  # the valid arguments build
    with pytest.raises(UnknownArgumentError) as info:
        make(**{misspelt: "x"})
    assert info.value.argument == misspelt
    assert info.value.suggestion == suggestion
    assert str(info.value).startswith(f"{name}: unknown argument {misspelt!r}")


@pytest.mark.parametrize(
    ("make", "misspelt", "suggestion"),
    [
        (CLIENT_CLASSES["BedrockKitLLM"], "max_token", "max_tokens"),
        (CLIENT_CLASSES["BedrockKitLLM"], "temprature", "temperature"),
        (CLIENT_CLASSES["BedrockKitLLM"], "context_windw", "context_window"),
        (CLIENT_CLASSES["BedrockKitEmbedding"], "dimension", "dimensions"),
        (_guard, "window", "window_size"),
        (CLIENT_CLASSES["BedrockKnowledgeBaseRetriever"], "max_result", "max_results"),
        (
            CLIENT_CLASSES["BedrockRetrieveAndGenerateQueryEngine"],
            "prompt_templat",
            "prompt_template",
        ),
        (CLIENT_CLASSES["BedrockAgentQueryEngine"], "max_step", "max_steps"),
        (lambda **kw: GuardedQueryEngine(_Echo(), _guard(), **kw), "check_querry", "check_query"),
        (
            lambda **kw: BedrockGuardrailNodePostprocessor(guardrail=_guard(), **kw),
            "on_blok",
            "on_block",
        ),
        (TokenBudgetHandler, "default_max_token", "default_max_tokens"),
        (BudgetEventHandler, "ledgr", "ledger"),
    ],
)
def test_own_arguments_are_checked(make, misspelt, suggestion):
    with pytest.raises(UnknownArgumentError) as info:
        make(**{misspelt: 1})
    assert info.value.suggestion == suggestion


@pytest.mark.parametrize(
    ("kwargs", "suggestion"),
    [
        ({"temprature": 0.2}, "temperature"),
        ({"max_token": 10}, "max_tokens"),
        ({"tool_choise": "any"}, "tool_choice"),
        ({"deadlin": 3}, "deadline"),
    ],
)
def test_llm_call_arguments(kwargs, suggestion):
    llm = CLIENT_CLASSES["BedrockKitLLM"]()
    messages = [ChatMessage(role=MessageRole.USER, content="hi")]
    with pytest.raises(UnknownArgumentError) as info:
        llm.build_request(messages, **kwargs)
    assert info.value.suggestion == suggestion
    with pytest.raises(UnknownArgumentError):
        llm.complete("hi", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "advice"),
    [
        ({"additional_kwargs": {}}, "additional_model_request_fields"),
        ({"guardrail_identifier": "gr-1"}, "guardrail_config="),
        ({"botocore_config": object()}, "timeout="),
    ],
)
def test_names_from_llama_index_bedrock_packages_get_advice(kwargs, advice):
    with pytest.raises(UnknownArgumentError) as info:
        CLIENT_CLASSES["BedrockKitLLM"](**kwargs)
    assert advice in str(info.value)
