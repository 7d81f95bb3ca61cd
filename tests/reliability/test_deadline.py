"""``deadline=`` bounds a whole call however the server trickles, retries included.

A HostileServer trickles one byte every half second: botocore's read timeout (1 s here)
never fires, since every read returns within it. The deadline must stop the call anyway,
at the deadline, with a typed DeadlineExceededError (a ModelTimeoutError), in both
frameworks, sync and async, invoke and stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from bedrock_kit.errors import ConfigurationError, DeadlineExceededError, ModelTimeoutError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from tests.support.hostile import (
    DUMMY_KEYS,
    EVENT_STREAM,
    HostileServer,
    Script,
    event,
    json_reply,
)

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
DEADLINE = 2.0
SLACK = 1.0  # thread wake-ups and event-loop scheduling on a loaded machine (2 cores shared)
REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "a trickled answer"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
}
FRAMES = [
    event("messageStart", {"role": "assistant"}),
    *[event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "word "}})] * 6,
    event("contentBlockStop", {"contentBlockIndex": 0}),
    event("messageStop", {"stopReason": "end_turn"}),
    event("metadata", {"usage": {"inputTokens": 1, "outputTokens": 6, "totalTokens": 7}}),
]
MODES = ("invoke", "ainvoke", "stream", "astream")


def _trickle(body: bytes, content_type: str, every: float = 0.5) -> Script:
    return Script(
        headers={"content-type": content_type},
        chunks=[(body[i : i + 1], every) for i in range(len(body))],
    )


def _trickled_reply() -> Script:
    return _trickle(json.dumps(REPLY).encode(), "application/json")


def _trickled_stream() -> Script:
    return _trickle(b"".join(FRAMES), EVENT_STREAM)


def _model(framework: str, server: HostileServer, **kwargs: Any) -> Any:
    settings = {**DUMMY_KEYS, "endpoint_url": server.url, "timeout": 1, "max_retries": 0}
    cls = ChatBedrockKit if framework == "langchain" else BedrockKitLLM
    return cls(model=MODEL, **{**settings, **kwargs})


def _call(llm: Any, mode: str, clock: list[float] | None = None, **kwargs: Any) -> str:
    """One call in ``mode`` through the framework's own API; returns the answer text.

    With ``clock``, the client is built first (a second on a loaded machine, not what is
    measured) and the call's start and end times are appended to it.
    """
    clock = [] if clock is None else clock
    if mode in ("invoke", "stream"):
        llm.runtime.pool.client  # noqa: B018 - built before the clock starts
        clock.append(time.monotonic())
        try:
            return _sync_call(llm, mode, **kwargs)
        finally:
            clock.append(time.monotonic())

    async def run() -> str:
        await llm.runtime.pool.async_client()
        clock.append(time.monotonic())
        try:
            return await _async_call(llm, mode, **kwargs)
        finally:
            clock.append(time.monotonic())
            await llm.aclose()

    return asyncio.run(run())


def _sync_call(llm: Any, mode: str, **kwargs: Any) -> str:
    if isinstance(llm, ChatBedrockKit):
        message = [HumanMessage("hi")]
        if mode == "invoke":
            return str(llm.invoke(message, **kwargs).content)
        return "".join(str(c.content) for c in llm.stream(message, **kwargs))
    messages = [ChatMessage(role=MessageRole.USER, content="hi")]
    if mode == "invoke":
        return str(llm.chat(messages, **kwargs).message.content)
    return "".join(r.delta or "" for r in llm.stream_chat(messages, **kwargs))


async def _async_call(llm: Any, mode: str, **kwargs: Any) -> str:
    if isinstance(llm, ChatBedrockKit):
        message = [HumanMessage("hi")]
        if mode == "ainvoke":
            return str((await llm.ainvoke(message, **kwargs)).content)
        return "".join([str(c.content) async for c in llm.astream(message, **kwargs)])
    messages = [ChatMessage(role=MessageRole.USER, content="hi")]
    if mode == "ainvoke":
        return str((await llm.achat(messages, **kwargs)).message.content)
    return "".join([r.delta or "" async for r in await llm.astream_chat(messages, **kwargs)])


def _deadline_threads() -> list[threading.Thread]:
    """The sync deadline's worker threads and watchdog timers still alive."""
    names = ("bedrock-kit-deadline", "bedrock-kit-watchdog")
    return [t for t in threading.enumerate() if t.name in names]


