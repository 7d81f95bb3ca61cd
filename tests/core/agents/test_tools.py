"""Local tool execution for return of control, and the action-group Lambda handler."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from bedrock_kit.core.agents.tools import (
    LocalTool,
    arun_tools,
    build_invocation_result,
    build_lambda_handler,
    parse_invocation_inputs,
    run_tools,
    tools_by_name,
)
from bedrock_kit.core.chat.tools import schema_from_function, tool_spec
from bedrock_kit.errors import ConfigurationError


def get_weather(location: str, days: int = 0) -> str:
    return f"{location}: sunny for {days} days"


def explode(reason: str) -> str:
    raise RuntimeError(f"boom: {reason}")


def order(item: str, quantity: int = 1, ship_to: dict | None = None) -> dict:
    return {"item": item, "quantity": quantity, "city": (ship_to or {}).get("city")}


def _local(func, afunc=None) -> LocalTool:
    spec = tool_spec(func.__name__, func.__name__, schema_from_function(func))
    return LocalTool(spec=spec, func=func, afunc=afunc)


TOOLS = tools_by_name([_local(get_weather), _local(explode), _local(order)])

RETURN_CONTROL = {
    "invocationId": "c287d182",
    "invocationInputs": [
        {
            "functionInvocationInput": {
                "actionGroup": "weather_group",
                "actionInvocationType": "RESULT",
                "agentId": "TFMZVIWXR7",
                "function": "get_weather",
                "parameters": [
                    {"name": "location", "type": "string", "value": "Seattle"},
                    {"name": "days", "type": "integer", "value": "2"},
                ],
            }
        },
        {
            "apiInvocationInput": {
                "actionGroup": "shop",
                "actionInvocationType": "RESULT",
                "apiPath": "/order",
                "httpMethod": "POST",
                "parameters": [],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "properties": [
                                {"name": "item", "type": "string", "value": "tea"},
                                {"name": "ship_to", "type": "object", "value": '{"city": "Oslo"}'},
                            ]
                        }
                    }
                },
            }
        },
    ],
}


def test_parse_invocation_inputs_keeps_every_call_in_order():
    function, api = parse_invocation_inputs(RETURN_CONTROL)
    assert (function.kind, function.name, function.action_group) == (
        "function",
        "get_weather",
        "weather_group",
    )
    assert function.agent_id == "TFMZVIWXR7" and function.invocation_type == "RESULT"
    assert (api.kind, api.name, api.api_path, api.http_method) == ("api", "order", "/order", "POST")
    assert [p["name"] for p in api.parameters] == ["item", "ship_to"]


def test_run_tools_runs_all_calls_and_builds_both_result_forms():
    outcomes = run_tools(parse_invocation_inputs(RETURN_CONTROL), TOOLS)
    assert [o.state for o in outcomes] == [None, None]
    assert outcomes[0].output == "Seattle: sunny for 2 days"
    assert json.loads(outcomes[1].output) == {"item": "tea", "quantity": 1, "city": "Oslo"}
    function_result = build_invocation_result(outcomes[0])
    assert function_result == {
        "functionResult": {
            "actionGroup": "weather_group",
            "function": "get_weather",
            "responseBody": {"TEXT": {"body": "Seattle: sunny for 2 days"}},
        }
    }
    api_result = build_invocation_result(outcomes[1])["apiResult"]
    assert (api_result["apiPath"], api_result["httpMethod"], api_result["httpStatusCode"]) == (
        "/order",
        "POST",
        200,
    )
    assert "responseState" not in api_result


def _call(function: str, **values: str) -> dict:
    return {
        "functionInvocationInput": {
            "actionGroup": "g",
            "function": function,
            "parameters": [{"name": k, "type": "string", "value": v} for k, v in values.items()],
        }
    }


def test_raising_tool_unknown_tool_and_bad_argument_are_reported_not_raised():
    calls = parse_invocation_inputs(
        {
            "invocationInputs": [
                _call("explode", reason="disk"),
                _call("nope"),
                _call("get_weather", location="X", days="many"),
            ]
        }
    )
    raised, unknown, bad = run_tools(calls, TOOLS)
    assert raised.state == "FAILURE" and "RuntimeError: boom: disk" in raised.output
    assert unknown.state == "REPROMPT" and "unknown tool 'nope'" in unknown.output
    assert "get_weather" in unknown.output  # the agent learns what exists
    assert bad.state == "REPROMPT" and "'days'" in bad.output
    wire = build_invocation_result(raised)["functionResult"]
    assert wire["responseState"] == "FAILURE"
    (reprompted,) = run_tools(calls[:1], TOOLS, tool_error_state="REPROMPT")
    assert reprompted.state == "REPROMPT"
    with pytest.raises(ConfigurationError, match="tool_error_state"):
        run_tools(calls, TOOLS, tool_error_state="IGNORE")  # type: ignore[arg-type]


def test_sync_tools_run_in_parallel_threads():
    barrier = threading.Barrier(2, timeout=5)

    def wait_a(x: str) -> str:
        barrier.wait()  # only returns if the other call runs at the same time
        return "a" + x

    def wait_b(x: str) -> str:
        barrier.wait()
        return "b" + x

    tools = tools_by_name([_local(wait_a), _local(wait_b)])
    calls = parse_invocation_inputs(
        {"invocationInputs": [_call("wait_a", x="1"), _call("wait_b", x="2")]}
    )
    assert [o.output for o in run_tools(calls, tools)] == ["a1", "b2"]


async def test_async_tools_run_concurrently_with_gather():
    both_started = asyncio.Event()
    started = []

    async def first(x: str) -> str:
        started.append("first")
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 5)
        return "1" + x

    async def second(x: str) -> str:
        started.append("second")
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 5)
        return "2" + x

    tools = tools_by_name(
        [
            LocalTool(spec=tool_spec("first", "f", schema_from_function(first)), afunc=first),
            LocalTool(spec=tool_spec("second", "s", schema_from_function(second)), afunc=second),
            _local(explode),
        ]
    )
    calls = parse_invocation_inputs(
        {
            "invocationInputs": [
                _call("first", x="a"),
                _call("second", x="b"),
                _call("explode", reason="r"),
            ]
        }
    )
    outcomes = await arun_tools(calls, tools)
    assert [o.output for o in outcomes[:2]] == ["1a", "2b"]
    assert outcomes[2].state == "FAILURE"


def test_local_tool_needs_an_implementation_and_unique_names():
    spec = tool_spec("t", "d", {"type": "object"})
    with pytest.raises(ConfigurationError, match="neither func nor afunc"):
        LocalTool(spec=spec)
    with pytest.raises(ConfigurationError, match="two tools are named 't'"):
        tools_by_name([LocalTool(spec=spec, func=print), LocalTool(spec=spec, func=print)])


# -- Lambda handler, events in the documented format

FUNCTION_EVENT = {
    "messageVersion": "1.0",
    "agent": {"name": "travel", "id": "EITYAHSOCJ", "alias": "NWGOFQESWP", "version": "1"},
    "inputText": "Weather in Seattle?",
    "sessionId": "s-1",
    "actionGroup": "weather_group",
    "function": "get_weather",
    "parameters": [
        {"name": "location", "type": "string", "value": "Seattle"},
        {"name": "days", "type": "integer", "value": "3"},
    ],
    "sessionAttributes": {"user": "ann"},
    "promptSessionAttributes": {"tz": "UTC"},
}

API_EVENT = {
    "messageVersion": "1.0",
    "agent": {"name": "shop", "id": "EITYAHSOCJ", "alias": "NWGOFQESWP", "version": "1"},
    "inputText": "Buy tea",
    "sessionId": "s-2",
    "actionGroup": "shop",
    "apiPath": "/order",
    "httpMethod": "POST",
    "parameters": [],
    "requestBody": {
        "content": {
            "application/json": {
                "properties": [
                    {"name": "item", "type": "string", "value": "tea"},
                    {"name": "quantity", "type": "integer", "value": "4"},
                ]
            }
        }
    },
    "sessionAttributes": {},
    "promptSessionAttributes": {},
}


def test_lambda_handler_function_event():
    handler = build_lambda_handler(list(TOOLS.values()))
    response = handler(FUNCTION_EVENT, None)
    assert response == {
        "messageVersion": "1.0",
        "response": {
            "actionGroup": "weather_group",
            "function": "get_weather",
            "functionResponse": {"responseBody": {"TEXT": {"body": "Seattle: sunny for 3 days"}}},
        },
        "sessionAttributes": {"user": "ann"},
        "promptSessionAttributes": {"tz": "UTC"},
    }


def test_lambda_handler_api_event():
    handler = build_lambda_handler(list(TOOLS.values()))
    response = handler(API_EVENT, None)["response"]
    assert response["apiPath"] == "/order" and response["httpMethod"] == "POST"
    assert response["httpStatusCode"] == 200
    body = json.loads(response["responseBody"]["application/json"]["body"])
    assert body == {"item": "tea", "quantity": 4, "city": None}


def test_lambda_handler_reports_errors_as_the_agent_expects():
    handler = build_lambda_handler(list(TOOLS.values()))
    failed = handler(
        {**FUNCTION_EVENT, "function": "explode", "parameters": [{"name": "reason", "value": "x"}]},
        None,
    )
    function_response = failed["response"]["functionResponse"]
    assert function_response["responseState"] == "FAILURE"
    assert "boom: x" in function_response["responseBody"]["TEXT"]["body"]
    unknown = handler({**FUNCTION_EVENT, "function": "missing"}, None)
    assert unknown["response"]["functionResponse"]["responseState"] == "REPROMPT"
    api_failed = handler({**API_EVENT, "apiPath": "/explode", "requestBody": {}}, None)
    assert api_failed["response"]["httpStatusCode"] in (400, 500)
    with pytest.raises(ConfigurationError, match="not a Bedrock Agents action group event"):
        handler({"messageVersion": "1.0"}, None)


def test_lambda_handler_runs_async_only_tools():
    async def shout(text: str) -> str:
        return text.upper()

    tool = LocalTool(spec=tool_spec("shout", "s", schema_from_function(shout)), afunc=shout)
    handler = build_lambda_handler([tool])
    event = {**FUNCTION_EVENT, "function": "shout", "parameters": [{"name": "text", "value": "hi"}]}
    assert (
        handler(event, None)["response"]["functionResponse"]["responseBody"]["TEXT"]["body"] == "HI"
    )
