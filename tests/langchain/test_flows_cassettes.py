"""Prompt Flows and prompt publishing from LangChain, replayed from cassettes (recorded
through LocalBedrock with real HTTP; ``--record-mode=rewrite`` with credentials re-records
them against Bedrock). Sync and async."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.prompts import ChatPromptTemplate

from bedrock_kit.core.flows.traces import FlowConditionTrace, FlowNodeInputTrace
from bedrock_kit.errors import FlowExecutionError
from bedrock_kit.langchain import BedrockFlowRunnable, aload_prompt, load_prompt, publish_prompt
from bedrock_kit.testing import ReceivedRequest, Reply
from bedrock_kit.testing import flows as fb

pytestmark = pytest.mark.vcr

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
MODEL = "amazon.nova-micro-v1:0"


def _flow(bedrock) -> BedrockFlowRunnable:
    return BedrockFlowRunnable(
        flow_id=FLOW,
        flow_alias_id=ALIAS,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        max_retries=0,
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
                fb.flow_output_event("Tides rise twice a day."),
                traces=[
                    fb.node_input_trace("Prompt_1", {"topic": "tides"}),
                    fb.condition_trace("Condition_1", "isQuestion"),
                ],
            ),
            execution_id="exec-cassette-1",
        ),
    )
    result = _flow(bedrock).invoke("tides")
    assert result.output == "Tides rise twice a day."
    assert result.execution_id == "exec-cassette-1"
    assert [type(t) for t in result.traces] == [FlowNodeInputTrace, FlowConditionTrace]


def test_multi_turn_flow_async(bedrock) -> None:
    bedrock.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(input_request=fb.flow_input_request_event("How many songs?")),
            execution_id="exec-cassette-2",
        ),
        _answer,
    )
    flow = _flow(bedrock)

    async def run():
        first = await flow.ainvoke("Make me a playlist")
        final = await flow.aresume(first, "ten songs")
        await flow.aclose()
        return first, final

    first, final = asyncio.run(run())
    assert first.needs_input and first.input_request.content == "How many songs?"
    assert (final.output, final.execution_id) == ("A playlist of ten songs", "exec-cassette-2")


def test_flow_failure_event(bedrock) -> None:
    bedrock.script(
        "InvokeFlow",
        fb.flow_reply(
            [fb.flow_output_event("partial"), fb.flow_completion_event()],
            exception_at=(1, "dependencyFailedException", "the Lambda node failed"),
            execution_id="exec-cassette-3",
        ),
    )
    with pytest.raises(FlowExecutionError, match="the Lambda node failed") as caught:
        _flow(bedrock).invoke("x")
    assert caught.value.partial.output == "partial"


def test_publish_then_load_round_trip(bedrock) -> None:
    template = ChatPromptTemplate([("system", "Answer in a {tone} tone."), ("human", "{question}")])
    args = {"endpoint_url": bedrock.endpoint_url, "region_name": bedrock.region}
    published = publish_prompt(template, "cassette-tides", model=MODEL, temperature=0.2, **args)
    assert published.new_version and published.version == "1"
    again = publish_prompt(template, "cassette-tides", model=MODEL, temperature=0.2, **args)
    assert (again.version, again.new_version) == ("1", False)
    values = {"tone": "dry", "question": "why?"}
    assert load_prompt(published.id, "1", **args).format_messages(**values) == (
        template.format_messages(**values)
    )
    loaded = asyncio.run(aload_prompt(published.id, "1", **args))
    assert loaded.metadata["inference"] == {"temperature": 0.2}
