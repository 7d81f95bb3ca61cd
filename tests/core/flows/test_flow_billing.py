"""Prompt Flows on a Ledger: the cap of node transitions reserved before each InvokeFlow,
settled to the nodes the traces show (the cap without traces), over real HTTP against
LocalBedrock, sync and async."""

from __future__ import annotations

import asyncio
import warnings
from decimal import Decimal

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.pricing import PriceEntry, UnknownPriceWarning, load_prices
from bedrock_kit.core.budget.summary import summarize
from bedrock_kit.core.flows.billing import node_transitions
from bedrock_kit.core.flows.requests import build_invoke_flow_request
from bedrock_kit.core.flows.runtime import FlowCompleted, FlowRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BudgetExceededError,
    ConfigurationError,
    FlowExecutionError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing import flows as fb

FLOW, ALIAS = "FLOW123456", "ALIAS12345"
ROW = f"flow:{FLOW}/{ALIAS}"
RATE = load_prices().lookup(ROW).input  # USD per 1,000 node transitions (the table's)


def runtime(server: LocalBedrock, ledger: Ledger | None, cap: int | None = 10) -> FlowRuntime:
    return FlowRuntime(
        ClientSettings(**server.client_kwargs(), max_retries=0),
        ledger=ledger,
        max_node_transitions_per_invocation=cap,
    )


def traced_reply() -> Reply:
    # Input node (output only), a prompt node run twice, the output node (input only).
    return fb.flow_reply(
        fb.flow_events(
            "done",
            traces=[
                fb.node_output_trace("FlowInputNode", {"document": "x"}),
                fb.node_input_trace("Prompt_1", {"topic": "x"}),
                fb.node_output_trace("Prompt_1", {"modelCompletion": "y"}),
                fb.node_input_trace("Prompt_1", {"topic": "z"}),
                fb.node_output_trace("Prompt_1", {"modelCompletion": "w"}),
                fb.condition_trace("Cond_1", "isLong"),
                fb.node_input_trace("FlowOutputNode", {"document": "y"}),
            ],
        )
    )


def cost(transitions: int) -> Decimal:
    return Decimal(transitions) * RATE / 1000


def test_the_flows_price_is_in_the_table_and_flagged_unverified() -> None:
    entry = load_prices().lookup(ROW)
    assert entry is not None and entry.operation == "flows" and entry.output == 0
    assert Decimal("0.035") == RATE and "node transitions" in entry.unit
    assert not entry.verified and entry.source and entry.as_of
    assert load_prices().unverified_for([ROW])  # reports flag it


def test_traces_settle_to_the_node_executions_sync(server: LocalBedrock) -> None:
    server.script("InvokeFlow", traced_reply())
    ledger = Ledger(max_cost=1)
    result = runtime(server, ledger).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    assert node_transitions(result.traces) == 4  # input, prompt twice, output
    (row,) = ledger.report().rows
    assert row.model_id == ROW and row.input_tokens == 4 and row.cost == cost(4)
    assert ledger.open_reservations() == 0 and list(summarize(ledger).by_operation) == ["flows"]
    assert any("flow:" in line for line in ledger.report().unverified_prices)


def test_traces_settle_to_the_node_executions_async(server: LocalBedrock) -> None:
    server.script("InvokeFlow", traced_reply())
    ledger = Ledger(max_cost=1)
    flows = runtime(server, ledger)

    async def run() -> None:
        try:
            async for event in flows.astream(build_invoke_flow_request(FLOW, ALIAS, "x")):
                held = ledger.reserved()  # the cap while it streams, settled at completion
                assert held == (0 if isinstance(event, FlowCompleted) else cost(10))
        finally:
            await flows.aclose()

    asyncio.run(run())
    assert ledger.spent() == cost(4) and ledger.reserved() == 0


