"""Equivalence: the lean transport parses every response into what botocore returns.

Three layers:

* Recorded bytes, sans I/O: every interaction of the shared conformance recordings (real
  AWS responses, read from ``../shared``; skipped when absent) and of the project's
  cassettes is parsed by botocore's REST-JSON parser (plus its modeled error fields and its
  ``EventStream``) and by the lean :class:`ResponsePlan` / :class:`EventParser`; results,
  events and errors must be equal.
* Fuzzed wire documents: for every operation's output shape and every event type, JSON a
  server might send (missing, null, unknown and wrongly-typed members) parses the same, or
  fails with the same exception type.
* Real HTTP: each conformance recording is replayed through LocalBedrock to a boto3 client
  and to the lean client (sync), and to an aiobotocore client and the async lean client.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import HeadersDict
from botocore.eventstream import EventStream
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.transport.lean import lean_client_from_botocore
from bedrock_kit.core.transport.wire import check_body
from bedrock_kit.testing.conformance import Interaction, load_recording, load_recordings
from bedrock_kit.testing.eventstream import encode_exception, encode_message
from tests.core.transport.shapes_support import (
    all_operations,
    sample_input,
    service_model,
    wire_strategy,
)

ROOT = Path(__file__).resolve().parents[3]
KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _project_interactions() -> list[tuple[str, Interaction]]:
    out = []
    for path in sorted((ROOT / "cassettes").rglob("*.yaml")):
        recording = load_recording(path)
        for index, interaction in enumerate(recording.interactions):
            out.append((f"{path.parent.name}/{path.stem}#{index}", interaction))
    return out


def _shared_interactions() -> list[tuple[str, Interaction]]:
    return [
        (f"{recording.id}#{index}", interaction)
        for recording in load_recordings()
        for index, interaction in enumerate(recording.interactions)
    ]


@cache
def _lean(service: str) -> Any:
    client = boto3.session.Session(region_name="us-east-1", **KEYS).client(service)
    return lean_client_from_botocore(client)


class _Raw:
    """An unread body: ``stream()`` in uneven chunks, as urllib3 hands them over."""

    def __init__(self, data: bytes, chunk: int = 7) -> None:
        self._data = data
        self._chunk = chunk
        self._offset = 0
        self.closed = False

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        while self._offset < len(self._data):
            piece = self._data[self._offset : self._offset + self._chunk]
            self._offset += len(piece)
            yield piece

    def read(self, amt: int | None = None) -> bytes:
        end = len(self._data) if amt is None else self._offset + amt
        piece = self._data[self._offset : end]
        self._offset += len(piece)
        return piece

    def close(self) -> None:
        self.closed = True


def _drain(value: Any) -> Any:
    """Streams and bodies replaced by what reading them yields (events, then any error)."""
    if isinstance(value, EventStream) or type(value).__name__ == "_TracedStream":
        events: list[Any] = []
        try:
            events.extend(value)
        except Exception as exc:
            events.append(_error(exc))
        return events
    if isinstance(value, StreamingBody):
        try:
            return value.read()
        except Exception as exc:
            return _error(exc)
    if isinstance(value, dict):
        return {k: _drain(v) for k, v in value.items()}
    return value


def _error(exc: BaseException) -> tuple[str, Any]:
    return (type(exc).__name__, getattr(exc, "response", None) or str(exc))


def _botocore(service: str, interaction: Interaction) -> Any:
    """What botocore's endpoint + parser make of the recorded response, behind the body check."""
    model = service_model(service).operation_model(interaction.operation)
    parser = create_parser("rest-json")
    headers = HeadersDict(interaction.headers.items())
    status = interaction.status
    body: Any = interaction.body_bytes
    if status < 300:
        if model.has_event_stream_output:
            body = _Raw(body)
        elif model.has_streaming_output:
            body = StreamingBody(_Raw(body), headers.get("content-length"))
    response = {
        "headers": headers,
        "status_code": status,
        "body": body,
        "context": {"operation_name": model.name},
    }
    try:
        # bedrock-kit's botocore clients check the body first (wire.install_body_check); the
        # lean transport runs the same check on every operation.
        check_body(model, status, {k.lower(): v for k, v in headers.items()}, body)
        parsed = parser.parse(response, model.output_shape)
        if status >= 300:
            code = parsed.get("Error", {}).get("Code")
            shape = model.service_model.shape_for_error_code(code) if code else None
            if shape is not None:
                parsed.update(parser.parse(response, shape))
    except Exception as exc:
        return _error(exc)
    return _drain(parsed)


