"""Scenario 6: the Redis-shared budget and rate limiter: throughput, latency, cost per call.

* Ledger throughput: N processes (spawned, started together) each reserve and settle as
  fast as they can on one Redis budget; calls per second over all processes, and the
  latency of each step (p50, p99). The in-process store, one process, is the reference.
* Overhead per chat call: sequential ``ChatBedrockKit.invoke`` against LocalBedrock (its own
  process, no latency) without a ledger, with the in-process ledger and with the Redis one.
* Rate limiter: ``acquire`` plus ``settle`` on a Redis-shared limiter that never waits.

Needs ``redis-server`` (Debian's package); skipped with a reason without it.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.params import Params
from benchmarks.stats import median, ms

MODEL = "amazon.nova-micro-v1:0"
SPAWN = multiprocessing.get_context("spawn")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def _ledger(url: str | None, name: str) -> Any:
    from bedrock_kit.core.budget.ledger import Ledger
    from bedrock_kit.core.budget.redis_store import RedisStore

    store = RedisStore(url, name=name) if url else None
    return Ledger(store=store, count_tokens=False, max_cost="1000000")


def ledger_worker(url: str | None, name: str, ops: int, ready: Any, go: Any, results: Any) -> None:
    """Reserve and settle ``ops`` times as fast as possible; report latencies."""
    from bedrock_kit.core.chat.types import Usage

    ledger = _ledger(url, name)
    ledger.reserve(MODEL, 10, 10).settle(Usage(1, 1))  # connect and load the scripts
    ready.release()
    go.wait()
    reserve, settle = [], []
    started = time.perf_counter()
    for _ in range(ops):
        t0 = time.perf_counter()
        held = ledger.reserve(MODEL, 100, 100)
        t1 = time.perf_counter()
        held.settle(Usage(50, 20))
        settle.append(time.perf_counter() - t1)
        reserve.append(t1 - t0)
    ended = time.perf_counter()
    results.put({"started": started, "ended": ended, "reserve": reserve, "settle": settle})
    store = getattr(ledger.store, "close", None)
    if store is not None:
        store()


def _throughput(url: str | None, processes: int, ops: int) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    ready, go, results = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
    workers = [
        SPAWN.Process(target=ledger_worker, args=(url, name, ops, ready, go, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    go.set()
    found = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    # perf_counter is system-wide monotonic on Linux: the processes share one clock.
    window = max(r["ended"] for r in found) - min(r["started"] for r in found)
    reserve = [x for r in found for x in r["reserve"]]
    settle = [x for r in found for x in r["settle"]]
    check = _ledger(url, name)
    report = check.report()
    if url:
        check.store.clear()
        check.store.close()
    return {
        "processes": processes,
        "calls": len(reserve),
        "calls_per_second": round(len(reserve) / window, 1),
        "reserve_ms_p50": ms(_percentile(reserve, 0.5)),
        "reserve_ms_p99": ms(_percentile(reserve, 0.99)),
        "settle_ms_p50": ms(_percentile(settle, 0.5)),
        "settle_ms_p99": ms(_percentile(settle, 0.99)),
        "booked_calls": report.total.calls if url else None,
    }


def _per_call(endpoint: str, url: str, calls: int, reps: int) -> dict[str, Any]:
    from bedrock_kit.langchain import ChatBedrockKit

    name = f"bench-{uuid.uuid4().hex[:8]}"
    ledgers = {
        "no ledger": None,
        "in-process ledger": _ledger(None, name),
        "Redis ledger": _ledger(url, name),
    }
    models = {
        label: ChatBedrockKit(
            model=MODEL, endpoint_url=endpoint, region_name="us-east-1", max_tokens=50, ledger=led
        )
        for label, led in ledgers.items()
    }
    for model in models.values():
        for _ in range(5):
            model.invoke("warm up")
    walls: dict[str, list[float]] = {label: [] for label in models}
    for _ in range(reps):
        for label, model in models.items():
            started = time.perf_counter()
            for _ in range(calls):
                model.invoke("Say something short.")
            walls[label].append((time.perf_counter() - started) / calls)
    base = median(walls["no ledger"])
    redis_ledger = ledgers["Redis ledger"]
    redis_ledger.store.clear()
    redis_ledger.store.close()
    return {
        label: {
            "ms_per_call": ms(median(values)),
            "ms_beyond_no_ledger": ms(median(values) - base),
        }
        for label, values in walls.items()
    }


def _limiter(url: str, ops: int) -> dict[str, Any]:
    from bedrock_kit.core.budget.rate_limit import RateLimiter
    from bedrock_kit.core.budget.redis_rates import RedisRates

    state = RedisRates(url, name=f"bench-{uuid.uuid4().hex[:8]}")
    limiter = RateLimiter(tokens_per_minute=10**12, requests_per_minute=10**12, state=state)
    steps = []
    for _ in range(ops):
        started = time.perf_counter()
        limiter.acquire(MODEL, 200).settle(120)
        steps.append(time.perf_counter() - started)
    state.clear()
    return {"ops": ops, "acquire_settle_ms_p50": ms(_percentile(steps, 0.5)),
            "acquire_settle_ms_p99": ms(_percentile(steps, 0.99))}  # fmt: skip


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Throughput and latency of the shared ledger and limiter, and their cost per call."""
    del only  # one contender: bedrock-kit's own stores
    from bedrock_kit.testing.redis_server import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        return {"skipped": "redis-server is not installed (apt-get install -y redis-server)"}
    with RedisServer() as redis:
        memory = _throughput(None, 1, params.budget_ops)
        single = _throughput(redis.url, 1, params.budget_ops)
        shared = _throughput(redis.url, params.budget_processes, params.budget_ops)
        limiter = _limiter(redis.url, params.budget_ops)
        with ServerProcess(ServerConfig(latency=0.0)) as server:
            per_call = _per_call(
                server.endpoint_url, redis.url, params.sync_calls, params.sync_reps
            )
    return {
        "ledger_throughput": {
            "in-process, 1 process": memory,
            "Redis, 1 process": single,
            f"Redis, {params.budget_processes} processes": shared,
        },
        "per_chat_call": per_call,
        "rate_limiter": limiter,
    }
