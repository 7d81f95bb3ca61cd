"""RerankRuntime against LocalBedrock: both wire forms, sync and async, pages, errors, ledger."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, load_prices, summarize
from bedrock_kit.core.rerank.runtime import RerankOptions, RerankRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockValidationError,
    BudgetExceededError,
    ConfigurationError,
    MalformedResponseError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing import rerank as replies

AMAZON = "amazon.rerank-v1:0"
COHERE = "cohere.rerank-v3-5:0"
DOCS = ["cake recipes", "tide times for today", "the tide rises twice a day"]
# Rerankers are priced per 1,000 queries: booked as the entry's input rate per query.
PRICES = {
    "models": {AMAZON: {"input": "1.00", "output": "0"}, COHERE: {"input": "2.00", "output": "0"}}
}


def runtime(server: LocalBedrock, model: str = AMAZON, **kwargs) -> RerankRuntime:
    ledger = kwargs.pop("ledger", None)
    settings = ClientSettings(
        region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0
    )
    return RerankRuntime(settings, RerankOptions(model, **kwargs), ledger=ledger)


def test_rerank_api_unscripted_scores_lexically(server: LocalBedrock) -> None:
    result = runtime(server, top_n=2).rerank("tide times", DOCS)
    assert [r.index for r in result.results] == [1, 2]
    assert [r.document for r in result.results] == DOCS[1:]
    assert result.results[0].score > result.results[1].score
    (request,) = server.requests_for("Rerank")
    assert request.body["rerankingConfiguration"]["bedrockRerankingConfiguration"] == {
        "modelConfiguration": {"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{AMAZON}"},
        "numberOfResults": 2,
    }
    assert len(result.request_ids) == 1


async def test_async_both_wire_forms(server: LocalBedrock) -> None:
    api = runtime(server, COHERE)
    invoke = runtime(server, COHERE, api="invoke", top_n=1)
    try:
        via_api = await api.arerank("tide times", DOCS)
        via_invoke = await invoke.arerank("tide times", DOCS)
    finally:
        await api.aclose()
        await invoke.aclose()
    assert [r.index for r in via_api.results] == [1, 2, 0]
    assert [r.index for r in via_invoke.results] == [1]
    assert via_invoke.response_id  # Cohere's id, unique per reply
    (sent,) = server.requests_for("InvokeModel")
    assert sent.path_params["modelId"] == COHERE
    assert sent.body == {"query": "tide times", "documents": DOCS, "api_version": 2, "top_n": 1}


def test_pages_are_followed_with_next_token(server: LocalBedrock) -> None:
    server.script(
        "Rerank",
        Reply.json({"results": [{"index": 2, "relevanceScore": 0.5}], "nextToken": "page-2"}),
        Reply.json({"results": [{"index": 0, "relevanceScore": 0.9}]}),
    )
    result = runtime(server).rerank("q", DOCS)
    assert [(r.index, r.score) for r in result.results] == [(0, 0.9), (2, 0.5)]
    first, second = server.requests_for("Rerank")
    assert "nextToken" not in first.body and second.body["nextToken"] == "page-2"


def test_errors_are_typed_and_name_the_model(server: LocalBedrock) -> None:
    server.script("Rerank", Reply.error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ThrottlingError) as info:
        runtime(server).rerank("q", DOCS)
    assert info.value.model_id == AMAZON
    server.script("Rerank", Reply.json({"results": [{"index": 9, "relevanceScore": 0.1}]}))
    with pytest.raises(MalformedResponseError, match="3 documents were sent"):
        runtime(server).rerank("q", DOCS)


def test_bad_input_is_refused_before_any_request(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match=r"documents\[0\] is empty"):
        runtime(server).rerank("q", [""])
    assert server.requests_for("Rerank") == []


def test_ledger_reserves_and_settles_billed_queries(server: LocalBedrock) -> None:
    ledger = Ledger(prices=load_prices(PRICES))
    runtime(server, COHERE, api="invoke", ledger=ledger).rerank("q", DOCS * 50)  # 150 docs
    (row,) = [r for r in ledger.report().rows if r.model_id == COHERE]
    assert (row.calls, row.input_tokens) == (1, 2)  # 2 queries
    assert ledger.spent() == Decimal("0.004")  # 2 queries at $2 per 1,000
    assert ledger.open_reservations() == 0


def test_ledger_refuses_before_the_request(server: LocalBedrock) -> None:
    ledger = Ledger(prices=load_prices(PRICES), max_cost="0.0005")
    with pytest.raises(BudgetExceededError):
        runtime(server, ledger=ledger).rerank("q", DOCS)  # one query: $0.001
    assert server.requests_for("Rerank") == []


def test_ledger_releases_on_error_and_charges_an_unreadable_answer(server: LocalBedrock) -> None:
    ledger = Ledger(prices=load_prices(PRICES))
    server.script("Rerank", Reply.error(400, "ValidationException", "bad"))
    with pytest.raises(BedrockValidationError):
        runtime(server, ledger=ledger).rerank("q", DOCS)
    assert ledger.spent() == 0 and ledger.open_reservations() == 0
    server.script("Rerank", Reply.raw(200, {"Content-Type": "application/json"}, b"{}"))
    with pytest.raises(MalformedResponseError):
        runtime(server, ledger=ledger).rerank("q", DOCS)
    assert ledger.spent() == Decimal("0.001") and ledger.open_reservations() == 0


def test_a_reranker_without_a_price_follows_the_unknown_price_policy(
    server: LocalBedrock,
) -> None:
    # The packaged table has no Cohere Rerank 3.5: it is charged, never silently free.
    ledger = Ledger()
    with pytest.warns(UserWarning, match=rf"{COHERE}.*per 1,000 queries"):
        runtime(server, COHERE, ledger=ledger).rerank("q", DOCS)
    fallback = ledger.prices.lookup(AMAZON)
    assert fallback is not None and ledger.spent() == fallback.input / 1000  # one query
    assert ledger.open_reservations() == 0
    assert summarize(ledger).by_operation["rerank"].cost == ledger.spent()
    assert any(COHERE in line for line in ledger.report().unverified_prices)
    strict = Ledger(on_unknown="error")
    with pytest.raises(ConfigurationError, match=COHERE):
        runtime(server, COHERE, ledger=strict).rerank("q", DOCS)
    assert len(server.requests_for("InvokeModel") + server.requests_for("Rerank")) == 1


def test_reply_builders_make_unique_ids_and_keep_top_n() -> None:
    first = replies.cohere_rerank_reply("q", DOCS, top_n=2)
    second = replies.cohere_rerank_reply("q", DOCS, top_n=2)
    assert first["id"] != second["id"]
    assert len(first["results"]) == 2
    assert first["meta"]["billed_units"] == {"search_units": 1}
    body = replies.rerank_reply("q", DOCS, scores=[0.1, 0.3, 0.2])
    assert [r["index"] for r in body["results"]] == [1, 2, 0]
    assert json.dumps(body)  # JSON-ready
    with pytest.raises(ValueError, match="2 scores for 3 documents"):
        replies.rerank_reply("q", DOCS, scores=[0.1, 0.2])


def test_ledger_must_be_a_ledger() -> None:
    with pytest.raises(ConfigurationError, match=r"ledger must be a bedrock_kit\.Ledger"):
        RerankRuntime(ClientSettings(), RerankOptions(AMAZON), ledger={"max_cost": 1})  # type: ignore[arg-type]
