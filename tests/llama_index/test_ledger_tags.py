"""Ledger tags in LlamaIndex: ``ledger_tags=`` per instance and per call (chat, achat,
stream_chat, astream_chat, complete, flows), sync/async/stream, over LocalBedrock."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from bedrock_kit import Ledger, summarize, tagged
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index import (
    BedrockAgentQueryEngine,
    BedrockFlow,
    BedrockGuardrail,
    BedrockKitLLM,
    BedrockRetrieveAndGenerateQueryEngine,
    GuardedQueryEngine,
)
from bedrock_kit.llama_index.budget import TokenBudgetHandler
from bedrock_kit.llama_index.embeddings import BedrockKitEmbedding
from bedrock_kit.llama_index.rerank import BedrockRerank
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing import flows as fb

NOVA = "us.amazon.nova-micro-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
HELLO = [ChatMessage(role="user", content="hello")]


def _llm(server: LocalBedrock, ledger: Ledger | None, **kw: Any) -> BedrockKitLLM:
    return BedrockKitLLM(model=NOVA, max_tokens=50, ledger=ledger, **server.client_kwargs(), **kw)


def _by_tag(ledger: Ledger) -> dict[str, int]:
    return {key: row.calls for key, row in summarize(ledger).by_tag.items()}


def _guard_reply() -> Reply:
    usage = {"contentPolicyUnits": 1}
    return Reply.json({"action": "NONE", "outputs": [], "assessments": [], "usage": usage})


def test_per_call_tags_on_every_chat_form_and_complete(server: LocalBedrock) -> None:
    ledger = Ledger()
    llm = _llm(server, ledger)
    llm.chat(HELLO, ledger_tags={"tenant": "chat"})
    llm.complete("hello", ledger_tags={"tenant": "complete"})
    list(llm.stream_chat(HELLO, ledger_tags={"tenant": "stream"}))
    list(llm.stream_complete("hello", ledger_tags={"tenant": "stream_complete"}))

    async def run() -> None:
        await llm.achat(HELLO, ledger_tags={"tenant": "achat"})
        async for _ in await llm.astream_chat(HELLO, ledger_tags={"tenant": "astream"}):
            pass
        await llm.acomplete("hello", ledger_tags={"tenant": "acomplete"})

    asyncio.run(run())
    forms = ["chat", "complete", "stream", "stream_complete", "achat", "astream", "acomplete"]
    assert _by_tag(ledger) == {f"tenant={form}": 1 for form in forms}
    summary = summarize(ledger)
    assert sum(row.cost for row in summary.by_tag.values()) == ledger.spent() > 0
    assert ledger.open_reservations() == 0


def test_a_per_call_tag_beats_the_instance_tag_of_its_key(server: LocalBedrock) -> None:
    ledger = Ledger()
    llm = _llm(server, ledger, ledger_tags={"tenant": "default", "feature": "search"})
    llm.chat(HELLO)
    llm.chat(HELLO, ledger_tags={"tenant": "acme"})
    assert _by_tag(ledger) == {"tenant=default": 1, "feature=search": 2, "tenant=acme": 1}
    summary = summarize(ledger)
    assert summary.by_tag["feature=search"].cost == ledger.spent()
    assert (
        summary.by_tag["tenant=default"].cost + summary.by_tag["tenant=acme"].cost == ledger.spent()
    )


def test_a_stream_made_in_a_tagged_block_charges_it_when_consumed_later_elsewhere(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    llm = _llm(server, ledger)
    with tagged(ledger, tenant="acme"):
        stream = llm.stream_chat(HELLO, ledger_tags={"step": "answer"})
    got: list[Any] = []
    worker = threading.Thread(target=lambda: got.extend(stream))
    worker.start()
    worker.join()
    assert got
    assert _by_tag(ledger) == {"tenant=acme": 1, "step=answer": 1}
    assert summarize(ledger).by_tag["tenant=acme"].cost == ledger.spent() > 0
    assert ledger.active_scopes() == ()


@pytest.mark.parametrize(
    "bad", [["tenant"], {"a=b": "c"}, {3: "c"}, {"tenant": None}, {"tenant": {"x": 1}}]
)
def test_bad_call_tags_are_refused_before_any_request(server: LocalBedrock, bad: Any) -> None:
    ledger = Ledger()
    llm = _llm(server, ledger)
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        llm.chat(HELLO, ledger_tags=bad)
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        llm.stream_chat(HELLO, ledger_tags=bad)
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        asyncio.run(llm.achat(HELLO, ledger_tags=bad))
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        _llm(server, ledger, ledger_tags=bad)
    assert server.requests == []
    assert ledger.spent() == 0 and ledger.open_reservations() == 0


def test_the_budget_handler_charges_the_call_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    handler = TokenBudgetHandler(ledger)
    llm = _llm(server, None, callback_manager=CallbackManager([handler]))
    llm.chat(HELLO, ledger_tags={"tenant": "cb"})
    list(llm.stream_chat(HELLO, ledger_tags={"tenant": "cb"}))
    assert _by_tag(ledger) == {"tenant=cb": 2}
    assert summarize(ledger).by_tag["tenant=cb"].cost == ledger.spent() > 0


def test_guardrail_query_engine_rag_embeddings_and_rerank_charge_instance_tags(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    kw = server.client_kwargs()
    tags = {"tenant": "acme"}
    server.script("ApplyGuardrail", _guard_reply(), _guard_reply())
    server.script(
        "RetrieveAndGenerate",
        Reply.json({"output": {"text": "Oslo."}, "sessionId": "s-1", "citations": []}),
    )
    guard = BedrockGuardrail(
        guardrail_id="gr1", ledger=ledger, guardrail_policies=["content"], ledger_tags=tags, **kw
    )
    rag = BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id="KB1",
        model=HAIKU,
        ledger=ledger,
        max_tokens_per_invocation=500,
        ledger_tags={"step": "rag"},
        **kw,
    )
    answer = GuardedQueryEngine(rag, guard).query("Where is the meeting?")
    assert str(answer) == "Oslo."
    embed = BedrockKitEmbedding(model=TITAN, ledger=ledger, ledger_tags=tags, **kw)
    embed.get_query_embedding("tides")
    rerank = BedrockRerank(
        model="amazon.rerank-v1:0", ledger=ledger, top_n=1, ledger_tags=tags, **kw
    )
    nodes = [NodeWithScore(node=TextNode(text=t)) for t in ("Oslo meeting", "tides")]
    rerank.postprocess_nodes(nodes, QueryBundle("meeting"))
    summary = summarize(ledger)
    assert set(summary.by_operation) >= {"guardrail", "retrieval", "embeddings", "rerank"}
    assert summary.by_tag["step=rag"].cost == summary.by_operation["retrieval"].cost
    # Every call but RAG's is the tenant's: two guardrail checks, the embedding, the rerank.
    assert summary.by_tag["tenant=acme"].calls == 4
    assert summary.by_tag["tenant=acme"].cost + summary.by_tag["step=rag"].cost == ledger.spent()


def test_streaming_rag_and_agent_query_engines_charge_their_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    kw = server.client_kwargs()
    rag = BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id="KB1",
        model=HAIKU,
        ledger=ledger,
        max_tokens_per_invocation=500,
        streaming=True,
        ledger_tags={"step": "rag"},
        **kw,
    )
    response = rag.query("Where?")
    "".join(response.response_gen)  # type: ignore[union-attr]
    agent = BedrockAgentQueryEngine(
        "AG1",
        "AL1",
        ledger=ledger,
        max_tokens_per_invocation=1000,
        budget_model_id=HAIKU,
        ledger_tags={"step": "agent"},
        **kw,
    )
    agent.query("Book it.")

    async def run() -> None:
        streaming = BedrockAgentQueryEngine(
            "AG1",
            "AL1",
            ledger=ledger,
            max_tokens_per_invocation=1000,
            budget_model_id=HAIKU,
            streaming=True,
            ledger_tags={"step": "astream"},
            **kw,
        )
        result = await streaming.aquery("Book it.")
        async for _ in result.response_gen:  # type: ignore[union-attr]
            pass

    asyncio.run(run())
    assert _by_tag(ledger) == {"step=rag": 1, "step=agent": 1, "step=astream": 1}
    summary = summarize(ledger)
    assert sum(row.cost for row in summary.by_tag.values()) == ledger.spent() > 0


def test_flows_take_per_call_and_instance_tags(server: LocalBedrock) -> None:
    server.script("InvokeFlow", *[fb.flow_reply(fb.flow_events("done")) for _ in range(3)])
    ledger = Ledger()
    flow = BedrockFlow(
        "FLOW123456",
        "ALIAS12345",
        ledger=ledger,
        max_node_transitions_per_invocation=10,
        ledger_tags={"tenant": "acme"},
        **server.client_kwargs(),
    )
    flow.invoke("x")
    list(flow.stream("x", ledger_tags={"tenant": "other"}))

    async def run() -> None:
        try:
            await flow.ainvoke("x", ledger_tags={"step": "async"})
        finally:
            await flow.aclose()

    asyncio.run(run())
    assert _by_tag(ledger) == {"tenant=acme": 2, "tenant=other": 1, "step=async": 1}
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        flow.invoke("x", ledger_tags={"a=b": "c"})
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        BedrockFlow("FLOW123456", "ALIAS12345", ledger_tags="tenant=acme")


def test_the_budget_handler_settles_a_stream_consumed_on_another_thread_to_its_tags(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    handler = TokenBudgetHandler(ledger)
    llm = _llm(server, None, callback_manager=CallbackManager([handler]))
    stream = llm.stream_chat(HELLO, ledger_tags={"tenant": "thread"})
    got: list[Any] = []
    worker = threading.Thread(target=lambda: got.extend(stream))
    worker.start()
    worker.join()
    assert got and handler.open_runs == 0
    assert _by_tag(ledger) == {"tenant=thread": 1}
    assert summarize(ledger).by_tag["tenant=thread"].cost == ledger.spent() > 0
