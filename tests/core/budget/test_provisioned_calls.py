"""Calls on provisioned throughput: their tokens at 0 USD on the throughput's row, or refused.

Pure ledger tests first, then the core chat path (send / asend / send_stream /
asend_stream) over LocalBedrock: a refusal sends nothing, CountTokens included.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, PriceEntry, RecurringCharge, load_prices, recurring_charges
from bedrock_kit.core.budget.pricing import UnknownModelPriceWarning, UnknownPriceWarning
from bedrock_kit.core.budget.provisioned import is_provisioned_arn, provisioned_row
from bedrock_kit.core.budget.summary import summarize
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.send import asend, asend_stream, build_chat_request, send, send_stream
from bedrock_kit.core.chat.stream import CompletedDelta
from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock, Usage
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BudgetExceededError, ConfigurationError
from bedrock_kit.testing import Reply, build_usage, converse_reply, converse_stream_events

PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6"
OTHER_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/zzz999"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/m1"
ROW = f"provisioned:{MODEL_ARN}"
START = datetime(2026, 12, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _charged(ledger: Ledger, *, resource: str = PT_ARN, name: str = "pt-a") -> Clock:
    clock = Clock()
    recurring_charges(ledger, clock=clock).add(
        RecurringCharge(
            operation="provisioned",
            resource=resource,
            model_id=MODEL_ARN,
            rate="20",
            units=2,
            name=name,
        )
    )
    return clock


# -- the rule


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (PT_ARN, True),
        (f"priority:{PT_ARN}", True),
        ("arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:provisioned-model/x1", True),
        (MODEL_ARN, False),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", False),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p1", False),
        ("amazon.nova-lite-v1:0", False),
        ("provisioned-model/x", False),
    ],
)
def test_provisioned_arns_are_recognised(model_id: str, expected: bool) -> None:
    assert is_provisioned_arn(model_id) is expected


def test_a_provisioned_arn_without_an_hourly_charge_is_refused_by_name() -> None:
    for on_unknown in ("warn", "error"):
        ledger = Ledger(on_unknown=on_unknown, max_cost="10")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError) as caught:
            ledger.reserve(PT_ARN, 100, 50)
        message = str(caught.value)
        assert PT_ARN in message and "hourly" in message
        assert "ProvisionedThroughput.create" in message and "commit()" in message
        assert caught.value.model_id == PT_ARN
        assert ledger.open_reservations() == 0 and ledger.report().rows == ()


def test_a_charge_for_another_provisioned_model_does_not_cover_this_one() -> None:
    ledger = Ledger()
    _charged(ledger, resource=OTHER_ARN, name="pt-other")
    with pytest.raises(ConfigurationError, match="a1b2c3d4e5f6"):
        ledger.reserve(PT_ARN, 10, 10)


def test_a_charged_call_books_its_tokens_at_zero_on_the_throughputs_row() -> None:
    ledger = Ledger(max_cost="0.01")
    _charged(ledger)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPriceWarning)  # no fallback, no cache guess
        reservation = ledger.reserve(PT_ARN, 1200, 300)
        assert reservation.model_id == ROW and reservation.cost == 0
        cost = reservation.settle(Usage(1100, 250, cache_read_input_tokens=400))
    assert cost == 0 and ledger.spent() == 0
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 1, 1100, 250)
    assert row.cache_read_input_tokens == 400 and row.cost == 0
    assert ledger.report().unverified_prices == ()  # zero per token is AWS's billing rule


def test_token_limits_still_hold_on_provisioned_calls() -> None:
    ledger = Ledger(max_input_tokens=1000)
    _charged(ledger)
    with pytest.raises(BudgetExceededError):
        ledger.reserve(PT_ARN, 1001, 10)
    with ledger.reserve(PT_ARN, 1000, 10) as reservation:
        reservation.settle(Usage(1000, 10))
    assert ledger.report().total.input_tokens == 1000


def test_a_registered_name_is_matched_like_the_arn() -> None:
    ledger = Ledger()
    _charged(ledger, name="pt-by-name")
    assert ledger.reserve("pt-by-name", 5, 5).model_id == ROW
    assert provisioned_row(ledger, "some-other-name") == "some-other-name"


def test_a_per_token_price_you_gave_for_the_arn_is_used_instead() -> None:
    prices = load_prices(overrides={"models": {PT_ARN: {"input": "0.002", "output": "0.004"}}})
    ledger = Ledger(prices=prices)
    reservation = ledger.reserve(PT_ARN, 1000, 500)
    assert reservation.model_id == PT_ARN
    assert reservation.settle(Usage(1000, 500)) == Decimal("0.002") + Decimal("0.002")


def test_an_on_unknown_price_lets_an_uncharged_arn_through_with_its_warning() -> None:
    fallback = PriceEntry(input=Decimal("0.001"), output=Decimal("0.003"))
    ledger = Ledger(on_unknown=fallback)
    with pytest.warns(UnknownModelPriceWarning):
        reservation = ledger.reserve(PT_ARN, 1000, 1000)
    assert reservation.model_id == PT_ARN and reservation.cost == Decimal("0.004")
    # The charge wins once registered: the hours are billed, the tokens are not.
    _charged(ledger)
    assert ledger.reserve(PT_ARN, 1000, 1000).cost == 0


def test_record_and_settle_after_the_call_route_but_never_refuse() -> None:
    ledger = Ledger()
    with pytest.warns(UnknownModelPriceWarning):
        assert ledger.record(PT_ARN, Usage(10, 10)) > 0  # no charge: today's fallback
    _charged(ledger)
    assert ledger.record(PT_ARN, Usage(7, 3)) == 0
    reservation = ledger.reserve("amazon.nova-lite-v1:0", 10, 10)
    reservation.settle(Usage(9, 4), model_id=PT_ARN)  # a prompt router said who answered
    rows = {r.model_id: r for r in ledger.report().rows}
    assert rows[ROW].calls == 2 and rows[ROW].input_tokens == 16 and rows[ROW].cost == 0


def test_a_provisioned_call_stays_on_its_row_whatever_model_name_it_reports() -> None:
    ledger = Ledger()
    _charged(ledger)
    reservation = ledger.reserve(PT_ARN, 10, 10)
    assert reservation.settle(Usage(8, 6), model_id="amazon.nova-lite-v1:0") == 0
    assert [r.model_id for r in ledger.report().rows] == [ROW]


def test_model_tokens_run_inside_bedrock_follow_the_same_rule() -> None:
    # RetrieveAndGenerate and agents book ``retrieval:<model>`` / ``agent:<model>`` rows.
    ledger = Ledger()
    with pytest.raises(ConfigurationError, match="hourly charge"):
        ledger.reserve(f"retrieval:{PT_ARN}", 0, 100)
    _charged(ledger)
    assert ledger.reserve(f"retrieval:{PT_ARN}", 0, 100).model_id == ROW


def test_the_summary_shows_one_row_with_the_tokens_served_and_the_hours() -> None:
    ledger = Ledger()
    clock = _charged(ledger)
    for _ in range(3):
        ledger.reserve(PT_ARN, 100, 50).settle(Usage(90, 40))
    clock.now = START + timedelta(hours=5)
    summary = summarize(ledger)
    (row,) = [r for r in summary.by_model if r.model_id == ROW]
    assert (row.calls, row.input_tokens, row.output_tokens) == (3, 270, 120)
    assert row.cost == 2 * Decimal(20) * 5  # the hours, and nothing for the tokens
    assert summary.by_operation["provisioned"].cost == row.cost
    assert summary.by_operation["provisioned"].input_tokens == 270
    assert "chat" not in summary.by_operation


def test_ending_a_charge_by_name_stops_its_accrual() -> None:
    ledger = Ledger()
    clock = _charged(ledger, name="pt-end")
    clock.now = START + timedelta(hours=2)
    assert recurring_charges(ledger).end("pt-end")
    clock.now = START + timedelta(hours=10)
    assert recurring_charges(ledger).accrued() == 2 * Decimal(20) * 2
    assert recurring_charges(ledger).find("pt-end", "provisioned") is not None
    assert recurring_charges(ledger).find("pt-end", "storage") is None


def test_the_zero_token_price_is_sourced_and_dated() -> None:
    entry = load_prices().lookup(ROW)
    assert entry is not None and entry.verified and entry.operation == "provisioned"
    assert (entry.input, entry.output, entry.cache_read, entry.cache_write) == (0, 0, 0, 0)
    assert entry.source.startswith("https://docs.aws.amazon.com/bedrock/")
    assert entry.as_of and entry.unit == "USD per 1,000 tokens"


# -- the core chat path over LocalBedrock


def _runtime(server) -> ConverseRuntime:
    return ConverseRuntime(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0)
    )


def _request(stream: bool = False) -> dict:
    return build_chat_request(
        "converse",
        PT_ARN,
        [Message("user", (TextBlock("Label: my card was charged twice"),))],
        inference=InferenceConfig(max_tokens=64),
        stream=stream,
    )


def _sent(server) -> list[str]:
    return [r.operation for r in server.requests]


def test_core_send_refuses_before_any_request_count_tokens_included(server) -> None:
    ledger = Ledger(count_tokens=True)
    runtime = _runtime(server)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        send(runtime, "converse", _request(), ledger=ledger)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        send_stream(runtime, "converse", _request(stream=True), ledger=ledger)
    assert _sent(server) == [] and ledger.open_reservations() == 0


async def test_core_async_paths_refuse_before_any_request(server) -> None:
    ledger = Ledger(count_tokens=True)
    runtime = _runtime(server)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        await asend(runtime, "converse", _request(), ledger=ledger)
    with pytest.raises(ConfigurationError, match="hourly charge"):
        await anext(asend_stream(runtime, "converse", _request(stream=True), ledger=ledger))
    assert _sent(server) == [] and ledger.open_reservations() == 0


def test_core_send_and_stream_book_the_billed_tokens_at_zero(server) -> None:
    ledger = Ledger(count_tokens=False)
    _charged(ledger)
    runtime = _runtime(server)
    server.script("Converse", Reply.json(converse_reply("billing", usage=build_usage(31, 2))))
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events("billing", usage=build_usage(33, 3))),
    )
    result = send(runtime, "converse", _request(), ledger=ledger)
    assert result.usage.input_tokens == 31
    deltas = list(send_stream(runtime, "converse", _request(stream=True), ledger=ledger))
    assert isinstance(deltas[-1], CompletedDelta)
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 2, 64, 5)
    assert row.cost == 0 and ledger.open_reservations() == 0
    assert [r.path_params.get("modelId") for r in server.requests] == [PT_ARN, PT_ARN]


async def test_core_async_send_and_stream_book_the_billed_tokens_at_zero(server) -> None:
    ledger = Ledger(count_tokens=False)
    _charged(ledger)
    runtime = _runtime(server)
    server.script("Converse", Reply.json(converse_reply("billing", usage=build_usage(40, 4))))
    server.script(
        "ConverseStream",
        Reply.events(converse_stream_events("billing", usage=build_usage(41, 5))),
    )
    await asend(runtime, "converse", _request(), ledger=ledger)
    async for _ in asend_stream(runtime, "converse", _request(stream=True), ledger=ledger):
        pass
    (row,) = ledger.report().rows
    assert (row.model_id, row.calls, row.input_tokens, row.output_tokens) == (ROW, 2, 81, 9)
    assert row.cost == 0 and ledger.spent() == 0
