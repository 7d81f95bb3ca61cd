"""Time-based charges: provisioned throughput and custom model storage, accrued per hour.

Bedrock bills provisioned throughput per model unit per hour (no commitment, or a one- or
six-month term) and stores a custom model per month, whether or not it is called. These are
not calls a reservation can hold for a moment, so a ledger keeps them in a registry of its
own (:func:`recurring_charges`, next to the ledger like :mod:`~bedrock_kit.core.budget.tags`):

* :meth:`RecurringCharges.reserve` checks a new charge against the per-period budget
  (``max_cost_per_month``: what every recurring charge may cost over the next 730 hours,
  the month AWS prices in) and holds its term's cost, **before** the purchase request is
  sent; :meth:`RecurringHold.commit` registers it once Bedrock accepted, and
  :meth:`RecurringHold.release` frees it when the request failed.
* :meth:`RecurringCharges.end` stops accrual (the resource was deleted). A committed term
  keeps accruing to its end: Bedrock bills the whole term.
* :meth:`RecurringCharges.accrued` is the cost to date at a given ``now``, and
  :meth:`RecurringCharges.forecast` adds the recurring charges up to a date (or a number of
  hours ahead) to the on-demand spend the ledger settled.

Rates are never guessed: no Provisioned Throughput hourly rate and no storage price could be
confirmed (Amazon shows them in the console, not on a page in reach), so
the packaged table's rates are null and a charge needs the caller's rate (``rate_source`` is
``user``, flagged as such in reports) or a non-null table rate (flagged with the table's
evidence). Without either it is refused by name (:class:`~bedrock_kit.errors.ConfigurationError`),
whatever the ledger's ``on_unknown`` says: there is no price to fall back to.

Time is read from the registry's ``clock`` (UTC ``datetime``; tests inject one) or a ``now=``
argument. A term is counted in hours: one month is :data:`HOURS_PER_MONTH` (730), six months
4,380. After a committed term ends, a resource that was not deleted accrues at the same rate
until it is (what Bedrock bills after a term is not verified). The registry lives in this
process: a shared ledger store (Redis) does not share recurring charges.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.pricing import PriceTable, normalise_model_id
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

__all__ = [
    "HOURS_PER_MONTH",
    "TERM_HOURS",
    "Forecast",
    "Ledger",
    "RecurringCharge",
    "RecurringCharges",
    "RecurringHold",
    "RecurringUsage",
    "charge_rate",
    "has_recurring",
    "holding",
    "recurring_charges",
]

HOURS_PER_MONTH = Decimal(730)
"""Hours billed in a month (AWS prices months of provisioned throughput as 730 hours)."""
TERM_HOURS: dict[str | None, Decimal | None] = {
    None: None,
    "OneMonth": HOURS_PER_MONTH,
    "SixMonths": 6 * HOURS_PER_MONTH,
}
"""Hours of each provisioned throughput commitment (None: no commitment, no term)."""

Operation = Literal["provisioned", "storage"]
_PER_HOURS = {"hour": Decimal(1), "month": HOURS_PER_MONTH}
_ZERO = Decimal(0)
_SECONDS = Decimal(3600)
_RATE_KEYS = {
    "provisioned": ("provisioned_throughput", "hourly"),
    "storage": ("customization", "storage_month"),
}


class Ledger(Protocol):
    """What the registry needs of a :class:`~bedrock_kit.core.budget.ledger.Ledger` (the
    ledger module imports this one through :mod:`~bedrock_kit.core.budget.provisioned`, so
    the type is structural)."""

    def spent(self, scope: str | None = None) -> Decimal: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ConfigurationError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment


def _decimal(value: Any, name: str, *, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ConfigurationError(f"{what}: {name} must be a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ConfigurationError(f"{what}: {name} must be a number >= 0, got {value!r}")
    return number


@dataclass(frozen=True)
class RecurringCharge:
    """A time-based charge: provisioned model units per hour, or a custom model's storage."""

    operation: Operation
    """``provisioned`` (model units per hour) or ``storage`` (a custom model per month)."""
    resource: str
    """What is billed: the provisioned model ARN or name, or the custom model ARN."""
    model_id: str
    """The model served or stored (reports group per model by it)."""
    rate: Decimal
    """USD per unit per :attr:`per`."""
    per: Literal["hour", "month"] = "hour"
    """The rate's period: ``hour`` (provisioned) or ``month`` (storage)."""
    units: int = 1
    """Model units (1 for storage)."""
    rate_source: str = "user"
    """``user`` when the caller gave the rate, else the price table's evidence level."""
    commitment: str | None = None
    """``OneMonth``, ``SixMonths`` or None (no commitment: billed until deleted)."""
    name: str = ""
    """The resource's name besides its ARN (a provisioned model's name), matched like
    :attr:`resource` by :meth:`RecurringCharges.find` and :meth:`RecurringCharges.end`."""

    def __post_init__(self) -> None:
        what = f"{self.operation} charge for {self.resource or '?'}"
        if self.operation not in _RATE_KEYS:
            raise ConfigurationError(f"{what}: operation must be 'provisioned' or 'storage'")
        if not self.resource or not self.model_id:
            raise ConfigurationError(f"{what}: resource and model_id must be non-empty")
        if self.per not in _PER_HOURS:
            raise ConfigurationError(f"{what}: per must be 'hour' or 'month', got {self.per!r}")
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ConfigurationError(f"{what}: units must be an int >= 1, got {self.units!r}")
        if self.commitment not in TERM_HOURS:
            raise ConfigurationError(
                f"{what}: commitment must be OneMonth, SixMonths or None, got {self.commitment!r}"
            )
        object.__setattr__(self, "rate", _decimal(self.rate, "rate", what=what))

    @property
    def row_id(self) -> str:
        """The report row: ``provisioned:<model id>`` or ``storage:<model id>``."""
        return f"{self.operation}:{self.model_id}"

    @property
    def term_hours(self) -> Decimal | None:
        """Hours of the commitment (None without one)."""
        return TERM_HOURS[self.commitment]

    def cost_for_hours(self, hours: Decimal | int) -> Decimal:
        """USD for ``hours`` of this charge: ``units x rate x hours`` (per hour of rate)."""
        return self.units * self.rate * Decimal(hours) / _PER_HOURS[self.per]

    def cost_between(self, start: datetime, stop: datetime) -> Decimal:
        """USD accrued between two moments (zero when ``stop`` is not after ``start``)."""
        seconds = Decimal(str(max((stop - start).total_seconds(), 0)))
        return self.units * self.rate * seconds / (_SECONDS * _PER_HOURS[self.per])

    @property
    def term_cost(self) -> Decimal:
        """USD of the whole commitment; without one, of one month (730 hours)."""
        return self.cost_for_hours(self.term_hours or HOURS_PER_MONTH)

    @property
    def user_rate(self) -> bool:
        """True when the rate is the caller's (not verified by bedrock-kit)."""
        return self.rate_source == "user"

    def describe(self) -> str:
        """``2 model units x $21.18/hour (rate given by you, not verified)``."""
        unit = "model unit" if self.operation == "provisioned" else "model"
        origin = (
            "rate given by you, not verified"
            if self.user_rate
            else f"price table rate, evidence {self.rate_source}"
        )
        return (
            f"{self.units} {unit}{'s' if self.units != 1 else ''} x "
            f"{format_usd(self.rate, exact=True)}/{self.per} ({origin})"
        )


