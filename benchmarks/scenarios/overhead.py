"""Scenario 2: sequential sync ``invoke`` at zero server latency: wall and CPU per call.

The server runs in another process, so ``time.process_time`` here is the client's own CPU:
the difference to raw boto3 is what the framework layer costs per call.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import Driver, build_all, describe
from benchmarks.params import Params
from benchmarks.stats import median, ms, paired_summary, python_calls, ratio, rotations

PROMPT = "Say something short."
_WARM_UP = 20


def _calls(driver: Driver, count: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        driver.invoke(PROMPT)
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Median wall and CPU time per call, and their ratio/excess over the floor."""
    with ServerProcess(ServerConfig(latency=0.0)) as server:
        drivers, skipped = build_all(server.endpoint_url, only)
        for driver in drivers:
            _calls(driver, min(_WARM_UP, params.sync_calls))
        walls: dict[str, list[float]] = {d.name: [] for d in drivers}
        cpus: dict[str, list[float]] = {d.name: [] for d in drivers}
        for _, order in rotations(drivers, params.sync_reps):
            for driver in order:
                wall, cpu = _calls(driver, params.sync_calls)
                walls[driver.name].append(wall)
                cpus[driver.name].append(cpu)
        counted = {d.name: python_calls(lambda d=d: d.invoke(PROMPT), 20) for d in drivers}
    floor = drivers[0].name
    floor_wall, floor_cpu = median(walls[floor]), median(cpus[floor])
    results = {}
    for driver in drivers:
        wall, cpu = median(walls[driver.name]), median(cpus[driver.name])
        results[driver.name] = {
            "wall_ms_per_call": ms(wall),
            "cpu_ms_per_call": ms(cpu),
            "wall_ratio_vs_floor": round(ratio(wall, floor_wall), 3),
            "cpu_ratio_vs_floor": round(ratio(cpu, floor_cpu), 3),
            "wall_ratio_vs_floor_paired": paired_summary(walls[driver.name], walls[floor]),
            "cpu_ratio_vs_floor_paired": paired_summary(cpus[driver.name], cpus[floor]),
            "cpu_ms_beyond_floor": ms(cpu - floor_cpu),
            "python_calls_per_call": round(counted[driver.name]),
            "python_calls_beyond_floor": round(counted[driver.name] - counted[floor]),
            "wall_ms_reps": [ms(w) for w in walls[driver.name]],
            "cpu_ms_reps": [ms(c) for c in cpus[driver.name]],
        }
    return {
        "server": {"latency_s": 0.0},
        "calls_per_rep": params.sync_calls,
        "floor": floor,
        "skipped": skipped,
        "contender_settings": describe(drivers),
        "results": results,
    }
