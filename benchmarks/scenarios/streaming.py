"""Scenario 3: one long streamed answer in small chunks, sync ``stream`` and ``astream``.

Time to first token is measured to the first non-empty text chunk the caller sees, as wall
time and as this process's CPU time (the part a library controls; wall time on a busy host
also carries scheduling delays of the server and the client). CPU per chunk divides the
client's CPU time for the whole stream by the number of text deltas the server sent, the same
denominator for every contender.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import Driver, aclose_all, build_all, describe
from benchmarks.params import Params
from benchmarks.stats import (
    difference_summary,
    median,
    ms,
    paired_summary,
    python_calls,
    ratio,
    rotations,
)

PROMPT = "Tell me a long story."


Sample = tuple[float, float, float, int, float]
"""(TTFT wall, total wall, total CPU, chunks, TTFT CPU), in seconds."""


def _sync_stream(driver: Driver) -> Sample:
    first = first_cpu = 0.0
    chunks = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in driver.stream(PROMPT):
        if not chunks:
            first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        chunks += 1
    return first, time.perf_counter() - start, time.process_time() - cpu, chunks, first_cpu


async def _async_stream(driver: Driver) -> Sample:
    first = first_cpu = 0.0
    chunks = 0
    start, cpu = time.perf_counter(), time.process_time()
    async for _ in driver.astream(PROMPT):
        if not chunks:
            first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        chunks += 1
    return first, time.perf_counter() - start, time.process_time() - cpu, chunks, first_cpu


async def _measure(drivers: list[Driver], params: Params) -> dict[str, dict[str, list[Sample]]]:
    samples: dict[str, dict[str, list[Sample]]] = {
        d.name: {"stream": [], "astream": []} for d in drivers
    }
    for driver in drivers:
        _sync_stream(driver)
        await _async_stream(driver)
    for _, order in rotations(drivers, params.stream_reps):
        for driver in order:
            samples[driver.name]["stream"].append(_sync_stream(driver))
            samples[driver.name]["astream"].append(await _async_stream(driver))
    await aclose_all(drivers)
    return samples


def _count_calls(drivers: list[Driver], chunks_sent: int) -> dict[str, float]:
    """Python function calls per chunk of a sync stream."""
    # One stream first, outside the count: the async pass closed every driver's clients
    # (aclose_all), and rebuilding one is a per-client cost, not a per-chunk one.
    for driver in drivers:
        sum(1 for _ in driver.stream(PROMPT))
    return {
        d.name: python_calls(lambda d=d: sum(1 for _ in d.stream(PROMPT)), 2) / chunks_sent
        for d in drivers
    }


def _summary(
    samples: list[Sample], chunks_sent: int, floor_samples: list[Sample]
) -> dict[str, Any]:
    """Medians of one contender's samples, and each against the floor's.

    Sample ``i`` of the contender and of the floor come from the same rotation, streamed
    back to back, so the ``_paired`` entries (the median of the per-repetition ratios or
    differences, with a bootstrap 95% interval) cancel the host's drift between rotations
    that a ratio or difference of two medians keeps.
    """
    ttft = median([s[0] for s in samples])
    ttft_cpu = median([s[4] for s in samples])
    total = median([s[1] for s in samples])
    cpu_chunk = median([s[2] for s in samples]) / chunks_sent
    floor_ttft = median([s[0] for s in floor_samples])
    floor_ttft_cpu = median([s[4] for s in floor_samples])
    floor_cpu_chunk = median([s[2] for s in floor_samples]) / chunks_sent
    return {
        "ttft_ms": ms(ttft),
        "ttft_ms_beyond_floor": ms(ttft - floor_ttft),
        "ttft_ms_beyond_floor_paired": difference_summary(
            [ms(s[0]) for s in samples], [ms(s[0]) for s in floor_samples]
        ),
        "ttft_cpu_ms": ms(ttft_cpu),
        "ttft_cpu_ms_beyond_floor": ms(ttft_cpu - floor_ttft_cpu),
        "ttft_cpu_ms_beyond_floor_paired": difference_summary(
            [ms(s[4]) for s in samples], [ms(s[4]) for s in floor_samples]
        ),
        "total_ms": ms(total),
        "cpu_us_per_chunk": round(cpu_chunk * 1e6, 2),
        "cpu_per_chunk_ratio_vs_floor": round(ratio(cpu_chunk, floor_cpu_chunk), 3),
        "cpu_per_chunk_ratio_paired": paired_summary(
            [s[2] for s in samples], [s[2] for s in floor_samples]
        ),
        "chunks_seen": samples[-1][3],
    }


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """TTFT, total time and CPU per chunk per contender, for stream and astream."""
    config = ServerConfig(answer_tokens=params.stream_tokens, chunk_tokens=params.chunk_tokens)
    chunks_sent = -(-params.stream_tokens // params.chunk_tokens)
    with ServerProcess(config) as server:
        drivers, skipped = build_all(server.endpoint_url, only)
        samples = asyncio.run(_measure(drivers, params))
        calls = _count_calls(drivers, chunks_sent)
    floor_name = drivers[0].name
    results: dict[str, dict[str, Any]] = {d.name: {} for d in drivers}
    for mode in ("stream", "astream"):
        for driver in drivers:
            results[driver.name][mode] = _summary(
                samples[driver.name][mode], chunks_sent, samples[floor_name][mode]
            )
    return {
        "server": {
            "latency_s": 0.0,
            "answer_tokens": params.stream_tokens,
            "chunk_tokens": params.chunk_tokens,
            "text_deltas_sent": chunks_sent,
        },
        "floor": floor_name,
        "python_calls_per_chunk": {name: round(value, 1) for name, value in calls.items()},
        "skipped": skipped,
        "contender_settings": describe(drivers),
        "results": results,
    }
