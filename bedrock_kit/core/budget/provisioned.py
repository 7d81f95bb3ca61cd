"""Calls on provisioned throughput: billed by the hour, so their tokens cost nothing more.

Provisioned Throughput is billed per model unit per hour (a one- or six-month term, or no
commitment for a custom model), not per token (AWS docs,
https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html: "no commitment
(hourly pricing)"). A ledger books a call on a provisioned model, addressed by its ARN
(``arn:aws:bedrock:<region>:<account>:provisioned-model/<id>``) or by the name of one it
holds a charge for, by these rules (:func:`provisioned_row`), applied in
:meth:`~bedrock_kit.core.budget.ledger.Ledger.reserve` and ``reserve_request`` before any
request, CountTokens included:

1. The price table has an entry for that ARN (``load_prices(overrides={"models": {arn:
   {...}}})``): your per-token price, booked under the ARN like any model.
2. The ledger's recurring charges (:func:`~bedrock_kit.core.budget.recurring.recurring_charges`)
   hold a provisioned charge for it (by ARN or name, registered by
   ``ProvisionedThroughput.create(ledger=, hourly_rate=)`` or by the registry's
   ``reserve(...).commit()`` / ``add(...)``): booked under the charge's row
   ``provisioned:<model id>`` with its real token counts at 0 USD per token (the price
   table's ``provisioned_tokens``). The hours accrue on the charge, so a cost summary shows
   one row with the tokens the provisioned model served and what its hours cost.
3. The ledger's ``on_unknown`` is a :class:`~bedrock_kit.core.budget.pricing.PriceEntry`
   (the price you gave for models the table lacks): that price, with its warning.
4. Otherwise the call is refused by name (:class:`~bedrock_kit.errors.ConfigurationError`):
   pricing it per token would charge it twice (hours and tokens), and at a guessed rate.

Settling a reservation to another model id and :meth:`~bedrock_kit.core.budget.ledger.Ledger.record`
(after the call) route to a charge's row the same way but never refuse: the call was made.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from bedrock_kit.core.budget import recurring
from bedrock_kit.core.budget.model_ids import split_qualifiers
from bedrock_kit.core.budget.pricing import PriceEntry, PriceTable
from bedrock_kit.errors import ConfigurationError

__all__ = ["ROW_PREFIX", "Ledger", "is_provisioned_arn", "provisioned_row"]

ROW_PREFIX = "provisioned:"
"""Report rows of provisioned throughput start with it (``provisioned:<model id>``)."""

_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:provisioned-model/[^/\s]+$")


class Ledger(recurring.Ledger, Protocol):
    """What the rule needs of a :class:`~bedrock_kit.core.budget.ledger.Ledger` (which
    imports this module, so the type is structural)."""

    @property
    def prices(self) -> PriceTable: ...

    @property
    def on_unknown(self) -> Any: ...


def is_provisioned_arn(model_id: str) -> bool:
    """True for a provisioned-model ARN (qualifiers such as ``priority:`` aside)."""
    return bool(_ARN.match(split_qualifiers(model_id)[1].strip()))


def provisioned_row(ledger: Ledger, model_id: str, *, refuse: bool = True) -> str:
    """The row a call on ``model_id`` is booked under (see the module doc).

    Args:
        ledger: The ledger charged.
        model_id: The id the request addresses (qualified or not).
        refuse: Raise for a provisioned-model ARN the ledger cannot price (before a
            request); False returns ``model_id`` unchanged instead (after one).

    Returns:
        ``provisioned:<model id>`` for a provisioned model the ledger holds a charge for,
        else ``model_id``.

    Raises:
        ConfigurationError: A provisioned-model ARN with no hourly charge on the ledger, no
            per-token price for it and no ``on_unknown`` price, with ``refuse``.
    """
    if model_id.startswith(ROW_PREFIX):
        return model_id
    bare = split_qualifiers(model_id)[1].strip()
    arn = bool(_ARN.match(bare))
    held = recurring.has_recurring(ledger)
    if not arn and not held:
        return model_id
    if arn and ledger.prices.lookup(bare) is not None:
        return model_id  # a per-token price you gave for this very ARN
    charge = recurring.recurring_charges(ledger).find(bare, "provisioned") if held else None
    if charge is not None:
        return charge.row_id
    if not arn or not refuse or isinstance(ledger.on_unknown, PriceEntry):
        return model_id
    raise ConfigurationError(
        f"provisioned model {bare}: the ledger holds no hourly charge for it, so its calls "
        "cannot be charged (provisioned throughput is billed per model unit per hour, not "
        "per token); register the hourly charge first: buy it with "
        "ProvisionedThroughput.create(..., ledger=ledger, hourly_rate=...), or for one that "
        "exists recurring_charges(ledger).add(RecurringCharge(operation='provisioned', "
        f"resource={bare!r}, model_id=<model served>, rate=<USD per model unit per hour>, "
        "units=<model units>)) (or .reserve(charge).commit()); or give a per-token price for "
        "it (load_prices(overrides={'models': {<this ARN>: {...}}}) or "
        "Ledger(on_unknown=PriceEntry(...)))",
        model_id=bare,
    )
