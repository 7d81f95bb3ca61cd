"""The lean transport is the default client, and the features that hooked into botocore work on it.

- ClientPool builds lean clients (sync on urllib3, async on aiohttp); injected boto3 and
  aiobotocore clients are used as they are.
- Deadlines are enforced natively in the caller's thread (no worker thread): attempts and
  backoff sleeps never start past the deadline, a trickled status line is cut at it.
- The one body check runs in the lean response path and names the call's resource.
- ``client.meta.events`` of a lean client takes ``before-parse`` hooks (as the ApplyGuardrail
  raw-body capture registers them) and refuses the events it never emits.
- A Bedrock API key is sent as a bearer token instead of SigV4, and never logged.

Real HTTP throughout: LocalBedrock, HostileServer, and a raw socket server that trickles.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lean import AsyncLeanClient, LeanClient
from bedrock_kit.errors import (
    ConfigurationError,
    DeadlineExceededError,
    MalformedResponseError,
)
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply
from tests.support.hostile import DUMMY_KEYS, HostileServer, Script, json_reply

MODEL = "amazon.nova-micro-v1:0"
REQUEST = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def _settings(url: str, **kwargs: Any) -> ClientSettings:
    return ClientSettings(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=DUMMY_KEYS["aws_access_key_id"],
        aws_secret_access_key=DUMMY_KEYS["aws_secret_access_key"],
        **kwargs,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as running:
        yield running


# ------------------------------------------------------------------ the default client


def test_the_pool_builds_lean_clients_and_keeps_injected_ones(server) -> None:
    pool = ClientPool(_settings(server.endpoint_url), "bedrock-runtime")
    assert isinstance(pool.client, LeanClient)

    async def built() -> Any:
        try:
            return await pool.async_client()
        finally:
            await pool.aclose()

    assert isinstance(asyncio.run(built()), AsyncLeanClient)
    injected = boto3.client("bedrock-runtime", endpoint_url=server.endpoint_url, **DUMMY_KEYS)
    assert ClientPool(
        _settings(server.endpoint_url), "bedrock-runtime", client=injected
    ).client is (injected)


def test_closing_the_async_lean_client_leaves_no_open_session(server) -> None:
    import aiohttp

    server.script("Converse", Reply.json(converse_reply("one")))
    runtime = ConverseRuntime(_settings(server.endpoint_url))

    async def main() -> tuple[bool, list[Any]]:
        await runtime.aconverse(REQUEST)
        client = await runtime.pool.async_client()
        sessions = list(client._http._sessions.values())
        assert sessions and not any(s.closed for s in sessions)
        await runtime.aclose()
        return client.closed, sessions

    closed, sessions = asyncio.run(main())
    assert closed and all(isinstance(s, aiohttp.ClientSession) and s.closed for s in sessions)


# ------------------------------------------------------------------ native sync deadline


def _threads_started_during(func: Any) -> tuple[Any, list[str]]:
    names: list[str] = []
    start = threading.Thread.start

    def spy(self: threading.Thread) -> None:
        names.append(self.name)
        start(self)

    threading.Thread.start = spy  # type: ignore[method-assign]
    try:
        try:
            return func(), names
        except BaseException as exc:
            return exc, names
    finally:
        threading.Thread.start = start  # type: ignore[method-assign]


def test_a_sync_deadline_needs_no_worker_thread(hostile: HostileServer) -> None:
    body = json_reply(converse_reply("slow")).body_bytes()
    hostile.always(
        Script(
            headers={"content-type": "application/json"},
            chunks=[(body[i : i + 1], 0.2) for i in range(len(body))],
        )
    )
    runtime = ConverseRuntime(_settings(hostile.url, timeout=5, max_retries=0))
    runtime.pool.client  # noqa: B018 - built before the clock starts
    began = time.monotonic()
    error, threads = _threads_started_during(lambda: runtime.converse(REQUEST, deadline=1.0))
    elapsed = time.monotonic() - began
    assert isinstance(error, DeadlineExceededError), error
    assert 0.9 <= elapsed <= 2.0, elapsed
    ours = [name for name in threads if name.startswith("bedrock-kit")]
    assert ours == ["bedrock-kit-watchdog"]  # one attempt, one watchdog; no worker thread


def test_no_backoff_or_attempt_past_the_deadline(hostile: HostileServer) -> None:
    hostile.always(json_reply({"message": "unavailable"}, status=503))
    runtime = ConverseRuntime(_settings(hostile.url, max_retries=10))
    runtime.pool.client  # noqa: B018
    began = time.monotonic()
    with pytest.raises(DeadlineExceededError) as info:
        runtime.converse(REQUEST, deadline=1.5)
    elapsed = time.monotonic() - began
    # Standard mode backs off up to 1, 2, 4... s: the retry whose sleep would end past the
    # deadline is not slept at all; the error says what the last attempt got.
    assert elapsed < 1.5, elapsed
    assert len(hostile.requests) >= 1
    assert "ServiceUnavailable" in type(info.value.__cause__).__name__ or "503" in str(
        info.value.__cause__
    )


class _TricklingStatusLine:
    """A raw socket server that sends its status line one byte every ``every`` seconds."""

    def __init__(self, every: float = 0.2) -> None:
        self._every = every
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n":
                if self._stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self._every)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


def test_a_trickled_status_line_is_cut_at_the_deadline() -> None:
    trickler = _TricklingStatusLine()
    try:
        runtime = ConverseRuntime(_settings(trickler.url, timeout=5, max_retries=0))
        runtime.pool.client  # noqa: B018
        began = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            runtime.converse(REQUEST, deadline=1.0)
        assert time.monotonic() - began <= 2.0
    finally:
        trickler.close()


def test_a_fast_call_under_a_deadline_leaves_no_watchdog(server) -> None:
    server.script("Converse", Reply.json(converse_reply("quick")))
    runtime = ConverseRuntime(_settings(server.endpoint_url))
    assert runtime.converse(REQUEST, deadline=30).text == "quick"
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "bedrock-kit-watchdog"]


# ------------------------------------------------------------------ the one body check


def test_the_lean_body_check_names_the_model(hostile: HostileServer) -> None:
    hostile.push(Script(body=b"<html>login</html>", headers={"content-type": "text/html"}))
    client = ClientPool(_settings(hostile.url), "bedrock-runtime").client
    with pytest.raises(MalformedResponseError, match=r"is not JSON.*<html>login") as info:
        client.converse(**REQUEST)
    assert f"Converse response of model {MODEL} (HTTP 200)" in str(info.value)
    assert info.value.model_id == MODEL
    assert info.value.request_id == "hostile-request-1"


@pytest.mark.parametrize(
    "script",
    [
        Script(body=b"<html>login</html>", headers={"content-type": "text/html"}),
        Script(body=b"", headers={"content-type": "application/json"}),
        json_reply({"action": "NONE", "outputs": "oops", "assessments": []}),
    ],
    ids=["html", "empty", "wrong-type"],
)
def test_the_lean_body_check_names_the_guardrail_and_version(
    hostile: HostileServer, script: Script
) -> None:
    hostile.push(script)
    guard = GuardrailClient("gr-abc123", 4, settings=_settings(hostile.url))
    with pytest.raises(MalformedResponseError) as info:
        guard.apply("text")
    assert "guardrail gr-abc123 version 4" in str(info.value)
    assert info.value.model_id == "gr-abc123"


# ------------------------------------------------------------------ before-parse hooks


def test_before_parse_hooks_see_the_raw_body_and_other_events_are_refused(server) -> None:
    server.script("Converse", Reply.json(converse_reply("seen")))
    client = ClientPool(_settings(server.endpoint_url), "bedrock-runtime").client
    client.converse(**REQUEST)  # compiled before the hook: registering refreshes it
    seen: list[tuple[int, bytes]] = []

    def hook(response_dict: Any, **_: Any) -> None:
        seen.append((response_dict["status_code"], response_dict["body"]))

    for _ in range(2):  # one unique id, registered once
        client.meta.events.register("before-parse.bedrock-runtime.Converse", hook, "mine")
    client.meta.events.register("before-parse.bedrock-runtime.ApplyGuardrail", hook)
    server.script("Converse", Reply.json(converse_reply("seen")))
    client.converse(**REQUEST)
    assert len(seen) == 1 and seen[0][0] == 200 and b'"seen"' in seen[0][1]
    for event in ("before-send", "before-call.bedrock-runtime.Converse", "before-parse.s3"):
        with pytest.raises(ConfigurationError, match="inject a boto3 client="):
            client.meta.events.register(event, hook)


# ------------------------------------------------------------------ Bedrock API keys


def test_an_api_key_is_a_bearer_token_and_never_logged(server, caplog) -> None:
    token = "ABSKbedrock-api-key-never-logged-0123456789"
    server.script("Converse", Reply.json(converse_reply("keyed")))
    runtime = ConverseRuntime(
        ClientSettings(
            region_name="us-east-1", endpoint_url=server.endpoint_url, bearer_token=token
        )
    )
    with caplog.at_level(logging.DEBUG):
        assert runtime.converse(REQUEST).text == "keyed"
    request = server.requests_for("Converse")[-1]
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert "X-Amz-Date" not in request.headers and "X-Amz-Security-Token" not in request.headers
    assert caplog.records, "DEBUG logging was on"
    assert token not in caplog.text
    assert token not in repr(runtime.pool.client._core.operation("Converse").signer)
