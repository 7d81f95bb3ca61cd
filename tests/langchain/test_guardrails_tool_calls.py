"""LangChain guards check tool calls (default) and reasoning (when asked), not only text.

Real boto3 / aiobotocore clients against LocalBedrock: the model streams text, reasoning and
tool calls over ConverseStream, the guardrail answers ApplyGuardrail from a policy that masks
an account number wherever a window holds it, and the request log proves what was checked
before what was released.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from bedrock_kit.langchain.chat import ChatBedrockKit
from bedrock_kit.langchain.guardrails import BedrockGuardrail, BedrockStreamGuard
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_stream_events

GID = "grtools01"
MODEL = "amazon.nova-micro-v1:0"
ACCOUNT = "acct-0042-7731"
MASK = "{ACCOUNT}"
BLOCKED_WORD = "SELL-EVERYTHING"


def _policy(request: Any) -> Reply:
    """Masks ACCOUNT in every text block that holds it; blocks BLOCKED_WORD."""
    texts = [b["text"]["text"] for b in request.body["content"]]
    if any(BLOCKED_WORD in t for t in texts):
        return Reply.json({"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "Blocked."}],
                           "assessments": [{"wordPolicy": {"customWords": [
                               {"match": BLOCKED_WORD, "action": "BLOCKED"}]}}]})  # fmt: skip
    if not any(ACCOUNT in t for t in texts):
        return Reply.json({"action": "NONE", "outputs": [], "assessments": []})
    return Reply.json(
        {
            "action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": t.replace(ACCOUNT, MASK)} for t in texts],
            "assessments": [{"sensitiveInformationPolicy": {"regexes": [
                {"name": "account", "match": ACCOUNT, "action": "ANONYMIZED"}]}}],
        }
    )  # fmt: skip


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as running:
        running.set_default("ApplyGuardrail", _policy)
        yield running


def _args(server: LocalBedrock) -> dict[str, Any]:
    return {"region_name": "us-east-1", "endpoint_url": server.endpoint_url, "max_retries": 0}


def _checked(server: LocalBedrock) -> list[str]:
    return [
        b["text"]["text"] for r in server.requests_for("ApplyGuardrail") for b in r.body["content"]
    ]


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


PROSE = "I will move the money as you asked. " * 30  # 1,080 characters: two windows


def test_streamed_tool_call_is_checked_masked_and_released_only_after_its_window(
    server: LocalBedrock,
) -> None:
    tool = {"name": "transfer", "input": {"to": ACCOUNT, "amount": 25}}
    server.script("ConverseStream", Reply.events(converse_stream_events(PROSE, tool_uses=[tool])))
    llm = ChatBedrockKit(model=MODEL, **_args(server))
    guard = BedrockGuardrail(guardrail_id=GID, **_args(server)).stream_guard()
    out: list[AIMessageChunk] = []
    for chunk in (llm | guard).stream("pay my rent"):
        if chunk.tool_call_chunks:  # released only once a check held the call
            assert any("transfer" in t for t in _checked(server))
        out.append(chunk)
    merged = _merge(out)
    assert merged.text == PROSE
    assert merged.tool_calls == [
        {"name": "transfer", "args": {"to": MASK, "amount": 25}, "id": "tooluse_0_transfer",
         "type": "tool_call"}
    ]  # fmt: skip
    assert ACCOUNT not in str([c.tool_call_chunks for c in out])
    assert ACCOUNT in _checked(server)[-1]  # the second window held the call whole
    assert guard.stats.calls == 2 and guard.stats.unchecked_characters == 0


async def test_async_stream_guard_checks_tool_calls(server: LocalBedrock) -> None:
    tool = {"name": "transfer", "input": {"to": ACCOUNT}}
    server.script("ConverseStream", Reply.events(converse_stream_events("Done.", tool_uses=[tool])))
    llm = ChatBedrockKit(model=MODEL, **_args(server))
    guard = BedrockStreamGuard(guardrail_id=GID, **_args(server))
    try:
        out = [c async for c in (llm | guard).astream("pay")]
    finally:
        await guard.aclose()
        await llm.aclose()
    merged = _merge(out)
    assert merged.tool_calls[0]["args"] == {"to": MASK}
    assert merged.usage_metadata is not None
    assert _checked(server) == ['Done.\ntransfer{"to":"' + ACCOUNT + '"}']


def test_a_blocked_tool_call_is_never_released(server: LocalBedrock) -> None:
    tool = {"name": "trade", "input": {"order": BLOCKED_WORD}}
    server.script("ConverseStream", Reply.events(converse_stream_events("Sure.", tool_uses=[tool])))
    llm = ChatBedrockKit(model=MODEL, **_args(server))
    guard = BedrockStreamGuard(guardrail_id=GID, on_block="message", replacement="[removed]",
                               **_args(server))  # fmt: skip
    out = list((llm | guard).stream("trade"))
    assert "".join(c.text for c in out) == "[removed]"
    assert not any(c.tool_call_chunks for c in out)


def test_check_tool_calls_false_passes_them_unchecked_and_counts_them(
    server: LocalBedrock,
) -> None:
    guard = BedrockStreamGuard(guardrail_id=GID, check_tool_calls=False, **_args(server))
    call = {"name": "transfer", "args": '{"to": "x"}', "id": "t1", "index": 0}
    chunks = [AIMessageChunk(content="ok"), AIMessageChunk(content="", tool_call_chunks=[call])]
    out = list(guard.guard_stream(iter(chunks)))
    assert _checked(server) == ["ok"]
    assert out[-1].tool_call_chunks[0]["args"] == '{"to": "x"}'
    assert guard.stats.unchecked_characters == len("transfer") + len('{"to": "x"}')


def test_reasoning_is_withheld_by_default_and_checked_when_asked(
    server: LocalBedrock, caplog: pytest.LogCaptureFixture
) -> None:
    events = converse_stream_events("Answer.", reasoning="Think about " + ACCOUNT,
                                    reasoning_signature="sig-1")  # fmt: skip
    server.script("ConverseStream", Reply.events(events), Reply.events(events))
    llm = ChatBedrockKit(model=MODEL, **_args(server))
    default = BedrockStreamGuard(guardrail_id=GID, **_args(server))
    quiet = _merge(list((llm | default).stream("q")))
    assert quiet.text == "Answer." and "Think" not in str(quiet.content)
    assert _checked(server) == ["Answer."]
    assert "withheld" in caplog.text
    asked = BedrockStreamGuard(guardrail_id=GID, check_reasoning=True, **_args(server))
    shown = _merge(list((llm | asked).stream("q")))
    assert _checked(server)[-1] == "Think about " + ACCOUNT + "Answer."
    reasoning = [b for b in shown.content if isinstance(b, dict)]
    assert reasoning[0]["reasoning_content"] == {
        "text": "Think about " + MASK,
        "signature": "sig-1",
    }
    assert shown.text == "Answer."


# ------------------------------------------------------------------ BedrockGuardrail


def _answer(args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content="Paying now.",
        tool_calls=[{"name": "transfer", "args": args, "id": "call-9", "type": "tool_call"}],
    )


def test_guard_step_checks_and_masks_tool_call_arguments(server: LocalBedrock) -> None:
    guard = BedrockGuardrail(guardrail_id=GID, source="OUTPUT", **_args(server))
    checked = guard.invoke(_answer({"to": ACCOUNT, "amount": 5}))
    assert checked.tool_calls == [{"name": "transfer", "args": {"to": MASK, "amount": 5},
                                   "id": "call-9", "type": "tool_call"}]  # fmt: skip
    assert _checked(server) == ["Paying now.", "transfer", json.dumps({"to": ACCOUNT, "amount": 5})]
    unchecked = guard.model_copy(update={"check_tool_calls": False})
    assert unchecked.invoke(_answer({"to": "x"})).tool_calls[0]["args"] == {"to": "x"}
    assert _checked(server)[-1] == "Paying now."


def test_guard_step_blocks_a_tool_call_and_drops_it_from_the_message(
    server: LocalBedrock,
) -> None:
    guard = BedrockGuardrail(guardrail_id=GID, source="OUTPUT", on_block="message",
                             **_args(server))  # fmt: skip
    replaced = guard.invoke(_answer({"order": BLOCKED_WORD}))
    assert replaced.content == "Blocked." and replaced.tool_calls == []


def test_masked_arguments_that_are_no_longer_json_become_an_invalid_tool_call(
    server: LocalBedrock,
) -> None:
    guard = BedrockGuardrail(guardrail_id=GID, source="OUTPUT", **_args(server))
    broken = {"action": "GUARDRAIL_INTERVENED",
              "outputs": [{"text": "Paying now."}, {"text": "transfer"}, {"text": '{"to": {ACC'}],
              "assessments": [{"sensitiveInformationPolicy": {"regexes": [
                  {"name": "account", "match": ACCOUNT, "action": "ANONYMIZED"}]}}]}  # fmt: skip
    server.script("ApplyGuardrail", Reply.json(broken))
    checked = guard.invoke(_answer({"to": ACCOUNT}))
    assert checked.tool_calls == []
    assert checked.invalid_tool_calls[0]["args"] == '{"to": {ACC'
    assert ACCOUNT not in str(checked)


def test_stream_guard_invoke_checks_a_whole_message_with_tool_calls(server: LocalBedrock) -> None:
    guard = BedrockStreamGuard(guardrail_id=GID, **_args(server))
    checked = guard.invoke(_answer({"to": ACCOUNT}))
    assert type(checked) is AIMessage
    assert checked.tool_calls[0]["args"] == {"to": MASK} and checked.tool_calls[0]["id"] == "call-9"
