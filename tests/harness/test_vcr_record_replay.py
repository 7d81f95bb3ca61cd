"""Record through real HTTP with sync boto3, replay offline with boto3 and aiobotocore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiobotocore.session
import boto3
import pytest
import vcr
import yaml
from botocore.exceptions import HTTPClientError
from vcr.stubs import aiohttp_stubs

from bedrock_kit.testing.eventstream import encode_event
from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.server import LocalBedrock
from bedrock_kit.testing.vcr import install_aiohttp_raw_headers_shim, register_matchers, vcr_config

MODEL = "amazon.nova-micro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Say hi"}]}]
CONVERSE_REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hi there"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
    "metrics": {"latencyMs": 12},
}
STREAM_EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi "}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "there"}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    (
        "metadata",
        {
            "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
            "metrics": {"latencyMs": 9},
        },
    ),
]
STREAM_BODY = b"".join(encode_event(name, payload) for name, payload in STREAM_EVENTS)
JSON_HEADERS = {"Content-Type": "application/json", "x-amzn-RequestId": "req-1"}
STREAM_HEADERS = {"Content-Type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": "req-2"}


def _vcr() -> vcr.VCR:
    return register_matchers(vcr.VCR())


def _config(**overrides: Any) -> dict[str, Any]:
    config = vcr_config()
    config.update(overrides)
    return config


def _stream_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    """A cassette recorded with sync boto3 through LocalBedrock over real HTTP (us-west-2)."""
    path = tmp_path / "converse.yaml"
    with (
        LocalBedrock() as server,
        _vcr().use_cassette(str(path), **_config(record_mode="once")),
    ):
        server.script("Converse", Reply.raw(200, JSON_HEADERS, json.dumps(CONVERSE_REPLY).encode()))
        server.script("ConverseStream", Reply.raw(200, STREAM_HEADERS, STREAM_BODY))
        client = boto3.client(
            "bedrock-runtime", region_name="us-west-2", endpoint_url=server.endpoint_url
        )
        assert client.converse(modelId=MODEL, messages=MESSAGES)["stopReason"] == "end_turn"
        events = list(client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
        assert _stream_text(events) == "Hi there"
    assert [r.path for r in server.requests] == [
        "/model/amazon.nova-micro-v1%3A0/converse",
        "/model/amazon.nova-micro-v1%3A0/converse-stream",
    ]
    return path


def test_cassette_has_no_credentials_and_stream_bytes_are_exact(cassette: Path) -> None:
    text = cassette.read_text()
    for leaked in (
        "Authorization",
        "AWS4-HMAC-SHA256",
        "X-Amz-Security-Token",
        "X-Amz-Date",
        "amz-sdk-invocation-id",
    ):
        assert leaked.lower() not in text.lower()
    assert "!!binary" in text  # vcrpy's YAML serializer stores bytes bodies as base64
    data = yaml.safe_load(text)
    assert data["interactions"][0]["request"]["uri"] == (
        "http://127.0.0.1/model/amazon.nova-micro-v1%3A0/converse"
    )
    bodies = [i["response"]["body"]["string"] for i in data["interactions"]]
    assert bodies[1] == STREAM_BODY


def test_sync_replay_from_another_endpoint(cassette: Path) -> None:
    with _vcr().use_cassette(str(cassette), **_config()) as cass:
        client = boto3.client(
            "bedrock-runtime", region_name="eu-central-1", endpoint_url="http://127.0.0.1:9"
        )
        reply = client.converse(modelId=MODEL, messages=MESSAGES)
        events = list(client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
        assert cass.all_played
    assert reply["output"]["message"]["content"] == [{"text": "Hi there"}]
    assert reply["ResponseMetadata"]["RequestId"] == "req-1"
    assert _stream_text(events) == "Hi there"
    assert events[-1]["metadata"]["usage"]["totalTokens"] == 5


async def test_async_replay_with_aiobotocore(cassette: Path) -> None:
    assert install_aiohttp_raw_headers_shim()
    session = aiobotocore.session.get_session()
    with _vcr().use_cassette(str(cassette), **_config()) as cass:
        async with session.create_client(
            "bedrock-runtime", region_name="ap-south-1", endpoint_url="https://example.invalid"
        ) as client:
            reply = await client.converse(modelId=MODEL, messages=MESSAGES)
            response = await client.converse_stream(modelId=MODEL, messages=MESSAGES)
            events = [event async for event in response["stream"]]
        assert cass.all_played
    assert reply["output"]["message"]["content"] == [{"text": "Hi there"}]
    assert reply["ResponseMetadata"]["RequestId"] == "req-1"
    assert [next(iter(e)) for e in events] == [name for name, _ in STREAM_EVENTS]
    assert _stream_text(events) == "Hi there"


def test_replay_refuses_a_different_request(cassette: Path) -> None:
    other = [{"role": "user", "content": [{"text": "Something else"}]}]
    with _vcr().use_cassette(str(cassette), **_config()):
        client = boto3.client(
            "bedrock-runtime", region_name="us-west-2", endpoint_url="http://127.0.0.1:9"
        )
        with pytest.raises(HTTPClientError, match="No match for the request"):
            client.converse(modelId=MODEL, messages=other)


def test_each_interaction_plays_once(cassette: Path) -> None:
    with _vcr().use_cassette(str(cassette), **_config()):
        client = boto3.client(
            "bedrock-runtime", region_name="us-west-2", endpoint_url="http://127.0.0.1:9"
        )
        client.converse(modelId=MODEL, messages=MESSAGES)
        with pytest.raises(HTTPClientError, match="already been consumed"):
            client.converse(modelId=MODEL, messages=MESSAGES)


async def test_vcrpy_stub_alone_lacks_raw_headers() -> None:
    """Why the shim exists: vcrpy's own build_response leaves raw_headers unset."""
    install_aiohttp_raw_headers_shim()
    original = aiohttp_stubs.build_response.__wrapped__
    request = vcr.request.Request("POST", "http://h/model/m/converse", b"{}", {})
    recorded = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "X-Amzn-RequestId": ["r"]},
        "body": {"string": b"{}"},
    }
    assert original(request, recorded, []).raw_headers is None
    shimmed = aiohttp_stubs.build_response(request, recorded, [])
    assert dict(shimmed.raw_headers) == {
        b"Content-Type": b"application/json",
        b"X-Amzn-RequestId": b"r",
    }
    assert install_aiohttp_raw_headers_shim()  # idempotent
    assert aiohttp_stubs.build_response.__wrapped__ is original


