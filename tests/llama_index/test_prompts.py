"""Managed prompts as LlamaIndex templates, loaded over real HTTP from LocalBedrock."""

from __future__ import annotations

import re
from typing import Any

import pytest
from llama_index.core.base.llms.types import MessageRole
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.chat import BedrockKitLLM
from bedrock_kit.llama_index.prompts import aload_prompt, llm_for_prompt, load_prompt
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.prompts import CHAT_VARIANT, PROMPT_ID, TEXT_VARIANT, prompt_body


def body(default: str = "chat", text: dict[str, Any] = TEXT_VARIANT) -> dict[str, Any]:
    return prompt_body(default, variants=(text, CHAT_VARIANT))


def test_text_variant_is_a_prompt_template_with_literal_braces(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, variant="text", **client_args(server))
    assert isinstance(prompt, PromptTemplate)
    assert prompt.template_vars == ["topic"]  # not "literal": LlamaIndex would guess it
    assert prompt.format(topic="tides") == (
        'Reply as {"topic": "tides"} about tides; keep {{literal}}.'
    )
    assert prompt.metadata["model_id"] == "amazon.nova-lite-v1:0"
    assert prompt.metadata["inference"] == {"temperature": 0.2, "max_tokens": 300}


def test_chat_variant_is_a_chat_prompt_template(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, **client_args(server))
    assert isinstance(prompt, ChatPromptTemplate)
    assert prompt.template_vars == ["topic", "words"]
    messages = prompt.format_messages(topic="tides", words="5")
    assert [(m.role, m.content) for m in messages] == [
        (MessageRole.SYSTEM, "Be terse about tides. Sets look like {}."),
        (MessageRole.USER, "Hi"),
        (MessageRole.ASSISTANT, "Hello {there}"),
        (MessageRole.USER, "Explain tides in 5 words"),
    ]
    assert prompt.metadata["model_id"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert prompt.metadata["inference"] == {"top_p": 0.5, "max_tokens": 64}


async def test_async_load(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body(default="text")))
    prompt = await aload_prompt(PROMPT_ID, version="DRAFT", **client_args(server))
    assert isinstance(prompt, PromptTemplate)
    assert prompt.format(topic="x").startswith('Reply as {"topic": "x"}')
    assert server.requests_for("GetPrompt")[0].query == {"promptVersion": ["DRAFT"]}


def test_literal_text_llama_index_would_substitute_is_refused(server: LocalBedrock) -> None:
    ambiguous = {**TEXT_VARIANT}
    ambiguous["templateConfiguration"] = {
        "text": {"text": "literal {topic} vs {{topic}}", "inputVariables": [{"name": "topic"}]}
    }
    server.script("GetPrompt", Reply.json(body(default="text", text=ambiguous)))
    with pytest.raises(ConfigurationError, match=re.escape("'{topic}'")):
        load_prompt(PROMPT_ID, **client_args(server))


async def test_prompt_runs_on_its_llm_sync_and_async(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(body()))
    prompt = load_prompt(PROMPT_ID, **client_args(server))
    llm = llm_for_prompt(prompt, **client_args(server))
    assert isinstance(llm, BedrockKitLLM)
    assert (llm.model, llm.top_p, llm.max_tokens) == (CHAT_VARIANT["modelId"], 0.5, 64)
    response = llm.chat(prompt.format_messages(topic="tides", words="5"))
    assert response.message.content == "echo: Explain tides in 5 words"
    other = llm_for_prompt(prompt, model="amazon.nova-lite-v1:0", **client_args(server))
    try:
        response = await other.achat(prompt.format_messages(topic="moons", words="2"))
    finally:
        await other.aclose()
    assert response.message.content == "echo: Explain moons in 2 words"
    first, second = server.requests_for("Converse")
    assert first.path_params["modelId"] == CHAT_VARIANT["modelId"]
    assert first.body["inferenceConfig"] == {"maxTokens": 64, "topP": 0.5}
    assert first.body["system"] == [{"text": "Be terse about tides. Sets look like {}."}]
    assert second.path_params["modelId"] == "amazon.nova-lite-v1:0"
