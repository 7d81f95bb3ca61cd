"""A pool builds its async client off the event loop, once for a burst of first calls.

Building a client loads botocore's data files and resolves credentials (a profile's
``credential_process`` here, which takes 0.3 s, as IMDS or SSO can): the loop keeps running
meanwhile, and the 64 calls that start together on a fresh pool share one build. The calls
go to LocalBedrock over real HTTP.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.testing import LocalBedrock

CONVERSE = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "q"}]}]}


def _profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> tuple[str, Path]:
    """A profile of its own (bedrock-kit shares a botocore session per profile) whose
    credentials come from a Python ``credential_process`` running ``body``; and the file
    every run of it appends an ``x`` to."""
    runs = tmp_path / "runs"
    script = tmp_path / "creds.py"
    answer = {"Version": 1, "AccessKeyId": "AKIDSLOW", "SecretAccessKey": "s"}
    script.write_text(
        "import json, pathlib, sys, time\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x')\n"
        f"{body}\n"
        f"print(json.dumps({answer!r}))\n"
    )
    name = f"slow-{tmp_path.name}"
    config = tmp_path / "config"
    config.write_text(f"[profile {name}]\ncredential_process = {sys.executable} {script}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return name, runs


@pytest.fixture
def slow_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """Credentials that take 0.3 s to come."""
    return _profile(tmp_path, monkeypatch, "time.sleep(0.3)")


def _pool(server: LocalBedrock, **settings: Any) -> ClientPool:
    kwargs = {"region_name": "us-east-1", "endpoint_url": server.endpoint_url, **settings}
    return ClientPool(ClientSettings(**kwargs), "bedrock-runtime")


def test_a_burst_of_first_calls_shares_one_build_made_off_the_loop(
    server: LocalBedrock, slow_profile: tuple[str, Path]
) -> None:
    profile, runs = slow_profile
    pool = _pool(server, profile_name=profile)
    ticks: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            ticks.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.01)

    async def burst() -> list[Any]:
        stop = asyncio.Event()
        beat = asyncio.ensure_future(ticker(stop))
        await asyncio.sleep(0)

        async def one() -> Any:
            client = await pool.async_client()
            return await client.converse(**CONVERSE)

        try:
            return await asyncio.gather(*(one() for _ in range(64)))
        finally:
            stop.set()
            await beat

    answers = asyncio.run(burst())
    assert len(answers) == 64 and all("output" in a for a in answers)
    assert pool.created == 1
    # The credential process ran once (not once per call), and the loop ticked while it
    # ran: at least 10 ticks of 10 ms fit in its 0.3 s.
    assert runs.read_text() == "x"
    assert len(ticks) >= 10
    headers = server.requests[-1].headers
    assert "Credential=AKIDSLOW/" in headers["Authorization"]


def test_a_cancelled_first_caller_leaves_the_build_to_the_others(
    server: LocalBedrock, slow_profile: tuple[str, Path]
) -> None:
    profile, runs = slow_profile
    pool = _pool(server, profile_name=profile)

    async def run() -> tuple[bool, Any]:
        first = asyncio.ensure_future(pool.async_client())
        second = asyncio.ensure_future(pool.async_client())
        await asyncio.sleep(0.05)  # both wait for the one build
        first.cancel()
        client = await second
        answer = await client.converse(**CONVERSE)
        await asyncio.sleep(0)
        return first.cancelled(), answer

    cancelled, answer = asyncio.run(run())
    assert cancelled and "output" in answer
    assert pool.created == 1 and runs.read_text() == "x"


def test_a_failed_build_fails_its_waiters_and_the_next_call_builds_again(
    server: LocalBedrock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first run of the credential process fails; the second one answers.
    profile, runs = _profile(tmp_path, monkeypatch, "sys.exit(3) if runs.read_text() == 'x' else 0")
    pool = _pool(server, profile_name=profile)

    async def run() -> list[Any]:
        calls = (pool.async_client() for _ in range(4))
        return await asyncio.gather(*calls, return_exceptions=True)

    failures = asyncio.run(run())
    assert all(isinstance(f, Exception) for f in failures)
    assert pool.created == 0 and runs.read_text() == "x"  # one build failed all four

    async def again() -> Any:
        return await (await pool.async_client()).converse(**CONVERSE)

    assert "output" in asyncio.run(again())
    assert pool.created == 1 and runs.read_text() == "xx"
