"""Ledger: reserve before, settle after, limits per run and scope, threads and asyncio."""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bedrock_kit.core.budget.ledger import (
    Ledger,
    estimate_request_tokens,
    estimate_tokens,
)
from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

# Cache writes cost the same as input: the worst case of a call is exactly
# input * 0.001 + output * 0.002 per 1,000 tokens, which keeps the figures round.
PRICES = load_prices(
    {
        "models": {
            "acme.flat-v1": {
                "input": "0.001", "output": "0.002", "cache_read": "0.0001", "cache_write": "0.001"
            }
        }
    }
)  # fmt: skip
MODEL = "acme.flat-v1"
CALL_COST = Decimal("0.003")  # 1,000 input + 1,000 output


def ledger(**limits) -> Ledger:
    return Ledger(prices=PRICES, **limits)


def test_reserve_holds_worst_case_and_settle_swaps_in_billed_cost():
    led = ledger(max_cost="1")
    r = led.reserve(MODEL, 1000, 1000)
    assert r.cost == CALL_COST
    assert led.reserved() == CALL_COST and led.spent() == 0
    assert r.settle(Usage(input_tokens=500, output_tokens=100)) == Decimal("0.0007")
    assert led.reserved() == 0 and led.spent() == Decimal("0.0007")
    assert led.open_reservations() == 0


def test_refusal_names_the_limit_the_amount_and_what_is_left():
    led = ledger(max_cost="0.005")
    led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))
    with pytest.raises(BudgetExceededError) as info:
        led.reserve(MODEL, 1000, 1000)
    message = str(info.value)
    assert "max_cost=$0.005" in message
    assert "needs up to $0.003" in message
    assert "$0.002 left" in message
    assert info.value.model_id == MODEL
    assert led.reserved() == 0  # a refused call holds nothing


def test_remaining_counts_spent_and_reserved():
    led = ledger(max_cost="0.01", max_calls=5)
    led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 0))
    held = led.reserve(MODEL, 1000, 1000)
    assert led.remaining() == {"max_cost": Decimal("0.006"), "max_calls": 3}
    held.release()
    assert led.remaining()["max_calls"] == 4
    assert "spent=$0.001," in repr(led) and "<table>" in led._repr_html_()


def test_reservations_in_flight_count_against_the_limit():
    led = ledger(max_cost="0.005")
    held = led.reserve(MODEL, 1000, 1000)
    with pytest.raises(BudgetExceededError, match="reserved by calls in flight"):
        led.reserve(MODEL, 1000, 1000)
    held.release()
    led.reserve(MODEL, 1000, 1000)  # fits once the first is released


def test_worst_case_uses_the_dearest_input_rate_for_cached_models():
    led = Ledger()
    r = led.reserve("anthropic.claude-sonnet-4-20250514-v1:0", 1000, 0)
    # An input token may become a 1 hour cache write (0.006 per 1,000), not just 0.003.
    assert r.cost == Decimal("0.006")


def test_settle_and_release_are_idempotent_first_wins():
    led = ledger()
    r = led.reserve(MODEL, 1000, 1000)
    first = r.settle(Usage(1000, 0))
    assert r.settle(Usage(5000, 5000)) == first
    r.release(error=True)
    assert led.spent() == Decimal("0.001")
    assert led.report().total.errors == 0 and r.state == "settled"
    r2 = led.reserve(MODEL, 1000, 1000)
    r2.release()
    r2.release()
    assert r2.settle(Usage(1000, 1000)) == 0 and r2.state == "released"
    assert led.spent() == Decimal("0.001") and led.open_reservations() == 0


def test_context_manager_releases_on_exception_and_counts_the_error():
    led = ledger()
    with pytest.raises(RuntimeError), led.reserve(MODEL, 1000, 1000):
        raise RuntimeError("boom")
    assert led.open_reservations() == 0 and led.reserved() == 0
    row = led.report().rows[0]
    assert (row.calls, row.errors, row.cost) == (0, 1, 0)


