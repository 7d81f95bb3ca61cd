"""Soak test: many mixed ChatBedrockKit calls with random faults against LocalBedrock.

Usage::

    python benchmarks/soak.py [--calls 10000] [--seconds 900] [--threads 8] [--tasks 16]

Calls run on a thread pool (invoke/stream) and on an asyncio loop (ainvoke/astream) at the
same time, all against one in-process LocalBedrock on 127.0.0.1, with a budget Ledger
attached through TokenBudgetCallbackHandler. Each call's fault is chosen up front and
written into its prompt; the server's default reply reads it back, so every call gets its
own fault however the requests interleave.

Invariants (exit status 1 if any fails): every call ends as a success or a typed
BedrockKitError; no untyped error; no call whose fault should fail it succeeds; no
reservation left open; RSS, open file descriptors and threads flat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.errors import BedrockKitError
from bedrock_kit.langchain import ChatBedrockKit, TokenBudgetCallbackHandler
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
ANSWER = "soak answer in a few small pieces"
# fault -> (weight, should the call succeed)
FAULTS: dict[str, tuple[int, bool]] = {
    "ok": (50, True),
    "delay": (5, True),
    "retry": (10, True),  # one 429, then the answer (model with max_retries=2)
    "throttle": (10, False),  # 429 with max_retries=0
    "server": (8, False),  # 500
    "truncate": (8, False),  # stream cut mid-way / body reset mid-way
    "exception": (9, False),  # in-stream exception (invoke modes: 503)
}
_POOL = 10  # botocore's default max_pool_connections
_TAG = re.compile(r"soak-(\d+)-(\w+)")

# ------------------------------------------------------------------ the server side


class _Faults:
    """The server's default reply: the fault named in the prompt, per call."""

    def __init__(self) -> None:
        self._attempts: Counter[int] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: ReceivedRequest) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        text = str(body.get("messages", [{}])[-1].get("content", [{}])[0].get("text", ""))
        match = _TAG.search(text)
        stream = request.operation == "ConverseStream"
        if match is None:
            return self._ok(stream)
        call, fault = int(match.group(1)), match.group(2)
        with self._lock:
            self._attempts[call] += 1
            attempt = self._attempts[call]
            if attempt > 1 or fault != "retry":
                self._attempts.pop(call, None)
        if fault == "delay":
            return self._ok(stream, delay=0.05)
        if (fault == "retry" and attempt == 1) or fault == "throttle":
            return Reply.error(429, "ThrottlingException", "slow down")
        if fault == "server":
            return Reply.error(500, "InternalServerException", "boom")
        if fault == "truncate":
            if stream:
                return Reply.events(converse_stream_events(ANSWER, chunk_chars=5), truncate_after=3)
            return Reply.reset(after_bytes=20, reply=self._ok(False))
        if fault == "exception":
            if stream:
                events = converse_stream_events(ANSWER, chunk_chars=5)
                return Reply.events(events, exception_at=(2, "modelStreamErrorException", "bad"))
            return Reply.error(503, "ServiceUnavailableException", "unavailable")
        return self._ok(stream)

    @staticmethod
    def _ok(stream: bool, delay: float = 0.0) -> Reply:
        if stream:
            return Reply.events(converse_stream_events(ANSWER, chunk_chars=5), delay=delay)
        return Reply.json(converse_reply(ANSWER), delay=delay)


# ------------------------------------------------------------------ measurements


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_fds() -> int:
    """Open file descriptors (sockets included)."""
    return len(os.listdir("/proc/self/fd"))


def _sample() -> tuple[float, int, int]:
    """(RSS MiB, open fds, threads) now."""
    return rss_mb(), open_fds(), threading.active_count()


@dataclass
class Tally:
    """Outcomes of all calls; thread-safe."""

    successes: int = 0
    typed: Counter[str] = field(default_factory=Counter)
    untyped: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    done: int = 0
    skipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, fault: str, outcome: BaseException | str) -> int:
        with self.lock:
            self.done += 1
            should_succeed = FAULTS[fault][1]
            if isinstance(outcome, str):
                self.successes += 1
                if not should_succeed or outcome != ANSWER:
                    self.wrong[f"{fault}: success with {outcome[:20]!r}"] += 1
            elif isinstance(outcome, BedrockKitError):
                self.typed[type(outcome).__name__] += 1
                if should_succeed:
                    self.wrong[f"{fault}: {type(outcome).__name__}"] += 1
            else:
                self.untyped[f"{type(outcome).__name__}: {outcome}"[:120]] += 1
            return self.done


