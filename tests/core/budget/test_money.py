"""Money printed as a person reads it, in every place the budget prints it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bedrock_kit import BudgetExceededError, Ledger, Limits
from bedrock_kit.core.budget.money import format_usd
from bedrock_kit.core.budget.price_text import format_prices
from bedrock_kit.core.chat.types import Usage

UNREADABLE = re.compile(r"\dE-\d|Decimal\(")
MODEL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("0E-7"), "$0.00"),
        (Decimal("0.0012704"), "$0.00127"),
        (Decimal("0.014687990"), "$0.01469"),
        (Decimal("0.05"), "$0.05"),
        (Decimal("0.5"), "$0.50"),
        (Decimal("0.999999"), "$1.00"),
        (Decimal("12.3456"), "$12.35"),
        (Decimal("1234567.891"), "$1,234,567.89"),
        (Decimal("-1.5"), "-$1.50"),
        (Decimal("0.00000875"), "$0.00000875"),
        ("0.1", "$0.10"),
        (3, "$3.00"),
        (None, "-"),
    ],
)
def test_amounts_are_plain_decimals_with_a_dollar_sign(amount: object, shown: str) -> None:
    assert format_usd(amount) == shown  # type: ignore[arg-type]


def test_exact_keeps_every_digit_of_a_rate() -> None:
    assert format_usd(Decimal("0.00375"), exact=True) == "$0.00375"
    assert format_usd(Decimal("1E-7"), exact=True) == "$0.0000001"
    assert format_usd(Decimal("0.0010"), exact=True) == "$0.001"


@pytest.mark.parametrize("bad", ["twelve", float("nan"), Decimal("Infinity")])
def test_what_is_not_money_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        format_usd(bad)  # type: ignore[arg-type]


def _ledger() -> Ledger:
    ledger = Ledger(max_cost="0.01")
    with ledger.reserve(MODEL, 1000, 100) as reservation:
        reservation.settle(Usage(1000, 100, 1100))
    return ledger


def test_report_repr_text_and_html_show_dollars() -> None:
    ledger = _ledger()
    report = ledger.report()
    spent = format_usd(ledger.spent())
    assert spent.startswith("$0.00")
    assert repr(report) == (
        f"BudgetReport(scope='run', cost={spent} over 1 calls, reserved=$0.00, "
        "limits=max_cost=$0.01)"
    )
    text = report.to_text()
    assert text.splitlines()[0].split()[-1] == "cost"
    assert text.splitlines()[-1].split()[-1] == spent
    for shown in (repr(report), text, report._repr_html_(), repr(ledger), repr(report.rows[0])):
        assert not UNREADABLE.search(shown), shown
    assert f"spent={spent}, reserved=$0.00, limits=max_cost=$0.01" in repr(ledger)


def test_a_refusal_reads_in_dollars() -> None:
    ledger = _ledger()
    with pytest.raises(BudgetExceededError) as caught:
        ledger.reserve(MODEL, 100_000, 4096)
    message = str(caught.value)
    assert not UNREADABLE.search(message), message
    assert re.search(r"max_cost=\$0\.01 would be exceeded; this call needs up to \$0\.\d+", message)
    assert "$0.00 reserved by calls in flight" in message


def test_token_limits_stay_integers_in_a_refusal() -> None:
    ledger = Ledger(max_calls=0)
    with pytest.raises(BudgetExceededError, match=r"max_calls=0 would be exceeded.*needs up to 1,"):
        ledger.reserve(MODEL, 10, 10)


def test_limits_print_only_what_is_set() -> None:
    assert str(Limits()) == "none"
    assert str(Limits.build(max_cost="0.25", max_calls=3)) == "max_cost=$0.25, max_calls=3"


def test_the_price_table_prints_dollars() -> None:
    text = format_prices()
    assert "$0.00375" in text and not UNREADABLE.search(text)
