"""BedrockKitLLM(ledger=...): budgets enforced inside the LLM, no callback manager needed."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import ChatMessage

from bedrock_kit import BudgetExceededError, Ledger
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
HELLO = [ChatMessage(role="user", content="hello")]


def _llm(server: LocalBedrock, ledger: Ledger) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=MODEL,
        max_tokens=100,
        ledger=ledger,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
    )


@pytest.mark.parametrize("mode", ["chat", "achat", "stream_chat"])
def test_refused_before_any_request(server, mode):
    llm = _llm(server, Ledger(max_cost="0.000001"))
    with pytest.raises(BudgetExceededError):
        if mode == "chat":
            llm.chat(HELLO)
        elif mode == "achat":
            asyncio.run(llm.achat(HELLO))
        else:
            list(llm.stream_chat(HELLO))
    assert server.requests == []


def test_settles_to_billed_usage(server):
    ledger = Ledger(max_cost="1")
    server.script("Converse", Reply.json(converse_reply("a", usage=build_usage(40, 7))))
    server.script(
        "ConverseStream", Reply.events(converse_stream_events("b", usage=build_usage(30, 5)))
    )
    llm = _llm(server, ledger)
    llm.chat(HELLO)
    list(llm.stream_chat(HELLO))
    total = ledger.report().total
    assert (total.calls, total.input_tokens, total.output_tokens) == (2, 70, 12)
