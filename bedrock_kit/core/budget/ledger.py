"""A thread- and asyncio-safe token ledger: reserve the worst case before a call, settle after.

Usage::

    ledger = Ledger(max_cost="0.50")
    with ledger.reserve("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1200, 512) as r:
        result = runtime.converse(request)      # not sent if the reservation was refused
        r.settle(result.usage)

:meth:`Ledger.reserve` raises :class:`~bedrock_kit.errors.BudgetExceededError` *before* the
request when the worst case (every input token at the dearest input rate, which may be a
cache write, plus ``max_output_tokens`` at the output rate) does not fit a limit of the run
or of any active :meth:`Ledger.scope`. Settling swaps the reservation for the billed usage;
releasing (on error or abandon) frees it. Both are idempotent, and the context-manager form
releases on exception, so no reservation leaks.

The guarantee "never overspends" holds when the reserved input is at least the billed input.
It is exact when the input was counted by Bedrock's CountTokens API, which the ledger calls
for Converse requests of models that support it (``count_tokens=True``, the default; cached
per identical request, see :mod:`bedrock_kit.core.budget.counting`). Otherwise the input is
estimated (:mod:`bedrock_kit.core.chat.token_estimate`) so as to err high for every script,
and the bound is: spending can exceed a limit by at most the sum, over calls whose billed
input exceeded their estimate, of that excess at the dearest input rate (output never
exceeds ``maxTokens``, and cache tokens are reserved at the dearest rate). Such calls are
counted in the report's ``overruns`` column, and the ledger refuses later calls once the
limit is crossed. Calls on provisioned throughput are billed by the hour: they are booked at
0 USD per token on the throughput's row, or refused when the ledger holds no hourly charge
for them (:mod:`~bedrock_kit.core.budget.provisioned`). A request's in-request guardrail is
held at its worst case (every text policy over the input and ``maxTokens`` of output; a
stream, one evaluation per output token on top, see
:func:`~bedrock_kit.core.budget.operations.request_guardrail_worst_cost`) and settled to the
units its trace reports, every streamed chunk's assessment once.

Settling follows the rules in :mod:`~bedrock_kit.core.budget.reservation`.

Storage is pluggable (:mod:`bedrock_kit.core.budget.store`): the default
:class:`~bedrock_kit.core.budget.store.MemoryStore` keeps the counters in this process behind
one lock that is never held across I/O, so the ledger is safe to share between threads and
asyncio tasks; :class:`~bedrock_kit.core.budget.redis_store.RedisStore` shares one budget
between processes and hosts (atomic Lua scripts, holds that expire with their process,
reports over every process). Scopes are tracked with a :class:`contextvars.ContextVar`:
asyncio tasks inherit the scopes active when they were created; plain threads start with
none (submit work with ``contextvars.copy_context().run`` to carry them).
"""

from __future__ import annotations

import contextvars
import math
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget import metering
from bedrock_kit.core.budget.counting import (
    DEFAULT_CACHE_SIZE,
    Counted,
    InputCounter,
    TokenCountingRuntime,
)
from bedrock_kit.core.budget.limits import Limits
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.operations import request_guardrail_worst_cost
from bedrock_kit.core.budget.pricing import OnUnknown, PriceTable, default_prices, priced_model_id
from bedrock_kit.core.budget.provisioned import provisioned_row
from bedrock_kit.core.budget.report import BudgetReport, ModelUsage, guardrail_row, usage_row
from bedrock_kit.core.budget.reservation import Reservation
from bedrock_kit.core.budget.store import ROOT, Amounts, Hold, LedgerStore, MemoryStore, known_scope
from bedrock_kit.core.chat.stream import StreamDelta
from bedrock_kit.core.chat.token_estimate import (
    estimate_request_tokens,
    estimate_text_tokens,
    estimate_tokens,
)
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import (
    GuardrailAssessment,
    GuardrailTrace,
    GuardrailUsage,
)
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "BudgetReport",
    "Ledger",
    "LedgerStore",
    "Limits",
    "MemoryStore",
    "ModelUsage",
    "Reservation",
    "estimate_request_tokens",
    "estimate_text_tokens",
    "estimate_tokens",
]

_ZERO = Decimal(0)
_TEXT_UNIT_CHARACTERS = 1000  # Bedrock bills guardrails per text unit of up to 1,000 chars


