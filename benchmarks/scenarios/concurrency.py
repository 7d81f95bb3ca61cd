"""Scenario 1: N concurrent ``ainvoke``/``achat`` calls against a server with fixed latency.

A closed loop: N workers each send one call after another for ``concurrency_seconds``, so N
calls are in flight at every moment until the end, when each worker finishes the call it has
started. Throughput is the calls completed over the time from the start to the last answer.
(The first rounds used waves of N calls started together, the next wave after the slowest
one: at N=256 one wave took under a second and its slowest call set the figure, so one
repetition differed from the next by up to 3x.) The warm-up runs at the same N, so every
repetition finds the connections open. The ratio to raw aiobotocore is taken per
repetition (see :func:`benchmarks.stats.paired`) and reported with its median and interval.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import Driver, aclose_all, build_all, describe
from benchmarks.params import Params
from benchmarks.stats import median, ms, paired_summary, percentile, rotations

PROMPT = "How tall is the tallest tide?"


async def _closed_loop(driver: Driver, n: int, seconds: float) -> tuple[float, int, list[float]]:
    """(seconds from the start to the last answer, calls completed, each call's latency)."""
    latencies: list[float] = []
    start = time.perf_counter()
    stop = start + seconds

    async def worker() -> None:
        while True:
            began = time.perf_counter()
            await driver.ainvoke(PROMPT)
            done = time.perf_counter()
            latencies.append(done - began)
            if done >= stop:
                return

    await asyncio.gather(*(worker() for _ in range(n)))
    return time.perf_counter() - start, len(latencies), latencies


async def _measure(drivers: list[Driver], params: Params) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {d.name: {} for d in drivers}
    seconds = params.concurrency_seconds
    for n in params.concurrency:
        for driver in drivers:  # warm-up at this N: opens the connections it needs
            await _closed_loop(driver, n, 0.0)
        rps: dict[str, list[float]] = {d.name: [] for d in drivers}
        calls: dict[str, list[int]] = {d.name: [] for d in drivers}
        latencies: dict[str, list[float]] = {d.name: [] for d in drivers}
        for _, order in rotations(drivers, params.concurrency_reps):
            for driver in order:
                wall, done, lat = await _closed_loop(driver, n, seconds)
                rps[driver.name].append(done / wall)
                calls[driver.name].append(done)
                latencies[driver.name].extend(lat)
        floor = rps[drivers[0].name]
        for driver in drivers:
            mine = rps[driver.name]
            results[driver.name][str(n)] = {
                "calls_per_rep": calls[driver.name],
                "rps_median": round(median(mine), 2),
                "rps_reps": [round(r, 2) for r in mine],
                "ratio_vs_floor_paired": paired_summary(mine, floor),
                "p50_ms": ms(percentile(latencies[driver.name], 50)),
                "p99_ms": ms(percentile(latencies[driver.name], 99)),
            }
    await aclose_all(drivers)
    return results


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Requests per second and p50/p99 latency per contender and concurrency."""
    config = ServerConfig(latency=params.concurrency_latency)
    with ServerProcess(config) as server:
        drivers, skipped = build_all(server.endpoint_url, only)
        results = asyncio.run(_measure(drivers, params))
    return {
        "server": {"latency_s": config.latency, "answer": "echo of the prompt"},
        "concurrency": list(params.concurrency),
        "method": (
            f"closed loop: N workers, each calling again until {params.concurrency_seconds} s "
            f"have passed; {params.concurrency_reps} repetitions, contenders alternating"
        ),
        "skipped": skipped,
        "contender_settings": describe(drivers),
        "results": results,
    }
