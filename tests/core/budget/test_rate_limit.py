"""RateLimiter: per-model requests and tokens per minute, corrections, adaptive cuts, Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from bedrock_kit.core.budget.rate_limit import MemoryRates, Quota, RateLimiter
from bedrock_kit.core.budget.redis_rates import RedisRates
from bedrock_kit.errors import ConfigurationError, ThrottlingError

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake(**kwargs) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(state=MemoryRates(clock), **kwargs), clock


def test_tokens_per_minute_space_calls_by_their_tokens():
    limiter, clock = fake(tokens_per_minute=600, burst_seconds=0)  # 10 tokens a second
    assert limiter.acquire(MODEL, 100, blocking=False) is not None
    assert limiter.acquire(MODEL, 100, blocking=False) is None  # due in 10 s
    clock.now += 9.9
    assert limiter.acquire(MODEL, 100, blocking=False) is None
    clock.now += 0.1
    assert limiter.acquire(MODEL, 100, blocking=False) is not None


def test_requests_per_minute_and_burst():
    limiter, clock = fake(requests_per_minute=60, burst_seconds=2)  # one a second, 2 s ahead
    taken = [limiter.acquire(MODEL, blocking=False) for _ in range(5)]
    assert [p is not None for p in taken] == [True, True, True, False, False]
    clock.now += 1
    assert limiter.acquire(MODEL, blocking=False) is not None


def test_a_call_bigger_than_the_burst_still_goes_after_its_wait():
    limiter, clock = fake(tokens_per_minute=60, burst_seconds=1)
    assert limiter.acquire(MODEL, 5_000, blocking=False) is not None  # 5,000 s of quota
    clock.now += 4_998
    assert limiter.acquire(MODEL, 1, blocking=False) is None
    clock.now += 2
    assert limiter.acquire(MODEL, 1, blocking=False) is not None


def test_billed_usage_corrects_the_schedule_both_ways():
    limiter, clock = fake(tokens_per_minute=600, burst_seconds=0)
    permit = limiter.acquire(MODEL, 4096, blocking=False)  # worst case: maxTokens
    permit.settle(100)  # billed far less: the rest comes back
    clock.now += 10
    assert limiter.acquire(MODEL, 100, blocking=False) is not None
    permit.settle(10**6)  # a permit settles once
    clock.now += 10
    assert limiter.acquire(MODEL, 1, blocking=False) is not None


def test_throttles_cut_the_rate_once_per_second_and_it_recovers():
    limiter, clock = fake(tokens_per_minute=600, decrease=0.5, recover_seconds=10)
    permit = limiter.acquire(MODEL, 1, blocking=False)
    assert permit.throttled() == 0.5
    assert permit.throttled() == 0.5  # a second report of the same burst: no further cut
    clock.now += 1
    assert limiter.acquire(MODEL, 1, blocking=False).throttled() == pytest.approx(
        0.3
    )  # (0.5 + 1 s / 10 s) * 0.5
    clock.now += 3
    assert limiter.fraction(MODEL) == pytest.approx(0.6)
    clock.now += 10
    assert limiter.fraction(MODEL) == 1.0


def test_throttles_of_calls_paced_by_the_old_rate_cut_nothing_more():
    limiter, clock = fake(tokens_per_minute=6000, decrease=0.5, recover_seconds=1e9)
    early = [limiter.acquire(MODEL, 1, blocking=False) for _ in range(3)]
    clock.now += 0.5
    assert early[0].throttled() == 0.5
    clock.now += 5  # long past the cooldown, but these were admitted before the cut
    assert early[1].throttled() == pytest.approx(0.5) == early[2].throttled()
    late = limiter.acquire(MODEL, 1, blocking=False)
    assert late.throttled() == pytest.approx(
        0.25
    )  # admitted at the new rate and still throttled: cut


def test_a_cut_rate_spaces_calls_wider():
    limiter, clock = fake(tokens_per_minute=600, burst_seconds=0, decrease=0.5, recover_seconds=1e9)
    limiter.acquire(MODEL, 1, blocking=False).throttled()
    clock.now += 0.1  # the first call's one token
    assert limiter.acquire(MODEL, 50, blocking=False) is not None  # 50 tokens at 5/s
    clock.now += 9.9
    assert limiter.acquire(MODEL, 1, blocking=False) is None
    clock.now += 0.2
    assert limiter.acquire(MODEL, 1, blocking=False) is not None


def test_not_adaptive_ignores_throttles():
    limiter, _ = fake(tokens_per_minute=600, adaptive=False)
    assert limiter.acquire(MODEL, 1).throttled() == 1.0


def test_per_model_quotas_by_id_or_foundation_model_and_unlimited_models():
    base = "anthropic.claude-haiku-4-5-20251001-v1:0"
    limiter, _ = fake(
        requests_per_minute=1,
        models={base: Quota(requests_per_minute=600), "other.model-v1": Quota()},
        burst_seconds=0,
    )
    assert limiter.quota("us." + base).requests_per_minute == 600
    assert limiter.acquire("other.model-v1", blocking=False) is not None
    assert limiter.acquire("other.model-v1", blocking=False) is not None  # no quota at all
    assert limiter.acquire("amazon.nova-micro-v1:0", blocking=False) is not None
    assert limiter.acquire("amazon.nova-micro-v1:0", blocking=False) is None  # default 1/min


def test_blocking_acquire_waits_for_real_and_gives_up_past_max_wait():
    limiter = RateLimiter(requests_per_minute=600, burst_seconds=0, max_wait=1.0)  # 10/s
    started = time.monotonic()
    waits = [limiter.acquire(MODEL).waited for _ in range(5)]
    assert 0.35 < time.monotonic() - started < 1.5
    assert waits[0] == 0 and waits[-1] > 0
    slow = RateLimiter(tokens_per_minute=60, burst_seconds=0, max_wait=1.0)
    slow.acquire(MODEL, 10)
    with pytest.raises(ThrottlingError, match=r"past max_wait=1\.0 s"):
        slow.acquire(MODEL, 10)


async def test_async_acquire_sleeps_without_blocking_the_loop():
    limiter = RateLimiter(requests_per_minute=600, burst_seconds=0)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await asyncio.gather(*(limiter.aacquire(MODEL) for _ in range(4)))
    task.cancel()
    assert 0.25 < time.monotonic() - started < 1.5 and ticks > 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"requests_per_minute": 0},
        {"tokens_per_minute": -5},
        {"tokens_per_minute": True},
        {"decrease": 0},
        {"recover_seconds": 0},
        {"min_fraction": 2},
        {"burst_seconds": -1},
        {"max_wait": -1},
    ],
)
def test_bad_tuning_is_refused_by_name(kwargs):
    with pytest.raises(ConfigurationError, match=next(iter(kwargs))):
        RateLimiter(**kwargs)


def test_negative_tokens_are_refused():
    with pytest.raises(ConfigurationError, match="tokens must be >= 0"):
        RateLimiter(tokens_per_minute=60).acquire(MODEL, -1)


# -- shared through Redis


@pytest.fixture
def rates(redis_url, redis_budget):
    state = RedisRates(redis_url, name=redis_budget)
    yield state
    state.clear()


def test_redis_limiters_share_one_schedule(rates, redis_url):
    other = RedisRates(redis_url, name=rates.name)
    first = RateLimiter(tokens_per_minute=600, burst_seconds=0, state=rates)
    second = RateLimiter(tokens_per_minute=600, burst_seconds=0, state=other)
    assert first.acquire(MODEL, 100, blocking=False) is not None
    assert second.acquire(MODEL, 100, blocking=False) is None  # the other took the 10 s
    assert first.acquire("amazon.nova-micro-v1:0", 100, blocking=False) is not None


def test_redis_corrections_and_throttle_cuts_are_shared(rates, redis_url):
    tuning = {"tokens_per_minute": 6000, "burst_seconds": 0.5, "decrease": 0.5}
    first = RateLimiter(state=rates, **tuning)
    second = RateLimiter(state=RedisRates(redis_url, name=rates.name), **tuning)
    permit = first.acquire(MODEL, 4000, blocking=False)  # 40 s of quota
    assert second.acquire(MODEL, 1, blocking=False) is None
    permit.settle(1)  # all but one token given back
    assert second.acquire(MODEL, 1, blocking=False) is not None
    assert permit.throttled() == 0.5
    assert second.fraction(MODEL) == pytest.approx(0.5, abs=0.01)


def test_redis_blocking_acquire_paces_calls(rates):
    limiter = RateLimiter(requests_per_minute=1200, burst_seconds=0, state=rates)  # 20/s
    started = time.monotonic()
    for _ in range(6):
        limiter.acquire(MODEL)
    assert 0.2 < time.monotonic() - started < 1.5


def test_limiters_pickle_without_their_lock_or_password(redis_url):
    import pickle

    local = pickle.loads(pickle.dumps(RateLimiter(tokens_per_minute=600)))
    assert local.acquire(MODEL, 10, blocking=False) is not None
    shared = RedisRates(redis_url.replace("redis://", "redis://:pw-s3cret@"), name="p")
    data = pickle.dumps(RateLimiter(tokens_per_minute=600, state=shared))
    assert b"pw-s3cret" not in data and "pw-s3cret" not in repr(shared)
    assert pickle.loads(data).state.url == redis_url
