"""ChatBedrockKit(ledger=...): budgets enforced inside the model, no callbacks needed."""

from __future__ import annotations

import asyncio

import pytest

from bedrock_kit import BudgetExceededError, Ledger
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"


def _model(server: LocalBedrock, ledger: Ledger, api: str = "converse") -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL,
        api=api,
        max_tokens=100,
        ledger=ledger,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
    )


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
def test_a_call_that_could_cross_the_limit_is_refused_before_any_request(server, mode):
    llm = _model(server, Ledger(max_cost="0.000001"))
    with pytest.raises(BudgetExceededError):
        if mode == "invoke":
            llm.invoke("hello")
        elif mode == "stream":
            list(llm.stream("hello"))
        elif mode == "ainvoke":
            asyncio.run(llm.ainvoke("hello"))
        else:
            asyncio.run(_drain(llm))
    assert server.requests == []


async def _drain(llm: ChatBedrockKit) -> None:
    async for _ in llm.astream("hello"):
        pass


def test_calls_settle_to_billed_usage(server):
    ledger = Ledger(max_cost="1")
    server.script(
        "Converse", Reply.json(converse_reply("a", usage=build_usage(40, 7, cache_read=100)))
    )
    server.script(
        "ConverseStream", Reply.events(converse_stream_events("b", usage=build_usage(30, 5)))
    )
    llm = _model(server, ledger)
    llm.invoke("q")
    list(llm.stream("q"))
    total = ledger.report().total
    assert (
        total.calls,
        total.input_tokens,
        total.output_tokens,
        total.cache_read_input_tokens,
    ) == (
        2,
        70,
        12,
        100,
    )
    assert ledger.remaining()["max_cost"] == 1 - total.cost


def test_a_failed_call_releases_its_reservation(server):
    ledger = Ledger(max_calls=1)
    server.script("Converse", Reply.error(500, "InternalServerException", "boom"))
    server.script("Converse", Reply.json(converse_reply("ok")))
    llm = ChatBedrockKit(
        model=MODEL,
        max_retries=0,
        ledger=ledger,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
    )
    with pytest.raises(Exception, match="boom"):
        llm.invoke("q")
    assert llm.invoke("q").content == "ok"  # the failed call's hold was released


def test_invoke_api_is_metered_too(server):
    ledger = Ledger(max_cost="1")
    server.script(
        "InvokeModel",
        Reply.json(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 9, "outputTokens": 2},
            }
        ),
    )
    assert _model(server, ledger, api="invoke").invoke("q").content == "hi"
    assert ledger.report().total.input_tokens == 9
