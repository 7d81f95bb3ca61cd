"""What customization and provisioned throughput cost, and when provisioned pays off.

Rates come from the ``customization`` and ``provisioned_throughput`` sections of the
packaged price table (``bedrock_kit/core/budget/prices.json``) or from the caller. No
authoritative figure for either was in reach when the table was written, so the packaged
rates are null and every helper here refuses to guess: pass the rates shown in the console
or on https://aws.amazon.com/bedrock/pricing/ (``train_per_1k`` and so on), and the result
says ``status="user"``.

:func:`break_even` compares on-demand cost of observed usage (a core
:class:`~bedrock_kit.core.chat.types.Usage` over a period, priced with the on-demand table)
with ``N`` provisioned model units for a month, and says which is cheaper, by how much, and
how many times the observed traffic would have to grow for provisioned to pay off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

from bedrock_kit.core.budget.pricing import PriceEntry, default_prices, normalise_model_id
from bedrock_kit.core.budget.recurring import HOURS_PER_MONTH
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.customization.data import DatasetReport
from bedrock_kit.errors import ConfigurationError

_THOUSAND = Decimal(1000)


@cache
def _sections() -> dict[str, Any]:
    text = resources.files("bedrock_kit.core.budget").joinpath("prices.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return {k: data.get(k) or {} for k in ("customization", "provisioned_throughput")}


def _rate(value: Any, name: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise ConfigurationError(f"{name} must be a number >= 0, got {value!r}")
    return rate


def _packaged_rate(section: str, model_id: str, key: str) -> tuple[Decimal, str, str]:
    data = _sections()[section]
    base = normalise_model_id(model_id)[0]
    entry = (data.get("models") or {}).get(base) or {}
    value = entry.get(key)
    if value is None:
        raise ConfigurationError(
            f"no confirmed {section.replace('_', ' ')} price ({key}) for {base!r} in the price "
            f"table (status {entry.get('status') or data.get('status') or 'missing'}); pass "
            f"your rate from {data.get('source') or 'the AWS pricing page'}"
        )
    return _rate(value, key), str(data.get("source") or ""), str(entry.get("status") or "")


@dataclass(frozen=True)
class TrainingCost:
    """The cost of one customization job and of keeping its model."""

    tokens_trained: int
    """Tokens billed: dataset tokens times epochs."""
    training: Decimal
    """USD for the job."""
    storage_per_month: Decimal
    """USD per month the custom model is stored."""
    estimated_tokens: bool
    """True when the dataset tokens are the core estimate (which errs high)."""
    status: str
    """``user`` when the caller gave the rates, else the table's status."""
    source: str = ""
    """Where the rates come from."""


def training_cost(
    base_model_id: str,
    dataset: DatasetReport | int,
    *,
    epochs: int,
    train_per_1k: Decimal | float | str | None = None,
    storage_per_month: Decimal | float | str | None = None,
) -> TrainingCost:
    """Customization cost: ``tokens x epochs x train rate`` plus monthly storage.

    Args:
        base_model_id: The base model (its table rates are used when none are given).
        dataset: The validator's report (its ``total_tokens``) or a token count.
        epochs: ``epochCount`` of the job.
        train_per_1k: USD per 1,000 tokens trained.
        storage_per_month: USD per month of model storage.

    Raises:
        ConfigurationError: A rate is missing from both the call and the table, or invalid.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigurationError(f"epochs must be an int >= 1, got {epochs!r}")
    tokens = dataset.total_tokens if isinstance(dataset, DatasetReport) else int(dataset)
    estimated = dataset.estimated if isinstance(dataset, DatasetReport) else False
    status, source = "user", ""
    if train_per_1k is None:
        train, source, status = _packaged_rate("customization", base_model_id, "train")
    else:
        train = _rate(train_per_1k, "train_per_1k")
    if storage_per_month is None:
        storage, source, status = _packaged_rate("customization", base_model_id, "storage_month")
    else:
        storage = _rate(storage_per_month, "storage_per_month")
    trained = tokens * epochs
    return TrainingCost(
        tokens_trained=trained,
        training=Decimal(trained) * train / _THOUSAND,
        storage_per_month=storage,
        estimated_tokens=estimated,
        status=status,
        source=source,
    )


@dataclass(frozen=True)
class BreakEven:
    """On-demand versus provisioned throughput for one month of the observed traffic."""

    on_demand_per_month: Decimal
    """USD a month of the observed traffic costs on demand."""
    provisioned_per_month: Decimal
    """USD a month of ``model_units`` costs at ``hourly_rate_per_unit``."""
    model_units: int
    """Model units compared."""
    cheaper: Literal["on_demand", "provisioned"]
    """Which costs less (ties go to on-demand: no commitment)."""
    savings_per_month: Decimal
    """How much less the cheaper option costs."""
    traffic_multiple_to_break_even: Decimal | None
    """How many times the observed traffic makes both cost the same (None: no traffic)."""
    utilisation: Decimal | None = None
    """Observed tokens per minute over the units' capacity, when a capacity was given."""
    fits: bool | None = None
    """Whether the observed traffic fits the units' capacity (None: capacity unknown)."""

    def summary(self) -> str:
        """One line with the numbers."""
        multiple = (
            f"; provisioned breaks even at {self.traffic_multiple_to_break_even:.2f}x the traffic"
            if self.traffic_multiple_to_break_even is not None
            else ""
        )
        return (
            f"on-demand ${self.on_demand_per_month:.2f}/month vs {self.model_units} model "
            f"unit(s) ${self.provisioned_per_month:.2f}/month: {self.cheaper.replace('_', '-')} "
            f"is cheaper by ${self.savings_per_month:.2f}{multiple}"
        )


