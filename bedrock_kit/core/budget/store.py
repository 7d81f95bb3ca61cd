"""Where a :class:`~bedrock_kit.core.budget.ledger.Ledger` keeps its counters: pluggable storage.

A ledger decides *what* to hold and book (worst cases, settle rules, prices); a store keeps
the numbers and makes each step atomic:

* :meth:`LedgerStore.hold` checks a call's worst case against the limits of every scope it
  runs in and, only if it fits all of them, adds it to their reserved amounts;
* :meth:`LedgerStore.finish` swaps a hold for the rows it is settled to (or frees it), once:
  the first finish of a hold wins;
* :meth:`LedgerStore.book` books rows without a hold (observe-only calls, guardrail units);
* :meth:`LedgerStore.snapshot` reads a scope's totals.

A hold may outlive the call, and the process, that made it: one with ``lease_seconds``
(a batch job's commitment, made under an id the job can be found by again) is kept that
long whatever becomes of its process, renewed with ``renew``, found again by id with
``lookup`` (from another process, with a shared store), and remembered once finished for
:data:`TOMBSTONE_SECONDS`, so a second process never charges it twice.

:class:`MemoryStore` (the default) keeps them in this process behind one lock.
:class:`~bedrock_kit.core.budget.redis_store.RedisStore` keeps them in Redis, so every process
and host that names the same budget shares one set of limits, and holds are leases that
expire when their process dies.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Literal, Protocol

from bedrock_kit.core.budget.limits import Limits
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.report import ModelUsage
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

__all__ = [
    "TOMBSTONE_SECONDS",
    "Amounts",
    "Hold",
    "HoldState",
    "LedgerStore",
    "MemoryStore",
    "ScopeSnapshot",
    "refusal",
]

_ZERO = Decimal(0)
ROOT = "run"
"""Name of the run-wide scope every call counts against."""

TOMBSTONE_SECONDS = 35 * 24 * 3600
"""How long a finished hold with ``lease_seconds`` is remembered (35 days)."""

HoldState = Literal["open", "finished", "unknown"]
"""What a store knows of a hold id: open, finished (settled, released or expired; holds
with ``lease_seconds`` only), or nothing."""


@dataclass
class Amounts:
    """What a hold reserves, or what a scope has committed."""

    cost: Decimal = _ZERO
    """Cost in USD."""
    input: int = 0
    """Input tokens of every kind (uncached, cache read, cache write)."""
    output: int = 0
    """Output tokens."""
    cache_read: int = 0
    """Cache-read input tokens."""
    cache_write: int = 0
    """Cache-write input tokens."""
    calls: int = 0
    """Calls."""

    def add(self, other: Amounts, sign: int = 1) -> None:
        """Add ``other`` (``sign=-1`` subtracts it)."""
        self.cost += other.cost * sign
        self.input += other.input * sign
        self.output += other.output * sign
        self.cache_read += other.cache_read * sign
        self.cache_write += other.cache_write * sign
        self.calls += other.calls * sign

    def value(self, limit: str) -> Decimal | int:
        """The amount a :class:`Limits` field caps."""
        if limit == "max_total_tokens":
            return self.input + self.output
        table: dict[str, Decimal | int] = {
            "max_cost": self.cost,
            "max_input_tokens": self.input,
            "max_output_tokens": self.output,
            "max_cache_read_tokens": self.cache_read,
            "max_cache_write_tokens": self.cache_write,
            "max_calls": self.calls,
        }
        return table[limit]

    @classmethod
    def of_row(cls, row: ModelUsage) -> Amounts:
        """What booking ``row`` commits."""
        return cls(
            row.cost,
            row.input_tokens + row.cache_read_input_tokens + row.cache_write_input_tokens,
            row.output_tokens,
            row.cache_read_input_tokens,
            row.cache_write_input_tokens,
            row.calls,
        )


@dataclass(frozen=True)
class Hold:
    """One call's reservation as a store sees it."""

    id: str
    """Unique id (the store's key for it)."""
    scopes: tuple[tuple[str, Limits], ...]
    """The scopes the call runs in, outermost (``run``) first, with their limits."""
    amounts: Amounts
    """The worst case held."""
    model_id: str
    """Model (or ``guardrail:<id>``) the call addresses."""
    expired_row: ModelUsage | None = None
    """What to book if the hold's process dies before finishing it (lease stores only)."""
    lease_seconds: float | None = None
    """Keep the hold this long whatever becomes of its process (renewable), and remember
    it once finished; None: the hold lives as long as its process (lease stores)."""

    def __post_init__(self) -> None:
        check_lease(self.lease_seconds)

    @property
    def scope_names(self) -> tuple[str, ...]:
        """Names of :attr:`scopes`."""
        return tuple(name for name, _ in self.scopes)


