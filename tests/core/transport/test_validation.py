"""Shared input checks: surrogates, numbers, regions, partitions, endpoints, ARNs."""

from __future__ import annotations

import pytest

from bedrock_kit.core.transport.clients import ClientSettings, client_settings_from
from bedrock_kit.core.transport.validation import (
    MAX_DEPTH,
    check_arn_reachable,
    check_endpoint_url,
    check_number,
    check_region_name,
    check_text,
    partition_of,
)
from bedrock_kit.errors import ConfigurationError

LONE_HIGH = "\ud83d"
LONE_LOW = "\ude00"


@pytest.mark.parametrize(
    ("value", "path", "codepoint"),
    [
        (f"ab{LONE_HIGH}", "x", "U+D83D"),
        (f"{LONE_LOW}ab", "x", "U+DE00"),
        (
            {"messages": [{"content": [{"text": f"ok {LONE_HIGH}"}]}]},
            "x.messages[0].content[0].text",
            "U+D83D",
        ),
        ([("a", f"{LONE_LOW}")], "x[0][1]", "U+DE00"),
        ({f"key{LONE_HIGH}": 1}, "x.<key>", "U+D83D"),
    ],
)
def test_unpaired_surrogates_are_named_with_their_path(value, path, codepoint):
    with pytest.raises(ConfigurationError) as info:
        check_text(value, "x")
    message = str(info.value)
    assert message.startswith(path + ":"), message
    assert codepoint in message


def test_character_position_is_reported():
    with pytest.raises(ConfigurationError, match="at character 3"):
        check_text(f"abc{LONE_HIGH}def", "t")


@pytest.mark.parametrize(
    "value",
    [
        "plain text",
        "emoji \U0001f600 and CJK 漢字",
        "\ud83d\ude00",  # a high+low pair: travels as one JSON escape pair, decodes to U+1F600
        b"\xed\xa0\x80 raw bytes are not text",
        {"a": [1, 2.5, None, True, {"b": "c"}]},
    ],
)
def test_valid_text_passes(value):
    check_text(value, "t")


def test_deep_nesting_is_refused_without_recursion():
    value: object = "deep"
    for _ in range(50_000):
        value = [value]
    with pytest.raises(ConfigurationError, match="nested deeper than 200 levels"):
        check_text(value, "t")


def test_nesting_up_to_the_limit_is_walked():
    value: object = f"deep {LONE_HIGH}"
    for _ in range(MAX_DEPTH - 1):
        value = {"a": value} if len(str(type(value))) % 2 else [value]
    with pytest.raises(ConfigurationError, match="unpaired surrogate"):
        check_text(value, "t")


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (1.5, {"low": 0, "high": 1}, "between 0 and 1"),
        (-0.1, {"low": 0, "high": 1}, "between 0 and 1"),
        (0, {"low": 1, "integer": True}, ">= 1"),
        (2.0, {"low": 1, "integer": True}, "an integer"),
        (True, {}, "a number"),
        ("0.5", {}, "a number"),
        (float("nan"), {}, "a number"),
    ],
)
def test_check_number_refuses(value, kwargs, expected):
    with pytest.raises(ConfigurationError, match=expected):
        check_number(value, "n", **kwargs)


@pytest.mark.parametrize("value", [0, 1, 0.5, 1.0])
def test_check_number_accepts_bounds(value):
    check_number(value, "n", low=0, high=1)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-west-3", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of(region, partition):
    assert partition_of(region) == partition


@pytest.mark.parametrize("region", ["us_east_1", "us-east-1 ", "", "-us-east-1", "a" * 70, 5])
def test_bad_region_names(region):
    with pytest.raises(ConfigurationError, match="region_name"):
        check_region_name(region)


@pytest.mark.parametrize(
    "url",
    [
        "localhost:8000",
        "bedrock-runtime.us-east-1.amazonaws.com",
        "ftp://x",
        "http://",
        "http://x:port",
    ],
)
def test_endpoint_urls_need_scheme_and_host(url):
    with pytest.raises(ConfigurationError, match="endpoint_url"):
        check_endpoint_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "https://bedrock-runtime.us-east-1.amazonaws.com/",
        "https://vpce-1.example/path",
    ],
)
def test_good_endpoint_urls(url):
    check_endpoint_url(url)


def test_settings_refuse_bad_endpoint_and_region_at_construction():
    with pytest.raises(ConfigurationError, match="needs a scheme"):
        client_settings_from(endpoint_url="localhost:8000")
    with pytest.raises(ConfigurationError, match="region_name"):
        ClientSettings(region_name="us east 1")
    with pytest.raises(ConfigurationError, match="max_retries"):
        ClientSettings(max_retries=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        ClientSettings(timeout=float("nan"))


CN_ARN = "arn:aws-cn:bedrock:cn-north-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
WEST_ARN = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abcdefghijkl"


@pytest.mark.parametrize(
    ("arn", "region", "expected"),
    [
        (CN_ARN, "us-east-1", "partition 'aws-cn'"),
        (WEST_ARN, "us-east-1", "region 'us-west-2'"),
        ("arn:aws:bedrock:us-east-1::foundation-model/m", "cn-north-1", "partition 'aws'"),
    ],
)
def test_unreachable_arns(arn, region, expected):
    with pytest.raises(ConfigurationError, match=expected):
        check_arn_reachable(arn, region)


@pytest.mark.parametrize(
    ("identifier", "region"),
    [
        (CN_ARN, "cn-north-1"),
        (WEST_ARN, "us-west-2"),
        (WEST_ARN, None),  # region unknown yet: checked again at call time
        ("anthropic.claude-3-haiku-20240307-v1:0", "cn-north-1"),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1"),
    ],
)
def test_reachable_identifiers(identifier, region):
    check_arn_reachable(identifier, region)
