"""Scenario 1: N concurrent ``ainvoke``/``achat`` calls against a server with fixed latency.

Each repetition runs ``waves`` waves of N calls; the N calls of a wave are started together
and the next wave starts when all of them are done, so N is exactly the concurrency.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import Driver, aclose_all, build_all, describe
from benchmarks.params import Params
from benchmarks.stats import median, ms, percentile, rotations

PROMPT = "How tall is the tallest tide?"


async def _waves(driver: Driver, n: int, waves: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one() -> None:
        start = time.perf_counter()
        await driver.ainvoke(PROMPT)
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    for _ in range(waves):
        await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - start, latencies


async def _measure(drivers: list[Driver], params: Params) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {d.name: {} for d in drivers}
    for n in params.concurrency:
        waves = max(1, math.ceil(params.min_requests / n))
        for driver in drivers:  # warm-up: opens the connections this N needs
            await _waves(driver, min(n, 64), 1)
        walls: dict[str, list[float]] = {d.name: [] for d in drivers}
        latencies: dict[str, list[float]] = {d.name: [] for d in drivers}
        for _, order in rotations(drivers, params.concurrency_reps):
            for driver in order:
                wall, lat = await _waves(driver, n, waves)
                walls[driver.name].append(wall)
                latencies[driver.name].extend(lat)
        for driver in drivers:
            rps = [n * waves / wall for wall in walls[driver.name]]
            results[driver.name][str(n)] = {
                "requests_per_rep": n * waves,
                "rps_median": round(median(rps), 2),
                "rps_reps": [round(r, 2) for r in rps],
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
        "skipped": skipped,
        "contender_settings": describe(drivers),
        "results": results,
    }
