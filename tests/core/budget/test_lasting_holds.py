"""Holds that outlive their process (``reserve(..., hold_id=, lease_seconds=)``): found again
by id with ``Ledger.resume``, renewed, remembered once finished; the same answers from the
in-process store and from Redis (another ``RedisStore`` standing for another process)."""

from __future__ import annotations

import time

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.core.budget.redis_store import RedisStore
from bedrock_kit.core.budget.store import MemoryStore
from bedrock_kit.core.chat.types import Usage

MODEL = "acme.flat-v1"
PRICES = load_prices({"models": {MODEL: {"input": "0.001", "output": "0.002"}}})


@pytest.fixture(params=["memory", "redis"])
def two_ledgers(request, redis_url, redis_budget):
    """Two ledgers on one budget: one store shared (memory), or two processes' (Redis)."""
    if request.param == "memory":
        store = MemoryStore()
        yield Ledger(store=store, prices=PRICES), Ledger(store=store, prices=PRICES)
        return
    stores = [RedisStore(redis_url, name=redis_budget, lease_seconds=5) for _ in range(2)]
    yield tuple(Ledger(store=s, prices=PRICES) for s in stores)
    for store in stores:
        store.close()
    stores[0].clear()


def test_a_lasting_hold_is_found_again_settled_once_and_remembered(two_ledgers) -> None:
    mine, theirs = two_ledgers
    held = mine.reserve(MODEL, 1000, 1000, hold_id="job-1", lease_seconds=60)
    found = theirs.resume("job-1")
    assert found is not None and found.state == "open"
    assert (found.model_id, found.cost) == (MODEL, held.cost)
    assert found.renew() is True
    assert found.settle(Usage(400, 100)) == theirs.spent() == mine.spent() > 0
    assert held.settle(Usage(1000, 1000)) == 0  # the first settle won: nothing twice
    assert mine.spent() == theirs.spent() and mine.report().total.calls == 1
    again = theirs.resume("job-1")
    assert again is not None and again.state == "finished"
    assert again.settle(Usage(1, 1)) == 0 and again.renew() is False
    assert theirs.resume("no-such-hold") is None
    assert mine.open_reservations() == 0 and mine.reserved() == 0


def test_a_lasting_hold_survives_its_process_and_lapses_without_renewal(
    redis_url, redis_budget
) -> None:
    gone = RedisStore(redis_url, name=redis_budget, lease_seconds=0.2)
    alive = RedisStore(redis_url, name=redis_budget, lease_seconds=5)
    try:
        ledger = Ledger(store=gone, prices=PRICES)
        lasting = ledger.reserve(MODEL, 1000, 1000, hold_id="job-2", lease_seconds=1.0)
        short = ledger.reserve(MODEL, 10, 10)  # lives as long as its process
        gone.close()
        time.sleep(0.5)
        other = Ledger(store=alive, prices=PRICES)
        assert other.reserved() == lasting.cost  # the process's own hold was given up
        assert short.state == "open" and other.report().total.expired == 1
        time.sleep(0.8)  # past the lasting hold's own lease, nobody renewing
        assert other.reserved() == 0
        assert other.spent() == lasting.cost + short.cost
        found = other.resume("job-2")
        assert found is not None and found.state == "finished"
    finally:
        gone.close()
        alive.close()
        alive.clear()