def charge_rate(
    prices: PriceTable,
    operation: Operation,
    model_id: str,
    rate: Any = None,
    *,
    commitment: str | None = None,
    resource: str = "",
) -> tuple[Decimal, str]:
    """The rate of a charge and where it comes from: the caller's, else a non-null table rate.

    Args:
        prices: The ledger's price table (its ``provisioned_throughput`` / ``customization``
            sections).
        operation: ``provisioned`` (USD per model unit per hour) or ``storage`` (USD per
            model per month).
        model_id: The model whose table entry is read (the base model of a custom model).
        rate: The caller's rate; None reads the table.
        commitment: For a table rate given per commitment (``{"OneMonth": ...}``).
        resource: Named in a refusal.

    Returns:
        ``(rate, source)``: ``source`` is ``user`` or the table entry's evidence level.

    Raises:
        ConfigurationError: No rate was given and the table has none (every packaged rate is
            null: none could be confirmed), or the rate is not a number >= 0.
    """
    what = f"{operation} charge for {resource or model_id}"
    if rate is not None:
        return _decimal(rate, "rate", what=what), "user"
    section_name, key = _RATE_KEYS[operation]
    section = prices.sections.get(section_name) or {}
    base = normalise_model_id(model_id)[0] if model_id else ""
    entry = (section.get("models") or {}).get(base) or {}
    value = entry.get(key)
    if isinstance(value, dict):
        value = value.get(commitment or "none")
    if value is None:
        unit = "USD per model unit per hour" if operation == "provisioned" else "USD per month"
        raise ConfigurationError(
            f"{what}: no confirmed {section_name.replace('_', ' ')} rate for {base or '?'!r} in "
            f"the price table (status {entry.get('status') or section.get('status') or 'missing'})"
            f"; pass your rate ({unit}) from the Bedrock console",
            model_id=resource or model_id,
        )
    evidence = str(entry.get("evidence") or entry.get("status") or "unverified")
    return _decimal(value, key, what=what), evidence


