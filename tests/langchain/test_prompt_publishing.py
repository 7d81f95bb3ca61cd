"""publish_prompt for LangChain templates: round trip through Prompt Management (publish,
load, same messages), versions only for changes, unrepresentable templates refused by name
before any request. Against LocalBedrock's prompt store, sync and async."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate

from bedrock_kit.errors import UnsupportedTemplateError
from bedrock_kit.langchain import (
    aload_prompt,
    apublish_prompt,
    chat_model_for_prompt,
    load_prompt,
    publish_prompt,
)
from bedrock_kit.testing import LocalBedrock

MODEL = "amazon.nova-micro-v1:0"
CHAT = ChatPromptTemplate(
    [
        ("system", 'Reply as JSON like {{"answer": "..."}} in a {tone} tone.'),
        SystemMessage("Never mention {secrets}."),
        ("human", "{question}"),
        ("ai", "Noted: {{braces}} stay."),
        ("human", "And {question} again?"),
    ]
)
VALUES = {"tone": "dry", "question": "why do tides {rise}?"}


def test_chat_round_trip_sync(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    published = publish_prompt(CHAT, "tides-chat", model=MODEL, temperature=0.3, **kwargs)
    assert (published.version, published.created, published.new_version) == ("1", True, True)
    loaded = load_prompt(published.id, published.version, **kwargs)
    assert loaded.format_messages(**VALUES) == CHAT.format_messages(**VALUES)
    assert sorted(loaded.input_variables) == sorted(CHAT.input_variables)
    assert loaded.metadata["model_id"] == MODEL
    assert loaded.metadata["inference"] == {"temperature": 0.3}
    assert chat_model_for_prompt(loaded).temperature == 0.3


def test_text_round_trip_async_with_inference(server: LocalBedrock) -> None:
    template = PromptTemplate.from_template("Summarise {text} in {n} words: {{json}}")
    kwargs = server.client_kwargs()

    async def run() -> tuple:
        published = await apublish_prompt(
            template,
            "summary",
            model=MODEL,
            max_tokens=64,
            top_p=0.9,
            stop=["END"],
            description="a summary prompt",
            **kwargs,
        )
        return published, await aload_prompt(published.id, published.version, **kwargs)

    published, loaded = asyncio.run(run())
    assert published.version == "1"
    assert isinstance(loaded, PromptTemplate)
    assert loaded.format(text="tides", n=5) == template.format(text="tides", n=5)
    assert loaded.metadata["inference"] == {
        "max_tokens": 64,
        "top_p": 0.9,
        "stop_sequences": ["END"],
    }
    create = server.requests_for("CreatePrompt")[0].body
    assert create["description"] == "a summary prompt"
    text = create["variants"][0]["templateConfiguration"]["text"]
    assert text["text"] == "Summarise {{text}} in {{n}} words: {json}"


def test_unchanged_template_creates_no_version(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    first = publish_prompt(CHAT, "tides-chat", model=MODEL, **kwargs)
    again = publish_prompt(CHAT, "tides-chat", model=MODEL, **kwargs)
    # A loaded template keeps its model: re-publishing it unchanged is a no-op too.
    loaded = load_prompt(first.id, first.version, **kwargs)
    third = publish_prompt(loaded, "tides-chat", first.id, **kwargs)
    assert {first.version, again.version, third.version} == {"1"}
    assert not again.new_version and not third.new_version
    assert len(server.requests_for("CreatePromptVersion")) == 1
    assert server.requests_for("UpdatePrompt") == []


def test_changed_template_updates_the_draft_and_creates_a_version(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    first = publish_prompt(CHAT, "tides-chat", model=MODEL, **kwargs)
    changed = ChatPromptTemplate([("human", "Only {question}")])
    second = publish_prompt(changed, "tides-chat", model=MODEL, **kwargs)
    assert (second.id, second.version, second.draft_updated) == (first.id, "2", True)
    old = load_prompt(first.id, "1", **kwargs)
    new = load_prompt(first.id, "2", **kwargs)
    assert old.format_messages(**VALUES) == CHAT.format_messages(**VALUES)
    assert new.format_messages(question="q") == [HumanMessage("Only q")]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            PromptTemplate.from_template("hi {x} {y}", partial_variables={"y": "1"}),
            "partial variables ['y']",
        ),
        (
            ChatPromptTemplate([("human", "{q}"), MessagesPlaceholder("history")]),
            "MessagesPlaceholder('history')",
        ),
        (ChatPromptTemplate([("human", "{q}"), ("system", "late")]), "comes after other messages"),
        (
            PromptTemplate.from_template("hi {{ x }}", template_format="jinja2"),
            "template_format='jinja2'",
        ),
        (
            ChatPromptTemplate(
                [
                    (
                        "human",
                        [
                            {"type": "text", "text": "{q}"},
                            {"type": "image_url", "image_url": "{image}"},
                        ],
                    )
                ]
            ),
            "no Bedrock form",
        ),
        (PromptTemplate.from_template("{x:>10}"), "format spec"),
        (
            ChatPromptTemplate([("human", "literal {{{{name}}}} here {q}")]),
            "would be read by Bedrock",
        ),
        (
            ChatPromptTemplate([AIMessage(content=[{"type": "text", "text": "x"}])]),
            "non-text content",
        ),
    ],
)
def test_unrepresentable_templates_are_refused_by_name(
    server: LocalBedrock, template: object, problem: str
) -> None:
    with pytest.raises(UnsupportedTemplateError, match="cannot be published") as caught:
        publish_prompt(template, "bad", model=MODEL, **server.client_kwargs())  # type: ignore[arg-type]
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert server.requests == []
