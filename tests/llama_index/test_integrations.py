"""BedrockKitLLM inside LlamaIndex's own machinery: a query engine over a local index, a chat
engine and a FunctionAgent calling two Python tools. One cassette a test, recorded through
LocalBedrock (``--record-mode=once``) with real boto3/aiobotocore clients.
"""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex, get_response_synthesizer
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.callbacks.schema import EventPayload
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.query_engine import RetrieverQueryEngine

from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events

pytestmark = pytest.mark.vcr

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
DOCS = [
    "Tides rise and fall twice a day because of the Moon's gravity.",
    "The Bay of Fundy has the highest tides in the world, up to 16 metres.",
]


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18 celsius in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _llm(bedrock, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def _sent_messages(debug: LlamaDebugHandler) -> list[list[ChatMessage]]:
    return [
        end.payload[EventPayload.MESSAGES]
        for _, end in debug.get_event_pairs(CBEventType.LLM)
        if end.payload and EventPayload.MESSAGES in end.payload
    ]


def test_query_engine_answers_from_a_local_index(bedrock):
    debug = LlamaDebugHandler()
    llm = _llm(bedrock, callback_manager=CallbackManager([debug]))
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply("The Bay of Fundy, up to 16 metres.", usage=build_usage(180, 12))
        ),
    )
    index = VectorStoreIndex.from_documents(
        # one node: MockEmbedding ties every score, so several nodes would come back in an
        # arbitrary order and the prompt (hence the cassette match) would vary
        [Document(text=" ".join(DOCS))],
        embed_model=MockEmbedding(embed_dim=8),
    )
    # the synthesizer hands its callback manager to the LLM, so give it ours
    synthesizer = get_response_synthesizer(llm=llm, callback_manager=llm.callback_manager)
    engine = RetrieverQueryEngine(index.as_retriever(similarity_top_k=1), synthesizer)
    response = engine.query("Where are the highest tides?")
    assert str(response) == "The Bay of Fundy, up to 16 metres."
    assert len(response.source_nodes) == 1
    [messages] = _sent_messages(debug)
    prompt = "\n".join(m.content or "" for m in messages)
    assert "Bay of Fundy" in prompt and "Where are the highest tides?" in prompt


def test_chat_engine_keeps_the_conversation(bedrock):
    debug = LlamaDebugHandler()
    llm = _llm(bedrock, callback_manager=CallbackManager([debug]))
    bedrock.script("Converse", Reply.json(converse_reply("Nice to meet you, Ada.")))
    bedrock.script(
        "ConverseStream", Reply.events(converse_stream_events("Your name is Ada.", chunk_chars=4))
    )
    engine = SimpleChatEngine.from_defaults(llm=llm)
    assert str(engine.chat("Hi, I am Ada.")) == "Nice to meet you, Ada."
    streamed = engine.stream_chat("What is my name?")
    assert "".join(streamed.response_gen) == "Your name is Ada."
    second = _sent_messages(debug)[-1]
    assert [m.role.value for m in second][-3:] == ["user", "assistant", "user"]
    assert second[-2].content == "Nice to meet you, Ada."


async def test_function_agent_calls_two_python_tools(bedrock):
    llm = _llm(bedrock)
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "Let me check both.",
                tool_uses=[
                    {"name": "get_weather", "input": {"city": "Oslo"}, "toolUseId": "w1"},
                    {"name": "add", "input": {"a": 2, "b": 3}, "toolUseId": "a1"},
                ],
                chunk_chars=6,
            )
        ),
        Reply.events(converse_stream_events("Oslo is 18 celsius and 2 + 3 = 5.", chunk_chars=6)),
    )
    agent = FunctionAgent(tools=[get_weather, add], llm=llm, system_prompt="Use the tools.")
    handler = agent.run(user_msg="Weather in Oslo, and what is 2 + 3?")
    results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
    output = await handler
    assert str(output) == "Oslo is 18 celsius and 2 + 3 = 5."
    assert sorted((r.tool_name, r.tool_kwargs, r.tool_output.raw_output) for r in results) == [
        ("add", {"a": 2, "b": 3}, 5),
        ("get_weather", {"city": "Oslo"}, "18 celsius in Oslo"),
    ]
    await llm.aclose()
