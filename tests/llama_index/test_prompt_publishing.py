"""publish_prompt for LlamaIndex templates: round trip through Prompt Management (publish,
load, same messages), versions only for changes, unrepresentable templates refused by name
before any request. Against LocalBedrock's prompt store, sync and async."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate, SelectorPromptTemplate

from bedrock_kit.errors import UnsupportedTemplateError
from bedrock_kit.llama_index import (
    aload_prompt,
    apublish_prompt,
    llm_for_prompt,
    load_prompt,
    publish_prompt,
)
from bedrock_kit.testing import LocalBedrock

MODEL = "amazon.nova-micro-v1:0"


def _declared(template: PromptTemplate, names: list[str]) -> PromptTemplate:
    template.template_vars = names  # as load_prompt sets them: {{x}} is then literal text
    return template


def test_braces_around_a_variable_round_trip(server: LocalBedrock) -> None:
    # LlamaIndex fills the {x} inside {{x}}: Bedrock's {{{x}}} reads the same.
    template = PromptTemplate("wrapped {{x}} and {x}")
    kwargs = server.client_kwargs()
    published = publish_prompt(template, "wrapped", model=MODEL, **kwargs)
    assert load_prompt(published.id, **kwargs).format(x="V") == template.format(x="V")


CHAT = ChatPromptTemplate(
    [
        ChatMessage(
            role=MessageRole.SYSTEM, content='Reply as JSON {"answer": 1} in a {tone} tone.'
        ),
        ChatMessage(role=MessageRole.USER, content="{question}"),
        ChatMessage(role=MessageRole.ASSISTANT, content="Sure."),
        ChatMessage(role=MessageRole.USER, content="Again: {question}"),
    ]
)
VALUES = {"tone": "dry", "question": "why?"}


def test_chat_round_trip_async(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()

    async def run() -> tuple:
        published = await apublish_prompt(CHAT, "li-chat", model=MODEL, max_tokens=80, **kwargs)
        return published, await aload_prompt(published.id, published.version, **kwargs)

    published, loaded = asyncio.run(run())
    assert published.new_version and published.version == "1"
    assert loaded.format_messages(**VALUES) == CHAT.format_messages(**VALUES)
    assert loaded.template_vars == CHAT.template_vars
    assert llm_for_prompt(loaded).max_tokens == 80


def test_text_round_trip_sync(server: LocalBedrock) -> None:
    template = PromptTemplate("Summarise {text} as {{json}} in {n-words} words")
    kwargs = server.client_kwargs()
    published = publish_prompt(template, "li-text", model=MODEL, **kwargs)
    loaded = load_prompt(published.id, published.version, **kwargs)
    values = {"text": "tides", "n-words": "5"}
    assert loaded.format(**values) == template.format(**values)


def test_unchanged_template_creates_no_version_changed_one_does(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    first = publish_prompt(CHAT, "li-chat", model=MODEL, **kwargs)
    again = asyncio.run(apublish_prompt(CHAT, "li-chat", model=MODEL, **kwargs))
    assert (again.version, again.new_version) == ("1", False)
    changed = publish_prompt(CHAT, "li-chat", model=MODEL, temperature=0.1, **kwargs)
    assert (changed.id, changed.version, changed.new_version) == (first.id, "2", True)
    assert len(server.requests_for("CreatePromptVersion")) == 2


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (PromptTemplate("a {b} {c}").partial_format(b="1"), "partial variables ['b']"),
        (PromptTemplate("a {b}", function_mappings={"b": lambda **_: "x"}), "function_mappings"),
        (PromptTemplate("a {b}", template_var_mappings={"b": "c"}), "template_var_mappings"),
        (ChatPromptTemplate([ChatMessage(role=MessageRole.TOOL, content="{x}")]), "role 'tool'"),
        (
            ChatPromptTemplate(
                [
                    ChatMessage(
                        role=MessageRole.USER,
                        blocks=[TextBlock(text="{q}"), ImageBlock(url="https://example.com/a.png")],
                    )
                ]
            ),
            "ImageBlock",
        ),
        (_declared(PromptTemplate("literal {{x}} beside {y}"), ["y"]), "would be read by Bedrock"),
        (SelectorPromptTemplate(default_template=PromptTemplate("{x}")), "no Bedrock form"),
    ],
)
def test_unrepresentable_templates_are_refused_by_name(
    server: LocalBedrock, template: object, problem: str
) -> None:
    with pytest.raises(UnsupportedTemplateError) as caught:
        publish_prompt(template, "bad", model=MODEL, **server.client_kwargs())  # type: ignore[arg-type]
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert server.requests == []
