"""bedrock-kit's own share of each adapter's sync CPU per call, paired block by block.

Each adapter is measured against its framework's floor over the same bare lean transport
(``langchain-floor-lean`` vs ``kit-langchain``, ``llama-index-floor-lean`` vs
``kit-llama-index``) on a LocalBedrock subprocess at zero latency, so ``time.process_time``
here is the client's own CPU. Floor and adapter run in short alternating blocks (the order
rotates every block) so host load drifts over both alike; each block pair gives one paired
share ``(kit - floor) / kit``. Printed: the median share with a bootstrap 95% interval, and
the median CPU microseconds per call of each side.

Run: ``python -m benchmarks.own_cpu [--blocks 40] [--calls 20] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import CONTENDERS, Driver
from benchmarks.stats import interval

PAIRS = [("langchain-floor-lean", "kit-langchain"), ("llama-index-floor-lean", "kit-llama-index")]
"""(floor, adapter) registry keys of :data:`benchmarks.contenders.CONTENDERS`."""
PROMPT = "How tall is the tallest tide?"
_WARM_UP = 30


def _cpu_per_call(driver: Driver, calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        driver.invoke(PROMPT)
    return (time.process_time() - start) / calls


def measure(blocks: int, calls: int) -> dict[str, dict[str, Any]]:
    """Per pair: floor/adapter CPU per call and the paired share, over ``blocks`` blocks."""
    with ServerProcess(ServerConfig(latency=0.0)) as server:
        pairs: list[tuple[str, Driver, Driver]] = []
        skipped: dict[str, str] = {}
        for floor_key, kit_key in PAIRS:
            try:
                floor = CONTENDERS[floor_key](server.endpoint_url)
                kit = CONTENDERS[kit_key](server.endpoint_url)
            except ImportError as exc:
                skipped[kit_key] = f"not installed: {exc}"
                continue
            for driver in (floor, kit):
                _cpu_per_call(driver, _WARM_UP)
            pairs.append((kit_key, floor, kit))
        times: dict[str, tuple[list[float], list[float]]] = {key: ([], []) for key, *_ in pairs}
        gc.collect()
        for block in range(blocks):
            for key, floor, kit in pairs[block % 2 :] + pairs[: block % 2]:
                floors, kits = times[key]
                if block % 2:
                    kits.append(_cpu_per_call(kit, calls))
                    floors.append(_cpu_per_call(floor, calls))
                else:
                    floors.append(_cpu_per_call(floor, calls))
                    kits.append(_cpu_per_call(kit, calls))
    results: dict[str, dict[str, Any]] = {}
    for key, floor, kit in pairs:
        floors, kits = times[key]
        shares = [(k - f) / k for f, k in zip(floors, kits, strict=True)]
        low, high = interval(shares)
        results[key] = {
            "floor": floor.name,
            "adapter": kit.name,
            "floor_cpu_us": statistics.median(floors) * 1e6,
            "adapter_cpu_us": statistics.median(kits) * 1e6,
            "beyond_us": statistics.median(k - f for f, k in zip(floors, kits, strict=True)) * 1e6,
            "share": statistics.median(shares),
            "share_ci95": [low, high],
            "blocks": blocks,
            "calls_per_block": calls,
        }
    for key, reason in skipped.items():
        results[key] = {"skipped": reason}
    return results


def main(argv: list[str] | None = None) -> int:
    """Measure and print the shares (``--json``: one JSON object instead of text)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.own_cpu", description=__doc__)
    parser.add_argument("--blocks", type=int, default=40, help="alternating blocks per pair")
    parser.add_argument("--calls", type=int, default=20, help="calls per block")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = measure(args.blocks, args.calls)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for key, r in results.items():
        if "skipped" in r:
            print(f"{key}: skipped ({r['skipped']})")
            continue
        low, high = r["share_ci95"]
        print(
            f"{r['adapter']}: {r['adapter_cpu_us']:.0f} us CPU per call, floor "
            f"{r['floor_cpu_us']:.0f} us, beyond {r['beyond_us']:.0f} us; own share "
            f"{r['share']:.1%} (95% CI {low:.1%} .. {high:.1%}; {r['blocks']} blocks x "
            f"{r['calls_per_block']} calls)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
