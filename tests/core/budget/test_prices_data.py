"""The packaged price data: every entry sourced, dated and graded; the facts' figures honoured.

The facts file (``../shared/facts/bedrock-prices.json``) is read when present to check that
the table carries its figures; the structural checks run without it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.model_ids import priced_model_id, split_qualifiers
from bedrock_kit.core.budget.pricing import (
    RetiredModelWarning,
    UnknownPriceWarning,
    batch_price,
    default_prices,
    load_prices,
)
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import BudgetExceededError, ConfigurationError

FACTS = Path(__file__).resolve().parents[4] / "shared" / "facts" / "bedrock-prices.json"
EVIDENCE = {"aws_page", "aws_docs", "aws_github", "anthropic_page", "unverified"}
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1"
HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1"
NOVA_PRO = "amazon.nova-pro-v1"
M = Decimal(1000)  # the table is per 1,000 tokens, the facts per 1M


def _data() -> dict[str, Any]:
    text = resources.files("bedrock_kit.core.budget").joinpath("prices.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _facts() -> dict[str, Any]:
    if not FACTS.exists():
        pytest.skip("facts file not available")
    return {f["id"]: f for f in json.loads(FACTS.read_text())["verified"]}


def _priced_entries() -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every entry of the data file that states a price or a rule, with a path for messages."""
    data = _data()
    for key in ("batch",):
        yield key, data[key]
    for tier in ("priority", "flex"):
        yield f"service_tiers.{tier}", data["service_tiers"][tier]
    for model_id, raw in data["models"].items():
        yield model_id, raw
        for section in ("batch", "long_context", "latency_optimized", "lifecycle"):
            if section in raw:
                yield f"{model_id}.{section}", raw[section]
        for name, spec in (raw.get("variants") or {}).items():
            yield f"{model_id}.variants.{name}", spec
        for name, spec in (raw.get("service_tiers") or {}).items():
            yield f"{model_id}.service_tiers.{name}", spec
    for policy, spec in data["guardrails"]["policies"].items():
        yield f"guardrails.{policy}", spec
    for model_id, spec in data["rerank"].items():
        yield f"rerank.{model_id}", spec
    yield "flows", data["flows"]
    yield "provisioned_tokens", data["provisioned_tokens"]
    for section in ("customization", "provisioned_throughput"):
        yield section, data[section]
        for model_id, spec in data[section]["models"].items():
            yield f"{section}.{model_id}", spec


def test_every_entry_has_unit_source_date_and_evidence() -> None:
    entries = list(_priced_entries())
    assert len(entries) > 60
    for path, entry in entries:
        lifecycle = path.endswith(".lifecycle")
        if not path.endswith((".long_context", ".batch", ".latency_optimized")) and not lifecycle:
            assert entry.get("unit") or path.count(".") >= 2, f"{path}: no unit"
        assert str(entry.get("source", "")).startswith("https://"), f"{path}: no source URL"
        assert entry.get("as_of"), f"{path}: no date"
        assert entry.get("evidence") in EVIDENCE, f"{path}: evidence {entry.get('evidence')!r}"
    for model_id, raw in _data()["models"].items():
        assert raw.get("region_scope"), model_id
        assert raw.get("unit") == "USD per 1,000 tokens", model_id


def test_customization_and_provisioned_rates_stay_null_and_unverified() -> None:
    # No source in reach gives a figure (facts: "unverified"): none may appear in the table.
    data = _data()
    for model_id, spec in data["customization"]["models"].items():
        assert spec["train"] is None and spec["storage_month"] is None, model_id
        assert spec["evidence"] == "unverified"
    provisioned = data["provisioned_throughput"]["models"]
    assert SONNET_45 in provisioned
    assert all(spec["hourly"] is None for spec in provisioned.values())


def test_explicit_tier_figures_scale_input_and_output_alike() -> None:
    # PriceTable scales a variant's rates by the input ratio of explicit figures: the data
    # must keep input and output ratios equal for that to be exact.
    for model_id, raw in _data()["models"].items():
        sections = [raw.get("batch"), raw.get("latency_optimized")]
        sections += list((raw.get("service_tiers") or {}).values())
        for spec in filter(None, sections):
            if spec.get("input") is None:
                continue
            ratio_in = Decimal(spec["input"]) / Decimal(raw["input"])
            ratio_out = Decimal(spec["output"]) / Decimal(raw["output"])
            assert ratio_in == ratio_out, (model_id, spec)


