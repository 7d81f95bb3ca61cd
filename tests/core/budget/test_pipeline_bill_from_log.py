"""A core pipeline on one Ledger over LocalBedrock, billed from LocalBedrock's own request log.

Input guardrail, Retrieve, RetrieveAndGenerate, an agent, embeddings, rerank (Amazon Rerank
and the unpriced Cohere Rerank 3.5) and a guarded stream (a ConverseStream whose in-request
guardrail assesses every chunk, with the streaming output guard's ApplyGuardrail windows on
top). The expected bill is the log's ``request.billed`` priced with the ledger's own table
(tests/support/billed_log.py), never a figure worked out by hand.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from bedrock_kit import BudgetExceededError, Ledger, summarize
from bedrock_kit.core.agents.requests import build_invoke_agent_request
from bedrock_kit.core.agents.runtime import AgentRuntime
from bedrock_kit.core.budget.pricing import UnknownPriceWarning
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.send import asend, asend_stream, build_chat_request, send, send_stream
from bedrock_kit.core.chat.stream import TextDelta
from bedrock_kit.core.chat.types import GuardrailConfig, InferenceConfig, Message, TextBlock
from bedrock_kit.core.embeddings.models import EmbeddingOptions
from bedrock_kit.core.embeddings.runtime import EmbeddingsRuntime
from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.guardrails.stream_guard import StreamGuard
from bedrock_kit.core.knowledge_bases.requests import GenerationCall, RetrievalOptions
from bedrock_kit.core.knowledge_bases.runtime import KnowledgeBaseRuntime
from bedrock_kit.core.rerank.runtime import RerankOptions, RerankRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.billed_log import price_log
from tests.support.pipeline_script import (
    AGENT_CAP,
    AMAZON_RERANK,
    CAPS,
    COHERE_RERANK,
    DOCS,
    HAIKU,
    KB,
    NOVA,
    RAG_CAP,
    STREAM_CHUNKS,
    STREAM_MAX_TOKENS,
    TITAN,
    script,
)

CHAT_TOKENS = 20


class Pipeline:
    """The pipeline's steps, each a core class with ``ledger=``, over one server."""

    def __init__(self, server: LocalBedrock, ledger: Ledger) -> None:
        settings = ClientSettings(**server.client_kwargs(), max_retries=0)
        self.ledger = ledger
        self.guard_in = GuardrailClient(
            "gr-in", "1", settings=settings, ledger=ledger, policies=["content", "topic"]
        )
        guard_out = GuardrailClient(
            "gr-out", "1", settings=settings, ledger=ledger, policies=["content"]
        )
        self.stream_guard = StreamGuard(guard_out, window_size=120, overlap=20)
        self.kb = KnowledgeBaseRuntime(settings)
        self.agent = AgentRuntime(settings)
        self.embed = EmbeddingsRuntime(settings, EmbeddingOptions(TITAN), ledger=ledger)
        self.rerank = RerankRuntime(settings, RerankOptions(AMAZON_RERANK), ledger=ledger)
        self.cohere = RerankRuntime(
            settings, RerankOptions(COHERE_RERANK, api="invoke"), ledger=ledger
        )
        self.chat = ConverseRuntime(settings)

    def steps(self, question: str) -> list[tuple[str, Callable[[], Any]]]:
        ledger = self.ledger
        call = GenerationCall(question, model=HAIKU, knowledge_base_id=KB)
        agent = build_invoke_agent_request("AG1", "AL1", "Book it.")
        return [
            ("ApplyGuardrail", lambda: self.guard_in.apply(question)),
            ("Retrieve", lambda: self.kb.retrieve(KB, question, ledger=ledger)),
            (
                "RetrieveAndGenerate",
                lambda: self.kb.generate(call, ledger=ledger, max_tokens_per_invocation=RAG_CAP),
            ),
            (
                "InvokeAgent",
                lambda: self.agent.invoke(
                    agent,
                    ledger=ledger,
                    max_tokens_per_invocation=AGENT_CAP,
                    budget_model_id=HAIKU,
                ),
            ),
            ("InvokeModel", lambda: self.embed.embed(DOCS[:3])),
            ("Rerank", lambda: self.rerank.rerank(question, DOCS)),
            ("InvokeModel", lambda: self.cohere.rerank(question, DOCS[:5])),
            ("ConverseStream", lambda: "".join(self.guarded_stream(question))),
        ]

    def guarded_stream(self, question: str) -> list[str]:
        return list(self.guarded_stream_iter(question))

    def guarded_stream_iter(self, question: str) -> Iterator[str]:
        request = self.stream_request(question)
        deltas = send_stream(
            self.chat, "converse", request, ledger=self.ledger, max_tokens=STREAM_MAX_TOKENS
        )
        texts = (d.text for d in deltas if isinstance(d, TextDelta))
        return self.stream_guard.guard(texts)

    def stream_request(self, question: str) -> dict[str, Any]:
        return build_chat_request(
            "converse",
            NOVA,
            [Message("user", (TextBlock(question),))],
            inference=InferenceConfig(max_tokens=STREAM_MAX_TOKENS),
            guardrail=GuardrailConfig("gr-out", "1", stream_processing_mode="sync"),
            stream=True,
        )

    def run(self, question: str = "Where is the meeting?") -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPriceWarning)  # Cohere 3.5: asserted apart
            for _, step in self.steps(question):
                step()