# ------------------------------------------------------------------ the calls


def _plan(calls: int, seed: int) -> list[tuple[int, str, str]]:
    rng = random.Random(seed)
    names, weights = list(FAULTS), [w for w, _ in FAULTS.values()]
    modes = ("invoke", "stream", "ainvoke", "astream")
    return [(i, rng.choice(modes), rng.choices(names, weights)[0]) for i in range(calls)]


def _models(server: LocalBedrock, handler: TokenBudgetCallbackHandler) -> dict[str, ChatBedrockKit]:
    def make(retries: int) -> ChatBedrockKit:
        return ChatBedrockKit(
            model=MODEL,
            endpoint_url=server.endpoint_url,  # type: ignore[call-arg]  # pydantic alias
            region_name="us-east-1",
            aws_access_key_id=SecretStr("soak"),
            aws_secret_access_key=SecretStr("soak"),
            max_retries=retries,
            timeout=5.0,
            max_tokens=64,
            callbacks=[handler],
        )

    return {"plain": make(0), "retry": make(2)}


def _sync_call(model: ChatBedrockKit, mode: str, prompt: str) -> str:
    if mode == "invoke":
        return str(model.invoke(prompt).content)
    return "".join(str(chunk.content) for chunk in model.stream(prompt))


async def _async_call(model: ChatBedrockKit, mode: str, prompt: str) -> str:
    if mode == "ainvoke":
        return str((await model.ainvoke(prompt)).content)
    return "".join([str(chunk.content) async for chunk in model.astream(prompt)])


def _prompt(call: int, fault: str) -> str:
    return f"question soak-{call}-{fault}"


@dataclass
class Run:
    """Everything one soak run needs."""

    server: LocalBedrock
    ledger: Ledger
    tally: Tally
    deadline: float
    on_done: Callable[[int], None]


def _run_sync(run: Run, models: dict[str, ChatBedrockKit], item: tuple[int, str, str]) -> None:
    call, mode, fault = item
    if time.monotonic() > run.deadline:
        with run.tally.lock:
            run.tally.skipped += 1
        return
    model = models["retry" if fault == "retry" else "plain"]
    try:
        outcome: BaseException | str = _sync_call(model, mode, _prompt(call, fault))
    except Exception as exc:
        outcome = exc
    run.on_done(run.tally.record(fault, outcome))


async def _run_async(
    run: Run, handler: TokenBudgetCallbackHandler, items: list[tuple[int, str, str]], tasks: int
) -> None:
    models = _models(run.server, handler)
    gate = asyncio.Semaphore(tasks)

    async def one(call: int, mode: str, fault: str) -> None:
        async with gate:
            if time.monotonic() > run.deadline:
                with run.tally.lock:
                    run.tally.skipped += 1
                return
            model = models["retry" if fault == "retry" else "plain"]
            try:
                outcome: BaseException | str = await _async_call(model, mode, _prompt(call, fault))
            except Exception as exc:
                outcome = exc
            run.on_done(run.tally.record(fault, outcome))

    try:
        await asyncio.gather(*(one(*item) for item in items))
    finally:
        for model in models.values():
            await model.aclose()