def test_the_facts_figures_are_in_the_table() -> None:
    facts = _facts()
    table = default_prices()
    for fact_id, key in (
        ("anthropic.claude-opus-4-5.on_demand", "anthropic.claude-opus-4-5-20251101-v1"),
        ("anthropic.claude-sonnet-4-5.on_demand", SONNET_45),
        ("anthropic.claude-haiku-4-5.on_demand", HAIKU_45),
        ("amazon.nova-pro-v1.on_demand", NOVA_PRO),
        ("amazon.nova-micro-v1.on_demand", "amazon.nova-micro-v1"),
    ):
        entry = table.price(f"global.{key}")
        value = facts[fact_id]["value"]
        assert entry.input * M == Decimal(str(value["input"])), fact_id
        assert entry.output * M == Decimal(str(value["output"])), fact_id
        assert entry.evidence == facts[fact_id]["evidence"] == "aws_github"
    long = facts["anthropic.claude-sonnet-4-5.long_context"]["value"]
    lc = table.price(f"global.{SONNET_45}").long_context
    assert lc is not None
    assert (
        (lc.input * M, lc.output * M)
        == (Decimal("6.00"), Decimal("22.50"))
        == (
            Decimal(str(long["input"])),
            Decimal(str(long["output"])),
        )
    )
    assert lc.cache_write_1h is not None and lc.cache_write_1h * M == Decimal(
        str(long["cache_write_1h"])
    )
    latency = facts["amazon.nova-pro-v1.latency_optimized"]["value"]
    optimized = table.price(f"optimized:us.{NOVA_PRO}:0")
    assert optimized.input * M == Decimal(str(latency["input"]))
    assert optimized.output * M == Decimal(str(latency["output"]))
    haiku_geo = facts["anthropic.claude-haiku-4-5.geo_profile"]["value"]
    assert table.price(f"us.{HAIKU_45}:0").input == Decimal(str(haiku_geo["input"]))
    for model_id, date in facts["lifecycle.bedrock_eol_dates"]["value"].items():
        if "Legacy" in date:
            continue
        with pytest.warns(RetiredModelWarning):
            assert table.price(model_id).retired == date, model_id


def test_long_context_request_is_reserved_and_settled_at_the_higher_rate() -> None:
    ledger = Ledger()
    model = f"global.{SONNET_45}:0"
    # 150K input: Standard rates, every input token reserved at the 1 h cache-write rate.
    with ledger.reserve(model, 150_000, 1000) as short:
        assert short.cost == (150_000 * Decimal("0.006") + 1000 * Decimal("0.015")) / M
    # 250K input: the whole request at the long-context rates (1 h write 12.00 per 1M).
    with ledger.reserve(model, 250_000, 1000) as long:
        assert long.cost == (250_000 * Decimal("0.012") + 1000 * Decimal("0.0225")) / M
        # Settled: 150K uncached + 60K cache read = 210K input > 200K: all at 6/22.50/0.60.
        usage = Usage(150_000, 1000, cache_read_input_tokens=60_000)
        cost = long.settle(usage)
    assert (
        cost
        == (150_000 * Decimal("0.006") + 1000 * Decimal("0.0225") + 60_000 * Decimal("0.0006")) / M
    )
    # At exactly 200K the Standard rates still apply.
    assert default_prices().price(model).cost(Usage(200_000, 0)) == Decimal("0.6")


def test_a_long_context_call_the_old_table_would_have_let_through_is_refused() -> None:
    # Standard worst case of 250K in + 1K out: 250000*0.006 + 1000*0.015 = 1.515 USD;
    # the long-context worst case is 3.0225 USD. A 2 USD budget must refuse it.
    ledger = Ledger(max_cost="2")
    with pytest.raises(BudgetExceededError, match="max_cost"):
        ledger.reserve(f"global.{SONNET_45}:0", 250_000, 1000)


def test_batch_is_half_of_on_demand_and_explicit_figures_win() -> None:
    table = default_prices()
    for model_id in (f"us.{NOVA_PRO}:0", f"global.{SONNET_45}:0", f"us.{HAIKU_45}:0"):
        on_demand, batch = table.price(model_id), batch_price(model_id)
        assert batch.input == on_demand.input / 2 and batch.output == on_demand.output / 2
        assert batch.qualifiers == ("batch",) and "batch" not in batch.unverified, model_id
    # Explicit Sonnet 4.5 batch figures (1.50 / 7.50 per 1M), and its long-context batch.
    sonnet = batch_price(f"global.{SONNET_45}")
    assert (sonnet.input * M, sonnet.output * M) == (Decimal("1.5"), Decimal("7.5"))
    assert sonnet.long_context is not None and sonnet.long_context.output * M == Decimal("11.25")
    # Batch keeps on-demand cache rates (no batch cache figure), erring high.
    assert sonnet.cache_read == table.price(f"global.{SONNET_45}").cache_read
    # A qualified id through the ledger: a batch row at the batch price.
    ledger = Ledger()
    with ledger.reserve(f"batch:us.{NOVA_PRO}:0", 1000, 1000) as r:
        cost = r.settle(Usage(1000, 1000))
    assert cost == Decimal("0.002")  # (0.40 + 1.60) per 1M * 1000
    assert [row.model_id for row in ledger.report().rows] == [f"batch:us.{NOVA_PRO}:0"]