@dataclass(frozen=True)
class RecurringUsage:
    """One registered charge with what it accrued and what it is forecast to cost."""

    charge: RecurringCharge
    """The charge."""
    start: datetime
    """When accrual started (the purchase was accepted)."""
    end: datetime | None
    """When it was ended (deleted), None while running."""
    accrued: Decimal
    """USD accrued from ``start`` to the reading's ``now``."""
    forecast: Decimal
    """USD accrued from ``start`` to the forecast's end (``accrued`` when not forecast)."""

    @property
    def stops(self) -> datetime | None:
        """When accrual stops: the end, or the committed term's end if later (None: running)."""
        if self.end is None:
            return None
        term = self.charge.term_hours
        if term is None:
            return self.end
        return max(self.end, self.start + timedelta(hours=float(term)))


@dataclass(frozen=True)
class Forecast:
    """On-demand spend to date plus recurring charges to a date."""

    now: datetime
    """When the forecast was made."""
    until: datetime
    """The date forecast to."""
    on_demand: Decimal
    """USD the ledger settled for calls so far (on-demand calls are not projected)."""
    recurring_to_date: Decimal
    """USD the recurring charges accrued up to ``now``."""
    recurring: Decimal
    """USD the recurring charges will have accrued by ``until``."""
    rows: tuple[RecurringUsage, ...] = ()
    """Each charge's accrual and forecast."""

    @property
    def total(self) -> Decimal:
        """``on_demand + recurring``: the bill at ``until`` if no more calls are made."""
        return self.on_demand + self.recurring


class RecurringHold:
    """A charge checked against the period budget, held until committed or released.

    Use it as a context manager: leaving it by an exception releases it.
    """

    def __init__(self, book: RecurringCharges, charge: RecurringCharge, hold_id: int) -> None:
        self.charge = charge
        """The charge held (its resource may change on :meth:`commit`)."""
        self.state = "open"
        """``open``, ``committed`` or ``released``."""
        self._book = book
        self._id = hold_id

    @property
    def cost(self) -> Decimal:
        """USD held: the commitment term's cost (one month without a commitment)."""
        return self.charge.term_cost

    def commit(self, *, resource: str | None = None, start: datetime | None = None) -> None:
        """Register the charge (the purchase was accepted); accrual starts at ``start``.

        Args:
            resource: The resource's final id (the ARN Bedrock returned).
            start: When accrual starts; the registry's clock by default.
        """
        if self.state != "open":
            return
        if resource:
            self.charge = replace(self.charge, resource=resource)
        self._book._commit(self, start)
        self.state = "committed"

    def release(self) -> None:
        """Free the hold without registering anything (the purchase failed). Idempotent."""
        if self.state == "open":
            self._book._drop(self._id)
            self.state = "released"

    def __enter__(self) -> RecurringHold:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


@dataclass
class _Entry:
    charge: RecurringCharge
    start: datetime
    end: datetime | None = None


