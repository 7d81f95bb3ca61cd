"""Run the benchmark suite and write results/<timestamp>.json, results/latest.md and a PNG.

Usage::

    python benchmarks/run.py            # full run, a few minutes on 2 cores
    python benchmarks/run.py --quick    # every scenario with tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report, targets
from benchmarks._server import child_env
from benchmarks.contenders import CONTENDERS
from benchmarks.params import FULL, QUICK, Params
from benchmarks.scenarios import (
    coldstart,
    concurrency,
    layers,
    memory,
    overhead,
    own_share,
    shared_budget,
    streaming,
)

SCENARIOS: dict[str, Callable[[Params, list[str] | None], dict[str, Any]]] = {
    "concurrency": concurrency.run,
    "sync_overhead": overhead.run,
    "streaming": streaming.run,
    "cold_start": coldstart.run,
    "memory": memory.run,
    "shared_budget": shared_budget.run,
    "layers": layers.run,
    "own_share": own_share.run,
}

_PACKAGES = (
    "bedrock-bridge",  # the distribution name; the import name is bedrock_kit
    "boto3",
    "botocore",
    "aiobotocore",
    "aiohttp",
    "langchain-core",
    "langchain-aws",
    "llama-index-core",
    "llama-index-llms-bedrock-converse",
    "aioboto3",
)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _meta(quick: bool, params: Params) -> dict[str, Any]:
    return {
        "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if quick else "full",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": {p: _version(p) for p in _PACKAGES},
        "params": params.__dict__,
        "notes": [
            "LocalBedrock runs in its own process (bedrock-kit local-server, TCP_NODELAY on).",
            "The langchain-core floor is raw clients in a minimal BaseChatModel: the cost "
            "every LangChain chat model pays.",
            "Contenders alternate within every repetition; each leads in turn; one warm-up.",
            "Every contender uses max_pool_connections=256 (no pool caps a concurrency level) "
            "and retry mode standard.",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios and write the result files; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument(
        "--scenario", action="append", choices=sorted(SCENARIOS), help="run only these"
    )
    parser.add_argument(
        "--contender", action="append", choices=sorted(CONTENDERS), help="run only these"
    )
    args = parser.parse_args(argv)
    os.environ.update(child_env())  # fake credentials for in-process contenders too
    params = QUICK if args.quick else FULL
    results: dict[str, Any] = {"meta": _meta(args.quick, params), "scenarios": {}}
    started = time.perf_counter()
    for name in args.scenario or SCENARIOS:
        print(f"[bench] {name} ...", flush=True)
        began = time.perf_counter()
        results["scenarios"][name] = SCENARIOS[name](params, args.contender)
        results["scenarios"][name]["seconds"] = round(time.perf_counter() - began, 2)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 2)
    results["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = targets.targets(results)
    paths = report.write(results, args.out)
    for path in paths:
        print(f"[bench] wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
