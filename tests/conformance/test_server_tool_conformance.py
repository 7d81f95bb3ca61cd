"""Real Converse recordings (third-party, read from ../shared) read through both adapters,
sync and async: ``usage.serverToolUsage`` is kept exactly as recorded (Nova sends it, empty,
even without system tools), and a recorded ``toolUse`` is a client call unless its ``type``
is ``server_tool_use``.

The expectations come from the raw recorded JSON, independently of the core's parser.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.conformance import Interaction, Recording, load_recordings, replay_server

pytestmark = pytest.mark.conformance


def _recorded() -> list[tuple[Recording, Interaction]]:
    found = []
    for recording in load_recordings():
        for interaction in recording.interactions:
            if interaction.operation == "Converse" and interaction.status == 200:
                found.append((recording, interaction))
    return found


def _cases() -> list[Any]:
    cases = [
        pytest.param(recording, interaction, mode, id=f"{recording.id}-{mode}")
        for recording, interaction in _recorded()
        for mode in ("langchain", "alangchain", "llama_index", "allama_index")
    ]
    return cases or [
        pytest.param(None, None, "", marks=pytest.mark.skip(reason="../shared/conformance absent"))
    ]


def _expected(interaction: Interaction) -> tuple[dict[str, Any], list[str], list[str]]:
    body = interaction.response_json or {}
    usage = (body.get("usage") or {}).get("serverToolUsage") or {}
    client, server = [], []
    for block in body["output"]["message"]["content"]:
        use = block.get("toolUse")
        if use is not None:
            (server if use.get("type") == "server_tool_use" else client).append(use["toolUseId"])
    return usage, client, server


def _read(server: Any, interaction: Interaction, mode: str) -> tuple[dict[str, Any], list[str]]:
    common = {
        "endpoint_url": server.endpoint_url,
        "region_name": interaction.region or "us-east-1",
        "max_retries": 0,
    }
    model_id = interaction.model_id or "amazon.nova-micro-v1:0"
    if "langchain" in mode:
        chat = ChatBedrockKit(model=model_id, **common)
        if mode == "langchain":
            message = chat.invoke("hi")
        else:

            async def run() -> Any:
                try:
                    return await chat.ainvoke("hi")
                finally:
                    await chat.aclose()

            message = asyncio.run(run())
        usage = message.response_metadata.get("server_tool_usage", {})
        return usage, [c["id"] for c in message.tool_calls]
    llm = BedrockKitLLM(model=model_id, **common)
    question = [ChatMessage(role="user", content="hi")]
    if mode == "llama_index":
        response = llm.chat(question)
    else:

        async def arun() -> Any:
            try:
                return await llm.achat(question)
            finally:
                await llm.aclose()

        response = asyncio.run(arun())
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    return response.additional_kwargs["usage"].server_tool_usage, [c.tool_id for c in calls]


@pytest.mark.parametrize(("recording", "interaction", "mode"), _cases())
def test_server_tool_usage_and_calls_as_recorded(recording, interaction, mode) -> None:
    usage, client, _server_calls = _expected(interaction)
    with replay_server(recording) as server:
        # replay_server answers interactions in recorded order: skip to this one
        for earlier in recording.interactions:
            if earlier is interaction:
                break
            if earlier.operation == "Converse":
                _read(server, earlier, mode)
        found_usage, found_calls = _read(server, interaction, mode)
    assert found_usage == usage
    assert found_calls == client


def test_a_real_recording_carries_server_tool_usage() -> None:
    """The recordings hold the member botocore's model lacks, so the check above can fail."""
    recorded = [i for _, i in _recorded()]
    if not recorded:
        pytest.skip("../shared/conformance absent")
    assert any("serverToolUsage" in ((i.response_json or {}).get("usage") or {}) for i in recorded)
