"""Fault matrix for the LlamaIndex BedrockKitLLM over real HTTP against LocalBedrock.

The same fault tables as ``test_chat_faults.py`` (``tests/support/scenarios/faults.py``):
every case ends in the right typed error or the right answer, no partial answer is returned
as success, retries are botocore's alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from bedrock_kit import errors
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.faults import (
    ANSWER,
    CORRUPT_FRAMES,
    EXCEPTION_POSITIONS,
    FRAMES,
    HTTP_ERROR_IDS,
    HTTP_ERRORS,
    MODEL,
    STREAM_EXCEPTION_IDS,
    STREAM_EXCEPTIONS,
    answer_events,
    ok,
    operation,
    throttled,
)

MODES = ("chat", "achat", "stream_chat", "astream_chat")
MESSAGES = [ChatMessage(role="user", content="q")]


@pytest.fixture
def server(module_server: LocalBedrock) -> LocalBedrock:
    return module_server


def _llm(server: LocalBedrock, **kwargs: Any) -> BedrockKitLLM:
    return BedrockKitLLM(model=MODEL, **{**client_args(server), "timeout": 2.0, **kwargs})


def _call(llm: BedrockKitLLM, mode: str) -> str:
    """Run one call to completion in ``mode``; returns the answer text."""
    if mode == "chat":
        return str(llm.chat(MESSAGES).message.content)
    if mode == "stream_chat":
        return "".join(r.delta or "" for r in llm.stream_chat(MESSAGES))

    async def run() -> str:
        try:
            if mode == "achat":
                return str((await llm.achat(MESSAGES)).message.content)
            return "".join([r.delta or "" async for r in await llm.astream_chat(MESSAGES)])
        finally:
            await llm.aclose()

    return asyncio.run(run())


# ------------------------------------------------------------------ answers and HTTP errors


@pytest.mark.parametrize("mode", MODES)
def test_answer_is_complete(server, mode):
    server.script(operation(mode), ok(mode))
    assert _call(_llm(server), mode) == ANSWER


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "code", "expected"), HTTP_ERRORS, ids=HTTP_ERROR_IDS)
def test_http_error_maps_to_typed_error(server, mode, status, code, expected):
    server.script(operation(mode), Reply.error(status, code, f"{code} happened"))
    with pytest.raises(expected) as info:
        _call(_llm(server), mode)
    assert info.value.status_code == status
    assert info.value.model_id == MODEL and info.value.request_id
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_throttling_is_retried_then_succeeds(server, mode):
    throttle = throttled()
    server.script(operation(mode), throttle, throttle, ok(mode))
    assert _call(_llm(server, max_retries=2), mode) == ANSWER
    assert len(server.requests) == 3  # two retries, one layer of retries


@pytest.mark.parametrize("mode", MODES)
def test_retries_are_bounded_by_max_retries(server, mode):
    throttle = throttled()
    server.script(operation(mode), throttle, throttle)
    with pytest.raises(errors.ThrottlingError) as info:
        _call(_llm(server, max_retries=1), mode)
    assert len(server.requests) == 2
    assert info.value.retry_attempts == 1


# ------------------------------------------------------------------ broken streams


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize("cut", range(FRAMES))
def test_stream_truncated_at_every_frame_boundary_never_succeeds(server, mode, cut):
    server.script(
        "ConverseStream",
        Reply.events(answer_events(), truncate_after=cut),
    )
    with pytest.raises((errors.IncompleteStreamError, errors.BedrockConnectionError)):
        _call(_llm(server), mode)


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize("frame", CORRUPT_FRAMES)
def test_corrupted_crc(server, mode, frame):
    server.script(
        "ConverseStream",
        Reply.events(answer_events(), corrupt_frame=frame),
    )
    with pytest.raises(errors.IncompleteStreamError):
        _call(_llm(server), mode)


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize(("event", "expected"), STREAM_EXCEPTIONS, ids=STREAM_EXCEPTION_IDS)
@pytest.mark.parametrize("position", EXCEPTION_POSITIONS)
def test_in_stream_exception_is_typed(server, mode, event, expected, position):
    events = answer_events()
    server.script(
        "ConverseStream", Reply.events(events, exception_at=(position, event, f"{event} now"))
    )
    with pytest.raises(expected, match=f"{event} now"):
        _call(_llm(server), mode)