def test_context_manager_unsettled_exit_releases_without_error():
    led = ledger()
    with led.reserve(MODEL, 1000, 1000):
        pass
    assert led.open_reservations() == 0 and led.report().rows == ()


async def test_async_context_manager_releases_on_exception():
    led = ledger()
    with pytest.raises(ValueError):
        async with led.reserve(MODEL, 10, 10) as r:
            await asyncio.sleep(0)
            raise ValueError
    assert r.state == "released" and led.open_reservations() == 0


@pytest.mark.parametrize(
    ("limit", "input_tokens", "output_tokens", "billed"),
    [
        ({"max_input_tokens": 1500}, 1000, 0, Usage(1000, 0)),
        ({"max_output_tokens": 1500}, 0, 1000, Usage(0, 1000)),
        ({"max_total_tokens": 3000}, 1000, 1000, Usage(1000, 1000)),
        ({"max_cache_write_tokens": 1500}, 1000, 0, Usage(0, 0, 0, 1000)),
        ({"max_calls": 1}, 1, 1, Usage(1, 1)),
    ],
)
def test_token_and_call_limits(limit, input_tokens, output_tokens, billed):
    led = ledger(**limit)
    led.reserve(MODEL, input_tokens, output_tokens).settle(billed)
    with pytest.raises(BudgetExceededError, match=next(iter(limit))):
        led.reserve(MODEL, input_tokens, output_tokens)


def test_cache_tokens_count_by_kind_and_in_input_total():
    led = ledger(max_cache_read_tokens=100)
    led.record(MODEL, Usage(input_tokens=1, cache_read_input_tokens=100))
    with pytest.raises(BudgetExceededError, match="max_cache_read_tokens"):
        led.reserve(MODEL, 1, 0)  # any input token could be a cache read


def test_scope_limits_apply_inside_only_and_run_limits_still_apply():
    led = ledger(max_cost="0.01")
    with led.scope("step-1", max_cost="0.004"):
        led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))
        with pytest.raises(BudgetExceededError, match="budget 'step-1'"):
            led.reserve(MODEL, 1000, 1000)
    led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))  # outside the scope: fits
    with led.scope("step-2"):
        led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))
        with pytest.raises(BudgetExceededError, match="budget 'run'"):
            led.reserve(MODEL, 1000, 1000)
    assert led.spent("step-1") == CALL_COST
    assert led.spent() == 3 * CALL_COST
    # Re-entering a scope continues its counts.
    with led.scope("step-1"), pytest.raises(BudgetExceededError, match="step-1"):
        led.reserve(MODEL, 1000, 1000)


def test_unknown_scope_and_limit_names_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="max_dollars"):
        ledger(max_dollars=1)
    with pytest.raises(ConfigurationError, match="max_cost is not a number"):
        ledger(max_cost="ten dollars")
    with pytest.raises(ConfigurationError, match="max_calls must be a non-negative integer"):
        ledger(max_calls=1.5)
    with pytest.raises(ConfigurationError, match="max_cost must be a non-negative number"):
        ledger(max_cost=-1)
    with pytest.raises(ConfigurationError, match="no budget scope"):
        ledger().spent("nope")
    with pytest.raises(ConfigurationError, match="input_tokens or prompt"):
        ledger().reserve(MODEL)


async def test_asyncio_tasks_inherit_the_scope():
    led = ledger()

    async def call() -> None:
        await asyncio.sleep(0)
        led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000))

    with led.scope("agent", max_calls=3):
        tasks = [asyncio.create_task(call()) for _ in range(5)]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(refused) == 2 and led.report("agent").total.calls == 3


