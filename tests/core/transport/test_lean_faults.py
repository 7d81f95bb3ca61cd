"""Equivalence under faults: retries, backoff, error codes and stream failures are botocore's.

Each fault is served over real HTTP (LocalBedrock, and the hostile server for what Bedrock
never sends) to a boto3 client and the sync lean client, and to an aiobotocore client and
the async lean client, in botocore's ``standard``, ``adaptive`` and ``legacy`` retry modes.
Both sides must make the same number of requests, sleep the same backoff (jitter fixed),
and end in the same result: the same parsed response, or the same exception class with the
same ``response`` (error code, message, ``RetryAttempts``, ``MaxAttemptsReached``), which
:func:`bedrock_kit.errors.translate_errors` maps to the same bedrock-kit error.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from bedrock_kit.core.transport.lean import lean_client_from_botocore
from bedrock_kit.core.transport.retries import RetryPolicy
from bedrock_kit.core.transport.wire import install_body_check
from bedrock_kit.errors import translate_errors
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events
from tests.support.hostile import HostileServer, Script, event, json_reply, raw_event, stream_reply

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
MODEL = "amazon.nova-micro-v1:0"
CONVERSE = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "q"}]}]}
OK = converse_reply("fine")
EVENTS = converse_stream_events("a streamed answer in pieces", chunk_chars=4)


@pytest.fixture(scope="module")
def server():
    with LocalBedrock() as running:
        yield running


@pytest.fixture(autouse=True)
def deterministic(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """Jitter fixed at 0.5 and sleeps recorded, not slept, on both sides."""
    original = ExponentialBackoff.delay_amount

    def delay_amount(self: Any, context: Any) -> Any:
        self._random = lambda: 0.5
        return original(self, context)

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", delay_amount)
    monkeypatch.setattr("botocore.retryhandler.random.random", lambda: 0.5)
    sleeps: list[tuple[str, float]] = []
    monkeypatch.setattr(
        "botocore.endpoint.time", types.SimpleNamespace(sleep=lambda s: sleeps.append(("b", s)))
    )

    async def aio_sleep(self: Any, seconds: float) -> None:
        sleeps.append(("b", seconds))

    monkeypatch.setattr("aiobotocore.endpoint.AioEndpoint._sleep", aio_sleep)
    monkeypatch.setattr(RetryPolicy, "sleep", lambda self, s: sleeps.append(("lean", s)))

    async def lean_sleep(self: Any, seconds: float) -> None:
        sleeps.append(("lean", seconds))

    monkeypatch.setattr(RetryPolicy, "asleep", lean_sleep)
    return sleeps


def _config(mode: str, attempts: int | None, **extra: Any) -> Config:
    retries: dict[str, Any] = {"mode": mode}
    if attempts is not None:
        retries["total_max_attempts"] = attempts
    return Config(retries=retries, **extra)


@cache
def _session() -> Any:
    return boto3.session.Session(region_name="us-east-1", **KEYS)


@cache
def _aio_session() -> Any:
    from aiobotocore.session import AioSession

    return AioSession()


def _boto3(endpoint: str, config: Config) -> Any:
    return _session().client("bedrock-runtime", endpoint_url=endpoint, config=config)


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        result = call()
    except Exception as exc:
        return ("raised", type(exc).__name__, _clean(getattr(exc, "response", None)), _kit(exc))
    return ("ok", _clean(result))


def _kit(exc: Exception) -> Any:
    try:
        with translate_errors(model_id=MODEL):
            raise exc
    except Exception as translated:
        return (
            type(translated).__name__,
            getattr(translated, "status_code", None),
            getattr(translated, "error_code", None),
            getattr(translated, "retry_attempts", None),
        )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        meta = out.get("ResponseMetadata")
        if isinstance(meta, dict):
            meta.pop("RequestId", None)
            meta.pop("HTTPHeaders", None)
        return out
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _consume_sync(response: Any) -> Any:
    stream = response.get("stream")
    if stream is not None:
        response = dict(response)
        response["stream"] = list(stream)
    return response


async def _consume_async(response: Any) -> Any:
    stream = response.get("stream")
    if stream is not None:
        response = dict(response)
        response["stream"] = [event async for event in stream]
    return response


def _compare(
    server: Any,
    replies: list[Reply],
    sleeps: list[tuple[str, float]],
    *,
    mode: str = "standard",
    attempts: int | None = 3,
    operation: str = "converse",
    **config: Any,
) -> Any:
    """Serve ``replies`` to boto3, lean, aiobotocore and lean async; all must agree."""
    op_name = "ConverseStream" if operation == "converse_stream" else "Converse"
    cfg = _config(mode, attempts, **config)
    results = {}
    counts = {}
    slept = {}
    for name in ("boto3", "lean", "aiobotocore", "lean-async"):
        server.clear()
        server.script(
            op_name, *replies, Reply.json(OK) if op_name == "Converse" else Reply.events(EVENTS)
        )
        sleeps.clear()
        client = _boto3(server.endpoint_url, cfg)
        if name == "boto3":
            results[name] = _outcome(
                lambda c=client: _consume_sync(getattr(c, operation)(**CONVERSE))
            )
        elif name == "lean":
            lean = lean_client_from_botocore(client)
            results[name] = _outcome(
                lambda c=lean: _consume_sync(getattr(c, operation)(**CONVERSE))
            )
            lean.close()
        else:
            results[name] = asyncio.run(_async_outcome(name, server.endpoint_url, cfg, operation))
        counts[name] = len([r for r in server.requests if r.operation == op_name])
        slept[name] = [s for _, s in sleeps]
    assert results["lean"] == results["boto3"]
    assert results["lean-async"] == results["aiobotocore"]
    assert counts["lean"] == counts["boto3"] and counts["lean-async"] == counts["aiobotocore"]
    assert slept["lean"] == slept["boto3"] and slept["lean-async"] == slept["aiobotocore"]
    return results["lean"], counts["lean"], slept["lean"]


async def _async_outcome(
    name: str, endpoint: str, config: Config, operation: str, *, check: bool = False
) -> Any:
    async def call(client: Any) -> Any:
        try:
            response = await getattr(client, operation)(**CONVERSE)
            return ("ok", _clean(await _consume_async(response)))
        except Exception as exc:
            return ("raised", type(exc).__name__, _clean(getattr(exc, "response", None)), _kit(exc))

    if name == "aiobotocore":
        async with _aio_session().create_client(
            "bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1", config=config, **KEYS
        ) as aio:
            return await call(install_body_check(aio) if check else aio)
    async with lean_client_from_botocore(_boto3(endpoint, config), asynchronous=True) as lean:
        return await call(lean)


ERRORS = [
    (429, "ThrottlingException"),
    (429, "ServiceQuotaExceededException"),
    (500, "InternalServerException"),
    (503, "ServiceUnavailableException"),
    (400, "ValidationException"),
    (403, "AccessDeniedException"),
    (404, "ResourceNotFoundException"),
    (408, "ModelTimeoutException"),
    (424, "ModelErrorException"),
    (429, "ModelNotReadyException"),
]


@pytest.mark.parametrize(("status", "code"), ERRORS, ids=[c for _, c in ERRORS])
@pytest.mark.parametrize(
    ("mode", "attempts"), [("standard", 3), ("standard", 1), ("adaptive", 3), ("legacy", 3)]
)
def test_error_then_success(server, deterministic, status, code, mode, attempts) -> None:
    _, count, _ = _compare(
        server, [Reply.error(status, code, "boom")], deterministic, mode=mode, attempts=attempts
    )
    assert count in (1, 2)


@pytest.mark.parametrize("mode", ["standard", "legacy", "adaptive"])
def test_retries_exhausted(server, deterministic, mode) -> None:
    replies = [Reply.error(429, "ThrottlingException", "slow down")] * 6
    outcome, count, slept = _compare(server, replies, deterministic, mode=mode, attempts=4)
    assert outcome[0] == "raised" and outcome[1] == "ThrottlingException"
    assert outcome[3][0] == "ThrottlingError"
    assert count == 4 and len(slept) == 3
    server.clear()  # the replies left over are not ours to check


def test_retry_after_header_is_honoured(server, deterministic) -> None:
    reply = Reply.error(
        503, "ServiceUnavailableException", "wait", headers={"x-amz-retry-after": "1500"}
    )
    _compare(server, [reply], deterministic)


def test_connection_reset_is_retried(server, deterministic) -> None:
    outcome, count, _ = _compare(server, [Reply.reset()], deterministic)
    assert outcome[0] == "ok" and count == 2


def test_generic_html_error_is_retried(server, deterministic) -> None:
    html = Reply.raw(502, {"content-type": "text/html"}, b"<html><body>Bad Gateway</body></html>")
    outcome, count, _ = _compare(server, [html], deterministic)
    assert outcome[0] == "ok" and count == 2


def test_read_timeout_is_retried(server, deterministic) -> None:
    slow = Reply.json(OK, delay=1.5)
    outcome, count, _ = _compare(server, [slow], deterministic, read_timeout=0.5)
    assert outcome[0] == "ok" and count == 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply.events(EVENTS, truncate_after=3),
        Reply.events(EVENTS, corrupt_frame=2),
        Reply.events(EVENTS, exception_at=(2, "throttlingException", "slow")),
        Reply.events(EVENTS, exception_at=(1, "modelStreamErrorException", "broke")),
        Reply.events(EVENTS, exception_at=(0, "validationException", "bad")),
        Reply.error(400, "ValidationException", "before the stream"),
    ],
    ids=["truncated", "bad-crc", "throttling-event", "model-error-event", "first", "http-400"],
)
def test_stream_faults(server, deterministic, reply) -> None:
    _compare(server, [reply], deterministic, operation="converse_stream", attempts=1)
    server.clear()


# ------------------------------------------------------------------ hostile bytes


HOSTILE = [
    Script(body=b"<html>login</html>", headers={"content-type": "text/html"}),
    Script(body=b""),
    json_reply({"output": "not a message"}),
    json_reply({"output": {"message": None, "other": 1}}),
    json_reply([1, 2, 3]),
    json_reply({"stopReason": 7, "usage": {"inputTokens": "3"}}),
    Script(status=500, body=b""),
    Script(status=418, body=b'{"message": "teapot"}'),
    Script(
        chunks=[(json_reply(OK).body_bytes()[:10], 0.0), (json_reply(OK).body_bytes()[10:], 0.05)]
    ),
    Script(body=json_reply(OK).body_bytes(), cut_after=20),
]


@pytest.mark.parametrize(
    "script", HOSTILE, ids=lambda s: f"{s.status}:{bytes(s.body_bytes())[:12]!r}"
)
def test_hostile_replies(hostile: HostileServer, deterministic, script: Script) -> None:
    cfg = _config("standard", 2)
    results = []
    for name in ("boto3", "lean", "aiobotocore", "lean-async"):
        hostile.requests.clear()
        hostile.always(script)
        if name == "boto3":
            client = install_body_check(_boto3(hostile.url, cfg))  # as bedrock-kit builds it
            results.append(
                (_outcome(lambda c=client: c.converse(**CONVERSE)), len(hostile.requests))
            )
        elif name == "lean":
            lean = lean_client_from_botocore(_boto3(hostile.url, cfg))
            results.append((_outcome(lambda c=lean: c.converse(**CONVERSE)), len(hostile.requests)))
        else:
            outcome = asyncio.run(_async_outcome(name, hostile.url, cfg, "converse", check=True))
            results.append((outcome, len(hostile.requests)))
    assert results[1] == results[0]
    assert results[3] == results[2]


@pytest.mark.parametrize(
    "frames",
    [
        [raw_event("messageStart", b"not json")],
        [event("contentBlockDelta", {"delta": None, "contentBlockIndex": 0})],
        [event("contentBlockDelta", {"delta": {"text": "a", "reasoningContent": {}}})],
        [event("messageStart", {"role": "assistant"}), b"\x00\x00\x00\x10garbage"],
        [event("unknownFutureEvent", {"x": 1}), event("messageStop", {"stopReason": "x"})],
    ],
    ids=["non-json", "null-delta", "two-union-members", "garbage-frame", "unknown-event"],
)
def test_hostile_streams(hostile: HostileServer, deterministic, frames: list[bytes]) -> None:
    cfg = _config("standard", 1)
    hostile.always(stream_reply(frames))
    sync = []
    for lean in (False, True):
        client = _boto3(hostile.url, cfg)
        if lean:
            client = lean_client_from_botocore(client)
        sync.append(_outcome(lambda c=client: _consume_sync(c.converse_stream(**CONVERSE))))
    assert sync[1] == sync[0]
    aio = [
        asyncio.run(_async_outcome(n, hostile.url, cfg, "converse_stream"))
        for n in ("aiobotocore", "lean-async")
    ]
    assert aio[1] == aio[0]