@dataclass(frozen=True)
class ScopeSnapshot:
    """A scope's totals, read at one instant."""

    committed: Amounts = field(default_factory=Amounts)
    """Settled and recorded amounts."""
    reserved: Amounts = field(default_factory=Amounts)
    """Amounts held by calls in flight."""
    open: int = 0
    """Holds neither finished nor expired."""
    rows: tuple[ModelUsage, ...] = ()
    """Per-model totals, sorted by model id."""


class LedgerStore(Protocol):
    """Storage for a ledger's counters; every method is atomic."""

    def hold(self, hold: Hold) -> None:
        """Reserve ``hold.amounts`` in every scope, or raise if one limit would be crossed.

        Raises:
            BudgetExceededError: a scope's limit cannot take the hold (nothing is reserved).
        """
        ...

    def finish(self, hold: Hold, rows: Sequence[ModelUsage] | None) -> bool:
        """Free ``hold`` and book ``rows`` to its scopes (None: free only).

        Returns:
            True when this call finished the hold; False when it was finished (or expired)
            before, in which case nothing changes.
        """
        ...

    def book(self, scopes: Sequence[str], rows: Sequence[ModelUsage]) -> None:
        """Book ``rows`` to ``scopes`` without a hold."""
        ...

    def snapshot(self, scope: str) -> ScopeSnapshot:
        """The totals of ``scope`` (empty when nothing was booked there)."""
        ...

    def has_scope(self, scope: str) -> bool:
        """Whether anything was ever held or booked in ``scope``."""
        ...


def refusal(
    scope: str,
    limit_name: str,
    *,
    limit: Decimal | int,
    used: Decimal | int,
    held: Decimal | int,
    wanted: Decimal | int,
    model_id: str,
) -> BudgetExceededError:
    """The error for a hold that ``scope``'s ``limit_name`` cannot take (one wording)."""
    left = max(limit - used - held, 0)
    show = format_usd if limit_name == "max_cost" else str
    return BudgetExceededError(
        f"budget {scope!r}: {limit_name}={show(limit)} would be exceeded; this call needs up "
        f"to {show(wanted)}, {show(used)} is spent and {show(held)} reserved by calls in "
        f"flight, {show(left)} left",
        model_id=model_id,
    )


def check_fits(
    scope: str, limits: Limits, committed: Amounts, reserved: Amounts, hold: Hold
) -> None:
    """Raise :func:`refusal` when ``hold`` does not fit ``scope``'s limits."""
    for f in fields(Limits):
        limit = getattr(limits, f.name)
        if limit is None:
            continue
        used = committed.value(f.name)
        held = reserved.value(f.name)
        wanted = hold.amounts.value(f.name)
        if used + held + wanted > limit:
            raise refusal(
                scope,
                f.name,
                limit=limit,
                used=used,
                held=held,
                wanted=wanted,
                model_id=hold.model_id,
            )


@dataclass
class _Scope:
    committed: Amounts = field(default_factory=Amounts)
    reserved: Amounts = field(default_factory=Amounts)
    models: dict[str, ModelUsage] = field(default_factory=dict)
    open: int = 0

    def book(self, row: ModelUsage) -> None:
        self.committed.add(Amounts.of_row(row))
        self.models[row.model_id] = self.models.get(row.model_id, ModelUsage(row.model_id)) + row


