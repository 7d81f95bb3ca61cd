"""An LCEL pipeline on one Ledger over LocalBedrock, billed from LocalBedrock's request log.

input guardrail | retriever | rerank | embeddings | RetrieveAndGenerate | agent | a guarded
stream (ChatBedrockKit with an in-request guardrail in sync stream mode, piped into
BedrockStreamGuard). The report must equal the log's ``request.billed`` priced with the
ledger's table (tests/support/billed_log.py).
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("langchain_core")

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda

from bedrock_kit import BudgetExceededError, Ledger, summarize
from bedrock_kit.core.budget.pricing import UnknownPriceWarning
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockGuardrail,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
    BedrockRerank,
    BedrockRetrieveAndGenerate,
    ChatBedrockKit,
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
    """The pipeline's LCEL steps, every class with ``ledger=``."""

    def __init__(self, server: LocalBedrock, ledger: Ledger) -> None:
        kw: dict[str, Any] = {**server.client_kwargs(), "max_retries": 0}
        self.guard_in = BedrockGuardrail(
            guardrail_id="gr-in", ledger=ledger, guardrail_policies=["content", "topic"], **kw
        )
        guard_out = BedrockGuardrail(
            guardrail_id="gr-out", ledger=ledger, guardrail_policies=["content"], **kw
        )
        self.retriever = BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, ledger=ledger, **kw)
        self.rerank = BedrockRerank(model=AMAZON_RERANK, top_n=3, ledger=ledger, **kw)
        self.cohere = BedrockRerank(model=COHERE_RERANK, api="invoke", ledger=ledger, **kw)
        self.embed = BedrockKitEmbeddings(model=TITAN, ledger=ledger, **kw)
        self.rag = BedrockRetrieveAndGenerate(
            knowledge_base_id=KB,
            model=HAIKU,
            ledger=ledger,
            max_tokens_per_invocation=RAG_CAP,
            **kw,
        )
        self.agent = BedrockAgentRunnable(
            agent_id="AG1",
            agent_alias_id="AL1",
            ledger=ledger,
            max_tokens_per_invocation=AGENT_CAP,
            budget_model_id=HAIKU,
            **kw,
        )
        chat = ChatBedrockKit(
            model=NOVA,
            max_tokens=STREAM_MAX_TOKENS,
            ledger=ledger,
            guardrails={
                "guardrailIdentifier": "gr-out",
                "guardrailVersion": "1",
                "streamProcessingMode": "sync",
            },
            **kw,
        )
        self.stream_chain = chat | guard_out.stream_guard(window_size=120, overlap=20)

    def _reranked(self, docs: list[Document]) -> list[Document]:
        docs = list(docs) * 30  # enough documents for two rerank queries
        best = list(self.rerank.compress_documents(docs, QUESTION))
        self.cohere.compress_documents(best, QUESTION)
        return best

    def _embedded(self, docs: list[Document]) -> str:
        self.embed.embed_documents([d.page_content for d in docs])
        return QUESTION

    def _streamed(self, question: str) -> str:
        return "".join(str(c.content) for c in self.stream_chain.stream(question))

    def head(self) -> Runnable[Any, Any]:
        """guardrail | retriever | rerank | embeddings -> the question."""
        return (
            self.guard_in
            | self.retriever
            | RunnableLambda(self._reranked)
            | RunnableLambda(self._embedded)
        )

    def tail(self) -> Runnable[Any, Any]:
        """RetrieveAndGenerate | agent | guarded stream."""
        return (
            self.rag
            | RunnableLambda(lambda _: self.agent.invoke("Book it."))
            | RunnableLambda(lambda _: self._streamed(QUESTION))
        )


def _sent(server: LocalBedrock) -> list[str]:
    return [r.operation for r in server.requests if r.operation != "CountTokens"]


def test_the_lcel_pipelines_report_equals_local_bedrocks_log_priced() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPriceWarning)  # Cohere 3.5 (core test)
            answer = (pipeline.head() | pipeline.tail()).invoke(QUESTION)
        requests = server.requests
    assert answer  # the guarded stream released the checked text
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


def test_a_limit_set_between_two_lcel_steps_stops_before_the_call_that_would_cross() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPriceWarning)
            question = pipeline.head().invoke(QUESTION)
        sent = _sent(server)
        assert "RetrieveAndGenerate" not in sent
        # RetrieveAndGenerate holds its 800-token cap (0.0044 at Haiku's output rate).
        with ledger.scope("tail", max_cost=Decimal("0.004")):
            with pytest.raises(BudgetExceededError, match=f"retrieval:{HAIKU}"):
                pipeline.tail().invoke(question)
        assert _sent(server) == sent  # nothing of the tail went out
        assert ledger.spent("tail") == 0 and ledger.open_reservations() == 0
        bill = price_log(server.requests, ledger.prices, unreported_caps=CAPS)
        assert ledger.spent() == bill.total


def test_64_concurrent_lcel_calls_never_overspend_and_charge_each_call_once() -> None:
    limit = Decimal("0.015")
    ledger = Ledger(max_cost=limit)
    refused: list[str] = []
    lock = threading.Lock()
    docs = [Document(page_content=f"doc {i}") for i in range(130)]
    text = "y" * 1500  # 2 units per policy, as reserved
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)

        def refusing(exc: BudgetExceededError) -> None:
            with lock:
                refused.append(str(exc))

        def sync_op(i: int) -> None:
            try:
                if i % 3 == 0:
                    pipeline.guard_in.invoke(text)
                elif i % 3 == 1:
                    pipeline.rerank.compress_documents(docs, "q")
                else:
                    pipeline.retriever.invoke("q")
            except BudgetExceededError as exc:
                refusing(exc)

        async def async_op(i: int) -> None:
            try:
                if i % 3 == 0:
                    await pipeline.guard_in.ainvoke(text)
                elif i % 3 == 1:
                    await pipeline.rerank.acompress_documents(docs, "q")
                else:
                    await pipeline.retriever.ainvoke("q")
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
        return "".join([str(c.content) async for c in pipeline.stream_chain.astream(QUESTION)])

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