def test_estimate_is_the_documented_text_estimate_plus_request_and_message_overhead():
    # lower-case words: one token per 4 letters; 32 per request, 8 per message
    assert estimate_tokens("abcde") == 2 + 32 + 8
    assert estimate_tokens(["abcd", "efgh", "i"], messages=2) == 3 + 32 + 16
    request = {
        "messages": [
            {"role": "user", "content": [{"text": "x" * 40}, {"image": {"format": "png"}}]},
            {"role": "assistant", "content": [{"text": "y" * 4}]},
        ],
        "system": [{"text": "z" * 8}],
    }
    # 10 + 1 + 2 (roles and formats are not text), 32 + 2 messages * 8, 1 image * 3000
    assert estimate_request_tokens(request) == 13 + 48 + 3000
    led = ledger()
    assert led.reserve(MODEL, prompt="abcdefgh", messages=1).input_tokens == 42


def test_guardrail_units_and_cost_in_the_same_ledger():
    led = Ledger()
    cost = led.record_guardrail(GuardrailUsage(content_policy_units=2), guardrail_id="gr1")
    assert cost == Decimal("0.0003")
    row = led.report().rows[0]
    assert (row.model_id, row.guardrail_text_units, row.cost) == ("guardrail:gr1", 2, cost)
    assert led.spent() == cost


def test_report_table_records_and_html():
    led = ledger()
    led.reserve(MODEL, 1000, 1000).settle(Usage(1000, 1000, 10, 20))
    led.record(MODEL, Usage(1000, 0), error=True)
    report = led.report()
    assert (report.total.calls, report.total.errors) == (2, 1)
    assert report.total_cost == led.spent()
    records = report.records()
    assert records[0]["model_id"] == MODEL and records[0]["cache_write_input_tokens"] == 20
    text = report.to_text()
    assert "cache read" in text and "TOTAL" in text and MODEL in text
    assert "<table>" in report._repr_html_()


def test_unknown_model_reserves_at_fallback_never_zero():
    led = Ledger()
    with pytest.warns(UserWarning, match="no price for model"):
        r = led.reserve("acme.mystery-v9", 100, 100)
    assert r.cost > 0


# -- concurrency: 64 callers against one budget


N_CALLERS = 64
FITS = 20
LIMIT = CALL_COST * FITS + Decimal("0.001")  # room for 20 calls, not 21


def _exact_call(led: Ledger, barrier: threading.Barrier, fail: bool) -> str:
    barrier.wait()
    try:
        with led.reserve(MODEL, 1000, 1000) as r:
            if fail:
                raise RuntimeError("model failed")
            r.settle(Usage(1000, 1000))  # billed == reserved: refusals are deterministic
            return "ok"
    except BudgetExceededError:
        return "refused"
    except RuntimeError:
        return "failed"


def test_64_threads_never_overspend_and_refuse_exactly_the_overflow():
    led = ledger(max_cost=LIMIT)
    barrier = threading.Barrier(N_CALLERS)
    with ThreadPoolExecutor(N_CALLERS) as pool:
        outcomes = list(pool.map(lambda _: _exact_call(led, barrier, False), range(N_CALLERS)))
    assert outcomes.count("ok") == FITS
    assert outcomes.count("refused") == N_CALLERS - FITS
    assert led.spent() == CALL_COST * FITS <= LIMIT
    assert led.open_reservations() == 0 and led.reserved() == 0


def test_64_threads_with_failures_and_partial_usage_leak_nothing():
    led = ledger(max_cost=LIMIT)
    barrier = threading.Barrier(N_CALLERS)
    rng = random.Random(7)
    fails = [rng.random() < 0.25 for _ in range(N_CALLERS)]

    def call(i: int) -> str:
        barrier.wait()
        try:
            with led.reserve(MODEL, 1000, 1000) as r:
                if fails[i]:
                    raise RuntimeError
                r.settle(Usage(rng.randint(0, 1000), rng.randint(0, 1000)))
                return "ok"
        except BudgetExceededError:
            return "refused"
        except RuntimeError:
            return "failed"

    with ThreadPoolExecutor(N_CALLERS) as pool:
        outcomes = list(pool.map(call, range(N_CALLERS)))
    assert led.spent() <= LIMIT
    assert led.open_reservations() == 0 and led.reserved() == 0
    report = led.report().total
    assert report.calls == outcomes.count("ok")
    assert report.errors == outcomes.count("failed")
    assert outcomes.count("refused") > 0


