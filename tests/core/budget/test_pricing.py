"""Price table: packaged data, id normalisation, overrides, unknown models, Bedrock-correct cost."""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bedrock_kit.core.budget.price_text import format_prices
from bedrock_kit.core.budget.pricing import (
    PriceEntry,
    UnknownModelPriceWarning,
    UnknownPriceWarning,
    cache_write_1h_tokens,
    default_prices,
    load_prices,
    normalise_model_id,
)
from bedrock_kit.core.chat.converse import parse_usage
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailUsage, parse_guardrail_trace
from bedrock_kit.errors import ConfigurationError

CASSETTES = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "cassettes"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1"
HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1"
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"


def test_packaged_table_loads_and_every_entry_is_sourced_and_dated():
    table = default_prices()
    entries = table.entries()
    assert len(entries) >= 10
    for entry in entries:
        assert entry.source.startswith("https://"), entry.model_id
        assert entry.as_of, entry.model_id
        assert entry.evidence in {"aws_github", "aws_docs", "unverified"}, entry.model_id
        assert entry.input > 0, entry.model_id
        assert entry.output > 0 or entry.operation == "embeddings", entry.model_id
    assert table.guardrail_source.startswith("https://")


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (f"{SONNET_45}:0", (SONNET_45, "in_region")),
        (f"us.{SONNET_45}:0", (SONNET_45, "geo")),
        (f"eu.{SONNET_45}:0", (SONNET_45, "geo")),
        (f"apac.{SONNET_45}:0", (SONNET_45, "geo")),
        (f"global.{SONNET_45}:0", (SONNET_45, "global")),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_45}:0", (SONNET_45, "in_region")),
        (
            f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET_45}:0",
            (SONNET_45, "geo"),
        ),
        (f"{HAIKU_3}:0:200k", (HAIKU_3, "in_region")),
        ("  US.Amazon.Nova-Micro-V1:0 ", ("amazon.nova-micro-v1", "geo")),
        (APP_PROFILE, (APP_PROFILE, "in_region")),
    ],
)
def test_normalise_model_id(model_id, expected):
    assert normalise_model_id(model_id) == expected


def test_cost_prices_each_token_kind_at_its_own_rate_without_double_counting():
    entry = default_prices().price("anthropic.claude-sonnet-4-20250514-v1:0")
    usage = Usage(
        input_tokens=1000,
        output_tokens=1000,
        cache_read_input_tokens=1000,
        cache_write_input_tokens=1000,
        total_tokens=4000,
    )
    # 0.003 + 0.015 + 0.0003 + 0.00375 per 1,000 of each kind
    assert entry.cost(usage) == Decimal("0.02205")
    # 400 of the writes had the 1 hour TTL (0.006 per 1,000): 0.6*0.00375 + 0.4*0.006
    assert entry.cost(usage, cache_write_1h_tokens=400) == Decimal("0.02295")


def test_regional_variants_of_newer_claude_models():
    table = default_prices()
    global_ = table.price(f"global.{SONNET_45}:0")
    geo = table.price(f"us.{SONNET_45}:0")
    in_region = table.price(f"{SONNET_45}:0")
    assert global_.input == Decimal("0.003") and global_.variant == "global"
    assert geo.input == Decimal("0.0033") and geo.output == Decimal("0.0165")
    assert in_region.cache_read == Decimal("0.00033")
    assert geo.evidence == "aws_docs"  # AWS docs: global saves about 10% over geographic
    assert "cache_read" in geo.unverified  # whether the premium covers cache rates is open
    # Older models have a single price everywhere.
    assert table.price("us.anthropic.claude-sonnet-4-20250514-v1:0").input == Decimal("0.003")


def test_unknown_model_warns_and_charges_the_dearest_rates_not_zero():
    table = default_prices()
    with pytest.warns(UnknownModelPriceWarning, match="my.custom-model"):
        entry = table.price("my.custom-model-v1:0")
    dearest_out = max(e.output for e in table.entries())
    assert entry.output == dearest_out > 0
    assert entry.cost(Usage(10, 10)) > 0


