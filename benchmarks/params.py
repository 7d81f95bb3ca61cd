"""Scenario sizes for the full run and for ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    """Every size the scenarios use; :data:`FULL` and :data:`QUICK` are the two presets."""

    reps: int
    """Timed repetitions per contender (alternating order), after one warm-up."""
    concurrency_reps: int
    """Timed repetitions per contender and N in scenario 1 (the slowest scenario)."""
    concurrency: tuple[int, ...]
    """Concurrent ainvoke calls (scenario 1)."""
    concurrency_latency: float
    """Server latency in seconds for scenario 1."""
    concurrency_seconds: float
    """Each concurrency repetition keeps N calls in flight this long (a closed loop)."""
    sync_reps: int
    """Repetitions of scenario 2: many short ones, so load bursts on a shared host hit all."""
    sync_calls: int
    """Sequential invokes per repetition (scenario 2)."""
    stream_reps: int
    """Repetitions of scenario 3 (cheap, so many: medians steady on a busy host)."""
    stream_tokens: int
    """Length of the streamed answer (scenario 3)."""
    chunk_tokens: int
    """Tokens per streamed chunk (scenarios 3 and 5)."""
    import_reps: int
    """Fresh interpreters per imported module (scenario 4)."""
    construct_reps: int
    """Chat-model constructions timed per contender (scenario 4)."""
    count_calls: int
    """Calls made while counting clients built (scenario 4)."""
    memory_streams: int
    """Concurrent astreams whose peak memory is measured (scenario 5)."""
    memory_stream_tokens: int
    """Answer length of each of those streams."""
    flat_calls: int
    """Sequential invokes over which memory must stay flat (scenario 5)."""
    share_blocks: int
    """Blocks per adapter and floor in scenario 8 (own share): each block runs both back to
    back and gives one paired share, so many short ones."""
    share_calls: int
    """Sequential invokes per side and block (scenario 8)."""
    import_modules: tuple[str, ...] | None = None
    """Modules timed in scenario 4; None times every module of the scenario."""
    memory_contenders: tuple[str, ...] | None = None
    """Contender keys measured in scenario 5 (a fresh interpreter each); None for all."""
    budget_ops: int = 2000
    """Reserve-and-settle cycles per process (scenario 6)."""
    budget_processes: int = 8
    """Processes sharing one Redis budget (scenario 6)."""


FULL = Params(
    reps=5,
    concurrency_reps=5,
    concurrency=(1, 16, 64, 128, 256),
    concurrency_latency=0.1,
    concurrency_seconds=1.0,
    sync_reps=30,
    sync_calls=50,
    stream_reps=21,
    stream_tokens=2000,
    chunk_tokens=4,
    import_reps=3,
    construct_reps=5,
    count_calls=100,
    memory_streams=256,
    memory_stream_tokens=200,
    flat_calls=10_000,
    share_blocks=120,
    share_calls=20,
)

QUICK = Params(
    reps=2,
    concurrency_reps=2,
    concurrency=(1, 8),
    concurrency_latency=0.02,
    concurrency_seconds=0.05,
    sync_reps=2,
    sync_calls=10,
    stream_reps=2,
    stream_tokens=80,
    chunk_tokens=4,
    import_reps=1,
    construct_reps=1,
    count_calls=5,
    memory_streams=8,
    memory_stream_tokens=40,
    flat_calls=100,
    share_blocks=4,
    share_calls=5,
    # Fresh interpreters importing LangChain or LlamaIndex take seconds each: the smoke run
    # keeps to the floor and bedrock-kit.
    import_modules=("bedrock_kit", "bedrock_kit.langchain", "bedrock_kit.llama_index"),
    memory_contenders=("raw", "kit-langchain"),
    budget_ops=50,
    budget_processes=2,
)
