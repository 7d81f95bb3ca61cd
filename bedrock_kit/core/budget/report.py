"""Budget reports: per-model totals as a text table, as records for pandas, and as HTML."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.limits import Limits
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage

__all__ = ["BudgetReport", "ModelUsage"]

_ZERO = Decimal(0)


@dataclass(frozen=True)
class ModelUsage:
    """Totals for one model (or guardrail) in a report."""

    model_id: str
    """Model id as called (or ``guardrail:<id>``); ``TOTAL`` for the total row."""
    calls: int = 0
    """Calls settled or recorded."""
    errors: int = 0
    """Calls that failed or were abandoned."""
    input_tokens: int = 0
    """Uncached input tokens."""
    output_tokens: int = 0
    """Output tokens."""
    cache_read_input_tokens: int = 0
    """Cache-read input tokens."""
    cache_write_input_tokens: int = 0
    """Cache-write input tokens."""
    guardrail_text_units: int = 0
    """Guardrail text units, summed over policies."""
    cost: Decimal = _ZERO
    """Cost in USD."""
    partial: int = 0
    """Streams cut after output started, charged reserved input plus the output received."""
    usage_missing: int = 0
    """Calls whose response carried no usage, charged their full reservation."""
    overruns: int = 0
    """Calls billed more than they had reserved (only possible when the input was estimated)."""
    estimated: int = 0
    """Calls whose input side was reserved from the estimate rather than CountTokens."""
    expired: int = 0
    """Calls whose process died before settling them: a shared store gave their lease up and
    charged the full reservation (they count in ``usage_missing`` and ``errors`` too)."""

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={format_usd(self.cost) if f.name == 'cost' else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"ModelUsage({shown})"

    def __add__(self, other: ModelUsage) -> ModelUsage:
        sums = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)[1:]}
        return ModelUsage(self.model_id, **sums)


_COLUMNS = (
    ("model_id", "model"),
    ("calls", "calls"),
    ("errors", "errors"),
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("cache_read_input_tokens", "cache read"),
    ("cache_write_input_tokens", "cache write"),
    ("guardrail_text_units", "guardrail units"),
    ("partial", "partial"),
    ("usage_missing", "no usage"),
    ("overruns", "overruns"),
    ("expired", "expired"),
    ("cost", "cost"),
)


@dataclass(frozen=True)
class BudgetReport:
    """A snapshot of a ledger: one row per model, a total, limits and in-flight cost."""

    scope: str
    """``run`` or the scope name."""
    rows: tuple[ModelUsage, ...]
    """One row per model (and per guardrail), sorted by id."""
    limits: Limits
    """The scope's limits."""
    reserved_cost: Decimal = _ZERO
    """Cost held by calls still in flight."""
    unverified_prices: tuple[str, ...] = ()
    """One line per priced row whose price no source in reach confirmed (see
    :meth:`~bedrock_kit.core.budget.pricing.PriceTable.unverified_for`)."""

    @property
    def total(self) -> ModelUsage:
        """Sum of every row."""
        total = ModelUsage("TOTAL")
        for row in self.rows:
            total = total + row
        return total

    @property
    def total_cost(self) -> Decimal:
        """Total settled cost."""
        return self.total.cost

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts (``pandas.DataFrame(report.records())``), without the total."""
        return [asdict(row) for row in self.rows]

    def _cells(self) -> list[list[str]]:
        def cell(row: ModelUsage, key: str) -> str:
            value = getattr(row, key)
            return format_usd(value) if key == "cost" else str(value)

        return [[cell(r, key) for key, _ in _COLUMNS] for r in (*self.rows, self.total)]

    def to_text(self) -> str:
        """A plain-text table, the total last."""
        header = [title for _, title in _COLUMNS]
        body = self._cells()
        widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )

        rule = "-" * len(line(header))
        flags = [f"unverified price: {note}" for note in self.unverified_prices]
        return "\n".join([line(header), rule, *map(line, body[:-1]), rule, line(body[-1]), *flags])

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        total = self.total
        return (
            f"BudgetReport(scope={self.scope!r}, cost={format_usd(total.cost)} over "
            f"{total.calls} calls, reserved={format_usd(self.reserved_cost)}, limits={self.limits})"
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(t)}</th>" for _, t in _COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._cells()
        )
        caption = html.escape(f"bedrock-kit budget: {self.scope}")
        flags = "".join(
            f"<p>unverified price: {html.escape(n)}</p>" for n in self.unverified_prices
        )
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>{flags}"


def guardrail_row(row_id: str, usage: GuardrailUsage, cost: Decimal) -> ModelUsage:
    """One report row for a guardrail check: its text units (all policies) and cost."""
    units = sum(
        getattr(usage, f.name)
        for f in fields(GuardrailUsage)
        if f.name != "automated_reasoning_policies"  # a count of policies, not text units
    )
    return ModelUsage(row_id, 1, guardrail_text_units=units, cost=cost)


def usage_row(model_id: str, usage: Usage, cost: Decimal, errors: int) -> ModelUsage:
    """One report row for a model call's billed usage and cost."""
    return ModelUsage(
        model_id,
        calls=1,
        errors=errors,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_write_input_tokens=usage.cache_write_input_tokens,
        cost=cost,
    )
