"""Many processes, one Redis: a shared budget never overspends, a shared limiter holds TPM.

Real processes (spawned), a real ``redis-server``, real HTTP to LocalBedrock in this process:

* 8 processes x 32 concurrent calls (LangChain and LlamaIndex, async) against one budget:
  spend never passes the limit, nothing leaks, and a process killed in the middle of a
  call has its lease expire (charged its full reservation, counted ``expired``).
* 8 processes through one Redis-shared rate limiter: the tokens Bedrock receives per
  minute stay within 5% of the configured TPM.
* With a quota below the configured TPM, throttles cut the shared rate and the workers
  converge on what Bedrock accepts.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import threading
import time
from dataclasses import replace

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.redis_store import RedisStore
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply
from bedrock_kit.testing._defaults import default_reply
from bedrock_kit.testing.scripts import last_user_text
from tests.support import scale_workers
from tests.support.scale_workers import MODEL

SPAWN = multiprocessing.get_context("spawn")
WORKERS = 8
CALLS = 32
LEASE = 1.5
# Limiter tests: calls of about 650 tokens (the answer fills maxTokens, CountTokens counts
# the input), so the rate limiter, not the CPU of a shared test machine, sets the pace.
ANSWER_TOKENS = 640


def _collect(results, count: int, timeout: float = 240) -> list[dict]:
    found = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        try:
            found.append(results.get(timeout=max(deadline - time.monotonic(), 0.1)))
        except queue.Empty:
            pytest.fail(f"only {len(found)} of {count} workers reported")
    errors = [r["error"] for r in found if "error" in r]
    assert not errors, errors[0]
    return found


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_8_processes_x_32_calls_never_overspend_one_budget(redis_url, redis_budget):
    with LocalBedrock(answer_tokens=60, latency=0.02) as server:

        def answer(request: ReceivedRequest) -> Reply:
            reply = default_reply("Converse", request.body, server.answers)
            if "STUCK" in last_user_text(request.body):
                return replace(reply, delay=600)  # a call in flight when its process dies
            return reply

        server.set_default("Converse", answer)
        store = RedisStore(redis_url, name=redis_budget, lease_seconds=LEASE)
        # Worst case of one call: up to 10 input tokens (CountTokens) and 64 output tokens.
        probe = Ledger()
        worst = probe.reserve(MODEL, 10, 64).cost
        max_cost = worst * 120  # about 130 of the 256 calls fit
        reader = Ledger(store=store, max_cost=max_cost)
        job = {
            "redis_url": redis_url,
            "budget": redis_budget,
            "lease": LEASE,
            "endpoint": server.endpoint_url,
            "max_cost": str(max_cost),
            "calls": CALLS,
        }
        stuck = SPAWN.Process(
            target=scale_workers.stuck_worker, args=({**job, "adapter": "langchain"},)
        )
        stuck.start()
        try:
            _wait_for(lambda: reader.open_reservations() == 1, 60, "the stuck call's hold")
            results = SPAWN.Queue()
            workers = [
                SPAWN.Process(
                    target=scale_workers.budget_worker,
                    args=(
                        {
                            **job,
                            "worker": n,
                            "adapter": "langchain" if n % 2 else "llama_index",
                        },
                        results,
                    ),
                )
                for n in range(WORKERS)
            ]
            for worker in workers:
                worker.start()
            # Kill the stuck process while the others run: its hold must come back.
            _wait_for(lambda: len(server.requests_for("Converse")) > 20, 120, "workers")
            stuck.kill()
            stuck.join()
            summaries = _collect(results, WORKERS)
            for worker in workers:
                worker.join(timeout=30)
        finally:
            if stuck.is_alive():
                stuck.kill()
        ok = sum(s["ok"] for s in summaries)
        refused = sum(s["refused"] for s in summaries)
        time.sleep(LEASE + 0.5)  # the killed process's lease runs out
        report = reader.report()
        print(
            f"\nshared budget: {ok} calls ok, {refused} refused of {WORKERS * CALLS}; "
            f"spent {reader.spent()} of {max_cost}; open {reader.open_reservations()}; "
            f"expired {report.total.expired}"
        )
        assert ok + refused == WORKERS * CALLS
        assert ok > 50 and refused > 50  # the limit bit: both outcomes in numbers
        assert reader.spent() <= max_cost
        assert reader.open_reservations() == 0 and reader.reserved() == 0
        assert report.total.expired == 1 and report.total.calls == ok + 1
        assert report.total.overruns == 0  # CountTokens made every reservation exact
        # A refused call sent nothing: every Converse request is a settled call (or the stuck one).
        assert len(server.requests_for("Converse")) == ok + 1
        store.clear()
        store.close()


def _recording_server(server: LocalBedrock, quota_tpm: float | None = None) -> list:
    """Answer every Converse and note (arrival, tokens billed); throttle above a quota."""
    arrivals: list[tuple[float, int]] = []
    throttles: list[float] = []
    lock = threading.Lock()
    schedule = [0.0]  # Bedrock's side: a token bucket of one second

    def answer(request: ReceivedRequest) -> Reply:
        reply = default_reply("Converse", request.body, server.answers)
        usage = json.loads(reply.body)["usage"]
        tokens = usage["inputTokens"] + usage["outputTokens"]
        now = time.monotonic()
        with lock:
            if quota_tpm is not None:
                start = max(schedule[0], now)
                if start - now > 1.0:
                    throttles.append(now)
                    return Reply.error(429, "ThrottlingException", "Too many tokens")
                schedule[0] = start + tokens / (quota_tpm / 60)
            arrivals.append((now, tokens))
        return reply

    server.set_default("Converse", answer)
    return [arrivals, throttles]


def _run_limited(server, redis_url, redis_budget, *, tpm, calls, burst, recover=60.0):
    results = SPAWN.Queue()
    job = {
        "max_tokens": ANSWER_TOKENS,
        "redis_url": redis_url,
        "budget": redis_budget,
        "endpoint": server.endpoint_url,
        "tpm": tpm,
        "burst": burst,
        "recover": recover,
        "calls": calls,
        "concurrency": 4,
    }
    ready, go = SPAWN.Semaphore(0), SPAWN.Event()
    workers = [
        SPAWN.Process(
            target=scale_workers.limiter_worker,
            args=(
                {**job, "worker": n, "adapter": "langchain" if n % 2 else "llama_index"},
                results,
                ready,
                go,
            ),
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # every worker imported and built its model: start them together
        assert ready.acquire(timeout=180), "a worker did not get ready"
    go.set()
    summaries = _collect(results, WORKERS)
    for worker in workers:
        worker.join(timeout=30)
    return summaries


def _tpm(arrivals: list[tuple[float, int]], skip: int = 0) -> float:
    """Tokens per minute between the first and the last arrival (the last call's tokens are
    not counted: they were admitted at the window's end)."""
    arrivals = sorted(arrivals)[skip:]
    window = arrivals[-1][0] - arrivals[0][0]
    return sum(tokens for _, tokens in arrivals[:-1]) / window * 60


def test_a_redis_shared_limiter_holds_the_configured_tpm_across_8_processes(
    redis_url, redis_budget
):
    tpm = 60_000  # 1,000 tokens a second: a call every 0.65 s across all processes
    with LocalBedrock(answer_tokens=ANSWER_TOKENS, latency=0.01) as server:
        arrivals, _ = _recording_server(server)
        _run_limited(server, redis_url, redis_budget, tpm=tpm, calls=4, burst=0.1)
        measured = _tpm(arrivals)
    window = max(t for t, _ in arrivals) - min(t for t, _ in arrivals)
    print(
        f"\nshared limiter: {len(arrivals)} calls over {window:.1f} s, measured "
        f"{measured:,.0f} TPM of {tpm:,}"
    )
    assert len(arrivals) == WORKERS * 4
    assert abs(measured - tpm) / tpm < 0.05


def test_throttles_make_8_processes_converge_on_the_real_quota(redis_url, redis_budget):
    configured, quota = 120_000, 60_000  # the limiter believes twice what Bedrock allows
    with LocalBedrock(answer_tokens=ANSWER_TOKENS, latency=0.01) as server:
        arrivals, throttles = _recording_server(server, quota_tpm=quota)
        summaries = _run_limited(
            server, redis_url, redis_budget, tpm=configured, calls=8, burst=0.1, recover=600
        )
    thrown = sum(s["throttled"] for s in summaries)
    start = min(t for t, _ in arrivals)
    end = max(t for t, _ in arrivals)
    late = [t for t in throttles if t > start + (end - start) / 2]
    settled = _tpm([a for a in arrivals if a[0] > start + (end - start) / 2])
    print(
        f"\nadaptive: {len(arrivals)} accepted, {thrown} throttled ({len(late)} in the second "
        f"half); second-half rate {settled:,.0f} TPM, quota {quota:,}, configured {configured:,}"
    )
    assert thrown == len(throttles) > 0
    assert len(late) <= len(throttles) // 4  # the storm dies down
    assert settled <= quota * 1.05  # at or under what Bedrock accepts
    assert settled >= quota * 0.5  # without collapsing
