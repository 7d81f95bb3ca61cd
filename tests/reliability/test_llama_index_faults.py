"""Fault matrix for the LlamaIndex BedrockKitLLM over real HTTP against LocalBedrock.

A smaller mirror of ``test_chat_faults.py``: every case ends in the right typed error or the
right answer, no partial answer is returned as success, retries are botocore's alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from bedrock_kit import errors
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
ANSWER = "a complete answer in several small pieces"
MODES = ("chat", "achat", "stream_chat", "astream_chat")
MESSAGES = [ChatMessage(role="user", content="q")]


@pytest.fixture(scope="module")
def server():
    with LocalBedrock() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server):
    server.clear()
    yield
    assert server.pending() == 0, "a scripted reply was never requested"


def _llm(server: LocalBedrock, **kwargs: Any) -> BedrockKitLLM:
    settings = {"max_retries": 0, "timeout": 2.0, **kwargs}
    return BedrockKitLLM(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **settings
    )


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


def _streaming(mode: str) -> bool:
    return mode.endswith("stream_chat")


def _ok(mode: str) -> Reply:
    if _streaming(mode):
        return Reply.events(converse_stream_events(ANSWER, chunk_chars=6))
    return Reply.json(converse_reply(ANSWER))


def _operation(mode: str) -> str:
    return "ConverseStream" if _streaming(mode) else "Converse"


def _frames() -> int:
    return len(converse_stream_events(ANSWER, chunk_chars=6))


# ------------------------------------------------------------------ answers and HTTP errors


@pytest.mark.parametrize("mode", MODES)
def test_answer_is_complete(server, mode):
    server.script(_operation(mode), _ok(mode))
    assert _call(_llm(server), mode) == ANSWER


_HTTP_ERRORS: list[tuple[int, str, type[errors.BedrockKitError]]] = [
    (429, "ThrottlingException", errors.ThrottlingError),
    (500, "InternalServerException", errors.InternalServerError),
    (503, "ServiceUnavailableException", errors.ServiceUnavailableError),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "code", "expected"), _HTTP_ERRORS, ids=[c for _, c, _ in _HTTP_ERRORS]
)
def test_http_error_maps_to_typed_error(server, mode, status, code, expected):
    server.script(_operation(mode), Reply.error(status, code, f"{code} happened"))
    with pytest.raises(expected) as info:
        _call(_llm(server), mode)
    assert info.value.status_code == status
    assert info.value.model_id == MODEL and info.value.request_id
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_throttling_is_retried_then_succeeds(server, mode):
    throttle = Reply.error(429, "ThrottlingException", "slow down")
    server.script(_operation(mode), throttle, throttle, _ok(mode))
    assert _call(_llm(server, max_retries=2), mode) == ANSWER
    assert len(server.requests) == 3  # two retries, one layer of retries


@pytest.mark.parametrize("mode", MODES)
def test_retries_are_bounded_by_max_retries(server, mode):
    throttle = Reply.error(429, "ThrottlingException", "slow down")
    server.script(_operation(mode), throttle, throttle)
    with pytest.raises(errors.ThrottlingError) as info:
        _call(_llm(server, max_retries=1), mode)
    assert len(server.requests) == 2
    assert info.value.retry_attempts == 1


# ------------------------------------------------------------------ broken streams


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize("cut", range(_frames()))
def test_stream_truncated_at_every_frame_boundary_never_succeeds(server, mode, cut):
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events(ANSWER, chunk_chars=6), truncate_after=cut),
    )
    with pytest.raises((errors.IncompleteStreamError, errors.BedrockConnectionError)):
        _call(_llm(server), mode)


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize("frame", [0, 3, _frames() - 1])
def test_corrupted_crc(server, mode, frame):
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events(ANSWER, chunk_chars=6), corrupt_frame=frame),
    )
    with pytest.raises(errors.IncompleteStreamError):
        _call(_llm(server), mode)


_STREAM_EXCEPTIONS: list[tuple[str, type[errors.BedrockKitError]]] = [
    ("throttlingException", errors.ThrottlingError),
    ("modelStreamErrorException", errors.ModelStreamError),
    ("internalServerException", errors.InternalServerError),
]


@pytest.mark.parametrize("mode", ("stream_chat", "astream_chat"))
@pytest.mark.parametrize(
    ("event", "expected"), _STREAM_EXCEPTIONS, ids=[e for e, _ in _STREAM_EXCEPTIONS]
)
@pytest.mark.parametrize("position", [0, _frames() - 1])
def test_in_stream_exception_is_typed(server, mode, event, expected, position):
    events = converse_stream_events(ANSWER, chunk_chars=6)
    server.script(
        "ConverseStream", Reply.events(events, exception_at=(position, event, f"{event} now"))
    )
    with pytest.raises(expected, match=f"{event} now"):
        _call(_llm(server), mode)