class RecurringCharges:
    """A ledger's time-based charges (see the module doc); get it with
    :func:`recurring_charges`.

    Args:
        ledger: The ledger whose on-demand spend forecasts add to.
        clock: Returns the current UTC time (tests inject one).
    """

    def __init__(self, ledger: Ledger, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.clock = clock
        """Returns the current time (timezone-aware)."""
        self.max_cost_per_month: Decimal | None = None
        """What every recurring charge together may cost over 730 hours (None: no limit)."""
        self._ledger = weakref.ref(ledger)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._holds: dict[int, tuple[RecurringCharge, datetime]] = {}
        self._entries: list[_Entry] = []

    def _now(self, now: datetime | None) -> datetime:
        return _aware(now if now is not None else self.clock(), "now")

    # -- budget

    def _period_cost(self, begin: datetime) -> Decimal:
        """USD every registered and held charge costs from ``begin`` over 730 hours."""
        stop = begin + timedelta(hours=float(HOURS_PER_MONTH))
        total = _ZERO
        for entry in self._entries:
            ends = _usage(entry, begin, begin).stops or stop
            total += entry.charge.cost_between(max(entry.start, begin), min(ends, stop))
        for charge, _ in self._holds.values():
            total += charge.cost_for_hours(HOURS_PER_MONTH)
        return total

    def reserve(self, charge: RecurringCharge, *, now: datetime | None = None) -> RecurringHold:
        """Check ``charge`` against ``max_cost_per_month`` and hold it; before any request.

        Raises:
            BudgetExceededError: The recurring charges of the next 730 hours, this one
                included, would cost more than ``max_cost_per_month``.
        """
        begin = self._now(now)
        with self._lock:
            limit = self.max_cost_per_month
            monthly = charge.cost_for_hours(HOURS_PER_MONTH)
            if limit is not None:
                committed = self._period_cost(begin)
                if committed + monthly > limit:
                    raise BudgetExceededError(
                        f"{charge.operation} charge for {charge.resource} refused before the "
                        f"request: {charge.describe()} costs {format_usd(monthly)} a month "
                        f"(term {format_usd(charge.term_cost)}); with the recurring charges "
                        f"held ({format_usd(committed)}) that exceeds max_cost_per_month="
                        f"{format_usd(limit)}",
                        model_id=charge.resource,
                    )
            hold_id = next(self._ids)
            self._holds[hold_id] = (charge, begin)
        return RecurringHold(self, charge, hold_id)

    def _commit(self, hold: RecurringHold, start: datetime | None) -> None:
        begin = self._now(start)
        with self._lock:
            self._holds.pop(hold._id, None)
            self._entries.append(_Entry(hold.charge, begin))

    def _drop(self, hold_id: int) -> None:
        with self._lock:
            self._holds.pop(hold_id, None)

    def add(self, charge: RecurringCharge, *, start: datetime | None = None) -> RecurringCharge:
        """Reserve and register a charge in one step (a resource that already exists).

        Raises:
            BudgetExceededError: It does not fit ``max_cost_per_month``.
        """
        hold = self.reserve(charge, now=start)
        hold.commit(start=start)
        return hold.charge

    def record(self, charge: RecurringCharge, *, start: datetime | None = None) -> None:
        """Register a charge already billed, without the budget check (a custom model that
        exists is stored, and billed, whatever the budget says)."""
        begin = self._now(start)
        with self._lock:
            self._entries.append(_Entry(charge, begin))

    def end(self, resource: str, *, at: datetime | None = None) -> bool:
        """Stop accruing the running charges of ``resource`` (deleted); False if none ran.

        A committed term still accrues to its end (see :attr:`RecurringUsage.stops`).
        """
        moment = self._now(at)
        with self._lock:
            running = [e for e in self._entries if _names(e.charge, resource) and e.end is None]
            for entry in running:
                entry.end = max(moment, entry.start)
        return bool(running)

    # -- reading

    def find(self, resource: str, operation: Operation | None = None) -> RecurringCharge | None:
        """The registered charge of ``resource`` (its ARN or name), a running one first.

        Args:
            resource: The resource's ARN or name.
            operation: Only charges of this operation (``provisioned``, ``storage``).
        """
        with self._lock:
            found = [
                e
                for e in self._entries
                if _names(e.charge, resource) and operation in (None, e.charge.operation)
            ]
        found.sort(key=lambda e: e.end is None, reverse=True)
        return found[0].charge if found else None

    def usage(
        self, *, now: datetime | None = None, until: datetime | None = None
    ) -> list[RecurringUsage]:
        """Every registered charge, accrued at ``now`` and forecast to ``until``."""
        moment = self._now(now)
        horizon = moment if until is None else _aware(until, "until")
        with self._lock:
            entries = list(self._entries)
        return [_usage(e, moment, horizon) for e in entries]

    def accrued(self, *, now: datetime | None = None) -> Decimal:
        """USD every recurring charge accrued up to ``now``."""
        return sum((u.accrued for u in self.usage(now=now)), _ZERO)

    def held(self) -> Decimal:
        """USD held by purchases not yet accepted (their terms' cost)."""
        with self._lock:
            return sum((c.term_cost for c, _ in self._holds.values()), _ZERO)

    def forecast(
        self,
        *,
        until: datetime | None = None,
        hours: Decimal | int | None = None,
        now: datetime | None = None,
    ) -> Forecast:
        """The ledger's on-demand spend plus recurring charges accrued to ``until``.

        Args:
            until: The date forecast to.
            hours: Or how many hours from ``now`` (``730`` for a month).
            now: The present (the clock by default).

        Raises:
            ConfigurationError: Neither or both of ``until`` and ``hours``, or ``until`` in
                the past.
        """
        moment = self._now(now)
        if (until is None) == (hours is None):
            raise ConfigurationError("forecast() takes until= or hours=, one of them")
        if hours is not None:
            until = moment + timedelta(hours=float(_decimal(hours, "hours", what="forecast")))
        horizon = _aware(until, "until")  # type: ignore[arg-type]
        if horizon < moment:
            raise ConfigurationError(f"forecast until {horizon.isoformat()} is before now")
        rows = tuple(self.usage(now=moment, until=horizon))
        ledger = self._ledger()
        return Forecast(
            now=moment,
            until=horizon,
            on_demand=ledger.spent() if ledger is not None else _ZERO,
            recurring_to_date=sum((r.accrued for r in rows), _ZERO),
            recurring=sum((r.forecast for r in rows), _ZERO),
            rows=rows,
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _names(charge: RecurringCharge, resource: str) -> bool:
    return bool(resource) and resource in (charge.resource, charge.name)


def _usage(entry: _Entry, now: datetime, until: datetime) -> RecurringUsage:
    row = RecurringUsage(entry.charge, entry.start, entry.end, _ZERO, _ZERO)
    stops = row.stops
    to_now = now if stops is None else min(now, stops)
    to_until = until if stops is None else min(until, stops)
    accrued = entry.charge.cost_between(entry.start, to_now)
    forecast = entry.charge.cost_between(entry.start, max(to_until, to_now))
    return replace(row, accrued=accrued, forecast=forecast)


_registry_lock = threading.Lock()
_registries: weakref.WeakKeyDictionary[Ledger, RecurringCharges] = weakref.WeakKeyDictionary()


def recurring_charges(
    ledger: Ledger,
    *,
    max_cost_per_month: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> RecurringCharges:
    """The ledger's :class:`RecurringCharges`, created on first use.

    Args:
        ledger: The ledger.
        max_cost_per_month: Sets the per-period budget of its recurring charges (USD over
            730 hours); None keeps the current one.
        clock: Sets the clock (a function returning an aware ``datetime``).

    Raises:
        ConfigurationError: ``max_cost_per_month`` is not a number >= 0.
    """
    with _registry_lock:
        book = _registries.get(ledger)
        if book is None:
            book = _registries[ledger] = RecurringCharges(ledger)
    if clock is not None:
        book.clock = clock
    if max_cost_per_month is not None:
        book.max_cost_per_month = _decimal(
            max_cost_per_month, "max_cost_per_month", what="recurring charges"
        )
    return book


def has_recurring(ledger: Ledger) -> bool:
    """True when ``ledger`` has registered a recurring charge (reports add them then)."""
    with _registry_lock:
        book = _registries.get(ledger)
    return book is not None and len(book) > 0


@contextmanager
def holding(
    ledger: Ledger | None, charge: RecurringCharge | None
) -> Iterator[RecurringHold | None]:
    """Hold ``charge`` on ``ledger`` around a purchase request; release it on any exception.

    Yields None without a ledger or a charge (nothing is charged).
    """
    if ledger is None or charge is None:
        yield None
        return
    hold = recurring_charges(ledger).reserve(charge)
    try:
        yield hold
    except BaseException:
        hold.release()
        raise
    finally:
        hold.release()  # no-op once committed