def test_unknown_model_error_mode_raises_configuration_error():
    with pytest.raises(ConfigurationError, match=r"no price for model 'x\.y'"):
        default_prices().price("x.y", on_unknown="error")


def test_unknown_model_with_fallback_entry_uses_it():
    fallback = PriceEntry(input=Decimal("0.001"), output=Decimal("0.002"))
    with pytest.warns(UnknownModelPriceWarning):
        entry = default_prices().price("x.y", on_unknown=fallback)
    assert entry.cost(Usage(1000, 1000)) == Decimal("0.003")
    assert entry.model_id == "x.y"


def test_missing_cache_price_warns_and_bills_at_input_rate():
    table = load_prices({"models": {"acme.m-v1:0": {"input": "0.002", "output": "0.004"}}})
    entry = table.price("acme.m-v1")
    with pytest.warns(UnknownPriceWarning, match="cache_read"):
        cost = entry.cost(Usage(cache_read_input_tokens=1000))
    assert cost == Decimal("0.002")


def test_overrides_from_dict_merge_field_by_field():
    table = load_prices({"models": {f"us.{SONNET_45}:0": {"output": "0.02"}}})
    entry = table.price(f"global.{SONNET_45}")
    assert entry.output == Decimal("0.02")
    assert entry.input == Decimal("0.003")  # kept from the packaged entry
    assert entry.status == "user"
    # The packaged table is untouched.
    assert default_prices().price(f"global.{SONNET_45}").output == Decimal("0.015")


def test_overrides_from_file(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"acme.tiny-v1": {"input": 0.0001, "output": 0.0002}}}))
    table = load_prices(path)
    assert table.price("us.acme.tiny-v1:0").cost(Usage(1000, 1000)) == Decimal("0.0003")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"models": {"a.b": {"input": "-1", "output": "1"}}}, "negative"),
        ({"models": {"a.b": {"input": "abc", "output": "1"}}}, "not a number"),
        ({"models": {"a.b": {"output": "1"}}}, "needs both"),
        ({"models": []}, "mapping"),
        ({"guardrails": {"policies": {"nope_units": {"price": "1"}}}}, "unknown guardrail policy"),
    ],
)
def test_bad_overrides_are_configuration_errors(overrides, match):
    with pytest.raises(ConfigurationError, match=match):
        load_prices(overrides)


