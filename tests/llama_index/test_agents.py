"""LlamaIndex adapter for Bedrock Agents: tools -> action groups, query engine, tool, Lambda."""

import asyncio
import json

import pytest
from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.tools import FunctionTool

from bedrock_kit.core.agents.traces import ActionGroupInvocationStep
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.agents import BedrockAgentQueryEngine
from bedrock_kit.llama_index.tools import (
    action_group_lambda_handler,
    to_tool_spec,
    tools_to_action_group,
)
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import agents as scenario
from tests.support.scenarios import client_args
from tests.support.scenarios.agents import (
    CITED_CHUNK,
    action_group_trace,
    answer,
    control_reply,
    function_call,
    get_weather,
    sent_bodies,
    sent_results,
    text_chunk,
)

weather_tool = FunctionTool.from_defaults(get_weather)
ship_tool = FunctionTool.from_defaults(scenario.ship)
broken_tool = FunctionTool.from_defaults(scenario.broken)


def _engine(server: LocalBedrock, **kwargs) -> BedrockAgentQueryEngine:
    return BedrockAgentQueryEngine(
        scenario.AGENT_ID, scenario.AGENT_ALIAS_ID, **client_args(server), **kwargs
    )


# -- schemas, action groups, Lambda


def test_llama_index_tool_specs_keep_falsy_defaults_optional():
    spec = to_tool_spec(weather_tool)
    assert spec.input_schema["required"] == ["city"]
    assert spec.input_schema["properties"]["days"]["default"] == 0
    assert spec.input_schema["properties"]["metric"]["default"] is False
    assert to_tool_spec(get_weather).input_schema["required"] == ["city"]


def test_tools_to_action_group_accepts_llama_index_tools():
    flat = tools_to_action_group([weather_tool], name="weather")
    params = flat["functionSchema"]["functions"][0]["parameters"]
    assert params["city"]["required"] and not params["days"]["required"]
    nested = tools_to_action_group([weather_tool, ship_tool], name="shop")
    document = json.loads(nested["apiSchema"]["payload"])
    schema = document["paths"]["/ship"]["post"]["requestBody"]["content"]["application/json"]
    assert schema["schema"]["properties"]["to"]["properties"]["street"]["type"] == "string"
    assert "$defs" not in nested["apiSchema"]["payload"]


def test_lambda_handler_runs_llama_index_tools():
    handler = action_group_lambda_handler([weather_tool, broken_tool])
    event = {
        "messageVersion": "1.0",
        "actionGroup": "weather",
        "function": "get_weather",
        "parameters": [
            {"name": "city", "type": "string", "value": "Oslo"},
            {"name": "days", "type": "integer", "value": "4"},
        ],
        "sessionAttributes": {},
        "promptSessionAttributes": {},
    }
    response = handler(event, None)["response"]
    assert (
        response["functionResponse"]["responseBody"]["TEXT"]["body"] == "sunny in Oslo for 4 days"
    )
    failed = handler(
        {**event, "function": "broken", "parameters": [{"name": "reason", "value": "x"}]}, None
    )
    assert failed["response"]["functionResponse"]["responseState"] == "FAILURE"


# -- the query engine over LocalBedrock


def test_query_runs_parallel_tools_and_returns_source_nodes(server):
    server.script(
        "InvokeAgent",
        control_reply(
            function_call("slow_weather", city="Lima"),
            function_call("slow_weather", city="Quito"),
            traces=(action_group_trace("slow_weather"),),
        ),
        Reply.events([CITED_CHUNK]),
    )
    engine = _engine(
        server, tools=[FunctionTool.from_defaults(scenario.barrier_weather())], session_id="li-1"
    )
    response = engine.query("Weather in Lima and Quito?")
    assert isinstance(response, Response)
    assert response.response == "Tides rise twice a day."
    (node,) = response.source_nodes
    assert node.node.get_content() == "The tide rises twice daily."
    assert node.node.metadata["uri"] == "s3://kb/tides.pdf"
    assert response.metadata["session_id"] == "li-1"
    assert isinstance(response.metadata["agent_steps"][0], ActionGroupInvocationStep)
    assert sent_bodies(server) == ["warm in Lima", "warm in Quito"]


