"""Conformance: recorded AWS guardrail responses replayed through LocalBedrock to real boto3.

Every field the parser reads is compared with the recorded JSON. The recordings are
third-party data read from ../shared (see its README); the tests skip when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.guardrails.assessments import (
    GuardrailAssessment,
    parse_guardrail_trace,
    parse_invoke_model_trace,
)
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock, Reply

yaml = pytest.importorskip("yaml")

# ../shared seen from the project root
CASSETTES = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "cassettes"

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(not CASSETTES.is_dir(), reason="../shared/conformance is absent"),
]


def _response(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CASSETTES / name).read_text())
    return dict(data["interactions"][0]["response"])


def _body_bytes(response: dict[str, Any]) -> bytes:
    if "parsed_body" in response:  # pydantic-ai stores JSON bodies as YAML mappings
        return json.dumps(response["parsed_body"]).encode()
    body = response["body"]["string"]
    return body if isinstance(body, bytes) else body.encode()


def _replay(server: LocalBedrock, operation: str, name: str, content_type: str) -> bytes:
    body = _body_bytes(_response(name))
    server.script(operation, Reply.raw(200, {"Content-Type": content_type}, body))
    return body


def _client(server: LocalBedrock) -> Any:
    return ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url).create_client(
        "bedrock-runtime"
    )


def assert_assessment_matches(parsed: GuardrailAssessment, wire: dict[str, Any]) -> None:
    """Every finding, metric and detail of ``wire`` is in ``parsed``, unchanged."""
    topics = (wire.get("topicPolicy") or {}).get("topics") or []
    assert [(t.name, t.type, t.action, t.detected) for t in parsed.topics] == [
        (t["name"], t["type"], t["action"], t.get("detected")) for t in topics
    ]
    filters = (wire.get("contentPolicy") or {}).get("filters") or []
    assert [
        (f.type, f.confidence, f.action, f.filter_strength, f.detected)
        for f in parsed.content_filters
    ] == [
        (f["type"], f["confidence"], f["action"], f.get("filterStrength"), f.get("detected"))
        for f in filters
    ]
    words = wire.get("wordPolicy") or {}
    assert [(w.match, w.action) for w in parsed.words] == [
        (w["match"], w["action"])
        for w in (words.get("customWords") or []) + (words.get("managedWordLists") or [])
    ]
    pii = wire.get("sensitiveInformationPolicy") or {}
    assert [(p.type, p.match, p.action, p.detected) for p in parsed.pii_entities] == [
        (p["type"], p["match"], p["action"], p.get("detected"))
        for p in pii.get("piiEntities") or []
    ]
    assert [(r.name, r.regex, r.match, r.action) for r in parsed.regexes] == [
        (r.get("name"), r.get("regex"), r["match"], r["action"]) for r in pii.get("regexes") or []
    ]
    grounding = (wire.get("contextualGroundingPolicy") or {}).get("filters") or []
    assert [(g.type, g.score, g.threshold, g.action) for g in parsed.grounding] == [
        (g["type"], g["score"], g["threshold"], g["action"]) for g in grounding
    ]
    metrics = wire.get("invocationMetrics") or {}
    usage = metrics.get("usage") or {}
    assert parsed.usage.topic_policy_units == usage.get("topicPolicyUnits", 0)
    assert parsed.usage.content_policy_units == usage.get("contentPolicyUnits", 0)
    assert parsed.usage.word_policy_units == usage.get("wordPolicyUnits", 0)
    assert parsed.usage.sensitive_information_policy_units == usage.get(
        "sensitiveInformationPolicyUnits", 0
    )
    assert parsed.usage.sensitive_information_policy_free_units == usage.get(
        "sensitiveInformationPolicyFreeUnits", 0
    )
    assert parsed.usage.contextual_grounding_policy_units == usage.get(
        "contextualGroundingPolicyUnits", 0
    )
    assert parsed.processing_latency_ms == metrics.get("guardrailProcessingLatency")
    chars = (metrics.get("guardrailCoverage") or {}).get("textCharacters") or {}
    assert (parsed.guarded_characters, parsed.total_characters) == (
        chars.get("guarded"),
        chars.get("total"),
    )
    details = wire.get("appliedGuardrailDetails") or {}
    assert parsed.guardrail_id == details.get("guardrailId")
    assert parsed.guardrail_version == details.get("guardrailVersion")
    assert parsed.guardrail_arn == details.get("guardrailArn")


def test_apply_guardrail_recording() -> None:
    name = "Arize-ai__openinference/test_apply_guardrails.yaml"
    with LocalBedrock() as server:
        wire = json.loads(_replay(server, "ApplyGuardrail", name, "application/json"))
        settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
        result = GuardrailClient("274u1upxm897", "1", settings=settings).apply(
            "Give stock suggestions for the NASDAQ100.", output_scope="FULL"
        )
    assert result.action == wire["action"] == "GUARDRAIL_INTERVENED"
    assert result.action_reason == wire["actionReason"]
    assert result.outputs == tuple(o["text"] for o in wire["outputs"])
    assert result.blocked and not result.anonymized
    assert result.guarded_characters == wire["guardrailCoverage"]["textCharacters"]["guarded"]
    assert result.total_characters == wire["guardrailCoverage"]["textCharacters"]["total"]
    assert result.guarded_images is None  # recorded as "images": null
    assert result.usage.topic_policy_units == wire["usage"]["topicPolicyUnits"]
    assert result.usage.content_policy_units == wire["usage"]["contentPolicyUnits"]
    assert result.usage.automated_reasoning_policies == wire["usage"]["automatedReasoningPolicies"]
    assert len(result.assessments) == len(wire["assessments"]) == 1
    assert_assessment_matches(result.assessment, wire["assessments"][0])
    assert result.assessment.automated_reasoning == ()  # recorded as null


def test_invoke_model_trace_recording() -> None:
    name = "traceloop__openllmetry/test_guardrail_invoke.yaml"
    with LocalBedrock() as server:
        _replay(server, "InvokeModel", name, "application/json")
        response = _client(server).invoke_model(modelId="amazon.titan-text-express-v1", body=b"{}")
        wire = json.loads(response["body"].read())
    trace = parse_invoke_model_trace(wire)
    assert trace is not None and trace.action == "INTERVENED"
    recorded = wire["amazon-bedrock-trace"]["guardrail"]
    assert trace.model_output == tuple(recorded["modelOutput"])
    for gid, assessment in recorded["input"].items():
        assert_assessment_matches(trace.input_assessments[gid], assessment)
    outputs = [(gid, a) for group in recorded["outputs"] for gid, a in group.items()]
    assert sum(len(v) for v in trace.output_assessments.values()) == len(outputs)
    for gid, assessment in outputs:
        assert_assessment_matches(trace.output_assessments[gid][0], assessment)
    assert trace.output_assessments["5zwrmdlsra2e"][0].regexes[0].action == "ANONYMIZED"


@pytest.mark.parametrize(
    "name",
    [
        "traceloop__openllmetry/test_guardrail_converse.yaml",
        "pydantic__pydantic-ai/test_bedrock_model_guardrail_config.yaml",
    ],
)
def test_converse_trace_recordings(name: str) -> None:
    with LocalBedrock() as server:
        _replay(server, "Converse", name, "application/json")
        response = _client(server).converse(
            modelId="amazon.titan-text-express-v1",
            messages=[{"role": "user", "content": [{"text": "hi"}]}],
        )
    recorded = response["trace"]["guardrail"]
    trace = parse_guardrail_trace(recorded)
    assert trace is not None
    assert trace.action_reason == recorded.get("actionReason")
    assert trace.model_output == tuple(recorded.get("modelOutput") or ())
    for gid, assessment in recorded["inputAssessment"].items():
        assert_assessment_matches(trace.input_assessments[gid], assessment)
    for gid, group in recorded["outputAssessments"].items():
        assert len(trace.output_assessments[gid]) == len(group)
        for parsed, wire in zip(trace.output_assessments[gid], group, strict=True):
            assert_assessment_matches(parsed, wire)
    assert trace.intervened == (response["stopReason"] == "guardrail_intervened")


def test_converse_stream_trace_recording() -> None:
    name = "traceloop__openllmetry/test_guardrail_converse_stream.yaml"
    with LocalBedrock() as server:
        _replay(server, "ConverseStream", name, "application/vnd.amazon.eventstream")
        response = _client(server).converse_stream(
            modelId="amazon.titan-text-express-v1",
            messages=[{"role": "user", "content": [{"text": "hi"}]}],
        )
        events = list(response["stream"])
    (metadata,) = [e["metadata"] for e in events if "metadata" in e]
    recorded = metadata["trace"]["guardrail"]
    trace = parse_guardrail_trace(recorded)
    assert trace is not None and trace.intervened
    for gid, group in recorded["outputAssessments"].items():
        for parsed, wire in zip(trace.output_assessments[gid], group, strict=True):
            assert_assessment_matches(parsed, wire)
    masked = [p.match for a in trace.assessments for p in a.pii_entities]
    assert masked == ["Italy", "Rome", "Japan", "Tokyo"]
