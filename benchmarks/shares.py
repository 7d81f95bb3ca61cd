"""Each bedrock-kit adapter against its own framework's floor: the share bedrock-kit adds.

A floor is the bare lean transport behind the framework's minimal model class
(:mod:`benchmarks._langchain_floor`, :mod:`benchmarks._llama_index_floor`): what any chat
model of that framework costs over the same transport. What an adapter costs beyond it is
bedrock-kit's own (its input checks, request building, response parsing, budget hooks).
Read from the sync overhead scenario (Python calls and CPU per call) and the layers scenario
(cProfile calls and unprofiled client CPU per call, sync and async).
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.stats import ratio

LC_FLOOR_LEAN = "langchain-core floor over the lean transport (minimal BaseChatModel)"
LI_FLOOR_LEAN = "llama-index-core floor over the lean transport (minimal LLM)"
ADAPTER_FLOORS = {
    "bedrock-kit ChatBedrockKit": LC_FLOOR_LEAN,
    "bedrock-kit BedrockKitLLM": LI_FLOOR_LEAN,
}
"""Each bedrock-kit adapter and the floor of its framework."""
TARGET = 0.1
"""bedrock-kit's share of an adapter's cost stays under this (issue 18)."""


def beyond(adapter: float | None, floor: float | None) -> dict[str, float]:
    """The adapter's cost beyond the floor, as an amount, per floor and per adapter cost."""
    kit = math.nan if adapter is None else float(adapter)
    base = math.nan if floor is None else float(floor)
    extra = kit - base
    return {
        "adapter": kit,
        "floor": base,
        "beyond": extra,
        "of_floor": ratio(extra, base),
        "of_adapter": ratio(extra, kit),
    }


def overhead_shares(section: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Sync overhead scenario: Python calls and CPU ms per call, adapter vs its floor."""
    results = section.get("results", {})
    shares: dict[str, dict[str, dict[str, float]]] = {}
    for kit, floor in ADAPTER_FLOORS.items():
        if kit in results and floor in results:
            shares[kit] = {
                "python calls per call": beyond(
                    results[kit].get("python_calls_per_call"),
                    results[floor].get("python_calls_per_call"),
                ),
                "CPU ms per call": beyond(
                    results[kit]["cpu_ms_per_call"], results[floor]["cpu_ms_per_call"]
                ),
            }
    return shares


def layers_shares(section: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Layers scenario: cProfile calls and client CPU ms per call, sync and async."""
    results = section.get("results", {})
    shares: dict[str, dict[str, dict[str, float]]] = {}
    for kit, floor in ADAPTER_FLOORS.items():
        if kit not in results or floor not in results:
            continue
        per: dict[str, dict[str, float]] = {}
        for mode in ("invoke", "ainvoke"):
            mine, base = results[kit][mode], results[floor][mode]
            per[f"{mode} calls per call"] = beyond(mine["calls_per_call"], base["calls_per_call"])
            per[f"{mode} CPU ms per call"] = beyond(
                mine.get("cpu_ms_per_call"), base.get("cpu_ms_per_call")
            )
        shares[kit] = per
    return shares


def lines(title: str, shares: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """A Markdown table of ``shares`` (empty when no adapter had its floor in the run)."""
    if not shares:
        return []
    header = [
        "adapter",
        "measure",
        "adapter",
        "floor",
        "beyond floor",
        "% of floor",
        "% of adapter",
    ]
    rows = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for kit, measures in shares.items():
        for measure, s in measures.items():
            cells = [kit, measure, _num(s["adapter"]), _num(s["floor"]), _num(s["beyond"])]
            cells += [_pct(s["of_floor"]), _pct(s["of_adapter"])]
            rows.append("| " + " | ".join(cells) + " |")
    return [
        f"{title} (each adapter against its framework's floor over the lean transport; the",
        f"share beyond it is bedrock-kit's own, target under {TARGET:.0%} of the adapter):",
        "",
        *rows,
        "",
    ]


def share_targets(scenarios: dict[str, Any]) -> list[tuple[str, float]]:
    """(target name, bedrock-kit's share of the adapter) for the call-count measures."""
    found: list[tuple[str, float]] = []
    overhead = overhead_shares(scenarios.get("sync_overhead", {}))
    for kit, measures in overhead.items():
        calls = measures["python calls per call"]["of_adapter"]
        found.append((f"bedrock-kit's own share of {kit}, sync Python calls per call", calls))
    for kit, measures in layers_shares(scenarios.get("layers", {})).items():
        calls = measures["ainvoke calls per call"]["of_adapter"]
        found.append((f"bedrock-kit's own share of {kit}, async calls per call", calls))
    return found


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"
