"""A ledger's costs broken down: per model, per operation type, per tag, with savings.

:func:`summarize` reads a ledger through its public report and returns a
:class:`CostSummary`: the report's model rows, the same rows grouped by operation type
(chat, guardrail, embeddings, rerank, retrieval, agents, batch, provisioned), each tag's
totals (:mod:`bedrock_kit.core.budget.tags`), what prompt caching saved (cache reads at the
cache-read rate instead of the input rate) and what batch inference saved (batch rows priced
on demand minus their batch cost), and the prices no source confirmed. Export it as a list of
dicts (:meth:`CostSummary.records`, pandas-free) or CSV (:meth:`CostSummary.to_csv`).

Time-based charges (:mod:`bedrock_kit.core.budget.recurring`: provisioned throughput and
custom model storage) join the run's summary when the ledger has any: one ``provisioned:`` or
``storage:`` row per model with the cost accrued to ``now``, their operation types, one
``recurring`` record per charge (rate, its source, accrued, forecast) and, given ``until=`` or
``hours=``, the :class:`~bedrock_kit.core.budget.recurring.Forecast`. A rate the caller gave
is listed with the unverified prices. Without recurring charges the summary is as before.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger, ModelUsage
from bedrock_kit.core.budget.model_ids import split_qualifiers
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.operations import OPERATIONS, operation_of
from bedrock_kit.core.budget.pricing import PriceTable
from bedrock_kit.core.budget.recurring import (
    Forecast,
    RecurringUsage,
    has_recurring,
    recurring_charges,
)
from bedrock_kit.core.budget.tags import tag_reports
from bedrock_kit.core.chat.types import Usage

__all__ = ["CostSummary", "summarize"]

_ZERO = Decimal(0)


@dataclass(frozen=True)
class CostSummary:
    """A ledger scope's costs, grouped three ways, with savings and unverified prices."""

    scope: str
    """``run`` or the scope name."""
    by_model: tuple[ModelUsage, ...]
    """One row per model, guardrail or qualified id, as in the ledger's report."""
    by_operation: dict[str, ModelUsage] = field(default_factory=dict)
    """Rows summed per operation type (only the types that were charged)."""
    by_tag: dict[str, ModelUsage] = field(default_factory=dict)
    """Totals per tag (``tenant=acme``)."""
    cache_savings: Decimal = _ZERO
    """USD saved by cache reads (billed at the cache-read rate, not the input rate)."""
    batch_savings: Decimal = _ZERO
    """USD saved by batch rows against the same tokens on demand."""
    unverified_prices: tuple[str, ...] = ()
    """Prices behind these costs that no source in reach confirmed (rates you gave too)."""
    recurring: tuple[RecurringUsage, ...] = ()
    """Time-based charges (provisioned throughput, storage), accrued to the summary's time."""
    forecast: Forecast | None = None
    """On-demand spend plus recurring charges to a date, when one was asked for."""

    @property
    def total_cost(self) -> Decimal:
        """Total settled cost of the scope."""
        return sum((row.cost for row in self.by_model), _ZERO)

    def records(self) -> list[dict[str, Any]]:
        """Every row as a dict with ``group`` (model, operation, tag, savings) and ``key``."""
        out: list[dict[str, Any]] = []
        groups = (
            ("model", {r.model_id: r for r in self.by_model}),
            ("operation", self.by_operation),
            ("tag", self.by_tag),
        )
        for group, rows in groups:
            for key, row in rows.items():
                values = asdict(row)
                values.pop("model_id")
                out.append({"group": group, "key": key, **values})
        for key, saved in (("cache", self.cache_savings), ("batch", self.batch_savings)):
            out.append({"group": "savings", "key": key, "cost": saved})
        out += [_recurring_record(row) for row in self.recurring]
        if self.forecast is not None:
            f = self.forecast
            out.append(
                {
                    "group": "forecast",
                    "key": f.until.isoformat(),
                    "cost": f.total,
                    "on_demand": f.on_demand,
                    "recurring_to_date": f.recurring_to_date,
                    "recurring": f.recurring,
                }
            )
        return out

    def to_csv(self) -> str:
        """:meth:`records` as CSV (a header row, money as exact decimals)."""
        records = self.records()
        columns = list(dict.fromkeys(k for r in records for k in r))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({k: str(v) for k, v in record.items()})
        return buffer.getvalue()

    def to_text(self) -> str:
        """A short plain-text summary: operations, tags, savings, unverified prices."""
        lines = [f"bedrock-kit costs ({self.scope}): {format_usd(self.total_cost)}"]
        lines += [
            f"  {name:<12} {row.calls:>6} calls  {format_usd(row.cost)}"
            for name, row in self.by_operation.items()
        ]
        lines += [
            f"  tag {key}: {row.calls} calls, {format_usd(row.cost)}"
            for key, row in self.by_tag.items()
        ]
        lines.append(
            f"  saved: cache {format_usd(self.cache_savings)}, "
            f"batch {format_usd(self.batch_savings)}"
        )
        for row in self.recurring:
            c = row.charge
            ended = f", ended {row.end:%Y-%m-%d %H:%M}" if row.end else ""
            forecast = f", forecast {format_usd(row.forecast)}" if self.forecast else ""
            lines.append(
                f"  {c.operation} {c.resource}: {c.describe()}, since {row.start:%Y-%m-%d %H:%M}"
                f"{ended}: accrued {format_usd(row.accrued)}{forecast}"
            )
        if self.forecast is not None:
            f = self.forecast
            lines.append(
                f"  forecast to {f.until:%Y-%m-%d %H:%M}: {format_usd(f.total)} (on demand so "
                f"far {format_usd(f.on_demand)} + recurring {format_usd(f.recurring)})"
            )
        lines += [f"  unverified price: {note}" for note in self.unverified_prices]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _usage(row: ModelUsage) -> Usage:
    return Usage(
        row.input_tokens,
        row.output_tokens,
        row.cache_read_input_tokens,
        row.cache_write_input_tokens,
    )


