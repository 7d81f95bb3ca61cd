"""BedrockKitLLM(rate_limiter=...): per-model requests and tokens, corrected, adaptive."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import ChatMessage, MockLLM

from bedrock_kit import Ledger
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.errors import ThrottlingError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.llama_index.rate_limit import BedrockRateLimiter
from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events
from tests.support.scenarios.rate_limit import MODEL, RecordingRates, throttled

HELLO = [ChatMessage(role="user", content="hello there")]


def _llm(server, limiter, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=MODEL,
        max_tokens=100,
        rate_limiter=limiter,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        max_retries=0,
        **kwargs,
    )


def test_our_limiter_is_applied_per_call_not_by_llama_index(server):
    rates = RecordingRates()
    limiter = RateLimiter(tokens_per_minute=10**6, state=rates)
    llm = _llm(server, BedrockRateLimiter(limiter), ledger=Ledger(count_tokens=False))
    assert llm.rate_limiter is None and llm.limiter is limiter
    server.script("Converse", Reply.json(converse_reply("hi", usage=build_usage(12, 3))))
    llm.chat(HELLO)
    ((key, booked),) = rates.reserved
    assert key == MODEL and booked > 100  # the reservation: estimated input + maxTokens
    assert rates.corrected == [(MODEL, 15 - booked)]  # back to the billed 12 + 3


@pytest.mark.parametrize("mode", ["stream_chat", "achat", "astream_chat"])
def test_every_path_books_and_corrects(server, mode):
    rates = RecordingRates()
    llm = _llm(server, RateLimiter(tokens_per_minute=10**6, state=rates))
    usage = build_usage(20, 4)
    server.script("Converse", Reply.json(converse_reply("a", usage=usage)))
    server.script("ConverseStream", Reply.events(converse_stream_events("b", usage=usage)))

    async def drain() -> None:
        async for _ in await llm.astream_chat(HELLO):
            pass

    if mode == "stream_chat":
        list(llm.stream_chat(HELLO))
    elif mode == "achat":
        asyncio.run(llm.achat(HELLO))
    else:
        asyncio.run(drain())
    ((_, booked),) = rates.reserved
    assert rates.corrected == [(MODEL, 24 - booked)]


def test_a_throttle_cuts_the_shared_rate_and_is_raised(server):
    limiter = RateLimiter(tokens_per_minute=10**6, decrease=0.5)
    llm = _llm(server, limiter)
    server.script("Converse", throttled())
    with pytest.raises(ThrottlingError):
        llm.chat(HELLO)
    assert limiter.fraction(MODEL) == pytest.approx(0.5, abs=0.01)
    server.script("ConverseStream", throttled())
    with pytest.raises(ThrottlingError):
        list(llm.stream_chat(HELLO))


def test_a_limiter_that_gives_up_sends_nothing_and_releases_the_budget(server):
    limiter = RateLimiter(tokens_per_minute=60, burst_seconds=0, max_wait=0.5)
    ledger = Ledger(max_cost="1", count_tokens=False)
    llm = _llm(server, limiter, ledger=ledger)
    limiter.acquire(MODEL, 600)  # books the next ten minutes
    for call in (lambda: llm.chat(HELLO), lambda: list(llm.stream_chat(HELLO))):
        with pytest.raises(ThrottlingError, match="max_wait"):
            call()
    assert server.requests == []
    assert ledger.open_reservations() == 0 and ledger.report().total.errors == 2


def test_other_llama_index_llms_take_one_request_each():
    rates = RecordingRates()
    limiter = BedrockRateLimiter(RateLimiter(requests_per_minute=6000, state=rates))
    other = MockLLM()
    other.rate_limiter = limiter  # MockLLM's constructor takes no rate_limiter argument
    other.complete("a"), other.complete("b")
    assert rates.reserved == [("*", 0), ("*", 0)]
    asyncio.run(limiter.async_acquire(5))
    assert rates.reserved[-1] == ("*", 5)
