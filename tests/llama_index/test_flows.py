"""BedrockFlow and BedrockFlowWorkflow: a Prompt Flow in LlamaIndex, sync and native async,
multi-turn through the workflow's InputRequiredEvent / HumanResponseEvent, against
LocalBedrock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.workflow import HumanResponseEvent, InputRequiredEvent, StopEvent

from bedrock_kit.core.flows.runtime import FlowCompleted, FlowOutput, FlowResult, FlowTraceEvent
from bedrock_kit.core.flows.traces import FlowConditionTrace
from bedrock_kit.errors import (
    ConfigurationError,
    FlowExecutionError,
    IncompleteStreamError,
    UnknownArgumentError,
)
from bedrock_kit.llama_index import (
    BedrockFlow,
    BedrockFlowWorkflow,
    FlowQuestionEvent,
    FlowStreamEvent,
)
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply
from bedrock_kit.testing import flows as fb

FLOW, ALIAS = "FLOW123456", "ALIAS12345"


def _flow(server: LocalBedrock, **kwargs: Any) -> BedrockFlow:
    return BedrockFlow(FLOW, ALIAS, max_retries=0, **server.client_kwargs(), **kwargs)


def _answering(request: ReceivedRequest) -> Reply:
    answer = request.body["inputs"][0]["content"]["document"]
    return fb.flow_reply(
        fb.flow_events(f"{answer} jazz songs"), execution_id=request.body["executionId"]
    )


def _asks(question: str = "How many songs?") -> Reply:
    return fb.flow_reply(
        fb.flow_events(input_request=fb.flow_input_request_event(question)), execution_id="exec-li"
    )


def test_invoke_and_stream_sync(server: LocalBedrock) -> None:
    flow = _flow(server)
    assert flow.invoke({"topic": "tides"}).output == {"topic": "tides"}
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                fb.flow_output_event("done"), traces=[fb.condition_trace("Cond_1", "short")]
            )
        ),
    )
    events = list(flow.stream("x"))
    assert [type(e) for e in events] == [FlowTraceEvent, FlowOutput, FlowCompleted]
    assert isinstance(events[0].trace, FlowConditionTrace)


def test_multi_turn_sync_and_async(server: LocalBedrock) -> None:
    server.script("InvokeFlow", _asks(), _answering, _asks(), _answering)
    flow = _flow(server)
    first = flow.invoke("playlist")
    assert flow.resume(first, "Ten").output == "Ten jazz songs"

    async def run() -> FlowResult:
        asked = await flow.ainvoke("playlist")
        final = await flow.aresume(asked, "Six")
        await flow.aclose()
        return final

    final = asyncio.run(run())
    assert (final.output, final.execution_id) == ("Six jazz songs", "exec-li")
    bodies = [r.body for r in server.requests_for("InvokeFlow")]
    assert [b.get("executionId") for b in bodies] == [None, "exec-li", None, "exec-li"]


def test_workflow_streams_flow_events_and_answers_questions(server: LocalBedrock) -> None:
    server.script("InvokeFlow", _asks("How many?"), _asks("Which genre?"), _answering)
    answers = iter(["Ten", "jazz-ish"])

    async def run() -> tuple[FlowResult, list[Any]]:
        workflow = BedrockFlowWorkflow(_flow(server), timeout=20)
        handler = workflow.run(input="Make me a playlist")
        seen = []
        async for event in handler.stream_events():
            seen.append(event)
            if isinstance(event, FlowQuestionEvent):
                handler.ctx.send_event(HumanResponseEvent(response=next(answers)))
        return await handler, seen

    result, seen = asyncio.run(run())
    assert result.output == "jazz-ish jazz songs"
    questions = [e.question for e in seen if isinstance(e, FlowQuestionEvent)]
    assert questions == ["How many?", "Which genre?"]
    assert all(isinstance(e, InputRequiredEvent) for e in seen if isinstance(e, FlowQuestionEvent))
    flow_events = [e.flow_event for e in seen if isinstance(e, FlowStreamEvent)]
    assert isinstance(flow_events[-1], FlowOutput) and isinstance(seen[-1], StopEvent)
    resumed = server.requests_for("InvokeFlow")[2].body
    assert resumed["executionId"] == "exec-li"
    assert resumed["inputs"][0]["nodeInputName"] == "agentInputText"


def test_workflow_stops_after_max_turns(server: LocalBedrock) -> None:
    server.script("InvokeFlow", _asks(), _asks())

    async def run() -> None:
        handler = BedrockFlowWorkflow(_flow(server), max_turns=1, timeout=20).run(input="x")
        async for event in handler.stream_events():
            if isinstance(event, FlowQuestionEvent):
                handler.ctx.send_event(HumanResponseEvent(response="again"))
        await handler

    with pytest.raises(ConfigurationError, match="max_turns=1"):
        asyncio.run(run())


def test_failures_are_typed_async(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(fb.flow_events("x", reason="NODE_FAILURE")),
        fb.flow_reply(fb.flow_events("x"), truncate_after=1),
    )
    flow = _flow(server)

    async def run(expected: type[Exception]) -> None:
        with pytest.raises(expected):
            await flow.ainvoke("x")

    asyncio.run(run(FlowExecutionError))
    asyncio.run(run(IncompleteStreamError))


def test_bad_configuration_is_refused(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="flow_alias_id"):
        BedrockFlow(FLOW, "bad alias")
    with pytest.raises(UnknownArgumentError):
        BedrockFlow(FLOW, ALIAS, enable_traces=True)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="needs a BedrockFlow"):
        BedrockFlowWorkflow("FLOW123456")  # type: ignore[arg-type]
    assert server.requests == []