def _cache_saving(prices: PriceTable, row: ModelUsage) -> Decimal:
    if not row.cache_read_input_tokens or row.model_id.startswith("guardrail:"):
        return _ZERO
    entry = prices.lookup(row.model_id)
    if entry is None or entry.cache_read is None:
        return _ZERO
    return Decimal(row.cache_read_input_tokens) * (entry.input - entry.cache_read) / 1000


def _batch_saving(prices: PriceTable, row: ModelUsage) -> Decimal:
    qualifiers, bare = split_qualifiers(row.model_id)
    if "batch" not in qualifiers:
        return _ZERO
    rest = ":".join((*(q for q in qualifiers if q != "batch"), bare))
    on_demand = prices.lookup(rest)
    if on_demand is None:
        return _ZERO
    return max(on_demand.cost(_usage(row)) - row.cost, _ZERO)


def _recurring_record(row: RecurringUsage) -> dict[str, Any]:
    c = row.charge
    return {
        "group": "recurring",
        "key": c.resource,
        "cost": row.accrued,
        "operation": c.operation,
        "model": c.model_id,
        "units": c.units,
        "rate": c.rate,
        "per": c.per,
        "rate_source": c.rate_source,
        "user_rate": c.user_rate,
        "commitment": c.commitment or "none",
        "start": row.start.isoformat(),
        "end": row.end.isoformat() if row.end else "",
        "forecast": row.forecast,
    }


def _recurring_rows(rows: tuple[RecurringUsage, ...]) -> tuple[ModelUsage, ...]:
    per_model: dict[str, ModelUsage] = {}
    for row in rows:
        key = row.charge.row_id
        per_model[key] = per_model.get(key, ModelUsage(key)) + ModelUsage(key, cost=row.accrued)
    return tuple(per_model.values())


def _merged(rows: tuple[ModelUsage, ...], more: tuple[ModelUsage, ...]) -> tuple[ModelUsage, ...]:
    # A provisioned model's calls (tokens at 0 USD) and its hours share one row.
    merged = {row.model_id: row for row in rows}
    for row in more:
        have = merged.get(row.model_id)
        merged[row.model_id] = row if have is None else have + row
    return tuple(merged.values())


def _rate_notes(rows: tuple[RecurringUsage, ...]) -> list[str]:
    notes = {
        f"{row.charge.row_id}: {row.charge.describe()}": None
        for row in rows
        if row.charge.user_rate or row.charge.rate_source in ("unverified", "fallback")
    }
    return list(notes)


def summarize(
    ledger: Ledger,
    scope: str | None = None,
    *,
    now: datetime | None = None,
    until: datetime | None = None,
    hours: Decimal | int | None = None,
) -> CostSummary:
    """Break a ledger's (or a scope's) costs down; see the module doc.

    Args:
        ledger: The ledger.
        scope: A scope's costs instead of the run's (recurring charges are the run's only).
        now: The time recurring charges are accrued to (their registry's clock by default).
        until: Forecast the recurring charges to this date (:attr:`CostSummary.forecast`).
        hours: Or so many hours from ``now`` (730 for a month).
    """
    report = ledger.report(scope)
    prices = ledger.prices
    rows = report.rows
    recurring: tuple[RecurringUsage, ...] = ()
    forecast = None
    notes = list(report.unverified_prices)
    if scope is None and has_recurring(ledger):
        book = recurring_charges(ledger)
        if until is not None or hours is not None:
            forecast = book.forecast(until=until, hours=hours, now=now)
            recurring = forecast.rows
        else:
            recurring = tuple(book.usage(now=now))
        rows = _merged(rows, _recurring_rows(recurring))
        notes += _rate_notes(recurring)
    by_operation: dict[str, ModelUsage] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lookups here re-price nothing: no repeat warnings
        for row in rows:
            op = operation_of(row.model_id, prices)
            by_operation[op] = by_operation.get(op, ModelUsage(op)) + row
        cache = sum((_cache_saving(prices, r) for r in report.rows), _ZERO)
        batch = sum((_batch_saving(prices, r) for r in report.rows), _ZERO)
    ordered = {op: by_operation[op] for op in OPERATIONS if op in by_operation}
    tags = {key: replace(r.total, model_id=key) for key, r in tag_reports(ledger).items()}
    return CostSummary(
        scope=report.scope,
        by_model=rows,
        by_operation=ordered,
        by_tag=tags,
        cache_savings=cache,
        batch_savings=batch,
        unverified_prices=tuple(notes),
        recurring=recurring,
        forecast=forecast,
    )
