"""Per-repetition (paired) ratios and their bootstrap intervals, as the report uses them."""

from __future__ import annotations

import math
from typing import Any

from benchmarks import report, shares, targets
from benchmarks.stats import interval, paired, paired_summary

KIT_LC = "bedrock-kit ChatBedrockKit"


def test_paired_ratios_cancel_drift_that_a_ratio_of_medians_keeps() -> None:
    # The host slows down 2x halfway; the kit is 0.8x the floor in every repetition.
    floor = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    kit = [0.8 * f for f in floor]
    assert all(math.isclose(r, 0.8) for r in paired(kit, floor))
    summary = paired_summary(kit, floor)
    assert math.isclose(summary["median"], 0.8) and summary["pairs"] == 7
    assert all(math.isclose(x, 0.8) for x in summary["interval"])


def test_pairs_with_a_zero_or_missing_side_are_left_out() -> None:
    assert paired([1.0, 2.0, 3.0], [0.0, 1.0]) == [2.0]
    assert paired_summary([], [])["pairs"] == 0
    assert all(math.isnan(x) for x in interval([]))


def test_the_interval_holds_the_median_and_is_stable() -> None:
    values = [0.9, 1.3, 1.0, 1.1, 0.95, 1.2, 1.05, 0.85, 1.15, 1.0]
    low, high = interval(values)
    assert low <= sorted(values)[len(values) // 2] <= high
    assert low < high
    assert interval(values) == (low, high)  # seeded: the same file gives the same interval


def test_cpu_share_per_repetition_drives_the_target() -> None:
    floor_reps = [1.0, 1.0, 2.0, 2.0, 1.5]
    kit_reps = [f / 0.95 for f in floor_reps]  # the kit adds 5% of its cost every time
    row = {"python_calls_per_call": 2000}
    section = {
        "results": {
            shares.LC_FLOOR_LEAN: {**row, "cpu_ms_per_call": 1.5, "cpu_ms_reps": floor_reps},
            # medians picked so the share of two medians would read 25%
            KIT_LC: {**row, "cpu_ms_per_call": 2.0, "cpu_ms_reps": kit_reps},
        }
    }
    cpu = shares.overhead_shares(section)[KIT_LC]["CPU ms per call"]
    assert math.isclose(cpu["of_adapter"], 0.25)
    assert math.isclose(cpu["paired"], 0.05)
    found = {n: (v, i) for n, v, i, _ in shares.share_targets({"sync_overhead": section})}
    value, spread = found[f"bedrock-kit's own share of {KIT_LC}, sync CPU per call"]
    assert math.isclose(value, 0.05) and spread is not None
    assert "5.0% [5.0%, 5.0%]" in "\n".join(shares.lines("t", shares.overhead_shares(section)))


def _stream_item(median: float, paired_median: float | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "cpu_per_chunk_ratio_vs_floor": median,
        "ttft_ms_beyond_floor": 0.0,
        "ttft_cpu_ms_beyond_floor": 0.0,
    }
    if paired_median is not None:
        item["cpu_per_chunk_ratio_paired"] = {
            "median": paired_median,
            "interval": [paired_median - 0.05, paired_median + 0.05],
            "pairs": 21,
        }
    return item


def test_targets_use_the_paired_median_and_show_its_interval() -> None:
    stream = {KIT_LC: {"stream": _stream_item(1.05, 0.93), "astream": _stream_item(0.9, None)}}
    found = targets.targets({"scenarios": {"streaming": {"results": stream}}})
    by_name = {t["target"]: t for t in found}
    sync = by_name[f"{KIT_LC} stream CPU per chunk / raw botocore event-stream iteration"]
    assert (sync["value"], sync["met"]) == (0.93, True)
    assert sync["interval"] == [0.88, 0.98]
    old = by_name[f"{KIT_LC} astream CPU per chunk / raw botocore event-stream iteration"]
    assert (old["value"], old["interval"]) == (0.9, None)  # an older results file
    text = report.markdown(
        {
            "meta": {
                "mode": "test",
                "timestamp": "t",
                "python": "3",
                "platform": "p",
                "cpu_count": 2,
                "packages": {},
                "notes": [],
            },
            "scenarios": {},
            "targets": found,
        }
    )
    assert "| 0.93 | [0.880, 0.980] | ≤ 1 | met |" in text