def soak(calls: int, seconds: float, threads: int, tasks: int, seed: int) -> int:
    """Run the soak; print the table; return the exit status."""
    plan = _plan(calls, seed)
    warmup = [(-1 - i, mode, "ok") for i, mode in enumerate(("invoke", "stream") * 10)]
    with LocalBedrock() as server:
        server.set_default("Converse", _Faults())
        server.set_default("ConverseStream", _Faults())
        ledger = Ledger()
        handler = TokenBudgetCallbackHandler(ledger)
        tally = Tally()
        samples: dict[str, tuple[float, int, int]] = {}
        started = time.monotonic()

        def on_done(done: int) -> None:
            # "start" is taken once pools and worker threads have warmed up (10% of calls),
            # so growth after it is what a leak would look like.
            for name, at in (("start", max(calls // 10, 1)), ("mid", max(calls // 2, 1))):
                if done == at and name not in samples:
                    samples[name] = _sample()
            if done % 500 == 0:
                server.clear()  # the server's request log is not the client's memory

        run = Run(server, ledger, tally, started + seconds, on_done)
        sync_models = _models(server, handler)
        # Warm up connection pools and lazy imports so "start" is the steady state.
        warm = Tally()
        for call, mode, _ in warmup:
            warm.record("ok", _sync_call(sync_models["plain"], mode, _prompt(call, "ok")))
        samples["before"] = _sample()

        sync_items = [p for p in plan if not p[1].startswith("a")]
        async_items = [p for p in plan if p[1].startswith("a")]
        loop_thread = threading.Thread(
            target=lambda: asyncio.run(_run_async(run, handler, async_items, tasks)),
            name="soak-asyncio",
        )
        loop_thread.start()
        with ThreadPoolExecutor(threads, thread_name_prefix="soak") as pool:
            list(pool.map(lambda item: _run_sync(run, sync_models, item), sync_items))
        loop_thread.join()
        elapsed = time.monotonic() - started
        server.clear()
        samples["end"] = _sample()
    for name in ("start", "mid"):
        samples.setdefault(name, samples["end"])
    return report(
        calls=calls,
        warmup=len(warmup),
        tally=tally,
        ledger=ledger,
        elapsed=elapsed,
        samples=samples,
    )


def report(
    *,
    calls: int,
    warmup: int,
    tally: Tally,
    ledger: Ledger,
    elapsed: float,
    samples: dict[str, tuple[float, int, int]],
) -> int:
    """Print the results table; return 0 when every invariant holds."""
    open_reservations = ledger.open_reservations()
    total = ledger.report().total
    before, start, mid, end = (samples[k] for k in ("before", "start", "mid", "end"))
    checks = {
        "every call accounted for": tally.done + tally.skipped == calls,
        "untyped errors == 0": not tally.untyped,
        "wrong outcomes == 0": not tally.wrong,
        # a call is booked once: settled (calls), released (errors), or cut after output
        # (partial: a billed call that is also an error, so it is in both counts)
        "ledger booked every call": total.calls + total.errors - total.partial
        == tally.done + warmup,
        "open reservations == 0": open_reservations == 0,
        # Flat: the second half may not grow memory by more than 10% + 16 MiB.
        "RSS flat (mid -> end)": end[0] <= mid[0] * 1.10 + 16,
        # Loopback: both ends of each pooled connection are ours; botocore keeps at most
        # _POOL per client, so a steady state may differ by that much, a leak by far more.
        "open fds flat (start -> end)": end[1] <= start[1] + 2 * _POOL,
        "threads flat (start -> end)": end[2] <= start[2],
    }
    rows: list[tuple[str, str]] = [
        ("calls planned / done / not started", f"{calls} / {tally.done} / {tally.skipped}"),
        ("elapsed (s)", f"{elapsed:.1f} ({tally.done / max(elapsed, 1e-9):.0f} calls/s)"),
        ("successes", str(tally.successes)),
        *((f"typed error: {name}", str(n)) for name, n in sorted(tally.typed.items())),
        ("untyped errors", str(sum(tally.untyped.values()))),
        *((f"  untyped: {name}", str(n)) for name, n in tally.untyped.most_common(5)),
        ("wrong outcomes", str(sum(tally.wrong.values()))),
        *((f"  wrong: {name}", str(n)) for name, n in tally.wrong.most_common(5)),
        ("ledger calls / errors", f"{total.calls} / {total.errors}"),
        (
            "ledger partial / no usage / overruns",
            f"{total.partial} / {total.usage_missing} / {total.overruns}",
        ),
        ("ledger open reservations", str(open_reservations)),
        *(
            (
                f"{label} before / start / mid / end",
                " / ".join(fmt(s[i]) for s in (before, start, mid, end)),
            )
            for i, label, fmt in (
                (0, "RSS MiB", lambda v: f"{v:.1f}"),
                (1, "open fds", str),
                (2, "threads", str),
            )
        ),
    ]
    width = max(len(name) for name, _ in rows) + 2
    print(f"{'metric':<{width}}value")
    print("-" * (width + 24))
    for name, value in rows:
        print(f"{name:<{width}}{value}")
    print("-" * (width + 24))
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000, help="calls to make")
    parser.add_argument("--seconds", type=float, default=900.0, help="stop starting calls after")
    parser.add_argument("--threads", type=int, default=8, help="sync worker threads")
    parser.add_argument("--tasks", type=int, default=16, help="concurrent asyncio calls")
    parser.add_argument("--seed", type=int, default=10, help="fault plan seed")
    args = parser.parse_args(argv)
    return soak(args.calls, args.seconds, args.threads, args.tasks, args.seed)


if __name__ == "__main__":
    sys.exit(main())
