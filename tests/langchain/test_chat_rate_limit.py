"""ChatBedrockKit(rate_limiter=...): per-model requests and tokens, corrected, adaptive."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bedrock_kit import Ledger
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.errors import ThrottlingError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.langchain.rate_limit import BedrockRateLimiter
from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events
from tests.support.scenarios.rate_limit import MODEL, RecordingRates, throttled


def _model(server, limiter, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL,
        max_tokens=100,
        rate_limiter=limiter,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        max_retries=0,
        **kwargs,
    )


def test_our_limiter_is_applied_per_call_not_by_langchain(server):
    rates = RecordingRates()
    limiter = RateLimiter(tokens_per_minute=10**6, state=rates)
    llm = _model(server, BedrockRateLimiter(limiter), ledger=Ledger(count_tokens=False))
    assert llm.rate_limiter is None and llm.limiter is limiter
    server.script("Converse", Reply.json(converse_reply("hi", usage=build_usage(12, 3))))
    llm.invoke("hello there")
    ((key, booked),) = rates.reserved
    assert key == MODEL and booked > 100  # the reservation: estimated input + maxTokens
    assert rates.corrected == [(MODEL, 15 - booked)]  # back to the billed 12 + 3


@pytest.mark.parametrize("mode", ["stream", "ainvoke", "astream"])
def test_every_path_books_and_corrects(server, mode):
    rates = RecordingRates()
    llm = _model(server, RateLimiter(tokens_per_minute=10**6, state=rates))
    usage = build_usage(20, 4)
    server.script("Converse", Reply.json(converse_reply("a", usage=usage)))
    server.script("ConverseStream", Reply.events(converse_stream_events("b", usage=usage)))

    async def drain() -> None:
        async for _ in llm.astream("q"):
            pass

    if mode == "stream":
        list(llm.stream("q"))
    elif mode == "ainvoke":
        asyncio.run(llm.ainvoke("q"))
    else:
        asyncio.run(drain())
    ((_, booked),) = rates.reserved
    assert rates.corrected == [(MODEL, 24 - booked)]


def test_a_throttle_cuts_the_shared_rate_and_is_raised(server):
    limiter = RateLimiter(tokens_per_minute=10**6, decrease=0.5)
    llm = _model(server, limiter)
    server.script("Converse", throttled())
    with pytest.raises(ThrottlingError):
        llm.invoke("q")
    assert limiter.fraction(MODEL) == pytest.approx(0.5, abs=0.01)
    server.script("ConverseStream", throttled())
    with pytest.raises(ThrottlingError):
        list(llm.stream("q"))


def test_a_limiter_that_gives_up_sends_nothing_and_releases_the_budget(server):
    limiter = RateLimiter(tokens_per_minute=60, burst_seconds=0, max_wait=0.5)
    ledger = Ledger(max_cost="1", count_tokens=False)
    llm = _model(server, limiter, ledger=ledger)
    limiter.acquire(MODEL, 600)  # books the next ten minutes
    for call in (lambda: llm.invoke("q"), lambda: list(llm.stream("q"))):
        with pytest.raises(ThrottlingError, match="max_wait"):
            call()
    assert server.requests == []
    assert ledger.open_reservations() == 0 and ledger.report().total.errors == 2


def test_other_langchain_models_take_one_request_each(server):
    rates = RecordingRates()
    limiter = BedrockRateLimiter(RateLimiter(requests_per_minute=6000, state=rates))
    other = FakeListChatModel(responses=["x", "y"], rate_limiter=limiter)
    other.invoke("a"), other.invoke("b")
    assert rates.reserved == [("*", 0), ("*", 0)]
    assert asyncio.run(limiter.aacquire()) and limiter.acquire(blocking=False) is True
