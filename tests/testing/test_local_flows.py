"""LocalBedrock serves InvokeFlow (real event-stream frames, the execution id header, faults)
and Prompt Management statefully (CRUD, versions, pagination), to real boto3 and aiobotocore
clients; the flow reply builders make botocore-valid events with unique ids."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit.core.flows.requests import build_invoke_flow_request
from bedrock_kit.core.flows.runtime import FlowRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import IncompleteStreamError
from bedrock_kit.testing import LocalBedrock, build_frames
from bedrock_kit.testing import flows as fb
from bedrock_kit.testing._routes import route_for

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
VARIANT = {
    "name": "default",
    "templateType": "TEXT",
    "templateConfiguration": {
        "text": {"text": "Hi {{name}}", "inputVariables": [{"name": "name"}]}
    },
}


def _invoke(agent_runtime: Any, **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    response = agent_runtime.invoke_flow(
        flowIdentifier=FLOW,
        flowAliasIdentifier=ALIAS,
        inputs=[
            {
                "nodeName": "FlowInputNode",
                "nodeOutputName": "document",
                "content": {"document": {"q": "tides"}},
            }
        ],
        **extra,
    )
    return response, list(response["responseStream"])


def test_unscripted_invoke_flow_echoes_over_real_frames(
    server: LocalBedrock, make_client: Callable[..., Any]
) -> None:
    response, events = _invoke(make_client("bedrock-agent-runtime"), executionId="exec-kept")
    assert response["executionId"] == "exec-kept"
    assert events == [
        {
            "flowOutputEvent": {
                "nodeName": "FlowOutputNode",
                "nodeType": "FlowOutputNode",
                "content": {"document": {"q": "tides"}},
            }
        },
        {"flowCompletionEvent": {"completionReason": "SUCCESS"}},
    ]
    _, again = _invoke(make_client("bedrock-agent-runtime"))
    first_id = _invoke(make_client("bedrock-agent-runtime"))[0]["executionId"]
    second_id = _invoke(make_client("bedrock-agent-runtime"))[0]["executionId"]
    assert first_id != second_id and len(again) == 2


async def test_scripted_traces_decode_in_aiobotocore(
    server: LocalBedrock, make_aio_client: Callable[..., Any]
) -> None:
    server.script(
        "InvokeFlow",
        fb.flow_reply(
            fb.flow_events(
                "out",
                traces=[
                    fb.node_input_trace("P_1", {"a": 1}, source=("FlowInputNode", "document")),
                    fb.node_output_trace(
                        "P_1", {"modelCompletion": "x"}, next_nodes=[("FlowOutputNode", "document")]
                    ),
                    fb.condition_trace("C_1", "yes"),
                    fb.node_action_trace("P_1", request={"m": 1}, response={"ok": True}),
                ],
            ),
            execution_id="exec-aio",
        ),
    )
    async with make_aio_client("bedrock-agent-runtime") as agent:
        response = await agent.invoke_flow(
            flowIdentifier=FLOW,
            flowAliasIdentifier=ALIAS,
            inputs=[{"nodeName": "FlowInputNode", "content": {"document": "x"}}],
        )
        events = [event async for event in response["responseStream"]]
    assert response["executionId"] == "exec-aio"
    traces = [e["flowTraceEvent"]["trace"] for e in events if "flowTraceEvent" in e]
    assert [next(iter(t)) for t in traces] == [
        "nodeInputTrace",
        "nodeOutputTrace",
        "conditionNodeResultTrace",
        "nodeActionTrace",
    ]
    assert traces[0]["nodeInputTrace"]["fields"][0]["type"] == "Number"
    assert traces[3]["nodeActionTrace"]["operationResponse"] == {"ok": True}
    assert events[-1] == {"flowCompletionEvent": {"completionReason": "SUCCESS"}}


def test_builders_make_unique_ids() -> None:
    ids = {
        fb.node_action_trace("P")["flowTraceEvent"]["trace"]["nodeActionTrace"]["requestId"]
        for _ in range(20)
    }
    assert len(ids) == 20
    headers = {
        fb.flow_reply([fb.flow_completion_event()]).headers[fb.EXECUTION_ID_HEADER]
        for _ in range(20)
    }
    assert len(headers) == 20
    assert fb.flow_events(input_request=fb.flow_input_request_event("?"))[-1] == (
        fb.flow_completion_event("INPUT_REQUIRED")
    )


def test_frames_carry_the_event_type_of_each_event() -> None:
    reply = fb.flow_reply(fb.flow_events("a", "b"))
    frames = build_frames(reply, route_for("InvokeFlow").operation_model)
    assert len(frames) == 3
    assert all(b":event-type" in frame for frame in frames)
    assert b"flowCompletionEvent" in frames[-1]


@pytest.mark.parametrize(
    ("options", "cause"),
    [({"truncate_after": 1}, "stream broke"), ({"corrupt_frame": 1}, "ChecksumMismatch")],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_faults_reach_the_runtime_as_typed_errors(
    server: LocalBedrock, options: dict[str, int], cause: str, mode: str
) -> None:
    server.script("InvokeFlow", fb.flow_reply(fb.flow_events("one", "two"), **options))
    runtime = FlowRuntime(ClientSettings(**server.client_kwargs(), max_retries=0))
    request = build_invoke_flow_request(FLOW, ALIAS, "x")
    with pytest.raises(IncompleteStreamError, match=cause) as caught:
        if mode == "sync":
            runtime.invoke(request)
        else:
            asyncio.run(runtime.ainvoke(request))
    assert caught.value.model_id == f"{FLOW}/{ALIAS}"


# -- Prompt Management


def test_prompt_crud_and_versions(server: LocalBedrock, make_client: Callable[..., Any]) -> None:
    agent = make_client("bedrock-agent")
    created = agent.create_prompt(name="hello", variants=[VARIANT], defaultVariant="default")
    prompt_id = created["id"]
    assert (created["version"], len(prompt_id)) == ("DRAFT", 10)
    with pytest.raises(agent.exceptions.ConflictException, match="hello"):
        agent.create_prompt(name="hello", variants=[VARIANT])
    v1 = agent.create_prompt_version(promptIdentifier=prompt_id)
    assert (v1["version"], v1["arn"]) == ("1", f"{created['arn']}:1")
    changed = {**VARIANT, "templateConfiguration": {"text": {"text": "Bye {{name}}"}}}
    agent.update_prompt(promptIdentifier=prompt_id, name="hello", variants=[changed])
    v2 = agent.create_prompt_version(promptIdentifier=created["arn"], description="second")
    assert v2["version"] == "2" and v2["description"] == "second"
    text = lambda p: p["variants"][0]["templateConfiguration"]["text"]["text"]  # noqa: E731
    assert text(agent.get_prompt(promptIdentifier=prompt_id, promptVersion="1")) == "Hi {{name}}"
    assert text(agent.get_prompt(promptIdentifier=prompt_id)) == "Bye {{name}}"
    listed = agent.list_prompts(promptIdentifier=prompt_id)["promptSummaries"]
    assert [s["version"] for s in listed] == ["DRAFT", "1", "2"]
    agent.delete_prompt(promptIdentifier=prompt_id, promptVersion="1")
    with pytest.raises(agent.exceptions.ResourceNotFoundException, match="version 1"):
        agent.get_prompt(promptIdentifier=prompt_id, promptVersion="1")
    assert agent.delete_prompt(promptIdentifier=prompt_id)["id"] == prompt_id
    with pytest.raises(agent.exceptions.ResourceNotFoundException):
        agent.update_prompt(promptIdentifier=prompt_id, name="hello", variants=[VARIANT])


def test_list_prompts_paginates(server: LocalBedrock, make_client: Callable[..., Any]) -> None:
    agent = make_client("bedrock-agent")
    for index in range(5):
        agent.create_prompt(name=f"p{index}", variants=[VARIANT])
    pages = list(agent.get_paginator("list_prompts").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["promptSummaries"]) for p in pages] == [2, 2, 1]
    names = [s["name"] for p in pages for s in p["promptSummaries"]]
    assert names == [f"p{i}" for i in range(5)]


def test_scripts_still_win_over_the_store(
    server: LocalBedrock, make_client: Callable[..., Any]
) -> None:
    from bedrock_kit.testing import Reply

    server.script("GetPrompt", Reply.error(429, "ThrottlingException", "slow"))
    agent = make_client("bedrock-agent")
    with pytest.raises(agent.exceptions.ThrottlingException):
        agent.get_prompt(promptIdentifier="PRMT123456")


def test_clear_forgets_stored_prompts(
    server: LocalBedrock, make_client: Callable[..., Any]
) -> None:
    agent = make_client("bedrock-agent")
    created = agent.create_prompt(name="kept", variants=[VARIANT])
    server.clear()
    with pytest.raises(agent.exceptions.ResourceNotFoundException):
        agent.get_prompt(promptIdentifier=created["id"])
    assert agent.create_prompt(name="kept", variants=[VARIANT])["id"] != created["id"]