def test_recorded_cassette_is_scrubbed_end_to_end(tmp_path: Path) -> None:
    """Real signed requests, and a reply that echoes a key id, leave no credential behind."""
    from bedrock_kit.testing.scanner import scan_for_credentials

    key_id = "ASIA" + "Z" * 16
    leaky = dict(CONVERSE_REPLY, note=f"caller {key_id}")
    path = tmp_path / "leaky.yaml"
    with (
        LocalBedrock() as server,
        _vcr().use_cassette(str(path), **_config(record_mode="once")),
    ):
        server.script("Converse", Reply.json(leaky))
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-west-2",
            endpoint_url=server.endpoint_url,
            aws_access_key_id="AKIA" + "A" * 16,
            aws_secret_access_key="s" * 40,
            aws_session_token="IQoJb3JpZ2lu" + "t" * 200,
        )
        assert client.converse(modelId=MODEL, messages=MESSAGES)["stopReason"] == "end_turn"
    sent = {k.lower(): v for k, v in server.requests[0].headers.items()}
    assert "Credential=AKIA" + "A" * 16 in sent["authorization"]  # it was on the wire
    assert scan_for_credentials([path]) == []
    text = path.read_text()
    assert "AKIA" + "A" * 16 not in text and key_id not in text
    response = yaml.safe_load(text)["interactions"][0]["response"]
    assert json.loads(response["body"]["string"])["note"] == "caller REDACTED-ACCESS-KEY-ID"
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
    with _vcr().use_cassette(str(path), **_config()):  # the scrubbed cassette still replays
        client = boto3.client(
            "bedrock-runtime", region_name="us-west-2", endpoint_url="http://127.0.0.1:9"
        )
        assert client.converse(modelId=MODEL, messages=MESSAGES)["stopReason"] == "end_turn"


async def test_async_replay_of_a_recorded_error(tmp_path: Path) -> None:
    """Error responses need the shim's headers too: botocore reads x-amzn-ErrorType."""
    from botocore.config import Config
    from botocore.exceptions import ClientError

    install_aiohttp_raw_headers_shim()
    path = tmp_path / "throttled.yaml"
    no_retry = Config(retries={"total_max_attempts": 1})
    with (
        LocalBedrock() as server,
        _vcr().use_cassette(str(path), **_config(record_mode="once")),
    ):
        server.script("Converse", Reply.error(429, "ThrottlingException", "Slow down"))
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            config=no_retry,
        )
        with pytest.raises(ClientError):
            client.converse(modelId=MODEL, messages=MESSAGES)
    session = aiobotocore.session.get_session()
    with _vcr().use_cassette(str(path), **_config()) as cass:
        async with session.create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            config=no_retry,
        ) as aclient:
            with pytest.raises(ClientError) as caught:
                await aclient.converse(modelId=MODEL, messages=MESSAGES)
        assert cass.all_played
    assert caught.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Slow down"}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
