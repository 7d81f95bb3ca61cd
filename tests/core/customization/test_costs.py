"""Customization cost and the on-demand vs provisioned break-even: pure tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_kit.core.budget.pricing import PriceEntry, default_prices
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.customization.costs import (
    HOURS_PER_MONTH,
    break_even,
    commitments,
    training_cost,
)
from bedrock_kit.core.customization.data import DatasetReport
from bedrock_kit.errors import ConfigurationError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PRICE = PriceEntry(input=Decimal("0.001"), output=Decimal("0.005"), model_id="m")


def test_unconfirmed_table_rates_are_refused_not_guessed():
    with pytest.raises(ConfigurationError, match="no confirmed customization price"):
        training_cost(HAIKU, 1000, epochs=2)


def test_training_cost_from_the_validators_report():
    report = DatasetReport(
        records=10, bytes=100, max_record_tokens=50, total_tokens=4000, estimated=True
    )
    cost = training_cost(HAIKU, report, epochs=3, train_per_1k="0.008", storage_per_month=1.95)
    assert cost.tokens_trained == 12_000
    assert cost.training == Decimal("0.096")
    assert cost.storage_per_month == Decimal("1.95")
    assert cost.estimated_tokens and cost.status == "user"
    with pytest.raises(ConfigurationError, match="epochs"):
        training_cost(HAIKU, report, epochs=0, train_per_1k=1, storage_per_month=1)
    with pytest.raises(ConfigurationError, match=">= 0"):
        training_cost(HAIKU, report, epochs=1, train_per_1k=-1, storage_per_month=1)


def test_break_even_with_numbers_on_both_sides():
    # 10M input + 2M output tokens in 24 h: 10,000*0.001 + 2,000*0.005 = $20 a day.
    usage = Usage(input_tokens=10_000_000, output_tokens=2_000_000)
    result = break_even(usage=usage, period_hours=24, hourly_rate_per_unit="20", on_demand=PRICE)
    daily = Decimal(20)
    assert result.on_demand_per_month == daily * HOURS_PER_MONTH / 24
    assert result.provisioned_per_month == 20 * HOURS_PER_MONTH
    assert result.cheaper == "on_demand"
    assert result.traffic_multiple_to_break_even == Decimal(24)
    assert result.savings_per_month == result.provisioned_per_month - result.on_demand_per_month
    assert "on-demand is cheaper" in result.summary() and "24.00x" in result.summary()
    busy = break_even(usage=usage, period_hours=0.5, hourly_rate_per_unit=20, on_demand=PRICE)
    assert busy.cheaper == "provisioned" and busy.traffic_multiple_to_break_even == Decimal("0.5")


def test_break_even_reports_utilisation_and_uses_the_price_table():
    usage = Usage(input_tokens=600_000, output_tokens=0)
    result = break_even(
        usage=usage,
        period_hours=1,
        hourly_rate_per_unit=1,
        model_units=2,
        base_model_id=HAIKU,
        tokens_per_minute_per_unit=10_000,
    )
    assert result.utilisation == Decimal("0.5") and result.fits is True
    expected = default_prices().price(HAIKU).cost(usage) * HOURS_PER_MONTH
    assert result.on_demand_per_month == expected
    idle = break_even(usage=Usage(), period_hours=1, hourly_rate_per_unit=1, on_demand=PRICE)
    assert idle.traffic_multiple_to_break_even is None and idle.cheaper == "on_demand"
    with pytest.raises(ConfigurationError):
        break_even(usage=usage, period_hours=0, hourly_rate_per_unit=1, on_demand=PRICE)
    with pytest.raises(ConfigurationError):
        break_even(usage=usage, period_hours=1, hourly_rate_per_unit=1)


def test_commitments_from_the_facts():
    assert commitments("base_model") == ["OneMonth", "SixMonths"]
    assert "OneMonth" in commitments("custom_model") and len(commitments("custom_model")) == 3
