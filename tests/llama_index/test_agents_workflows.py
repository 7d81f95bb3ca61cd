"""BedrockKitLLM inside LlamaIndex's agents and chat engines, offline against LocalBedrock's
scripted model (Bedrock's request rules enforced): FunctionAgent, AgentWorkflow with a
handoff, ReActAgent, CondensePlusContextChatEngine; TokenCountingHandler counts exactly
what the server billed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Settings
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ReActAgent
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.chat_engine import CondensePlusContextChatEngine
from llama_index.core.tools import FunctionTool

from bedrock_kit.llama_index import BedrockKitLLM, BedrockKnowledgeBaseRetriever
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply, ScriptedModel

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


def _retrieve(request: ReceivedRequest) -> Reply:
    query = request.body["retrievalQuery"]["text"]
    return Reply.json(
        {
            "retrievalResults": [
                {
                    "content": {"text": f"Tides rise twice a day ({query}).", "type": "TEXT"},
                    "location": {"type": "S3", "s3Location": {"uri": "s3://docs/tides.txt"}},
                    "score": 0.9,
                }
            ]
        }
    )


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def server(model: ScriptedModel) -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        model.install(local)
        local.set_default("Retrieve", _retrieve)
        yield local


def _llm(server: LocalBedrock, **kwargs: Any) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def _chat_requests(server: LocalBedrock) -> list[ReceivedRequest]:
    return [r for r in server.requests if r.operation in ("Converse", "ConverseStream")]


def _billed(server: LocalBedrock, model: ScriptedModel) -> tuple[int, int]:
    usages = [model.usage(r.body) for r in _chat_requests(server)]
    return sum(u["inputTokens"] for u in usages), sum(u["outputTokens"] for u in usages)


@pytest.mark.parametrize(
    "extra", [{}, {"additional_model_request_fields": THINKING}], ids=["plain", "thinking"]
)
async def test_function_agent_runs_the_tool_loop(server, extra):
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(get_weather)], llm=_llm(server, **extra)
    )
    result = await agent.run("get_weather(city='Oslo')")
    assert str(result) == "The tools returned: Sunny in Oslo"
    _, second = (r.body for r in _chat_requests(server))
    assert [next(iter(b)) for b in second["messages"][1]["content"]][-1] == "toolUse"
    if extra:  # the rules checked the signed reasoning came back first
        assert "reasoningContent" in second["messages"][1]["content"][0]
    assert second["messages"][2]["content"][0]["toolResult"]["content"] == [
        {"text": "Sunny in Oslo"}
    ]


async def test_agent_workflow_hands_off_between_agents(server):
    weather = FunctionAgent(
        name="weather",
        description="Answers weather questions.",
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=_llm(server),
    )
    desk = FunctionAgent(
        name="desk",
        description="Front desk.",
        tools=[],
        llm=_llm(server),
        can_handoff_to=["weather"],
    )
    workflow = AgentWorkflow(agents=[desk, weather], root_agent="desk")
    result = await workflow.run("handoff(to_agent='weather', reason='a weather question')")
    assert "Agent weather is now handling the request" in str(result)
    tools_seen = [
        sorted(t["toolSpec"]["name"] for t in r.body["toolConfig"]["tools"])
        for r in _chat_requests(server)
    ]
    assert tools_seen == [["handoff"], ["get_weather", "handoff"]]


async def test_react_agent_speaks_react_and_uses_the_tool(server):
    agent = ReActAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=_llm(server))
    result = await agent.run("get_weather(city='Bergen')")
    assert str(result) == "The tools returned: Sunny in Bergen"
    last = _chat_requests(server)[-1].body["messages"]
    assert last[-1]["content"] == [{"text": "Observation: Sunny in Bergen"}]
    assert "Action: get_weather" in last[-2]["content"][0]["text"]


@pytest.fixture
def settings_handler(monkeypatch: pytest.MonkeyPatch) -> TokenCountingHandler:
    # Chat engines give their LLM the global callback manager, LlamaIndex's documented way.
    handler = TokenCountingHandler()
    monkeypatch.setattr(Settings, "_callback_manager", CallbackManager([handler]))
    return handler


def test_condense_plus_context_chat_engine_uses_retrieved_context(server, model, settings_handler):
    handler = settings_handler
    llm = _llm(server)
    retriever = BedrockKnowledgeBaseRetriever(
        "KB12345678", endpoint_url=server.endpoint_url, region_name="us-east-1"
    )
    engine = CondensePlusContextChatEngine.from_defaults(retriever, llm=llm)
    first = engine.chat("How often do tides rise?")
    second = engine.stream_chat("And why?")
    streamed = "".join(second.response_gen)
    assert first.response.startswith("echo: ")
    assert streamed.startswith("echo: ")
    assert [s.node.get_content() for s in first.source_nodes] == [
        "Tides rise twice a day (How often do tides rise?)."
    ]
    requests = _chat_requests(server)
    assert [r.operation for r in requests] == ["Converse", "Converse", "ConverseStream"]
    system = requests[-1].body["system"][0]["text"]
    assert "Tides rise twice a day" in system  # the condensed question's context
    prompt, completion = _billed(server, model)
    assert (handler.prompt_llm_token_count, handler.completion_llm_token_count) == (
        prompt,
        completion,
    )
    assert handler.total_llm_token_count == prompt + completion


async def test_token_counting_is_exact_through_an_agent(server, model):
    handler = TokenCountingHandler()
    llm = _llm(server, callback_manager=CallbackManager([handler]))
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm)
    await agent.run("get_weather(city='Oslo')")
    prompt, completion = _billed(server, model)
    assert prompt > 0 and completion > 0
    assert (handler.prompt_llm_token_count, handler.completion_llm_token_count) == (
        prompt,
        completion,
    )
