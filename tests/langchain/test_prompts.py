"""Managed prompts as LangChain templates, loaded over real HTTP from LocalBedrock."""

from __future__ import annotations

from functools import partial

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from bedrock_kit.errors import ConfigurationError, ResourceNotFoundError
from bedrock_kit.langchain.chat import ChatBedrockKit
from bedrock_kit.langchain.prompts import aload_prompt, chat_model_for_prompt, load_prompt
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.prompts import (
    CHAT_VARIANT_TUNED,
    PROMPT_ID,
    TEXT_VARIANT,
    prompt_body,
)

body = partial(prompt_body, version="2", variants=(TEXT_VARIANT, CHAT_VARIANT_TUNED))


def test_text_variant_is_a_prompt_template_with_literal_braces(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, version=2, variant="text", **client_args(server))
    assert isinstance(prompt, PromptTemplate)
    assert prompt.input_variables == ["topic"]
    assert prompt.format(topic="tides") == (
        'Reply as {"topic": "tides"} about tides; keep {{literal}}.'
    )
    assert prompt.metadata is not None
    assert prompt.metadata["model_id"] == "amazon.nova-lite-v1:0"
    assert prompt.metadata["inference"] == {"temperature": 0.2, "max_tokens": 300}
    assert prompt.metadata["bedrock_prompt_version"] == "2"
    (request,) = server.requests_for("GetPrompt")
    assert request.query == {"promptVersion": ["2"]}


def test_chat_variant_is_a_chat_prompt_template(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, **client_args(server))  # default variant: chat
    assert isinstance(prompt, ChatPromptTemplate)
    assert sorted(prompt.input_variables) == ["topic", "words"]
    messages = prompt.format_messages(topic="tides", words=5)
    assert messages == [
        SystemMessage("Be terse about tides. Sets look like {}."),
        HumanMessage("Hi"),
        AIMessage("Hello {there}"),
        HumanMessage("Explain tides in 5 words"),
    ]
    assert prompt.metadata is not None
    assert prompt.metadata["bedrock_prompt_variant"] == "chat"


def test_prompt_piped_into_its_chat_model_answers_from_converse(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, **client_args(server))
    model = chat_model_for_prompt(prompt, **client_args(server))
    assert isinstance(model, ChatBedrockKit)
    assert model.model_id == "anthropic.claude-3-haiku-20240307-v1:0"
    assert (model.top_p, model.max_tokens, model.stop) == (0.5, 64, ["END"])
    chain = prompt | model | StrOutputParser()
    assert chain.invoke({"topic": "tides", "words": 3}) == "echo: Explain tides in 3 words"
    (converse,) = server.requests_for("Converse")
    assert converse.path_params["modelId"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert converse.body["inferenceConfig"] == {
        "maxTokens": 64,
        "topP": 0.5,
        "stopSequences": ["END"],
    }
    assert converse.body["additionalModelRequestFields"] == {"top_k": 5}
    assert converse.body["system"] == [{"text": "Be terse about tides. Sets look like {}."}]


async def test_async_load_and_chain_with_overrides(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body(default="text")))
    prompt = await aload_prompt(PROMPT_ID, **client_args(server))
    assert isinstance(prompt, PromptTemplate)
    model = chat_model_for_prompt(
        prompt, model="amazon.nova-pro-v1:0", temperature=0.9, **client_args(server)
    )
    try:
        answer = await (prompt | model | StrOutputParser()).ainvoke({"topic": "moons"})
    finally:
        await model.aclose()
    assert answer == 'echo: Reply as {"topic": "moons"} about moons; keep {{literal}}.'
    (converse,) = server.requests_for("Converse")
    assert converse.path_params["modelId"] == "amazon.nova-pro-v1:0"
    assert converse.body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.9}


def test_errors(server: LocalBedrock) -> None:
    server.script(
        "GetPrompt", Reply.json(body()), Reply.error(404, "ResourceNotFoundException", "gone")
    )
    with pytest.raises(ConfigurationError, match="variants: \\['text', 'chat'\\]"):
        load_prompt(PROMPT_ID, variant="missing", **client_args(server))
    with pytest.raises(ResourceNotFoundError, match="gone"):
        load_prompt(PROMPT_ID, **client_args(server))
    with pytest.raises(ConfigurationError, match="prompt_id"):
        load_prompt("not an id", **client_args(server))
    no_model = PromptTemplate.from_template("x {y}")
    with pytest.raises(ConfigurationError, match="model"):
        chat_model_for_prompt(no_model)
