"""The price table as plain text (what ``bedrock-kit prices`` prints)."""

from __future__ import annotations

from decimal import Decimal

from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.pricing import PriceEntry, PriceTable, default_prices

__all__ = ["format_prices"]


def format_prices(table: PriceTable | None = None) -> str:
    """The known prices as a plain-text table (what ``bedrock-kit prices`` prints)."""
    table = table or default_prices()
    header = ("model", "input", "output", "cache read", "cache write", "write 1h", "evidence")

    def cell(rate: Decimal | None) -> str:
        return format_usd(rate, exact=True)

    def flags(e: PriceEntry) -> str:
        extra = [f"unverified: {', '.join(e.unverified)}"] if e.unverified else []
        extra += [f"retired {e.retired}"] if e.retired else []
        return e.evidence + (f" ({'; '.join(extra)})" if extra else "")

    rows = [
        (e.model_id, cell(e.input), cell(e.output), cell(e.cache_read), cell(e.cache_write),
         cell(e.cache_write_1h), flags(e))
        for e in table.entries()
    ]  # fmt: skip
    rows += [
        (f"{e.model_id} >{e.long_context_above}", cell(lc.input), cell(lc.output),
         cell(lc.cache_read), cell(lc.cache_write), cell(lc.cache_write_1h), lc.evidence)
        for e in table.entries()
        if (lc := e.long_context) is not None
    ]  # fmt: skip
    rows += [
        (f"guardrail {g.policy}", cell(g.price), "", "", "", "", g.evidence)
        for g in table.guardrails.values()
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    ]
    note = (
        "USD per 1,000 tokens (guardrails: per 1,000 text units); on-demand Standard tier, "
        "global variant; '>N' rows bill whole requests above N input tokens. Qualify a model "
        "id with batch:, priority:, flex: or optimized: for those prices. Sources, dates and "
        "evidence: bedrock_kit/core/budget/prices.json."
    )
    return "\n".join([*lines, "", note])
