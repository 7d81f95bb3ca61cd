"""``max_pool_connections`` on both adapters reaches the HTTP layer, and bad sizes are refused.

The pool bounds the calls in flight: with 2 connections, 6 concurrent calls to a server that
answers after 0.3 s take at least three rounds (0.9 s), however fast the host is.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bedrock_kit.core.transport.clients import ClientSettings, client_settings_from
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing import LocalBedrock

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.mark.parametrize("size", [0, -1, True, 2.5, "8"])
def test_a_bad_pool_size_is_refused_by_name(size: object) -> None:
    with pytest.raises(ConfigurationError, match="max_pool_connections"):
        ClientSettings(region_name="us-east-1", max_pool_connections=size)  # type: ignore[arg-type]


def test_the_default_stays_64() -> None:
    assert client_settings_from(region_name="us-east-1").max_pool_connections == 64


def _langchain(server: LocalBedrock, size: int):
    from bedrock_kit.langchain import ChatBedrockKit

    return ChatBedrockKit(model=MODEL, max_pool_connections=size, **server.client_kwargs())


def _llama_index(server: LocalBedrock, size: int):
    from bedrock_kit.llama_index import BedrockKitLLM

    return BedrockKitLLM(model=MODEL, max_pool_connections=size, **server.client_kwargs())


@pytest.mark.parametrize("make", [_langchain, _llama_index], ids=["langchain", "llama_index"])
def test_the_adapters_pass_the_size_on(server: LocalBedrock, make) -> None:
    model = make(server, 200)
    assert model.runtime.pool.settings.max_pool_connections == 200


async def _six_calls(model, framework: str) -> float:
    began = time.perf_counter()
    if framework == "langchain":
        await asyncio.gather(*(model.ainvoke(f"q{i}") for i in range(6)))
    else:
        from llama_index.core.llms import ChatMessage

        await asyncio.gather(
            *(model.achat([ChatMessage(role="user", content="q")]) for _ in range(6))
        )
    return time.perf_counter() - began


@pytest.mark.parametrize("make", [_langchain, _llama_index], ids=["langchain", "llama_index"])
def test_two_connections_bound_six_async_calls(make) -> None:
    with LocalBedrock(latency=0.3) as server:
        model = make(server, 2)
        framework = "langchain" if make is _langchain else "llama_index"

        async def main() -> float:
            await _six_calls(model, framework)  # opens the connections
            took = await _six_calls(model, framework)
            await model.aclose()
            return took

        took = asyncio.run(main())
    assert took >= 0.9, f"6 calls over 2 connections took {took:.2f} s: the pool did not bound them"
