"""Time to first token beyond raw: the median of per-repetition differences.

Repetition ``i`` of the streaming scenario streams the floor and every contender back to
back, so a difference taken within it cancels the host's drift between repetitions that a
difference of two medians keeps.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks import targets
from benchmarks.scenarios import streaming
from benchmarks.stats import difference_summary, differences

KIT_LC = "bedrock-kit ChatBedrockKit"
WALL = f"{KIT_LC} stream time to first token beyond raw, wall (ms)"
CPU = f"{KIT_LC} stream time to first token beyond raw, CPU (ms)"


def test_differences_pair_by_repetition_and_skip_missing_sides() -> None:
    assert differences([3.0, 5.0, 9.0], [1.0, 4.0]) == [2.0, 1.0]
    assert differences([1.0, math.nan], [0.5, 0.5]) == [0.5]
    summary = difference_summary([], [])
    assert summary["pairs"] == 0 and math.isnan(summary["median"])


def test_drift_between_repetitions_cancels_within_each() -> None:
    # The host slows 3x after two repetitions; the contender is 0.4 ms later every time.
    floor = [1.0, 1.0, 3.0, 3.0, 3.0]
    kit = [f + 0.4 for f in floor]
    summary = difference_summary(kit, floor)
    assert math.isclose(summary["median"], 0.4) and summary["pairs"] == 5
    assert all(math.isclose(x, 0.4) for x in summary["interval"])


def _samples(ttfts: list[float], ttft_cpus: list[float]) -> list[streaming.Sample]:
    """(TTFT wall, total wall, total CPU, chunks, TTFT CPU) per repetition, in seconds."""
    return [(t, 0.05, 0.01, 20, c) for t, c in zip(ttfts, ttft_cpus, strict=True)]


def test_the_streaming_summary_records_per_repetition_differences() -> None:
    # The contender is 0.5 ms later (wall) and spends 0.2 ms more CPU than the floor in
    # every repetition, but its slow repetitions are not all the floor's: the medians fall
    # in different host states and their difference reads 4.5 ms.
    floor = _samples([0.002, 0.002, 0.002, 0.006, 0.006], [0.001, 0.001, 0.001, 0.003, 0.003])
    kit = _samples(
        [0.0025, 0.0025, 0.0065, 0.0065, 0.0065], [0.0012, 0.0012, 0.0032, 0.0032, 0.0032]
    )
    found = streaming._summary(kit, 20, floor)
    assert math.isclose(found["ttft_ms_beyond_floor"], 4.5)  # the difference of medians
    paired = found["ttft_ms_beyond_floor_paired"]
    # Per repetition: 0.5, 0.5, 4.5, 0.5, 0.5 (the third pairs a fast floor with a slow kit).
    assert math.isclose(paired["median"], 0.5) and paired["pairs"] == 5
    low, high = paired["interval"]
    assert 0.5 - 1e-9 <= low <= 0.5 <= high <= 4.5 + 1e-9
    cpu = found["ttft_cpu_ms_beyond_floor_paired"]
    assert math.isclose(cpu["median"], 0.2) and cpu["pairs"] == 5
    assert math.isclose(found["ttft_cpu_ms_beyond_floor"], 2.2)  # 3.2 - 1.0


def _stream(paired: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "cpu_per_chunk_ratio_vs_floor": 1.0,
        "ttft_ms_beyond_floor": 4.5,
        "ttft_cpu_ms_beyond_floor": 1.8,
    }
    if paired:
        item["ttft_ms_beyond_floor_paired"] = {"median": 0.5, "interval": [0.4, 0.7], "pairs": 5}
        item["ttft_cpu_ms_beyond_floor_paired"] = {
            "median": 0.2,
            "interval": [0.1, 0.3],
            "pairs": 5,
        }
    return {"streaming": {"results": {KIT_LC: {"stream": item, "astream": dict(item)}}}}


def test_the_target_is_the_paired_median_with_its_interval() -> None:
    found = {t["target"]: t for t in targets.targets({"scenarios": _stream(paired=True)})}
    assert (found[WALL]["value"], found[WALL]["interval"], found[WALL]["met"]) == (
        0.5,
        [0.4, 0.7],
        True,
    )
    assert (found[CPU]["value"], found[CPU]["interval"]) == (0.2, [0.1, 0.3])


def test_an_older_results_file_falls_back_to_the_difference_of_medians() -> None:
    found = {t["target"]: t for t in targets.targets({"scenarios": _stream(paired=False)})}
    assert (found[WALL]["value"], found[WALL]["interval"], found[WALL]["met"]) == (4.5, None, False)
    assert (found[CPU]["value"], found[CPU]["interval"]) == (1.8, None)