def test_unreadable_override_file(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read price overrides"):
        load_prices(tmp_path / "missing.json")


def test_cache_write_1h_tokens_from_cache_details():
    wire = {"cacheDetails": [{"ttl": "1h", "inputTokens": 700}, {"ttl": "5m", "inputTokens": 30}]}
    assert cache_write_1h_tokens(wire) == 700
    assert cache_write_1h_tokens({}) == 0


def test_guardrail_cost_per_policy():
    usage = GuardrailUsage(
        topic_policy_units=2, content_policy_units=3, word_policy_units=5,
        sensitive_information_policy_units=10,
    )  # fmt: skip
    # 2*0.15 + 3*0.15 + 5*0 + 10*0.10, per 1,000 text units
    assert default_prices().guardrail_cost(usage) == Decimal("0.00175")


def test_guardrail_policy_without_price_warns_and_is_not_silently_zero():
    table = load_prices({"guardrails": {"policies": {"automated_reasoning_policy_units": {}}}})
    with pytest.warns(UnknownPriceWarning, match="automated_reasoning_policy_units"):
        cost = table.guardrail_cost(GuardrailUsage(automated_reasoning_policy_units=4))
    assert cost == 0


def test_wheel_ships_the_data_file():
    # importlib.resources reads it from the package, wherever the package is installed.
    from importlib import resources

    text = resources.files("bedrock_kit.core.budget").joinpath("prices.json").read_text("utf-8")
    assert SONNET_45 in json.loads(text)["models"]


# -- conformance: usages recorded from real Bedrock, priced by hand


def _converse_responses(name: str) -> list[tuple[str, dict[str, Any]]]:
    yaml = pytest.importorskip("yaml")
    path = CASSETTES / name
    if not path.exists():
        pytest.skip(f"conformance cassette {name} not available")
    data = yaml.safe_load(path.read_text())
    out = []
    for interaction in data["interactions"]:
        uri = interaction["request"]["uri"]
        if not uri.endswith("/converse"):
            continue
        response = interaction["response"]
        body = response.get("parsed_body") or json.loads(response["body"]["string"])
        out.append((unquote(uri.split("/model/")[1].rsplit("/", 1)[0]), body))
    return out


@pytest.mark.conformance
def test_recorded_cache_write_then_read_priced_by_hand():
    responses = _converse_responses("pydantic__pydantic-ai/test_bedrock_cache_write_and_read.yaml")
    assert [m for m, _ in responses] == [f"us.{SONNET_45}:0"] * 2
    write, read = (parse_usage(body["usage"]) for _, body in responses)
    assert (write.input_tokens, write.cache_write_input_tokens, write.output_tokens) == (2, 1322, 5)
    assert (read.input_tokens, read.cache_read_input_tokens, read.output_tokens) == (2, 1322, 5)
    table = default_prices()
    price = table.price(responses[0][0])
    # us. geo profile of Sonnet 4.5: list price +10% -> input 0.0033, output 0.0165,
    # cache write 0.004125, cache read 0.00033 per 1,000 tokens.
    # write: (2*0.0033 + 5*0.0165 + 1322*0.004125) / 1000 = 0.00554235
    assert price.cost(write) == Decimal("0.00554235")
    # read:  (2*0.0033 + 5*0.0165 + 1322*0.00033) / 1000 = 0.00052536
    assert price.cost(read) == Decimal("0.00052536")
    # Counting the 1322 cached tokens as plain input too would have cost more:
    naive = Usage(input_tokens=1324, output_tokens=5)
    assert price.cost(naive) > price.cost(read)


@pytest.mark.conformance
def test_recorded_nova_call_with_guardrail_priced_by_hand():
    name = "pydantic__pydantic-ai/test_bedrock_model_guardrail_config.yaml"
    ((model_id, body),) = _converse_responses(name)
    usage = parse_usage(body["usage"])
    assert (usage.input_tokens, usage.output_tokens) == (13, 69)
    # Nova Micro: (13*0.000035 + 69*0.00014) / 1000 = 0.000010115
    assert default_prices().price(model_id).cost(usage) == Decimal("0.000010115")
    trace = parse_guardrail_trace(body["trace"]["guardrail"])
    assert trace is not None
    # topicPolicyUnits 1 on input and 1 on output: 2 * 0.15 / 1000
    assert trace.usage.topic_policy_units == 2
    assert default_prices().guardrail_cost(trace.usage) == Decimal("0.0003")


def test_no_warning_for_known_models():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for entry in default_prices().entries():
            if entry.retired:
                continue  # retired models warn (tests/core/budget/test_prices_data.py)
            if entry.cache_read is not None and entry.cache_write is not None:
                default_prices().price(entry.model_id).cost(Usage(1, 1, 1, 1))


def test_format_prices_lists_every_model_and_guardrail_policy():
    text = format_prices()
    assert "0.00375" in text  # Sonnet 4.5 cache write, per 1,000 tokens
    for entry in default_prices().entries():
        assert entry.model_id in text
    assert "guardrail content_policy_units" in text and "per 1,000 text units" in text


@pytest.mark.conformance
def test_recorded_converse_with_guardrail_settles_tokens_and_text_units_in_one_ledger():
    from bedrock_kit.core.budget.ledger import Ledger
    from bedrock_kit.core.chat.converse import parse_converse_response

    name = "pydantic__pydantic-ai/test_bedrock_model_guardrail_config.yaml"
    ((model_id, body),) = _converse_responses(name)
    result = parse_converse_response(body, model_id=model_id)
    ledger = Ledger()
    with ledger.reserve(model_id, 13, 100) as reservation:
        cost = reservation.settle_result(result)
    # 0.000010115 tokens + 0.0003 for 2 topic-policy text units
    assert cost == ledger.spent() == Decimal("0.000310115")
    rows = {r.model_id: r for r in ledger.report().rows}
    assert rows["guardrail:xbgw7g293v7o"].guardrail_text_units == 2
    assert rows[model_id].output_tokens == 69
