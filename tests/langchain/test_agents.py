"""LangChain adapter for Bedrock Agents: tools -> action groups, Runnable, tool, Lambda handler."""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.tools import StructuredTool, tool

from bedrock_kit.core.agents.traces import RationaleStep
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.agents import BedrockAgent, BedrockAgentRunnable, BedrockAgentTool
from bedrock_kit.langchain.tools import (
    action_group_lambda_handler,
    to_tool_spec,
    tools_to_action_group,
)
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import agents as scenario
from tests.support.scenarios import client_args
from tests.support.scenarios.agents import (
    RATIONALE,
    answer,
    control_reply,
    function_call,
    sent_bodies,
    sent_results,
    text_chunk,
)

get_weather = tool(scenario.get_weather)
ship = StructuredTool.from_function(scenario.ship)
broken = tool(scenario.broken)


def _agent(server: LocalBedrock, **kwargs) -> BedrockAgentRunnable:
    return BedrockAgentRunnable(
        agent_id=scenario.AGENT_ID,
        agent_alias_id=scenario.AGENT_ALIAS_ID,
        **client_args(server),
        **kwargs,
    )


# -- schemas and action groups


def test_tool_specs_keep_falsy_defaults_optional():
    spec = to_tool_spec(get_weather)
    assert spec.input_schema["required"] == ["city"]
    assert spec.input_schema["properties"]["days"]["default"] == 0
    assert spec.input_schema["properties"]["metric"]["default"] is False


def test_tools_to_action_group_picks_function_or_openapi():
    flat = tools_to_action_group([get_weather], name="weather", description="Weather tools")
    assert flat["actionGroupExecutor"] == {"customControl": "RETURN_CONTROL"}
    params = flat["functionSchema"]["functions"][0]["parameters"]
    assert params["city"]["required"] is True and params["days"]["required"] is False
    arn = "arn:aws:lambda:us-east-1:123456789012:function:shop"
    nested = tools_to_action_group([get_weather, ship], name="shop", lambda_arn=arn)
    assert nested["actionGroupExecutor"] == {"lambda": arn}
    document = json.loads(nested["apiSchema"]["payload"])
    body = document["paths"]["/ship"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["to"]["properties"]["city"]["default"] == "Seattle"
    assert body["schema"]["required"] == ["item", "to"]
    with pytest.raises(ConfigurationError, match="action group name"):
        tools_to_action_group([get_weather], name="bad name")


def test_lambda_handler_runs_langchain_tools():
    handler = action_group_lambda_handler([get_weather, ship, broken])
    event = {
        "messageVersion": "1.0",
        "agent": {"name": "a", "id": "A1", "alias": "B1", "version": "1"},
        "actionGroup": "shop",
        "apiPath": "/ship",
        "httpMethod": "POST",
        "parameters": [],
        "requestBody": {
            "content": {
                "application/json": {
                    "properties": [
                        {"name": "item", "type": "string", "value": "tea"},
                        {"name": "to", "type": "object", "value": '{"street": "Pike"}'},
                    ]
                }
            }
        },
        "sessionAttributes": {"s": "1"},
        "promptSessionAttributes": {},
    }
    response = handler(event, None)
    assert response["response"]["httpStatusCode"] == 200
    assert response["response"]["responseBody"]["application/json"]["body"] == "0 x tea to Seattle"
    assert response["sessionAttributes"] == {"s": "1"}
    failed = handler(
        {
            "messageVersion": "1.0",
            "actionGroup": "g",
            "function": "broken",
            "parameters": [{"name": "reason", "type": "string", "value": "disk"}],
        },
        None,
    )
    assert failed["response"]["functionResponse"]["responseState"] == "FAILURE"


# -- the Runnable over LocalBedrock


def test_invoke_runs_two_parallel_tool_calls_and_returns_typed_metadata(server):
    slow_weather = tool(scenario.barrier_weather())
    server.script(
        "InvokeAgent",
        control_reply(
            function_call("slow_weather", city="Lima"),
            function_call("slow_weather", city="Quito"),
            traces=(RATIONALE,),
        ),
        answer(b"Warm in ", b"both."),
    )
    agent = _agent(server, tools=[slow_weather], session_id="sess-9")
    message = agent.invoke("Weather in Lima and Quito?")
    assert isinstance(message, AIMessage)
    assert message.content == "Warm in both."
    assert message.response_metadata["session_id"] == "sess-9"
    assert isinstance(message.response_metadata["agent_steps"][0], RationaleStep)
    assert [o.output for o in message.response_metadata["tool_outcomes"]] == [
        "warm in Lima",
        "warm in Quito",
    ]
    assert sent_bodies(server) == ["warm in Lima", "warm in Quito"]


def test_stream_yields_every_chunk_and_a_final_metadata_chunk(server):
    server.script(
        "InvokeAgent",
        Reply.events(
            [
                RATIONALE,
                text_chunk(b"one "),
                text_chunk(b"two "),
                text_chunk(b"three"),
            ]
        ),
    )
    chunks = list(_agent(server).stream({"input": "count", "session_id": "sess-2"}))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.content for c in chunks if c.content] == ["one ", "two ", "three"]
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.content == "one two three"
    assert full.response_metadata["session_id"] == "sess-2"
    assert len(full.response_metadata["agent_steps"]) == 1
    assert server.requests[0].path.endswith("/sessions/sess-2/text")


