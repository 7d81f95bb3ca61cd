"""RedisStore: the ledger's guarantees with one budget in Redis, leases, secrets, failures.

Every test runs against a real ``redis-server`` (fixture ``redis_url``). The contract tests
run the same calls through the in-process store and the Redis store and expect the same
answers, refusals and reports.
"""

from __future__ import annotations

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.core.budget.redis_store import (
    BudgetStoreError,
    RedisStore,
    from_nano,
    to_nano,
)
from bedrock_kit.core.budget.store import MemoryStore
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

MODEL = "acme.flat-v1"
CALL = Decimal("0.003")  # 1,000 input + 1,000 output at flat prices
# Per 1,000 tokens; a cache-read token costs 1e-10 USD, below the store's nano-USD unit.
FLAT_PRICES = load_prices(
    {
        "models": {
            MODEL: {
                "input": "0.001", "output": "0.002", "cache_read": "0.0000001",
                "cache_write": "0.001",
            }
        }
    }
)  # fmt: skip


@pytest.fixture
def store(redis_url, redis_budget):
    created = RedisStore(redis_url, name=redis_budget, lease_seconds=5)
    yield created
    created.close()
    created.clear()


@pytest.fixture(params=["memory", "redis"])
def any_store(request, redis_url, redis_budget):
    if request.param == "memory":
        yield MemoryStore()
        return
    created = RedisStore(redis_url, name=redis_budget, lease_seconds=5)
    yield created
    created.close()
    created.clear()


def ledger(store, **limits) -> Ledger:
    return Ledger(prices=FLAT_PRICES, store=store, count_tokens=False, **limits)


def test_contract_reserve_settle_release_and_refusal_wording(any_store):
    led = ledger(any_store, max_cost="0.005")
    first = led.reserve(MODEL, 1000, 1000)
    assert led.reserved() == CALL and led.open_reservations() == 1
    assert first.settle(Usage(500, 100)) == Decimal("0.0007")
    assert first.settle(Usage(9, 9)) == Decimal("0.0007")  # the first settle wins
    second = led.reserve(MODEL, 1000, 1000)
    with pytest.raises(BudgetExceededError) as refused:
        led.reserve(MODEL, 1000, 1000)
    assert str(refused.value) == (
        "budget 'run': max_cost=$0.005 would be exceeded; this call needs up to $0.003, "
        "$0.0007 is spent and $0.003 reserved by calls in flight, $0.0013 left "
        "(model=acme.flat-v1)"
    )
    second.release(True)
    assert second.state == "released"
    report = led.report()
    assert (report.total.calls, report.total.errors, report.total_cost) == (1, 1, Decimal("0.0007"))
    assert led.open_reservations() == 0 and led.reserved() == 0
    assert led.remaining() == {"max_cost": Decimal("0.0043")}


def test_contract_scopes_tokens_calls_and_guardrails(any_store):
    led = ledger(any_store, max_total_tokens=10_000)
    with led.scope("team", max_calls=2):
        led.reserve(MODEL, 100, 100).settle(Usage(100, 50, cache_read_input_tokens=10))
        led.record(MODEL, Usage(10, 10))
        with pytest.raises(BudgetExceededError, match="budget 'team': max_calls=2"):
            led.reserve(MODEL, 1, 1)
    led.record_guardrail(GuardrailUsage(content_policy_units=2), guardrail_id="g1")
    team = led.report("team")
    assert [r.model_id for r in team.rows] == [MODEL]
    assert (team.total.calls, team.total.cache_read_input_tokens) == (2, 10)
    assert team.total_cost == Decimal("0.0002") + Decimal("0.00003") + Decimal("0.000000001")
    run = led.report()
    assert [r.model_id for r in run.rows] == [MODEL, "guardrail:g1"]
    assert run.rows[1].guardrail_text_units == 2
    assert led.remaining()["max_total_tokens"] == 10_000 - (110 + 50) - 20
    with pytest.raises(ConfigurationError, match="no budget scope named 'nobody'"):
        led.report("nobody")


def test_two_ledgers_on_one_budget_share_limits_and_reports(redis_url, redis_budget):
    # Two stores: two owners, as two processes would be.
    a, b = (RedisStore(redis_url, name=redis_budget) for _ in range(2))
    try:
        first, second = ledger(a, max_cost="0.006"), ledger(b, max_cost="0.006")
        held = first.reserve(MODEL, 1000, 1000)
        second.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))
        with pytest.raises(BudgetExceededError, match=r"\$0\.003 is spent and \$0\.003 reserved"):
            second.reserve(MODEL, 1, 1)
        held.settle(Usage(1000, 0))
        assert first.spent() == second.spent() == Decimal("0.004")
        assert first.report().total.calls == 2
        assert a.owner != b.owner
    finally:
        a.close(), b.close(), a.clear()