def _billed_operations(server: LocalBedrock) -> list[str]:
    return [r.operation for r in server.requests if r.operation != "CountTokens"]


def test_the_report_equals_local_bedrocks_log_priced_with_the_same_table() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        Pipeline(server, ledger).run()
        requests = server.requests
    assert {"ApplyGuardrail", "Retrieve", "Rerank", "ConverseStream"} <= {
        r.operation for r in requests
    }
    bill = price_log(requests, ledger.prices, unreported_caps=CAPS)
    summary = summarize(ledger)
    report = ledger.report()
    # (a) totals per operation type, per report row (model) and overall, from the log.
    assert {k: v.cost for k, v in summary.by_operation.items()} == {
        k: v for k, v in bill.operations.items()
    }
    assert {r.model_id: r.cost for r in report.rows} == dict(bill.rows)
    assert {r.model_id: r.calls for r in report.rows} == dict(bill.calls)
    assert ledger.spent() == summary.total_cost == bill.total
    assert ledger.open_reservations() == 0 and ledger.reserved() == 0
    # Every ApplyGuardrail window of the stream guard, and every streamed chunk's
    # assessment, is charged: the guardrail rows hold the log's units exactly.
    rows = {r.model_id: r for r in report.rows}
    for row_id, units in bill.guardrail_units.items():
        assert rows[row_id].guardrail_text_units == units
    windows = sum(
        1
        for r in requests
        if r.operation == "ApplyGuardrail" and r.path_params["guardrailIdentifier"] == "gr-out"
    )
    assert windows >= 3  # the answer spans several windows
    assert rows["guardrail:gr-out"].guardrail_text_units == windows + 2 * (1 + STREAM_CHUNKS)
    # Retrieve and the unpriced Cohere reranker are in the report, flagged, not free.
    assert rows[f"retrieve:{KB}"].calls == 1
    assert any(line.startswith(f"retrieve:{KB}") for line in report.unverified_prices)
    assert rows[COHERE_RERANK].cost > 0
    assert any(COHERE_RERANK in line for line in report.unverified_prices)
    assert (
        summary.by_operation["rerank"].cost == rows[AMAZON_RERANK].cost + rows[COHERE_RERANK].cost
    )


