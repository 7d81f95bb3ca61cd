"""A LlamaIndex pipeline on one Ledger over LocalBedrock, billed from LocalBedrock's log.

Input guardrail, retriever, reranker (node postprocessor), embeddings, the
RetrieveAndGenerate query engine, the agent query engine and a guarded stream
(BedrockKitLLM.stream_chat with an in-request guardrail in sync stream mode, through
BedrockGuardrail.guard_llm_stream). The report must equal the log's ``request.billed``
priced with the ledger's table (tests/support/billed_log.py).
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from bedrock_kit import BudgetExceededError, Ledger, summarize
from bedrock_kit.core.budget.pricing import UnknownPriceWarning
from bedrock_kit.llama_index import (
    BedrockAgentQueryEngine,
    BedrockGuardrail,
    BedrockKitEmbedding,
    BedrockKitLLM,
    BedrockKnowledgeBaseRetriever,
    BedrockRerank,
    BedrockRetrieveAndGenerateQueryEngine,
)
from bedrock_kit.testing import LocalBedrock
from tests.support.billed_log import price_log
from tests.support.pipeline_script import (
    AGENT_CAP,
    AMAZON_RERANK,
    CAPS,
    COHERE_RERANK,
    HAIKU,
    KB,
    NOVA,
    RAG_CAP,
    STREAM_CHUNKS,
    STREAM_MAX_TOKENS,
    TITAN,
    script,
)

QUESTION = "Where is the meeting?"


class Pipeline:
    """The pipeline's LlamaIndex steps, every class with ``ledger=``."""

    def __init__(self, server: LocalBedrock, ledger: Ledger) -> None:
        kw: dict[str, Any] = {**server.client_kwargs(), "max_retries": 0}
        self.guard_in = BedrockGuardrail(
            guardrail_id="gr-in", ledger=ledger, guardrail_policies=["content", "topic"], **kw
        )
        self.guard_out = BedrockGuardrail(
            guardrail_id="gr-out",
            ledger=ledger,
            guardrail_policies=["content"],
            window_size=120,
            overlap=20,
            **kw,
        )
        self.retriever = BedrockKnowledgeBaseRetriever(KB, ledger=ledger, **kw)
        self.rerank = BedrockRerank(model=AMAZON_RERANK, top_n=3, ledger=ledger, **kw)
        self.cohere = BedrockRerank(model=COHERE_RERANK, api="invoke", ledger=ledger, **kw)
        self.embed = BedrockKitEmbedding(model=TITAN, ledger=ledger, **kw)
        self.rag = BedrockRetrieveAndGenerateQueryEngine(
            knowledge_base_id=KB,
            model=HAIKU,
            ledger=ledger,
            max_tokens_per_invocation=RAG_CAP,
            **kw,
        )
        self.agent = BedrockAgentQueryEngine(
            agent_id="AG1",
            agent_alias_id="AL1",
            ledger=ledger,
            max_tokens_per_invocation=AGENT_CAP,
            budget_model_id=HAIKU,
            **kw,
        )
        self.llm = BedrockKitLLM(
            model=NOVA,
            max_tokens=STREAM_MAX_TOKENS,
            ledger=ledger,
            guardrail_config={
                "guardrailIdentifier": "gr-out",
                "guardrailVersion": "1",
                "streamProcessingMode": "sync",
            },
            **kw,
        )

    def _nodes(self) -> list[NodeWithScore]:
        question = self.guard_in.check(QUESTION)
        found = self.retriever.retrieve(question)
        nodes = [
            NodeWithScore(node=TextNode(text=n.node.get_content()), score=n.score) for n in found
        ]
        return nodes * 30  # enough for two rerank queries

    def steps(self) -> list[tuple[str, Callable[[], Any]]]:
        state: dict[str, Any] = {}

        def head() -> None:
            nodes = self._nodes()
            best = self.rerank.postprocess_nodes(nodes, QueryBundle(QUESTION))
            self.cohere.postprocess_nodes(best, QueryBundle(QUESTION))
            self.embed.get_text_embedding_batch([n.node.get_content() for n in best])
            state["best"] = best

        def stream() -> None:
            responses = self.llm.stream_chat([ChatMessage(role="user", content=QUESTION)])
            state["answer"] = "".join(
                r.delta or "" for r in self.guard_out.guard_llm_stream(responses)
            )

        return [
            ("head", head),
            ("RetrieveAndGenerate", lambda: self.rag.query(QUESTION)),
            ("InvokeAgent", lambda: self.agent.query("Book it.")),
            ("ConverseStream", stream),
        ]

    def run(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPriceWarning)  # Cohere 3.5 (core test)
            for _, step in self.steps():
                step()


def _sent(server: LocalBedrock) -> list[str]:
    return [r.operation for r in server.requests if r.operation != "CountTokens"]


