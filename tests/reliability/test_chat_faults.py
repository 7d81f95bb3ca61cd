"""Fault matrix for ChatBedrockKit over real HTTP against LocalBedrock.

Every case ends, within a bounded time, in the right typed error or the right answer; no
partial answer is returned as success; retries are botocore's alone and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit import errors
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
ANSWER = "a complete answer in several small pieces"
MODES = ("invoke", "ainvoke", "stream", "astream")


@pytest.fixture(scope="module")
def server():
    with LocalBedrock() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server):
    server.clear()
    yield
    assert server.pending() == 0, "a scripted reply was never requested"


def _model(server: LocalBedrock, **kwargs: Any) -> ChatBedrockKit:
    settings = {"max_retries": 0, "timeout": 2.0, **kwargs}
    return ChatBedrockKit(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **settings
    )


def _call(model: ChatBedrockKit, mode: str) -> str:
    """Run one call to completion in ``mode``; returns the answer text."""
    if mode == "invoke":
        return str(model.invoke("q").content)
    if mode == "stream":
        return "".join(str(c.content) for c in model.stream("q"))

    async def run() -> str:
        try:
            if mode == "ainvoke":
                return str((await model.ainvoke("q")).content)
            return "".join([str(c.content) async for c in model.astream("q")])
        finally:
            await model.aclose()

    return asyncio.run(run())


def _ok(mode: str) -> Reply:
    if mode.endswith("stream"):
        return Reply.events(converse_stream_events(ANSWER, chunk_chars=6))
    return Reply.json(converse_reply(ANSWER))


def _operation(mode: str) -> str:
    return "ConverseStream" if mode.endswith("stream") else "Converse"


# ------------------------------------------------------------------ HTTP errors


_HTTP_ERRORS: list[tuple[int, str, type[errors.BedrockKitError]]] = [
    (429, "ThrottlingException", errors.ThrottlingError),
    (500, "InternalServerException", errors.InternalServerError),
    (503, "ServiceUnavailableException", errors.ServiceUnavailableError),
    (408, "ModelTimeoutException", errors.ModelTimeoutError),
    (424, "ModelErrorException", errors.ModelError),
    (429, "ModelNotReadyException", errors.ModelNotReadyError),
    (400, "ValidationException", errors.BedrockValidationError),
    (403, "AccessDeniedException", errors.AccessDeniedError),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "code", "expected"), _HTTP_ERRORS, ids=[c for _, c, _ in _HTTP_ERRORS]
)
def test_http_error_maps_to_typed_error(server, mode, status, code, expected):
    server.script(_operation(mode), Reply.error(status, code, f"{code} happened"))
    with pytest.raises(expected) as info:
        _call(_model(server), mode)
    assert info.value.status_code == status
    assert info.value.model_id == MODEL and info.value.request_id
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_throttling_is_retried_then_succeeds(server, mode):
    throttle = Reply.error(429, "ThrottlingException", "slow down")
    server.script(_operation(mode), throttle, throttle, _ok(mode))
    assert _call(_model(server, max_retries=2), mode) == ANSWER
    assert len(server.requests) == 3  # two retries, one layer of retries


@pytest.mark.parametrize("mode", MODES)
def test_retries_are_bounded_by_max_retries(server, mode):
    throttle = Reply.error(429, "ThrottlingException", "slow down")
    server.script(_operation(mode), throttle, throttle)
    with pytest.raises(errors.ThrottlingError) as info:
        _call(_model(server, max_retries=1), mode)
    assert len(server.requests) == 2
    assert info.value.retry_attempts == 1


# ------------------------------------------------------------------ transport faults


@pytest.mark.parametrize("mode", MODES)
def test_connection_reset_before_response(server, mode):
    server.script(_operation(mode), Reply.reset())
    with pytest.raises((errors.BedrockConnectionError, errors.IncompleteStreamError)):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", ("invoke", "ainvoke"))
def test_connection_reset_during_body(server, mode):
    server.script(_operation(mode), Reply.reset(after_bytes=20, reply=_ok(mode)))
    with pytest.raises(
        (errors.BedrockConnectionError, errors.IncompleteStreamError, errors.MalformedResponseError)
    ):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout(server, mode):
    slow = (
        Reply.json(converse_reply(ANSWER), delay=1.5)
        if not mode.endswith("stream")
        else Reply.events(converse_stream_events(ANSWER), delay=1.5)
    )
    server.script(_operation(mode), slow)
    with pytest.raises((errors.ModelTimeoutError, errors.BedrockConnectionError)):
        _call(_model(server, timeout=0.3), mode)


# ------------------------------------------------------------------ broken streams


def _frames() -> int:
    return len(converse_stream_events(ANSWER, chunk_chars=6))


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize("cut", range(_frames()))
def test_stream_truncated_at_every_frame_boundary_never_succeeds(server, mode, cut):
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events(ANSWER, chunk_chars=6), truncate_after=cut),
    )
    with pytest.raises((errors.IncompleteStreamError, errors.BedrockConnectionError)):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize("frame", [0, 3, _frames() - 1])
def test_corrupted_crc(server, mode, frame):
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events(ANSWER, chunk_chars=6), corrupt_frame=frame),
    )
    with pytest.raises(errors.IncompleteStreamError):
        _call(_model(server), mode)


_STREAM_EXCEPTIONS: list[tuple[str, type[errors.BedrockKitError]]] = [
    ("throttlingException", errors.ThrottlingError),
    ("modelStreamErrorException", errors.ModelStreamError),
    ("validationException", errors.BedrockValidationError),
    ("internalServerException", errors.InternalServerError),
    ("serviceUnavailableException", errors.ServiceUnavailableError),
]


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize(
    ("event", "expected"), _STREAM_EXCEPTIONS, ids=[e for e, _ in _STREAM_EXCEPTIONS]
)
@pytest.mark.parametrize("position", [0, 2, _frames() - 1])
def test_in_stream_exception_at_each_position(server, mode, event, expected, position):
    events = converse_stream_events(ANSWER, chunk_chars=6)
    server.script(
        "ConverseStream", Reply.events(events, exception_at=(position, event, f"{event} now"))
    )
    with pytest.raises(expected, match=f"{event} now"):
        _call(_model(server), mode)


# ------------------------------------------------------------------ bad model output


def _stream_with(events: list[dict[str, Any]]) -> Reply:
    return Reply.events(events)


_BAD_TOOL_STREAM = [
    {"messageStart": {"role": "assistant"}},
    {
        "contentBlockStart": {
            "contentBlockIndex": 0,
            "start": {"toolUse": {"toolUseId": "t", "name": "f"}},
        }
    },
    {
        "contentBlockDelta": {
            "contentBlockIndex": 0,
            "delta": {"toolUse": {"input": '{"city": "Os'}},
        }
    },
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
    },
]


@pytest.mark.parametrize("mode", ("stream", "astream"))
def test_truncated_tool_json_is_a_typed_error_keeping_the_raw_text(server, mode):
    server.script("ConverseStream", _stream_with(_BAD_TOOL_STREAM))
    with pytest.raises(errors.MalformedResponseError) as info:
        _call(_model(server), mode)
    assert info.value.raw == '{"city": "Os'


@pytest.mark.parametrize("mode", ("invoke", "ainvoke"))
def test_unknown_blocks_and_stop_reasons_are_kept_not_crashing(server, mode):
    body = converse_reply(ANSWER)
    body["output"]["message"]["content"].append({"futureBlock": {"x": 1}})
    body["stopReason"] = "some_new_reason"
    server.script("Converse", Reply.json(body))
    model = _model(server)
    call: Callable[[], Any] = (
        (lambda: model.invoke("q"))
        if mode == "invoke"
        else (lambda: asyncio.run(model.ainvoke("q")))
    )
    message = call()
    assert message.response_metadata["stop_reason"] == "unknown"
    assert message.response_metadata["raw_stop_reason"] == "some_new_reason"
    # botocore keeps only the name of a union member its model lacks; so do we, visibly.
    assert {"futureBlock": None} in message.content


@pytest.mark.parametrize("mode", ("invoke", "stream"))
def test_empty_answer_is_returned_as_empty_not_an_error(server, mode):
    if mode == "invoke":
        server.script(
            "Converse",
            Reply.json(
                {**converse_reply(""), "output": {"message": {"role": "assistant", "content": []}}}
            ),
        )
    else:
        events = [e for e in converse_stream_events("x") if "contentBlockDelta" not in e]
        server.script("ConverseStream", Reply.events(events))
    assert _call(_model(server), mode) == ""
