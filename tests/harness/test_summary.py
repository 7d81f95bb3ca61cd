"""The end-of-run summary groups skips by reason (tests/support/summary.py)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.support.summary import group_skips, skip_reason


def _skipped(reason: str) -> SimpleNamespace:
    return SimpleNamespace(skipped=True, longrepr=("tests/x.py", 3, f"Skipped: {reason}"))


def test_skips_are_grouped_by_reason_most_frequent_first() -> None:
    reports = [
        _skipped("needs AWS credentials"),
        _skipped("needs AWS credentials"),
        _skipped("not picklable [ChatBedrockKit]"),
        _skipped("not picklable [BedrockGuardrail]"),
        _skipped("needs AWS credentials"),
        _skipped("aiobotocore missing"),
        SimpleNamespace(skipped=False, longrepr=None),
    ]
    assert group_skips(reports) == [
        ("needs AWS credentials", 3),
        ("not picklable", 2),
        ("aiobotocore missing", 1),
    ]


def test_a_reason_without_location_is_kept_whole() -> None:
    report = SimpleNamespace(skipped=True, longrepr="Skipped: no cassette")
    assert skip_reason(report) == "no cassette"  # type: ignore[arg-type]