class MemoryStore:
    """Counters in this process: one lock, never held across I/O (the default store).

    Exact :class:`~decimal.Decimal` costs; shared by the threads and asyncio tasks of one
    process, not across processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scopes: dict[str, _Scope] = {}
        self._open: set[str] = set()
        self._lasting: dict[str, Hold] = {}  # open holds with lease_seconds, by id
        self._finished: set[str] = set()  # finished holds with lease_seconds
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        """A hold id unique in this store."""
        return str(next(self._ids))

    def _scope(self, name: str) -> _Scope:
        found = self._scopes.get(name)
        if found is None:
            found = self._scopes[name] = _Scope()
        return found

    def hold(self, hold: Hold) -> None:
        """See :meth:`LedgerStore.hold`."""
        with self._lock:
            if hold.id in self._open or hold.id in self._finished:
                raise ConfigurationError(f"a budget hold {hold.id!r} exists already")
            scopes = [(name, limits, self._scope(name)) for name, limits in hold.scopes]
            for name, limits, scope in reversed(scopes):  # innermost first: it explains most
                check_fits(name, limits, scope.committed, scope.reserved, hold)
            for _, _, scope in scopes:
                scope.reserved.add(hold.amounts)
                scope.open += 1
            self._open.add(hold.id)
            if hold.lease_seconds is not None:
                self._lasting[hold.id] = hold

    def lookup(self, hold_id: str) -> tuple[HoldState, Hold | None]:
        """What this store knows of ``hold_id``, and the hold when it is open with
        ``lease_seconds`` (other holds are found only by the call that made them)."""
        with self._lock:
            if hold_id in self._lasting:
                return "open", self._lasting[hold_id]
            if hold_id in self._finished:
                return "finished", None
            return ("open", None) if hold_id in self._open else ("unknown", None)

    def renew(self, hold_id: str, seconds: float) -> bool:
        """True while ``hold_id`` is open (this process's holds need no renewal)."""
        with self._lock:
            return hold_id in self._open

    def finish(self, hold: Hold, rows: Sequence[ModelUsage] | None) -> bool:
        """See :meth:`LedgerStore.finish`."""
        # One lock for the release and every booking: no other call can take the room in
        # between (a guardrail charge booked after the release could otherwise overspend).
        with self._lock:
            if hold.id not in self._open:
                return False
            self._open.discard(hold.id)
            if self._lasting.pop(hold.id, None) is not None:
                self._finished.add(hold.id)
            for name in hold.scope_names:
                scope = self._scope(name)
                scope.reserved.add(hold.amounts, -1)
                scope.open -= 1
                for row in rows or ():
                    scope.book(row)
            return True

    def book(self, scopes: Sequence[str], rows: Sequence[ModelUsage]) -> None:
        """See :meth:`LedgerStore.book`."""
        with self._lock:
            for name in scopes:
                scope = self._scope(name)
                for row in rows:
                    scope.book(row)

    def snapshot(self, scope: str) -> ScopeSnapshot:
        """See :meth:`LedgerStore.snapshot`."""
        with self._lock:
            found = self._scopes.get(scope)
            if found is None:
                return ScopeSnapshot()
            committed, reserved = Amounts(), Amounts()
            committed.add(found.committed)
            reserved.add(found.reserved)
            rows = tuple(sorted(found.models.values(), key=lambda r: r.model_id))
            return ScopeSnapshot(committed, reserved, found.open, rows)

    def has_scope(self, scope: str) -> bool:
        """See :meth:`LedgerStore.has_scope`."""
        with self._lock:
            return scope in self._scopes


def check_lease(seconds: object) -> float | None:
    """``seconds`` as a hold's ``lease_seconds`` (None stays None).

    Raises:
        ConfigurationError: not a number > 0.
    """
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise ConfigurationError(f"lease_seconds must be a number > 0, got {seconds!r}")
    return float(seconds)


def known_scope(name: str, defined: bool, store: LedgerStore) -> None:
    """Raise the ledger's error for a scope name neither defined here nor in ``store``."""
    if not defined and not store.has_scope(name):
        raise ConfigurationError(f"no budget scope named {name!r}")
