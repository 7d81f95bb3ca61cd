"""bedrock_kit.core.chat.runtime.ConverseRuntime end to end against LocalBedrock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bedrock_kit.core.chat.converse import build_converse_request
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.stream import CompletedDelta, TextDelta, ToolCallDelta
from bedrock_kit.core.chat.types import Message, TextBlock, ToolUseBlock
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockConnectionError,
    IncompleteStreamError,
    ModelStreamError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_stream_events

REQUEST = build_converse_request(
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    [Message("user", (TextBlock("Hello runtime"),))],
)
EVENTS = converse_stream_events(
    "Checking.", tool_uses=[{"name": "lookup", "input": {"q": "x", "n": [1, 2]}}], chunk_chars=3
)


@pytest.fixture
def runtime(server: LocalBedrock) -> Iterator[ConverseRuntime]:
    settings = ClientSettings(
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="AKIDLOCALBEDROCK",
        aws_secret_access_key="not-a-secret",
        max_retries=0,
    )
    runtime = ConverseRuntime(settings)
    yield runtime
    if runtime.pool.created:
        runtime.pool.client.close()


def test_converse_stream_and_count_tokens(server: LocalBedrock, runtime: ConverseRuntime) -> None:
    result = runtime.converse(REQUEST)
    assert result.text == "echo: Hello runtime"
    assert result.stop_reason == "end_turn"
    assert result.usage.output_tokens == 5
    assert result.request_id

    deltas = list(runtime.stream(REQUEST))
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "echo: Hello runtime"
    assert isinstance(deltas[-1], CompletedDelta)
    assert deltas[-1].result.text == "echo: Hello runtime"

    assert runtime.count_tokens(REQUEST) == 4
    count_request = server.requests_for("CountTokens")[0]
    # CountTokens takes the foundation model id, not the inference profile.
    assert count_request.path_params["modelId"] == "anthropic.claude-3-5-haiku-20241022-v1:0"


def test_streamed_tool_call_is_assembled(server: LocalBedrock, runtime: ConverseRuntime) -> None:
    server.script("ConverseStream", Reply.events(EVENTS))
    deltas = list(runtime.stream(REQUEST))
    assert any(isinstance(d, ToolCallDelta) and d.name == "lookup" for d in deltas)
    result = deltas[-1].result  # type: ignore[union-attr]
    assert result.stop_reason == "tool_use"
    assert result.message.content[1] == ToolUseBlock(
        "tooluse_0_lookup", "lookup", {"q": "x", "n": [1, 2]}
    )


def test_faults_become_typed_errors(server: LocalBedrock, runtime: ConverseRuntime) -> None:
    server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ThrottlingError) as caught:
        runtime.converse(REQUEST)
    assert caught.value.status_code == 429

    server.script(
        "ConverseStream", Reply.events(EVENTS, exception_at=(3, "modelStreamErrorException", "x"))
    )
    with pytest.raises(ModelStreamError):
        list(runtime.stream(REQUEST))

    server.script("ConverseStream", Reply.events(EVENTS, truncate_after=4))
    with pytest.raises(IncompleteStreamError):
        list(runtime.stream(REQUEST))

    server.script("ConverseStream", Reply.events(EVENTS, corrupt_frame=2))
    with pytest.raises(IncompleteStreamError):
        list(runtime.stream(REQUEST))

    server.script("ConverseStream", Reply.events(EVENTS[:-2]))  # ends cleanly, no messageStop
    with pytest.raises(IncompleteStreamError):
        list(runtime.stream(REQUEST))

    server.script("Converse", Reply.reset())
    with pytest.raises(BedrockConnectionError):
        runtime.converse(REQUEST)


async def test_async_converse_stream_and_faults(
    server: LocalBedrock, runtime: ConverseRuntime
) -> None:
    try:
        result = await runtime.aconverse(REQUEST)
        assert result.text == "echo: Hello runtime"
        deltas = [d async for d in runtime.astream(REQUEST)]
        assert isinstance(deltas[-1], CompletedDelta)
        assert await runtime.acount_tokens(REQUEST) == 4

        server.script("ConverseStream", Reply.events(EVENTS, truncate_after=2))
        with pytest.raises(IncompleteStreamError):
            [d async for d in runtime.astream(REQUEST)]

        server.script(
            "ConverseStream", Reply.events(EVENTS, exception_at=(1, "throttlingException", "x"))
        )
        with pytest.raises(ThrottlingError):
            [d async for d in runtime.astream(REQUEST)]
        assert runtime.pool.created == 1  # one async client reused for every call
    finally:
        await runtime.pool.aclose()
