"""Scenario 5: peak memory of many concurrent streams; memory flat over many calls.

Each measurement runs in a fresh interpreter so one contender's heap never counts against
another. Peak is tracemalloc's Python-heap high-water mark during the streams, plus the
growth of the process's maximum RSS.
"""

from __future__ import annotations

from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.children import run_child
from benchmarks.contenders import CONTENDERS
from benchmarks.params import Params

FLAT_CONTENDERS = {"raw": 5, "kit-langchain": 1, "kit-llama-index": 1}
"""Flatness is bedrock-kit's claim; the floor runs a fifth of the calls, as the reference."""


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Peak memory per contender for concurrent astreams; growth over sequential invokes."""
    keys = [
        k
        for k in CONTENDERS
        if (not only or k in only)
        and (params.memory_contenders is None or k in params.memory_contenders)
    ]
    streams: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    config = ServerConfig(
        latency=0.05, answer_tokens=params.memory_stream_tokens, chunk_tokens=params.chunk_tokens
    )
    with ServerProcess(config) as stream_server, ServerProcess(ServerConfig()) as flat_server:
        for key in keys:
            share = FLAT_CONTENDERS.get(key)
            calls = params.flat_calls // share if share else 0
            result = run_child(
                "memory",
                key,
                stream_server.endpoint_url,
                str(params.memory_streams),
                flat_server.endpoint_url,
                str(calls),
            )
            if "error" in result:
                skipped[key] = result["error"]
                continue
            streams[result["contender"]] = result["streams"]
            if result["flat"] is not None:
                flat[result["contender"]] = result["flat"]
    return {
        "server": {
            "latency_s": config.latency,
            "answer_tokens": params.memory_stream_tokens,
            "chunk_tokens": params.chunk_tokens,
        },
        "streams": streams,
        "flat": flat,
        "skipped": skipped,
    }
