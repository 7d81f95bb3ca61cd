"""Money as a person reads it: ``$0.00127``, ``$12.35``, never ``0E-7`` or ``Decimal('...')``.

Amounts stay :class:`~decimal.Decimal` everywhere they are computed; this module only turns
them into text, in one place, for reports, errors, the CLI and the notebooks.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

__all__ = ["format_usd"]

_SIGNIFICANT = 4
"""Significant digits kept for amounts under one dollar (``$0.001270`` -> ``$0.00127``)."""


def _plain(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_EVEN):f}"
    whole, _, fraction = text.partition(".")
    return f"{int(whole):,}.{fraction.rstrip('0').ljust(2, '0')}"


def format_usd(amount: Decimal | int | float | str | None, *, exact: bool = False) -> str:
    """An amount in US dollars as plain text, e.g. ``$0.00127``, ``$1,234.50`` or ``-$1.50``.

    Args:
        amount: The amount; None prints as ``-`` (no limit, no price).
        exact: Keep every digit (prices per token); otherwise amounts of a dollar or more get
            two decimals and smaller ones four significant digits, at least two decimals.

    Returns:
        The text: never scientific notation, always at least two decimals.

    Raises:
        ValueError: ``amount`` is not a number.
    """
    if amount is None:
        return "-"
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount of money: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {amount!r}")
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0.00"
    if exact:
        places = max(-value.normalize().as_tuple().exponent, 2)  # type: ignore[operator]
    elif value >= 1:
        places = 2
    else:
        # Position of the first significant digit after the point, plus the digits to keep.
        places = max(-value.adjusted() - 1 + _SIGNIFICANT, 2)
    return f"{sign}${_plain(value, places)}"
