"""bedrock_kit.core.chat.messages: the neutral helpers both adapters share."""

from __future__ import annotations

import pytest

from bedrock_kit.core.chat.messages import (
    document_format,
    document_name,
    guard_last_turn,
    guardrail_intervention_error,
    image_format,
    intervention_assessment,
)
from bedrock_kit.core.chat.types import (
    ConverseResult,
    GuardContentBlock,
    ImageBlock,
    Message,
    TextBlock,
    Usage,
)
from bedrock_kit.core.guardrails.assessments import parse_guardrail_trace
from bedrock_kit.errors import ConfigurationError

TRACE = {
    "actionReason": "Guardrail masked.",
    "inputAssessment": {"gr1": {"invocationMetrics": {"usage": {"topicPolicyUnits": 1}}}},
    "outputAssessments": {
        "gr1": [
            {
                "sensitiveInformationPolicy": {
                    "piiEntities": [
                        {
                            "action": "ANONYMIZED",
                            "detected": True,
                            "match": "Rome",
                            "type": "ADDRESS",
                        }
                    ]
                }
            }
        ]
    },
}


def test_image_and_document_formats():
    assert image_format("image/JPG") == "jpeg"
    assert document_format("text/csv") == "csv"
    assert document_format(None, "s3://b/Report.DOCX") == "docx"
    with pytest.raises(ConfigurationError, match=r"messages\[2\].*image/bmp"):
        image_format("image/bmp", where="messages[2]")
    with pytest.raises(ConfigurationError, match="document type"):
        document_format("application/zip", "a.zip")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Q3 report.pdf", "Q3 report"),
        ("my_file (v2).final.txt", "my-file (v2)-final"),
        ("a   b", "a b"),
        ("", "document"),
        (None, "document"),
        ("***", "---"),
    ],
)
def test_document_name(name, expected):
    assert document_name(name) == expected


def test_guard_last_turn_wraps_only_the_last_user_text():
    turns = [
        Message("user", (TextBlock("old"),)),
        Message("assistant", (TextBlock("answer"),)),
        Message("user", (TextBlock("new"), ImageBlock("png", b"x"))),
    ]
    guarded = guard_last_turn(turns)
    assert guarded[0] == turns[0] and guarded[1] == turns[1]
    assert guarded[2].content == (GuardContentBlock("new"), ImageBlock("png", b"x"))


def test_intervention_error_carries_the_assessment_that_intervened():
    result = ConverseResult(
        message=Message("assistant", (TextBlock("The capital of {ADDRESS}"),)),
        stop_reason="guardrail_intervened",
        raw_stop_reason="guardrail_intervened",
        usage=Usage(),
        model_id="m",
        guardrail=parse_guardrail_trace(TRACE),
        request_id="r",
    )
    # the input assessment comes first but did not intervene; the output one did
    assessment = intervention_assessment(result)
    assert assessment is not None and assessment.pii_entities[0].match == "Rome"
    error = guardrail_intervention_error(result)
    assert error.assessment is assessment
    assert error.output_text == "The capital of {ADDRESS}"
    assert (error.model_id, error.request_id) == ("m", "r")
    assert "Guardrail masked." in str(error)
