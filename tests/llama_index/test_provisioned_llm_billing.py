"""BedrockKitLLM(ledger=) on a provisioned-model ARN: tokens at 0 USD, or refused before any
request when the ledger holds no hourly charge for it (chat, achat, streams, complete)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher

from bedrock_kit import Ledger, RecurringCharge, load_prices, recurring_charges
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.budget import BudgetEventHandler, TokenBudgetHandler
from bedrock_kit.llama_index.chat import BedrockKitLLM
from bedrock_kit.testing import Reply, build_usage, converse_reply, converse_stream_events

BASE = "amazon.nova-lite-v1:0"
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/lipt01"
ROW = f"provisioned:{BASE}"
MSG = [ChatMessage(role="user", content="hi")]


def _llm(server, ledger: Ledger | None, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
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
            operation="provisioned", resource=PT_ARN, model_id=BASE, rate="30", name="li-pt"
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
    llm = _llm(server, ledger)
    with pytest.raises(ConfigurationError, match=r"lipt01.*hourly charge"):
        llm.chat(MSG)
    with pytest.raises(ConfigurationError, match=r"ProvisionedThroughput\.create"):
        list(llm.stream_chat(MSG))
    with pytest.raises(ConfigurationError, match="hourly charge"):
        llm.complete("hi")
    assert server.requests == [] and ledger.open_reservations() == 0


async def test_every_async_path_is_refused_before_any_request(server):
    ledger = Ledger()
    llm = _llm(server, ledger)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        await llm.achat(MSG)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        async for _ in await llm.astream_chat(MSG):
            pass
    assert server.requests == [] and ledger.open_reservations() == 0


def test_sync_calls_book_their_tokens_at_zero_on_the_throughputs_row(server):
    ledger = Ledger(count_tokens=False, max_cost="0.000001")  # any per-token price would refuse
    _charge(ledger)
    llm = _llm(server, ledger)
    _script(server, (120, 7), (10, 1))
    _script(server, (130, 9), stream=True)
    assert llm.chat(MSG).message.content == "ok"
    assert "".join(r.delta or "" for r in llm.stream_chat(MSG)) == "ok"
    assert llm.complete("hi").text == "ok"
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 3, 260, 17)
    assert row.cost == 0 and ledger.spent() == 0 and ledger.open_reservations() == 0


async def test_async_calls_book_their_tokens_at_zero_on_the_throughputs_row(server):
    ledger = Ledger(count_tokens=False)
    _charge(ledger)
    llm = _llm(server, ledger)
    _script(server, (50, 5))
    _script(server, (60, 6), stream=True)
    await llm.achat(MSG)
    async for _ in await llm.astream_chat(MSG):
        pass
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 2, 110, 11)
    assert row.cost == 0


def test_a_budget_handler_on_top_does_not_count_the_call_twice(server):
    ledger = Ledger(count_tokens=False)
    _charge(ledger)
    handler = TokenBudgetHandler(ledger)
    llm = _llm(server, ledger, callback_manager=CallbackManager([handler]))
    _script(server, (80, 8))
    llm.chat(MSG)
    assert ledger.report().total.calls == 1 and ledger.report().total.input_tokens == 80
    assert ledger.open_reservations() == 0


def test_a_handler_on_top_does_not_hold_the_base_models_per_token_price(server):
    ledger = Ledger(count_tokens=False, max_cost="0.000001")  # any per-token price would refuse
    _charge(ledger)
    llm = _llm(server, ledger, callback_manager=CallbackManager([TokenBudgetHandler(ledger)]))
    _script(server, (80, 8))
    assert llm.chat(MSG).message.content == "ok"
    assert [r.model_id for r in ledger.report().rows] == [ROW] and ledger.spent() == 0


def test_a_handler_alone_books_the_throughputs_row_or_refuses_before_the_request(server):
    ledger = Ledger(count_tokens=False)
    llm = _llm(server, None, callback_manager=CallbackManager([TokenBudgetHandler(ledger)]))
    with pytest.raises(ConfigurationError, match="hourly charge"):
        llm.chat(MSG)
    assert server.requests == [] and ledger.open_reservations() == 0
    _charge(ledger)
    _script(server, (70, 7))
    llm.chat(MSG)
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.cost) == (ROW, 1, 70, 0)


def test_the_observing_event_handler_books_the_throughputs_row(server):
    ledger = Ledger(count_tokens=False)
    _charge(ledger)
    recorder = BudgetEventHandler(ledger=ledger)
    root = get_dispatcher()
    root.add_event_handler(recorder)
    try:
        _script(server, (90, 9))
        _llm(server, None).chat(MSG)
    finally:
        root.event_handlers.remove(recorder)
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.cost) == (ROW, 1, 90, 0)


def test_a_per_token_price_for_the_arn_is_charged_as_given(server):
    prices = load_prices(overrides={"models": {PT_ARN: {"input": "0.001", "output": "0.002"}}})
    ledger = Ledger(prices=prices, count_tokens=False)
    llm = _llm(server, ledger)
    _script(server, (1000, 500))
    llm.chat(MSG)
    assert ledger.spent() == Decimal("0.002")
    assert [r.model_id for r in ledger.report().rows] == [PT_ARN]
