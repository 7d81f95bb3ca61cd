"""Time-based charges on a ledger: accrual, forecasts, the per-month budget, reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.core.budget.recurring import (
    HOURS_PER_MONTH,
    RecurringCharge,
    charge_rate,
    has_recurring,
    recurring_charges,
)
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt1"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/m1"
HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0"


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def pt(units: int = 2, rate: str = "21.18", commitment: str | None = None) -> RecurringCharge:
    return RecurringCharge(
        "provisioned", PT_ARN, MODEL_ARN, Decimal(rate), units=units, commitment=commitment
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(clock: Clock) -> Ledger:
    led = Ledger(count_tokens=False)
    recurring_charges(led, clock=clock)
    return led


@pytest.mark.parametrize("hours", [1, 7, 100, 731])
def test_accrual_after_n_hours_is_units_times_rate_times_n(ledger, clock, hours):
    book = recurring_charges(ledger)
    book.add(pt(units=3, rate="19.37"))
    assert book.accrued() == 0
    clock.advance(hours=hours)
    assert book.accrued() == 3 * Decimal("19.37") * hours  # exact Decimal, no rounding
    clock.advance(minutes=30)
    assert book.accrued() == 3 * Decimal("19.37") * (Decimal(hours) + Decimal("0.5"))


def test_forecast_for_a_month_adds_recurring_charges_to_on_demand_spend(ledger, clock):
    with ledger.reserve(HAIKU, 1000, 100) as r:
        r.settle(Usage(1000, 100))
    on_demand = ledger.spent()
    assert on_demand > 0
    book = recurring_charges(ledger)
    book.add(pt(units=1, rate="10"))
    clock.advance(hours=10)
    month = book.forecast(hours=HOURS_PER_MONTH)
    assert month.until == clock.now + timedelta(hours=730)
    assert month.on_demand == on_demand
    assert month.recurring_to_date == Decimal(100)
    assert month.recurring == Decimal(10) * (10 + 730)
    assert month.total == on_demand + Decimal(7400)
    # until= gives the same as hours=
    assert book.forecast(until=clock.now + timedelta(hours=730)).recurring == month.recurring
    with pytest.raises(ConfigurationError, match="until= or hours="):
        book.forecast()
    with pytest.raises(ConfigurationError, match="before now"):
        book.forecast(until=clock.now - timedelta(hours=1))


def test_no_commitment_stops_at_delete_a_commitment_accrues_its_term(ledger, clock):
    book = recurring_charges(ledger)
    book.add(pt(units=1, rate="2"))
    other = RecurringCharge(
        "provisioned", "pt-committed", MODEL_ARN, Decimal(1), commitment="OneMonth"
    )
    book.add(other)
    clock.advance(hours=5)
    assert book.end(PT_ARN) and book.end("pt-committed")
    clock.advance(hours=100)
    rows = {u.charge.resource: u for u in book.usage()}
    assert rows[PT_ARN].accrued == Decimal(10)  # stopped at delete
    assert rows["pt-committed"].accrued == Decimal(105)  # the term bills on
    clock.advance(hours=1000)
    assert {u.charge.resource: u.accrued for u in book.usage()}["pt-committed"] == Decimal(730)
    assert not book.end("never-registered")


def test_per_month_budget_refuses_a_commitment_that_does_not_fit(ledger, clock):
    book = recurring_charges(ledger, max_cost_per_month="20000")
    book.add(pt(units=1, rate="10"))  # 7,300 a month
    hold = book.reserve(pt(units=1, rate="10"))  # 14,600 with the first
    assert book.held() == Decimal(7300)
    with pytest.raises(BudgetExceededError, match=r"exceeds max_cost_per_month=\$20,000") as err:
        book.reserve(pt(units=1, rate="10"))
    assert err.value.model_id == PT_ARN
    hold.release()
    assert book.held() == 0
    book.reserve(pt(units=1, rate="10")).release()  # fits again once released
    # A six-month term is budgeted per period: one month of it must fit, the term is held.
    six = book.reserve(pt(units=1, rate="10", commitment="SixMonths"))
    assert six.cost == Decimal(10) * 730 * 6
    six.release()


def test_period_budget_counts_an_ended_commitment_to_its_term_end(ledger, clock):
    book = recurring_charges(ledger, max_cost_per_month="8000")
    book.add(RecurringCharge("provisioned", "c", MODEL_ARN, Decimal(10), commitment="OneMonth"))
    book.end("c")
    with pytest.raises(BudgetExceededError):
        book.add(pt(units=1, rate="1"))  # 7,300 still owed for the term + 730
    clock.advance(hours=730)
    book.add(pt(units=1, rate="1"))  # the term is over


def test_storage_accrues_per_month_of_730_hours(ledger, clock):
    book = recurring_charges(ledger)
    book.add(RecurringCharge("storage", MODEL_ARN, MODEL_ARN, Decimal("1.95"), per="month"))
    clock.advance(hours=365)
    assert book.accrued() == Decimal("1.95") / 2


def test_summary_shows_recurring_rows_flags_user_rates_and_exports(ledger, clock):
    with ledger.reserve(HAIKU, 100, 10) as r:
        r.settle(Usage(100, 10))
    book = recurring_charges(ledger)
    book.add(pt(units=2, rate="5"))
    book.add(RecurringCharge("storage", MODEL_ARN, MODEL_ARN, Decimal("7.30"), per="month"))
    clock.advance(hours=3)
    summary = summarize(ledger, hours=10)
    by_model = {row.model_id: row.cost for row in summary.by_model}
    assert by_model[f"provisioned:{MODEL_ARN}"] == Decimal(30)
    assert by_model[f"storage:{MODEL_ARN}"] == Decimal("0.03")
    assert summary.by_operation["provisioned"].cost == Decimal(30)
    assert summary.by_operation["storage"].cost == Decimal("0.03")
    assert summary.total_cost == ledger.spent() + Decimal("30.03")
    assert summary.forecast is not None and summary.forecast.recurring == Decimal("130.13")
    assert any("rate given by you, not verified" in n for n in summary.unverified_prices)
    text = summary.to_text()
    assert "provisioned " + PT_ARN in text and "rate given by you" in text
    assert "forecast to" in text
    records = summary.records()
    recurring = [r for r in records if r["group"] == "recurring"]
    assert {r["operation"] for r in recurring} == {"provisioned", "storage"}
    assert all(r["user_rate"] and r["rate_source"] == "user" for r in recurring)
    assert [r["cost"] for r in records if r["group"] == "forecast"] == [
        ledger.spent() + Decimal("130.13")
    ]
    rows = list(csv.DictReader(io.StringIO(summary.to_csv())))
    assert {r["key"] for r in rows if r["group"] == "recurring"} == {PT_ARN, MODEL_ARN}


def test_summary_unchanged_without_recurring_charges(ledger):
    with ledger.reserve(HAIKU, 100, 10) as r:
        r.settle(Usage(100, 10))
    recurring_charges(ledger)  # a registry with nothing in it
    assert not has_recurring(ledger)
    summary = summarize(ledger)
    assert summary.recurring == () and summary.forecast is None
    assert set(summary.by_operation) == {"chat"}
    assert all(r["group"] != "recurring" for r in summary.records())
    assert "accrued" not in summary.to_text()


def test_rates_are_never_guessed():
    prices = load_prices()
    with pytest.raises(ConfigurationError, match="no confirmed provisioned throughput rate"):
        charge_rate(prices, "provisioned", "amazon.nova-lite-v1:0", resource="pt-x")
    with pytest.raises(ConfigurationError, match="no confirmed customization rate"):
        charge_rate(prices, "storage", "amazon.nova-lite-v1:0")
    assert charge_rate(prices, "provisioned", "amazon.nova-lite-v1", "3.5") == (
        Decimal("3.5"),
        "user",
    )
    table = load_prices(
        {
            "provisioned_throughput": {
                "models": {"amazon.nova-lite-v1": {"hourly": {"OneMonth": "4"}, "evidence": "x"}}
            }
        }
    )
    assert charge_rate(table, "provisioned", "amazon.nova-lite-v1", commitment="OneMonth") == (
        Decimal(4),
        "x",
    )
    with pytest.raises(ConfigurationError, match="rate must be a number >= 0"):
        charge_rate(prices, "provisioned", "m", "-1")


def test_charges_are_checked_by_name():
    with pytest.raises(ConfigurationError, match="units must be an int >= 1"):
        pt(units=0)
    with pytest.raises(ConfigurationError, match="commitment must be"):
        pt(commitment="OneYear")
    with pytest.raises(ConfigurationError, match="operation must be"):
        RecurringCharge("training", "r", "m", Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        recurring_charges(Ledger()).accrued(now=datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="max_cost_per_month"):
        recurring_charges(Ledger(), max_cost_per_month="lots")


def test_64_concurrent_purchases_never_overspend_the_month(ledger):
    from concurrent.futures import ThreadPoolExecutor

    book = recurring_charges(ledger, max_cost_per_month=Decimal(730) * 10)  # room for 10 units

    def buy(i: int) -> bool:
        charge = RecurringCharge("provisioned", f"pt-{i}", MODEL_ARN, Decimal(1))
        try:
            hold = book.reserve(charge)
        except BudgetExceededError:
            return False
        hold.commit()
        return True

    with ThreadPoolExecutor(16) as pool:
        bought = sum(pool.map(buy, range(64)))
    assert bought == 10 == len(book)
    assert book.forecast(hours=730).recurring == Decimal(730) * 10