def _wait_for_workers(timeout: float = 3.0) -> None:
    """The sync worker stops soon after the deadline: the watchdog cut its socket."""
    stop = time.monotonic() + timeout
    while _deadline_threads() and time.monotonic() < stop:
        time.sleep(0.05)
    assert _deadline_threads() == [], "a deadline worker outlived its call"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_a_trickling_server_is_stopped_at_the_deadline(hostile, framework, mode):
    hostile.always(_trickled_stream() if "stream" in mode else _trickled_reply())
    llm = _model(framework, hostile, deadline=DEADLINE)
    clock: list[float] = []
    with pytest.raises(DeadlineExceededError) as info:
        _call(llm, mode, clock)
    elapsed = clock[1] - clock[0]
    assert DEADLINE - 0.1 <= elapsed <= DEADLINE + SLACK, elapsed
    error = info.value
    assert isinstance(error, ModelTimeoutError)
    assert error.deadline == DEADLINE
    assert f"deadline of {DEADLINE:g} s" in str(error)
    assert error.model_id == MODEL
    assert len(hostile.requests) == 1
    _wait_for_workers()


@pytest.mark.parametrize("mode", ["invoke", "astream"])
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_the_per_call_deadline_wins(hostile, framework, mode):
    hostile.always(_trickled_stream() if "stream" in mode else _trickled_reply())
    llm = _model(framework, hostile)  # no deadline on the model
    clock: list[float] = []
    with pytest.raises(DeadlineExceededError):
        _call(llm, mode, clock, deadline=DEADLINE)
    assert clock[1] - clock[0] <= DEADLINE + SLACK
    _wait_for_workers()


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_retries_are_inside_the_deadline(hostile, framework, mode):
    # 503 forever with many retries and botocore's backoff sleeps (standard mode: up to
    # 1 s, 2 s, 4 s...): the deadline still holds. Long enough for a first retry even when
    # building the client takes a second on a loaded machine.
    hostile.always(json_reply({"message": "unavailable"}, status=503))
    llm = _model(framework, hostile, max_retries=20, deadline=3.0)
    clock: list[float] = []
    with pytest.raises(DeadlineExceededError):
        _call(llm, mode, clock)
    assert clock[1] - clock[0] <= 3.0 + SLACK
    assert len(hostile.requests) >= 2, "botocore retried within the deadline"
    # A sync worker may be inside a backoff sleep begun before the deadline (standard mode:
    # up to 2**attempt s); it exits when the sleep ends, refused by the before-send hook.
    _wait_for_workers(timeout=20)


@pytest.mark.parametrize("mode", MODES)
def test_a_silent_server_is_stopped_at_the_deadline(hostile, mode):
    # No status line for 8 s and a read timeout longer than the deadline.
    hostile.always(Script(delay=8.0, headers={"content-type": "application/json"}, body=b"{}"))
    llm = _model("langchain", hostile, timeout=30, deadline=DEADLINE)
    clock: list[float] = []
    with pytest.raises(DeadlineExceededError):
        _call(llm, mode, clock)
    assert clock[1] - clock[0] <= DEADLINE + SLACK


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_a_fast_answer_within_the_deadline_is_unchanged(hostile, framework, mode):
    if "stream" in mode:
        hostile.always(Script(headers={"content-type": EVENT_STREAM}, body=b"".join(FRAMES)))
        expected = "word " * 6
    else:
        hostile.always(json_reply(REPLY))
        expected = "a trickled answer"
    assert _call(_model(framework, hostile, deadline=10), mode) == expected
    time.sleep(0.1)
    # Watchdog timers and the worker are gone once the call returned (not 10 s later).
    assert _deadline_threads() == []


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), "5", True])
def test_bad_deadlines_are_refused_before_sending(hostile, value):
    hostile.always(json_reply(REPLY))
    with pytest.raises(ConfigurationError, match="deadline"):
        _call(_model("langchain", hostile), "invoke", deadline=value)
    with pytest.raises(ConfigurationError, match="deadline"):
        _call(_model("llama_index", hostile), "invoke", deadline=value)
    assert hostile.requests == []
