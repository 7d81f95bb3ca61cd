"""aiobotocore clients against LocalBedrock: defaults, scripts, faults and concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from botocore.eventstream import ChecksumMismatch
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    EventStreamError,
    ReadTimeoutError,
)

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_stream_events, invoke_agent_events
from tests.testing.conftest import aio_client_context

MESSAGES = [{"role": "user", "content": [{"text": "hi async"}]}]
EVENTS = converse_stream_events("hello world", chunk_chars=4)


async def _consume(client: Any, received: list[dict[str, Any]]) -> None:
    stream = (await client.converse_stream(modelId="m", messages=MESSAGES))["stream"]
    try:
        async for event in stream:
            received.append(event)
    finally:
        stream._raw_stream.close()  # aiobotocore's event stream has no close() of its own


async def test_converse_default(server: LocalBedrock, aio_client: Any) -> None:
    response = await aio_client.converse(modelId="m", messages=MESSAGES)
    assert response["output"]["message"]["content"] == [{"text": "echo: hi async"}]
    assert response["stopReason"] == "end_turn"


async def test_converse_stream_default(server: LocalBedrock, aio_client: Any) -> None:
    received: list[dict[str, Any]] = []
    await _consume(aio_client, received)
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in received if "contentBlockDelta" in e
    )
    assert text == "echo: hi async"
    assert next(iter(received[-1])) == "metadata"


async def test_count_tokens(server: LocalBedrock, aio_client: Any) -> None:
    response = await aio_client.count_tokens(
        modelId="anthropic.claude-3-5-haiku-20241022-v1:0",  # "m" is an invalid model id
        input={"converse": {"messages": MESSAGES}},
    )
    assert response["inputTokens"] == 2


async def test_scripted_stream(server: LocalBedrock, aio_client: Any) -> None:
    server.script("ConverseStream", Reply.events(EVENTS))
    received: list[dict[str, Any]] = []
    await _consume(aio_client, received)
    assert received == EVENTS


async def test_error_reply(server: LocalBedrock, aio_client: Any) -> None:
    server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ClientError) as caught:
        await aio_client.converse(modelId="m", messages=MESSAGES)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


@pytest.mark.parametrize("index", [0, 2, len(EVENTS)])
async def test_in_stream_exception(server: LocalBedrock, aio_client: Any, index: int) -> None:
    server.script(
        "ConverseStream", Reply.events(EVENTS, exception_at=(index, "throttlingException", "x"))
    )
    received: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError) as caught:
        await _consume(aio_client, received)
    assert caught.value.response["Error"]["Code"] == "throttlingException"
    assert received == EVENTS[:index]


async def test_corrupted_frame(server: LocalBedrock, aio_client: Any) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, corrupt_frame=2))
    received: list[dict[str, Any]] = []
    with pytest.raises(ChecksumMismatch):
        await _consume(aio_client, received)
    assert received == EVENTS[:2]


@pytest.mark.parametrize("cut", [0, 3, len(EVENTS)])
async def test_truncated_stream(server: LocalBedrock, aio_client: Any, cut: int) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, truncate_after=cut))
    received: list[dict[str, Any]] = []
    with pytest.raises(aiohttp.ClientPayloadError):
        await _consume(aio_client, received)
    assert received == EVENTS[:cut]


async def test_reset_before_response(server: LocalBedrock, aio_client: Any) -> None:
    server.script("Converse", Reply.reset())
    # aiobotocore reports a reset on a fresh connection as a connection error.
    with pytest.raises((EndpointConnectionError, ConnectionClosedError)):
        await aio_client.converse(modelId="m", messages=MESSAGES)


async def test_reset_during_body(server: LocalBedrock, aio_client: Any) -> None:
    server.script("Converse", Reply.reset(after_bytes=10))
    with pytest.raises(ConnectionClosedError):
        await aio_client.converse(modelId="m", messages=MESSAGES)


async def test_throttling_retried_then_succeeds(server: LocalBedrock, make_aio_client: Any) -> None:
    throttle = Reply.error(429, "ThrottlingException", "Too many requests")
    server.script("Converse", throttle, throttle)
    async with make_aio_client(retries={"mode": "standard", "total_max_attempts": 3}) as client:
        response = await client.converse(modelId="m", messages=MESSAGES)
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(server.requests) == 3


async def test_read_timeout(server: LocalBedrock, make_aio_client: Any) -> None:
    server.script("Converse", Reply.json({}, delay=5))
    async with make_aio_client(read_timeout=0.3) as client:
        with pytest.raises(ReadTimeoutError):
            await client.converse(modelId="m", messages=MESSAGES)


async def test_invoke_agent_chunks(server: LocalBedrock, make_aio_client: Any) -> None:
    events = invoke_agent_events("The weather is fine.", chunk_chars=7)
    server.script("InvokeAgent", Reply.events(events))
    async with make_aio_client("bedrock-agent-runtime") as client:
        response = await client.invoke_agent(
            agentId="A1", agentAliasId="AL1", sessionId="s-2", inputText="weather?"
        )
        chunks = [event["chunk"]["bytes"] async for event in response["completion"]]
    assert len(chunks) == 3
    assert b"".join(chunks) == b"The weather is fine."


async def test_64_concurrent_converse_calls(server: LocalBedrock, aio_client: Any) -> None:
    async def one(i: int) -> str:
        response = await aio_client.converse(
            modelId="m", messages=[{"role": "user", "content": [{"text": f"n{i}"}]}]
        )
        return str(response["output"]["message"]["content"][0]["text"])

    answers = await asyncio.gather(*(one(i) for i in range(64)))
    assert answers == [f"echo: n{i}" for i in range(64)]
    assert len(server.requests) == 64


async def test_256_concurrent_connections_with_latency() -> None:
    # Latency holds every request open, so all 256 connections are live at once.
    with LocalBedrock(latency=0.2) as server:
        async with aio_client_context(server.endpoint_url, max_pool_connections=256) as client:

            async def one(i: int) -> int:
                received: list[dict[str, Any]] = []
                response = await client.converse_stream(
                    modelId="m", messages=[{"role": "user", "content": [{"text": f"{i}"}]}]
                )
                async for event in response["stream"]:
                    received.append(event)
                return len(received)

            counts = await asyncio.gather(*(one(i) for i in range(256)))
        assert counts == [5] * 256  # messageStart, one delta, blockStop, messageStop, metadata
        assert len(server.requests) == 256
