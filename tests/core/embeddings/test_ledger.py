"""Embeddings and the budget ledger: reserve before each call, settle to the reported tokens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bedrock_kit import Ledger, load_prices
from bedrock_kit.core.budget.pricing import UnknownModelPriceWarning
from bedrock_kit.core.embeddings.runtime import EmbeddingOptions, EmbeddingsRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BedrockValidationError, BudgetExceededError, ConfigurationError
from bedrock_kit.testing import LocalBedrock, Reply

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
# Embedding prices are not in the packaged table (another change owns it): given here.
PRICES = {
    "models": {
        TITAN: {"input": "0.00002", "output": "0"},
        COHERE: {"input": "0.0001", "output": "0"},
    }
}


def runtime(server: LocalBedrock, model: str, ledger: Ledger, **kwargs: Any) -> EmbeddingsRuntime:
    settings = ClientSettings(
        region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0
    )
    return EmbeddingsRuntime(settings, EmbeddingOptions(model), ledger=ledger, **kwargs)


def row(ledger: Ledger, model: str) -> Any:
    return next(r for r in ledger.report().rows if r.model_id == model)


def test_each_titan_call_is_reserved_then_settled_to_its_tokens(server: LocalBedrock) -> None:
    server.script(
        "InvokeModel",
        Reply.json({"embedding": [0.1], "inputTextTokenCount": 400}),
        Reply.json({"embedding": [0.2], "inputTextTokenCount": 600}),
    )
    ledger = Ledger(prices=load_prices(PRICES))
    seen: list[int] = []
    result = runtime(server, TITAN, ledger, on_usage=lambda _, n: seen.append(n)).embed(["a", "b"])
    assert result.usage.input_tokens == 1000 and seen == [400, 600]
    usage = row(ledger, TITAN)
    assert (usage.calls, usage.input_tokens, usage.usage_missing) == (2, 1000, 0)
    assert ledger.spent() == Decimal("0.00002")  # 1,000 tokens at $0.00002 per 1,000
    assert ledger.open_reservations() == 0


async def test_async_cohere_batches_are_reserved_each(server: LocalBedrock) -> None:
    ledger = Ledger(prices=load_prices(PRICES))
    embedder = runtime(server, COHERE, ledger)  # unscripted: LocalBedrock's default answers
    try:
        result = await embedder.aembed([f"text {i}" for i in range(100)])
    finally:
        await embedder.aclose()
    assert result.calls == 2
    usage = row(ledger, COHERE)
    assert usage.calls == 2 and usage.input_tokens == result.usage.input_tokens > 0
    assert ledger.open_reservations() == 0


def test_a_call_that_does_not_fit_is_refused_before_it_is_sent(server: LocalBedrock) -> None:
    ledger = Ledger(prices=load_prices(PRICES), max_input_tokens=5)
    with pytest.raises(BudgetExceededError):
        runtime(server, TITAN, ledger).embed(["a long text " * 20])
    assert server.requests_for("InvokeModel") == []


def test_unreported_usage_is_charged_its_reservation(server: LocalBedrock) -> None:
    server.script("InvokeModel", Reply.json({"embeddings": [[0.1]], "texts": ["a"]}))
    ledger = Ledger(prices=load_prices(PRICES))
    result = runtime(server, COHERE, ledger).embed(["a"])
    assert result.unreported_calls == 1
    usage = row(ledger, COHERE)
    assert usage.usage_missing == 1 and usage.input_tokens > 0
    assert ledger.open_reservations() == 0


async def test_a_failed_call_is_released_and_counted(server: LocalBedrock) -> None:
    server.script("InvokeModel", Reply.error(400, "ValidationException", "bad"))
    ledger = Ledger(prices=load_prices(PRICES))
    embedder = runtime(server, TITAN, ledger)
    try:
        with pytest.raises(BedrockValidationError):
            await embedder.aembed(["a"])
    finally:
        await embedder.aclose()
    assert ledger.spent() == 0 and ledger.open_reservations() == 0
    assert row(ledger, TITAN).errors == 1


def test_a_missing_price_follows_the_ledgers_unknown_model_policy(server: LocalBedrock) -> None:
    unpriced = "amazon.titan-embed-text-v1"  # Titan v2 is in the packaged table now; v1 is not
    with pytest.warns(UnknownModelPriceWarning, match=unpriced):
        runtime(server, unpriced, Ledger()).embed(["a"])
    strict = Ledger(on_unknown="error")
    with pytest.raises(ConfigurationError, match="no price for model"):
        runtime(server, unpriced, strict).embed(["b"])
    assert len(server.requests_for("InvokeModel")) == 1  # the strict one never went out


def test_on_usage_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="on_usage must be callable"):
        EmbeddingsRuntime(ClientSettings(), EmbeddingOptions(TITAN), on_usage=3)  # type: ignore[arg-type]


def test_ledger_must_be_a_ledger() -> None:
    with pytest.raises(ConfigurationError, match=r"ledger must be a bedrock_kit\.Ledger"):
        EmbeddingsRuntime(ClientSettings(), EmbeddingOptions(TITAN), ledger=object())  # type: ignore[arg-type]
