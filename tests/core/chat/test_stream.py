"""The stream reducer on literal ConverseStream events (shapes from real recordings)."""

from __future__ import annotations

import pytest

from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    StopDelta,
    StreamReducer,
    TextDelta,
    ToolCallDelta,
    iter_deltas,
)
from bedrock_kit.core.chat.types import ReasoningBlock, TextBlock, ToolUseBlock
from bedrock_kit.errors import (
    IncompleteStreamError,
    MalformedResponseError,
    ModelStreamError,
    ThrottlingError,
)

# metadata always carries usage: an empty one is malformed, not zero tokens.
USAGE = {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}

TEXT_EVENTS = [
    {"messageStart": {"role": "assistant", "p": "abcd"}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hel"}}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "lo"}}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "end_turn"}},
    {
        "metadata": {
            "usage": {
                "inputTokens": 3,
                "outputTokens": 2,
                "totalTokens": 15,
                "cacheReadInputTokens": 10,
            },
            "metrics": {"latencyMs": 42},
        }
    },
]


def test_text_stream_assembles_result_with_usage():
    deltas = list(iter_deltas(TEXT_EVENTS, StreamReducer("m")))
    assert [d.text for d in deltas if isinstance(d, TextDelta)] == ["Hel", "lo"]
    assert isinstance(deltas[-2], StopDelta)
    done = deltas[-1]
    assert isinstance(done, CompletedDelta)
    assert done.result.text == "Hello"
    assert done.result.stop_reason == "end_turn"
    assert done.result.usage.input_tokens == 3
    assert done.result.usage.cache_read_input_tokens == 10
    assert done.result.usage.total_input_tokens == 13
    assert done.result.latency_ms == 42


def test_tool_use_fragments_become_parsed_arguments():
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Let me check."}}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": "t1", "name": "weather"}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"ci'}}}},
        {
            "contentBlockDelta": {
                "contentBlockIndex": 1,
                "delta": {"toolUse": {"input": 'ty": "Paris", "days": [1, 2]}'}},
            }
        },
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}},
    ]
    deltas = list(iter_deltas(events, StreamReducer("m")))
    tool_deltas = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert tool_deltas[0].id == "t1" and tool_deltas[0].name == "weather"
    result = deltas[-1].result  # type: ignore[union-attr]
    assert result.stop_reason == "tool_use"
    assert result.message.content == (
        TextBlock("Let me check."),
        ToolUseBlock("t1", "weather", {"city": "Paris", "days": [1, 2]}),
    )


def test_reasoning_with_signature_is_kept():
    events = [
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"reasoningContent": {"text": "hm"}},
            }
        },
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"reasoningContent": {"signature": "sig=="}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "42"}}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": USAGE}},
    ]
    deltas = list(iter_deltas(events, StreamReducer("m")))
    assert any(isinstance(d, ReasoningDelta) and d.signature == "sig==" for d in deltas)
    result = deltas[-1].result  # type: ignore[union-attr]
    assert result.message.content[0] == ReasoningBlock("hm", "sig==")
    assert result.text == "42"


@pytest.mark.parametrize("cut", range(len(TEXT_EVENTS) - 1))
def test_stream_cut_anywhere_before_metadata_raises(cut):
    with pytest.raises(IncompleteStreamError) as info:
        list(iter_deltas(TEXT_EVENTS[:cut], StreamReducer("m")))
    assert "partial" in str(info.value)


def test_incomplete_stream_keeps_partial_text_for_diagnostics():
    with pytest.raises(IncompleteStreamError) as info:
        list(iter_deltas(TEXT_EVENTS[:3], StreamReducer("m")))
    assert info.value.partial_text == "Hello"
    assert info.value.model_id == "m"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ("throttlingException", ThrottlingError),
        ("modelStreamErrorException", ModelStreamError),
    ],
)
def test_exception_events_map_to_typed_errors(event, error):
    events = [TEXT_EVENTS[0], {event: {"message": "boom"}}]
    with pytest.raises(error, match="boom"):
        list(iter_deltas(events, StreamReducer("m")))


def test_invalid_tool_json_raises_with_raw_text():
    events = [
        {
            "contentBlockStart": {
                "contentBlockIndex": 0,
                "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"a":'}}}},
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": USAGE}},
    ]
    with pytest.raises(MalformedResponseError) as info:
        list(iter_deltas(events, StreamReducer("m")))
    assert info.value.raw == '{"a":'


def test_guardrail_trace_in_metadata_is_typed():
    events = [
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"text": "The capital of {ADDRESS}"},
            }
        },
        {"messageStop": {"stopReason": "guardrail_intervened"}},
        {
            "metadata": {
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                "trace": {
                    "guardrail": {
                        "outputAssessments": {
                            "g1": [
                                {
                                    "sensitiveInformationPolicy": {
                                        "piiEntities": [
                                            {
                                                "action": "ANONYMIZED",
                                                "match": "Rome",
                                                "type": "ADDRESS",
                                            }
                                        ]
                                    }
                                }
                            ]
                        }
                    }
                },
            }
        },
    ]
    result = list(iter_deltas(events, StreamReducer("m")))[-1].result  # type: ignore[union-attr]
    assert result.stop_reason == "guardrail_intervened"
    assert result.guardrail is not None and result.guardrail.intervened
    finding = result.guardrail.output_assessments["g1"][0].pii_entities[0]
    assert (finding.type, finding.action, finding.match) == ("ADDRESS", "ANONYMIZED", "Rome")


def test_unknown_stop_reason_is_kept_raw():
    events = [{"messageStop": {"stopReason": "brand_new"}}, {"metadata": {"usage": USAGE}}]
    result = list(iter_deltas(events, StreamReducer("m")))[-1].result  # type: ignore[union-attr]
    assert (result.stop_reason, result.raw_stop_reason) == ("unknown", "brand_new")
