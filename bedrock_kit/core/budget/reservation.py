"""One call's reservation on a :class:`~bedrock_kit.core.budget.ledger.Ledger`: the worst
case held until the call is settled or released.

Settle rules:

* Billed usage: the reservation is swapped for it (:meth:`Reservation.settle_result`).
* A response that carries no usage (no input tokens), a malformed non-stream answer, or a
  stream that fails after ``messageStop`` (output complete, usage missing or malformed):
  charged the full reservation, counted in ``usage_missing``
  (:meth:`Reservation.settle_reserved`).
* A stream cut by the server or the network after output started (any exception after the
  first text, tool or reasoning piece, or an end without a result): charged the reserved
  input plus the output received, estimated from its characters (erring high, at most
  ``max_output_tokens``), counted in ``partial`` and ``errors``
  (:meth:`Reservation.settle_partial`). Tokens Bedrock generated but never delivered before
  the cut cannot be seen and are not charged; an in-request guardrail's units (reported only
  at the end) are charged at their whole hold.
* A stream the consumer abandons after pieces arrived: charged the reserved input plus one
  token per piece received, and an in-request guardrail's whole hold
  (:meth:`Reservation.abandon`), and counted as an error.
* Anything that fails before output: released, counted as an error.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol

from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.operations import claim
from bedrock_kit.core.budget.pricing import PriceTable
from bedrock_kit.core.budget.provisioned import ROW_PREFIX, provisioned_row
from bedrock_kit.core.budget.report import ModelUsage, guardrail_row, usage_row
from bedrock_kit.core.budget.store import Hold
from bedrock_kit.core.chat.types import ConverseResult, Usage
from bedrock_kit.core.guardrails.assessments import GuardrailTrace, GuardrailUsage

__all__ = ["Reservation"]


class _Books(Protocol):
    """What a reservation needs of the :class:`~bedrock_kit.core.budget.ledger.Ledger`
    that made it (the ledger module imports this one, so the type is structural)."""

    prices: PriceTable
    store: Any

    def _finish(
        self, reservation: Reservation, rows: list[ModelUsage] | None, error: bool = False
    ) -> Decimal: ...

    def _cost(self, model_id: str, usage: Usage, cache_write_1h_tokens: int) -> Decimal: ...

    def _guardrail_rows(self, trace: GuardrailTrace | None) -> list[ModelUsage]: ...

    def record_guardrail_trace(self, trace: GuardrailTrace | None) -> Decimal: ...


class Reservation:
    """Worst-case amounts held for one call until it is settled or released.

    Use it as a (sync or async) context manager to release on exception; settle it with the
    billed usage on success. Settling and releasing are idempotent: the first wins.
    """

    def __init__(
        self,
        ledger: _Books,
        hold: Hold,
        *,
        input_tokens: int,
        max_output_tokens: int,
        source: str = "given",
    ) -> None:
        self.id = hold.id
        """The hold's id in the ledger's store."""
        self.model_id = hold.model_id
        """Model the call addresses."""
        self.input_tokens = input_tokens
        """Input tokens reserved (counted or estimated)."""
        self.max_output_tokens = max_output_tokens
        """Output tokens reserved."""
        self.cost = hold.amounts.cost
        """Worst-case cost reserved."""
        self.source = source
        """How the input was found: ``count_tokens``, ``cache`` (an earlier CountTokens
        answer), ``estimate``, or ``given`` by the caller."""
        self.state = "open"
        """``open``, ``settled``, ``released``, ``expired`` (a lease store gave the hold
        up, its process looking dead, before this settled it), or ``finished`` (found by
        :meth:`Ledger.resume` after another process or handle finished it)."""
        self.settled_cost: Decimal | None = None
        """Cost charged, once settled."""
        self.guardrail_hold: tuple[str, Decimal] | None = None
        """An in-request guardrail's row id and the worst case held for it: charged whole
        when the call is cut or dropped before its trace arrives."""
        self._ledger = ledger
        self._hold = hold

    @property
    def estimated(self) -> bool:
        """True when the input side is the estimate (see the ledger's bound)."""
        return self.source == "estimate"

    def settle(
        self,
        usage: Usage,
        *,
        model_id: str | None = None,
        cache_write_1h_tokens: int = 0,
        error: bool = False,
    ) -> Decimal:
        """Replace the reservation with the billed ``usage``; returns its cost.

        Args:
            usage: Billed tokens (Bedrock semantics: ``input_tokens`` excludes cache tokens).
            model_id: The model that actually answered, if it differs (prompt routers).
            cache_write_1h_tokens: Cache writes with the 1 hour TTL, priced apart.
            error: Count the call as failed too (a broken stream that still billed tokens).
        """
        return self._ledger._finish(
            self, [self._row(usage, model_id, cache_write_1h_tokens, error)]
        )

    def _row(
        self,
        usage: Usage,
        model_id: str | None = None,
        cache_write_1h_tokens: int = 0,
        error: bool = False,
        partial: int = 0,
    ) -> ModelUsage:
        if self.state != "open":  # settles nothing (see _finish): price nothing either
            return ModelUsage(self.model_id)
        model = self.model_id
        if model_id:
            books: Any = self._ledger  # the full Ledger: provisioned_row reads its charges
            routed = provisioned_row(books, model_id, refuse=False)
            # A provisioned call stays on its throughput's row whatever model name it reports.
            if not model.startswith(ROW_PREFIX) or routed.startswith(ROW_PREFIX):
                model = routed
        cost = self._ledger._cost(model, usage, cache_write_1h_tokens)
        row = usage_row(model, usage, cost, int(error))
        overrun = int(cost > self.cost)
        return replace(row, overruns=overrun, estimated=int(self.estimated), partial=partial)

    def settle_guardrail(self, usage: GuardrailUsage) -> Decimal:
        """Settle a :meth:`Ledger.reserve_guardrail` reservation to the billed text units."""
        row = guardrail_row(self.model_id, usage, self._ledger.prices.guardrail_cost(usage))
        return self._ledger._finish(self, [row])

    def settle_result(self, result: ConverseResult) -> Decimal:
        """Settle to a Converse result's usage and charge its guardrail text units.

        A result without usage (no input tokens: every call has input) is charged the full
        reservation instead (:meth:`settle_reserved`).
        """
        books: Any = self._ledger
        claim(books, result.request_id)  # a callback seeing it too will not recharge
        if result.usage.total_input_tokens <= 0:
            return self.settle_reserved() + self._ledger.record_guardrail_trace(result.guardrail)
        rows = [
            self._row(result.usage, cache_write_1h_tokens=result.usage.cache_write_1h_input_tokens)
        ]
        rows += self._ledger._guardrail_rows(result.guardrail)
        return self._ledger._finish(self, rows)

    def settle_reserved(self) -> Decimal:
        """Charge the whole reservation: the call was billed but its usage is unknown.

        Books the reserved input and ``max_output_tokens`` at the reserved (worst-case)
        cost and counts the call in ``usage_missing``.
        """
        usage = Usage(self.input_tokens, self.max_output_tokens)
        row = replace(
            usage_row(self.model_id, usage, self.cost, 0),
            usage_missing=1,
            estimated=int(self.estimated),
        )
        return self._ledger._finish(self, [row])

    def settle_partial(self, output_tokens: int, *, model_id: str | None = None) -> Decimal:
        """Settle a call cut after output started: reserved input plus ``output_tokens``.

        ``output_tokens`` (the output received, estimated from its characters) is capped at
        ``max_output_tokens``, which Bedrock never bills beyond; an in-request guardrail's
        whole hold is charged too (its units were in the trace that never came). Counted in
        ``partial`` and as an error.
        """
        output = min(max(int(output_tokens), 0), self.max_output_tokens)
        row = self._row(Usage(self.input_tokens, output), model_id, error=True, partial=1)
        return self._ledger._finish(self, [row, *self._guardrail_unknown()], error=True)

    def _guardrail_unknown(self) -> list[ModelUsage]:
        """The in-request guardrail's hold, charged whole: its units never arrived."""
        if self.guardrail_hold is None:
            return []
        row_id, cost = self.guardrail_hold
        return [ModelUsage(row_id, 1, cost=cost, usage_missing=1)]

    def abandon(self, output_tokens: int = 0) -> Decimal:
        """Settle a call whose stream the consumer dropped after the request went out.

        Bedrock bills such a call, but its usage never arrives: it is charged the reserved
        input tokens plus ``output_tokens`` (the pieces received so far), and an in-request
        guardrail's whole hold (its units were in the trace that never came), and counted as
        an error.
        """
        rows = [self._row(Usage(self.input_tokens, output_tokens), error=True)]
        return self._ledger._finish(self, rows + self._guardrail_unknown())

    def release(self, error: BaseException | bool | None = None) -> None:
        """Free the reservation without charging; ``error`` counts a failed call."""
        self._ledger._finish(self, None, bool(error))

    @property
    def lease_seconds(self) -> float | None:
        """How long the hold outlives its process (``reserve(..., lease_seconds=)``)."""
        return self._hold.lease_seconds

    def renew(self, seconds: float | None = None) -> bool:
        """Keep a hold made with ``lease_seconds`` open ``seconds`` more (its own lease by
        default), from any process; False (and state ``expired``) once the store gave it up
        or another process finished it."""
        if self.state != "open":
            return False
        renew = getattr(self._ledger.store, "renew", None)
        if not callable(renew):
            return True  # a store without leases keeps its holds
        alive = bool(renew(self.id, float(seconds or self.lease_seconds or 0) or 1.0))
        if not alive:
            self.state = "expired"
        return alive

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release(exc)

    async def __aenter__(self) -> Reservation:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release(exc)

    def __repr__(self) -> str:
        return f"Reservation({self.model_id!r}, cost={format_usd(self.cost)}, state={self.state!r})"
