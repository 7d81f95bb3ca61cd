"""AgentRuntime over real HTTP: boto3 / aiobotocore against LocalBedrock's event streams."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bedrock_kit.core.agents.runtime import (
    AgentCompleted,
    AgentReturnControl,
    AgentRuntime,
    AgentSession,
    AgentStepLimitError,
    AgentTextChunk,
    AgentToolResult,
    AgentTraceEvent,
    InlineAgentConfig,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.agents.tools import LocalTool
from bedrock_kit.core.agents.traces import ActionGroupInvocationStep, RationaleStep
from bedrock_kit.core.chat.tools import schema_from_function, tool_spec
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ResourceNotFoundError, ThrottlingError
from bedrock_kit.testing import LocalBedrock, Reply


def _runtime(server: LocalBedrock) -> AgentRuntime:
    # No retries: every scripted reply is consumed exactly once.
    settings = ClientSettings(
        region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0
    )
    return AgentRuntime(settings)


def _request(text: str = "Weather in Seattle and Oslo?") -> dict:
    return build_invoke_agent_request(
        "TFMZVIWXR7", "ZT7YYHO8TO", text, AgentSession(session_id="sess-1")
    )


def _tool(func, *, is_async: bool = False) -> LocalTool:
    spec = tool_spec(func.__name__, func.__name__, schema_from_function(func))
    return LocalTool(spec=spec, afunc=func) if is_async else LocalTool(spec=spec, func=func)


def _function_call(function: str, **values: str) -> dict:
    return {
        "functionInvocationInput": {
            "actionGroup": "weather_group",
            "actionInvocationType": "RESULT",
            "agentId": "TFMZVIWXR7",
            "function": function,
            "parameters": [{"name": k, "type": "string", "value": v} for k, v in values.items()],
        }
    }


def _return_control(*calls: dict, invocation_id: str = "inv-1") -> dict:
    return {"returnControl": {"invocationId": invocation_id, "invocationInputs": list(calls)}}


RATIONALE = {
    "trace": {
        "agentId": "TFMZVIWXR7",
        "sessionId": "sess-1",
        "trace": {"orchestrationTrace": {"rationale": {"text": "I need the weather."}}},
    }
}
ACTION_CALL = {
    "trace": {
        "trace": {
            "orchestrationTrace": {
                "invocationInput": {
                    "actionGroupInvocationInput": {
                        "actionGroupName": "weather_group",
                        "executionType": "RETURN_CONTROL",
                        "function": "weather",
                        "parameters": [{"name": "city", "type": "string", "value": "Seattle"}],
                    },
                    "invocationType": "ACTION_GROUP",
                }
            }
        }
    }
}


def _results(server: LocalBedrock, index: int) -> list[dict]:
    body = server.requests_for("InvokeAgent")[index].body
    return body["sessionState"]["returnControlInvocationResults"]


def test_stream_keeps_every_chunk_in_order_with_traces(server):
    server.script(
        "InvokeAgent",
        Reply.events(
            [
                RATIONALE,
                {"chunk": {"bytes": b"The weather "}},
                {"chunk": {"bytes": b"in Seattle "}},
                {"chunk": {"bytes": b"is sunny."}},
            ]
        ),
    )
    events = list(_runtime(server).stream(_request()))
    kinds = [type(e) for e in events]
    assert kinds == [
        AgentTraceEvent,
        AgentTextChunk,
        AgentTextChunk,
        AgentTextChunk,
        AgentCompleted,
    ]
    result = events[-1].result
    assert [c.text for c in result.chunks] == ["The weather ", "in Seattle ", "is sunny."]
    assert result.text == "The weather in Seattle is sunny."
    assert isinstance(result.steps[0], RationaleStep)
    assert result.session_id == "sess-1"
    (request,) = server.requests_for("InvokeAgent")
    assert request.path == "/agents/TFMZVIWXR7/agentAliases/ZT7YYHO8TO/sessions/sess-1/text"
    assert request.body["inputText"] == "Weather in Seattle and Oslo?"


def test_two_parallel_calls_in_one_return_control_both_run_and_are_sent_back(server):
    barrier = threading.Barrier(2, timeout=5)
    threads = set()

    def weather(city: str) -> str:
        threads.add(threading.get_ident())
        barrier.wait()  # passes only when both calls run at the same time
        return f"sunny in {city}"

    server.script(
        "InvokeAgent",
        Reply.events(
            [
                ACTION_CALL,
                _return_control(
                    _function_call("weather", city="Seattle"),
                    _function_call("weather", city="Oslo"),
                ),
            ]
        ),
        Reply.events([{"chunk": {"bytes": b"Sunny in both."}}]),
    )
    events = list(_runtime(server).stream(_request(), tools=[_tool(weather)]))
    assert sum(isinstance(e, AgentReturnControl) for e in events) == 1
    assert sum(isinstance(e, AgentToolResult) for e in events) == 2
    assert len(threads) == 2
    result = events[-1].result
    assert result.text == "Sunny in both."
    assert isinstance(result.steps[0], ActionGroupInvocationStep)
    assert len(result.request_ids) == 2
    second = server.requests_for("InvokeAgent")[1]
    assert "inputText" not in second.body
    assert second.body["sessionState"]["invocationId"] == "inv-1"
    assert _results(server, 1) == [
        {
            "functionResult": {
                "actionGroup": "weather_group",
                "function": "weather",
                "responseBody": {"TEXT": {"body": "sunny in Seattle"}},
            }
        },
        {
            "functionResult": {
                "actionGroup": "weather_group",
                "function": "weather",
                "responseBody": {"TEXT": {"body": "sunny in Oslo"}},
            }
        },
    ]


def test_raising_tool_sends_failure_and_unknown_tool_reprompts(server):
    def weather(city: str) -> str:
        raise TimeoutError(f"no station in {city}")

    server.script(
        "InvokeAgent",
        Reply.events(
            [_return_control(_function_call("weather", city="Lima"), _function_call("radar"))]
        ),
        Reply.events([{"chunk": {"bytes": b"Sorry."}}]),
    )
    result = _runtime(server).invoke(_request(), tools=[_tool(weather)])
    assert result.text == "Sorry."
    failed, unknown = _results(server, 1)
    assert failed["functionResult"]["responseState"] == "FAILURE"
    assert "no station in Lima" in failed["functionResult"]["responseBody"]["TEXT"]["body"]
    assert unknown["functionResult"]["responseState"] == "REPROMPT"
    assert "unknown tool 'radar'" in unknown["functionResult"]["responseBody"]["TEXT"]["body"]
    assert [o.state for o in result.tool_outcomes] == ["FAILURE", "REPROMPT"]


def test_step_limit_raises_a_typed_error(server):
    def weather(city: str) -> str:
        return "sunny"

    again = _return_control(_function_call("weather", city="Rome"))
    server.script("InvokeAgent", Reply.events([again]), Reply.events([again]))
    with pytest.raises(AgentStepLimitError) as info:
        _runtime(server).invoke(_request(), tools=[_tool(weather)], max_steps=1)
    assert len(server.requests_for("InvokeAgent")) == 2
    assert len(info.value.partial.tool_outcomes) == 1


def test_without_tools_the_return_control_request_is_returned(server):
    server.script(
        "InvokeAgent", Reply.events([_return_control(_function_call("weather", city="Oslo"))])
    )
    result = _runtime(server).invoke(_request())
    assert result.return_control is not None
    assert result.return_control.calls[0].parameters[0]["value"] == "Oslo"
    assert len(server.requests_for("InvokeAgent")) == 1


def test_errors_are_translated(server):
    server.script(
        "InvokeAgent",
        Reply.error(404, "ResourceNotFoundException", "agent not found"),
        Reply.events(
            [{"chunk": {"bytes": b"partial"}}],
            exception_at=(1, "throttlingException", "slow down"),
        ),
    )
    runtime = _runtime(server)
    with pytest.raises(ResourceNotFoundError) as info:
        runtime.invoke(_request())
    assert info.value.model_id == "TFMZVIWXR7/ZT7YYHO8TO"
    with pytest.raises(ThrottlingError):
        runtime.invoke(_request())


def test_inline_agent_return_control_uses_inline_session_state(server):
    def weather(city: str) -> str:
        return f"rain in {city}"

    server.script(
        "InvokeInlineAgent",
        Reply.events([_return_control(_function_call("weather", city="Bergen"))]),
        Reply.events([{"chunk": {"bytes": b"Rain."}}]),
    )
    config = InlineAgentConfig(
        foundation_model="anthropic.claude-3-5-sonnet-20240620-v1:0",
        instruction="You answer questions about the weather using the weather tool.",
    )
    request = build_inline_agent_request(config, "Bergen?", AgentSession(session_id="inline-1"))
    result = _runtime(server).invoke(request, tools=[_tool(weather)])
    assert result.text == "Rain."
    second = server.requests_for("InvokeInlineAgent")[1].body
    assert second["foundationModel"] == config.foundation_model
    results = second["inlineSessionState"]["returnControlInvocationResults"]
    assert results[0]["functionResult"]["responseBody"]["TEXT"]["body"] == "rain in Bergen"


async def test_async_path_runs_async_tools_concurrently(server):
    both = asyncio.Event()
    seen: list[str] = []

    async def weather(city: str) -> str:
        seen.append(city)
        if len(seen) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)  # returns only if both calls overlap
        return f"sunny in {city}"

    server.script(
        "InvokeAgent",
        Reply.events(
            [
                {"chunk": {"bytes": b"Checking. "}},
                _return_control(
                    _function_call("weather", city="Seattle"),
                    _function_call("weather", city="Oslo"),
                ),
            ]
        ),
        Reply.events([{"chunk": {"bytes": b"Sunny"}}, {"chunk": {"bytes": b" in both."}}]),
    )
    runtime = _runtime(server)
    events = [e async for e in runtime.astream(_request(), tools=[_tool(weather, is_async=True)])]
    result = events[-1].result
    assert result.text == "Checking. Sunny in both."
    assert [c.text for c in result.chunks] == ["Checking. ", "Sunny", " in both."]
    bodies = [r["functionResult"]["responseBody"]["TEXT"]["body"] for r in _results(server, 1)]
    assert bodies == ["sunny in Seattle", "sunny in Oslo"]
    assert runtime.pool.created == 1
    await runtime.pool.aclose()


async def test_async_step_limit_and_errors(server):
    def weather(city: str) -> str:
        return "sunny"

    again = _return_control(_function_call("weather", city="Rome"))
    server.script(
        "InvokeAgent",
        Reply.events([again]),
        Reply.error(429, "ThrottlingException", "slow down"),
    )
    runtime = _runtime(server)
    try:
        with pytest.raises(AgentStepLimitError):
            await runtime.ainvoke(_request(), tools=[_tool(weather)], max_steps=0)
        with pytest.raises(ThrottlingError):
            await runtime.ainvoke(_request())
    finally:
        await runtime.pool.aclose()


def test_api_form_return_control_sends_api_results(server):
    def ship(item: str, to: dict, quantity: int = 1) -> str:
        return f"{quantity} x {item} to {to['city']}"

    server.script(
        "InvokeAgent",
        Reply.events(
            [
                _return_control(
                    {
                        "apiInvocationInput": {
                            "actionGroup": "shop",
                            "actionInvocationType": "RESULT",
                            "apiPath": "/ship",
                            "httpMethod": "POST",
                            "parameters": [],
                            "requestBody": {
                                "content": {
                                    "application/json": {
                                        "properties": [
                                            {"name": "item", "type": "string", "value": "tea"},
                                            {
                                                "name": "to",
                                                "type": "object",
                                                "value": '{"city": "Oslo"}',
                                            },
                                            {"name": "quantity", "type": "integer", "value": "3"},
                                        ]
                                    }
                                }
                            },
                        }
                    },
                    {
                        "apiInvocationInput": {
                            "actionGroup": "shop",
                            "apiPath": "/refund",
                            "httpMethod": "POST",
                        }
                    },
                )
            ]
        ),
        Reply.events([{"chunk": {"bytes": b"Shipped."}}]),
    )
    result = _runtime(server).invoke(_request(), tools=[_tool(ship)])
    assert result.text == "Shipped."
    shipped, unknown = _results(server, 1)
    assert shipped == {
        "apiResult": {
            "actionGroup": "shop",
            "apiPath": "/ship",
            "httpMethod": "POST",
            "httpStatusCode": 200,
            "responseBody": {"TEXT": {"body": "3 x tea to Oslo"}},
        }
    }
    assert unknown["apiResult"]["responseState"] == "REPROMPT"
    assert unknown["apiResult"]["httpStatusCode"] == 500


def test_memory_id_and_end_session_travel_both_ways(server):
    server.script(
        "InvokeAgent",
        Reply.events(
            [{"chunk": {"bytes": b"Noted."}}],
            headers={"x-amz-bedrock-agent-memory-id": "mem-42"},
        ),
    )
    request = build_invoke_agent_request(
        "TFMZVIWXR7",
        "ZT7YYHO8TO",
        "Remember my seat.",
        AgentSession(
            session_id="sess-5",
            memory_id="mem-42",
            end_session=True,
            session_attributes={"user": "ann"},
        ),
    )
    result = _runtime(server).invoke(request)
    assert result.memory_id == "mem-42"
    (sent,) = server.requests_for("InvokeAgent")
    assert sent.body["memoryId"] == "mem-42"
    assert sent.body["endSession"] is True
    assert sent.body["sessionState"] == {"sessionAttributes": {"user": "ann"}}
