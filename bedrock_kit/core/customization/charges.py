"""What provisioned throughput and custom model storage put on a ledger, and when.

:class:`~bedrock_kit.core.customization.serving.ProvisionedThroughput` and
:class:`~bedrock_kit.core.customization.jobs.CustomizationJob` call these when given
``ledger=``; the charges live in the ledger's
:func:`~bedrock_kit.core.budget.recurring.recurring_charges`:

* **Provisioned throughput** (:func:`provisioned_charge`): ``model_units x hourly_rate`` per
  hour. Before CreateProvisionedModelThroughput the charge is checked against the ledger's
  ``max_cost_per_month`` and its term is held (one or six months of 730 hours; one month
  without a commitment); Bedrock's answer registers it, a failure releases it, ``delete()``
  ends a no-commitment charge (a committed one accrues to the end of its term).
* **Custom model storage** (:func:`storage_charge`, :func:`charge_storage`): the monthly
  storage rate of the model a customization job made, registered when the job's model is
  read. The model exists by then and is billed whatever the budget, so storage is recorded,
  not refused; its rate is checked before the job is waited for.

No rate is confirmed for either (the packaged table's are null), so without the caller's
rate the ledger refuses the charge by name (:class:`~bedrock_kit.errors.ConfigurationError`)
before any request.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.recurring import (
    RecurringCharge,
    charge_rate,
    recurring_charges,
)
from bedrock_kit.core.customization.wire import CustomModel
from bedrock_kit.errors import ConfigurationError

__all__ = ["charge_storage", "end_charges", "provisioned_charge", "storage_charge"]


def provisioned_charge(
    ledger: Ledger | None,
    model: str | CustomModel,
    *,
    model_units: int,
    commitment: str | None,
    hourly_rate: Any,
    name: str,
) -> RecurringCharge | None:
    """The recurring charge a CreateProvisionedModelThroughput request would add.

    Args:
        ledger: The ledger to charge; None charges nothing.
        model: The model served (a custom model, its ARN, or a base model id).
        model_units: Model units bought.
        commitment: ``OneMonth``, ``SixMonths`` or None.
        hourly_rate: USD per model unit per hour (from the console); None reads the table.
        name: The provisioned model's name (the resource until Bedrock returns its ARN).

    Raises:
        ConfigurationError: A rate without a ledger, or no rate for the model.
    """
    model_id = model.arn if isinstance(model, CustomModel) else model
    if ledger is None:
        if hourly_rate is not None:
            raise ConfigurationError(
                f"provisioned throughput {name}: hourly_rate= needs ledger= to charge",
                model_id=model_id,
            )
        return None
    base = model.base_model_id if isinstance(model, CustomModel) else None
    rate, source = charge_rate(
        ledger.prices,
        "provisioned",
        base or model_id,
        hourly_rate,
        commitment=commitment,
        resource=f"provisioned throughput {name} of {model_id}",
    )
    return RecurringCharge(
        operation="provisioned",
        resource=name,
        model_id=model_id,
        rate=rate,
        per="hour",
        units=model_units,
        rate_source=source,
        commitment=commitment,
        name=name,
    )


def storage_charge(
    ledger: Ledger | None, base_model_id: str | None, monthly_rate: Any, *, what: str
) -> tuple[Decimal, str] | None:
    """Check a storage rate before the custom model exists; the ``(rate, source)`` to use.

    Raises:
        ConfigurationError: A rate without a ledger, or no rate for the base model.
    """
    if ledger is None:
        if monthly_rate is not None:
            raise ConfigurationError(f"{what}: storage_rate= needs ledger= to charge")
        return None
    return charge_rate(
        ledger.prices, "storage", base_model_id or "", monthly_rate, resource=f"storage of {what}"
    )


def charge_storage(
    ledger: Ledger,
    model: CustomModel,
    *,
    monthly_rate: Any = None,
    start: datetime | None = None,
) -> RecurringCharge:
    """Record ``model``'s monthly storage on ``ledger`` (accrued from ``start``, or now).

    Raises:
        ConfigurationError: No rate was given and the table has none for its base model.
    """
    rate, source = charge_rate(
        ledger.prices,
        "storage",
        model.base_model_id or "",
        monthly_rate,
        resource=f"storage of {model.arn}",
    )
    charge = RecurringCharge(
        operation="storage",
        resource=model.arn,
        model_id=model.arn,
        rate=rate,
        per="month",
        rate_source=source,
    )
    recurring_charges(ledger).record(charge, start=start)
    return charge


def end_charges(ledger: Ledger | None, resource: str, *, at: datetime | None = None) -> bool:
    """Stop the running charges of ``resource`` on ``ledger`` (it was deleted)."""
    return ledger is not None and recurring_charges(ledger).end(resource, at=at)