def test_the_unpriced_reranker_warns_by_name_or_is_refused_before_its_request() -> None:
    with LocalBedrock() as server:
        pipeline = Pipeline(server, Ledger())
        with pytest.warns(UnknownPriceWarning, match=COHERE_RERANK):
            pipeline.cohere.rerank("q", DOCS[:5])
        strict = Pipeline(server, Ledger(on_unknown="error"))
        with pytest.raises(ConfigurationError, match=COHERE_RERANK):
            strict.cohere.rerank("q", DOCS[:5])
        assert len(server.requests_for("InvokeModel")) == 1  # the refused call never went out


def test_a_stream_reservation_holds_every_chunk_its_guardrail_may_assess() -> None:
    ledger = Ledger()
    held: list[Decimal] = []
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)
        request = build_chat_request(
            "converse",
            NOVA,
            [Message("user", (TextBlock("Where?"),))],
            inference=InferenceConfig(max_tokens=STREAM_MAX_TOKENS),
            guardrail=GuardrailConfig("gr-out", "1", stream_processing_mode="sync"),
            stream=True,
        )
        deltas = send_stream(
            pipeline.chat, "converse", request, ledger=ledger, max_tokens=STREAM_MAX_TOKENS
        )
        for _ in deltas:
            held.append(ledger.reserved())
        bill = price_log(server.requests, ledger.prices)
    # The in-request guardrail reported STREAM_CHUNKS + 1 assessments: settled exactly once
    # each, and the reservation made before the request held at least that much.
    assert ledger.spent() == bill.total
    assert held[0] >= ledger.spent()
    rows = {r.model_id: r for r in ledger.report().rows}
    assert rows["guardrail:gr-out"].guardrail_text_units == 2 * (STREAM_CHUNKS + 1)


def test_an_async_stream_reserves_its_guardrail_chunks_too() -> None:
    ledger = Ledger()

    async def run(pipeline: Pipeline) -> list[Decimal]:
        request = build_chat_request(
            "converse",
            NOVA,
            [Message("user", (TextBlock("Where?"),))],
            inference=InferenceConfig(max_tokens=STREAM_MAX_TOKENS),
            guardrail=GuardrailConfig("gr-out", "1", stream_processing_mode="async"),
            stream=True,
        )
        deltas = asend_stream(
            pipeline.chat, "converse", request, ledger=ledger, max_tokens=STREAM_MAX_TOKENS
        )
        texts = (d.text async for d in deltas if isinstance(d, TextDelta))
        held = [ledger.reserved()]
        async for _ in pipeline.stream_guard.aguard(texts):
            held.append(ledger.reserved())
        return held

    with LocalBedrock() as server:
        script(server)
        held = asyncio.run(run(Pipeline(server, ledger)))
        bill = price_log(server.requests, ledger.prices)
    assert ledger.spent() == bill.total and ledger.reserved() == 0
    streamed = [r for r in server.requests if r.operation == "ConverseStream"]
    stream_cost = price_log(streamed, ledger.prices).total  # tokens and every chunk's units
    assert max(held) >= stream_cost > 0  # the stream's hold covered all of it


def test_a_limit_set_between_two_steps_stops_before_the_call_that_would_cross() -> None:
    with LocalBedrock() as server:
        script(server)
        ledger = Ledger()
        pipeline = Pipeline(server, ledger)
        steps = pipeline.steps("Where is the meeting?")
        for _, step in steps[:3]:  # guardrail, Retrieve, RetrieveAndGenerate
            step()
        sent_before = _billed_operations(server)
        assert sent_before == ["ApplyGuardrail", "Retrieve", "RetrieveAndGenerate"]
        spent = ledger.spent()
        # The agent holds its 2,000-token cap (0.011 at Haiku's output rate): not enough room.
        with ledger.scope("rest", max_cost=Decimal("0.005")):
            with pytest.raises(BudgetExceededError, match=f"agent:{HAIKU}"):
                steps[3][1]()
            assert _billed_operations(server) == sent_before  # the agent never went out
            steps[5][1]()  # a rerank still fits
        assert ledger.spent("rest") <= Decimal("0.005")
        assert ledger.spent() == spent + ledger.spent("rest")
        assert ledger.open_reservations() == 0
        bill = price_log(server.requests, ledger.prices, unreported_caps=CAPS)
        assert ledger.spent() == bill.total