def test_service_tiers_and_latency_optimized_from_the_request() -> None:
    request = {
        "modelId": f"us.{NOVA_PRO}:0",
        "messages": [],
        "serviceTier": {"type": "priority"},
        "performanceConfig": {"latency": "optimized"},
    }
    assert priced_model_id(request) == f"optimized:priority:us.{NOVA_PRO}:0"
    assert priced_model_id({"modelId": "m", "serviceTier": {"type": "default"}}) == "m"
    assert priced_model_id({"modelId": "m", "serviceTier": "flex"}) == "flex:m"  # InvokeModel
    assert split_qualifiers("batch:arn:aws:bedrock:x") == (("batch",), "arn:aws:bedrock:x")
    table = default_prices()
    priority = table.price(f"priority:us.{NOVA_PRO}:0")
    assert priority.input == Decimal("0.0008") * Decimal("1.75")
    assert "priority" in priority.unverified  # Nova Pro's multipliers are not confirmed
    nova2 = table.price("priority:global.amazon.nova-2-lite-v1:0")
    assert (nova2.input * M, nova2.output * M) == (Decimal("0.525"), Decimal("4.375"))
    assert nova2.verified
    flex = table.price("flex:global.amazon.nova-2-lite-v1:0")
    assert flex.input * M == Decimal("0.15")
    # A Converse request reserved by the ledger is priced at its tier, and so is its row.
    ledger = Ledger(count_tokens=False)
    with ledger.reserve_request(
        {**request, "inferenceConfig": {"maxTokens": 100}}, input_tokens=1000
    ) as r:
        assert r.model_id == f"optimized:priority:us.{NOVA_PRO}:0"
        cost = r.settle(Usage(1000, 100))
    # Latency-optimized (1.00 / 4.00 per 1M), then Priority (x1.75, unverified).
    assert cost == (1000 * Decimal("0.001") + 100 * Decimal("0.004")) * Decimal("1.75") / M


def test_a_tier_without_figures_warns_and_is_flagged() -> None:
    table = default_prices()
    # Claude has no tier figures: the table-wide +75% applies, flagged unverified.
    entry = table.price(f"priority:global.{HAIKU_45}:0")
    assert entry.input == Decimal("0.00175") and "priority" in entry.unverified
    with pytest.warns(UnknownPriceWarning, match="optimized"):
        same = table.price(f"optimized:global.{HAIKU_45}:0")
    assert same.input == Decimal("0.001") and "optimized" in same.unverified


def test_retired_models_stay_priced_and_warn() -> None:
    table = default_prices()
    with pytest.warns(RetiredModelWarning, match=r"retired on Bedrock on 2026-06-19"):
        entry = table.price(f"us.{HAIKU_35}:0")
    assert entry.cost(Usage(1000, 1000)) == Decimal("0.0048")  # still priced for old logs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table.price(f"global.{HAIKU_45}:0")  # active: no warning
        table.price("anthropic.claude-opus-4-1-20250805-v1:0")  # legacy, not yet retired


def test_reports_flag_unverified_prices() -> None:
    ledger = Ledger()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RetiredModelWarning)
        ledger.record(f"us.{HAIKU_35}:0", Usage(10, 10))
    ledger.record(f"global.{SONNET_45}:0", Usage(10, 10))  # verified: not flagged
    ledger.record(f"us.{HAIKU_45}:0", Usage(10, 10))  # geo cache rates unconfirmed
    report = ledger.report()
    assert report.unverified_prices == (
        f"us.{HAIKU_35}:0: every rate unverified",
        f"us.{HAIKU_45}:0: cache_read, cache_write, cache_write_1h unverified",
    )
    text = report.to_text()
    assert f"unverified price: us.{HAIKU_35}:0: every rate unverified" in text
    assert "unverified price" in report._repr_html_()
    assert SONNET_45 not in "".join(report.unverified_prices)


def test_user_overrides_clear_the_unverified_flags() -> None:
    table = load_prices({"models": {HAIKU_35: {"input": "0.0008", "output": "0.004"}}})
    entry = table.lookup(HAIKU_35)
    assert entry is not None and entry.evidence == "user" and entry.verified
    assert table.unverified_for([HAIKU_35]) == ()


def test_rerank_is_priced_per_query_of_up_to_100_documents() -> None:
    table = default_prices()
    assert table.rerank_cost("amazon.rerank-v1:0", 1) == Decimal("0.001")
    assert table.rerank_cost("amazon.rerank-v1:0", 2, documents=250) == Decimal("0.003")
    with pytest.raises(ConfigurationError, match="no rerank price"):
        table.rerank_cost("cohere.rerank-v3-5:0", 1)
