"""Guardrail text units charged through ``ledger=``: ApplyGuardrail in the core and both
adapters (sync and async), guardrails inside Converse, and one charge per request id when a
budget callback sees the same response."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bedrock_kit import BudgetExceededError, Ledger
from bedrock_kit.core.budget.operations import (
    OUTPUT_CHARACTERS_PER_TOKEN,
    check_policies,
    request_guardrail_worst_cost,
)
from bedrock_kit.core.budget.pricing import default_prices
from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError, MalformedResponseError
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply

TEXT = "x" * 1500  # 2 text units per policy
# What LocalBedrock bills for the check: 2 content + 2 topic units, 2 free word units.
UNITS = {"contentPolicyUnits": 2, "topicPolicyUnits": 2, "wordPolicyUnits": 2}
BILLED = Decimal("0.0006")  # (2 * 0.15 + 2 * 0.15 + 2 * 0) / 1000
MODEL = "us.amazon.nova-micro-v1:0"


def _reply(action: str = "NONE") -> Reply:
    return Reply.json({"action": action, "outputs": [], "assessments": [], "usage": UNITS})


def _client(server: LocalBedrock, ledger: Ledger, **kw: object) -> GuardrailClient:
    settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    return GuardrailClient("gr1", "1", settings=settings, ledger=ledger, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_apply_guardrail_is_reserved_from_the_text_and_settled_to_the_usage(mode: str) -> None:
    with LocalBedrock() as server:
        server.script("ApplyGuardrail", _reply())
        ledger = Ledger(max_cost="1")
        client = _client(server, ledger, policies=["content", "topic", "word"])
        result = client.apply(TEXT) if mode == "sync" else asyncio.run(client.aapply(TEXT))
        assert [r.operation for r in server.requests] == ["ApplyGuardrail"]
    assert ledger.spent() == BILLED == default_prices().guardrail_cost(result.usage)
    (row,) = ledger.report().rows
    assert (row.model_id, row.guardrail_text_units, row.calls) == ("guardrail:gr1", 6, 1)
    assert ledger.open_reservations() == 0


def test_the_reservation_holds_only_the_configured_policies_and_refuses_before_sending() -> None:
    # content + topic: 2 units * 0.30 / 1000 = 0.0006 fits 0.0007; every priced text policy
    # (0.67 per 1,000 units) would need 0.00134 and is refused, before any request.
    with LocalBedrock() as server:
        server.script("ApplyGuardrail", _reply())
        narrow = _client(server, Ledger(max_cost="0.0007"), policies=["content", "topic"])
        narrow.apply(TEXT)
        wide = _client(server, Ledger(max_cost="0.0007"))
        with pytest.raises(BudgetExceededError, match="guardrail:gr1"):
            wide.apply(TEXT)
        assert len(server.requests) == 1


def test_unknown_policy_names_are_refused_by_name() -> None:
    assert check_policies(["content", "sensitive_information_policy_units"]) == (
        "content_policy_units",
        "sensitive_information_policy_units",
    )
    with pytest.raises(ConfigurationError, match="unknown guardrail policy 'toxicity'"):
        check_policies(["toxicity"], guardrail_id="gr1")


def test_a_malformed_answer_is_charged_its_reservation_and_an_error_releases() -> None:
    with LocalBedrock() as server:
        server.script("ApplyGuardrail", Reply.json({"outputs": []}))  # no action: malformed
        server.script("ApplyGuardrail", Reply.error(400, "ValidationException", "bad"))
        ledger = Ledger()
        client = _client(server, ledger, policies=["content"])
        with pytest.raises(MalformedResponseError):
            client.apply(TEXT)
        assert ledger.spent() == Decimal("0.0003")  # the whole hold: 2 units * 0.15
        with pytest.raises(Exception, match="bad"):
            client.apply(TEXT)
    assert ledger.spent() == Decimal("0.0003") and ledger.open_reservations() == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_langchain_guardrail_runnable_charges_its_ledger(mode: str) -> None:
    from bedrock_kit.langchain import BedrockGuardrail

    with LocalBedrock() as server:
        server.script("ApplyGuardrail", _reply())
        ledger = Ledger()
        guard = BedrockGuardrail(
            guardrail_id="gr1",
            guardrail_version="1",
            ledger=ledger,
            guardrail_policies=["content", "topic"],
            **server.client_kwargs(),
        )
        out = guard.invoke(TEXT) if mode == "sync" else asyncio.run(guard.ainvoke(TEXT))
    assert out == TEXT
    assert ledger.spent() == BILLED
    assert ledger.report().rows[0].model_id == "guardrail:gr1"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_llama_index_guardrail_charges_its_ledger(mode: str) -> None:
    from bedrock_kit.llama_index import BedrockGuardrail

    with LocalBedrock() as server:
        server.script("ApplyGuardrail", _reply())
        ledger = Ledger()
        guard = BedrockGuardrail(
            guardrail_id="gr1", guardrail_version="1", ledger=ledger, **server.client_kwargs()
        )
        if mode == "sync":
            guard.core.apply(TEXT)
        else:
            asyncio.run(guard.core.aapply(TEXT))
    assert ledger.spent() == BILLED


def test_a_converse_guardrail_is_reserved_before_the_call() -> None:
    prices = default_prices()
    request = {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": [{"text": "y" * 2500}]}],
        "inferenceConfig": {"maxTokens": 100},
        "guardrailConfig": {"guardrailIdentifier": "gr1", "guardrailVersion": "1"},
    }
    # input 2,500 characters: 3 units; output 100 tokens * 8 characters: 1 unit; per unit
    # every priced text policy (0.67 per 1,000).
    assert OUTPUT_CHARACTERS_PER_TOKEN == 8
    assert request_guardrail_worst_cost(prices, request, 100) == Decimal("0.00268")
    ledger = Ledger(count_tokens=False)
    with ledger.reserve_request(request, input_tokens=700) as held:
        tokens_only = (700 * Decimal("0.000035") + 100 * Decimal("0.00014")) / 1000
        assert held.cost == tokens_only + Decimal("0.00268")
    plain = {k: v for k, v in request.items() if k != "guardrailConfig"}
    assert request_guardrail_worst_cost(prices, plain, 100) == 0


def _trace(content: int, topic: int) -> dict[str, object]:
    return {
        "guardrail": {
            "inputAssessment": {
                "gr1": {"invocationMetrics": {"usage": {"contentPolicyUnits": content}}}
            },
            "outputAssessments": {
                "gr1": [{"invocationMetrics": {"usage": {"topicPolicyUnits": topic}}}]
            },
        }
    }


def test_chat_model_with_ledger_and_a_budget_callback_charges_once_per_request() -> None:
    from bedrock_kit.langchain import ChatBedrockKit, TokenBudgetCallbackHandler

    with LocalBedrock() as server:
        body = converse_reply("ok", usage=build_usage(40, 7), trace=_trace(3, 1))
        server.script("Converse", Reply.json(body))
        ledger = Ledger()
        llm = ChatBedrockKit(
            model=MODEL,
            max_tokens=50,
            ledger=ledger,
            guardrails={"guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "enabled"},
            **server.client_kwargs(),
        )
        llm.invoke("hi", config={"callbacks": [TokenBudgetCallbackHandler(ledger)]})
        assert len(server.requests) == 1
    rows = {r.model_id: r for r in ledger.report().rows}
    assert rows[MODEL].calls == 1 and rows[MODEL].input_tokens == 40
    assert rows["guardrail:gr1"].guardrail_text_units == 4  # not 8
    tokens = (40 * Decimal("0.000035") + 7 * Decimal("0.00014")) / 1000
    assert ledger.spent() == tokens + Decimal("0.0006")  # 4 units * 0.15 / 1000
    assert ledger.open_reservations() == 0


def test_llama_index_budget_handler_on_top_of_a_ledger_charges_once() -> None:
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.callbacks import CallbackManager

    from bedrock_kit.llama_index import BedrockKitLLM, TokenBudgetHandler

    with LocalBedrock() as server:
        body = converse_reply("ok", usage=build_usage(40, 7), trace=_trace(3, 1))
        server.script("Converse", Reply.json(body))
        ledger = Ledger()
        llm = BedrockKitLLM(
            model=MODEL,
            max_tokens=50,
            ledger=ledger,
            callback_manager=CallbackManager([TokenBudgetHandler(ledger)]),
            **server.client_kwargs(),
        )
        llm.chat([ChatMessage(role="user", content="hi")])
    rows = {r.model_id: r for r in ledger.report().rows}
    assert rows[MODEL].calls == 1
    assert ledger.open_reservations() == 0
