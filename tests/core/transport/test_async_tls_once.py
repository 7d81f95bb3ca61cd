"""A fresh async client builds its TLS context once, however many calls start together.

Loading the CA bundle takes tens of milliseconds off the event loop. Every call of a first
burst used to build its own on the default executor (six threads on two cores), so 256 calls
that started together on a new client waited for 256 builds, one after another: 18 s
instead of the server's 0.1 s latency. The calls here go to LocalBedrock over real HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.core.transport.lean import build_lean_client
from bedrock_kit.testing import LocalBedrock

CONVERSE = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "q"}]}]}


def _client(server: LocalBedrock) -> Any:
    settings = ClientSettings(**server.client_kwargs())
    return build_lean_client(settings, "bedrock-runtime", asynchronous=True)


def _count_builds(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    http = client._http
    built: list[int] = []
    real = http._ssl_context

    def counted() -> Any:
        built.append(1)
        return real()

    monkeypatch.setattr(http, "_ssl_context", counted)
    return built


def test_a_burst_of_first_calls_builds_one_context(
    server: LocalBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server)
    built = _count_builds(client, monkeypatch)

    async def burst() -> list[Any]:
        try:
            return await asyncio.gather(*(client.converse(**CONVERSE) for _ in range(64)))
        finally:
            await client.close()

    answers = asyncio.run(burst())
    assert len(answers) == 64 and all("output" in a for a in answers)
    assert len(built) == 1


def test_a_cancelled_first_caller_does_not_cancel_the_others(
    server: LocalBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server)
    built = _count_builds(client, monkeypatch)

    async def run() -> tuple[bool, Any]:
        try:
            first = asyncio.ensure_future(client.converse(**CONVERSE))
            second = asyncio.ensure_future(client.converse(**CONVERSE))
            await asyncio.sleep(0)  # both are waiting for the one build
            first.cancel()
            answer = await second
            return first.cancelled(), answer
        finally:
            await client.close()

    cancelled, answer = asyncio.run(run())
    assert cancelled and "output" in answer
    assert len(built) == 1


def test_a_failed_build_fails_every_waiting_call_once_and_the_retry_builds_again(
    server: LocalBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(server)
    http = client._http
    attempts: list[int] = []
    real = http._ssl_context

    def flaky() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("CA bundle unreadable")
        return real()

    monkeypatch.setattr(http, "_ssl_context", flaky)

    async def run() -> list[Any]:
        try:
            return await asyncio.gather(*(client.converse(**CONVERSE) for _ in range(8)))
        finally:
            await client.close()

    answers = asyncio.run(run())
    # The one failed build failed all eight first attempts (an HTTPClientError, which
    # botocore's standard mode retries); the retries shared one new build.
    assert [a["ResponseMetadata"]["RetryAttempts"] for a in answers] == [1] * 8
    assert len(attempts) == 2
