"""The ledger fails closed: every way a call can end is charged by the documented rules.

Pure tests on literal stream deltas (the metering rules), plus CountTokens reservations
against LocalBedrock (real HTTP): exact, cached per identical request, sync and async.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    StopDelta,
    StreamDelta,
    TextDelta,
    ToolCallDelta,
)
from bedrock_kit.core.chat.token_estimate import estimate_request_tokens, estimate_text_tokens
from bedrock_kit.core.chat.types import ConverseResult, Message, TextBlock, Usage
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockConnectionError,
    BudgetExceededError,
    MalformedResponseError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply

PRICES = load_prices(
    {
        "models": {
            "acme.flat-v1": {
                "input": "0.001", "output": "0.002", "cache_read": "0.0001", "cache_write": "0.001"
            },
            "anthropic.claude-sonnet-4-20250514-v1:0": {
                "input": "0.003", "output": "0.015", "cache_read": "0.0003",
                "cache_write": "0.00375",
            },
        }
    }
)  # fmt: skip
MODEL = "acme.flat-v1"
CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "us.amazon.nova-micro-v1:0"


def ledger(**options) -> Ledger:
    return Ledger(prices=PRICES, **options)


def result(usage: Usage, text: str = "done") -> ConverseResult:
    return ConverseResult(
        message=Message("assistant", (TextBlock(text),)),
        stop_reason="end_turn",
        raw_stop_reason="end_turn",
        usage=usage,
        model_id=MODEL,
    )


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    return (
        Decimal(input_tokens) * Decimal("0.001") + Decimal(output_tokens) * Decimal("0.002")
    ) / 1000


RECEIVED = ["人工智能", "正在改变 ", "our lives 🚀"]


def deltas_then(failure: BaseException | None, *, complete: Usage | None = None):
    def gen() -> Iterator[StreamDelta]:
        yield ToolCallDelta(1, "t1", "lookup", "")
        for piece in RECEIVED:
            yield TextDelta(0, piece)
        yield ReasoningDelta(2, "hmm")
        if failure is not None:
            raise failure
        if complete is not None:
            yield StopDelta("end_turn", "end_turn")
            yield CompletedDelta(result(complete))

    return gen


def received_estimate() -> int:
    return estimate_text_tokens("lookup" + "".join(RECEIVED) + "hmm")


# -- settle rules on streams


@pytest.mark.parametrize(
    "failure",
    [
        BedrockConnectionError("connection reset"),
        MalformedResponseError("metadata is not JSON"),
        ThrottlingError("in-stream throttlingException"),
        RuntimeError("anything at all"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_stream_failing_after_output_is_charged_input_plus_output_received(failure):
    led = ledger()
    reservation = led.reserve(MODEL, 500, 1000)
    with pytest.raises(type(failure)):
        list(led.metered(reservation, deltas_then(failure)()))
    row = led.report().total
    assert (row.input_tokens, row.output_tokens) == (500, received_estimate())
    assert (row.partial, row.errors, row.calls, row.usage_missing) == (1, 1, 1, 0)
    assert led.spent() == cost(500, received_estimate())
    assert led.open_reservations() == 0 and led.reserved() == 0


async def test_async_stream_failing_after_output_is_charged_the_same():
    led = ledger()
    reservation = led.reserve(MODEL, 500, 1000)

    async def failing() -> AsyncIterator[StreamDelta]:
        for delta in deltas_then(BedrockConnectionError("cut"))():
            yield delta

    with pytest.raises(BedrockConnectionError):
        async for _ in led.ametered(reservation, failing()):
            pass
    assert led.spent() == cost(500, received_estimate())
    assert led.report().total.partial == 1 and led.open_reservations() == 0


def test_partial_output_is_capped_at_max_output_tokens():
    led = ledger()
    reservation = led.reserve(MODEL, 500, 3)  # the model cannot have been billed more than 3
    with pytest.raises(BedrockConnectionError):
        list(led.metered(reservation, deltas_then(BedrockConnectionError("cut"))()))
    assert led.report().total.output_tokens == 3
    assert led.spent() == cost(500, 3) <= reservation.cost


def test_a_failure_before_any_output_releases():
    led = ledger()

    def nothing() -> Iterator[StreamDelta]:
        raise ThrottlingError("throttled before the first event")
        yield  # pragma: no cover

    with pytest.raises(ThrottlingError):
        list(led.metered(led.reserve(MODEL, 500, 1000), nothing()))
    row = led.report().total
    assert (led.spent(), row.errors, row.partial, row.calls) == (0, 1, 0, 0)


def test_a_stream_ending_without_a_result_after_output_is_partial():
    led = ledger()
    list(led.metered(led.reserve(MODEL, 500, 1000), deltas_then(None)()))
    assert led.report().total.partial == 1
    assert led.spent() == cost(500, received_estimate())


def test_a_completed_stream_without_usage_is_charged_its_full_reservation():
    led = ledger()
    reservation = led.reserve(MODEL, 500, 1000)
    list(led.metered(reservation, deltas_then(None, complete=Usage())()))
    row = led.report().total
    assert led.spent() == reservation.cost == cost(500, 1000)
    assert (row.usage_missing, row.partial, row.input_tokens, row.output_tokens) == (
        1,
        0,
        500,
        1000,
    )


def test_a_failure_after_message_stop_is_charged_the_full_reservation():
    led = ledger()

    def stop_then_malformed_metadata() -> Iterator[StreamDelta]:
        yield TextDelta(0, "all of the answer")
        yield StopDelta("end_turn", "end_turn")
        raise MalformedResponseError("metadata without usage")

    reservation = led.reserve(MODEL, 500, 1000)
    with pytest.raises(MalformedResponseError):
        list(led.metered(reservation, stop_then_malformed_metadata()))
    row = led.report().total
    assert led.spent() == reservation.cost and (row.usage_missing, row.partial) == (1, 0)


def test_an_error_after_completion_does_not_charge_twice():
    led = ledger()

    def done_then_fail() -> Iterator[StreamDelta]:
        yield from deltas_then(None, complete=Usage(40, 7))()
        raise MalformedResponseError("a second metadata event")

    with pytest.raises(MalformedResponseError):
        list(led.metered(led.reserve(MODEL, 500, 1000), done_then_fail()))
    assert led.spent() == cost(40, 7) and led.report().total.calls == 1


def test_an_abandoned_stream_is_charged_as_before():
    led = ledger()
    stream = led.metered(led.reserve(MODEL, 500, 1000), deltas_then(None)())
    next(stream), next(stream)  # the tool start and one text piece
    stream.close()
    row = led.report().total
    assert (row.input_tokens, row.output_tokens, row.errors, row.partial) == (500, 2, 1, 0)


async def test_a_cancelled_async_stream_is_charged_as_before():
    led = ledger()

    async def slow() -> AsyncIterator[StreamDelta]:
        yield TextDelta(0, "x")
        await asyncio.sleep(30)
        yield TextDelta(0, "never")  # pragma: no cover

    async def consume() -> None:
        async for _ in led.ametered(led.reserve(MODEL, 500, 1000), slow()):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = led.report().total
    assert (row.input_tokens, row.output_tokens, row.errors) == (500, 1, 1)
    assert led.open_reservations() == 0


def test_a_non_stream_result_without_usage_is_charged_its_full_reservation():
    led = ledger()
    reservation = led.reserve(MODEL, 500, 1000)
    assert reservation.settle_result(result(Usage())) == reservation.cost
    assert led.report().total.usage_missing == 1


def test_billing_above_an_estimated_reservation_is_counted_as_an_overrun():
    led = ledger(max_cost=cost(10, 10) * 3)
    reservation = led.reserve(MODEL, prompt="hi", max_output_tokens=10)
    assert reservation.estimated
    reservation.settle(Usage(reservation.input_tokens * 10, 10))
    row = led.report().total
    assert (row.overruns, row.estimated) == (1, 1)
    with pytest.raises(BudgetExceededError):  # the crossing is seen: later calls refused
        led.reserve(MODEL, 10, 10)


# -- CountTokens reservations, against LocalBedrock


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as running:
        yield running


def runtime_for(server: LocalBedrock) -> ConverseRuntime:
    settings = ClientSettings(
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        max_retries=0,
    )
    return ConverseRuntime(settings)


def converse_request(model: str, text: str = "你好, 世界 🌏") -> dict:
    return {
        "modelId": model,
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": 100},
    }


def test_count_tokens_reserves_exactly_and_is_cached_per_identical_request(server):
    server.set_default("CountTokens", Reply.json({"inputTokens": 321}))
    led, runtime = ledger(), runtime_for(server)
    first = led.reserve_request(converse_request(CLAUDE), runtime=runtime)
    again = led.reserve_request(converse_request(CLAUDE), runtime=runtime)
    other = led.reserve_request(converse_request(CLAUDE, "another prompt"), runtime=runtime)
    assert (first.input_tokens, first.source) == (321, "count_tokens")
    assert (again.input_tokens, again.source) == (321, "cache")
    assert other.source == "count_tokens"
    counted = server.requests_for("CountTokens")
    assert len(counted) == 2  # the identical request was not counted twice
    # CountTokens takes the foundation model id, not the inference profile
    assert counted[0].path_params["modelId"] == CLAUDE.removeprefix("us.")
    assert led.counter.calls == 2 and led.counter.hits == 1


async def test_count_tokens_is_used_and_cached_on_the_async_path_too(server):
    server.set_default("CountTokens", Reply.json({"inputTokens": 77}))
    led, runtime = ledger(), runtime_for(server)
    reservations = [
        await led.areserve_request(converse_request(CLAUDE), runtime=runtime) for _ in range(3)
    ]
    assert [r.input_tokens for r in reservations] == [77, 77, 77]
    assert [r.source for r in reservations] == ["count_tokens", "cache", "cache"]
    assert len(server.requests_for("CountTokens")) == 1


def test_the_count_cache_is_bounded(server):
    server.set_default("CountTokens", Reply.json({"inputTokens": 5}))
    led, runtime = ledger(count_cache_size=2), runtime_for(server)
    for text in ("a", "b", "c", "a"):  # "a" was evicted by "c"
        led.reserve_request(converse_request(CLAUDE, text), runtime=runtime)
    assert len(server.requests_for("CountTokens")) == 4
    assert len(led.counter._cache) == 2


def test_count_tokens_off_models_without_it_and_invoke_bodies_use_the_estimate(server):
    server.set_default("CountTokens", Reply.json({"inputTokens": 5}))
    runtime = runtime_for(server)
    off = ledger(count_tokens=False).reserve_request(converse_request(CLAUDE), runtime=runtime)
    nova = Ledger().reserve_request(converse_request(NOVA), runtime=runtime)
    invoke = ledger().reserve_request(
        {"modelId": CLAUDE, "body": b'{"messages": []}'}, runtime=runtime
    )
    assert {off.source, nova.source, invoke.source} == {"estimate"}
    assert off.input_tokens == estimate_request_tokens(converse_request(CLAUDE))
    assert server.requests_for("CountTokens") == []


def test_a_refusal_to_count_is_remembered_and_a_passing_failure_is_not(server):
    refusal = Reply.error(
        400, "ValidationException", "The provided model doesn't support counting tokens"
    )
    throttled = Reply.error(429, "ThrottlingException", "slow down")
    server.script("CountTokens", throttled, Reply.json({"inputTokens": 9}))
    led, runtime = ledger(), runtime_for(server)
    first = led.reserve_request(converse_request(CLAUDE, "one"), runtime=runtime)
    second = led.reserve_request(converse_request(CLAUDE, "two"), runtime=runtime)
    assert (first.source, second.source, second.input_tokens) == ("estimate", "count_tokens", 9)
    server.script("CountTokens", refusal)
    for text in ("three", "four", "five"):
        assert led.reserve_request(converse_request(CLAUDE, text), runtime=runtime).estimated
    assert len(server.requests_for("CountTokens")) == 3  # not asked again after the refusal
    assert led.counter.failures == 2


@pytest.mark.parametrize("answer", [{"inputTokens": 0}, {"inputTokens": -4}, {"nope": 1}])
def test_a_count_that_cannot_be_right_falls_back_to_the_estimate(server, answer):
    server.set_default("CountTokens", Reply.json(answer))
    reservation = ledger().reserve_request(converse_request(CLAUDE), runtime=runtime_for(server))
    assert reservation.estimated
    assert reservation.input_tokens == estimate_request_tokens(converse_request(CLAUDE))
