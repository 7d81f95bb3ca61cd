"""Ledger tags in LangChain: a ``bedrock_kit_tags`` metadata key on a chain tags every
bedrock-kit call in it, ``ledger_tags=`` per instance, sync/async/stream, over LocalBedrock."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from bedrock_kit import Ledger, summarize, tagged
from bedrock_kit.core.budget.tags import tags_of
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockGuardrail,
    BedrockRetrieveAndGenerate,
    ChatBedrockKit,
)
from bedrock_kit.langchain.budget import TokenBudgetCallbackHandler
from bedrock_kit.langchain.embeddings import BedrockKitEmbeddings
from bedrock_kit.langchain.rerank import BedrockRerank
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply

NOVA = "us.amazon.nova-micro-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
GUARD_UNITS = {"contentPolicyUnits": 1}


def _tags(**tags: str) -> dict[str, Any]:
    return {"metadata": {"bedrock_kit_tags": tags}}


def _chat(server: LocalBedrock, ledger: Ledger | None, **kw: Any) -> ChatBedrockKit:
    return ChatBedrockKit(model=NOVA, max_tokens=50, ledger=ledger, **server.client_kwargs(), **kw)


def _guard(server: LocalBedrock, ledger: Ledger) -> BedrockGuardrail:
    return BedrockGuardrail(
        guardrail_id="gr1", ledger=ledger, guardrail_policies=["content"], **server.client_kwargs()
    )


def _script_guard(server: LocalBedrock, times: int = 1) -> None:
    reply = {"action": "NONE", "outputs": [], "assessments": [], "usage": GUARD_UNITS}
    server.script("ApplyGuardrail", *[Reply.json(reply) for _ in range(times)])


def _agent_reply() -> Reply:
    trace = {"agentId": "AG1", "sessionId": "s-1"}
    usage = {"usage": {"inputTokens": 300, "outputTokens": 40}}
    return Reply.events(
        [
            {
                "trace": {
                    **trace,
                    "trace": {
                        "orchestrationTrace": {
                            "modelInvocationInput": {"foundationModel": HAIKU, "text": "{}"}
                        }
                    },
                }
            },
            {
                "trace": {
                    **trace,
                    "trace": {"orchestrationTrace": {"modelInvocationOutput": {"metadata": usage}}},
                }
            },
            {"chunk": {"bytes": b"Booked."}},
        ]
    )


def _tag_cost(ledger: Ledger, key: str) -> Decimal:
    return summarize(ledger).by_tag[key].cost


def test_one_metadata_tag_on_an_lcel_chain_charges_every_bedrock_kit_step(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    kw = server.client_kwargs()
    _script_guard(server)
    server.script(
        "RetrieveAndGenerate",
        Reply.json({"output": {"text": "Oslo."}, "sessionId": "s-1", "citations": []}),
    )
    server.script("InvokeAgent", _agent_reply())
    server.script("Converse", Reply.json(converse_reply("Done.", usage=build_usage(40, 7))))
    embeddings = BedrockKitEmbeddings(model=TITAN, ledger=ledger, **kw)
    rerank = BedrockRerank(model="amazon.rerank-v1:0", ledger=ledger, top_n=1, **kw)
    rag = BedrockRetrieveAndGenerate(
        knowledge_base_id="KB1", model=HAIKU, ledger=ledger, max_tokens_per_invocation=500, **kw
    )
    agent = BedrockAgentRunnable(
        agent_id="AG1",
        agent_alias_id="AL1",
        ledger=ledger,
        max_tokens_per_invocation=2000,
        budget_model_id=HAIKU,
        **kw,
    )

    def embed_and_rerank(question: str) -> str:
        embeddings.embed_query(question)
        docs = [Document(page_content="Oslo meeting"), Document(page_content="tides")]
        return rerank.compress_documents(docs, question)[0].page_content

    chain = (
        _guard(server, ledger)
        | RunnableLambda(embed_and_rerank)
        | rag
        | (lambda out: out["answer"])
        | agent
        | (lambda message: message.text)
        | _chat(server, ledger)
    )
    chain.invoke("Where is the meeting?", config=_tags(tenant="acme"))
    operations = [r.operation for r in server.requests]
    assert operations == [
        "ApplyGuardrail",
        "InvokeModel",
        "Rerank",
        "RetrieveAndGenerate",
        "InvokeAgent",
        "CountTokens",
        "Converse",
    ] or operations == [
        "ApplyGuardrail",
        "InvokeModel",
        "Rerank",
        "RetrieveAndGenerate",
        "InvokeAgent",
        "Converse",
    ]
    summary = summarize(ledger)
    # Every charge of the run is the tag's too, row for row.
    assert summary.by_tag["tenant=acme"].cost == ledger.spent() > 0
    tag_rows = {r.model_id: r.cost for r in ledger.report("tag:tenant=acme").rows}
    run_rows = {r.model_id: r.cost for r in ledger.report().rows}
    assert tag_rows == run_rows
    assert len(run_rows) >= 6  # guardrail, embeddings, rerank, RAG, agent model, chat
    assert set(summary.by_operation) >= {"chat", "guardrail", "embeddings", "rerank"}


def test_a_per_call_tag_beats_the_instance_tag_of_its_key_and_merges_with_the_rest(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger, ledger_tags={"tenant": "default", "feature": "search"})
    llm.invoke("a")
    llm.invoke("b", config=_tags(tenant="acme"))
    summary = summarize(ledger)
    assert set(summary.by_tag) == {"tenant=default", "feature=search", "tenant=acme"}
    assert summary.by_tag["feature=search"].calls == 2
    assert summary.by_tag["tenant=default"].calls == 1
    assert summary.by_tag["tenant=acme"].calls == 1
    total = summary.by_tag["tenant=default"].cost + summary.by_tag["tenant=acme"].cost
    assert total == summary.by_tag["feature=search"].cost == ledger.spent()


def test_an_enclosing_tagged_block_is_not_charged_twice(server: LocalBedrock) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger, ledger_tags={"tenant": "acme"})
    with tagged(ledger, tenant="acme"):
        llm.invoke("a", config=_tags(tenant="acme"))
    report = ledger.report("tag:tenant=acme")
    assert report.total.calls == 1
    assert report.total.cost == ledger.spent()


def test_async_calls_and_streams_charge_their_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger)

    async def run() -> None:
        await llm.ainvoke("a", config=_tags(tenant="a"))
        async for _ in llm.astream("b", config=_tags(tenant="b")):
            pass
        await asyncio.gather(
            llm.ainvoke("c", config=_tags(tenant="c")), llm.ainvoke("d", config=_tags(tenant="d"))
        )

    asyncio.run(run())
    list(llm.stream("e", config=_tags(tenant="e")))
    summary = summarize(ledger)
    assert {k: v.calls for k, v in summary.by_tag.items()} == {f"tenant={t}": 1 for t in "abcde"}
    assert sum(v.cost for v in summary.by_tag.values()) == ledger.spent() > 0
    assert ledger.open_reservations() == 0


def test_a_sync_stream_consumed_later_on_another_thread_charges_its_tags(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger)
    stream = llm.stream("a", config=_tags(tenant="late"))
    pieces: list[Any] = []
    worker = threading.Thread(target=lambda: pieces.extend(stream))
    worker.start()
    worker.join()
    assert pieces
    assert summarize(ledger).by_tag["tenant=late"].cost == ledger.spent() > 0
    # The tag is active only while the stream computes: nothing leaked into this thread.
    assert ledger.active_scopes() == ()


def test_the_budget_callback_charges_the_runs_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    handler = TokenBudgetCallbackHandler(ledger)
    llm = _chat(server, None)
    config = {"callbacks": [handler], **_tags(tenant="cb")}
    llm.invoke("a", config=config)  # type: ignore[arg-type]
    asyncio.run(llm.ainvoke("b", config=config))  # type: ignore[arg-type]
    summary = summarize(ledger)
    assert summary.by_tag["tenant=cb"].calls == 2
    assert summary.by_tag["tenant=cb"].cost == ledger.spent() > 0


def test_guardrail_batch_and_stream_guard_charge_their_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    _script_guard(server, 2)
    guard = _guard(server, ledger)
    guard.batch(["one", "two"], config=_tags(step="batch"))  # type: ignore[arg-type]
    chunks = list(guard.stream_guard().stream("a short answer", config=_tags(step="stream")))
    assert chunks
    summary = summarize(ledger)
    assert summary.by_tag["step=batch"].calls == 1
    assert summary.by_tag["step=stream"].calls >= 1
    assert summary.by_tag["step=batch"].cost + summary.by_tag["step=stream"].cost == (
        ledger.spent()
    )


@pytest.mark.parametrize(
    "bad",
    [
        ["tenant", "acme"],
        {"ten=ant": "acme"},
        {1: "acme"},
        {"": "acme"},
        {"tenant": ["acme"]},
        {"tenant": None},
    ],
)
def test_bad_metadata_tags_are_refused_before_any_request(server: LocalBedrock, bad: Any) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger)
    config = {"metadata": {"bedrock_kit_tags": bad}}
    with pytest.raises(ConfigurationError, match="bedrock_kit_tags"):
        llm.invoke("a", config=config)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="bedrock_kit_tags"):
        list(llm.stream("a", config=config))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="bedrock_kit_tags"):
        _guard(server, ledger).invoke("a", config=config)  # type: ignore[arg-type]
    assert server.requests == []
    assert ledger.spent() == 0 and ledger.open_reservations() == 0


@pytest.mark.parametrize("bad", ["tenant=acme", {"a=b": "c"}, {"tenant": object()}])
def test_bad_instance_tags_are_refused_at_construction(server: LocalBedrock, bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        _chat(server, Ledger(), ledger_tags=bad)
    with pytest.raises(ConfigurationError, match="ledger_tags"):
        BedrockKitEmbeddings(model=TITAN, ledger=Ledger(), ledger_tags=bad)


def test_langchain_callback_tags_are_not_ledger_tags(server: LocalBedrock) -> None:
    ledger = Ledger()
    _chat(server, ledger).invoke("a", config={"tags": ["tenant=acme"]})
    assert tags_of(ledger) == []


def test_a_stream_made_in_a_tagged_block_charges_it_when_consumed_after_the_block(
    server: LocalBedrock,
) -> None:
    ledger = Ledger()
    llm = _chat(server, ledger)
    with tagged(ledger, tenant="acme"):
        stream = llm.stream("a", config=_tags(step="answer"))
    assert ledger.active_scopes() == ()
    assert list(stream)
    summary = summarize(ledger)
    assert {k: v.calls for k, v in summary.by_tag.items()} == {"tenant=acme": 1, "step=answer": 1}
    assert summary.by_tag["tenant=acme"].cost == ledger.spent() > 0


def test_an_agent_as_a_tool_and_a_flow_charge_the_runs_tags(server: LocalBedrock) -> None:
    from bedrock_kit.langchain.flows import BedrockFlowRunnable
    from bedrock_kit.testing import flows as fb

    ledger = Ledger()
    kw = server.client_kwargs()
    server.script("InvokeAgent", _agent_reply())
    server.script("InvokeFlow", *[fb.flow_reply(fb.flow_events("done")) for _ in range(3)])
    agent = BedrockAgentRunnable(
        agent_id="AG1",
        agent_alias_id="AL1",
        ledger=ledger,
        max_tokens_per_invocation=2000,
        budget_model_id=HAIKU,
        **kw,
    )
    agent.as_tool().invoke({"query": "Book it."}, config=_tags(step="tool"))  # type: ignore[arg-type]
    flow = BedrockFlowRunnable(
        flow_id="FLOW123456",
        flow_alias_id="ALIAS12345",
        ledger=ledger,
        max_node_transitions_per_invocation=10,
        ledger_tags={"tenant": "acme"},
        **kw,
    )
    flow.invoke("x", config=_tags(step="flow"))
    list(flow.stream("x", config=_tags(step="flow-stream")))

    async def run() -> None:
        await flow.ainvoke("x")

    asyncio.run(run())
    assert {k: v.calls for k, v in summarize(ledger).by_tag.items()} == {
        "step=tool": 1,
        "tenant=acme": 3,
        "step=flow": 1,
        "step=flow-stream": 1,
    }
    summary = summarize(ledger)
    assert summary.by_tag["step=tool"].cost + summary.by_tag["tenant=acme"].cost == (ledger.spent())
