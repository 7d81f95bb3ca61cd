"""Scenario 8: bedrock-kit's own share of each adapter's sync CPU per call, paired block by block.

Each adapter is measured against its framework's floor over the same bare lean transport
(``langchain-floor-lean`` vs ``kit-langchain``, ``llama-index-floor-lean`` vs
``kit-llama-index``) on a LocalBedrock subprocess at zero latency, so ``time.process_time``
here is the client's own CPU. Floor and adapter run in short blocks back to back (which of
the two goes first alternates every block, and so does which pair goes first), so host load
drifts over both sides of a block alike; each block gives one paired share
``(adapter - floor) / adapter``.

The sync overhead scenario measures the same two sides, but it rotates every contender
through each repetition, so an adapter and its floor run seconds apart there and the host's
drift in between (1.5x over minutes on a shared VM) lands in the share. Here they run
within milliseconds of each other, which is why the sync CPU share targets are read from
this scenario when a run has it (:func:`benchmarks.shares.share_targets`).

``python -m benchmarks.own_cpu`` is the same measurement as a stand-alone command.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import CONTENDERS, Driver, describe
from benchmarks.params import Params
from benchmarks.stats import interval, rotations

PAIRS = [("langchain-floor-lean", "kit-langchain"), ("llama-index-floor-lean", "kit-llama-index")]
"""(floor, adapter) registry keys of :data:`benchmarks.contenders.CONTENDERS`."""
PROMPT = "How tall is the tallest tide?"
WARM_UP = 30
"""Untimed calls per driver before the first block (imports, first connection, caches)."""


def _cpu_per_call(driver: Driver, calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        driver.invoke(PROMPT)
    return (time.process_time() - start) / calls


def summarize(floor: str, adapter: str, floors: list[float], kits: list[float]) -> dict[str, Any]:
    """Medians of both sides' CPU seconds per call over the blocks (``floors[i]`` and
    ``kits[i]`` from block ``i``), of the per-block difference and of the per-block shares,
    with the bootstrap 95% interval of the median share."""
    shares = [(k - f) / k for f, k in zip(floors, kits, strict=True)]
    low, high = interval(shares)
    return {
        "floor": floor,
        "adapter": adapter,
        "floor_cpu_us": statistics.median(floors) * 1e6,
        "adapter_cpu_us": statistics.median(kits) * 1e6,
        "beyond_us": statistics.median(k - f for f, k in zip(floors, kits, strict=True)) * 1e6,
        "share": statistics.median(shares),
        "share_ci95": [low, high],
        "blocks": len(kits),
        "floor_cpu_us_blocks": [round(f * 1e6, 3) for f in floors],
        "adapter_cpu_us_blocks": [round(k * 1e6, 3) for k in kits],
        "share_blocks": [round(s, 5) for s in shares],
    }


def measure(
    blocks: int, calls: int, pairs: Sequence[tuple[str, str]] = PAIRS
) -> tuple[dict[str, dict[str, Any]], list[Driver]]:
    """Per pair, keyed by the adapter's registry key: floor/adapter CPU per call and the
    paired shares over ``blocks`` blocks of ``calls`` calls each; and the drivers built.

    A pair whose framework is not installed is reported as ``{"skipped": reason}``.
    """
    if blocks < 1 or calls < 1:
        raise ValueError(f"blocks and calls must be at least 1, got {blocks} and {calls}")
    with ServerProcess(ServerConfig(latency=0.0)) as server:
        built: list[tuple[str, Driver, Driver]] = []
        skipped: dict[str, str] = {}
        for floor_key, kit_key in pairs:
            try:
                floor = CONTENDERS[floor_key](server.endpoint_url)
                kit = CONTENDERS[kit_key](server.endpoint_url)
            except ImportError as exc:
                skipped[kit_key] = f"not installed: {exc}"
                continue
            for driver in (floor, kit):
                _cpu_per_call(driver, WARM_UP)
            built.append((kit_key, floor, kit))
        times: dict[str, tuple[list[float], list[float]]] = {key: ([], []) for key, *_ in built}
        gc.collect()
        for block, order in rotations(built, blocks):
            for key, floor, kit in order:
                floors, kits = times[key]
                if block % 2:
                    kits.append(_cpu_per_call(kit, calls))
                    floors.append(_cpu_per_call(floor, calls))
                else:
                    floors.append(_cpu_per_call(floor, calls))
                    kits.append(_cpu_per_call(kit, calls))
    results: dict[str, dict[str, Any]] = {}
    for key, floor, kit in built:
        results[key] = {**summarize(floor.name, kit.name, *times[key]), "calls_per_block": calls}
    for key, reason in skipped.items():
        results[key] = {"skipped": reason}
    drivers = [driver for _, floor, kit in built for driver in (floor, kit)]
    return results, drivers


def selected_pairs(only: list[str] | None) -> list[tuple[str, str]]:
    """The pairs a ``--contender`` selection asks for: a pair runs when either of its keys
    is chosen (a share needs both sides, so the other comes along)."""
    if not only:
        return list(PAIRS)
    return [(floor, kit) for floor, kit in PAIRS if floor in only or kit in only]


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """bedrock-kit's own share of each adapter's sync CPU per call, with its interval."""
    found, drivers = measure(params.share_blocks, params.share_calls, selected_pairs(only))
    return {
        "server": {"latency_s": 0.0},
        "blocks": params.share_blocks,
        "calls_per_block": params.share_calls,
        "warm_up_calls": WARM_UP,
        "skipped": {key: r["skipped"] for key, r in found.items() if "skipped" in r},
        "contender_settings": describe(drivers),
        # Keyed by the adapter's name, like every scenario's results.
        "results": {r["adapter"]: r for r in found.values() if "skipped" not in r},
    }