@pytest.mark.parametrize("is_async", [False, True])
def test_without_traces_the_cap_is_charged(server: LocalBedrock, is_async: bool) -> None:
    ledger = Ledger(max_cost=1)
    flows = runtime(server, ledger, cap=25)
    request = build_invoke_flow_request(FLOW, ALIAS, "x", enable_trace=False)
    if is_async:

        async def run() -> None:
            await flows.ainvoke(request)
            await flows.aclose()

        asyncio.run(run())
    else:
        flows.invoke(request)
    (row,) = ledger.report().rows
    assert row.input_tokens == 25 and row.usage_missing == 1 and ledger.spent() == cost(25)


def test_a_flow_over_the_budget_is_refused_before_the_request(server: LocalBedrock) -> None:
    ledger = Ledger(max_cost=cost(10) - Decimal("0.0000001"))
    with pytest.raises(BudgetExceededError):
        runtime(server, ledger).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    assert server.requests == [] and ledger.open_reservations() == 0


def test_an_async_flow_over_the_budget_sends_nothing(server: LocalBedrock) -> None:
    ledger = Ledger(max_cost=Decimal("0.0000001"))

    async def run() -> None:
        flows = runtime(server, ledger)
        try:
            await flows.ainvoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
        finally:
            await flows.aclose()

    with pytest.raises(BudgetExceededError):
        asyncio.run(run())
    assert server.requests == []


def test_a_request_refused_by_bedrock_releases_the_cap(server: LocalBedrock) -> None:
    server.script("InvokeFlow", Reply.error(429, "ThrottlingException", "slow down"))
    ledger = Ledger(max_cost=1)
    with pytest.raises(ThrottlingError):
        runtime(server, ledger).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    assert ledger.spent() == 0 and ledger.reserved() == 0 and ledger.report().total.errors == 1


def test_a_flow_that_failed_midway_is_charged_the_nodes_that_ran(server: LocalBedrock) -> None:
    events = fb.flow_events(
        "so far",
        traces=[
            fb.node_output_trace("FlowInputNode", {"document": "x"}),
            fb.node_input_trace("Lambda_1", {"x": 1}),
        ],
    )
    server.script(
        "InvokeFlow",
        fb.flow_reply(events, exception_at=(3, "dependencyFailedException", "Lambda failed")),
    )
    ledger = Ledger(max_cost=1)
    with pytest.raises(FlowExecutionError):
        runtime(server, ledger).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    (row,) = ledger.report().rows
    assert row.input_tokens == 2 and row.errors == 1 and ledger.open_reservations() == 0


def test_a_dropped_stream_is_settled_not_left_open(server: LocalBedrock) -> None:
    server.script("InvokeFlow", traced_reply())
    ledger = Ledger(max_cost=1)
    stream = runtime(server, ledger).stream(build_invoke_flow_request(FLOW, ALIAS, "x"))
    next(stream)
    stream.close()
    assert ledger.open_reservations() == 0 and ledger.spent() > 0


def test_unknown_flows_price_follows_the_ledgers_policy(server: LocalBedrock) -> None:
    table = load_prices()
    bare = type(table)(table.models, table.guardrails, table.guardrail_source, {})
    assert bare.lookup(ROW) is None
    with pytest.raises(ConfigurationError, match="no price"):
        runtime(server, Ledger(prices=bare, on_unknown="error")).invoke(
            build_invoke_flow_request(FLOW, ALIAS, "x")
        )
    assert server.requests == []
    given = PriceEntry(input=Decimal("0.5"), output=Decimal(0))
    ledger = Ledger(prices=bare, on_unknown=given)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownPriceWarning)
        runtime(server, ledger, cap=4).invoke(build_invoke_flow_request(FLOW, ALIAS, "x"))
    assert ledger.spent() == Decimal("0.5") * 4 / 1000


@pytest.mark.parametrize(
    "ledger, cap, message",
    [
        (Ledger(), None, "needs max_node_transitions_per_invocation"),
        (Ledger(), 0, "int >= 1"),
        (Ledger(), True, "int >= 1"),
        (object(), 5, "must be a bedrock_kit Ledger"),
    ],
)
def test_bad_budget_arguments_are_refused(server: LocalBedrock, ledger, cap, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        runtime(server, ledger, cap)
