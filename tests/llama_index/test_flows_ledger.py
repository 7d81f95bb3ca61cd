"""BedrockFlow(ledger=..., max_node_transitions_per_invocation=...): node transitions
charged per call, sync and async, against LocalBedrock."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from bedrock_kit import Ledger
from bedrock_kit.errors import BudgetExceededError, ConfigurationError
from bedrock_kit.llama_index import BedrockFlow
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing import flows as fb

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
RATE = Decimal("0.035")  # the price table's flows entry, USD per 1,000 node transitions


def _flow(server: LocalBedrock, **kwargs: Any) -> BedrockFlow:
    return BedrockFlow(FLOW, ALIAS, max_retries=0, **server.client_kwargs(), **kwargs)


def _traced() -> Reply:
    return fb.flow_reply(
        fb.flow_events(
            "done",
            traces=[
                fb.node_output_trace("FlowInputNode", {"document": "x"}),
                fb.node_input_trace("Prompt_1", {"topic": "x"}),
                fb.node_output_trace("Prompt_1", {"modelCompletion": "y"}),
                fb.node_input_trace("FlowOutputNode", {"document": "y"}),
            ],
        )
    )


def test_invoke_and_astream_settle_to_the_traced_nodes(server: LocalBedrock) -> None:
    server.script("InvokeFlow", _traced(), _traced())
    ledger = Ledger(max_cost=1)
    flow = _flow(server, ledger=ledger, max_node_transitions_per_invocation=20)
    assert flow.invoke("x").output == "done"

    async def run() -> list:
        try:
            return [event async for event in flow.astream("x")]
        finally:
            await flow.aclose()

    assert asyncio.run(run())
    (row,) = ledger.report().rows
    assert row.input_tokens == 6 and row.calls == 2 and ledger.spent() == 6 * RATE / 1000


def test_ainvoke_without_traces_charges_the_cap(server: LocalBedrock) -> None:
    ledger = Ledger(max_cost=1)
    flow = _flow(server, ledger=ledger, max_node_transitions_per_invocation=9, enable_trace=False)
    assert asyncio.run(flow.ainvoke("x")).output == "x"
    assert ledger.spent() == 9 * RATE / 1000 and ledger.open_reservations() == 0


def test_over_the_budget_nothing_is_sent(server: LocalBedrock) -> None:
    flow = _flow(
        server, ledger=Ledger(max_cost=Decimal("1e-7")), max_node_transitions_per_invocation=5
    )
    with pytest.raises(BudgetExceededError):
        flow.invoke("x")
    assert server.requests == []


def test_a_ledger_without_a_cap_is_refused_at_construction(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="max_node_transitions_per_invocation"):
        _flow(server, ledger=Ledger())
