"""vcrpy records and replays through the lean transport (it patches urllib3 and aiohttp).

Recorded with the sync lean client over real HTTP (LocalBedrock), replayed offline by the
sync and the async lean client and by boto3; a cassette recorded by boto3 replays through
the lean clients too. The server is shut before replaying, so nothing reaches the network.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import boto3
import vcr
import yaml

from bedrock_kit.core.transport.lean import lean_client_from_botocore
from bedrock_kit.testing.eventstream import encode_event
from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.server import LocalBedrock
from bedrock_kit.testing.vcr import register_matchers, vcr_config

MODEL = "amazon.nova-micro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Say hi"}]}]
REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hi there"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
    "metrics": {"latencyMs": 12},
}
EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi "}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "there"}}),
    ("messageStop", {"stopReason": "end_turn"}),
]
STREAM = b"".join(encode_event(name, payload) for name, payload in EVENTS)
KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}


def _vcr() -> vcr.VCR:
    return register_matchers(vcr.VCR())


def _config(**overrides: Any) -> dict[str, Any]:
    config = vcr_config()
    config.update(overrides)
    return config


def _boto3(endpoint: str) -> Any:
    return boto3.client("bedrock-runtime", region_name="us-west-2", endpoint_url=endpoint, **KEYS)


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )


def _record(path: Path, lean: bool) -> str:
    with LocalBedrock() as server, _vcr().use_cassette(str(path), **_config(record_mode="once")):
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": "req-1"}
        server.script("Converse", Reply.raw(200, headers, json.dumps(REPLY).encode()))
        stream_headers = {"Content-Type": "application/vnd.amazon.eventstream"}
        server.script("ConverseStream", Reply.raw(200, stream_headers, STREAM))
        client = _boto3(server.endpoint_url)
        if lean:
            client = lean_client_from_botocore(client)
        assert client.converse(modelId=MODEL, messages=MESSAGES)["stopReason"] == "end_turn"
        events = list(client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
        assert _text(events) == "Hi there"
        endpoint = server.endpoint_url
    return endpoint


def test_lean_records_and_every_client_replays(tmp_path: Path) -> None:
    path = tmp_path / "lean.yaml"
    endpoint = _record(path, lean=True)
    recorded = yaml.safe_load(path.read_text())
    assert [i["request"]["uri"].rsplit("/", 1)[-1] for i in recorded["interactions"]] == [
        "converse",
        "converse-stream",
    ]
    headers = {k.lower() for k in recorded["interactions"][0]["request"]["headers"]}
    assert "authorization" not in headers  # scrubbed as for boto3
    for make in (lambda: lean_client_from_botocore(_boto3(endpoint)), lambda: _boto3(endpoint)):
        with _vcr().use_cassette(str(path), **_config()) as cassette:
            client = make()
            assert client.converse(modelId=MODEL, messages=MESSAGES)["output"] == REPLY["output"]
            events = list(client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
            assert _text(events) == "Hi there"
            assert cassette.all_played


def test_async_lean_replays_offline(tmp_path: Path) -> None:
    path = tmp_path / "boto3.yaml"
    endpoint = _record(path, lean=False)  # recorded by boto3: replayed by the lean client

    async def replay() -> tuple[Any, str]:
        async with lean_client_from_botocore(_boto3(endpoint), asynchronous=True) as client:
            response = await client.converse(modelId=MODEL, messages=MESSAGES)
            stream = await client.converse_stream(modelId=MODEL, messages=MESSAGES)
            events = [event async for event in stream["stream"]]
        return response, _text(events)

    with _vcr().use_cassette(str(path), **_config()) as cassette:
        response, text = asyncio.run(replay())
        assert response["output"] == REPLY["output"] and text == "Hi there"
        assert response["ResponseMetadata"]["RequestId"] == "req-1"
        assert cassette.all_played
