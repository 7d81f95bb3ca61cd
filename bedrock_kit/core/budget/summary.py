"""A ledger's costs broken down: per model, per operation type, per tag, with savings.

:func:`summarize` reads a ledger through its public report and returns a
:class:`CostSummary`: the report's model rows, the same rows grouped by operation type
(chat, guardrail, embeddings, rerank, retrieval, agents, batch, provisioned), each tag's
totals (:mod:`bedrock_kit.core.budget.tags`), what prompt caching saved (cache reads at the
cache-read rate instead of the input rate) and what batch inference saved (batch rows priced
on demand minus their batch cost), and the prices no source confirmed. Export it as a list of
dicts (:meth:`CostSummary.records`, pandas-free) or CSV (:meth:`CostSummary.to_csv`).
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger, ModelUsage
from bedrock_kit.core.budget.model_ids import split_qualifiers
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.operations import OPERATIONS, operation_of
from bedrock_kit.core.budget.pricing import PriceTable
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
    """Prices behind these costs that no source in reach confirmed."""

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


def summarize(ledger: Ledger, scope: str | None = None) -> CostSummary:
    """Break a ledger's (or a scope's) costs down; see the module doc."""
    report = ledger.report(scope)
    prices = ledger.prices
    by_operation: dict[str, ModelUsage] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lookups here re-price nothing: no repeat warnings
        for row in report.rows:
            op = operation_of(row.model_id, prices)
            by_operation[op] = by_operation.get(op, ModelUsage(op)) + row
        cache = sum((_cache_saving(prices, r) for r in report.rows), _ZERO)
        batch = sum((_batch_saving(prices, r) for r in report.rows), _ZERO)
    ordered = {op: by_operation[op] for op in OPERATIONS if op in by_operation}
    tags = {key: replace(r.total, model_id=key) for key, r in tag_reports(ledger).items()}
    return CostSummary(
        scope=report.scope,
        by_model=report.rows,
        by_operation=ordered,
        by_tag=tags,
        cache_savings=cache,
        batch_savings=batch,
        unverified_prices=report.unverified_prices,
    )
