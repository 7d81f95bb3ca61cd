"""BedrockFlowRunnable: a Prompt Flow in LCEL, sync and native async, against LocalBedrock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import RunnableLambda

from bedrock_kit.core.flows.runtime import FlowCompleted, FlowOutput, FlowResult, FlowTraceEvent
from bedrock_kit.core.flows.traces import FlowNodeActionTrace
from bedrock_kit.errors import ConfigurationError, FlowExecutionError, UnknownArgumentError
from bedrock_kit.langchain import BedrockFlowRunnable
from bedrock_kit.langchain.flows import FlowInput
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply
from bedrock_kit.testing import flows as fb

FLOW, ALIAS = "FLOW123456", "ALIAS12345"


def _flow(server: LocalBedrock, **kwargs: Any) -> BedrockFlowRunnable:
    return BedrockFlowRunnable(
        flow_id=FLOW, flow_alias_id=ALIAS, max_retries=0, **server.client_kwargs(), **kwargs
    )


def _playlist(server: LocalBedrock) -> None:
    def second(request: ReceivedRequest) -> Reply:
        answer = request.body["inputs"][0]["content"]["document"]
        return fb.flow_reply(
            fb.flow_events(f"{answer} jazz songs"), execution_id=request.body["executionId"]
        )

    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(input_request=fb.flow_input_request_event("How many songs?")),
            execution_id="exec-lc",
        ),
        second,
    )


def test_invoke_in_a_chain_sends_the_prompt_text(server: LocalBedrock) -> None:
    chain = (
        PromptTemplate.from_template("Summarise {topic}")
        | _flow(server)
        | RunnableLambda(lambda result: result.output)
    )
    assert chain.invoke({"topic": "tides"}) == "Summarise tides"  # LocalBedrock echoes
    (request,) = server.requests_for("InvokeFlow")
    assert request.body["inputs"][0] == {
        "nodeName": "FlowInputNode",
        "nodeOutputName": "document",
        "content": {"document": "Summarise tides"},
    }


def test_input_by_node_name_and_configured_input_node(server: LocalBedrock) -> None:
    flow = _flow(server, input_node="Start", input_output_name="query", enable_trace=False)
    flow.invoke({"city": "Oslo"})
    flow.invoke(FlowInput(7, node_name="Other", node_output_name="number"))
    first, second = (r.body for r in server.requests_for("InvokeFlow"))
    assert first["inputs"][0]["nodeName"] == "Start" and first["enableTrace"] is False
    assert first["inputs"][0]["content"] == {"document": {"city": "Oslo"}}
    assert second["inputs"][0] == {
        "nodeName": "Other",
        "nodeOutputName": "number",
        "content": {"document": 7},
    }


def test_stream_yields_typed_events_as_they_arrive(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                fb.flow_output_event("one", node_name="Out_1"),
                fb.flow_output_event("two", node_name="Out_2"),
                traces=[fb.node_action_trace("Prompt_1")],
            )
        ),
    )
    events = list(_flow(server).stream("go"))
    assert [type(e) for e in events] == [FlowTraceEvent, FlowOutput, FlowOutput, FlowCompleted]
    assert isinstance(events[0].trace, FlowNodeActionTrace)
    assert [e.content for e in events if isinstance(e, FlowOutput)] == ["one", "two"]


def test_multi_turn_resume_sync(server: LocalBedrock) -> None:
    _playlist(server)
    flow = _flow(server)
    first = flow.invoke("Make me a playlist")
    assert first.needs_input and first.input_request is not None
    assert first.input_request.content == "How many songs?"
    final = flow.resume(first, "Ten")
    assert (final.output, final.completion_reason, final.execution_id) == (
        "Ten jazz songs",
        "SUCCESS",
        "exec-lc",
    )
    assert server.requests_for("InvokeFlow")[1].body["executionId"] == "exec-lc"


def test_multi_turn_resume_and_stream_async(server: LocalBedrock) -> None:
    _playlist(server)
    flow = _flow(server)

    async def run() -> tuple[FlowResult, list[Any]]:
        first = await flow.ainvoke("Make me a playlist")
        final = await flow.aresume(first, "Five")
        streamed = [e async for e in flow.astream("again")]
        await flow.aclose()
        return final, streamed

    final, streamed = asyncio.run(run())
    assert final.output == "Five jazz songs"
    assert isinstance(streamed[-1], FlowCompleted) and streamed[-1].result.output == "again"


def test_flow_failure_is_typed_with_partial_output(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            [fb.flow_output_event("before"), fb.flow_completion_event()],
            exception_at=(1, "dependencyFailedException", "KB node failed"),
        ),
    )
    with pytest.raises(FlowExecutionError, match="KB node failed") as caught:
        _flow(server).invoke("x")
    assert caught.value.partial.output == "before"


def test_bad_configuration_and_call_arguments_are_refused(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="flow_id"):
        BedrockFlowRunnable(flow_id="nope", flow_alias_id=ALIAS)
    with pytest.raises(ConfigurationError, match="node_name"):
        BedrockFlowRunnable(flow_id=FLOW, flow_alias_id=ALIAS, input_node="9x")
    with pytest.raises(UnknownArgumentError):
        _flow(server).invoke("x", executon_id="e")
    assert server.requests == []


def test_dumps_and_loads_keep_configuration_not_secrets() -> None:
    from langchain_core.load import dumps, loads

    from bedrock_kit.langchain import LOAD_MAPPINGS

    flow = BedrockFlowRunnable(
        flow_id=FLOW,
        flow_alias_id=ALIAS,
        input_node="Start",
        aws_access_key_id="AKIAFLOWTEST0000",
        aws_secret_access_key="flow-secret-value",
    )
    text = dumps(flow)
    assert "flow-secret-value" not in text and "AKIAFLOWTEST0000" not in text
    loaded = loads(
        text,
        allowed_objects="core",
        valid_namespaces=["bedrock_kit"],
        additional_import_mappings=LOAD_MAPPINGS,
        secrets_map={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
    )
    assert isinstance(loaded, BedrockFlowRunnable)
    assert (loaded.flow_id, loaded.input_node) == (FLOW, "Start")
