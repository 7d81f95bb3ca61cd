"""Python function calls per streamed chunk: a deterministic ceiling for the adapters.

Host load cannot skew a call count, so it guards the per-chunk cost that issue 18 measures
(streaming CPU per chunk through ChatBedrockKit at most raw botocore's event-stream
iteration). Each contender streams two answers of different lengths from LocalBedrock;
the difference in calls divided by the difference in deltas is the cost of one chunk,
free of the per-request cost. Measured this way on this tree (langchain-core 1.8,
llama-index-core 0.14, botocore 1.43), calls per chunk before -> after issue 18's streaming
work: raw boto3 event stream 187 -> 187, bare lean transport 133 -> 72, langchain-core floor
over the lean transport (a minimal BaseChatModel) 203 -> 142, core ConverseRuntime 187 -> 78,
ChatBedrockKit 265 -> 135, BedrockKitLLM 247 -> 126.

The count runs in a fresh interpreter: in a test session, other tests leave process-wide
state behind (an OpenTelemetry tracer provider, LlamaIndex event handlers) that adds work to
every chunk and is not what the ceiling is about.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHUNK_TOKENS = 4
SHORT, LONG = 50, 250  # text deltas per answer

# Ceilings: the measured count plus about 10 % for other versions of the frameworks.
CEILINGS = {
    "kit-langchain": 150,
    "kit-llama-index": 135,  # 126 -> 122-125: no ledger-tag wrapper, one build per chunk
}
FLOORS = ("raw", "lean", "langchain-floor-lean")


def _calls(key: str, endpoint: str) -> int | None:
    from benchmarks.contenders import CONTENDERS

    try:
        driver = CONTENDERS[key](endpoint)
    except ImportError:
        return None
    assert sum(1 for _ in driver.stream("x")) > 0  # warm: clients, connections, caches
    profile = cProfile.Profile()
    profile.enable()
    chunks = sum(1 for _ in driver.stream("x"))
    profile.disable()
    assert chunks >= SHORT
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def measure() -> dict[str, float | None]:
    """Calls per chunk of every contender (None: not installed)."""
    from bedrock_kit.testing import LocalBedrock

    out: dict[str, float | None] = {}
    with (
        LocalBedrock(answer_tokens=SHORT * CHUNK_TOKENS, chunk_tokens=CHUNK_TOKENS) as short,
        LocalBedrock(answer_tokens=LONG * CHUNK_TOKENS, chunk_tokens=CHUNK_TOKENS) as long,
    ):
        for key in (*FLOORS, *CEILINGS):
            few, many = _calls(key, short.endpoint_url), _calls(key, long.endpoint_url)
            out[key] = None if few is None or many is None else (many - few) / (LONG - SHORT)
    return out


@pytest.fixture(scope="module")
def measured() -> dict[str, float]:
    from benchmarks._server import child_env

    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    numbers: dict[str, float | None] = json.loads(completed.stdout.strip().splitlines()[-1])
    missing = [k for k, v in numbers.items() if v is None]
    if missing:
        pytest.skip(f"not installed: {missing}")
    return {k: v for k, v in numbers.items() if v is not None}


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


if __name__ == "__main__":
    print(json.dumps(measure()))
