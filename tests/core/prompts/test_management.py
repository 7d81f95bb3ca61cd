"""Prompt Management core: variable mapping, GetPrompt parsing, and loading via LocalBedrock."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.prompts.management import (
    PromptManagement,
    PromptMessage,
    build_get_prompt_request,
    model_arguments,
    parse_prompt,
    prompt_management,
    prompt_metadata,
    template_variables,
    to_format_string,
)
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError, MalformedResponseError, ResourceNotFoundError
from bedrock_kit.testing import LocalBedrock, Reply

PROMPT_ID = "PRMT123456"
ARN = f"arn:aws:bedrock:us-east-1:123456789012:prompt/{PROMPT_ID}"

TEXT_VARIANT = {
    "name": "text",
    "templateType": "TEXT",
    "templateConfiguration": {
        "text": {
            "text": 'Summarise {{topic}} as JSON {"summary": "..."} for {{audience}}.',
            "inputVariables": [{"name": "topic"}, {"name": "audience"}],
        }
    },
    "modelId": "amazon.nova-lite-v1:0",
    "inferenceConfiguration": {"text": {"temperature": 0.2, "maxTokens": 300, "topP": 0.9}},
}
CHAT_VARIANT = {
    "name": "chat",
    "templateType": "CHAT",
    "templateConfiguration": {
        "chat": {
            "system": [
                {"text": "You are terse about {{topic}}."},
                {"cachePoint": {"type": "default"}},
            ],
            "messages": [
                {"role": "user", "content": [{"text": "Explain {{topic}}."}]},
                {"role": "assistant", "content": [{"text": "Sure: {"}]},
                {"role": "user", "content": [{"text": "In {{words}} words"}, {"text": "!"}]},
            ],
            "inputVariables": [{"name": "topic"}, {"name": "words"}],
            "toolConfiguration": {"tools": [], "toolChoice": {"auto": {}}},
        }
    },
    "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "inferenceConfiguration": {"text": {"stopSequences": ["END"], "maxTokens": 50}},
    "additionalModelRequestFields": {"top_k": 5},
    "metadata": [{"key": "team", "value": "docs"}],
}


def get_prompt_body(default: str = "chat", version: str = "DRAFT") -> dict[str, Any]:
    return {
        "id": PROMPT_ID,
        "arn": ARN if version == "DRAFT" else f"{ARN}:{version}",
        "version": version,
        "name": "explainer",
        "description": "explains things",
        "defaultVariant": default,
        "variants": [copy.deepcopy(TEXT_VARIANT), copy.deepcopy(CHAT_VARIANT)],
        "createdAt": "2025-01-02T03:04:05Z",
        "updatedAt": "2025-01-02T03:04:05Z",
    }


# -- pure: {{var}} -> {var}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {{name}}!", "Hello {name}!"),
        ("{{ name }} and {{other}}", "{name} and {{{{other}}}}"),
        ('JSON {"a": {{name}}}', 'JSON {{"a": {name}}}'),
        ("{{{name}}}", "{{{name}}}"),
        ("set() is {}", "set() is {{}}"),
        ("{{my-var_2}}", "{{{{my-var_2}}}}"),
    ],
)
def test_bedrock_variables_map_and_literal_braces_survive_str_format(
    template: str, expected: str
) -> None:
    mapped = to_format_string(template, ["name"])
    assert mapped == expected
    # Formatting gives back the template with only the declared variable replaced.
    assert mapped.format(name="X") == template.replace("{{name}}", "X").replace("{{ name }}", "X")


def test_hyphenated_names_map_when_declared() -> None:
    assert to_format_string("{{my-var_2}}", ["my-var_2"]).format(**{"my-var_2": 1}) == "1"
    assert template_variables("{{a}} {{ b }} {{a}} {{-x}}") == ["a", "b"]


def test_all_digit_names_are_refused_for_str_format_but_fine_unescaped() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("{{12}} is all digits")):
        to_format_string("n={{12}}", ["12"])
    assert to_format_string("n={{12}}", ["12"], escape_braces=False) == "n={12}"


def test_unescaped_form_keeps_literals_and_refuses_ambiguous_ones() -> None:
    assert to_format_string('JSON {"a": {{x}}}', ["x"], escape_braces=False) == 'JSON {"a": {x}}'
    with pytest.raises(ConfigurationError, match=re.escape("'{x}'")):
        to_format_string("literal {x} vs {{x}}", ["x"], escape_braces=False)


# -- pure: GetPrompt parsing


def test_parse_text_and_chat_variants() -> None:
    prompt = parse_prompt(get_prompt_body())
    assert (prompt.id, prompt.arn, prompt.version, prompt.name) == (
        PROMPT_ID,
        ARN,
        "DRAFT",
        "explainer",
    )
    text = prompt.variant("text")
    assert text.template_type == "TEXT"
    assert text.input_variables == ("topic", "audience")
    assert text.model_id == "amazon.nova-lite-v1:0"
    assert text.inference == InferenceConfig(max_tokens=300, temperature=0.2, top_p=0.9)
    assert text.format_strings() == [
        ("user", 'Summarise {topic} as JSON {{"summary": "..."}} for {audience}.')
    ]
    chat = prompt.variant()  # the default variant
    assert chat.name == "chat" and chat.template_type == "CHAT"
    assert chat.system == ("You are terse about {{topic}}.",)
    assert chat.messages == (
        PromptMessage("user", "Explain {{topic}}."),
        PromptMessage("assistant", "Sure: {"),
        PromptMessage("user", "In {{words}} words!"),
    )
    assert chat.cache_points == ("system[1]",)
    assert chat.inference.stop_sequences == ("END",)
    assert chat.additional_model_request_fields == {"top_k": 5}
    assert chat.tool_configuration == {"tools": [], "toolChoice": {"auto": {}}}
    assert chat.metadata == {"team": "docs"}
    assert [role for role, _ in chat.format_strings()] == ["system", "user", "assistant", "user"]
    assert chat.format_strings()[2] == ("assistant", "Sure: {{")


def test_undeclared_variables_are_derived_from_the_template() -> None:
    variant = copy.deepcopy(TEXT_VARIANT)
    del variant["templateConfiguration"]["text"]["inputVariables"]
    prompt = parse_prompt({**get_prompt_body(), "variants": [variant], "defaultVariant": None})
    assert prompt.variant().input_variables == ("topic", "audience")


def test_unknown_variant_names_the_variants() -> None:
    with pytest.raises(ConfigurationError, match=r"\['text', 'chat'\]"):
        parse_prompt(get_prompt_body()).variant("nope")


def test_unsupported_content_and_missing_fields_are_errors() -> None:
    body = get_prompt_body()
    body["variants"][1]["templateConfiguration"]["chat"]["messages"][0]["content"] = [{"image": {}}]
    with pytest.raises(MalformedResponseError, match=r"messages\[0\]\[0\]"):
        parse_prompt(body)
    with pytest.raises(MalformedResponseError, match="id"):
        parse_prompt({"name": "x"})
    body = get_prompt_body()
    body["variants"][0]["templateType"] = "AGENT"
    with pytest.raises(MalformedResponseError, match="AGENT"):
        parse_prompt(body)


def test_metadata_is_plain_json_with_snake_case_inference() -> None:
    prompt = parse_prompt(get_prompt_body())
    meta = prompt_metadata(prompt, prompt.variant("chat"))
    assert meta["model_id"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert meta["inference"] == {"max_tokens": 50, "stop_sequences": ["END"]}
    assert meta["bedrock_prompt_variant"] == "chat"
    assert meta["additional_model_request_fields"] == {"top_k": 5}


def test_model_arguments_from_metadata_with_overrides_winning() -> None:
    prompt = parse_prompt(get_prompt_body())
    meta = prompt_metadata(prompt, prompt.variant("chat"))
    assert model_arguments(meta, {"temperature": 1.0}) == {
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "max_tokens": 50,
        "stop": ["END"],
        "additional_model_request_fields": {"top_k": 5},
        "temperature": 1.0,
    }
    assert model_arguments(meta, {"model_id": "m"})["model"] == "m"
    with pytest.raises(ConfigurationError, match="pass model="):
        model_arguments({}, {"temperature": 0.1})


@pytest.mark.parametrize(
    ("identifier", "version", "argument"),
    [("short", None, "prompt_id"), (PROMPT_ID, "v2", "version"), (42, None, "prompt_id")],
)
def test_request_is_validated(identifier: Any, version: Any, argument: str) -> None:
    with pytest.raises(ConfigurationError, match=argument):
        build_get_prompt_request(identifier, version)


def test_request_accepts_ids_arns_and_versions() -> None:
    assert build_get_prompt_request(PROMPT_ID) == {"promptIdentifier": PROMPT_ID}
    assert build_get_prompt_request(f"{ARN}:3", 3) == {
        "promptIdentifier": f"{ARN}:3",
        "promptVersion": "3",
    }


def test_client_args_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="model"):
        prompt_management(model="x")
    with pytest.raises(ConfigurationError, match="aws_access_key_id"):
        prompt_management(aws_secret_access_key="s")


# -- GetPrompt over real HTTP (bedrock-agent served by LocalBedrock)


def management(server: LocalBedrock) -> PromptManagement:
    return PromptManagement(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0)
    )


def test_get_prompt_sync_sends_identifier_and_version(server: LocalBedrock) -> None:
    server.script("GetPrompt", Reply.json(get_prompt_body(version="3")))
    prompt = management(server).get_prompt(ARN, "3")
    assert prompt.version == "3" and prompt.arn == f"{ARN}:3"
    assert prompt.created_at is not None and prompt.created_at.year == 2025
    (request,) = server.requests_for("GetPrompt")
    assert request.path_params == {"promptIdentifier": ARN}
    assert request.query == {"promptVersion": ["3"]}


async def test_get_prompt_async_and_not_found(server: LocalBedrock) -> None:
    server.script(
        "GetPrompt",
        Reply.json(get_prompt_body()),
        Reply.error(404, "ResourceNotFoundException", "no such prompt"),
    )
    loader = management(server)
    try:
        prompt = await loader.aget_prompt(PROMPT_ID)
        assert prompt.variant().name == "chat"
        with pytest.raises(ResourceNotFoundError, match="no such prompt") as info:
            await loader.aget_prompt("MISSING123")
        assert info.value.model_id == "MISSING123"
    finally:
        await loader.pool.aclose()
    assert server.requests_for("GetPrompt")[0].query is None  # no version: the DRAFT