class Ledger:
    """Counts tokens, guardrail units, calls, errors and cost; enforces limits before calls.

    Args:
        prices: Price table; the packaged one by default (see :func:`load_prices`).
        on_unknown: What to do for models missing from the table (see
            :meth:`PriceTable.price`): ``"warn"`` (default), ``"error"`` or a PriceEntry.
        count_tokens: Reserve the input of Converse requests with Bedrock's CountTokens API
            where the model supports it (default True): exact reservations for one extra
            round trip per distinct request (cached). False uses the estimate only, for
            latency; the estimate errs high, so it refuses earlier but stays safe.
        count_cache_size: Distinct requests whose CountTokens answers are kept.
        store: Where the counters live: a :class:`MemoryStore` of this process (default),
            or a shared one such as :class:`~bedrock_kit.core.budget.redis_store.RedisStore`
            (one budget across processes and hosts).
        **limits: Run-wide limits: ``max_cost``, ``max_input_tokens``, ``max_output_tokens``,
            ``max_cache_read_tokens``, ``max_cache_write_tokens``, ``max_total_tokens``,
            ``max_calls``.
    """

    def __init__(
        self,
        *,
        prices: PriceTable | None = None,
        on_unknown: OnUnknown = "warn",
        count_tokens: bool = True,
        count_cache_size: int = DEFAULT_CACHE_SIZE,
        store: LedgerStore | None = None,
        **limits: Any,
    ) -> None:
        self.prices = prices or default_prices()
        self.on_unknown = on_unknown
        self.counter = InputCounter(enabled=count_tokens, cache_size=count_cache_size)
        """How reservations find their input tokens (CountTokens, cache, estimate)."""
        self.store: LedgerStore = store if store is not None else MemoryStore()
        """Where the counters live (this process by default; see the module doc)."""
        self._limits: dict[str, Limits] = {ROOT: Limits.build(**limits)}
        self._active: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
            f"bedrock_kit_budget_{id(self)}", default=()
        )

    # -- scopes

    @contextmanager
    def scope(self, name: str, **limits: Any) -> Iterator[Ledger]:
        """Apply extra limits to calls made inside the block (threads: see module doc).

        Re-entering a scope name continues its counts; limits given again replace its own.
        With a shared store, every process naming the scope shares its counts; each applies
        the limits it was given.
        """
        if name == ROOT:
            raise ConfigurationError(f"{ROOT!r} is the run-wide scope; name scopes otherwise")
        if name not in self._limits or limits:
            self._limits[name] = Limits.build(**limits)
        token = self._active.set((*self._active.get(), name))
        try:
            yield self
        finally:
            self._active.reset(token)

    def active_scopes(self) -> tuple[str, ...]:
        """Names of the scopes active in this context, outermost first (``run`` excluded)."""
        return self._active.get()

    def _scope_names(self) -> tuple[str, ...]:
        return (ROOT, *self._active.get())

    # -- reserve / settle

    def reserve(
        self,
        model_id: str,
        input_tokens: int | None = None,
        max_output_tokens: int = 0,
        *,
        prompt: str | Iterable[str] | None = None,
        messages: int = 1,
        hold_id: str | None = None,
        lease_seconds: float | None = None,
    ) -> Reservation:
        """Hold the worst-case cost of a call, or refuse it before any request is sent.

        Args:
            model_id: Model id, inference-profile id or ARN.
            input_tokens: Input tokens from CountTokens or the caller; when None, estimated
                from ``prompt`` (see the module doc).
            max_output_tokens: The request's ``maxTokens``.
            prompt: Texts of the request, for the estimate.
            messages: Number of messages in the request, for the estimate.
            hold_id: The hold's id in the store (unique; a new one when None), by which
                :meth:`resume` finds it again.
            lease_seconds: Keep the hold this long whatever becomes of this process
                (:meth:`Reservation.renew` extends it), for a commitment that outlives the
                call, such as a batch job's; None: it lives as long as this process.

        Raises:
            BudgetExceededError: the call could cross a limit of the run or an active scope.
            ConfigurationError: neither ``input_tokens`` nor ``prompt`` was given, or
                ``model_id`` is a provisioned-model ARN the ledger holds no hourly charge
                for (:mod:`~bedrock_kit.core.budget.provisioned`).
        """
        source = "given"
        if input_tokens is None:
            if prompt is None:
                raise ConfigurationError(
                    "reserve() needs input_tokens or prompt", model_id=model_id
                )
            input_tokens, source = estimate_tokens(prompt, messages=messages), "estimate"
        lasting = (hold_id, lease_seconds)  # checked by Hold, before the store sees it
        return self._reserve(model_id, input_tokens, max_output_tokens, source, lasting=lasting)

    def _reserve(
        self,
        model_id: str,
        input_tokens: int,
        max_output_tokens: int,
        source: str,
        extra_cost: Decimal = _ZERO,
        *,
        lasting: tuple[str | None, float | None] = (None, None),
    ) -> Reservation:
        if input_tokens < 0 or max_output_tokens < 0:
            raise ConfigurationError("input_tokens and max_output_tokens must be >= 0")
        model_id = provisioned_row(self, model_id)  # hours, not tokens: see that module
        price = self.prices.price(model_id, on_unknown=self.on_unknown).for_input(input_tokens)
        cost = Decimal(input_tokens) * price.worst_input + Decimal(max_output_tokens) * price.output
        cost += extra_cost * 1000  # per 1,000 like the rates: an in-request guardrail's worst case
        # Any input token may turn out a cache read or write: reserve it against each kind.
        amounts = Amounts(
            cost / 1000, input_tokens, max_output_tokens, input_tokens, input_tokens, 1
        )
        return self._hold(
            model_id, amounts, input_tokens, max_output_tokens, source, lasting=lasting
        )

    def resume(self, hold_id: str) -> Reservation | None:
        """The reservation made under ``hold_id`` (by this ledger, or by another process on
        the same shared store), to settle it here; None when the store knows no such hold.

        A reservation finished before (settled, released, or expired) comes back in state
        ``finished``: settling it does nothing, so it is never charged twice. Only holds
        made with ``lease_seconds`` are remembered once finished, and found again whole
        from another process.
        """
        lookup = getattr(self.store, "lookup", None)
        if not callable(lookup):
            raise ConfigurationError(f"{type(self.store).__name__} cannot find holds by id")
        state, hold = lookup(hold_id)
        if state == "unknown":
            return None
        if hold is None:
            hold = Hold(hold_id, (), Amounts(), "")
        found = Reservation(
            self, hold, input_tokens=hold.amounts.input, max_output_tokens=hold.amounts.output
        )
        if state != "open":
            found.state = "finished"
        return found

    def reserve_guardrail(
        self, guardrail_id: str, characters: int, *, policies: Iterable[str] | None = None
    ) -> Reservation:
        """Hold the worst case of an ApplyGuardrail call on ``characters`` characters.

        The worst case bills each of ``policies`` (:class:`GuardrailUsage` field names; every
        priced text policy when None) for ``ceil(characters / 1000)`` text units. Settle with
        :meth:`Reservation.settle_guardrail`.

        Raises:
            BudgetExceededError: the call could cross a cost limit.
        """
        if characters < 0:
            raise ConfigurationError("characters must be >= 0")
        units = math.ceil(characters / _TEXT_UNIT_CHARACTERS)
        per_unit = self.prices.guardrail_unit_price(policies)
        amounts = Amounts(cost=Decimal(units) * per_unit / 1000)
        return self._hold(f"guardrail:{guardrail_id}", amounts, 0, 0)

    def _hold(
        self,
        model_id: str,
        amounts: Amounts,
        input_tokens: int,
        max_output_tokens: int,
        source: str = "given",
        *,
        lasting: tuple[str | None, float | None] = (None, None),
    ) -> Reservation:
        scopes = tuple((name, self._limits[name]) for name in self._scope_names())
        # What a lease store books when the process dies before settling: the whole
        # reservation, as for a call billed with its usage unknown.
        expired = replace(
            usage_row(model_id, Usage(input_tokens, max_output_tokens), amounts.cost, 1),
            usage_missing=1,
            expired=1,
            estimated=int(source == "estimate"),
        )
        hold_id, lease = lasting
        hold = Hold(hold_id or self._new_id(), scopes, amounts, model_id, expired, lease)
        self.store.hold(hold)
        return Reservation(
            self,
            hold,
            input_tokens=input_tokens,
            max_output_tokens=max_output_tokens,
            source=source,
        )

    def _new_id(self) -> str:
        new_id = getattr(self.store, "new_id", None)
        return str(new_id()) if callable(new_id) else uuid.uuid4().hex

    def _finish(
        self, reservation: Reservation, rows: list[ModelUsage] | None, error: bool = False
    ) -> Decimal:
        if reservation.state != "open":
            return reservation.settled_cost or _ZERO
        if rows is None and error:
            booked = [ModelUsage(reservation.model_id, errors=1)]
        else:
            booked = rows or []
        if not self.store.finish(reservation._hold, booked):
            # Finished by another thread meanwhile, or given up by a lease store.
            if reservation.state == "open":
                reservation.state = "expired"
            return reservation.settled_cost or _ZERO
        if rows is None:
            reservation.state = "released"
            return _ZERO
        reservation.settled_cost = sum((row.cost for row in rows), _ZERO)
        reservation.state = "settled"
        return reservation.settled_cost

    def _cost(self, model_id: str, usage: Usage, cache_write_1h_tokens: int) -> Decimal:
        price = self.prices.price(model_id, on_unknown=self.on_unknown)
        return price.cost(usage, cache_write_1h_tokens=cache_write_1h_tokens)

    def _guardrail_rows(self, trace: GuardrailTrace | None) -> list[ModelUsage]:
        if trace is None:
            return []
        per_id: dict[str, GuardrailUsage] = {}
        groups: list[tuple[str, tuple[GuardrailAssessment, ...]]] = [
            (gid, (a,)) for gid, a in trace.input_assessments.items()
        ]
        groups += list(trace.output_assessments.items())
        for gid, assessments in groups:
            for assessment in assessments:
                per_id[gid] = per_id.get(gid, GuardrailUsage()) + assessment.usage
        return [
            guardrail_row(f"guardrail:{gid or 'unknown'}", u, self.prices.guardrail_cost(u))
            for gid, u in per_id.items()
        ]

    # -- whole Converse requests (what the BedrockKit chat models call)

    def reserve_request(
        self,
        request: Mapping[str, Any],
        *,
        input_tokens: int | None = None,
        default_max_tokens: int = 4096,
        runtime: TokenCountingRuntime | None = None,
        stream: bool = False,
    ) -> Reservation:
        """:meth:`reserve` for a Converse (or InvokeModel) request dict.

        Args:
            request: Converse keyword arguments (``modelId``, ``messages``,
                ``inferenceConfig``...), or InvokeModel ones (``body``).
            input_tokens: A count the caller already has; else CountTokens on ``runtime``
                (see the ``count_tokens`` option), else the estimate.
            default_max_tokens: Reserved when the request sets no ``maxTokens``.
            runtime: The runtime that will send the request (``ConverseRuntime``), used
                for CountTokens.
            stream: The request is streamed (its guardrail evaluates the output per chunk).
        """
        provisioned_row(self, priced_model_id(request))  # refused before CountTokens too
        counted = (
            Counted(input_tokens, "given")
            if input_tokens is not None
            else self.counter.count(runtime, request)
        )
        return self._reserve_counted(request, counted, default_max_tokens, stream)

    async def areserve_request(
        self,
        request: Mapping[str, Any],
        *,
        input_tokens: int | None = None,
        default_max_tokens: int = 4096,
        runtime: TokenCountingRuntime | None = None,
        stream: bool = False,
    ) -> Reservation:
        """Async :meth:`reserve_request` (CountTokens over the async client)."""
        provisioned_row(self, priced_model_id(request))  # refused before CountTokens too
        counted = (
            Counted(input_tokens, "given")
            if input_tokens is not None
            else await self.counter.acount(runtime, request)
        )
        return self._reserve_counted(request, counted, default_max_tokens, stream)

    def _reserve_counted(
        self, request: Mapping[str, Any], counted: Counted, default_max_tokens: int, stream: bool
    ) -> Reservation:
        max_tokens = (request.get("inferenceConfig") or {}).get("maxTokens")
        max_output = int(max_tokens or default_max_tokens)
        guardrail = request_guardrail_worst_cost(self.prices, request, max_output, stream=stream)
        model_id = priced_model_id(request)
        held = self._reserve(model_id, counted.tokens, max_output, counted.source, guardrail)
        if guardrail:
            config = request.get("guardrailConfig") or {}
            gid = config.get("guardrailIdentifier") or request.get("guardrailIdentifier")
            held.guardrail_hold = (f"guardrail:{gid or 'unknown'}", guardrail)
        return held

    def metered(
        self, reservation: Reservation, deltas: Iterable[StreamDelta]
    ) -> Iterator[StreamDelta]:
        """Pass stream deltas through, settling by the module's rules (see its doc)."""
        return metering.metered(reservation, deltas)

    def ametered(
        self, reservation: Reservation, deltas: AsyncIterable[StreamDelta]
    ) -> AsyncIterator[StreamDelta]:
        """Async :meth:`metered`."""
        return metering.ametered(reservation, deltas)

    # -- observe without enforcing

    def record(
        self,
        model_id: str,
        usage: Usage,
        *,
        cache_write_1h_tokens: int = 0,
        error: bool = False,
    ) -> Decimal:
        """Count a call made without a reservation (observe-only handlers); returns its cost.

        A provisioned model's call goes to its charge's row at 0 USD per token (see
        :mod:`~bedrock_kit.core.budget.provisioned`); it is not refused (it was made).
        """
        model_id = provisioned_row(self, model_id, refuse=False)
        cost = self._cost(model_id, usage, cache_write_1h_tokens)
        self.store.book(self._scope_names(), [usage_row(model_id, usage, cost, int(error))])
        return cost

    def record_guardrail_trace(self, trace: GuardrailTrace | None) -> Decimal:
        """Count the text units of a Converse ``trace.guardrail``, per guardrail id.

        Guardrail units are known only after the call, so they are charged then: a
        reservation does not hold them.
        """
        rows = self._guardrail_rows(trace)
        if rows:
            self.store.book(self._scope_names(), rows)
        return sum((row.cost for row in rows), _ZERO)

    def record_guardrail(self, usage: GuardrailUsage, *, guardrail_id: str = "") -> Decimal:
        """Count the text units and cost of one guardrail evaluation; returns its cost."""
        row = guardrail_row(
            f"guardrail:{guardrail_id or 'unknown'}", usage, self.prices.guardrail_cost(usage)
        )
        self.store.book(self._scope_names(), [row])
        return row.cost

    # -- reading

    def _name(self, scope: str | None) -> str:
        if scope is None:
            return ROOT
        known_scope(scope, scope in self._limits, self.store)
        return scope

    def spent(self, scope: str | None = None) -> Decimal:
        """Settled cost of the run, or of a named scope (every process's, with a shared
        store)."""
        return self.store.snapshot(self._name(scope)).committed.cost

    def reserved(self, scope: str | None = None) -> Decimal:
        """Cost held by calls in flight."""
        return self.store.snapshot(self._name(scope)).reserved.cost

    def open_reservations(self, scope: str | None = None) -> int:
        """Reservations neither settled nor released (0 when nothing leaked)."""
        return self.store.snapshot(self._name(scope)).open

    def report(self, scope: str | None = None) -> BudgetReport:
        """Per-model totals of the run, or of a named scope."""
        name = self._name(scope)
        snap = self.store.snapshot(name)
        limits = self._limits.get(name, Limits())
        unverified = self.prices.unverified_for(r.model_id for r in snap.rows)
        return BudgetReport(name, snap.rows, limits, snap.reserved.cost, unverified)

    def remaining(self, scope: str | None = None) -> dict[str, Decimal | int]:
        """What is left of each set limit, after spending and in-flight reservations."""
        name = self._name(scope)
        snap = self.store.snapshot(name)
        limits = self._limits.get(name, Limits())
        left: dict[str, Decimal | int] = {}
        for f in fields(Limits):
            limit = getattr(limits, f.name)
            if limit is not None:
                used = snap.committed.value(f.name) + snap.reserved.value(f.name)
                left[f.name] = max(limit - used, 0)
        return left

    def _repr_html_(self) -> str:
        return self.report()._repr_html_()

    def __repr__(self) -> str:
        return (
            f"Ledger(spent={format_usd(self.spent())}, reserved={format_usd(self.reserved())}, "
            f"limits={self._limits[ROOT]})"
        )
