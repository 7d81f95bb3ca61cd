"""ChatBedrockKit(ledger=) on a provisioned-model ARN: tokens at 0 USD, or refused before any
request when the ledger holds no hourly charge for it (invoke, ainvoke, stream, astream)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from langchain_core.messages import HumanMessage

from bedrock_kit import Ledger, RecurringCharge, load_prices, recurring_charges
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.budget import TokenBudgetCallbackHandler
from bedrock_kit.langchain.chat import ChatBedrockKit
from bedrock_kit.testing import Reply, build_usage, converse_reply, converse_stream_events

BASE = "amazon.nova-lite-v1:0"
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/lcpt01"
ROW = f"provisioned:{BASE}"


def _chat(server, ledger: Ledger | None, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=PT_ARN,
        base_model_id=BASE,
        ledger=ledger,
        max_tokens=64,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        **kwargs,
    )


def _charge(ledger: Ledger) -> None:
    recurring_charges(ledger).add(
        RecurringCharge(
            operation="provisioned", resource=PT_ARN, model_id=BASE, rate="30", name="lc-pt"
        )
    )


def _script(server, *usages: tuple[int, int], stream: bool = False) -> None:
    if stream:
        server.script(
            "ConverseStream",
            *(Reply.events(converse_stream_events("ok", usage=build_usage(*u))) for u in usages),
        )
    else:
        server.script(
            "Converse", *(Reply.json(converse_reply("ok", usage=build_usage(*u))) for u in usages)
        )


def test_every_sync_path_is_refused_before_any_request(server):
    ledger = Ledger()  # CountTokens on: a refusal must come before it too
    chat = _chat(server, ledger)
    with pytest.raises(ConfigurationError, match=r"lcpt01.*hourly charge"):
        chat.invoke([HumanMessage("hi")])
    with pytest.raises(ConfigurationError, match=r"ProvisionedThroughput\.create"):
        list(chat.stream([HumanMessage("hi")]))
    assert server.requests == [] and ledger.open_reservations() == 0


async def test_every_async_path_is_refused_before_any_request(server):
    ledger = Ledger()
    chat = _chat(server, ledger)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        await chat.ainvoke([HumanMessage("hi")])
    with pytest.raises(ConfigurationError, match="hourly charge"):
        async for _ in chat.astream([HumanMessage("hi")]):
            pass
    assert server.requests == [] and ledger.open_reservations() == 0


def test_sync_calls_book_their_tokens_at_zero_on_the_throughputs_row(server):
    ledger = Ledger(count_tokens=False, max_cost="0.000001")  # any per-token price would refuse
    _charge(ledger)
    chat = _chat(server, ledger)
    _script(server, (120, 7))
    _script(server, (130, 9), stream=True)
    assert chat.invoke([HumanMessage("hi")]).usage_metadata["input_tokens"] == 120
    assert "".join(str(c.content) for c in chat.stream([HumanMessage("hi")])) == "ok"
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 2, 250, 16)
    assert row.cost == 0 and ledger.spent() == 0 and ledger.open_reservations() == 0


async def test_async_calls_book_their_tokens_at_zero_on_the_throughputs_row(server):
    ledger = Ledger(count_tokens=False)
    _charge(ledger)
    chat = _chat(server, ledger)
    _script(server, (50, 5))
    _script(server, (60, 6), stream=True)
    await chat.ainvoke([HumanMessage("hi")])
    async for _ in chat.astream([HumanMessage("hi")]):
        pass
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 2, 110, 11)
    assert row.cost == 0


def test_a_budget_handler_on_top_does_not_count_the_call_twice(server):
    ledger = Ledger(count_tokens=False)
    _charge(ledger)
    chat = _chat(server, ledger, callbacks=[TokenBudgetCallbackHandler(ledger)])
    _script(server, (80, 8))
    chat.invoke([HumanMessage("hi")])
    assert ledger.report().total.calls == 1 and ledger.report().total.input_tokens == 80
    assert ledger.open_reservations() == 0


def test_a_handler_on_top_does_not_hold_the_base_models_per_token_price(server):
    ledger = Ledger(count_tokens=False, max_cost="0.000001")  # any per-token price would refuse
    _charge(ledger)
    chat = _chat(server, ledger, callbacks=[TokenBudgetCallbackHandler(ledger)])
    _script(server, (80, 8))
    assert chat.invoke([HumanMessage("hi")]).content == "ok"
    assert [r.model_id for r in ledger.report().rows] == [ROW] and ledger.spent() == 0


def test_a_handler_alone_books_the_throughputs_row_or_refuses_before_the_request(server):
    ledger = Ledger(count_tokens=False)
    chat = _chat(server, None, callbacks=[TokenBudgetCallbackHandler(ledger)])
    with pytest.raises(ConfigurationError, match="hourly charge"):
        chat.invoke([HumanMessage("hi")])
    assert server.requests == [] and ledger.open_reservations() == 0
    _charge(ledger)
    _script(server, (70, 7))
    chat.invoke([HumanMessage("hi")])
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.cost) == (ROW, 1, 70, 0)


def test_a_per_token_price_for_the_arn_is_charged_as_given(server):
    prices = load_prices(overrides={"models": {PT_ARN: {"input": "0.001", "output": "0.002"}}})
    ledger = Ledger(prices=prices, count_tokens=False)
    chat = _chat(server, ledger)
    _script(server, (1000, 500))
    chat.invoke([HumanMessage("hi")])
    assert ledger.spent() == Decimal("0.002")
    assert [r.model_id for r in ledger.report().rows] == [PT_ARN]
