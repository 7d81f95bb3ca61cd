"""Worker processes for the shared-budget and shared-limiter tests (spawned, not forked).

Each worker builds its own chat model over LocalBedrock (in the parent) with a ledger or
a rate limiter on one Redis, runs its calls concurrently and puts a summary on a queue.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.core.budget.redis_rates import RedisRates
from bedrock_kit.core.budget.redis_store import RedisStore
from bedrock_kit.errors import BudgetExceededError, ThrottlingError

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def _chat_model(adapter: str, endpoint: str, max_tokens: int = 64, **kwargs: Any) -> Any:
    common = {"endpoint_url": endpoint, "region_name": "us-east-1", "max_tokens": max_tokens}
    if adapter == "langchain":
        from bedrock_kit.langchain import ChatBedrockKit

        return ChatBedrockKit(model=MODEL, **common, **kwargs)
    from bedrock_kit.llama_index import BedrockKitLLM

    return BedrockKitLLM(model=MODEL, **common, **kwargs)


async def _ask(llm: Any, adapter: str, text: str) -> None:
    if adapter == "langchain":
        await llm.ainvoke(text)
    else:
        from llama_index.core.llms import ChatMessage

        await llm.achat([ChatMessage(role="user", content=text)])


def _store(job: dict[str, Any]) -> RedisStore:
    return RedisStore(job["redis_url"], name=job["budget"], lease_seconds=job["lease"])


def budget_worker(job: dict[str, Any], results: Any) -> None:
    """``job["calls"]`` concurrent calls against one Redis-backed budget."""
    store = _store(job)
    try:
        ledger = Ledger(store=store, max_cost=job["max_cost"])
        llm = _chat_model(job["adapter"], job["endpoint"], ledger=ledger, max_retries=0)

        async def one(index: int) -> str:
            try:
                await _ask(llm, job["adapter"], f"worker {job['worker']} call {index}")
            except BudgetExceededError:
                return "refused"
            return "ok"

        async def run() -> list[str]:
            outcomes = await asyncio.gather(*(one(i) for i in range(job["calls"])))
            await llm.aclose()
            return list(outcomes)

        outcomes = asyncio.run(run())
        results.put(
            {
                "worker": job["worker"],
                "ok": outcomes.count("ok"),
                "refused": outcomes.count("refused"),
            }
        )
    except BaseException:
        results.put({"worker": job["worker"], "error": traceback.format_exc()})
    finally:
        store.close()


def stuck_worker(job: dict[str, Any]) -> None:
    """Reserve on the budget, send one call the server never answers, and wait (to be
    killed mid-call)."""
    store = _store(job)
    ledger = Ledger(store=store, max_cost=job["max_cost"])
    llm = _chat_model(job["adapter"], job["endpoint"], ledger=ledger, max_retries=0, timeout=300)
    asyncio.run(_ask(llm, job["adapter"], "STUCK: answer me never"))


def limiter_worker(job: dict[str, Any], results: Any, ready: Any, go: Any) -> None:
    """``job["calls"]`` calls, ``job["concurrency"]`` at a time, through one shared limiter,
    started together with the other workers (``ready`` is released, then ``go`` awaited)."""
    try:
        limiter = RateLimiter(
            tokens_per_minute=job["tpm"],
            state=RedisRates(job["redis_url"], name=job["budget"]),
            burst_seconds=job["burst"],
            recover_seconds=job.get("recover", 60.0),
            max_wait=None,
        )
        # The ledger counts the input with CountTokens, so the limiter books exact input.
        llm = _chat_model(
            job["adapter"],
            job["endpoint"],
            max_tokens=job["max_tokens"],
            ledger=Ledger(count_tokens=True),
            rate_limiter=limiter,
            max_retries=0,
        )
        throttled = 0
        ready.release()
        go.wait()
        gate = asyncio.Semaphore(job["concurrency"])

        async def one(index: int) -> None:
            nonlocal throttled
            async with gate:
                try:
                    await _ask(llm, job["adapter"], f"worker {job['worker']} call {index}")
                except ThrottlingError:
                    throttled += 1

        async def run() -> None:
            await asyncio.gather(*(one(i) for i in range(job["calls"])))
            await llm.aclose()

        asyncio.run(run())
        results.put({"worker": job["worker"], "throttled": throttled})
    except BaseException:
        results.put({"worker": job["worker"], "error": traceback.format_exc()})