def test_threads_carry_a_scope_with_copy_context():
    led = ledger()
    with led.scope("batch", max_calls=10):
        ctx = contextvars.copy_context()
        barrier = threading.Barrier(N_CALLERS)
        with ThreadPoolExecutor(N_CALLERS) as pool:
            futures = [
                pool.submit(ctx.copy().run, _exact_call, led, barrier, False)
                for _ in range(N_CALLERS)
            ]
            outcomes = [f.result() for f in futures]
    assert outcomes.count("ok") == 10 and outcomes.count("refused") == N_CALLERS - 10
    assert led.report("batch").total.calls == 10


async def test_64_asyncio_tasks_never_overspend():
    led = ledger(max_cost=LIMIT)
    start = asyncio.Event()

    async def call(i: int) -> str:
        await start.wait()
        try:
            async with led.reserve(MODEL, 1000, 1000) as r:
                await asyncio.sleep(0)  # the "request" is in flight here
                if i % 16 == 0:
                    raise RuntimeError
                r.settle(Usage(1000, 1000))
                return "ok"
        except BudgetExceededError:
            return "refused"
        except RuntimeError:
            return "failed"

    tasks = [asyncio.create_task(call(i)) for i in range(N_CALLERS)]
    await asyncio.sleep(0)
    start.set()
    outcomes = await asyncio.gather(*tasks)
    # Every task reserves before any settles: 20 fit, the rest are refused up front.
    assert outcomes.count("refused") == N_CALLERS - FITS
    assert outcomes.count("ok") + outcomes.count("failed") == FITS
    assert led.spent() == CALL_COST * outcomes.count("ok") <= LIMIT
    assert led.open_reservations() == 0


def test_abandoned_stream_releases_its_reservation():
    led = ledger(max_cost=LIMIT)

    def stream():
        with led.reserve(MODEL, 1000, 1000) as r:
            yield from range(10)
            r.settle(Usage(1000, 1000))

    gen = stream()
    assert next(gen) == 0 and led.open_reservations() == 1
    gen.close()  # the consumer walks away
    assert led.open_reservations() == 0 and led.reserved() == 0
    assert led.report().total.errors == 1  # GeneratorExit counts as a failed call


# -- against LocalBedrock: real boto3 / aiobotocore clients over HTTP on 127.0.0.1

NOVA = "us.amazon.nova-micro-v1:0"
ANSWER_TOKENS = 50


def _runtime(server):
    from bedrock_kit.core.chat.runtime import ConverseRuntime
    from bedrock_kit.core.transport.clients import ClientSettings

    return ConverseRuntime(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0)
    )


def _request(text: str = "What is the capital of France?", stream: bool = False):
    from bedrock_kit.core.chat.converse import build_converse_request
    from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock

    return build_converse_request(
        NOVA,
        [Message("user", (TextBlock(text),))],
        inference=InferenceConfig(max_tokens=ANSWER_TOKENS),
        stream=stream,
    )


def _converse_ops(server) -> list[str]:
    return [r.operation for r in server.requests if r.operation.startswith("Converse")]


def test_refused_call_sends_no_request_to_the_server():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock() as server:
        runtime = _runtime(server)
        request = _request()
        led = Ledger(max_cost="0.0000001")
        tokens = runtime.count_tokens(request)  # CountTokens is free; the budget is not asked
        with pytest.raises(BudgetExceededError):
            with led.reserve(NOVA, tokens, ANSWER_TOKENS) as r:
                r.settle(runtime.converse(request).usage)
        assert _converse_ops(server) == []


def test_counted_input_and_answer_fill_the_reservation_exactly():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(answer_tokens=ANSWER_TOKENS) as server:
        runtime = _runtime(server)
        request = _request()
        led = Ledger()
        with led.reserve(NOVA, runtime.count_tokens(request), ANSWER_TOKENS) as r:
            result = runtime.converse(request)
            cost = r.settle(result.usage)
        # Nova Micro has no dearer cache-write rate, so billed == reserved here.
        assert result.usage.output_tokens == ANSWER_TOKENS
        assert cost == r.cost and led.spent() == cost


