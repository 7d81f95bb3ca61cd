"""bedrock-kit's own share of each adapter's sync CPU per call, paired block by block.

The stand-alone command for the bench's ``own_share`` scenario
(:mod:`benchmarks.scenarios.own_share`, which holds the measurement and says how it pairs):
each adapter against its framework's floor over the bare lean transport, in short blocks
back to back with the order alternating. Printed: the median of the per-block shares with a
bootstrap 95% interval, and the median CPU microseconds per call of each side.

Run: ``python -m benchmarks.own_cpu [--blocks 40] [--calls 20] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from benchmarks.scenarios.own_share import PAIRS, measure

__all__ = ["PAIRS", "main", "measure_shares"]


def measure_shares(blocks: int, calls: int) -> dict[str, dict[str, Any]]:
    """Per pair, keyed by the adapter's registry key.

    See :func:`benchmarks.scenarios.own_share.measure`; the drivers it built are dropped.
    """
    results, _ = measure(blocks, calls)
    return results


def main(argv: list[str] | None = None) -> int:
    """Measure and print the shares (``--json``: one JSON object instead of text)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.own_cpu", description=__doc__)
    parser.add_argument("--blocks", type=int, default=40, help="alternating blocks per pair")
    parser.add_argument("--calls", type=int, default=20, help="calls per block")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = measure_shares(args.blocks, args.calls)
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