def test_streaming_query_keeps_every_chunk(server):
    server.script(
        "InvokeAgent",
        Reply.events([text_chunk(b"a "), text_chunk(b"b "), CITED_CHUNK]),
    )
    response = _engine(server, streaming=True).query("go")
    assert isinstance(response, StreamingResponse)
    assert list(response.response_gen) == ["a ", "b ", "Tides rise twice a day."]
    assert response.metadata["request_ids"]
    assert len(response.source_nodes) == 1


def test_failing_tool_sends_failure(server):
    server.script(
        "InvokeAgent",
        control_reply(function_call("broken", reason="disk")),
        answer(b"It failed."),
    )
    response = _engine(server, tools=[broken_tool]).query("go")
    assert response.response == "It failed."
    (result,) = sent_results(server)
    assert result["functionResult"]["responseState"] == "FAILURE"
    assert "broken: disk" in result["functionResult"]["responseBody"]["TEXT"]["body"]


def test_inline_engine_builds_an_action_group_from_tools(server):
    server.script(
        "InvokeInlineAgent",
        control_reply(function_call("get_weather", city="Oslo")),
        answer(b"Sunny."),
    )
    engine = BedrockAgentQueryEngine(
        foundation_model=scenario.INLINE_MODEL,
        instruction=scenario.INLINE_INSTRUCTION,
        tools=[weather_tool],
        **client_args(server),
    )
    assert engine.query("Oslo?").response == "Sunny."
    (group,) = server.requests_for("InvokeInlineAgent")[0].body["actionGroups"]
    assert group["functionSchema"]["functions"][0]["name"] == "get_weather"
    (result,) = sent_results(server, "InvokeInlineAgent")
    assert result["functionResult"]["responseBody"]["TEXT"]["body"] == "sunny in Oslo for 0 days"


async def test_async_query_with_async_tools_and_streaming(server):
    server.script(
        "InvokeAgent",
        control_reply(function_call("lookup", city="Rome"), function_call("lookup", city="Nice")),
        answer(b"Mild ", b"everywhere."),
    )
    engine = _engine(
        server, tools=[FunctionTool.from_defaults(async_fn=scenario.overlapping_lookup())]
    )
    try:
        response = await engine.aquery("Rome and Nice?")
        assert response.response == "Mild everywhere."
        assert sent_bodies(server) == ["mild in Rome", "mild in Nice"]
        server.script("InvokeAgent", answer(b"x", b"y"))
        engine.streaming = True
        streamed = await engine.aquery("again")
        assert isinstance(streamed, AsyncStreamingResponse)
        assert [t async for t in streamed.response_gen] == ["x", "y"]
    finally:
        await engine.aclose()


def test_engine_as_function_tool(server):
    server.script(
        "InvokeAgent",
        answer(b"Booked."),
        answer(b"Booked again."),
    )
    tool = _engine(server, session_id="sup-2").as_tool(name="travel", description="Books travel.")
    assert tool.metadata.name == "travel"
    assert tool.metadata.get_parameters_dict()["required"] == ["query"]
    assert tool(query="Book Oslo").content == "Booked."
    assert asyncio.run(tool.acall(query="Book Rome")).content == "Booked again."
    assert [r.body["inputText"] for r in server.requests] == ["Book Oslo", "Book Rome"]


def test_configuration_errors():
    with pytest.raises(ConfigurationError, match="agent_alias_id"):
        BedrockAgentQueryEngine("A1")
    with pytest.raises(ConfigurationError, match="inline agent"):
        BedrockAgentQueryEngine()
    with pytest.raises(ConfigurationError, match="agent_id"):
        BedrockAgentQueryEngine("bad id!", "B1", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="at least 40"):
        BedrockAgentQueryEngine(foundation_model="m", instruction="short")


def test_stream_final_response_option_is_sent(server):
    server.script("InvokeAgent", answer(b"a"))
    _engine(server, stream_final_response=True).query("go")
    assert server.requests[0].body["streamingConfigurations"] == {"streamFinalResponse": True}
