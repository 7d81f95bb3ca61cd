"""Pure parsing of guardrail wire shapes (ApplyGuardrail, Converse trace, InvokeModel trace)."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.guardrails.apply import (
    GuardrailImage,
    GuardrailText,
    build_apply_guardrail_request,
    build_grounding_content,
    intervention_error,
    parse_apply_guardrail_response,
    parse_grounding,
    request_characters,
    text_units,
)
from bedrock_kit.core.guardrails.assessments import parse_assessment, parse_invoke_model_trace
from bedrock_kit.errors import ConfigurationError, GuardrailInterventionError

USAGE = {
    "automatedReasoningPolicies": 0,
    "automatedReasoningPolicyUnits": 0,
    "contentPolicyImageUnits": 0,
    "contentPolicyUnits": 1,
    "contextualGroundingPolicyUnits": 0,
    "sensitiveInformationPolicyFreeUnits": 0,
    "sensitiveInformationPolicyUnits": 1,
    "topicPolicyUnits": 1,
    "wordPolicyUnits": 0,
}


def _blocked_response() -> dict[str, Any]:
    """Shape of a recorded ApplyGuardrail INPUT intervention (topic + PII blocked)."""
    filters = [
        {"action": "NONE", "confidence": "NONE", "detected": False, "filterStrength": "HIGH",
         "type": kind}
        for kind in ("SEXUAL", "VIOLENCE", "HATE", "INSULTS", "PROMPT_ATTACK", "MISCONDUCT")
    ]  # fmt: skip
    return {
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": "Guardrail blocked.",
        "assessments": [
            {
                "appliedGuardrailDetails": {
                    "guardrailArn": "arn:aws:bedrock:us-east-1:111122223333:guardrail/g1",
                    "guardrailId": "g1",
                    "guardrailOrigin": ["REQUEST"],
                    "guardrailOwnership": "SELF",
                    "guardrailVersion": "1",
                },
                "automatedReasoningPolicy": None,
                "contentPolicy": {"filters": filters},
                "contextualGroundingPolicy": None,
                "invocationMetrics": {
                    "guardrailCoverage": {
                        "images": None,
                        "textCharacters": {"guarded": 123, "total": 123},
                    },
                    "guardrailProcessingLatency": 379,
                    "usage": USAGE,
                },
                "sensitiveInformationPolicy": {
                    "piiEntities": [
                        {
                            "action": "BLOCKED",
                            "detected": True,
                            "match": "a@b.com",
                            "type": "EMAIL",
                        },
                        {"action": "NONE", "detected": False, "match": "", "type": "PHONE"},
                    ],
                    "regexes": None,
                },
                "topicPolicy": {
                    "topics": [
                        {"action": "BLOCKED", "detected": True, "name": "Investing", "type": "DENY"}
                    ]
                },
                "wordPolicy": None,
            }
        ],
        "blockedResponse": "Sorry, the model cannot answer this question.",
        "guardrailCoverage": {"images": None, "textCharacters": {"guarded": 123, "total": 123}},
        "outputs": [{"text": "Sorry, the model cannot answer this question."}],
        "usage": USAGE,
        "ResponseMetadata": {"RequestId": "req-1"},
    }


def test_blocked_response_parses_every_policy() -> None:
    result = parse_apply_guardrail_response(_blocked_response(), source="INPUT")
    assert result.action == "GUARDRAIL_INTERVENED"
    assert result.intervened and result.blocked and not result.anonymized
    assert result.action_reason == "Guardrail blocked."
    assert result.output_text == "Sorry, the model cannot answer this question."
    assert (result.guarded_characters, result.total_characters) == (123, 123)
    assert result.guarded_images is None and result.request_id == "req-1"
    assert result.usage.topic_policy_units == 1
    assert result.usage.sensitive_information_policy_units == 1
    assert result.usage.word_policy_units == 0
    a = result.assessment
    assert a.guardrail_id == "g1" and a.guardrail_version == "1"
    assert a.guardrail_arn == "arn:aws:bedrock:us-east-1:111122223333:guardrail/g1"
    assert a.processing_latency_ms == 379
    assert [(t.name, t.action, t.detected) for t in a.topics] == [("Investing", "BLOCKED", True)]
    assert len(a.content_filters) == 6
    assert {f.filter_strength for f in a.content_filters} == {"HIGH"}
    assert all(f.detected is False and f.confidence == "NONE" for f in a.content_filters)
    assert [(p.type, p.match, p.action) for p in a.pii_entities] == [
        ("EMAIL", "a@b.com", "BLOCKED"),
        ("PHONE", "", "NONE"),
    ]
    # explicit nulls (automatedReasoningPolicy, wordPolicy, regexes) are no findings
    assert a.regexes == () and a.words == () and a.automated_reasoning == () and a.grounding == ()


def test_blocked_result_raises_typed_error_naming_policies() -> None:
    result = parse_apply_guardrail_response(_blocked_response(), source="INPUT")
    error = intervention_error(result)
    assert isinstance(error, GuardrailInterventionError)
    assert error.output_text == "Sorry, the model cannot answer this question."
    assert error.assessment is result.assessment
    assert "Topic" in str(error) and "Pii" in str(error) and "input" in str(error)
    with pytest.raises(GuardrailInterventionError):
        result.released_text("original")


def test_anonymized_output_releases_masked_text() -> None:
    response = {
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": "Guardrail masked.",
        "outputs": [{"text": "The capital of {ADDRESS} is {ADDRESS}."}],
        "assessments": [
            {
                "sensitiveInformationPolicy": {
                    "piiEntities": [
                        {"action": "ANONYMIZED", "detected": True, "match": "Italy",
                         "type": "ADDRESS"},
                        {"action": "ANONYMIZED", "detected": True, "match": "Rome",
                         "type": "ADDRESS"},
                    ],
                    "regexes": [
                        {"name": "Account", "regex": "\\b\\d{10}\\b", "match": "1234561666",
                         "action": "ANONYMIZED"}
                    ],
                }
            }
        ],
        "usage": {"sensitiveInformationPolicyFreeUnits": 1},
    }  # fmt: skip
    result = parse_apply_guardrail_response(response, source="OUTPUT")
    assert result.anonymized and not result.blocked
    assert result.released_text("The capital of Italy is Rome.") == (
        "The capital of {ADDRESS} is {ADDRESS}."
    )
    regex = result.assessment.regexes[0]
    assert (regex.name, regex.regex, regex.match, regex.type) == (
        "Account", "\\b\\d{10}\\b", "1234561666", None
    )  # fmt: skip
    assert result.usage.sensitive_information_policy_free_units == 1


def test_none_action_releases_original_and_empty_outputs() -> None:
    result = parse_apply_guardrail_response(
        {"action": "NONE", "outputs": [], "assessments": [{}], "usage": USAGE}, source="OUTPUT"
    )
    assert not result.intervened and not result.blocked
    assert result.released_text("fine text") == "fine text"


def test_intervention_without_findings_fails_closed() -> None:
    result = parse_apply_guardrail_response(
        {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "no"}], "assessments": []}
    )
    assert result.blocked


def test_singular_output_key_is_read_when_outputs_missing() -> None:
    result = parse_apply_guardrail_response(
        {"action": "GUARDRAIL_INTERVENED", "output": [{"text": "blocked msg"}]}
    )
    assert result.outputs == ("blocked msg",)


def test_word_and_content_filter_findings() -> None:
    a = parse_assessment(
        {
            "wordPolicy": {
                "customWords": [{"match": "foo", "action": "BLOCKED", "detected": True}],
                "managedWordLists": [{"match": "darn", "type": "PROFANITY", "action": "BLOCKED"}],
            },
            "contentPolicy": {
                "filters": [{"type": "PROMPT_ATTACK", "confidence": "MEDIUM", "action": "BLOCKED"}]
            },
        }
    )
    assert [(w.match, w.managed_type) for w in a.words] == [("foo", None), ("darn", "PROFANITY")]
    assert a.words[1].detected is None
    f = a.content_filters[0]
    assert (f.type, f.confidence, f.action, f.filter_strength) == (
        "PROMPT_ATTACK", "MEDIUM", "BLOCKED", None
    )  # fmt: skip
    assert a.blocked and a.intervened and not a.anonymized


def test_grounding_scores_and_thresholds() -> None:
    response = {
        "action": "GUARDRAIL_INTERVENED",
        "outputs": [{"text": "Sorry."}],
        "assessments": [
            {
                "contextualGroundingPolicy": {
                    "filters": [
                        {"type": "GROUNDING", "threshold": 0.75, "score": 0.12,
                         "action": "BLOCKED", "detected": True},
                        {"type": "RELEVANCE", "threshold": 0.5, "score": 0.91, "action": "NONE",
                         "detected": False},
                    ]
                },
                "automatedReasoningPolicy": {"findings": []},
            }
        ],
        "usage": {"contextualGroundingPolicyUnits": 2},
    }  # fmt: skip
    grounding = parse_grounding(parse_apply_guardrail_response(response, source="OUTPUT"))
    assert grounding.grounding is not None and grounding.relevance is not None
    assert (grounding.grounding.score, grounding.grounding.threshold) == (0.12, 0.75)
    assert (grounding.relevance.score, grounding.relevance.threshold) == (0.91, 0.5)
    assert not grounding.passed
    assert grounding.result.usage.contextual_grounding_policy_units == 2


def test_grounding_passes_when_scores_reach_thresholds() -> None:
    response = {
        "action": "NONE",
        "outputs": [],
        "assessments": [
            {
                "contextualGroundingPolicy": {
                    "filters": [
                        {"type": "GROUNDING", "threshold": 0.7, "score": 0.7, "action": "NONE"}
                    ]
                }
            }
        ],
    }
    grounding = parse_grounding(parse_apply_guardrail_response(response))
    assert grounding.passed and grounding.relevance is None


def test_automated_reasoning_findings_kept_as_sent() -> None:
    finding = {"valid": {"translation": {"premises": [], "claims": [], "confidence": 1.0}}}
    a = parse_assessment({"automatedReasoningPolicy": {"findings": [finding]}})
    assert a.automated_reasoning == (finding,)
    empty = parse_assessment({"automatedReasoningPolicy": {"findings": None}})
    assert empty.automated_reasoning == ()


def _invoke_model_body() -> dict[str, Any]:
    """Shape of a recorded InvokeModel (Titan) body with a guardrail: floats for numbers."""
    return {
        "inputTextTokenCount": 28.0,
        "results": [{"tokenCount": 197.0, "outputText": "... {Account Number} ..."}],
        "amazon-bedrock-trace": {
            "guardrail": {
                "modelOutput": ['{"outputText": "... 1234561666 ..."}'],
                "input": {
                    "g2": {
                        "invocationMetrics": {
                            "guardrailProcessingLatency": 347.0,
                            "usage": {"topicPolicyUnits": 1.0, "contentPolicyUnits": 1.0},
                            "guardrailCoverage": {"textCharacters": {"guarded": 87.0,
                                                                     "total": 87.0}},
                        }
                    }
                },
                "outputs": [
                    {
                        "g2": {
                            "sensitiveInformationPolicy": {
                                "regexes": [
                                    {"name": "Account Number", "regex": "\\b\\d{6}\\d{4}\\b",
                                     "match": "1234561666", "action": "ANONYMIZED"}
                                ]
                            },
                            "invocationMetrics": {
                                "guardrailProcessingLatency": 266,
                                "usage": {"sensitiveInformationPolicyFreeUnits": 1.0},
                                "guardrailCoverage": {"textCharacters": {"guarded": 948,
                                                                         "total": 948}},
                            },
                        }
                    }
                ],
            }
        },
        "amazon-bedrock-guardrailAction": "INTERVENED",
    }  # fmt: skip


def test_invoke_model_trace_with_float_numbers() -> None:
    trace = parse_invoke_model_trace(_invoke_model_body())
    assert trace is not None
    assert trace.action == "INTERVENED" and trace.intervened
    assert trace.model_output == ('{"outputText": "... 1234561666 ..."}',)
    inp = trace.input_assessments["g2"]
    assert inp.processing_latency_ms == 347 and isinstance(inp.processing_latency_ms, int)
    assert (inp.guarded_characters, inp.total_characters) == (87, 87)
    assert inp.usage.topic_policy_units == 1 and isinstance(inp.usage.topic_policy_units, int)
    (out,) = trace.output_assessments["g2"]
    assert out.regexes[0].match == "1234561666" and out.regexes[0].action == "ANONYMIZED"
    assert out.total_characters == 948
    assert trace.usage.sensitive_information_policy_free_units == 1
    assert trace.usage.content_policy_units == 1


def test_invoke_model_body_without_guardrail_is_none() -> None:
    assert parse_invoke_model_trace({"results": []}) is None
    action_only = parse_invoke_model_trace({"amazon-bedrock-guardrailAction": "NONE"})
    assert action_only is not None and action_only.action == "NONE"
    assert not action_only.intervened


def test_build_request_text_image_qualifiers_scope() -> None:
    request = build_apply_guardrail_request(
        "g1",
        3,
        ["plain", GuardrailText("src", ("grounding_source",)), GuardrailImage(b"\x89PNG", "png")],
        source="OUTPUT",
        output_scope="FULL",
    )
    assert request == {
        "guardrailIdentifier": "g1",
        "guardrailVersion": "3",
        "source": "OUTPUT",
        "content": [
            {"text": {"text": "plain"}},
            {"text": {"text": "src", "qualifiers": ["grounding_source"]}},
            {"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}},
        ],
        "outputScope": "FULL",
    }
    assert request_characters(request) == 8


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"guardrail_identifier": ""}, "guardrail_identifier"),
        ({"guardrail_version": "v1"}, "guardrail_version"),
        ({"source": "BOTH"}, "source"),
        ({"output_scope": "ALL"}, "output_scope"),
        ({"content": []}, "content"),
        ({"content": [GuardrailText("x", ("context",))]}, "qualifiers"),
        ({"content": [GuardrailImage(b"x", "gif")]}, "format"),
        ({"content": [GuardrailImage(b"", "png")]}, "data"),
        ({"content": [42]}, "content[0]"),
    ],
)
def test_build_request_rejects_bad_arguments(kwargs: dict[str, Any], names: str) -> None:
    args: dict[str, Any] = {
        "guardrail_identifier": "g1",
        "guardrail_version": "DRAFT",
        "content": "x",
        **kwargs,
    }
    with pytest.raises(ConfigurationError, match=names.replace("[", r"\[")):
        build_apply_guardrail_request(
            args.pop("guardrail_identifier"), args.pop("guardrail_version"), args.pop("content"),
            **args,
        )  # fmt: skip


def test_grounding_content_order_and_validation() -> None:
    content = build_grounding_content("answer", ["doc one", "doc two"], "question?")
    assert [(c.text, c.qualifiers) for c in content] == [
        ("doc one", ("grounding_source",)),
        ("doc two", ("grounding_source",)),
        ("question?", ("query",)),
        ("answer", ("guard_content",)),
    ]
    with pytest.raises(ConfigurationError, match="grounding_source"):
        build_grounding_content("answer", [])
    with pytest.raises(ConfigurationError, match="answer"):
        build_grounding_content("", "doc")


@pytest.mark.parametrize(("chars", "units"), [(0, 0), (1, 1), (1000, 1), (1001, 2), (2500, 3)])
def test_text_units_round_up_per_call(chars: int, units: int) -> None:
    assert text_units(chars) == units
