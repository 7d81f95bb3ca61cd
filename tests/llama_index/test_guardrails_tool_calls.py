"""The LlamaIndex guard checks tool calls (default) and thinking (when asked) of LLM streams.

BedrockKitLLM streams text, thinking and tool calls over ConverseStream from LocalBedrock;
ApplyGuardrail answers from a policy that masks an account number wherever a window holds it.
Real boto3 / aiobotocore clients, real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ThinkingBlock,
    ToolCallBlock,
)

from bedrock_kit.llama_index.chat import BedrockKitLLM
from bedrock_kit.llama_index.guardrails import BedrockGuardrail
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_stream_events

GID = "grtools02"
MODEL = "amazon.nova-micro-v1:0"
ACCOUNT = "acct-0042-7731"
MASK = "{ACCOUNT}"
PROSE = "I will move the money as you asked. " * 30  # 1,080 characters: two windows


def _policy(request: Any) -> Reply:
    texts = [b["text"]["text"] for b in request.body["content"]]
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


def _calls(response: ChatResponse) -> list[ToolCallBlock]:
    return [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_tool_calls_are_checked_masked_and_released_after_their_window(
    server: LocalBedrock,
) -> None:
    tool = {"name": "transfer", "input": {"to": ACCOUNT, "amount": 25}, "toolUseId": "tu-1"}
    server.script("ConverseStream", Reply.events(converse_stream_events(PROSE, tool_uses=[tool])))
    llm = BedrockKitLLM(model=MODEL, **_args(server))
    guard = BedrockGuardrail(guardrail_id=GID, **_args(server))
    out = []
    for response in guard.guard_llm_stream(llm.stream_chat(_user("pay my rent"))):
        if _calls(response):
            assert any("transfer" in t for t in _checked(server))
        out.append(response)
    assert "".join(r.delta or "" for r in out) == PROSE
    (call,) = _calls(out[-1])
    assert (call.tool_call_id, call.tool_name, call.tool_kwargs) == (
        "tu-1", "transfer", {"to": MASK, "amount": 25}
    )  # fmt: skip
    assert ACCOUNT not in str([r.message for r in out])
    assert out[-1].additional_kwargs["stop_reason"] == "tool_use"  # upstream facts, at the end
    assert out[-1].additional_kwargs["usage"].output_tokens > 0
    assert llm.get_tool_calls_from_response(out[-1])[0].tool_kwargs == {"to": MASK, "amount": 25}


async def test_async_llm_stream_checks_tool_calls(server: LocalBedrock) -> None:
    tool = {"name": "transfer", "input": {"to": ACCOUNT}, "toolUseId": "tu-2"}
    server.script("ConverseStream", Reply.events(converse_stream_events("Done.", tool_uses=[tool])))
    llm = BedrockKitLLM(model=MODEL, **_args(server))
    guard = BedrockGuardrail(guardrail_id=GID, **_args(server))
    try:
        out = [r async for r in guard.aguard_llm_stream(await llm.astream_chat(_user("pay")))]
    finally:
        await guard.aclose()
    assert _calls(out[-1])[0].tool_kwargs == {"to": MASK}
    assert _checked(server) == ['Done.\ntransfer{"to":"' + ACCOUNT + '"}']


def test_check_tool_calls_false_passes_them_at_the_end_unchecked(server: LocalBedrock) -> None:
    tool = {"name": "transfer", "input": {"to": "x"}, "toolUseId": "tu-3"}
    server.script("ConverseStream", Reply.events(converse_stream_events("Ok.", tool_uses=[tool])))
    llm = BedrockKitLLM(model=MODEL, **_args(server))
    guard = BedrockGuardrail(guardrail_id=GID, check_tool_calls=False, **_args(server))
    out = list(guard.guard_llm_stream(llm.stream_chat(_user("pay"))))
    assert _checked(server) == ["Ok."]
    assert _calls(out[-1])[0].tool_kwargs == {"to": "x"}
    assert not any(_calls(r) for r in out[:-1])
    assert guard.stream_stats.unchecked_characters == len("transfer") + len('{"to": "x"}')


def test_thinking_is_withheld_by_default_and_checked_when_asked(
    server: LocalBedrock, caplog: pytest.LogCaptureFixture
) -> None:
    events = converse_stream_events("Answer.", reasoning="Think about " + ACCOUNT)
    server.script("ConverseStream", Reply.events(events), Reply.events(events))
    llm = BedrockKitLLM(model=MODEL, **_args(server))
    quiet = list(BedrockGuardrail(guardrail_id=GID, **_args(server)).guard_llm_stream(
        llm.stream_chat(_user("q"))))  # fmt: skip
    assert not any(isinstance(b, ThinkingBlock) for r in quiet for b in r.message.blocks)
    assert not any("thinking_delta" in r.additional_kwargs for r in quiet)
    assert _checked(server) == ["Answer."] and "withheld" in caplog.text
    asked = BedrockGuardrail(guardrail_id=GID, check_reasoning=True, **_args(server))
    shown = list(asked.guard_llm_stream(llm.stream_chat(_user("q"))))
    assert _checked(server)[-1] == "Think about " + ACCOUNT + "Answer."
    thinking = [b for b in shown[-1].message.blocks if isinstance(b, ThinkingBlock)]
    assert [b.content for b in thinking] == ["Think about " + MASK]
    assert shown[0].additional_kwargs["thinking_delta"] == "Think about " + MASK
    assert "".join(r.delta or "" for r in shown) == "Answer."
