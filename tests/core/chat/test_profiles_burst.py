"""The calls that start together with an application profile ARN ask GetInferenceProfile once.

The control plane's GetInferenceProfile quota is low: 32 threads, or 32 tasks of one loop,
resolving the same new ARN at once used to send 32 requests. LocalBedrock answers after
0.2 s, so every caller arrives while the first request is in flight.
"""

from __future__ import annotations

import asyncio
import pickle
from concurrent.futures import ThreadPoolExecutor

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import inference_profile_reply
from tests.core.chat.test_profiles import HAIKU, _arn, _profiles


def _slow_answer(server: LocalBedrock, arn: str) -> None:
    body = inference_profile_reply(arn, HAIKU)
    server.script("GetInferenceProfile", *[Reply.json(body, delay=0.2) for _ in range(32)])


def test_threads_resolving_one_new_arn_ask_once(server: LocalBedrock) -> None:
    arn = _arn()
    _slow_answer(server, arn)
    profiles = _profiles(server)
    with ThreadPoolExecutor(32) as pool:
        found = list(pool.map(lambda _: profiles.resolve(arn), range(32)))
    assert found == [HAIKU] * 32
    assert len(server.requests_for("GetInferenceProfile")) == 1


def test_tasks_resolving_one_new_arn_ask_once(server: LocalBedrock) -> None:
    arn = _arn()
    _slow_answer(server, arn)
    profiles = _profiles(server)

    async def burst() -> list[str | None]:
        try:
            return await asyncio.gather(*(profiles.aresolve(arn) for _ in range(32)))
        finally:
            await profiles.aclose()

    assert asyncio.run(burst()) == [HAIKU] * 32
    assert len(server.requests_for("GetInferenceProfile")) == 1


def test_a_failed_request_fails_its_waiters_and_the_next_call_asks_again(
    server: LocalBedrock,
) -> None:
    arn = _arn()
    denied = Reply.error(403, "AccessDeniedException", "no bedrock:GetInferenceProfile")
    server.script("GetInferenceProfile", denied, Reply.json(inference_profile_reply(arn, HAIKU)))
    profiles = _profiles(server)

    async def run() -> tuple[list[object], str | None]:
        try:
            first = await asyncio.gather(
                *(profiles.aresolve(arn) for _ in range(8)), return_exceptions=True
            )
            return first, await profiles.aresolve(arn)
        finally:
            await profiles.aclose()

    first, later = asyncio.run(run())
    assert all(type(e).__name__ == "AccessDeniedError" for e in first)
    assert later == HAIKU
    assert len(server.requests_for("GetInferenceProfile")) == 2


def test_the_resolver_still_pickles(server: LocalBedrock) -> None:
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    copy = pickle.loads(pickle.dumps(_profiles(server)))
    assert copy.resolve(arn) == HAIKU
