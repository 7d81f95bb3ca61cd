"""The packaged table prices rerank queries from its ``rerank`` section, so a ledger with the
default prices charges Amazon Rerank (it used to find no model entry and charge nothing)."""

from __future__ import annotations

from decimal import Decimal

from bedrock_kit import Ledger, summarize
from bedrock_kit.core.budget.pricing import default_prices
from bedrock_kit.core.rerank.runtime import RerankOptions, RerankRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock

AMAZON = "amazon.rerank-v1:0"


def test_the_rerank_section_prices_a_query_as_the_ledger_books_it() -> None:
    entry = default_prices().lookup(AMAZON)
    assert entry is not None and entry.operation == "rerank" and entry.output == 0
    # One query of up to 100 documents at the section's per-1,000-queries rate.
    assert entry.input / 1000 == default_prices().rerank_cost(AMAZON, 1)
    assert not entry.verified and entry.source and entry.as_of


def test_a_default_ledger_charges_amazon_rerank_per_query(server: LocalBedrock) -> None:
    ledger = Ledger(max_cost=1)
    settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    runtime = RerankRuntime(settings, RerankOptions(AMAZON), ledger=ledger)
    runtime.rerank("tides", ["tide times"] * 150)  # 150 documents: two billed queries
    (row,) = ledger.report().rows
    assert (row.model_id, row.input_tokens) == (AMAZON, 2)
    assert ledger.spent() == default_prices().rerank_cost(AMAZON, 2, documents=150)
    assert ledger.spent() == Decimal("0.002")
    assert list(summarize(ledger).by_operation) == ["rerank"]
