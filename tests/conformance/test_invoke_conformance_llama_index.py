"""BedrockKitLLM(api="invoke") and token counting against the real recordings in ../shared.

The LlamaIndex side of tests/conformance/test_invoke_conformance.py: every InvokeModel /
InvokeModelWithResponseStream recording replayed over real HTTP (chat / stream_chat, sync and
async), expectations read from the recorded bytes by plain loops; and the CountTokens
recordings through ``count_tokens`` / ``acount_tokens`` of both frameworks.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from bedrock_kit import errors
from bedrock_kit.core.chat.invoke import known_model
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.conformance import Interaction, Recording, load_recordings, replay_server

pytestmark = pytest.mark.conformance

_OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream")
_STOPS = {"FINISH": "end_turn", "LENGTH": "max_tokens", "max_tokens": "max_tokens"}
_STOPS |= {"end_turn": "end_turn"}
_ERRORS = {400: errors.BedrockValidationError, 403: errors.AccessDeniedError}
ASK = [ChatMessage(role=MessageRole.USER, content="hi")]


def _expected(model_id: str, interaction: Interaction) -> tuple[str, str, tuple[int, int] | None]:
    if interaction.is_event_stream:
        text, stop, counts = "", "", None
        for event in interaction.events or ():
            chunk = json.loads(base64.b64decode(event.payload["bytes"]))
            if chunk.get("type") == "content_block_delta":
                text += chunk["delta"].get("text", "")
            if chunk.get("type") == "message_delta":
                stop = _STOPS[chunk["delta"]["stop_reason"]]
            metrics = chunk.get("amazon-bedrock-invocationMetrics")
            if metrics:
                counts = (metrics["inputTokenCount"], metrics["outputTokenCount"])
        return text, stop, counts
    body = interaction.response_json or {}
    if model_id.startswith("amazon.titan"):
        text, stop = (
            body["results"][0]["outputText"],
            _STOPS[body["results"][0]["completionReason"]],
        )
    elif model_id.startswith("amazon.nova"):
        text = "".join(b.get("text", "") for b in body["output"]["message"]["content"])
        stop = body["stopReason"]
    else:
        text = "".join(b.get("text", "") for b in body["content"])
        stop = _STOPS[body["stop_reason"]]
    if body.get("amazon-bedrock-guardrailAction") == "INTERVENED":
        stop = "guardrail_intervened"
    headers = interaction.headers
    counts = (
        (
            int(headers["x-amzn-bedrock-input-token-count"]),
            int(headers["x-amzn-bedrock-output-token-count"]),
        )
        if "x-amzn-bedrock-input-token-count" in headers
        else None
    )
    return text, stop, counts


def _cases() -> list[Any]:
    cases = []
    for recording in load_recordings():
        if recording.operations and recording.operations[0] in _OPERATIONS:
            stream = recording.operations[0] == "InvokeModelWithResponseStream"
            for mode in ("stream", "astream") if stream else ("chat", "achat"):
                cases.append(pytest.param(recording, mode, id=f"{recording.id}-{mode}"))
    return cases or [
        pytest.param(None, "", marks=pytest.mark.skip(reason="../shared/conformance absent"))
    ]


def _call(llm: BedrockKitLLM, mode: str) -> tuple[str, Any]:
    """Text and the last response (the one carrying usage and stop reason)."""
    if mode == "chat":
        response = llm.chat(ASK)
        return str(response.message.content or ""), response
    if mode == "stream":
        chunks = list(llm.stream_chat(ASK))
        return "".join(c.delta or "" for c in chunks), chunks[-1]

    async def run() -> tuple[str, Any]:
        try:
            if mode == "achat":
                response = await llm.achat(ASK)
                return str(response.message.content or ""), response
            chunks = [c async for c in await llm.astream_chat(ASK)]
            return "".join(c.delta or "" for c in chunks), chunks[-1]
        finally:
            await llm.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize(("recording", "mode"), _cases())
def test_recorded_invoke_llama_index(recording: Recording, mode: str) -> None:
    interaction = recording.interactions[0]
    model_id = interaction.model_id or ""
    kwargs: dict[str, Any] = {}
    if "guardrail" in recording.name:
        kwargs["guardrail_config"] = {
            "guardrailIdentifier": "5zwrmdlsra2e",
            "guardrailVersion": "DRAFT",
        }
    with replay_server(recording) as server:
        llm = BedrockKitLLM(
            model=model_id,
            api="invoke",
            endpoint_url=server.endpoint_url,
            region_name=interaction.region or "us-east-1",
            max_retries=0,
            **kwargs,
        )
        if interaction.status >= 400:
            if not known_model(model_id):
                with pytest.raises(errors.ConfigurationError, match="body="):
                    _call(llm, mode)
                assert server.requests == []
                # Raw mode sends the request, and the recorded error maps to its type.
                with pytest.raises(_ERRORS[interaction.status]) as info:
                    llm.chat([], body={"inputText": "hi"})
            else:
                with pytest.raises(_ERRORS[interaction.status]) as info:
                    _call(llm, mode)
            assert info.value.status_code == interaction.status
            return
        text, last = _call(llm, mode)
    expected_text, stop, counts = _expected(model_id, interaction)
    assert expected_text, "vacuous expectation"
    assert text == expected_text
    assert last.additional_kwargs["raw_stop_reason"] == stop
    usage = last.raw["usage"]
    if counts is not None:
        assert (usage["prompt_tokens"], usage["completion_tokens"]) == counts
    else:
        assert usage["completion_tokens"] > 0


def _count_recordings() -> list[Recording]:
    return [r for r in load_recordings() if "CountTokens" in r.operations]


async def _lc_count(lc: ChatBedrockKit) -> int:
    try:
        return await lc.aget_num_tokens_from_messages([HumanMessage("x")])
    finally:
        await lc.aclose()


async def _li_count(li: BedrockKitLLM) -> int:
    try:
        return await li.acount_tokens(ASK)
    finally:
        await li.aclose()


@pytest.mark.parametrize("mode", ["llama_index", "llama_index_async", "langchain_async"])
def test_recorded_count_tokens_both_frameworks(mode: str) -> None:
    recordings = _count_recordings()
    if not recordings:
        pytest.skip("../shared/conformance absent")
    for recording in recordings:
        interaction = next(i for i in recording.interactions if i.operation == "CountTokens")
        assert interaction.response_json is not None
        args = {"region_name": interaction.region or "us-east-1", "max_retries": 0}
        model_id = interaction.model_id or ""
        with replay_server(recording) as server:
            if mode == "langchain_async":
                lc = ChatBedrockKit(model=model_id, endpoint_url=server.endpoint_url, **args)
                count = asyncio.run(_lc_count(lc))
            else:
                li = BedrockKitLLM(model=model_id, endpoint_url=server.endpoint_url, **args)
                sync = mode == "llama_index"
                count = li.count_tokens(ASK) if sync else asyncio.run(_li_count(li))
        assert count == interaction.response_json["inputTokens"]