def test_failed_call_releases_and_abandoned_stream_is_released():
    from bedrock_kit.errors import ThrottlingError
    from bedrock_kit.testing import LocalBedrock, Reply

    with LocalBedrock(answer_tokens=ANSWER_TOKENS, chunk_tokens=1) as server:
        runtime = _runtime(server)
        led = Ledger()
        server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
        with pytest.raises(ThrottlingError), led.reserve(NOVA, 20, ANSWER_TOKENS) as r:
            r.settle(runtime.converse(_request()).usage)

        def consume_two():
            with led.reserve(NOVA, 20, ANSWER_TOKENS) as r2:
                for delta in runtime.stream(_request(stream=True)):
                    yield delta
                    if getattr(delta, "result", None) is not None:
                        r2.settle(delta.result.usage)

        stream = consume_two()
        next(stream)
        next(stream)
        stream.close()
        assert led.open_reservations() == 0 and led.reserved() == 0
        assert led.report().total.errors == 2 and led.spent() == 0


N_SERVER = 64
SERVER_FITS = 20


def _server_limit(call_cost: Decimal) -> Decimal:
    return call_cost * SERVER_FITS + call_cost / 2


def test_64_threads_against_local_bedrock_with_latency_never_overspend():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(latency=0.05, answer_tokens=ANSWER_TOKENS) as server:
        runtime = _runtime(server)
        request = _request()
        tokens = runtime.count_tokens(request)
        call_cost = Ledger().reserve(NOVA, tokens, ANSWER_TOKENS).cost
        led = Ledger(max_cost=_server_limit(call_cost))
        barrier = threading.Barrier(N_SERVER)

        def call(_: int) -> str:
            barrier.wait()
            try:
                with led.reserve(NOVA, tokens, ANSWER_TOKENS) as r:
                    r.settle(runtime.converse(request).usage)
                return "ok"
            except BudgetExceededError:
                return "refused"

        with ThreadPoolExecutor(N_SERVER) as pool:
            outcomes = list(pool.map(call, range(N_SERVER)))
        assert outcomes.count("ok") == SERVER_FITS
        assert outcomes.count("refused") == N_SERVER - SERVER_FITS
        assert len(_converse_ops(server)) == SERVER_FITS  # refused calls sent nothing
        assert led.spent() == call_cost * SERVER_FITS <= _server_limit(call_cost)
        assert led.open_reservations() == 0


async def test_64_asyncio_tasks_against_local_bedrock_with_latency_never_overspend():
    pytest.importorskip("aiobotocore")
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(latency=0.05, answer_tokens=ANSWER_TOKENS) as server:
        runtime = _runtime(server)
        request = _request()
        tokens = await runtime.acount_tokens(request)
        call_cost = Ledger().reserve(NOVA, tokens, ANSWER_TOKENS).cost
        led = Ledger(max_cost=_server_limit(call_cost))

        async def call(i: int) -> str:
            try:
                async with led.reserve(NOVA, tokens, ANSWER_TOKENS) as r:
                    if i % 8 == 0:  # some streams, abandoned after the first delta
                        agen = runtime.astream({**request})
                        await agen.__anext__()
                        await agen.aclose()
                        raise asyncio.CancelledError
                    r.settle((await runtime.aconverse(request)).usage)
                return "ok"
            except BudgetExceededError:
                return "refused"
            except asyncio.CancelledError:
                return "abandoned"

        outcomes = await asyncio.gather(*(call(i) for i in range(N_SERVER)))
        assert outcomes.count("refused") == N_SERVER - SERVER_FITS
        ok = outcomes.count("ok")
        assert ok + outcomes.count("abandoned") == SERVER_FITS
        assert led.spent() == call_cost * ok <= _server_limit(call_cost)
        assert led.open_reservations() == 0 and led.reserved() == 0
        await runtime.pool.aclose()