def test_the_llama_index_pipelines_report_equals_local_bedrocks_log_priced() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        Pipeline(server, ledger).run()
        requests = server.requests
    operations = {r.operation for r in requests}
    assert {"ApplyGuardrail", "Retrieve", "Rerank", "InvokeModel", "RetrieveAndGenerate"} <= (
        operations
    )
    assert {"InvokeAgent", "ConverseStream"} <= operations
    bill = price_log(requests, ledger.prices, unreported_caps=CAPS)
    summary = summarize(ledger)
    report = ledger.report()
    assert {k: v.cost for k, v in summary.by_operation.items()} == dict(bill.operations)
    assert {r.model_id: r.cost for r in report.rows} == dict(bill.rows)
    assert {r.model_id: r.calls for r in report.rows} == dict(bill.calls)
    assert ledger.spent() == summary.total_cost == bill.total
    rows = {r.model_id: r for r in report.rows}
    for row_id, units in bill.guardrail_units.items():
        assert rows[row_id].guardrail_text_units == units
    windows = sum(
        1
        for r in requests
        if r.operation == "ApplyGuardrail" and r.path_params["guardrailIdentifier"] == "gr-out"
    )
    assert windows >= 3
    assert rows["guardrail:gr-out"].guardrail_text_units == windows + 2 * (1 + STREAM_CHUNKS)
    assert any(line.startswith(f"retrieve:{KB}") for line in report.unverified_prices)
    assert rows[COHERE_RERANK].cost > 0
    assert ledger.open_reservations() == 0


def test_a_limit_set_between_two_steps_stops_before_the_call_that_would_cross() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        steps = Pipeline(server, ledger).steps()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPriceWarning)
            for _, step in steps[:2]:  # head, RetrieveAndGenerate
                step()
        sent = _sent(server)
        # The agent holds its 2,000-token cap (0.011 at Haiku's output rate).
        with ledger.scope("agent", max_cost=Decimal("0.01")):
            with pytest.raises(BudgetExceededError, match=f"agent:{HAIKU}"):
                steps[2][1]()
        assert _sent(server) == sent  # the agent never went out
        assert "InvokeAgent" not in sent
        assert ledger.spent("agent") == 0 and ledger.open_reservations() == 0
        bill = price_log(server.requests, ledger.prices, unreported_caps=CAPS)
        assert ledger.spent() == bill.total


def test_64_concurrent_llama_index_calls_never_overspend_and_charge_each_call_once() -> None:
    limit = Decimal("0.015")
    ledger = Ledger(max_cost=limit)
    refused: list[str] = []
    lock = threading.Lock()
    nodes = [NodeWithScore(node=TextNode(text=f"doc {i}"), score=0.5) for i in range(130)]
    text = "x" * 1500  # 2 units per policy, as reserved
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)

        def refusing(exc: BudgetExceededError) -> None:
            with lock:
                refused.append(str(exc))

        def sync_op(i: int) -> None:
            try:
                if i % 3 == 0:
                    pipeline.guard_in.check(text)
                elif i % 3 == 1:
                    pipeline.rerank.postprocess_nodes(nodes, QueryBundle("q"))
                else:
                    pipeline.retriever.retrieve("q")
            except BudgetExceededError as exc:
                refusing(exc)

        async def async_op(i: int) -> None:
            try:
                if i % 3 == 0:
                    await pipeline.guard_in.acheck(text)
                elif i % 3 == 1:
                    await pipeline.rerank.apostprocess_nodes(nodes, QueryBundle("q"))
                else:
                    await pipeline.retriever.aretrieve("q")
            except BudgetExceededError as exc:
                refusing(exc)

        async def async_half() -> None:
            await asyncio.gather(*(async_op(i) for i in range(32)))

        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(sync_op, i) for i in range(32)]
            asyncio.run(async_half())
            for future in futures:
                future.result()
        requests = server.requests
    bill = price_log(requests, ledger.prices)
    report = ledger.report()
    assert ledger.spent() <= limit
    assert refused and len(requests) + len(refused) == 64
    assert ledger.spent() == bill.total
    assert {r.model_id: r.calls for r in report.rows} == dict(bill.calls)
    assert sum(r.overruns for r in report.rows) == 0
    assert ledger.open_reservations() == 0 and ledger.reserved() == 0


def test_the_async_guarded_stream_charges_every_window_and_chunk_once() -> None:
    ledger = Ledger()

    async def run(pipeline: Pipeline) -> str:
        responses = await pipeline.llm.astream_chat([ChatMessage(role="user", content=QUESTION)])
        return "".join(
            [r.delta or "" async for r in pipeline.guard_out.aguard_llm_stream(responses)]
        )

    with LocalBedrock() as server:
        script(server)
        answer = asyncio.run(run(Pipeline(server, ledger)))
        requests = server.requests
    assert answer
    bill = price_log(requests, ledger.prices)
    report = ledger.report()
    assert {r.model_id: r.cost for r in report.rows} == dict(bill.rows)
    assert {r.model_id: r.calls for r in report.rows} == dict(bill.calls)
    windows = sum(1 for r in requests if r.operation == "ApplyGuardrail")
    assert windows >= 3
    row = next(r for r in report.rows if r.model_id == "guardrail:gr-out")
    assert row.guardrail_text_units == windows + 2 * (1 + STREAM_CHUNKS)
    assert ledger.open_reservations() == 0
