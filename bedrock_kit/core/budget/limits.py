"""Budget limits: what a :class:`~bedrock_kit.core.budget.ledger.Ledger` scope may spend."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.errors import ConfigurationError

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Budget limits; None means unlimited. Token limits count every kind they name."""

    max_cost: Decimal | None = None
    """Cost in USD."""
    max_input_tokens: int | None = None
    """All input tokens: uncached, cache read and cache write."""
    max_output_tokens: int | None = None
    """Output tokens."""
    max_cache_read_tokens: int | None = None
    """Cache-read input tokens."""
    max_cache_write_tokens: int | None = None
    """Cache-write input tokens."""
    max_total_tokens: int | None = None
    """Input plus output tokens."""
    max_calls: int | None = None
    """Model calls (reservations and recorded calls)."""

    def __str__(self) -> str:
        """The set limits, money as dollars: ``max_cost=$0.05, max_calls=10`` (``none``)."""
        shown = [
            f"{f.name}={format_usd(value) if f.name == 'max_cost' else value}"
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None
        ]
        return ", ".join(shown) or "none"

    @classmethod
    def build(cls, **limits: Any) -> Limits:
        """Validate keyword limits (``max_cost`` may be a str, int or Decimal)."""
        known = sorted(f.name for f in fields(cls))
        for name, value in limits.items():
            if name not in known:
                raise ConfigurationError(f"unknown budget limit {name!r}; use one of {known}")
            if value is None:
                continue
            try:
                number = Decimal(str(value))
            except ArithmeticError as exc:
                raise ConfigurationError(f"budget limit {name} is not a number: {value!r}") from exc
            if number < 0 or (name != "max_cost" and number != int(number)):
                raise ConfigurationError(
                    f"budget limit {name} must be a non-negative "
                    f"{'number' if name == 'max_cost' else 'integer'}, got {value!r}"
                )
        cost = limits.pop("max_cost", None)
        return cls(max_cost=None if cost is None else Decimal(str(cost)), **limits)
