"""Scenario 6: where a call's time goes, layer by layer (cProfile, one call at a time).

Every Python function a call runs is attributed to the layer its file belongs to (bedrock-kit
transport, bedrock-kit's core and adapters, botocore, urllib3, aiohttp, http.client and
email, asyncio, langchain-core, pydantic, LlamaIndex, other standard library); C functions
(``isinstance``, ``dict.get``...) are counted apart as ``builtins``. Reported per call: the
function calls of each layer and its share of the profiled own time. Function calls are a
CPU-cost measure host load does not skew; the time shares carry cProfile's overhead, which
inflates layers of many small calls, so read them together. Client CPU per call is measured
apart, without the profiler.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sysconfig
import time
from collections import Counter
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.contenders import Driver, aclose_all, build_all, describe
from benchmarks.params import Params

PROMPT = "Say something short."
_STDLIB = sysconfig.get_paths()["stdlib"]
_LAYERS = (
    ("/bedrock_kit/core/transport/", "bedrock-kit transport"),
    ("/bedrock_kit/langchain/", "bedrock-kit adapter"),
    ("/bedrock_kit/llama_index/", "bedrock-kit adapter"),
    ("/bedrock_kit/", "bedrock-kit core"),
    ("/benchmarks/", "benchmark harness"),
    ("/botocore/", "botocore"),
    ("/boto3/", "botocore"),
    ("/aiobotocore/", "aiobotocore"),
    ("/urllib3/", "urllib3"),
    ("/aiohttp/", "aiohttp"),
    ("/yarl/", "aiohttp"),
    ("/multidict/", "aiohttp"),
    ("/langchain_core/", "langchain-core"),
    ("/langsmith/", "langchain-core"),
    ("/pydantic/", "pydantic"),
    ("/pydantic_core/", "pydantic"),
    ("/llama_index/", "llama-index"),
    ("/http/client.py", "http.client + email"),
    ("/email/", "http.client + email"),
    ("/asyncio/", "asyncio"),
)
CALLS = 30
"""Profiled calls per contender and mode (after a warm-up), at most."""


def layer_of(filename: str) -> str:
    """The layer of a profiled function's file (``~`` is cProfile's name for C code)."""
    if filename == "~" or filename.startswith("<"):
        return "builtins"
    path = filename.replace("\\", "/")
    for marker, layer in _LAYERS:
        if marker in path:
            return layer
    return "other stdlib" if path.startswith(_STDLIB) else "other"


def _profile(action: Any, count: int) -> tuple[Counter[str], Counter[str]]:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        action()
    profile.disable()
    calls: Counter[str] = Counter()
    own: Counter[str] = Counter()
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, total_calls, own_time, _, _) in stats.items():
        layer = layer_of(filename)
        calls[layer] += total_calls
        own[layer] += own_time
    return calls, own


def _summary(profiled: tuple[Counter[str], Counter[str]], count: int) -> dict[str, Any]:
    calls, own = profiled
    total_time = sum(own.values()) or 1.0
    return {
        "calls_per_call": round(sum(calls.values()) / count),
        "layers": {
            layer: {
                "calls": round(number / count),
                "time_share": round(own[layer] / total_time, 3),
            }
            for layer, number in calls.most_common()
        },
    }


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Function calls and own-time share per layer, for one sync and one async call."""
    count = min(CALLS, params.sync_calls)
    with ServerProcess(ServerConfig(latency=0.0)) as server:
        drivers, skipped = build_all(server.endpoint_url, only)
        loop = asyncio.new_event_loop()
        try:
            results: dict[str, Any] = {}
            for driver in drivers:
                results[driver.name] = _measure(driver, loop, count)
            loop.run_until_complete(aclose_all(drivers))
        finally:
            loop.close()
    return {
        "calls_profiled": count,
        "skipped": skipped,
        "contender_settings": describe(drivers),
        "results": results,
    }


def _cpu_ms(action: Any, count: int) -> float:
    """Client CPU per call, unprofiled (the server runs in another process)."""
    began = time.process_time()
    for _ in range(count):
        action()
    return round((time.process_time() - began) / count * 1000, 4)


def _measure(driver: Driver, loop: asyncio.AbstractEventLoop, count: int) -> dict[str, Any]:
    sync_call = lambda: driver.invoke(PROMPT)  # noqa: E731
    async_call = lambda: loop.run_until_complete(driver.ainvoke(PROMPT))  # noqa: E731
    sync_call()
    async_call()
    measured: dict[str, Any] = {}
    for mode, action in (("invoke", sync_call), ("ainvoke", async_call)):
        cpu = _cpu_ms(action, count)
        measured[mode] = {**_summary(_profile(action, count), count), "cpu_ms_per_call": cpu}
    return measured
