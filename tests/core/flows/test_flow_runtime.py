"""FlowRuntime: typed events from literal event dicts, and over real HTTP against LocalBedrock
(boto3 and aiobotocore, real event-stream frames)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bedrock_kit.core.agents.traces import RationaleStep
from bedrock_kit.core.flows.requests import build_invoke_flow_request
from bedrock_kit.core.flows.runtime import (
    FlowCompleted,
    FlowInputRequest,
    FlowOutput,
    FlowRuntime,
    FlowTraceEvent,
    _FlowCall,
)
from bedrock_kit.core.flows.traces import (
    FlowConditionTrace,
    FlowDependencyTrace,
    FlowNodeActionTrace,
    FlowNodeInputTrace,
    FlowNodeOutputTrace,
)
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    FlowExecutionError,
    IncompleteStreamError,
    MalformedResponseError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock
from bedrock_kit.testing import flows as fb

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _call() -> _FlowCall:
    return _FlowCall(build_invoke_flow_request(FLOW, ALIAS, "hi"), "us-east-1")


def _runtime(server: LocalBedrock) -> FlowRuntime:
    return FlowRuntime(ClientSettings(**server.client_kwargs(), max_retries=0))


# -- pure: literal event dicts as botocore decodes them


def test_traces_of_every_kind_are_typed() -> None:
    call = _call()
    events = [
        {
            "flowTraceEvent": {
                "trace": {
                    "nodeInputTrace": {
                        "nodeName": "Prompt_1",
                        "timestamp": WHEN,
                        "fields": [
                            {
                                "nodeInputName": "topic",
                                "content": {"document": "tides"},
                                "type": "String",
                                "source": {
                                    "nodeName": "FlowInputNode",
                                    "outputFieldName": "document",
                                    "expression": "$.data",
                                },
                                "executionChain": [
                                    {"nodeName": "Loop_1", "type": "Loop", "index": 2}
                                ],
                            }
                        ],
                    }
                }
            }
        },
        {
            "flowTraceEvent": {
                "trace": {
                    "nodeOutputTrace": {
                        "nodeName": "Prompt_1",
                        "timestamp": WHEN,
                        "fields": [
                            {
                                "nodeOutputName": "modelCompletion",
                                "content": {"document": "ok"},
                                "next": [
                                    {"nodeName": "FlowOutputNode", "inputFieldName": "document"}
                                ],
                            }
                        ],
                    }
                }
            }
        },
        {
            "flowTraceEvent": {
                "trace": {
                    "conditionNodeResultTrace": {
                        "nodeName": "Cond_1",
                        "timestamp": WHEN,
                        "satisfiedConditions": [
                            {"conditionName": "isLong"},
                            {"conditionName": "default"},
                        ],
                    }
                }
            }
        },
        {
            "flowTraceEvent": {
                "trace": {
                    "nodeActionTrace": {
                        "nodeName": "Prompt_1",
                        "timestamp": WHEN,
                        "requestId": "req-9",
                        "serviceName": "bedrock-runtime",
                        "operationName": "Converse",
                        "operationRequest": {"messages": []},
                        "operationResponse": {"output": {}},
                    }
                }
            }
        },
        {
            "flowTraceEvent": {
                "trace": {
                    "nodeDependencyTrace": {
                        "nodeName": "Agent_1",
                        "timestamp": WHEN,
                        "traceElements": {
                            "agentTraces": [
                                {
                                    "agentId": "A1",
                                    "trace": {
                                        "orchestrationTrace": {
                                            "rationale": {"text": "look it up", "traceId": "t1"}
                                        }
                                    },
                                }
                            ]
                        },
                    }
                }
            }
        },
    ]
    traces = [item.trace for e in events for item in call.feed(e)]
    kinds = [type(t) for t in traces]
    assert kinds == [
        FlowNodeInputTrace,
        FlowNodeOutputTrace,
        FlowConditionTrace,
        FlowNodeActionTrace,
        FlowDependencyTrace,
    ]
    node_input = traces[0]
    assert isinstance(node_input, FlowNodeInputTrace)
    field = node_input.fields[0]
    assert (field.name, field.content, field.source_node, field.source_output) == (
        "topic",
        "tides",
        "FlowInputNode",
        "document",
    )
    assert field.execution_chain == (("Loop_1", "Loop", 2),)
    output = traces[1]
    assert isinstance(output, FlowNodeOutputTrace)
    assert output.fields[0].next == (("FlowOutputNode", "document"),)
    condition = traces[2]
    assert isinstance(condition, FlowConditionTrace)
    assert condition.satisfied_conditions == ("isLong", "default")
    action = traces[3]
    assert isinstance(action, FlowNodeActionTrace)
    assert (action.request_id, action.operation_name) == ("req-9", "Converse")
    dependency = traces[4]
    assert isinstance(dependency, FlowDependencyTrace)
    (step,) = dependency.agent_steps
    assert isinstance(step, RationaleStep) and step.text == "look it up"


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({}, "does not know"),
        ({"flowOutputEvent": {}}, "no members"),
        (
            {"flowOutputEvent": {"nodeName": "Out", "nodeType": "FlowOutputNode", "content": {}}},
            "no document",
        ),
        (
            {"flowOutputEvent": {"nodeType": "FlowOutputNode", "content": {"document": 1}}},
            "nodeName is missing",
        ),
        ({"flowCompletionEvent": {"completionReason": ""}}, "completionReason is empty"),
        ({"flowTraceEvent": {"trace": {}}}, "exactly one member"),
        (
            {
                "flowTraceEvent": {
                    "trace": {
                        "nodeInputTrace": {"nodeName": "P", "timestamp": "yesterday", "fields": []}
                    }
                }
            },
            "not a timestamp",
        ),
        ({"somethingNew": {"a": 1}}, "unknown event type"),
    ],
)
def test_events_not_of_the_documented_shape_are_typed_errors(event: dict, problem: str) -> None:
    with pytest.raises(MalformedResponseError, match=problem) as caught:
        _call().feed(event)
    assert caught.value.model_id == f"{FLOW}/{ALIAS}"


def test_stream_without_completion_is_incomplete() -> None:
    call = _call()
    call.feed(fb.flow_output_event("half"))
    with pytest.raises(IncompleteStreamError, match="flowCompletionEvent") as caught:
        call.finish()
    assert "half" in caught.value.partial_text


def test_completion_reason_other_than_success_or_input_required_raises() -> None:
    call = _call()
    call.feed(fb.flow_output_event("partial answer"))
    call.feed(fb.flow_completion_event("FAILED_NODE"))
    with pytest.raises(FlowExecutionError, match="FAILED_NODE") as caught:
        call.finish()
    assert caught.value.completion_reason == "FAILED_NODE"
    assert caught.value.partial.output == "partial answer"


def test_input_required_without_the_question_is_malformed() -> None:
    call = _call()
    call.feed(fb.flow_completion_event("INPUT_REQUIRED"))
    with pytest.raises(MalformedResponseError, match="flowMultiTurnInputRequestEvent"):
        call.finish()


def test_events_after_completion_are_refused() -> None:
    call = _call()
    call.feed(fb.flow_completion_event())
    with pytest.raises(MalformedResponseError, match="after flowCompletionEvent"):
        call.feed(fb.flow_output_event("late"))


def test_answer_needs_a_question() -> None:
    call = _call()
    call.feed(fb.flow_completion_event())
    result = call.finish().result
    with pytest.raises(FlowExecutionError, match="asks for no input"):
        result.answer("yes")


# -- over HTTP


def test_outputs_traces_and_execution_id_sync(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                fb.flow_output_event({"summary": "Tides rise"}, node_name="Out_1"),
                fb.flow_output_event("second", node_name="Out_2"),
                traces=[
                    fb.node_input_trace("Prompt_1", {"topic": "tides"}),
                    fb.condition_trace("Cond_1", "isLong"),
                ],
            ),
            execution_id="exec-42",
        ),
    )
    events = list(_runtime(server).stream(build_invoke_flow_request(FLOW, ALIAS, "tides")))
    assert [type(e) for e in events] == [
        FlowTraceEvent,
        FlowTraceEvent,
        FlowOutput,
        FlowOutput,
        FlowCompleted,
    ]
    result = events[-1].result  # type: ignore[union-attr]
    assert result.execution_id == "exec-42"
    assert [(o.node_name, o.content) for o in result.outputs] == [
        ("Out_1", {"summary": "Tides rise"}),
        ("Out_2", "second"),
    ]
    assert result.output == "second" and result.completion_reason == "SUCCESS"
    assert isinstance(result.traces[1], FlowConditionTrace)
    assert result.request_id  # LocalBedrock sends an x-amzn-RequestId
    (sent,) = server.requests_for("InvokeFlow")
    assert sent.path_params == {"flowIdentifier": FLOW, "flowAliasIdentifier": ALIAS}
    assert sent.body["inputs"][0]["content"] == {"document": "tides"}


def test_multi_turn_resumes_the_same_execution_async(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                input_request=fb.flow_input_request_event(
                    "How many songs?", node_name="AgentsNode_1"
                )
            ),
            execution_id="exec-7",
        ),
        lambda request: fb.flow_reply(
            fb.flow_events(f"playlist of {request.body['inputs'][0]['content']['document']}"),
            execution_id=request.body["executionId"],
        ),
    )
    runtime = _runtime(server)

    async def run() -> tuple:
        first = await runtime.ainvoke(build_invoke_flow_request(FLOW, ALIAS, "playlist"))
        second = await runtime.ainvoke(
            build_invoke_flow_request(
                FLOW, ALIAS, first.answer("ten"), execution_id=first.execution_id
            )
        )
        await runtime.aclose()
        return first, second

    first, second = asyncio.run(run())
    assert first.needs_input and first.input_request == FlowInputRequest(
        "AgentsNode_1", "AgentNode", "How many songs?"
    )
    assert second.output == "playlist of ten" and second.execution_id == "exec-7"
    resumed = server.requests_for("InvokeFlow")[1].body
    assert resumed["executionId"] == "exec-7"
    assert resumed["inputs"] == [
        {
            "nodeName": "AgentsNode_1",
            "nodeInputName": "agentInputText",
            "content": {"document": "ten"},
        }
    ]


@pytest.mark.parametrize("exception", ["dependencyFailedException", "badGatewayException"])
def test_flow_failure_events_raise_flow_execution_error(
    server: LocalBedrock, exception: str
) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            [fb.flow_output_event("so far"), fb.flow_completion_event()],
            exception_at=(1, exception, "the Lambda node failed"),
        ),
    )
    with pytest.raises(FlowExecutionError, match="the Lambda node failed") as caught:
        _runtime(server).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    assert caught.value.partial.output == "so far"
    assert caught.value.error_code == exception[0].upper() + exception[1:]
    assert caught.value.model_id == f"{FLOW}/{ALIAS}"


def test_other_in_stream_exceptions_keep_their_type(server: LocalBedrock) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            [fb.flow_completion_event()], exception_at=(0, "throttlingException", "slow down")
        ),
    )

    async def run() -> None:
        runtime = _runtime(server)
        try:
            await runtime.ainvoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
        finally:
            await runtime.aclose()

    with pytest.raises(ThrottlingError, match="slow down"):
        asyncio.run(run())
