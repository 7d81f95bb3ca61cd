"""Stream guard cost and first-token latency: windowed vs per-chunk ApplyGuardrail checks.

A streamed answer of ``--characters`` characters arrives in ``--chunk`` character chunks
(one every ``--chunk-interval`` seconds, like a model streaming). Both guards call
ApplyGuardrail on a LocalBedrock that answers after ``--latency`` seconds (real HTTP, real
boto3). Reported: ApplyGuardrail calls, text units billed per policy (``ceil(chars/1000)``
per call), time to the first released text, and total time.

Run from the project root::

    PYTHONPATH=. python benchmarks/guardrail_stream_guard.py --characters 20000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.guardrails.stream_guard import StreamGuard
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock, Reply

_NONE = {"action": "NONE", "outputs": [], "assessments": [], "usage": {"topicPolicyUnits": 1}}


def _answer(characters: int) -> str:
    sentence = "The guard holds text back until Bedrock has checked it. "
    return (sentence * (characters // len(sentence) + 1))[:characters]


def _model(text: str, chunk: int, interval: float) -> Iterator[str]:
    for start in range(0, len(text), chunk):
        if interval:
            time.sleep(interval)
        yield text[start : start + chunk]


def _run(
    server: LocalBedrock, text: str, args: argparse.Namespace, **options: int
) -> dict[str, float]:
    server.clear()
    server.script("ApplyGuardrail", *[Reply.json(_NONE) for _ in range(len(text) + 1)])
    settings = ClientSettings(
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="AKIDLOCALBEDROCK",  # LocalBedrock does not check signatures
        aws_secret_access_key="not-a-secret",
    )
    guard = StreamGuard(GuardrailClient("bench", "1", settings=settings), **options)
    guard.client.apply("warm-up", source="OUTPUT")  # client creation is not what we measure
    server.clear()
    server.script("ApplyGuardrail", *[Reply.json(_NONE) for _ in range(len(text) + 1)])
    start = time.perf_counter()
    first = None
    released = 0
    for piece in guard.guard(_model(text, args.chunk, args.chunk_interval)):
        first = first if first is not None else time.perf_counter() - start
        released += len(piece)
    assert released == len(text), "the guard must release exactly the streamed text"
    return {
        "calls": guard.stats.calls,
        "text_units": guard.stats.text_units,
        "requests_seen": len(server.requests_for("ApplyGuardrail")),
        "first_text_s": first or 0.0,
        "total_s": time.perf_counter() - start,
    }


def main() -> None:
    """Run both guards and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--characters", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=5)
    parser.add_argument("--chunk-interval", type=float, default=0.001)
    parser.add_argument("--latency", type=float, default=0.02, help="ApplyGuardrail latency (s)")
    args = parser.parse_args()
    text = _answer(args.characters)
    with LocalBedrock(latency=args.latency) as server:
        rows = {
            "windowed (1000, overlap 50)": _run(server, text, args),
            "windowed, first window 200": _run(server, text, args, first_window_size=200),
            f"per-chunk ({args.chunk} chars)": _run(
                server, text, args, window_size=args.chunk, overlap=0
            ),
        }
    print(
        f"{args.characters} characters in {args.chunk}-character chunks, one every "
        f"{args.chunk_interval * 1000:.1f} ms; ApplyGuardrail latency {args.latency * 1000:.0f} ms"
    )
    print(f"{'guard':32} {'calls':>6} {'units':>6} {'first text':>11} {'total':>9}")
    for name, row in rows.items():
        print(
            f"{name:32} {row['calls']:6.0f} {row['text_units']:6.0f} "
            f"{row['first_text_s'] * 1000:9.0f}ms {row['total_s']:8.2f}s"
        )


if __name__ == "__main__":
    main()
