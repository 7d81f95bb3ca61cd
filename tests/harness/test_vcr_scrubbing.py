"""Pure tests of the vcr configuration: matchers and scrubbing hooks."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import EventStreamBuffer
from vcr.request import Request

from bedrock_kit.testing.eventstream import encode_event
from bedrock_kit.testing.scanner import scan_text
from bedrock_kit.testing.vcr import (
    BODY_MATCHER,
    PATH_MATCHER,
    match_body,
    match_path,
    scrub_request,
    scrub_response,
    vcr_config,
)

KEY_ID = "AKIA" + "Q" * 16
SIGNATURE = "Signature=" + "ab" * 32
TOKEN = "IQoJb3JpZ2luX2VjE" + "x" * 60


def _req(uri: str, body: bytes | str | None = b"{}") -> Request:
    return Request("POST", uri, body, {})


def _matches(matcher, r1: Request, r2: Request) -> bool:
    try:
        matcher(r1, r2)
    except AssertionError:
        return False
    return True


def test_config_defaults() -> None:
    config = vcr_config()
    assert config["record_mode"] == "none"
    assert config["allow_playback_repeats"] is False
    assert config["match_on"] == ("method", PATH_MATCHER, BODY_MATCHER)
    headers = {h.lower() for h in config["filter_headers"]}
    assert {
        "authorization",
        "x-amz-security-token",
        "x-amz-date",
        "amz-sdk-invocation-id",
        "x-amz-content-sha256",
        "cookie",
    } <= headers
    assert vcr_config() is not config  # callers may mutate their copy


@pytest.mark.parametrize(
    ("recorded", "replayed", "same"),
    [
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse",
            "http://127.0.0.1:5555/model/m/converse",
            True,
        ),
        (
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/a%3A0/converse",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/a:0/converse",
            True,
        ),
        (
            "http://127.0.0.1:1/model/m/converse",
            "http://127.0.0.1:1/model/m/converse-stream",
            False,
        ),
        ("http://h/agents/x/list?b=2&a=1", "http://other/agents/x/list?a=1&b=2", True),
        ("http://h/agents/x/list?a=1", "http://h/agents/x/list?a=2", False),
    ],
)
def test_path_matcher_ignores_host_region_port(recorded: str, replayed: str, same: bool) -> None:
    assert _matches(match_path, _req(recorded), _req(replayed)) is same


@pytest.mark.parametrize(
    ("b1", "b2", "same"),
    [
        (b'{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}', True),
        (b'{"a": 1}', b'{"a": 2}', False),
        (b"\x00\x01binary", b"\x00\x01binary", True),
        (b"\x00\x01binary", b"\x00\x02binary", False),
        (None, b"", True),
        (b'{"a": 1}', b"not json", False),
    ],
)
def test_body_matcher_is_json_semantic(b1, b2, same: bool) -> None:
    assert _matches(match_body, _req("http://h/x", b1), _req("http://h/x", b2)) is same


def test_scrub_request_body() -> None:
    body = json.dumps({"note": f"{KEY_ID} {SIGNATURE} {TOKEN}"}).encode()
    scrubbed = scrub_request(_req("http://h/x", body)).body
    assert scan_text(scrubbed.decode()) == []
    assert KEY_ID not in scrubbed.decode()
    assert json.loads(scrubbed)["note"].startswith("REDACTED")


def test_loopback_port_is_dropped_from_recorded_uri() -> None:
    local = scrub_request(_req("http://127.0.0.1:54321/model/a%3A0/converse?x=1"))
    assert local.uri == "http://127.0.0.1/model/a%3A0/converse?x=1"
    aws = "https://bedrock-runtime.us-east-1.amazonaws.com:443/model/m/converse"
    assert scrub_request(_req(aws)).uri == aws


def test_scrub_response_drops_cookies_and_scrubs_json() -> None:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": ["AWSALB=abc"], "Content-Type": ["application/json"]},
        "body": {"string": json.dumps({"text": f"key {KEY_ID}"}).encode()},
    }
    scrubbed = scrub_response(response)
    assert "Set-Cookie" not in scrubbed["headers"]
    assert KEY_ID.encode() not in scrubbed["body"]["string"]
    assert json.loads(scrubbed["body"]["string"])["text"] == "key REDACTED-ACCESS-KEY-ID"


def _decode(data: bytes) -> list[tuple[str, dict]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)  # iterating validates both CRCs of every frame
    return [(m.headers[":event-type"], json.loads(m.payload)) for m in buffer]


def test_scrub_event_stream_keeps_frames_valid() -> None:
    clean = encode_event("messageStart", {"role": "assistant"})
    dirty = encode_event("contentBlockDelta", {"delta": {"text": f"my key is {KEY_ID}"}})
    headers = {"Content-Type": ["application/vnd.amazon.eventstream"]}
    response = {"status": {"code": 200}, "headers": headers, "body": {"string": clean + dirty}}
    body = scrub_response(response)["body"]["string"]
    events = _decode(body)
    assert events[0] == ("messageStart", {"role": "assistant"})
    assert events[1] == (
        "contentBlockDelta",
        {"delta": {"text": "my key is REDACTED-ACCESS-KEY-ID"}},
    )
    assert body.startswith(clean)


def test_clean_event_stream_is_left_byte_identical() -> None:
    data = encode_event("messageStop", {"stopReason": "end_turn"})
    headers = {"content-type": "application/vnd.amazon.eventstream"}
    response = {"status": {"code": 200}, "headers": headers, "body": {"string": data}}
    assert scrub_response(response)["body"]["string"] is data
