"""ChatBedrockKit against real AWS Bedrock recordings (third-party, read from ../shared).

Every Converse and ConverseStream interaction in ../shared/conformance/cassettes is served
byte-for-byte over real HTTP; ChatBedrockKit reads it through real boto3 / aiobotocore
clients, sync and async, and what it returns is compared with what the recorded response
says. The expectations are derived here from the raw recorded JSON and event frames by
straightforward loops, independently of the core's parser.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from bedrock_kit import errors
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing.conformance import Interaction, Recording, load_recordings, replay_server

pytestmark = pytest.mark.conformance

_OPERATIONS = ("Converse", "ConverseStream")


@dataclass
class Expected:
    """What a recorded response says, derived from the raw recording."""

    text: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    stop_reason: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    guardrail: dict[str, Any] | None = None
    reasoning: str = ""
    error: type[errors.BedrockKitError] | None = None


def _expected_from_json(body: dict[str, Any]) -> Expected:
    out = Expected(stop_reason=body.get("stopReason", ""), usage=body.get("usage") or {})
    for block in body["output"]["message"]["content"]:
        if "text" in block:
            out.text += block["text"]
        if "toolUse" in block:
            use = block["toolUse"]
            out.tool_calls.append((use["name"], use["toolUseId"], use["input"]))
        if "reasoningContent" in block:
            out.reasoning += block["reasoningContent"].get("reasoningText", {}).get("text", "")
    out.guardrail = (body.get("trace") or {}).get("guardrail")
    return out


def _expected_from_events(interaction: Interaction) -> Expected:
    out = Expected()
    tools: dict[int, list[Any]] = {}
    for event in interaction.events or ():
        payload = event.payload
        if event.event_type == "contentBlockStart" and "toolUse" in payload.get("start", {}):
            start = payload["start"]["toolUse"]
            tools[payload["contentBlockIndex"]] = [start["name"], start["toolUseId"], ""]
        elif event.event_type == "contentBlockDelta":
            delta = payload["delta"]
            out.text += delta.get("text", "")
            out.reasoning += delta.get("reasoningContent", {}).get("text", "")
            if "toolUse" in delta:
                tools[payload["contentBlockIndex"]][2] += delta["toolUse"]["input"]
        elif event.event_type == "messageStop":
            out.stop_reason = payload["stopReason"]
        elif event.event_type == "metadata":
            out.usage = payload.get("usage") or {}
            out.guardrail = (payload.get("trace") or {}).get("guardrail")
    out.tool_calls = [(n, i, json.loads(args or "{}")) for n, i, args in tools.values()]
    return out


# Recorded error statuses -> the typed error a user must get.
_ERROR_TYPES: dict[int, type[errors.BedrockKitError]] = {
    400: errors.BedrockValidationError,
    403: errors.AccessDeniedError,
    429: errors.ThrottlingError,
}


def expected_for(interaction: Interaction) -> Expected:
    if interaction.status >= 400:
        return Expected(error=_ERROR_TYPES[interaction.status])
    if interaction.is_event_stream:
        return _expected_from_events(interaction)
    assert interaction.response_json is not None
    return _expected_from_json(interaction.response_json)


def _cases() -> list[Any]:
    cases = []
    for recording in load_recordings():
        if not set(recording.operations) & set(_OPERATIONS):
            continue
        stream = recording.operations[0] == "ConverseStream"
        modes = ("stream", "astream") if stream else ("invoke", "ainvoke")
        cases += [pytest.param(recording, mode, id=f"{recording.id}-{mode}") for mode in modes]
    return cases or [
        pytest.param(None, "", marks=pytest.mark.skip(reason="../shared/conformance absent"))
    ]


def _model(server: Any, interaction: Interaction) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=interaction.model_id or "amazon.nova-micro-v1:0",
        endpoint_url=server.endpoint_url,
        region_name=interaction.region or "us-east-1",
        max_retries=0,
    )


def _call(model: ChatBedrockKit, mode: str) -> AIMessage:
    """One call in the given mode; streams are summed into one message."""
    if mode == "invoke":
        return model.invoke("hi")

    async def run() -> AIMessage:
        try:
            if mode == "ainvoke":
                return await model.ainvoke("hi")
            chunks = [chunk async for chunk in model.astream("hi")]
            return _sum(chunks)
        finally:
            await model.aclose()

    if mode == "stream":
        return _sum(list(model.stream("hi")))
    return asyncio.run(run())


def _sum(chunks: list[AIMessageChunk]) -> AIMessage:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total  # type: ignore[return-value]


def _text(message: AIMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(
        b.get("text", "")
        for b in message.content
        if isinstance(b, dict) and b.get("type") == "text"
    )


def _reasoning(message: AIMessage) -> str:
    if isinstance(message.content, str):
        return ""
    return "".join(
        b["reasoning_content"].get("text", "")
        for b in message.content
        if isinstance(b, dict) and b.get("type") == "reasoning_content"
    )


def check(message: AIMessage, expected: Expected) -> None:
    assert _text(message) == expected.text
    assert _reasoning(message) == expected.reasoning
    assert [(c["name"], c["id"], c["args"]) for c in message.tool_calls] == expected.tool_calls
    assert message.response_metadata["raw_stop_reason"] == expected.stop_reason
    usage = message.usage_metadata
    assert usage is not None
    cache_read = expected.usage.get("cacheReadInputTokens", 0)
    cache_write = expected.usage.get("cacheWriteInputTokens", 0)
    assert usage["input_tokens"] == expected.usage["inputTokens"] + cache_read + cache_write
    assert usage["output_tokens"] == expected.usage["outputTokens"]
    assert usage["input_token_details"] == {"cache_read": cache_read, "cache_creation": cache_write}
    trace = message.response_metadata["guardrail"]
    if expected.guardrail is None:
        assert trace is None
    else:
        assert trace is not None
        assert set(trace.input_assessments) == set(expected.guardrail.get("inputAssessment") or {})
        recorded_outputs = expected.guardrail.get("outputAssessments") or {}
        assert {k: len(v) for k, v in trace.output_assessments.items()} == {
            k: len(v) for k, v in recorded_outputs.items()
        }
        recorded_pii = [
            (e["type"], e["action"], e["match"])
            for group in recorded_outputs.values()
            for a in group
            for e in (a.get("sensitiveInformationPolicy") or {}).get("piiEntities", [])
        ]
        parsed_pii = [
            (e.type, e.action, e.match)
            for group in trace.output_assessments.values()
            for a in group
            for e in a.pii_entities
        ]
        assert parsed_pii == recorded_pii
        assert trace.intervened == (expected.stop_reason == "guardrail_intervened")


@pytest.mark.parametrize(("recording", "mode"), _cases())
def test_recorded_converse(recording: Recording, mode: str) -> None:
    interactions = [i for i in recording.interactions if i.operation in _OPERATIONS]
    with replay_server(recording) as server:
        for interaction in interactions:
            expected = expected_for(interaction)
            model = _model(server, interaction)
            if expected.error is not None:
                with pytest.raises(expected.error) as info:
                    _call(model, mode)
                assert info.value.status_code == interaction.status
                assert info.value.model_id == interaction.model_id
                continue
            check(_call(model, mode), expected)


def test_expectations_are_not_vacuous() -> None:
    """Every successful recorded answer has content to compare, so the checks can fail."""
    cases = [i for r in load_recordings() for i in r.interactions if i.operation in _OPERATIONS]
    if not cases:
        pytest.skip("../shared/conformance absent")
    for interaction in cases:
        expected = expected_for(interaction)
        if expected.error is None:
            assert expected.text or expected.tool_calls, interaction.path
            assert expected.stop_reason and expected.usage.get("outputTokens", 0) > 0


def test_recorded_count_tokens() -> None:
    recordings = [r for r in load_recordings() if "CountTokens" in r.operations]
    if not recordings:
        pytest.skip("../shared/conformance absent")
    for recording in recordings:
        interaction = next(i for i in recording.interactions if i.operation == "CountTokens")
        assert interaction.response_json is not None
        with replay_server(recording) as server:
            model = _model(server, interaction)
            count = model.get_num_tokens_from_messages([HumanMessage("x")], tools=[])
        assert count == interaction.response_json["inputTokens"]
