"""Python function calls per streamed chunk: a deterministic ceiling for the adapters.

Host load cannot skew a call count, so it guards the per-chunk cost that issue 18 measures
(streaming CPU per chunk through ChatBedrockKit at most raw botocore's event-stream
iteration). Each contender streams two answers of different lengths from LocalBedrock;
the difference in calls divided by the difference in deltas is the cost of one chunk,
free of the per-request cost. Measured this way on this tree (langchain-core 1.8,
llama-index-core 0.14, botocore 1.43), calls per chunk before -> after issue 18's streaming
work: raw boto3 event stream 187 -> 187, bare lean transport 133 -> 81, langchain-core floor
over the lean transport (a minimal BaseChatModel) 203 -> 151, core ConverseRuntime 187 -> 89,
ChatBedrockKit 265 -> 144, BedrockKitLLM 247 -> 136.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Iterator

import pytest

from bedrock_kit.testing import LocalBedrock
from benchmarks.contenders import CONTENDERS

CHUNK_TOKENS = 4
SHORT, LONG = 50, 250  # text deltas per answer

# Ceilings: the measured count plus about 10 % for other versions of the frameworks.
CEILINGS = {
    "kit-langchain": 160,
    "kit-llama-index": 150,
}
FLOORS = ("raw", "lean", "langchain-floor-lean")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalBedrock, LocalBedrock]]:
    with (
        LocalBedrock(answer_tokens=SHORT * CHUNK_TOKENS, chunk_tokens=CHUNK_TOKENS) as short,
        LocalBedrock(answer_tokens=LONG * CHUNK_TOKENS, chunk_tokens=CHUNK_TOKENS) as long,
    ):
        yield short, long


def _calls(key: str, endpoint: str) -> int:
    try:
        driver = CONTENDERS[key](endpoint)
    except ImportError as exc:
        pytest.skip(f"{key} not installed: {exc}")
    assert sum(1 for _ in driver.stream("x")) > 0  # warm: clients, connections, caches
    profile = cProfile.Profile()
    profile.enable()
    chunks = sum(1 for _ in driver.stream("x"))
    profile.disable()
    assert chunks >= SHORT
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def _per_chunk(key: str, servers: tuple[LocalBedrock, LocalBedrock]) -> float:
    short, long = (_calls(key, s.endpoint_url) for s in servers)
    return (long - short) / (LONG - SHORT)


@pytest.fixture(scope="module")
def measured(servers: tuple[LocalBedrock, LocalBedrock]) -> dict[str, float]:
    return {key: _per_chunk(key, servers) for key in (*FLOORS, *CEILINGS)}


@pytest.mark.parametrize("key", sorted(CEILINGS))
def test_calls_per_chunk_stay_under_the_ceiling(key: str, measured: dict[str, float]) -> None:
    numbers = ", ".join(f"{k} {v:.1f}" for k, v in measured.items())
    assert measured[key] <= CEILINGS[key], f"{key}: calls per chunk over its ceiling ({numbers})"
    # The target of issue 18: no more per-chunk work than botocore's own event stream.
    assert measured[key] <= measured["raw"], f"{key} costs more than raw botocore ({numbers})"


def test_bedrock_kit_adds_little_to_the_framework_floor(measured: dict[str, float]) -> None:
    numbers = ", ".join(f"{k} {v:.1f}" for k, v in measured.items())
    # ChatBedrockKit on top of the lean transport costs no more per chunk than the least a
    # BaseChatModel does over the same transport (its chunks skip re-validation).
    assert measured["kit-langchain"] <= measured["langchain-floor-lean"] + 5, numbers
    assert measured["lean"] < 0.6 * measured["raw"], numbers
