"""Each bedrock-kit adapter against its own framework's floor: the share bedrock-kit adds.

A floor is the bare lean transport behind the framework's minimal model class
(:mod:`benchmarks._langchain_floor`, :mod:`benchmarks._llama_index_floor`): what any chat
model of that framework costs over the same transport. What an adapter costs beyond it is
bedrock-kit's own (its input checks, request building, response parsing, budget hooks).
Read from the sync overhead scenario (Python calls and CPU per call), the layers scenario
(cProfile calls and unprofiled client CPU per call, sync and async) and the own share
scenario (sync CPU per call, adapter and floor paired block by block).
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.stats import interval, median, paired, ratio

LC_FLOOR_LEAN = "langchain-core floor over the lean transport (minimal BaseChatModel)"
LI_FLOOR_LEAN = "llama-index-core floor over the lean transport (minimal LLM)"
ADAPTER_FLOORS = {
    "bedrock-kit ChatBedrockKit": LC_FLOOR_LEAN,
    "bedrock-kit BedrockKitLLM": LI_FLOOR_LEAN,
}
"""Each bedrock-kit adapter and the floor of its framework."""
TARGET = 0.1
"""bedrock-kit's share of an adapter's cost stays under this (issue 18)."""


def beyond(
    adapter: float | None,
    floor: float | None,
    adapter_reps: list[float] | None = None,
    floor_reps: list[float] | None = None,
) -> dict[str, Any]:
    """The adapter's cost beyond the floor, as an amount, per floor and per adapter cost.

    With the per-repetition costs of both (measured in the same rotations), the share of the
    adapter is also taken per repetition, ``1 - floor[i] / adapter[i]``: ``paired`` is the
    median of those shares and ``interval`` its bootstrap 95% interval.
    """
    kit = math.nan if adapter is None else float(adapter)
    base = math.nan if floor is None else float(floor)
    extra = kit - base
    found: dict[str, Any] = {
        "adapter": kit,
        "floor": base,
        "beyond": extra,
        "of_floor": ratio(extra, base),
        "of_adapter": ratio(extra, kit),
    }
    if adapter_reps and floor_reps:
        kept = [1 - r for r in paired(floor_reps, adapter_reps)]
        low, high = interval(kept)
        found["paired"] = median(kept)
        found["interval"] = [low, high]
    return found


def overhead_shares(section: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Sync overhead scenario: Python calls and CPU ms per call, adapter vs its floor."""
    results = section.get("results", {})
    shares: dict[str, dict[str, dict[str, Any]]] = {}
    for kit, floor in ADAPTER_FLOORS.items():
        if kit in results and floor in results:
            shares[kit] = {
                "python calls per call": beyond(
                    results[kit].get("python_calls_per_call"),
                    results[floor].get("python_calls_per_call"),
                ),
                "CPU ms per call": beyond(
                    results[kit]["cpu_ms_per_call"],
                    results[floor]["cpu_ms_per_call"],
                    results[kit].get("cpu_ms_reps"),
                    results[floor].get("cpu_ms_reps"),
                ),
            }
    return shares


