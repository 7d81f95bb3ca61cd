"""The report's "beyond the floor" tables: each adapter against its own framework's floor."""

from __future__ import annotations

import math

from benchmarks import report, shares

KIT_LC, KIT_LI = "bedrock-kit ChatBedrockKit", "bedrock-kit BedrockKitLLM"


def _overhead() -> dict[str, object]:
    row = {"cpu_ms_per_call": 1.0, "python_calls_per_call": 2000}
    return {
        "results": {
            shares.LC_FLOOR_LEAN: row,
            KIT_LC: {"cpu_ms_per_call": 1.25, "python_calls_per_call": 2200},
            shares.LI_FLOOR_LEAN: {"cpu_ms_per_call": 0.8, "python_calls_per_call": 1900},
            KIT_LI: {"cpu_ms_per_call": 1.0, "python_calls_per_call": 2090},
        }
    }


def test_overhead_shares_compare_each_adapter_with_its_own_floor() -> None:
    found = shares.overhead_shares(_overhead())
    calls = found[KIT_LC]["python calls per call"]
    assert (calls["beyond"], calls["of_floor"]) == (200, 0.1)
    assert math.isclose(calls["of_adapter"], 200 / 2200)
    cpu = found[KIT_LI]["CPU ms per call"]
    assert math.isclose(cpu["beyond"], 0.2) and math.isclose(cpu["of_adapter"], 0.2)


def test_an_adapter_without_its_floor_in_the_run_is_left_out() -> None:
    section = _overhead()
    del section["results"][shares.LI_FLOOR_LEAN]  # type: ignore[attr-defined]
    assert list(shares.overhead_shares(section)) == [KIT_LC]
    assert shares.lines("t", {}) == []


def test_layers_shares_and_targets_cover_sync_and_async() -> None:
    def mode(calls: int, cpu: float) -> dict[str, object]:
        return {"calls_per_call": calls, "cpu_ms_per_call": cpu, "layers": {}}

    layers = {
        "results": {
            shares.LC_FLOOR_LEAN: {"invoke": mode(2000, 1.0), "ainvoke": mode(1800, 1.1)},
            KIT_LC: {"invoke": mode(2100, 1.1), "ainvoke": mode(2000, 1.3)},
        }
    }
    found = shares.layers_shares(layers)[KIT_LC]
    assert found["ainvoke calls per call"]["beyond"] == 200
    found_targets = shares.share_targets({"layers": layers, "sync_overhead": _overhead()})
    targets = {name: value for name, value, *_ in found_targets}
    assert math.isclose(targets[f"bedrock-kit's own share of {KIT_LC}, async calls per call"], 0.1)
    assert math.isclose(
        targets[f"bedrock-kit's own share of {KIT_LI}, sync Python calls per call"], 190 / 2090
    )


def test_the_report_shows_the_tables() -> None:
    section = {**_overhead(), "calls_per_rep": 10}
    for name in section["results"]:  # type: ignore[attr-defined]
        section["results"][name].update(  # type: ignore[index]
            wall_ms_per_call=2.0, wall_ratio_vs_floor=1.0, cpu_ratio_vs_floor=1.0,
            cpu_ms_beyond_floor=0.0,
        )  # fmt: skip
    text = "\n".join(report._overhead_lines(section))
    assert "Adapters beyond their floor" in text
    assert f"| {KIT_LC} | python calls per call | 2200 | 2000 | 200 | 10.0% | 9.1% |" in text
