"""LangChain 1.x agents and LangGraph with ChatBedrockKit, offline against LocalBedrock's
scripted model (which refuses what Bedrock refuses: unanswered tool calls, unsigned or
altered reasoning, reasoning missing before a tool call when thinking is on)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, ScriptedModel

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


class Weather(BaseModel):
    """The weather."""

    city: str
    summary: str


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _model(server: LocalBedrock, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def _kinds(messages: list[Any]) -> list[str]:
    return [type(m).__name__ for m in messages]


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"output_version": "v1"},
        {"additional_model_request_fields": THINKING},
        {"additional_model_request_fields": THINKING, "output_version": "v1"},
    ],
    ids=["v0", "v1", "thinking", "thinking-v1"],
)
def test_create_agent_runs_the_tool_loop(server, settings):
    agent = create_agent(_model(server, **settings), tools=[get_weather])
    state = agent.invoke({"messages": [HumanMessage('get_weather(city="Oslo")')]})
    messages = state["messages"]
    assert _kinds(messages) == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert messages[2].content == "Sunny in Oslo"
    assert messages[3].text == "The tools returned: Sunny in Oslo"
    assert len(server.requests_for("Converse")) == 2


async def test_create_agent_streams_tokens_over_converse_stream(server):
    agent = create_agent(
        _model(server, additional_model_request_fields=THINKING, output_version="v1"),
        tools=[get_weather],
    )
    pieces = [
        chunk
        async for chunk, _ in agent.astream(
            {"messages": [HumanMessage("weather in Bergen?")]}, stream_mode="messages"
        )
    ]
    texts = [p.text for p in pieces if p.text]
    assert "".join(texts).endswith("The tools returned: Sunny in city")  # schema-made city
    assert len(server.requests_for("ConverseStream")) == 2
    assert not server.requests_for("Converse")


def test_provider_strategy_sends_output_config_and_parses_the_answer(server):
    agent = create_agent(
        _model(server), tools=[get_weather], response_format=ProviderStrategy(Weather)
    )
    state = agent.invoke({"messages": [HumanMessage("Describe Oslo's weather.")]})
    assert isinstance(state["structured_response"], Weather)
    sent = server.requests_for("Converse")[-1].body
    schema = json.loads(sent["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    assert schema["required"] == ["city", "summary"]
    assert sent["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"] == "Weather"


def test_tool_strategy_forces_the_schema_tool(server):
    agent = create_agent(_model(server), tools=[], response_format=ToolStrategy(Weather))
    state = agent.invoke({"messages": [HumanMessage("Oslo?")]})
    assert state["structured_response"] == Weather(city="city", summary="summary")
    assert server.requests_for("Converse")[0].body["toolConfig"]["toolChoice"] == {"any": {}}


@pytest.mark.parametrize(
    "settings",
    [{}, {"output_version": "v1", "additional_model_request_fields": THINKING}],
    ids=["v0", "thinking-v1"],
)
def test_checkpointed_history_round_trips_through_langgraph(server, settings):
    checkpointer = InMemorySaver()  # stores state serialized (LangGraph's JsonPlusSerializer)
    agent = create_agent(_model(server, **settings), tools=[get_weather], checkpointer=checkpointer)
    config = {"configurable": {"thread_id": "t1"}}
    agent.invoke({"messages": [HumanMessage('get_weather(city="Oslo")')]}, config)
    state = agent.invoke({"messages": [HumanMessage("And tomorrow?")]}, config)
    assert _kinds(state["messages"]) == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "HumanMessage",
        "AIMessage",
    ]
    _, second, resumed = (r.body["messages"] for r in server.requests_for("Converse"))
    assert resumed[:3] == second  # the restored history is sent exactly as before
    assert resumed[3]["role"] == "assistant"
    assert resumed[4] == {"role": "user", "content": [{"text": "And tomorrow?"}]}
    assert state["messages"][-1].text == "echo: And tomorrow?"


def test_history_from_a_checkpoint_is_what_the_model_answered(server):
    checkpointer = InMemorySaver()
    agent = create_agent(
        _model(server, additional_model_request_fields=THINKING),
        tools=[get_weather],
        checkpointer=checkpointer,
    )
    config = {"configurable": {"thread_id": "t2"}}
    agent.invoke({"messages": [HumanMessage("weather in Oslo?")]}, config)
    restored = checkpointer.get(config)["channel_values"]["messages"]
    answer = restored[1]
    assert isinstance(answer, AIMessage) and isinstance(restored[2], ToolMessage)
    reasoning = answer.content[0]
    assert reasoning["type"] == "reasoning_content" and reasoning["reasoning_content"]["signature"]