def test_a_dead_owners_hold_expires_charged_in_full(redis_url, redis_budget):
    dying = RedisStore(redis_url, name=redis_budget, lease_seconds=0.3)
    living = RedisStore(redis_url, name=redis_budget, lease_seconds=5)
    try:
        led_dying, led_living = ledger(dying, max_cost="0.01"), ledger(living, max_cost="0.01")
        orphan = led_dying.reserve(MODEL, 1000, 1000)
        dying.close()  # its heartbeat stops, as when the process is killed
        assert led_living.open_reservations() == 1
        time.sleep(0.6)
        assert led_living.open_reservations() == 0 and led_living.reserved() == 0
        report = led_living.report()
        assert (report.total.expired, report.total.usage_missing, report.total.errors) == (1, 1, 1)
        assert report.total_cost == CALL  # the whole reservation: it may have been billed
        # The process that held it did not die after all: its settle changes nothing.
        assert orphan.settle(Usage(1, 1)) == 0 and orphan.state == "expired"
        assert led_living.spent() == CALL
    finally:
        living.close(), living.clear()


def test_release_policy_frees_a_dead_owners_hold(redis_url, redis_budget):
    dying = RedisStore(redis_url, name=redis_budget, lease_seconds=0.3, on_expired="release")
    reader = RedisStore(redis_url, name=redis_budget)
    try:
        ledger(dying).reserve(MODEL, 1000, 1000)
        dying.close()
        time.sleep(0.6)
        led = ledger(reader)
        assert led.open_reservations() == 0 and led.spent() == 0
        assert led.report().rows == ()
    finally:
        reader.close(), reader.clear()


def test_a_living_owners_hold_outlives_its_lease_through_the_heartbeat(store):
    short = RedisStore(store.url, name=store.name, lease_seconds=0.3)
    try:
        held = ledger(short).reserve(MODEL, 1000, 1000)
        time.sleep(0.9)  # three leases long: only the heartbeat keeps it
        assert ledger(store).open_reservations() == 1
        assert held.settle(Usage(10, 10)) > 0 and held.state == "settled"
    finally:
        short.close()


def test_64_threads_never_overspend_and_leak_nothing(store):
    led = ledger(store, max_cost="0.0601")  # 20 calls of 0.003 fit
    barrier = threading.Barrier(64)

    def call(_: int) -> str:
        barrier.wait()
        try:
            with led.reserve(MODEL, 1000, 1000) as held:
                held.settle(Usage(1000, 1000))
        except BudgetExceededError:
            return "refused"
        return "ok"

    with ThreadPoolExecutor(64) as pool:
        outcomes = list(pool.map(call, range(64)))
    assert outcomes.count("ok") == 20 and outcomes.count("refused") == 44
    assert led.spent() == 20 * CALL <= Decimal("0.0601")
    assert led.open_reservations() == 0


def test_nano_usd_rounds_charges_up_and_limits_down():
    assert to_nano(Decimal("0.0000000011")) == 2 and to_nano(Decimal("0.0000000011"), up=False) == 1
    assert from_nano(to_nano(Decimal("123.456789012"))) == Decimal("123.456789012")


def test_costs_below_a_nano_usd_are_charged_not_dropped(store):
    led = ledger(store)
    led.record(MODEL, Usage(1, 0))  # 0.000001 USD: representable
    led.record(MODEL, Usage(0, 0, cache_read_input_tokens=1))  # 1e-10 USD: rounds up to 1e-9
    assert led.spent() == Decimal("0.000001") + Decimal("0.000000001")


def test_pickle_and_repr_never_carry_the_password(redis_url):
    url = redis_url.replace("redis://", "redis://:s3cret-pass@")
    store = RedisStore(url, name="x")
    try:
        assert "s3cret" not in repr(store)
        data = pickle.dumps(store)
        assert b"s3cret" not in data
        copy = pickle.loads(data)
        assert copy.url == redis_url and copy.name == "x"
    finally:
        store.close()


def test_unreachable_redis_refuses_the_call_with_a_typed_error():
    store = RedisStore("redis://127.0.0.1:1/0", name="nowhere")
    try:
        with pytest.raises(BudgetStoreError, match="budget store"):
            ledger(store, max_cost="1").reserve(MODEL, 10, 10)
    finally:
        store.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one of url or client"),
        ({"url": "redis://x", "lease_seconds": 0}, "lease_seconds"),
        ({"url": "redis://x", "on_expired": "ignore"}, "on_expired"),
        ({"url": "redis://x", "name": "a{b}"}, "budget name"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        RedisStore(**kwargs)


def test_an_injected_client_works_and_clear_removes_the_budget(redis_url, redis_budget):
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client=client, name=redis_budget)
    try:
        ledger(store).record(MODEL, Usage(1000, 1000))
        assert store.url == redis_url and ledger(store).spent() == CALL
        assert store.clear() > 0 and ledger(store).spent() == 0
    finally:
        store.close()
