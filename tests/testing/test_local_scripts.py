"""The reply builders produce shapes the core parses like real Bedrock output."""

from __future__ import annotations

import json

import pytest

from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.core.chat.stream import StreamReducer, iter_deltas
from bedrock_kit.core.chat.types import ReasoningBlock, TextBlock, ToolUseBlock
from bedrock_kit.testing._defaults import DefaultAnswers, default_reply
from bedrock_kit.testing.scripts import (
    build_usage,
    converse_reply,
    converse_stream_events,
    estimate_tokens,
    invoke_agent_events,
    last_user_text,
    request_texts,
    tool_use,
)

TOOLS = [tool_use("get_weather", {"city": "Paris"}, "tu-1"), {"name": "clock", "input": {}}]
TRACE = {"guardrail": {"outputAssessments": {"g1": [{"contentPolicy": {"filters": []}}]}}}


def test_converse_reply_and_stream_agree_through_the_core() -> None:
    kwargs = {
        "tool_uses": TOOLS,
        "reasoning": "Think first.",
        "reasoning_signature": "sig-1",
        "trace": TRACE,
    }
    direct = parse_converse_response(converse_reply("Sure.", **kwargs), model_id="m")
    deltas = list(
        iter_deltas(converse_stream_events("Sure.", chunk_chars=2, **kwargs), StreamReducer("m"))
    )
    streamed = deltas[-1].result  # type: ignore[union-attr]
    assert direct.message == streamed.message
    assert direct.message.content == (
        ReasoningBlock("Think first.", "sig-1"),
        TextBlock("Sure."),
        ToolUseBlock("tu-1", "get_weather", {"city": "Paris"}),
        ToolUseBlock("tooluse_1_clock", "clock", {}),
    )
    assert direct.stop_reason == streamed.stop_reason == "tool_use"
    assert direct.usage == streamed.usage
    assert direct.trace == streamed.trace == TRACE


def test_stream_event_order_matches_recordings() -> None:
    events = converse_stream_events("abcdef", tool_uses=[TOOLS[0]], chunk_chars=4)
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    # '{"city":"Paris"}' is 16 characters: four 4-character fragments.
    fragments = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events[5:9]]
    assert json.loads("".join(fragments)) == {"city": "Paris"}
    assert events[4]["contentBlockStart"] == {
        "contentBlockIndex": 1,
        "start": {"toolUse": {"toolUseId": "tu-1", "name": "get_weather"}},
    }


def test_explicit_usage_and_stop_reason_win() -> None:
    usage = build_usage(100, 7, cache_read=50, cache_write=3)
    assert usage == {
        "inputTokens": 100,
        "outputTokens": 7,
        "cacheReadInputTokens": 50,
        "cacheWriteInputTokens": 3,
        "totalTokens": 160,
    }
    body = converse_reply("x", usage=usage, stop_reason="guardrail_intervened")
    assert body["usage"] == usage
    assert body["stopReason"] == "guardrail_intervened"
    assert converse_stream_events("x", stop_reason="max_tokens")[-2] == {
        "messageStop": {"stopReason": "max_tokens"}
    }


def test_estimates_and_request_text_helpers() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    request = {
        "system": [{"text": "sys"}],
        "messages": [
            {"role": "user", "content": [{"text": "one"}]},
            {"role": "assistant", "content": [{"text": "two"}]},
            {"role": "user", "content": [{"text": "three"}, {"image": {}}, {"text": "four"}]},
        ],
    }
    assert request_texts(request) == ["sys", "one", "two", "three", "four"]
    assert last_user_text(request) == "three four"
    assert last_user_text({}) == ""


def test_invoke_agent_events_split_bytes() -> None:
    assert invoke_agent_events("abcdef", chunk_chars=4) == [
        {"chunk": {"bytes": b"abcd"}},
        {"chunk": {"bytes": b"ef"}},
    ]
    assert invoke_agent_events("hi") == [{"chunk": {"bytes": b"hi"}}]


def test_default_answer_options() -> None:
    request = {"messages": [{"role": "user", "content": [{"text": "hey"}]}]}
    assert DefaultAnswers().answer(request) == "echo: hey"
    assert DefaultAnswers(default_text="fixed").answer(request) == "fixed"
    assert len(DefaultAnswers(answer_tokens=100).answer(request)) == 400
    with pytest.raises(ValueError, match="answer_tokens"):
        DefaultAnswers(answer_tokens=0)
    with pytest.raises(ValueError, match="chunk_tokens"):
        DefaultAnswers(chunk_tokens=0)


def test_unscripted_operations_get_a_500_naming_them() -> None:
    reply = default_reply("GetAgentMemory", {}, DefaultAnswers())
    assert reply.status == 500
    assert reply.headers["x-amzn-ErrorType"] == "InternalServerException"
    assert b"GetAgentMemory" in reply.body


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk size"):
        converse_stream_events("x", chunk_chars=0)
