"""Each injectable fault surfaces from a real boto3 client as the matching botocore error."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EventStreamError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
EVENTS = converse_stream_events("hello world", chunk_chars=4)  # 7 events
STREAM_EXCEPTIONS = [
    "throttlingException",
    "modelStreamErrorException",
    "validationException",
    "internalServerException",
    "serviceUnavailableException",
]
HTTP_ERRORS = [
    (429, "ThrottlingException"),
    (500, "InternalServerException"),
    (503, "ServiceUnavailableException"),
    (408, "ModelTimeoutException"),
    (424, "ModelErrorException"),
    (429, "ModelNotReadyException"),
    (400, "ValidationException"),
    (403, "AccessDeniedException"),
]


def _consume(client: Any, received: list[dict[str, Any]]) -> None:
    stream = client.converse_stream(modelId="m", messages=MESSAGES)["stream"]
    try:
        for event in stream:
            received.append(event)
    finally:
        stream.close()


@pytest.mark.parametrize(("status", "code"), HTTP_ERRORS)
@pytest.mark.parametrize("operation", ["Converse", "ConverseStream"])
def test_http_errors_surface_with_code_and_status(
    server: LocalBedrock, client: Any, operation: str, status: int, code: str
) -> None:
    server.script(operation, Reply.error(status, code, f"{code} happened"))
    call = client.converse if operation == "Converse" else client.converse_stream
    with pytest.raises(ClientError) as caught:
        call(modelId="m", messages=MESSAGES)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"] == f"{code} happened"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert len(server.requests) == 1  # no retries hid the fault


def test_throttling_retried_by_standard_mode_then_succeeds(
    server: LocalBedrock, make_client: Any
) -> None:
    throttle = Reply.error(429, "ThrottlingException", "Too many requests")
    server.script("Converse", throttle, throttle, Reply.json(converse_reply("finally")))
    client = make_client(retries={"mode": "standard", "total_max_attempts": 3})
    response = client.converse(modelId="m", messages=MESSAGES)
    assert response["output"]["message"]["content"][0]["text"] == "finally"
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(server.requests) == 3  # two throttled attempts plus the successful one


def test_throttling_past_the_attempt_limit_raises(server: LocalBedrock, make_client: Any) -> None:
    throttle = Reply.error(429, "ThrottlingException", "Too many requests")
    server.script("Converse", throttle, throttle, throttle)
    client = make_client(retries={"mode": "standard", "total_max_attempts": 2})
    with pytest.raises(ClientError) as caught:
        client.converse(modelId="m", messages=MESSAGES)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(server.requests) == 2
    assert server.pending("Converse") == 1


def test_reset_before_response(server: LocalBedrock, client: Any) -> None:
    server.script("Converse", Reply.reset())
    with pytest.raises(ConnectionClosedError):
        client.converse(modelId="m", messages=MESSAGES)


def test_reset_is_retried_as_a_connection_error(server: LocalBedrock, make_client: Any) -> None:
    server.script("Converse", Reply.reset())
    client = make_client(retries={"mode": "standard", "total_max_attempts": 2})
    response = client.converse(modelId="m", messages=MESSAGES)
    assert response["output"]["message"]["content"][0]["text"] == "echo: hi"
    assert len(server.requests) == 2


@pytest.mark.parametrize("after_bytes", [0, 1, 20])
def test_reset_during_json_body(server: LocalBedrock, client: Any, after_bytes: int) -> None:
    server.script("Converse", Reply.reset(after_bytes=after_bytes))
    with pytest.raises(ConnectionClosedError):
        client.converse(modelId="m", messages=MESSAGES)


def test_reset_during_stream_body(server: LocalBedrock, client: Any) -> None:
    reply = Reply.events(EVENTS)
    server.script("ConverseStream", Reply.reset(after_bytes=150, reply=reply))
    received: list[dict[str, Any]] = []
    with pytest.raises(ProtocolError):
        _consume(client, received)
    assert 0 < len(received) < len(EVENTS)
    assert received == EVENTS[: len(received)]


def test_read_timeout_from_reply_delay(server: LocalBedrock, make_client: Any) -> None:
    server.script("Converse", Reply.json(converse_reply("late"), delay=5))
    client = make_client(read_timeout=0.3)
    with pytest.raises(ReadTimeoutError):
        client.converse(modelId="m", messages=MESSAGES)


def test_read_timeout_from_server_latency(server: LocalBedrock, make_client: Any) -> None:
    server.latency = 5
    client = make_client(read_timeout=0.3)
    with pytest.raises(ReadTimeoutError):
        client.count_tokens(modelId="m", input={"converse": {"messages": MESSAGES}})


def test_read_timeout_between_stream_frames(server: LocalBedrock, make_client: Any) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, delay_between=5))
    client = make_client(read_timeout=0.3)
    received: list[dict[str, Any]] = []
    with pytest.raises(Urllib3ReadTimeout):
        _consume(client, received)
    assert received == EVENTS[:1]


@pytest.mark.parametrize("cut", range(len(EVENTS) + 1))
def test_stream_truncated_at_every_frame_boundary(
    server: LocalBedrock, client: Any, cut: int
) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, truncate_after=cut))
    received: list[dict[str, Any]] = []
    with pytest.raises(ProtocolError):
        _consume(client, received)
    assert received == EVENTS[:cut]


@pytest.mark.parametrize("index", [0, 3, 6])
def test_corrupted_frame_fails_its_checksum(server: LocalBedrock, client: Any, index: int) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, corrupt_frame=index))
    received: list[dict[str, Any]] = []
    with pytest.raises(ChecksumMismatch):
        _consume(client, received)
    assert received == EVENTS[:index]


@pytest.mark.parametrize("index", [0, 1, 3, len(EVENTS) - 1, len(EVENTS)])
@pytest.mark.parametrize("exception_type", STREAM_EXCEPTIONS)
def test_in_stream_exception_at_each_position(
    server: LocalBedrock, client: Any, exception_type: str, index: int
) -> None:
    reply = Reply.events(EVENTS, exception_at=(index, exception_type, "mid-stream trouble"))
    server.script("ConverseStream", reply)
    received: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError) as caught:
        _consume(client, received)
    assert caught.value.response["Error"] == {
        "Code": exception_type,
        "Message": "mid-stream trouble",
    }
    assert received == EVENTS[:index]


def test_stream_with_fewer_events_ends_cleanly(server: LocalBedrock, client: Any) -> None:
    # Ending early without a cut is just a shorter script: the client sees a clean end.
    server.script("ConverseStream", Reply.events(EVENTS[:3]))
    received: list[dict[str, Any]] = []
    _consume(client, received)
    assert received == EVENTS[:3]


def test_stop_interrupts_a_delayed_reply(make_client: Any, server: LocalBedrock) -> None:
    server.script("Converse", Reply.json({}, delay=30))
    client = make_client(read_timeout=10)
    import threading

    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.converse(modelId="m", messages=MESSAGES)
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    while not server.requests:
        worker.join(0.01)
    server.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert len(errors) == 1