def test_64_concurrent_mixed_operations_never_overspend_and_charge_each_call_once() -> None:
    limit = Decimal("0.02")
    ledger = Ledger(max_cost=limit)
    refused: list[str] = []
    lock = threading.Lock()
    text = "z" * 1500  # 2 text units per policy: reserved exactly what is billed
    # Chat is exact too: CountTokens counts what Converse bills as input, and every answer is
    # exactly maxTokens long.
    chat_request = build_chat_request(
        "converse",
        HAIKU,
        [Message("user", (TextBlock("What is the tide at noon?"),))],
        inference=InferenceConfig(max_tokens=CHAT_TOKENS),
    )
    with LocalBedrock(answer_tokens=CHAT_TOKENS) as server:
        script(server)
        pipeline = Pipeline(server, ledger)

        def chat() -> Any:
            return send(pipeline.chat, "converse", chat_request, ledger=ledger)

        async def achat() -> Any:
            return await asend(pipeline.chat, "converse", chat_request, ledger=ledger)

        def sync_op(i: int) -> None:
            try:
                if i % 4 == 0:
                    pipeline.guard_in.apply(text)
                elif i % 4 == 1:
                    pipeline.rerank.rerank("q", DOCS)  # 130 documents: 2 queries
                elif i % 4 == 2:
                    pipeline.kb.retrieve(KB, "q", ledger=ledger)
                else:
                    chat()
            except BudgetExceededError as exc:
                with lock:
                    refused.append(str(exc))

        async def async_op(i: int) -> None:
            try:
                if i % 4 == 0:
                    await pipeline.guard_in.aapply(text[:900])
                elif i % 4 == 1:
                    await pipeline.rerank.arerank("q", DOCS)
                elif i % 4 == 2:
                    await pipeline.kb.aretrieve(KB, "q", ledger=ledger)
                else:
                    await achat()
            except BudgetExceededError as exc:
                with lock:
                    refused.append(str(exc))

        async def async_half() -> None:
            await asyncio.gather(*(async_op(i) for i in range(32)))

        # One of each kind first, so every kind is on the bill whatever order the concurrent
        # ones then reach the limit in; the other 60 race for the rest.
        for i in range(4):
            sync_op(i)
        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(sync_op, i) for i in range(4, 32)]
            asyncio.run(async_half())
            for future in futures:
                future.result()
        requests = [r for r in server.requests if r.operation != "CountTokens"]  # free
    bill = price_log(requests, ledger.prices)
    report = ledger.report()
    assert ledger.spent() <= limit
    assert refused, "the limit should have refused some calls"
    assert len(requests) + len(refused) == 64
    assert {r.operation for r in requests} == {"ApplyGuardrail", "Rerank", "Retrieve", "Converse"}
    # Every request that went out was charged exactly once, at what the log billed.
    assert ledger.spent() == bill.total
    assert {r.model_id: r.calls for r in report.rows} == dict(bill.calls)
    assert sum(r.overruns for r in report.rows) == 0  # the reservations were exact
    assert ledger.open_reservations() == 0 and ledger.reserved() == 0


