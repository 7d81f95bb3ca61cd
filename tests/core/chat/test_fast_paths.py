"""The per-call fast paths give exactly what the general code gives.

``assemble`` builds frozen results without their ``__init__``; usage, latency and text
blocks are read without a reader call when they have the usual shape. Each is compared
with the object the general path builds, field by field and by ``__dict__``.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from bedrock_kit.core.chat.converse import parse_converse_response
from bedrock_kit.core.chat.models import checked_model
from bedrock_kit.core.chat.types import ConverseResult, Message, TextBlock, Usage, assemble
from bedrock_kit.core.chat.usage import parse_latency, parse_usage
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError, MalformedResponseError


def _response(**members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ResponseMetadata": {"RequestId": "req-1"},
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
        "metrics": {"latencyMs": 12},
    }
    body.update(members)
    return body


def test_assembled_result_equals_the_constructed_one() -> None:
    result = parse_converse_response(_response(), model_id="m")
    expected = ConverseResult(
        message=Message("assistant", (TextBlock("hi"),)),
        stop_reason="end_turn",
        raw_stop_reason="end_turn",
        usage=Usage(3, 4, 0, 0, 7),
        model_id="m",
        latency_ms=12,
        request_id="req-1",
    )
    assert result == expected
    assert result.__dict__ == expected.__dict__
    assert list(result.__dict__) == [f.name for f in dataclasses.fields(ConverseResult)]
    assert list(result.usage.__dict__) == [f.name for f in dataclasses.fields(Usage)]
    assert pickle.loads(pickle.dumps(result)) == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.model_id = "other"  # type: ignore[misc]


def test_assemble_stores_what_it_is_given() -> None:
    usage = assemble(Usage, dict(Usage(1, 2, 3, 4, 10, 1, {"x": 1}).__dict__))
    assert usage == Usage(1, 2, 3, 4, 10, 1, {"x": 1})


@pytest.mark.parametrize(
    "wire",
    [
        {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
        {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7, "cacheReadInputTokens": 2},
        {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0, "cacheWriteInputTokens": 5},
        {"inputTokens": 3.0, "outputTokens": 4, "totalTokens": 7},  # a float count: slow path
        {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7, "cacheReadInputTokens": None},
        {
            "inputTokens": 3,
            "outputTokens": 4,
            "totalTokens": 7,
            "cacheDetails": [{"inputTokens": 2, "ttl": "1h"}],
        },
    ],
)
def test_plain_usage_reads_as_the_member_by_member_path(wire: dict[str, Any]) -> None:
    fast = parse_usage(wire)
    general = parse_usage(_NotADict(wire))  # a Mapping that is not a dict: no fast path
    assert fast == general
    assert fast.__dict__ == general.__dict__


@pytest.mark.parametrize(
    "wire",
    [
        {"inputTokens": True, "outputTokens": 4, "totalTokens": 7},
        {"inputTokens": -1, "outputTokens": 4, "totalTokens": 7},
        {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7, "cacheReadInputTokens": -2},
        {"inputTokens": 3, "outputTokens": 4},
        {"inputTokens": "3", "outputTokens": 4, "totalTokens": 7},
    ],
)
def test_bad_counts_still_fail_by_name(wire: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match="usage"):
        parse_usage(wire)


@pytest.mark.parametrize("metrics", [{"latencyMs": 5}, {"latencyMs": 5.0}, {}, None])
def test_latency_fast_path(metrics: Any) -> None:
    r = WireReader("test")
    expected = None if not metrics else 5
    assert parse_latency(r, metrics) == expected


@pytest.mark.parametrize("metrics", [{"latencyMs": -1}, {"latencyMs": True}, "x"])
def test_bad_latency_still_fails(metrics: Any) -> None:
    with pytest.raises(MalformedResponseError, match="metrics"):
        parse_latency(WireReader("test"), metrics)


@pytest.mark.parametrize(
    "content",
    [
        [{"text": "a"}, {"text": ""}],
        [{"text": "a", "extra": 1}],  # two members: the general block reader decides
    ],
)
def test_text_blocks_fast_path(content: list[Any]) -> None:
    result = parse_converse_response(
        _response(output={"message": {"role": "assistant", "content": content}}), model_id="m"
    )
    assert result.message.content == tuple(TextBlock(b["text"]) for b in content)


@pytest.mark.parametrize("block", [{"text": 5}, {}, "text"])
def test_bad_text_block_still_fails(block: Any) -> None:
    response = _response(output={"message": {"role": "assistant", "content": [block]}})
    with pytest.raises(MalformedResponseError, match=r"content\[0\]"):
        parse_converse_response(response, model_id="m")


def test_checked_model_refuses_every_time() -> None:
    arn = "arn:aws-cn:bedrock:cn-north-1::foundation-model/anthropic.claude-v2"
    for _ in range(2):  # a refusal is not kept as an answer
        with pytest.raises(ConfigurationError, match="partition"):
            checked_model(arn, "us-east-1")
        with pytest.raises(ConfigurationError, match="not a Bedrock model id"):
            checked_model("bad id", "us-east-1")
    with pytest.raises(ConfigurationError, match="non-empty string"):
        checked_model(["not", "hashable"], "us-east-1")
    assert checked_model("anthropic.claude-v2", "us-east-1") == "anthropic.claude-v2"
    assert checked_model(arn, "cn-north-1") == arn


class _NotADict(dict):  # type: ignore[type-arg]
    """A dict subclass: ``type(x) is dict`` fails, so the general path reads it."""


def test_inference_config_is_kept_only_for_values_nothing_else_equals() -> None:
    from bedrock_kit.core.chat.types import InferenceConfig, inference_config

    assert inference_config(100, 0.5, None) is inference_config(100, 0.5, None)
    assert inference_config(100, None, None) == InferenceConfig(100)
    one = inference_config(100, 1, None)
    assert type(one.temperature) is int
    assert type(inference_config(100, 1.0, None).temperature) is float
    negative_zero = inference_config(100, -0.0, None).temperature
    assert str(inference_config(100, 0.0, None).temperature) == "0.0"
    assert str(negative_zero) == "-0.0"
    assert inference_config(5, None, None, ("x",)).stop_sequences == ("x",)
    for _ in range(2):  # a refusal is not kept
        with pytest.raises(ConfigurationError, match="max_tokens"):
            inference_config(True, None, None)
        with pytest.raises(ConfigurationError, match="temperature"):
            inference_config(5, 1.5, None)
        with pytest.raises(ConfigurationError, match="top_p"):
            inference_config(5, None, [0.5])
