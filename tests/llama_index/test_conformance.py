"""Conformance: every Converse / ConverseStream recording of real AWS Bedrock in
../shared/conformance, replayed byte for byte through BedrockKitLLM (chat and stream, sync and
async), checked against what the recorded response itself says.

Expected values are read straight from the recorded JSON and event frames here, not through
the core's parser, so a parsing bug cannot confirm itself. Skips cleanly when ../shared is
absent.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, TextBlock, ThinkingBlock

from bedrock_kit.errors import BedrockKitError, BedrockValidationError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.conformance import Interaction, Recording, load_recordings, replay_server

pytestmark = pytest.mark.conformance

_CHAT_OPERATIONS = {"Converse", "ConverseStream"}
RECORDINGS = [
    r for r in load_recordings() if r.operations and set(r.operations) <= _CHAT_OPERATIONS
]
MESSAGES = [ChatMessage(role="user", content="conformance replay")]


def _expected_converse(body: dict[str, Any]) -> dict[str, Any]:
    content = body["output"]["message"]["content"]
    return {
        "text": "".join(b["text"] for b in content if "text" in b),
        "reasoning": "".join(
            b["reasoningContent"].get("reasoningText", {}).get("text", "")
            for b in content
            if "reasoningContent" in b
        ),
        "tool_calls": [
            (b["toolUse"]["toolUseId"], b["toolUse"]["name"], b["toolUse"]["input"])
            for b in content
            if "toolUse" in b
        ],
        "stop_reason": body["stopReason"],
        "usage": body.get("usage") or {},
        "guardrail": "guardrail" in (body.get("trace") or {}),
    }


def _expected_stream(interaction: Interaction) -> dict[str, Any]:
    import json

    text, reasoning, stop, usage, guardrail = [], [], "", {}, False
    calls: dict[int, list[Any]] = {}
    for event in interaction.events or ():
        payload = event.payload
        if event.event_type == "contentBlockStart" and "toolUse" in payload.get("start", {}):
            tool = payload["start"]["toolUse"]
            calls[payload["contentBlockIndex"]] = [tool["toolUseId"], tool["name"], ""]
        elif event.event_type == "contentBlockDelta":
            delta = payload["delta"]
            if "text" in delta:
                text.append(delta["text"])
            elif "toolUse" in delta:
                calls[payload["contentBlockIndex"]][2] += delta["toolUse"]["input"]
            elif "reasoningContent" in delta:
                reasoning.append(delta["reasoningContent"].get("text", ""))
        elif event.event_type == "messageStop":
            stop = payload["stopReason"]
        elif event.event_type == "metadata":
            usage = payload.get("usage") or {}
            guardrail = "guardrail" in (payload.get("trace") or {})
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "tool_calls": [
            (i, n, json.loads(a) if a else {}) for _, (i, n, a) in sorted(calls.items())
        ],
        "stop_reason": stop,
        "usage": usage,
        "guardrail": guardrail,
    }


def _check(llm: BedrockKitLLM, response: Any, expected: dict[str, Any]) -> None:
    blocks = response.message.blocks
    assert "".join(b.text for b in blocks if isinstance(b, TextBlock)) == expected["text"]
    thinking = "".join(b.content or "" for b in blocks if isinstance(b, ThinkingBlock))
    assert thinking == expected["reasoning"]
    calls = [
        (c.tool_id, c.tool_name, c.tool_kwargs)
        for c in llm.get_tool_calls_from_response(response, False)
    ]
    assert calls == expected["tool_calls"]
    assert response.additional_kwargs["raw_stop_reason"] == expected["stop_reason"]
    assert response.additional_kwargs["stop_reason"] == expected["stop_reason"]
    wire = expected["usage"]
    billed_input = (
        wire.get("inputTokens", 0)
        + wire.get("cacheReadInputTokens", 0)
        + wire.get("cacheWriteInputTokens", 0)
    )
    usage = response.raw["usage"]
    assert usage["prompt_tokens"] == billed_input
    assert usage["completion_tokens"] == wire.get("outputTokens", 0)
    assert usage["cache_read_input_tokens"] == wire.get("cacheReadInputTokens", 0)
    assert usage["cache_write_input_tokens"] == wire.get("cacheWriteInputTokens", 0)
    assert (response.additional_kwargs["guardrail"] is not None) == expected["guardrail"]


def _llm(server: Any, interaction: Interaction) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=interaction.model_id or "unknown-model",
        endpoint_url=server.endpoint_url,
        region_name=interaction.region or "us-east-1",
        max_retries=0,
    )


def _expect_error(interaction: Interaction, error: BedrockKitError) -> None:
    assert error.status_code == interaction.status
    if interaction.status == 400:
        assert isinstance(error, BedrockValidationError)


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.id)
def test_sync_chat_and_stream_match_the_recording(recording: Recording) -> None:
    with replay_server(recording) as server:
        for interaction in recording.interactions:
            llm = _llm(server, interaction)
            stream = interaction.operation == "ConverseStream"
            if interaction.status != 200:
                with pytest.raises(BedrockKitError) as info:
                    list(llm.stream_chat(MESSAGES)) if stream else llm.chat(MESSAGES)
                _expect_error(interaction, info.value)
            elif stream:
                chunks = list(llm.stream_chat(MESSAGES))
                _check(llm, chunks[-1], _expected_stream(interaction))
                assert (
                    "".join(c.delta or "" for c in chunks) == _expected_stream(interaction)["text"]
                )
            else:
                _check(llm, llm.chat(MESSAGES), _expected_converse(interaction.response_json or {}))


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.id)
async def test_async_chat_and_stream_match_the_recording(recording: Recording) -> None:
    with replay_server(recording) as server:
        for interaction in recording.interactions:
            llm = _llm(server, interaction)
            stream = interaction.operation == "ConverseStream"
            try:
                if interaction.status != 200:
                    with pytest.raises(BedrockKitError) as info:
                        if stream:
                            [c async for c in await llm.astream_chat(MESSAGES)]
                        else:
                            await llm.achat(MESSAGES)
                    _expect_error(interaction, info.value)
                elif stream:
                    chunks = [c async for c in await llm.astream_chat(MESSAGES)]
                    _check(llm, chunks[-1], _expected_stream(interaction))
                else:
                    response = await llm.achat(MESSAGES)
                    _check(llm, response, _expected_converse(interaction.response_json or {}))
            finally:
                await llm.aclose()