def test_invoke_model_with_a_guardrail_is_charged_what_its_trace_billed() -> None:
    chunk = {"invocationMetrics": {"usage": {"contentPolicyUnits": 1, "topicPolicyUnits": 1}}}
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Oslo."}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 21, "output_tokens": 4},
        "amazon-bedrock-guardrailAction": "NONE",
        "amazon-bedrock-trace": {
            "guardrail": {"input": {"gr-out": chunk}, "outputs": [{"gr-out": chunk}]}
        },
    }
    ledger = Ledger()
    with LocalBedrock() as server:
        server.script("InvokeModel", Reply.json(body))
        request = build_chat_request(
            "invoke",
            HAIKU,
            [Message("user", (TextBlock("Where?"),))],
            inference=InferenceConfig(max_tokens=STREAM_MAX_TOKENS),
            guardrail=GuardrailConfig("gr-out", "1"),
        )
        send(
            ConverseRuntime(ClientSettings(**server.client_kwargs())),
            "invoke",
            request,
            ledger=ledger,
        )
        requests = server.requests
    bill = price_log(requests, ledger.prices)
    assert bill.guardrail_units == {"guardrail:gr-out": 4}
    assert {r.model_id: r.cost for r in ledger.report().rows} == dict(bill.rows)
    assert ledger.spent() == bill.total


def _reranking(model: str) -> RetrievalOptions:
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{model}"
    config = {"modelConfiguration": {"modelArn": arn}}
    return RetrievalOptions(
        number_of_results=20,
        reranking_configuration={
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": config,
        },
    )


def test_a_retrieve_that_reranks_is_charged_its_rerank_query_too() -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        kb = KnowledgeBaseRuntime(ClientSettings(**server.client_kwargs()))
        kb.retrieve(KB, "q", _reranking(AMAZON_RERANK), ledger=ledger)
        with pytest.warns(UnknownPriceWarning, match=COHERE_RERANK):
            asyncio.run(kb.aretrieve(KB, "q", _reranking(COHERE_RERANK), ledger=ledger))
        strict = Ledger(on_unknown="error")
        with pytest.raises(ConfigurationError, match=COHERE_RERANK):
            kb.retrieve(KB, "q", _reranking(COHERE_RERANK), ledger=strict)
        requests = server.requests
    assert [r.operation for r in requests] == ["Retrieve", "Retrieve"]  # refused: never sent
    assert strict.open_reservations() == 0 and strict.spent() == 0
    bill = price_log(requests, ledger.prices)
    rows = {r.model_id: r for r in ledger.report().rows}
    assert {k: r.cost for k, r in rows.items()} == dict(bill.rows)
    assert rows[AMAZON_RERANK].cost > 0 and rows[COHERE_RERANK].cost > 0
    assert rows[f"retrieve:{KB}"].calls == 2
    assert summarize(ledger).by_operation["rerank"].cost == bill.operations["rerank"]


@pytest.mark.parametrize("fail_open", [False, True])
def test_a_guarded_stream_stops_at_the_window_check_the_limit_refuses(fail_open: bool) -> None:
    ledger = Ledger()
    with LocalBedrock() as server:
        script(server)
        pipeline = Pipeline(server, ledger)
        pipeline.stream_guard = StreamGuard(
            pipeline.stream_guard.client, window_size=120, overlap=20, fail_open=fail_open
        )
        released: list[str] = []
        # Room for the stream's hold and one window check (content: 0.15 per 1,000 units).
        request = pipeline.stream_request("Where?")
        probe = Ledger().reserve_request(request, runtime=pipeline.chat, stream=True)
        probe.release()
        room = probe.cost + Decimal("0.00015")
        with ledger.scope("stream", max_cost=room):
            with pytest.raises(BudgetExceededError, match="guardrail:gr-out"):
                for text in pipeline.guarded_stream_iter("Where?"):
                    released.append(text)
        windows = [
            r
            for r in server.requests
            if r.operation == "ApplyGuardrail" and r.path_params["guardrailIdentifier"] == "gr-out"
        ]
        requests = server.requests
    checked = sum(len(w.body["content"][0]["text"]["text"]) for w in windows)
    assert len(windows) == 1 and 0 < len("".join(released)) <= checked  # nothing unchecked
    assert ledger.spent("stream") <= room and ledger.open_reservations() == 0
    # The stream was dropped before its trace was read: its guardrail hold is charged whole,
    # never less than what LocalBedrock's answer billed.
    assert ledger.spent() >= price_log(requests, ledger.prices).total
