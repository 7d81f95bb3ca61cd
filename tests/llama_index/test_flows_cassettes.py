"""Prompt Flows and prompt publishing from LlamaIndex, replayed from cassettes (recorded
through LocalBedrock with real HTTP; ``--record-mode=rewrite`` with credentials re-records
them against Bedrock). Sync and async, the workflow included."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import ChatPromptTemplate
from llama_index.core.workflow import HumanResponseEvent

from bedrock_kit.core.flows.traces import FlowNodeActionTrace
from bedrock_kit.errors import FlowExecutionError
from bedrock_kit.llama_index import (
    BedrockFlow,
    BedrockFlowWorkflow,
    FlowQuestionEvent,
    apublish_prompt,
    load_prompt,
)
from bedrock_kit.testing import ReceivedRequest, Reply
from bedrock_kit.testing import flows as fb

pytestmark = pytest.mark.vcr

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
MODEL = "amazon.nova-micro-v1:0"


def _flow(bedrock) -> BedrockFlow:
    return BedrockFlow(
        FLOW, ALIAS, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, max_retries=0
    )


def _answer(request: ReceivedRequest) -> Reply:
    answer = request.body["inputs"][0]["content"]["document"]
    return fb.flow_reply(
        fb.flow_events(f"A playlist of {answer}"), execution_id=request.body["executionId"]
    )


def test_flow_outputs_and_traces(bedrock) -> None:
    bedrock.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                fb.flow_output_event({"answer": "twice a day"}),
                traces=[fb.node_action_trace("Prompt_1", request_id="req-cassette")],
            ),
            execution_id="exec-cassette-1",
        ),
    )
    result = _flow(bedrock).invoke({"question": "tides"})
    assert result.output == {"answer": "twice a day"}
    (trace,) = result.traces
    assert isinstance(trace, FlowNodeActionTrace) and trace.request_id == "req-cassette"


def test_workflow_answers_the_flow_question(bedrock) -> None:
    bedrock.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(input_request=fb.flow_input_request_event("How many songs?")),
            execution_id="exec-cassette-2",
        ),
        _answer,
    )

    async def run():
        flow = _flow(bedrock)
        handler = BedrockFlowWorkflow(flow, timeout=20).run(input="Make me a playlist")
        async for event in handler.stream_events():
            if isinstance(event, FlowQuestionEvent):
                handler.ctx.send_event(HumanResponseEvent(response="ten songs"))
        result = await handler
        await flow.aclose()
        return result

    result = asyncio.run(run())
    assert (result.output, result.execution_id) == ("A playlist of ten songs", "exec-cassette-2")


def test_flow_failure_event_async(bedrock) -> None:
    bedrock.script(
        "InvokeFlow",
        fb.flow_reply(
            [fb.flow_output_event("partial"), fb.flow_completion_event()],
            exception_at=(1, "badGatewayException", "the Lex node is unreachable"),
            execution_id="exec-cassette-3",
        ),
    )

    async def run() -> None:
        flow = _flow(bedrock)
        try:
            await flow.ainvoke("x")
        finally:
            await flow.aclose()

    with pytest.raises(FlowExecutionError, match="unreachable") as caught:
        asyncio.run(run())
    assert caught.value.partial.output == "partial"


def test_publish_then_load_round_trip_async(bedrock) -> None:
    template = ChatPromptTemplate(
        [
            ChatMessage(role=MessageRole.SYSTEM, content='Reply as JSON {"a": 1}, {tone}.'),
            ChatMessage(role=MessageRole.USER, content="{question}"),
        ]
    )
    args = {"endpoint_url": bedrock.endpoint_url, "region_name": bedrock.region}
    published = asyncio.run(
        apublish_prompt(template, "cassette-li", model=MODEL, max_tokens=40, **args)
    )
    assert published.new_version and published.version == "1"
    loaded = load_prompt(published.id, "1", **args)
    values = {"tone": "dry", "question": "why?"}
    assert loaded.format_messages(**values) == template.format_messages(**values)