def test_failing_tool_sends_failure(server):
    server.script(
        "InvokeAgent",
        control_reply(function_call("broken", reason="disk")),
        answer(b"It failed."),
    )
    message = _agent(server, tools=[broken]).invoke("go")
    assert message.content == "It failed."
    (result,) = sent_results(server)
    assert result["functionResult"]["responseState"] == "FAILURE"
    assert "broken: disk" in result["functionResult"]["responseBody"]["TEXT"]["body"]


def test_messages_input_sends_history(server):
    server.script("InvokeAgent", answer(b"ok"))
    _agent(server).invoke(
        [HumanMessage("Hi"), AIMessage("Hello!"), HumanMessage("Weather in Oslo?")]
    )
    body = server.requests[0].body
    assert body["inputText"] == "Weather in Oslo?"
    assert body["sessionState"]["conversationHistory"]["messages"] == [
        {"role": "user", "content": [{"text": "Hi"}]},
        {"role": "assistant", "content": [{"text": "Hello!"}]},
    ]


def test_inline_agent_builds_an_action_group_from_tools(server):
    server.script(
        "InvokeInlineAgent",
        control_reply(function_call("get_weather", city="Oslo", days="2")),
        answer(b"Sunny."),
    )
    agent = BedrockAgentRunnable(
        foundation_model=scenario.INLINE_MODEL,
        instruction=scenario.INLINE_INSTRUCTION,
        tools=[get_weather],
        **client_args(server),
    )
    assert agent.invoke("Oslo?").content == "Sunny."
    first = server.requests_for("InvokeInlineAgent")[0].body
    (group,) = first["actionGroups"]
    assert group["actionGroupExecutor"] == {"customControl": "RETURN_CONTROL"}
    assert group["functionSchema"]["functions"][0]["name"] == "get_weather"
    (result,) = sent_results(server, "InvokeInlineAgent")
    assert result["functionResult"]["responseBody"]["TEXT"]["body"] == "sunny in Oslo for 2 days"


async def test_async_invoke_and_stream_with_async_tools(server):
    lookup = StructuredTool.from_function(
        coroutine=scenario.overlapping_lookup(), name="lookup", description="Look up."
    )
    server.script(
        "InvokeAgent",
        control_reply(function_call("lookup", city="Rome"), function_call("lookup", city="Nice")),
        answer(b"Mild ", b"everywhere."),
        answer(b"again"),
    )
    agent = _agent(server, tools=[lookup])
    try:
        message = await agent.ainvoke("Rome and Nice?")
        assert message.content == "Mild everywhere."
        assert sent_bodies(server) == ["mild in Rome", "mild in Nice"]
        texts = [c.content async for c in agent.astream("again?") if c.content]
        assert texts == ["again"]
    finally:
        await agent.aclose()


def test_agent_as_tool_for_a_supervisor(server):
    server.script(
        "InvokeAgent",
        answer(b"Booked."),
        answer(b"Booked again."),
    )
    agent_tool = _agent(server, session_id="sup-1").as_tool(
        name="travel_agent", description="Books travel."
    )
    assert isinstance(agent_tool, BedrockAgentTool)
    assert agent_tool.name == "travel_agent"
    assert agent_tool.invoke({"query": "Book Oslo"}) == "Booked."
    assert asyncio.run(agent_tool.ainvoke({"query": "Book Rome"})) == "Booked again."
    assert [r.body["inputText"] for r in server.requests] == ["Book Oslo", "Book Rome"]
    assert all(r.path.endswith("/sessions/sup-1/text") for r in server.requests)


def test_configuration_errors_before_any_request():
    with pytest.raises(ConfigurationError, match="agent_alias_id"):
        BedrockAgentRunnable(agent_id="A1")
    with pytest.raises(ConfigurationError, match="inline agent"):
        BedrockAgentRunnable()
    agent = BedrockAgent(agent_id="A1", agent_alias_id="B1", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="'input'"):
        agent.build_request({"text": "hi"})
    with pytest.raises(ConfigurationError, match="system"):
        from langchain_core.messages import SystemMessage

        agent.build_request([SystemMessage("be nice"), HumanMessage("hi")])
    with pytest.raises(ConfigurationError, match="args_schema"):
        agent.as_tool(args_schema=dict)
    with pytest.raises(ConfigurationError, match="Lambda function ARN"):
        tools_to_action_group([get_weather], name="g", lambda_arn="nope")


def test_lcel_pipeline_prompt_agent_parser(server):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

    server.script(
        "InvokeAgent",
        answer(b"Pack ", b"an umbrella."),
        answer(b"ok"),
    )
    agent = _agent(server, stream_final_response=True)
    chain = PromptTemplate.from_template("Trip advice for {city}") | agent | StrOutputParser()
    assert chain.invoke({"city": "Bergen"}) == "Pack an umbrella."
    first = server.requests[0].body
    assert first["inputText"] == "Trip advice for Bergen"
    assert first["streamingConfigurations"] == {"streamFinalResponse": True}
    chat = ChatPromptTemplate.from_messages([("human", "Hi {name}")]) | agent
    assert chat.invoke({"name": "Ann"}).content == "ok"
    assert server.requests[1].body["inputText"] == "Hi Ann"