def _lean_parse(service: str, interaction: Interaction) -> Any:
    from bedrock_kit.core.transport.lean import _sync_body, _sync_events

    plan = _lean(service)._core.operation(interaction.operation).response
    headers = HeadersDict(interaction.headers.items())
    lowered = {k.lower(): v for k, v in headers.items()}
    status = interaction.status
    try:
        if status >= 300:
            parsed = plan.parse_error(status, headers, interaction.body_bytes)
        else:
            body: Any = interaction.body_bytes
            if plan.model.has_event_stream_output or plan.model.has_streaming_output:
                body = _Raw(body)
            parsed = plan.parse(
                status, headers, lowered, body, events=_sync_events, stream=_sync_body
            )
    except Exception as exc:
        return _error(exc)
    return _drain(parsed)


def _check(interaction: Interaction) -> None:
    expected = _botocore(interaction.service, interaction)
    assert _lean_parse(interaction.service, interaction) == expected


SHARED = _shared_interactions()
PROJECT = _project_interactions()


@pytest.mark.conformance
@pytest.mark.parametrize("case", SHARED or [None], ids=lambda c: c[0] if c else "absent")
def test_shared_recordings_parse_as_botocore(case: tuple[str, Interaction] | None) -> None:
    if case is None:
        pytest.skip("conformance cassettes not found (../shared is absent)")
    _check(case[1])


@pytest.mark.parametrize("case", PROJECT, ids=lambda c: c[0])
def test_project_cassettes_parse_as_botocore(case: tuple[str, Interaction]) -> None:
    _check(case[1])


def test_every_recorded_operation_is_covered() -> None:
    operations = {i.operation for _, i in SHARED + PROJECT}
    assert {"Converse", "ConverseStream", "InvokeModel", "CountTokens"} <= operations


# ------------------------------------------------------------------ fuzzed wire documents

_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OPERATIONS = sorted(all_operations())
STREAMING = [
    op for op in OPERATIONS if service_model(op[0]).operation_model(op[1]).has_event_stream_output
]


def _synthetic(service: str, operation: str, status: int, headers: Any, body: bytes) -> Any:
    return Interaction(
        operation=operation,
        service=service,
        method="POST",
        path="/",
        region="us-east-1",
        request_json=None,
        status=status,
        headers=dict(headers),
        body_bytes=body,
        response_json=None,
        events=None,
    )


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=str)
def test_fuzzed_bodies_parse_as_botocore(service: str, operation: str) -> None:
    model = service_model(service).operation_model(operation)
    shape = model.output_shape
    if shape is None or model.has_event_stream_output or model.has_streaming_output:
        pytest.skip("no JSON body")

    @_FUZZ
    @given(wire_strategy(shape) | st.sampled_from([None, [], "text", 3]))
    def check(document: Any) -> None:
        body = json.dumps(document).encode()
        headers = {"content-type": "application/json", "x-amzn-requestid": "rid"}
        _check(_synthetic(service, operation, 200, headers, body))

    check()


def _stream_shape(model: Any) -> Any:
    payload = model.output_shape.serialization["payload"]
    return model.output_shape.members[payload]


@pytest.mark.parametrize(
    ("service", "operation"),
    STREAMING,
    ids=str,
)
def test_fuzzed_event_streams_parse_as_botocore(service: str, operation: str) -> None:
    model = service_model(service).operation_model(operation)
    stream = _stream_shape(model)
    events = {n: m for n, m in stream.members.items() if not m.metadata.get("exception")}
    errors = [n for n, m in stream.members.items() if m.metadata.get("exception")]
    frame = st.one_of(
        [
            wire_strategy(member).map(
                lambda doc, name=name: encode_message(
                    {
                        ":event-type": name,
                        ":content-type": "application/json",
                        ":message-type": "event",
                    },
                    json.dumps(doc).encode(),
                )
            )
            for name, member in events.items()
        ]
        + [st.sampled_from(errors or ["x"]).map(lambda n: encode_exception(n, "boom"))]
        + [st.just(encode_message({":event-type": "futureEvent"}, b"{}"))]
    )

    @_FUZZ
    @given(st.lists(frame, max_size=5))
    def check(frames: list[bytes]) -> None:
        headers = {"content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": "r"}
        _check(_synthetic(service, operation, 200, headers, b"".join(frames)))

    check()


@pytest.mark.parametrize("status", [400, 403, 404, 408, 424, 429, 500, 502, 503])
@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "m"}',
        b'{"Message": "M", "__type": "com.amazon#ThrottlingException"}',
        b"<html><body>Service Unavailable</body></html>",
        b"",
        b"not json",
    ],
)
@pytest.mark.parametrize("error_type", [None, "ValidationException:http://internal.amazon.com/"])
def test_error_responses_parse_as_botocore(
    status: int, body: bytes, error_type: str | None
) -> None:
    headers = {"content-type": "application/json", "x-amzn-requestid": "rid"}
    if error_type:
        headers["x-amzn-errortype"] = error_type
    for operation in ("Converse", "ConverseStream", "InvokeModel"):
        _check(_synthetic("bedrock-runtime", operation, status, headers, body))


