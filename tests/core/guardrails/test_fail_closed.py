"""Guardrail parsers and the stream guard fail closed: pure tests on literal wire values.

What is not the documented shape is a MalformedResponseError naming the member, never a bare
AttributeError / TypeError and never a default that reads as "passed". The stream guard turns
every failure of a check into a typed error and releases nothing past the last passed window.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bedrock_kit.core.guardrails.apply import (
    INTERVENED,
    GuardrailResult,
    parse_apply_guardrail_response,
)
from bedrock_kit.core.guardrails.assessments import (
    invoke_trace_as_converse,
    parse_assessment,
    parse_guardrail_trace,
    parse_guardrail_usage,
    parse_invoke_model_trace,
)
from bedrock_kit.core.guardrails.stream_guard import TEXT, Piece, StreamGuard
from bedrock_kit.errors import (
    BedrockKitError,
    GuardrailInterventionError,
    MalformedResponseError,
    ThrottlingError,
)

NONE: dict[str, Any] = {"action": "NONE", "outputs": [], "assessments": [], "usage": {}}
META = {"ResponseMetadata": {"RequestId": "req-42", "HTTPStatusCode": 200}}

# (case, response, member the message must name)
BAD_RESPONSES: list[tuple[str, Any, str]] = [
    ("botocore-read-html-as-empty", {**META}, "no action"),
    ("action-null", {**NONE, **META, "action": None}, "no action"),
    ("action-unknown", {**NONE, **META, "action": "ALLOW"}, "unknown action 'ALLOW'"),
    ("action-lowercase", {**NONE, **META, "action": "none"}, "unknown action"),
    ("action-int", {**NONE, **META, "action": 1}, "unknown action"),
    ("outputs-str", {**NONE, **META, "outputs": "oops"}, "outputs must be a list"),
    ("outputs-item-str", {**NONE, **META, "outputs": ["oops"]}, "outputs[0] must be an object"),
    ("outputs-text-int", {**NONE, **META, "outputs": [{"text": 3}]}, "outputs[0].text"),
    ("output-singular-str", {"action": "NONE", **META, "output": "x"}, "output must be a list"),
    ("assessments-dict", {**NONE, **META, "assessments": {}}, "assessments must be a list"),
    ("assessment-str", {**NONE, **META, "assessments": ["x"]}, "assessments[0]"),
    (
        "topics-str",
        {**NONE, **META, "assessments": [{"topicPolicy": {"topics": "x"}}]},
        "assessments[0].topicPolicy.topics",
    ),
    (
        "policy-list",
        {**NONE, **META, "assessments": [{"contentPolicy": [1]}]},
        "assessments[0].contentPolicy",
    ),
    (
        "detected-str",
        {**NONE, **META, "assessments": [{"wordPolicy": {"customWords": [{"detected": "y"}]}}]},
        "customWords[0].detected",
    ),
    (
        "score-str",
        {
            **NONE,
            **META,
            "assessments": [{"contextualGroundingPolicy": {"filters": [{"score": "high"}]}}],
        },
        "filters[0].score",
    ),
    ("usage-list", {**NONE, **META, "usage": [1]}, "usage must be an object"),
    ("usage-str-count", {**NONE, **META, "usage": {"topicPolicyUnits": "1"}}, "topicPolicyUnits"),
    ("usage-negative", {**NONE, **META, "usage": {"wordPolicyUnits": -1}}, "wordPolicyUnits"),
    ("usage-fraction", {**NONE, **META, "usage": {"wordPolicyUnits": 1.5}}, "wordPolicyUnits"),
    ("usage-bool", {**NONE, **META, "usage": {"wordPolicyUnits": True}}, "wordPolicyUnits"),
    ("coverage-str", {**NONE, **META, "guardrailCoverage": "all"}, "guardrailCoverage"),
    ("action-reason-int", {**NONE, **META, "actionReason": 5}, "actionReason"),
    (
        "latency-nan",
        {
            **NONE,
            **META,
            "assessments": [{"invocationMetrics": {"guardrailProcessingLatency": float("nan")}}],
        },
        "guardrailProcessingLatency",
    ),
]


@pytest.mark.parametrize(
    ("case", "response", "member"), BAD_RESPONSES, ids=[c[0] for c in BAD_RESPONSES]
)
def test_apply_guardrail_response_of_the_wrong_shape_is_malformed(
    case: str, response: Any, member: str
) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse_apply_guardrail_response(response, source="OUTPUT", guardrail="gr-1 version 3")
    error = info.value
    assert member in str(error)
    assert "gr-1 version 3" in str(error) and error.model_id == "gr-1"
    assert error.request_id == "req-42"
    assert error.raw  # a short excerpt of what was found
    assert len(error.raw) <= 200


@pytest.mark.parametrize("response", [[NONE], "NONE", 3, b"{}"])
def test_a_response_that_is_not_an_object_is_malformed(response: Any) -> None:
    with pytest.raises(MalformedResponseError, match="response must be an object"):
        parse_apply_guardrail_response(response)
    with pytest.raises(MalformedResponseError, match="no action"):
        parse_apply_guardrail_response(None)  # type: ignore[arg-type]


def test_response_metadata_of_the_wrong_shape_does_not_crash() -> None:
    for meta in ([1], {"HTTPHeaders": [1]}, {"RequestId": 5}):
        result = parse_apply_guardrail_response({**NONE, "ResponseMetadata": meta})
        assert result.request_id is None and not result.intervened


def test_the_http_body_is_quoted_when_given() -> None:
    html = b"<html><body>Please sign in to the hotel network</body></html>" * 20
    with pytest.raises(MalformedResponseError) as info:
        parse_apply_guardrail_response(META, raw=html, guardrail="g version 1")
    assert "no action" in str(info.value) and "<html><body>Please sign in" in str(info.value)
    assert info.value.raw.startswith("<html>") and len(info.value.raw) <= 200


def test_documented_responses_still_parse() -> None:
    assert not parse_apply_guardrail_response(NONE).intervened
    singular = parse_apply_guardrail_response({"action": INTERVENED, "output": [{"text": "no"}]})
    assert singular.blocked and singular.outputs == ("no",)
    floats = parse_guardrail_usage({"topicPolicyUnits": 2.0, "wordPolicyUnits": None})
    assert (floats.topic_policy_units, floats.word_policy_units) == (2, 0)
    nulls = parse_assessment({"topicPolicy": {"topics": [None]}, "contentPolicy": None})
    assert nulls.topics == () and nulls.content_filters == ()


def test_a_masking_that_returned_no_masked_text_counts_as_blocked() -> None:
    pii = {
        "sensitiveInformationPolicy": {"piiEntities": [{"match": "a@b.c", "action": "ANONYMIZED"}]}
    }
    no_text = parse_apply_guardrail_response(
        {"action": INTERVENED, "outputs": [], "assessments": [pii]}
    )
    assert no_text.blocked and not no_text.anonymized
    with pytest.raises(GuardrailInterventionError):
        no_text.released_text("mail a@b.c")
    masked = parse_apply_guardrail_response(
        {"action": INTERVENED, "outputs": [{"text": "mail {EMAIL}"}], "assessments": [pii]}
    )
    assert masked.anonymized and masked.released_text("mail a@b.c") == "mail {EMAIL}"


BAD_TRACES: list[tuple[str, Any]] = [
    ("trace-list", [1]),
    ("trace-str", "guardrail"),
    ("input-list", {"inputAssessment": [1]}),
    ("input-item-str", {"inputAssessment": {"g1": "x"}}),
    ("outputs-item-str", {"outputAssessments": {"g1": "x"}}),
    ("outputs-group-item-int", {"outputAssessments": {"g1": [1]}}),
    ("model-output-str", {"modelOutput": "raw"}),
    ("model-output-int-item", {"modelOutput": [1]}),
    ("action-reason-list", {"actionReason": ["x"]}),
    ("deep-wrong-type", {"inputAssessment": {"g1": {"topicPolicy": {"topics": [{"name": 1}]}}}}),
]


@pytest.mark.parametrize(("case", "trace"), BAD_TRACES, ids=[c[0] for c in BAD_TRACES])
def test_converse_guardrail_trace_of_the_wrong_shape_is_malformed(case: str, trace: Any) -> None:
    with pytest.raises(MalformedResponseError, match="guardrail trace is malformed"):
        parse_guardrail_trace(trace)


def test_absent_traces_are_none() -> None:
    assert parse_guardrail_trace(None) is None
    assert parse_guardrail_trace({}) is None


BAD_BODIES: list[tuple[str, Any]] = [
    ("body-list", [1, 2]),
    ("body-str", "text"),
    ("trace-str", {"amazon-bedrock-trace": "x"}),
    ("guardrail-list", {"amazon-bedrock-trace": {"guardrail": [1]}}),
    ("outputs-str", {"amazon-bedrock-trace": {"guardrail": {"outputs": "x"}}}),
    ("outputs-group-list", {"amazon-bedrock-trace": {"guardrail": {"outputs": [[1]]}}}),
    ("input-str", {"amazon-bedrock-trace": {"guardrail": {"input": "x"}}}),
    ("model-output-dict", {"amazon-bedrock-trace": {"guardrail": {"modelOutput": {}}}}),
]


@pytest.mark.parametrize(("case", "body"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_invoke_model_trace_of_the_wrong_shape_is_malformed(case: str, body: Any) -> None:
    with pytest.raises(MalformedResponseError, match="InvokeModel guardrail trace"):
        invoke_trace_as_converse(body)
    with pytest.raises(MalformedResponseError, match="InvokeModel guardrail trace"):
        parse_invoke_model_trace(body)


def test_invoke_model_action_of_the_wrong_type_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="guardrailAction"):
        parse_invoke_model_trace({"amazon-bedrock-guardrailAction": 1})
    assert invoke_trace_as_converse({"results": []}) == {}
    assert invoke_trace_as_converse(None) == {}


# ------------------------------------------------------------------ the stream guard


class Double:
    """Passes windows; the ``fail_on``-th check does ``outcome`` (raise it or return it)."""

    def __init__(self, fail_on: int, outcome: Any) -> None:
        self.fail_on = fail_on
        self.outcome = outcome
        self.calls = 0
        self.windows: list[str] = []

    def apply(self, text: str, *, source: str = "INPUT") -> Any:
        self.calls += 1
        self.windows.append(text)
        if self.calls == self.fail_on:
            if isinstance(self.outcome, BaseException):
                raise self.outcome
            return self.outcome
        return GuardrailResult(action="NONE", source=source)

    async def aapply(self, text: str, *, source: str = "INPUT") -> Any:
        return self.apply(text, source=source)


TEXT_3000 = "".join(f"{i:04d}|" for i in range(600))
FIRST_WINDOW = TEXT_3000[:950]

# outcome of the second check -> the typed error it must raise
FAILED_CHECKS: list[tuple[str, Any, type[BedrockKitError]]] = [
    ("throttled", ThrottlingError("slow down"), ThrottlingError),
    ("malformed", MalformedResponseError("no action"), MalformedResponseError),
    ("key-error", KeyError("action"), BedrockKitError),
    ("attribute-error", AttributeError("'str' object has no attribute 'get'"), BedrockKitError),
    ("runtime-error", RuntimeError("bug"), BedrockKitError),
    ("unknown-action", GuardrailResult(action="ALLOW", source="OUTPUT"), MalformedResponseError),
    ("empty-action", GuardrailResult(action="", source="OUTPUT"), MalformedResponseError),
    ("none", None, MalformedResponseError),
    ("dict", {"action": "NONE"}, MalformedResponseError),
]


@pytest.mark.parametrize(
    ("case", "outcome", "expected"), FAILED_CHECKS, ids=[c[0] for c in FAILED_CHECKS]
)
def test_every_failed_check_is_typed_and_releases_nothing_past_the_last_passed_window(
    case: str, outcome: Any, expected: type[BedrockKitError]
) -> None:
    double = Double(2, outcome)
    guard = StreamGuard(double)  # type: ignore[arg-type]
    released = ""
    with pytest.raises(BedrockKitError) as info:
        for text in guard.guard(TEXT_3000[i : i + 9] for i in range(0, 3000, 9)):
            released += text
    assert type(info.value) is expected
    assert released == FIRST_WINDOW
    assert double.calls == 2 and guard.stats.failures == 1
    if isinstance(outcome, Exception) and not isinstance(outcome, BedrockKitError):
        assert info.value.__cause__ is outcome  # the original is kept for debugging


@pytest.mark.parametrize(
    ("case", "outcome", "expected"), FAILED_CHECKS, ids=[c[0] for c in FAILED_CHECKS]
)
async def test_every_failed_async_check_is_typed(
    case: str, outcome: Any, expected: type[BedrockKitError]
) -> None:
    guard = StreamGuard(Double(1, outcome))  # type: ignore[arg-type]
    with pytest.raises(BedrockKitError) as info:
        async for text in guard.aguard([TEXT_3000]):
            raise AssertionError(f"released {text!r} although the only check failed")
    assert type(info.value) is expected


def test_fail_open_releases_unchecked_with_a_warning_but_never_a_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = StreamGuard(Double(2, RuntimeError("down")), fail_open=True)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        assert "".join(guard.guard([TEXT_3000])) == TEXT_3000
    assert guard.stats.unchecked_characters == 900  # [1000, 1900): no passed check saw them
    assert "fail_open released 900 characters unchecked" in caplog.text
    blocked = GuardrailResult(action=INTERVENED, source="OUTPUT", outputs=("no",))
    guard = StreamGuard(Double(2, blocked), fail_open=True)  # type: ignore[arg-type]
    released = ""
    with pytest.raises(GuardrailInterventionError):
        for text in guard.guard([TEXT_3000]):
            released += text
    assert released == FIRST_WINDOW
    raising = StreamGuard(Double(1, GuardrailInterventionError("no")), fail_open=True)  # type: ignore[arg-type]
    with pytest.raises(GuardrailInterventionError):
        list(raising.guard(["anything"]))


def test_fail_open_must_be_a_bool() -> None:
    with pytest.raises(BedrockKitError, match="fail_open"):
        StreamGuard(Double(0, None), fail_open="yes")  # type: ignore[arg-type]


class Masking:
    """Masks ``secret`` wherever a window holds it whole."""

    def __init__(self, secret: str, mask: str) -> None:
        self.secret, self.mask = secret, mask
        self.windows: list[str] = []

    def apply(self, text: str, *, source: str = "INPUT") -> GuardrailResult:
        self.windows.append(text)
        if self.secret not in text:
            return GuardrailResult(action="NONE", source=source)
        pii = {
            "sensitiveInformationPolicy": {
                "piiEntities": [{"match": self.secret, "action": "ANONYMIZED"}]
            }
        }
        return parse_apply_guardrail_response(
            {"action": INTERVENED, "outputs": [{"text": text.replace(self.secret, self.mask)}],
             "assessments": [pii]}, source=source
        )  # fmt: skip


def test_a_mask_inside_a_tool_call_stays_in_the_tool_call() -> None:
    tool = ("tool", 0, "args")
    chunks = [
        Piece("Sending the money now."),
        Piece("\n", None),
        Piece("transfer", ("tool", 0, "name")),
        Piece('{"to": "DE44 5001', tool),
        Piece(' 0517 5407", "amount": 5}', tool),
    ]
    double = Masking("DE44 5001 0517 5407", "{IBAN}")
    released = [p for group in StreamGuard(double).guard_pieces(chunks) for p in group]  # type: ignore[arg-type]
    by_slot: dict[Any, str] = {}
    for piece in released:
        by_slot[piece.slot] = by_slot.get(piece.slot, "") + piece.text
    assert by_slot == {
        TEXT: "Sending the money now.",
        ("tool", 0, "name"): "transfer",
        tool: '{"to": "{IBAN}", "amount": 5}',
    }
    assert double.windows == [
        'Sending the money now.\ntransfer{"to": "DE44 5001 0517 5407", "amount": 5}'
    ]


def test_separators_are_checked_but_never_released() -> None:
    double = Masking("never", "x")
    chunks = [Piece("a"), Piece(" | ", None), Piece("b", "other"), Piece(" | ", None)]
    released = [p for group in StreamGuard(double).guard_pieces(chunks) for p in group]  # type: ignore[arg-type]
    assert [(p.text, p.slot) for p in released] == [("a", TEXT), ("b", "other")]
    assert double.windows == ["a | b | "]
