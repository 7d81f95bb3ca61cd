"""Publishing templates: Bedrock ``{{var}}`` text from framework syntax, the variant built,
unrepresentable templates refused by name, and the publish plan over real HTTP (LocalBedrock's
prompt store): create, version, unchanged -> no version, changed -> a new one."""

from __future__ import annotations

import asyncio

import pytest

from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.prompts.management import fetch_prompt
from bedrock_kit.core.prompts.publish import (
    HASH_KEY,
    PromptPart,
    PromptSpec,
    apublish_spec,
    bedrock_template,
    build_variant,
    publish_spec,
)
from bedrock_kit.errors import ConfigurationError, UnsupportedTemplateError
from bedrock_kit.testing import LocalBedrock


@pytest.mark.parametrize(
    ("part", "variables", "expected"),
    [
        (PromptPart("user", "Tell me about {topic}."), ["topic"], "Tell me about {{topic}}."),
        (PromptPart("user", 'JSON {{"a": {x}}}'), ["x"], 'JSON {"a": {{x}}}'),
        (PromptPart("user", "{{{x}}}"), ["x"], "{{{x}}}"),
        (PromptPart("user", 'JSON {"a": {x}}', "llama_index"), ["x"], 'JSON {"a": {{x}}}'),
        (PromptPart("user", "{a-b} and {c}", "llama_index"), ["a-b"], "{{a-b}} and {c}"),
        (PromptPart("system", "Fixed {text}", "literal"), [], "Fixed {text}"),
    ],
)
def test_framework_syntax_becomes_bedrock_syntax(
    part: PromptPart, variables: list[str], expected: str
) -> None:
    text, problems = bedrock_template(part, variables, "m")
    assert (text, problems) == (expected, [])


@pytest.mark.parametrize(
    ("part", "variables", "problem"),
    [
        (PromptPart("user", "{x!r}"), ["x"], "conversion"),
        (PromptPart("user", "{x:>5}"), ["x"], "format spec"),
        (PromptPart("user", "{0}"), [], "not a named variable"),
        (PromptPart("user", "{user.name}"), ["user"], "not a named variable"),
        (PromptPart("user", "{{{{x}}}} and {y}"), ["y"], "would be read by Bedrock"),
        (PromptPart("user", "{{x}}", "literal"), [], "would be read by Bedrock"),
        (PromptPart("user", "{", "format"), [], "not a valid f-string"),
    ],
)
def test_unrepresentable_text_is_named(
    part: PromptPart, variables: list[str], problem: str
) -> None:
    _, problems = bedrock_template(part, variables, "the message")
    assert problems and problem in problems[0] and "the message" in problems[0]


def _spec(**overrides: object) -> PromptSpec:
    fields: dict = {
        "name": "tides",
        "template_type": "CHAT",
        "parts": (
            PromptPart("system", "Answer in a {tone} tone."),
            PromptPart("user", "{question}"),
            PromptPart("assistant", "Sure.", "literal"),
        ),
        "input_variables": ("tone", "question"),
        "model_id": "amazon.nova-micro-v1:0",
        "inference": InferenceConfig(max_tokens=50, temperature=0.2, stop_sequences=("END",)),
    }
    fields.update(overrides)
    return PromptSpec(**fields)


def test_variant_holds_messages_system_variables_model_and_inference() -> None:
    variant = build_variant(_spec(additional_model_request_fields={"top_k": 5}))
    chat = variant["templateConfiguration"]["chat"]
    assert chat["system"] == [{"text": "Answer in a {{tone}} tone."}]
    assert chat["messages"] == [
        {"role": "user", "content": [{"text": "{{question}}"}]},
        {"role": "assistant", "content": [{"text": "Sure."}]},
    ]
    assert chat["inputVariables"] == [{"name": "tone"}, {"name": "question"}]
    assert variant["modelId"] == "amazon.nova-micro-v1:0"
    assert variant["inferenceConfiguration"] == {
        "text": {"maxTokens": 50, "temperature": 0.2, "stopSequences": ["END"]}
    }
    assert variant["additionalModelRequestFields"] == {"top_k": 5}
    ((entry),) = variant["metadata"]
    assert entry["key"] == HASH_KEY and len(entry["value"]) == 64


def test_the_hash_follows_the_content() -> None:
    digest = build_variant(_spec())["metadata"][0]["value"]
    assert build_variant(_spec())["metadata"][0]["value"] == digest
    changed = build_variant(_spec(inference=InferenceConfig(temperature=0.9)))
    assert changed["metadata"][0]["value"] != digest


def test_every_problem_is_named_at_once() -> None:
    spec = _spec(
        name="bad name",
        parts=(PromptPart("user", "{question}"), PromptPart("system", "late")),
        input_variables=("question", "two__underscores"),
        problems=("partial variables ['x'] have no Bedrock form",),
    )
    with pytest.raises(UnsupportedTemplateError) as caught:
        build_variant(spec)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "partial variables",
        "not a prompt name",
        "two__underscores",
        "comes after other messages",
    ):
        assert expected in problems
    assert isinstance(caught.value, ConfigurationError)


def test_a_chat_of_system_text_only_is_refused() -> None:
    with pytest.raises(UnsupportedTemplateError, match="at least one user or assistant"):
        build_variant(_spec(parts=(PromptPart("system", "x"),), input_variables=()))


# -- over HTTP


def test_publish_create_version_then_unchanged_then_changed(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    first = publish_spec(_spec(), **kwargs)
    assert (first.created, first.new_version, first.version) == (True, True, "1")
    again = publish_spec(_spec(), **kwargs)
    assert (again.id, again.version, again.new_version, again.draft_updated) == (
        first.id,
        "1",
        False,
        False,
    )
    changed = publish_spec(_spec(inference=InferenceConfig(temperature=0.9)), **kwargs)
    assert (changed.id, changed.version, changed.new_version, changed.draft_updated) == (
        first.id,
        "2",
        True,
        True,
    )
    operations = [r.operation for r in server.requests]
    assert operations.count("CreatePromptVersion") == 2
    assert operations.count("CreatePrompt") == 1 and operations.count("UpdatePrompt") == 1
    loaded = fetch_prompt(first.id, "2", **kwargs)
    assert loaded.variant().inference.temperature == 0.9


def test_publish_by_prompt_id_async_and_draft_edited_elsewhere(server: LocalBedrock) -> None:
    kwargs = server.client_kwargs()
    first = publish_spec(_spec(), **kwargs)
    # Someone edits the DRAFT by hand; the latest version still holds our template.
    server.prompts._drafts[first.id]["variants"][0]["metadata"] = []
    again = asyncio.run(apublish_spec(_spec(), first.id, **kwargs))
    assert (again.version, again.draft_updated, again.new_version) == ("1", True, False)
    assert [r.operation for r in server.requests].count("ListPrompts") == 2


def test_refused_before_any_request(server: LocalBedrock) -> None:
    with pytest.raises(UnsupportedTemplateError):
        publish_spec(_spec(input_variables=("bad__name",)), **server.client_kwargs())
    with pytest.raises(ConfigurationError, match="prompt_id"):
        publish_spec(_spec(), "not-an-id", **server.client_kwargs())
    assert server.requests == []
