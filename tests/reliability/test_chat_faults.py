"""Fault matrix for ChatBedrockKit over real HTTP against LocalBedrock.

Every case ends, within a bounded time, in the right typed error or the right answer; no
partial answer is returned as success; retries are botocore's alone and counted. The fault
tables are shared with the LlamaIndex matrix: ``tests/support/scenarios/faults.py``.
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
from tests.support.scenarios import client_args
from tests.support.scenarios.faults import (
    ANSWER,
    BAD_TOOL_JSON,
    BAD_TOOL_STREAM,
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

MODES = ("invoke", "ainvoke", "stream", "astream")


@pytest.fixture
def server(module_server: LocalBedrock) -> LocalBedrock:
    return module_server


def _model(server: LocalBedrock, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(model=MODEL, **{**client_args(server), "timeout": 2.0, **kwargs})


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


# ------------------------------------------------------------------ HTTP errors


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "code", "expected"), HTTP_ERRORS, ids=HTTP_ERROR_IDS)
def test_http_error_maps_to_typed_error(server, mode, status, code, expected):
    server.script(operation(mode), Reply.error(status, code, f"{code} happened"))
    with pytest.raises(expected) as info:
        _call(_model(server), mode)
    assert info.value.status_code == status
    assert info.value.model_id == MODEL and info.value.request_id
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_throttling_is_retried_then_succeeds(server, mode):
    throttle = throttled()
    server.script(operation(mode), throttle, throttle, ok(mode))
    assert _call(_model(server, max_retries=2), mode) == ANSWER
    assert len(server.requests) == 3  # two retries, one layer of retries


@pytest.mark.parametrize("mode", MODES)
def test_retries_are_bounded_by_max_retries(server, mode):
    throttle = throttled()
    server.script(operation(mode), throttle, throttle)
    with pytest.raises(errors.ThrottlingError) as info:
        _call(_model(server, max_retries=1), mode)
    assert len(server.requests) == 2
    assert info.value.retry_attempts == 1


# ------------------------------------------------------------------ transport faults


@pytest.mark.parametrize("mode", MODES)
def test_connection_reset_before_response(server, mode):
    server.script(operation(mode), Reply.reset())
    with pytest.raises((errors.BedrockConnectionError, errors.IncompleteStreamError)):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", ("invoke", "ainvoke"))
def test_connection_reset_during_body(server, mode):
    server.script(operation(mode), Reply.reset(after_bytes=20, reply=ok(mode)))
    with pytest.raises(
        (errors.BedrockConnectionError, errors.IncompleteStreamError, errors.MalformedResponseError)
    ):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout(server, mode):
    server.script(operation(mode), ok(mode, delay=1.5))
    with pytest.raises((errors.ModelTimeoutError, errors.BedrockConnectionError)):
        _call(_model(server, timeout=0.3), mode)


# ------------------------------------------------------------------ broken streams


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize("cut", range(FRAMES))
def test_stream_truncated_at_every_frame_boundary_never_succeeds(server, mode, cut):
    server.script(
        "ConverseStream",
        Reply.events(answer_events(), truncate_after=cut),
    )
    with pytest.raises((errors.IncompleteStreamError, errors.BedrockConnectionError)):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize("frame", CORRUPT_FRAMES)
def test_corrupted_crc(server, mode, frame):
    server.script(
        "ConverseStream",
        Reply.events(answer_events(), corrupt_frame=frame),
    )
    with pytest.raises(errors.IncompleteStreamError):
        _call(_model(server), mode)


@pytest.mark.parametrize("mode", ("stream", "astream"))
@pytest.mark.parametrize(("event", "expected"), STREAM_EXCEPTIONS, ids=STREAM_EXCEPTION_IDS)
@pytest.mark.parametrize("position", EXCEPTION_POSITIONS)
def test_in_stream_exception_at_each_position(server, mode, event, expected, position):
    events = answer_events()
    server.script(
        "ConverseStream", Reply.events(events, exception_at=(position, event, f"{event} now"))
    )
    with pytest.raises(expected, match=f"{event} now"):
        _call(_model(server), mode)


# ------------------------------------------------------------------ bad model output


@pytest.mark.parametrize("mode", ("stream", "astream"))
def test_truncated_tool_json_is_a_typed_error_keeping_the_raw_text(server, mode):
    server.script("ConverseStream", Reply.events(BAD_TOOL_STREAM))
    with pytest.raises(errors.MalformedResponseError) as info:
        _call(_model(server), mode)
    assert info.value.raw == BAD_TOOL_JSON


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