def break_even(
    *,
    usage: Usage,
    period_hours: float,
    hourly_rate_per_unit: Decimal | float | str,
    model_units: int = 1,
    base_model_id: str | None = None,
    on_demand: PriceEntry | None = None,
    tokens_per_minute_per_unit: int | None = None,
    hours_per_month: Decimal = HOURS_PER_MONTH,
) -> BreakEven:
    """Whether on-demand or ``model_units`` of provisioned throughput is cheaper.

    Args:
        usage: Billed usage observed (a ledger's total, or a sum of results' usage).
        period_hours: Hours over which ``usage`` was observed.
        hourly_rate_per_unit: USD per model unit per hour, for the commitment considered.
        model_units: Model units compared.
        base_model_id: Prices the on-demand side from the packaged table.
        on_demand: Or the on-demand price entry itself.
        tokens_per_minute_per_unit: Capacity of one unit, if known, to report utilisation.
        hours_per_month: Hours in the month compared.

    Raises:
        ConfigurationError: Bad arguments, or no on-demand price.
    """
    if not period_hours or period_hours <= 0:
        raise ConfigurationError(f"period_hours must be > 0, got {period_hours!r}")
    if isinstance(model_units, bool) or not isinstance(model_units, int) or model_units < 1:
        raise ConfigurationError(f"model_units must be an int >= 1, got {model_units!r}")
    if on_demand is None:
        if base_model_id is None:
            raise ConfigurationError("pass base_model_id or on_demand to price the on-demand side")
        on_demand = default_prices().price(base_model_id, on_unknown="error")
    hourly = _rate(hourly_rate_per_unit, "hourly_rate_per_unit")
    demand = on_demand.cost(usage) * hours_per_month / Decimal(str(period_hours))
    provisioned = hourly * model_units * hours_per_month
    cheaper: Literal["on_demand", "provisioned"] = (
        "provisioned" if provisioned < demand else "on_demand"
    )
    multiple = provisioned / demand if demand > 0 else None
    utilisation = fits = None
    if tokens_per_minute_per_unit:
        minutes = Decimal(str(period_hours)) * 60
        observed = Decimal(usage.total_input_tokens + usage.output_tokens) / minutes
        utilisation = observed / (tokens_per_minute_per_unit * model_units)
        fits = utilisation <= 1
    return BreakEven(
        on_demand_per_month=demand,
        provisioned_per_month=provisioned,
        model_units=model_units,
        cheaper=cheaper,
        savings_per_month=abs(provisioned - demand),
        traffic_multiple_to_break_even=multiple,
        utilisation=utilisation,
        fits=fits,
    )


def commitments(kind: Literal["base_model", "custom_model"]) -> list[str]:
    """Documented purchase options of provisioned throughput for base or custom models."""
    found = (_sections()["provisioned_throughput"].get("commitments") or {}).get(kind)
    return list(found or [])


__all__ = [
    "HOURS_PER_MONTH",
    "BreakEven",
    "TrainingCost",
    "break_even",
    "commitments",
    "training_cost",
]