def layers_shares(section: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Layers scenario: cProfile calls and client CPU ms per call, sync and async."""
    results = section.get("results", {})
    shares: dict[str, dict[str, dict[str, Any]]] = {}
    for kit, floor in ADAPTER_FLOORS.items():
        if kit not in results or floor not in results:
            continue
        per: dict[str, dict[str, Any]] = {}
        for mode in ("invoke", "ainvoke"):
            mine, base = results[kit][mode], results[floor][mode]
            per[f"{mode} calls per call"] = beyond(mine["calls_per_call"], base["calls_per_call"])
            per[f"{mode} CPU ms per call"] = beyond(
                mine.get("cpu_ms_per_call"), base.get("cpu_ms_per_call")
            )
        shares[kit] = per
    return shares


def lines(title: str, shares: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
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
        "% of adapter per rep [95% interval]",
    ]
    rows = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for kit, measures in shares.items():
        for measure, s in measures.items():
            cells = [kit, measure, _num(s["adapter"]), _num(s["floor"]), _num(s["beyond"])]
            cells += [_pct(s["of_floor"]), _pct(s["of_adapter"]), _paired(s)]
            rows.append("| " + " | ".join(cells) + " |")
    return [
        f"{title} (each adapter against its framework's floor over the lean transport; the",
        f"share beyond it is bedrock-kit's own, target under {TARGET:.0%} of the adapter):",
        "",
        *rows,
        "",
    ]


Share = tuple[str, float, list[float] | None, str]
"""(target name, bedrock-kit's share of the adapter, its 95% interval when measured, the
scenario the figure came from)."""
CPU_SOURCE = "own_share"
"""The scenario the sync CPU share targets prefer (its pairing is the tighter one)."""
CPU_FALLBACK = "sync_overhead"


def own_share_cpu(section: dict[str, Any], kit: str) -> tuple[float, list[float]] | None:
    """The own share scenario's share of ``kit`` (median of the per-block shares) and its
    95% interval; None when the scenario did not measure ``kit``."""
    found = section.get("results", {}).get(kit)
    if not found or "share" not in found:
        return None
    return float(found["share"]), [float(x) for x in found["share_ci95"]]


def share_targets(scenarios: dict[str, Any]) -> list[Share]:
    """bedrock-kit's share of each adapter: Python calls (sync and async) and sync CPU.

    The sync CPU share comes from the own share scenario when the run has it for that
    adapter: there floor and adapter run in short blocks back to back, so the host's drift
    cancels within each block. Otherwise from the sync overhead scenario, as the median of
    its per-repetition shares (see :func:`beyond`) when recorded, else the share of the two
    medians; its repetitions rotate every contender, so the two sides run seconds apart.
    """
    found: list[Share] = []
    overhead = overhead_shares(scenarios.get(CPU_FALLBACK, {}))
    paired_blocks = scenarios.get(CPU_SOURCE, {})
    for kit in ADAPTER_FLOORS:
        measures = overhead.get(kit)
        if measures is not None:
            calls = measures["python calls per call"]["of_adapter"]
            found.append(
                (
                    f"bedrock-kit's own share of {kit}, sync Python calls per call",
                    calls,
                    None,
                    CPU_FALLBACK,
                )
            )
        name = f"bedrock-kit's own share of {kit}, sync CPU per call"
        blocks = own_share_cpu(paired_blocks, kit)
        if blocks is not None:
            found.append((name, blocks[0], blocks[1], CPU_SOURCE))
        elif measures is not None:
            cpu = measures["CPU ms per call"]
            found.append(
                (name, cpu.get("paired", cpu["of_adapter"]), cpu.get("interval"), CPU_FALLBACK)
            )
    for kit, measures in layers_shares(scenarios.get("layers", {})).items():
        calls = measures["ainvoke calls per call"]["of_adapter"]
        found.append(
            (f"bedrock-kit's own share of {kit}, async calls per call", calls, None, "layers")
        )
    return found


def own_share_lines(section: dict[str, Any]) -> list[str]:
    """The own share scenario's table: both sides' CPU per call and the paired share."""
    rows = [
        "| adapter | floor | floor CPU µs/call | adapter CPU µs/call | beyond floor µs "
        "| % of adapter per block [95% interval] |",
        "|" + "---|" * 6,
    ]
    for kit, r in section["results"].items():
        low, high = r["share_ci95"]
        cells = [kit, r["floor"], _num(r["floor_cpu_us"]), _num(r["adapter_cpu_us"])]
        cells += [_num(r["beyond_us"]), f"{_pct(r['share'])} [{_pct(low)}, {_pct(high)}]"]
        rows.append("| " + " | ".join(cells) + " |")
    return [
        "## 8. bedrock-kit's own share of sync CPU (adapter and floor paired block by block)",
        "",
        f"{section['blocks']} blocks of {section['calls_per_block']} sequential invokes per "
        "side at zero server latency.",
        "In each block the floor and the adapter run back to back (which goes first alternates)",
        "and give one share (adapter - floor) / adapter. CPU columns are medians over the",
        "blocks; the share is the median of the per-block shares. The sync CPU share targets",
        f"(under {TARGET:.0%}) are read from here.",
        "",
        *rows,
        "",
    ]


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _paired(share: dict[str, Any]) -> str:
    if "paired" not in share:
        return "-"
    low, high = share["interval"]
    return f"{_pct(share['paired'])} [{_pct(low)}, {_pct(high)}]"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"
