"""Guardrail definitions -> CreateGuardrail / UpdateGuardrail arguments, checked against
botocore's own model of the ``bedrock`` service (the same validation boto3 runs)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from bedrock_kit.core.guardrails.config import (
    ContentFilter,
    DeniedTopic,
    GuardrailAdmin,
    GuardrailDefinition,
    PiiEntity,
    RegexFilter,
    build_create_guardrail_request,
    build_update_guardrail_request,
)
from bedrock_kit.errors import ConfigurationError

_MODEL = botocore.session.get_session().get_service_model("bedrock")


def _valid(operation: str, request: dict[str, Any]) -> None:
    report = ParamValidator().validate(request, _MODEL.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def _definition(**kwargs: Any) -> GuardrailDefinition:
    fields: dict[str, Any] = {
        "name": "support-bot",
        "blocked_input_message": "I cannot help with that.",
        "blocked_output_message": "I cannot answer that.",
        "description": "demo",
        "topics": (DeniedTopic("Investing", "Advice on stocks and funds.", ("Buy NVDA?",)),),
        "content_filters": (
            ContentFilter("HATE"),
            ContentFilter("PROMPT_ATTACK", "HIGH", "NONE"),
        ),
        "words": ("foo",),
        "profanity": True,
        "pii_entities": (PiiEntity("EMAIL"), PiiEntity("US_SOCIAL_SECURITY_NUMBER", "BLOCK")),
        "regexes": (RegexFilter("Account", r"\b\d{10}\b", description="account numbers"),),
        "grounding_threshold": 0.75,
        "relevance_threshold": 0.5,
        "tags": {"team": "ml"},
    }
    fields.update(kwargs)
    return GuardrailDefinition(**fields)


def test_create_request_is_valid_for_botocore_and_complete() -> None:
    request = build_create_guardrail_request(_definition())
    _valid("CreateGuardrail", request)
    assert request["topicPolicyConfig"]["topicsConfig"][0] == {
        "name": "Investing",
        "definition": "Advice on stocks and funds.",
        "examples": ["Buy NVDA?"],
        "type": "DENY",
        "inputAction": "BLOCK",
        "outputAction": "BLOCK",
    }
    assert request["contentPolicyConfig"]["filtersConfig"][1] == {
        "type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"
    }  # fmt: skip
    assert request["wordPolicyConfig"] == {
        "wordsConfig": [{"text": "foo"}],
        "managedWordListsConfig": [{"type": "PROFANITY"}],
    }
    sensitive = request["sensitiveInformationPolicyConfig"]
    assert sensitive["piiEntitiesConfig"][1] == {
        "type": "US_SOCIAL_SECURITY_NUMBER",
        "action": "BLOCK",
    }
    assert sensitive["regexesConfig"][0]["pattern"] == r"\b\d{10}\b"
    assert request["contextualGroundingPolicyConfig"]["filtersConfig"] == [
        {"type": "GROUNDING", "threshold": 0.75},
        {"type": "RELEVANCE", "threshold": 0.5},
    ]
    assert request["blockedOutputsMessaging"] == "I cannot answer that."
    assert request["tags"] == [{"key": "team", "value": "ml"}]


def test_update_request_is_valid_and_has_no_tags() -> None:
    request = build_update_guardrail_request("gr-1", _definition())
    _valid("UpdateGuardrail", request)
    assert request["guardrailIdentifier"] == "gr-1" and "tags" not in request


def test_minimal_definition_sends_only_its_policy() -> None:
    request = build_create_guardrail_request(
        GuardrailDefinition("pii-only", "no", "no", pii_entities=(PiiEntity("EMAIL"),))
    )
    _valid("CreateGuardrail", request)
    assert set(request) == {
        "name",
        "sensitiveInformationPolicyConfig",
        "blockedInputMessaging",
        "blockedOutputsMessaging",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name"),
        ({"topics": (), "content_filters": (), "words": (), "profanity": False,
          "pii_entities": (), "regexes": (), "grounding_threshold": None,
          "relevance_threshold": None}, "at least one policy"),
        ({"grounding_threshold": 1.5}, "grounding_threshold"),
        ({"pii_entities": (PiiEntity("EMAIL", "MASK"),)}, "action"),
        ({"content_filters": (ContentFilter("HATE", "EXTREME"),)}, "input_strength"),
        ({"topics": (DeniedTopic("T", "d", tuple("abcdef")),)}, "at most 5"),
    ],
)  # fmt: skip
def test_invalid_definitions_are_configuration_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_create_guardrail_request(_definition(**kwargs))


def test_admin_rejects_a_runtime_client() -> None:
    runtime = botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="us-east-1"
    )
    with pytest.raises(ConfigurationError, match="client"):
        GuardrailAdmin(client=runtime)
    with pytest.raises(ConfigurationError, match="guardrail_identifier"):
        GuardrailAdmin().create_version("")
