"""Measurements that need a fresh interpreter; each prints one JSON line.

``python -m benchmarks._child import MODULE``
``python -m benchmarks._child memory KEY STREAM_ENDPOINT STREAMS FLAT_ENDPOINT CALLS``
"""

from __future__ import annotations

import time

_START = time.perf_counter()  # before any other import: cold-start timing starts here

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from typing import Any  # noqa: E402

_FRAMEWORKS = {"langchain": "langchain_core", "llama_index": "llama_index.core"}


def _import(module: str) -> dict[str, Any]:
    before = set(sys.modules)
    start = time.perf_counter()
    imported = importlib.import_module(module)
    seconds = time.perf_counter() - start
    loaded = set(sys.modules) - before
    return {
        "seconds": seconds,
        # A folder without __init__.py imports as an empty namespace: nothing was timed.
        "namespace_package": getattr(imported, "__file__", None) is None,
        "modules_loaded": len(loaded),
        "frameworks_loaded": sorted(k for k, m in _FRAMEWORKS.items() if m in sys.modules),
        "aiobotocore_loaded": "aiobotocore" in sys.modules,
    }


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _driver(key: str, endpoint: str) -> Any:
    from benchmarks.contenders import CONTENDERS

    return CONTENDERS[key](endpoint)


async def _streams(driver: Any, count: int) -> dict[str, Any]:
    async def consume() -> int:
        return sum([1 async for _ in driver.astream("Stream for the memory test.")])

    await consume()  # warm-up: client built, code paths imported
    gc.collect()
    rss_before, max_before = _rss_kib(), _max_rss_kib()
    tracemalloc.start()
    start = time.perf_counter()
    chunks = await asyncio.gather(*(consume() for _ in range(count)))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if driver.aclose is not None:
        await driver.aclose()
    return {
        "streams": count,
        "chunks_per_stream": min(chunks),
        "tracemalloc_peak_kib": peak // 1024,
        "max_rss_growth_kib": max(0, _max_rss_kib() - max_before),
        "rss_before_kib": rss_before,
        "seconds": seconds,
    }


def _flat(driver: Any, calls: int) -> dict[str, Any]:
    warm_up = max(10, calls // 20)
    for _ in range(warm_up):
        driver.invoke("Say something short.")
    samples: list[dict[str, int]] = []
    step = max(1, calls // 10)
    for done in range(calls + 1):
        if done % step == 0:
            gc.collect()
            samples.append({"calls": done, "rss_kib": _rss_kib(), "objects": len(gc.get_objects())})
        if done < calls:
            driver.invoke("Say something short.")
    first, middle, last = samples[0], samples[len(samples) // 2], samples[-1]
    return {
        "calls": calls,
        "warm_up_calls": warm_up,
        "rss_growth_kib": last["rss_kib"] - first["rss_kib"],
        # The allocator settles during the first calls; a leak keeps growing after that.
        "rss_growth_second_half_kib": last["rss_kib"] - middle["rss_kib"],
        "object_growth": last["objects"] - first["objects"],
        "clients_built": driver.clients_built() if driver.clients_built else None,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("import").add_argument("module")
    memory = sub.add_parser("memory")
    memory.add_argument("key")
    memory.add_argument("stream_endpoint")
    memory.add_argument("streams", type=int)
    memory.add_argument("flat_endpoint")
    memory.add_argument("calls", type=int, help="0 skips the flatness check")
    args = parser.parse_args()
    if args.command == "import":
        result = _import(args.module)
        result["interpreter_start_to_import_s"] = time.perf_counter() - _START
    else:
        # Flatness first: the streams' tracemalloc run must not colour the RSS samples.
        flat = _flat(_driver(args.key, args.flat_endpoint), args.calls) if args.calls else None
        driver = _driver(args.key, args.stream_endpoint)
        result = {
            "contender": driver.name,
            "streams": asyncio.run(_streams(driver, args.streams)),
            "flat": flat,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
