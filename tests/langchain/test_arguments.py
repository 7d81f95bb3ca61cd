"""Every public LangChain class refuses a misspelt argument by name, with a suggestion.

Constructors (pydantic would drop unknown keywords silently) and the per-call keyword
arguments of every runnable (``invoke(x, **kw)``, ``bind(**kw)``) alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit.errors import UnknownArgumentError
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockAgentTool,
    BedrockGroundingCheck,
    BedrockGuardrail,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
    BedrockStreamGuard,
    ChatBedrockKit,
    TokenBudgetCallbackHandler,
)
from bedrock_kit.langchain.budget import ProgressCallbackHandler

KEYS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "AKIAARGUMENTSTEST000",
    "aws_secret_access_key": "arguments-test-secret-000000000000000000",
}
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _agent(**kwargs: Any) -> BedrockAgentRunnable:
    return BedrockAgentRunnable(
        agent_id="AGENT12345", agent_alias_id="ALIAS12345", **KEYS, **kwargs
    )


# class -> how to build it with valid arguments plus ``extra``
CLIENT_CLASSES: dict[str, Callable[..., Any]] = {
    "ChatBedrockKit": lambda **kw: ChatBedrockKit(model=MODEL, **KEYS, **kw),
    "BedrockKitEmbeddings": lambda **kw: BedrockKitEmbeddings(
        model="amazon.titan-embed-text-v2:0", **KEYS, **kw
    ),
    "BedrockGuardrail": lambda **kw: BedrockGuardrail(guardrail_id="gr-1", **KEYS, **kw),
    "BedrockStreamGuard": lambda **kw: BedrockStreamGuard(guardrail_id="gr-1", **KEYS, **kw),
    "BedrockGroundingCheck": lambda **kw: BedrockGroundingCheck(guardrail_id="gr-1", **KEYS, **kw),
    "BedrockKnowledgeBaseRetriever": lambda **kw: BedrockKnowledgeBaseRetriever(
        knowledge_base_id="KB12345678", **KEYS, **kw
    ),
    "BedrockRetrieveAndGenerate": lambda **kw: BedrockRetrieveAndGenerate(
        knowledge_base_id="KB12345678", model=MODEL, **KEYS, **kw
    ),
    "BedrockAgentRunnable": _agent,
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
        (CLIENT_CLASSES["ChatBedrockKit"], "max_token", "max_tokens"),
        (CLIENT_CLASSES["ChatBedrockKit"], "temprature", "temperature"),
        (CLIENT_CLASSES["ChatBedrockKit"], "guardrail_confg", "guardrail_config"),
        (CLIENT_CLASSES["BedrockKitEmbeddings"], "dimension", "dimensions"),
        (CLIENT_CLASSES["BedrockStreamGuard"], "window", "window_size"),
        (CLIENT_CLASSES["BedrockGuardrail"], "guardrail_verison", "guardrail_version"),
        (CLIENT_CLASSES["BedrockKnowledgeBaseRetriever"], "max_result", "max_results"),
        (CLIENT_CLASSES["BedrockRetrieveAndGenerate"], "prompt_templat", "prompt_template"),
        (_agent, "max_step", "max_steps"),
        (lambda **kw: BedrockAgentTool(agent=_agent(), **kw), "descripton", "description"),
        (TokenBudgetCallbackHandler, "default_max_token", "default_max_tokens"),
        (lambda **kw: ProgressCallbackHandler(3, **kw), "descr", "desc"),
    ],
)
def test_own_arguments_are_checked(make, misspelt, suggestion):
    with pytest.raises(UnknownArgumentError) as info:
        make(**{misspelt: 1})
    assert info.value.suggestion == suggestion


RUNNABLES: dict[str, Callable[[], Any]] = {
    "BedrockGuardrail": CLIENT_CLASSES["BedrockGuardrail"],
    "BedrockStreamGuard": CLIENT_CLASSES["BedrockStreamGuard"],
    "BedrockGroundingCheck": CLIENT_CLASSES["BedrockGroundingCheck"],
    "BedrockRetrieveAndGenerate": CLIENT_CLASSES["BedrockRetrieveAndGenerate"],
    "BedrockAgentRunnable": _agent,
}


def _consume(value: Any) -> None:
    if hasattr(value, "__aiter__"):

        async def drain() -> None:
            async for _ in value:
                pass

        asyncio.run(drain())
    elif asyncio.iscoroutine(value):
        asyncio.run(value)
    elif hasattr(value, "__next__"):
        list(value)


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("name", sorted(RUNNABLES))
def test_runnables_refuse_call_arguments_they_do_not_take(name, method):
    runnable = RUNNABLES[name]()
    with pytest.raises(UnknownArgumentError) as info:
        _consume(getattr(runnable, method)("hello", temprature=0.5))
    assert info.value.argument == "temprature"
    # stream/astream of the guard runnables go through LangChain's default, to invoke.
    assert str(info.value).startswith(f"{name}.")
    assert str(info.value).endswith("unknown argument 'temprature': it takes no keyword arguments")


def test_retriever_call_arguments_suggest_the_close_one():
    retriever = CLIENT_CLASSES["BedrockKnowledgeBaseRetriever"]()
    with pytest.raises(UnknownArgumentError, match="did you mean 'number_of_results'"):
        retriever.invoke("q", number_of_result=3)


@pytest.mark.parametrize(
    ("kwargs", "suggestion"),
    [
        ({"temprature": 0.2}, "temperature"),
        ({"max_token": 10}, "max_tokens"),
        ({"tool_choise": "any"}, "tool_choice"),
        ({"deadlin": 3}, "deadline"),
    ],
)
def test_chat_call_arguments(kwargs, suggestion):
    llm = CLIENT_CLASSES["ChatBedrockKit"]()
    with pytest.raises(UnknownArgumentError) as info:
        llm.bind(**kwargs)
    assert info.value.suggestion == suggestion
    with pytest.raises(UnknownArgumentError):
        llm.build_request([], **kwargs)


@pytest.mark.parametrize(
    "name", ["inference_config", "tool_config", "guardrail_config", "reasoning_effort"]
)
def test_chat_call_arguments_langchain_aws_takes_are_refused_with_advice(name):
    with pytest.raises(UnknownArgumentError) as info:
        CLIENT_CLASSES["ChatBedrockKit"]().bind(**{name: {}})
    assert "is not supported:" in str(info.value)


def test_what_langchain_itself_passes_is_accepted():
    llm = CLIENT_CLASSES["ChatBedrockKit"]()
    bound = llm.bind(stream=True, ls_structured_output_format={"schema": {}}, deadline=5)
    assert bound.kwargs["deadline"] == 5


def test_with_structured_output_names_unknown_arguments():
    with pytest.raises(UnknownArgumentError, match="did you mean 'include_raw'"):
        CLIENT_CLASSES["ChatBedrockKit"]().with_structured_output({"type": "object"}, include_rw=1)
