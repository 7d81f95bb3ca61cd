"""The sync CPU share targets: read from the own_share scenario when the run has it.

own_share pairs each adapter with its floor block by block; sync_overhead rotates every
contender through each repetition, so its pairing is looser and it is only the fallback.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from benchmarks import report, shares, targets
from benchmarks.scenarios import own_share

KIT_LC, KIT_LI = "bedrock-kit ChatBedrockKit", "bedrock-kit BedrockKitLLM"
CPU_LC = f"bedrock-kit's own share of {KIT_LC}, sync CPU per call"
CPU_LI = f"bedrock-kit's own share of {KIT_LI}, sync CPU per call"
CALLS_LC = f"bedrock-kit's own share of {KIT_LC}, sync Python calls per call"


def _overhead() -> dict[str, Any]:
    """sync_overhead: per-repetition CPU giving a 20% share for both adapters."""
    floor_reps, kit_reps = [0.8, 0.8, 1.6], [1.0, 1.0, 2.0]
    return {
        "results": {
            shares.LC_FLOOR_LEAN: {
                "cpu_ms_per_call": 0.8, "cpu_ms_reps": floor_reps, "python_calls_per_call": 2000,
            },
            KIT_LC: {
                "cpu_ms_per_call": 1.0, "cpu_ms_reps": kit_reps, "python_calls_per_call": 2200,
            },
            shares.LI_FLOOR_LEAN: {
                "cpu_ms_per_call": 0.8, "cpu_ms_reps": floor_reps, "python_calls_per_call": 1900,
            },
            KIT_LI: {
                "cpu_ms_per_call": 1.0, "cpu_ms_reps": kit_reps, "python_calls_per_call": 2090,
            },
        }
    }  # fmt: skip


def _own_share(*kits: str) -> dict[str, Any]:
    """own_share: the given adapters at a 7% share, from synthetic blocks."""
    results = {}
    for kit in kits:
        floors = [93e-6, 186e-6, 93e-6, 93e-6]  # the host slows 2x for one block
        adapters = [f / 0.93 for f in floors]
        results[kit] = {
            **own_share.summarize(shares.ADAPTER_FLOORS[kit], kit, floors, adapters),
            "calls_per_block": 20,
        }
    return {"blocks": 4, "calls_per_block": 20, "results": results}


def _by_name(found: list[shares.Share]) -> dict[str, shares.Share]:
    return {share[0]: share for share in found}


def test_the_summary_pairs_each_block_with_its_floor() -> None:
    found = own_share.summarize("floor", "kit", [1.0, 2.0, 4.0], [1.25, 2.5, 4.4])
    assert found["share_blocks"] == [0.2, 0.2, round(0.4 / 4.4, 5)]
    assert math.isclose(found["share"], 0.2)
    low, high = found["share_ci95"]
    assert 0.4 / 4.4 <= low <= 0.2 <= high <= 0.2 + 1e-12
    assert math.isclose(found["beyond_us"], 0.4e6)  # median of 0.25, 0.5, 0.4 s per call
    assert (found["floor_cpu_us"], found["adapter_cpu_us"]) == (2e6, 2.5e6)
    assert found["blocks"] == 3 and found["adapter"] == "kit"


def test_own_share_is_preferred_when_the_run_has_it() -> None:
    found = _by_name(
        shares.share_targets({"sync_overhead": _overhead(), "own_share": _own_share(KIT_LC)})
    )
    _, value, spread, source = found[CPU_LC]
    assert source == "own_share" and math.isclose(value, 0.07)
    assert spread is not None and all(math.isclose(x, 0.07) for x in spread)
    # The adapter own_share did not measure keeps the sync_overhead figure.
    _, value_li, spread_li, source_li = found[CPU_LI]
    assert source_li == "sync_overhead" and math.isclose(value_li, 0.2)
    assert spread_li is not None
    # The Python-calls share still comes from sync_overhead.
    assert found[CALLS_LC][3] == "sync_overhead"
    assert math.isclose(found[CALLS_LC][1], 200 / 2200)


def test_without_own_share_the_sync_overhead_figure_is_used() -> None:
    found = _by_name(shares.share_targets({"sync_overhead": _overhead()}))
    for name in (CPU_LC, CPU_LI):
        _, value, spread, source = found[name]
        assert source == "sync_overhead" and math.isclose(value, 0.2)
        assert spread is not None
    # A skipped pair (not in the scenario's results) falls back too.
    skipped = {"results": {}, "skipped": {"kit-langchain": "not installed"}}
    again = _by_name(shares.share_targets({"sync_overhead": _overhead(), "own_share": skipped}))
    assert again[CPU_LC][3] == "sync_overhead"


def test_own_share_alone_gives_the_cpu_targets_only() -> None:
    found = _by_name(shares.share_targets({"own_share": _own_share(KIT_LC, KIT_LI)}))
    assert set(found) == {CPU_LC, CPU_LI}
    assert all(share[3] == "own_share" for share in found.values())


def test_the_targets_and_the_report_name_the_source() -> None:
    scenarios = {"own_share": _own_share(KIT_LC, KIT_LI)}
    found = {t["target"]: t for t in targets.targets({"scenarios": scenarios})}
    cpu = found[CPU_LC]
    assert (cpu["value"], cpu["interval"], cpu["met"], cpu["source"]) == (
        0.07,
        [0.07, 0.07],
        True,
        "own_share",
    )
    meta = {"mode": "test", "timestamp": "t", "python": "3", "platform": "p", "cpu_count": 2,
            "packages": {}, "notes": []}  # fmt: skip
    text = report.markdown(
        {
            "meta": meta,
            "scenarios": {"own_share": scenarios["own_share"]},
            "targets": list(found.values()),
        }
    )
    assert f"| {CPU_LC} (from `own_share`) | 0.07 | [0.070, 0.070] | ≤ 0.1 | met |" in text
    assert "## 8. bedrock-kit's own share of sync CPU" in text
    assert f"| {KIT_LC} | {shares.LC_FLOOR_LEAN} | 93 | 100 | 7 | 7.0% [7.0%, 7.0%] |" in text


def test_a_contender_selection_brings_each_pair_whole() -> None:
    assert own_share.selected_pairs(None) == own_share.PAIRS
    assert own_share.selected_pairs(["kit-langchain", "raw"]) == [
        ("langchain-floor-lean", "kit-langchain")
    ]
    assert own_share.selected_pairs(["llama-index-floor-lean"]) == [
        ("llama-index-floor-lean", "kit-llama-index")
    ]
    assert own_share.selected_pairs(["raw"]) == []


def test_empty_blocks_are_refused_before_a_server_starts() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        own_share.measure(0, 20)
