"""Prompt Flows against a hostile server, over real HTTP, both frameworks, sync and async.

A cut stream, a stream that never completes, an event payload that is not JSON, an event
type this version does not know, a trace union with no member, an HTML 200 and a flow
failure event must each end in a typed error naming the flow, never in a silent gap or a
result that looks complete. Each case has a control: the documented stream succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bedrock_kit.core.flows.runtime import FlowCompleted
from bedrock_kit.errors import (
    BedrockKitError,
    FlowExecutionError,
    IncompleteStreamError,
    MalformedResponseError,
)
from bedrock_kit.langchain import BedrockFlowRunnable
from bedrock_kit.llama_index import BedrockFlow
from tests.support.hostile import (
    DUMMY_KEYS,
    EVENT_STREAM,
    HostileServer,
    Script,
    event,
    exception_event,
    raw_event,
    stream_reply,
)

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
OUTPUT = event(
    "flowOutputEvent",
    {"nodeName": "FlowOutputNode", "nodeType": "FlowOutputNode", "content": {"document": "ok"}},
)
DONE = event("flowCompletionEvent", {"completionReason": "SUCCESS"})
HEADERS = {"x-amz-bedrock-flow-execution-id": "exec-hostile"}


def _stream(*frames: bytes, cut_after: int | None = None) -> Script:
    script = stream_reply(frames, cut_after=cut_after)
    script.headers = {**script.headers, **HEADERS}
    return script


CASES: dict[str, tuple[Script, type[BedrockKitError], str]] = {
    "cut-mid-stream": (
        _stream(OUTPUT, DONE, cut_after=len(OUTPUT) + 7),
        IncompleteStreamError,
        "without flowCompletionEvent|stream broke",
    ),
    "never-completes": (_stream(OUTPUT), IncompleteStreamError, "flowCompletionEvent"),
    "payload-not-json": (
        _stream(raw_event("flowOutputEvent", b"<html>no</html>"), DONE),
        MalformedResponseError,
        "flowOutputEvent has no members",
    ),
    "unknown-event-type": (
        _stream(OUTPUT, event("flowSurpriseEvent", {"what": "new"}), DONE),
        MalformedResponseError,
        "flowSurpriseEvent.*not one this version knows",
    ),
    "trace-without-member": (
        _stream(event("flowTraceEvent", {"trace": {}}), OUTPUT, DONE),
        MalformedResponseError,
        "one and only one member",
    ),
    "html-200": (
        Script(body=b"<html>Sign in</html>", headers={"content-type": "text/html"}),
        MalformedResponseError,
        "not an event stream",
    ),
    "dependency-failed": (
        _stream(OUTPUT, exception_event("dependencyFailedException", "Lambda node timed out")),
        FlowExecutionError,
        "Lambda node timed out",
    ),
    "unknown-completion-reason": (
        _stream(OUTPUT, event("flowCompletionEvent", {"completionReason": "ABORTED"})),
        FlowExecutionError,
        "ABORTED",
    ),
}

MODES = ("langchain-invoke", "langchain-astream", "llama-invoke", "llama-astream")


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: HostileServer) -> Iterator[None]:
    yield
    leftover = list(server._scripts)
    server._scripts.clear()
    assert not leftover, "a scripted reply was never requested"


def _args(server: HostileServer) -> dict[str, Any]:
    return {"endpoint_url": server.url, "max_retries": 0, "timeout": 5, **DUMMY_KEYS}


def _run(mode: str, server: HostileServer) -> list[Any]:
    """Every event (or the one result) the entry point handed out before it ended."""
    seen: list[Any] = []
    if mode.startswith("langchain"):
        flow: Any = BedrockFlowRunnable(flow_id=FLOW, flow_alias_id=ALIAS, **_args(server))
    else:
        flow = BedrockFlow(FLOW, ALIAS, **_args(server))
    if mode.endswith("invoke"):
        seen.append(flow.invoke("go"))
        return seen

    async def consume() -> None:
        try:
            async for item in flow.astream("go"):
                seen.append(item)
        finally:
            await flow.aclose()

    try:
        asyncio.run(consume())
    except BedrockKitError as exc:
        exc.seen = seen  # type: ignore[attr-defined]
        raise
    return seen


@pytest.mark.parametrize("mode", MODES)
def test_control_the_documented_stream_succeeds(server: HostileServer, mode: str) -> None:
    server.push(_stream(OUTPUT, DONE))
    seen = _run(mode, server)
    result = seen[-1].result if isinstance(seen[-1], FlowCompleted) else seen[-1]
    assert (result.output, result.execution_id) == ("ok", "exec-hostile")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_faults_are_typed_errors_naming_the_flow(
    server: HostileServer, mode: str, case: str
) -> None:
    script, expected, match = CASES[case]
    server.push(script)
    run: Callable[[], list[Any]] = lambda: _run(mode, server)  # noqa: E731
    with pytest.raises(expected, match=match) as caught:
        run()
    error = caught.value
    assert error.model_id == f"{FLOW}/{ALIAS}", error
    assert error.resource == "flow"
    # A stream never hands out a completed result before the error.
    seen = getattr(error, "seen", [])
    assert not any(isinstance(item, FlowCompleted) for item in seen)
    if isinstance(error, FlowExecutionError):
        assert error.partial is not None and error.partial.output == "ok"


def test_content_type_is_checked_before_reading(server: HostileServer) -> None:
    # A JSON 200 where an event stream belongs is refused, not read as frames.
    server.push(Script(body=b'{"ok": true}', headers={"content-type": "application/json"}))
    with pytest.raises(MalformedResponseError, match="not an event stream"):
        BedrockFlow(FLOW, ALIAS, **_args(server)).invoke("go")
    assert EVENT_STREAM.startswith("application/vnd.amazon.eventstream")