# ------------------------------------------------------------------ real HTTP, replayed


def _params(interaction: Interaction) -> dict[str, Any]:
    model = service_model(interaction.service).operation_model(interaction.operation)
    return sample_input(model, full=False)


def _normalise(result: Any) -> Any:
    if isinstance(result, dict):
        out = {k: _normalise(v) for k, v in result.items()}
        meta = out.get("ResponseMetadata")
        if isinstance(meta, dict):
            meta.pop("RequestId", None)
            headers = dict(meta.get("HTTPHeaders") or {})
            headers.pop("date", None)
            headers.pop("x-amzn-requestid", None)
            meta["HTTPHeaders"] = headers
        return out
    if isinstance(result, list | tuple):
        return [_normalise(v) for v in result]
    return result


def _sync_calls(client: Any, recording: Any) -> list[Any]:
    from botocore import xform_name

    results: list[Any] = []
    for interaction in recording.interactions:
        try:
            response = getattr(client, xform_name(interaction.operation))(**_params(interaction))
            results.append(_drain(response))
        except Exception as exc:
            results.append(_error(exc))
    return results


async def _async_calls(client: Any, recording: Any) -> list[Any]:
    from botocore import xform_name

    results: list[Any] = []
    for interaction in recording.interactions:
        try:
            call = getattr(client, xform_name(interaction.operation))
            response = await call(**_params(interaction))
            results.append(await _adrain(response))
        except Exception as exc:
            results.append(_error(exc))
    return results


async def _adrain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: await _adrain(v) for k, v in value.items()}
    if hasattr(value, "__aiter__") and not hasattr(value, "read"):
        events: list[Any] = []
        try:
            async for event in value:
                events.append(event)
        except Exception as exc:
            events.append(_error(exc))
        return events
    if hasattr(value, "read") and hasattr(value, "__aenter__"):
        async with value as body:
            return await body.read()
    return value


RECORDINGS = load_recordings()


@pytest.mark.conformance
@pytest.mark.parametrize("recording", RECORDINGS or [None], ids=lambda r: r.id if r else "absent")
def test_replayed_recordings_match_boto3_and_aiobotocore(recording: Any) -> None:
    if recording is None:
        pytest.skip("conformance cassettes not found (../shared is absent)")
    from botocore.config import Config

    from bedrock_kit.testing.conformance import replay_server

    service = recording.interactions[0].service
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    kwargs = {"region_name": "us-east-1", "config": config, **KEYS}
    with replay_server(recording) as server:
        client = boto3.client(service, endpoint_url=server.endpoint_url, **kwargs)
        expected = _normalise(_sync_calls(client, recording))
    with replay_server(recording) as server:
        client = boto3.client(service, endpoint_url=server.endpoint_url, **kwargs)
        lean = lean_client_from_botocore(client)
        assert _normalise(_sync_calls(lean, recording)) == expected
        lean.close()

    async def run_async() -> tuple[list[Any], list[Any]]:
        from aiobotocore.session import AioSession

        with replay_server(recording) as server:
            async with AioSession().create_client(
                service, endpoint_url=server.endpoint_url, **kwargs
            ) as aio:
                reference = await _async_calls(aio, recording)
        with replay_server(recording) as server:
            client = boto3.client(service, endpoint_url=server.endpoint_url, **kwargs)
            async with lean_client_from_botocore(client, asynchronous=True) as lean_async:
                ours = await _async_calls(lean_async, recording)
        return reference, ours

    reference, ours = asyncio.run(run_async())
    assert _normalise(ours) == _normalise(reference)
    assert _normalise(ours) == expected


def test_fast_path_parses_every_recorded_success(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback: 2xx recordings never need botocore's parser."""
    from bedrock_kit.core.transport import responses

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("fell back to botocore's parser")

    monkeypatch.setattr(responses.ResponsePlan, "_botocore_parse", refuse)
    checked = 0
    for _, interaction in SHARED + PROJECT:
        if interaction.status >= 300:
            continue
        lean = _lean(interaction.service)
        events = lean._core.events
        monkeypatch.setattr(events, "_fallback", _RefuseEvents(events._fallback))
        assert _lean_parse(interaction.service, interaction) == _botocore(
            interaction.service, interaction
        )
        checked += 1
    assert checked >= 60


class _RefuseEvents:
    """botocore's event parser, allowed only for exception messages."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, response: Any, shape: Any) -> Any:
        assert response["status_code"] != 200, "fell back to botocore's event parser"
        return self._parser.parse(response, shape)