def test_metered_stream_settles_on_completion_and_charges_an_abandoned_one():
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(answer_tokens=ANSWER_TOKENS, chunk_tokens=1) as server:
        runtime = _runtime(server)
        request = _request(stream=True)
        led = Ledger()
        deltas = list(led.metered(led.reserve_request(request), runtime.stream(request)))
        completed = deltas[-1].result
        assert led.spent() == led.prices.price(NOVA).cost(completed.usage) > 0
        stream = led.metered(led.reserve_request(request), runtime.stream(request))
        next(stream)
        next(stream)
        stream.close()
        assert led.open_reservations() == 0
        row = led.report().rows[0]
        # abandoned: reserved input estimate + 2 pieces received, counted as an error
        assert (row.calls, row.errors) == (2, 1)
        assert row.output_tokens == completed.usage.output_tokens + 2
        assert row.input_tokens == completed.usage.input_tokens + estimate_request_tokens(request)


async def test_ametered_stream_and_refusal_before_the_request():
    pytest.importorskip("aiobotocore")
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock(answer_tokens=ANSWER_TOKENS, chunk_tokens=1) as server:
        runtime = _runtime(server)
        request = _request(stream=True)
        led = Ledger()
        tokens = await runtime.acount_tokens(request)
        reservation = led.reserve_request(request, input_tokens=tokens)
        pieces = [d async for d in led.ametered(reservation, runtime.astream(request))]
        assert reservation.state == "settled" and pieces
        assert reservation.settled_cost == reservation.cost  # counted input, full answer
        tight = Ledger(max_cost=reservation.cost / 2)
        with pytest.raises(BudgetExceededError):
            tight.reserve_request(request, input_tokens=tokens)
        assert _converse_ops(server) == ["ConverseStream"]
        await runtime.pool.aclose()


def test_apply_guardrail_reserved_before_and_settled_to_billed_text_units():
    from bedrock_kit.core.guardrails.apply import GuardrailClient
    from bedrock_kit.core.transport.clients import ClientSettings
    from bedrock_kit.testing import LocalBedrock, Reply

    text = "x" * 1500  # 2 text units
    units = {"topicPolicyUnits": 2, "contentPolicyUnits": 2, "wordPolicyUnits": 2,
             "sensitiveInformationPolicyUnits": 0, "sensitiveInformationPolicyFreeUnits": 0,
             "contextualGroundingPolicyUnits": 0}  # fmt: skip
    with LocalBedrock() as server:
        server.script(
            "ApplyGuardrail",
            Reply.json({"action": "NONE", "outputs": [], "assessments": [], "usage": units}),
        )
        guard = GuardrailClient(
            "gr1",
            "1",
            settings=ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url),
        )
        led = Ledger(max_cost="0.01")
        with led.reserve_guardrail("gr1", len(text)) as r:
            # worst case: 2 units * every priced text policy
            # (0.15 + 0.15 + 0 + 0.10 + 0 + 0.10 + 0.17 automated reasoning) / 1000
            assert r.cost == Decimal("0.00134")
            cost = r.settle_guardrail(guard.apply(text).usage)
        assert cost == Decimal("0.0006") == led.spent()  # 2*0.15 + 2*0.15, words are free
        row = led.report().rows[0]
        assert (row.model_id, row.guardrail_text_units) == ("guardrail:gr1", 6)
        tight = Ledger(max_cost="0.0009")
        with pytest.raises(BudgetExceededError, match="guardrail:gr1"):
            tight.reserve_guardrail("gr1", len(text))
        assert [r.operation for r in server.requests] == ["ApplyGuardrail"]


def test_billed_usage_above_the_reservation_is_recorded_and_blocks_later_calls():
    led = ledger(max_cost="0.003")
    r = led.reserve(MODEL, 10, 10)  # an estimate far below the real prompt
    assert r.settle(Usage(3000, 0)) == Decimal("0.003")
    assert led.spent() == Decimal("0.003")
    with pytest.raises(BudgetExceededError, match="0 left"):
        led.reserve(MODEL, 1, 0)
