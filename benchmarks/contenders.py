"""The contenders: one small ``make_*`` function each, registered in :data:`CONTENDERS`.

Every contender gets the same endpoint, fake credentials, region, retry mode and HTTP
connection-pool size (:data:`POOL_SIZE`, at least the largest concurrency measured, so no
contender is bounded by its pool), and exposes the same four
calls on one user prompt: ``invoke`` / ``ainvoke`` return the answer text, ``stream`` /
``astream`` yield its non-empty text chunks. What each one really used is recorded in
``Driver.settings`` and lands in the results file.

Adding a contender is one function ``make_x(endpoint) -> Driver`` plus one registry line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
REGION = "us-east-1"
ACCESS_KEY = "AKIDBENCHMARK"
SECRET_KEY = "benchmark-secret"
POOL_SIZE = 256
"""HTTP connections per client for every contender: the largest N of the concurrency
scenario, so a pool never caps throughput (bedrock-kit's default is 64, botocore's 10; with
64, every contender tops out below 64 / latency req/s at N=128 and N=256)."""
MAX_TOKENS = 4096


@dataclass
class Driver:
    """One contender, reduced to the four calls the scenarios make."""

    name: str
    """Label in the results."""
    family: str
    """``floor`` (raw clients), ``bedrock-kit`` or ``peer``."""
    framework: str
    """``none``, ``langchain`` or ``llama-index``."""
    invoke: Callable[[str], str]
    """Sync call; returns the answer text."""
    ainvoke: Callable[[str], Awaitable[str]]
    """Async call; returns the answer text."""
    stream: Callable[[str], Iterator[str]]
    """Sync stream of non-empty text chunks."""
    astream: Callable[[str], AsyncIterator[str]]
    """Async stream of non-empty text chunks."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Client configuration actually used, recorded in the results."""
    clients_built: Callable[[], int] | None = None
    """The contender's own count of clients it built, when it keeps one."""
    aclose: Callable[[], Awaitable[None]] | None = None
    """Release async clients bound to the running event loop."""


def _botocore_config() -> Any:
    from botocore.config import Config

    return Config(
        max_pool_connections=POOL_SIZE,
        retries={"mode": "standard", "max_attempts": 3},
    )


def _converse_args(prompt: str) -> dict[str, Any]:
    return {
        "modelId": MODEL_ID,
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS},
    }


def _answer_text(response: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in response["output"]["message"]["content"])


def _event_text(event: dict[str, Any]) -> str:
    delta = event.get("contentBlockDelta")
    return str(delta["delta"].get("text", "")) if delta else ""


# --------------------------------------------------------------------- raw clients


class _AioClients:
    """One aiobotocore client per event loop, like any long-lived async service keeps."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.built = 0
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}

    async def get(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            from aiobotocore.session import AioSession

            context = AioSession().create_client(
                "bedrock-runtime",
                region_name=REGION,
                endpoint_url=self.endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                config=_botocore_config(),
            )
            created = await context.__aenter__()
            client = self._clients.setdefault(loop, created)
            if client is not created:
                await created.__aexit__(None, None, None)
            else:
                self.built += 1
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.__aexit__(None, None, None)


def _boto3_client(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=_botocore_config(),
    )


def make_raw(endpoint: str) -> Driver:
    """The floor: one boto3 client and one aiobotocore client per loop, no framework."""
    client = _boto3_client(endpoint)
    aio = _AioClients(endpoint)

    def invoke(prompt: str) -> str:
        return _answer_text(client.converse(**_converse_args(prompt)))

    async def ainvoke(prompt: str) -> str:
        response = await (await aio.get()).converse(**_converse_args(prompt))
        return _answer_text(response)

    def stream(prompt: str) -> Iterator[str]:
        events = client.converse_stream(**_converse_args(prompt))["stream"]
        for event in events:
            text = _event_text(event)
            if text:
                yield text

    async def astream(prompt: str) -> AsyncIterator[str]:
        response = await (await aio.get()).converse_stream(**_converse_args(prompt))
        async for event in response["stream"]:
            text = _event_text(event)
            if text:
                yield text

    return Driver(
        name="raw boto3/aiobotocore",
        family="floor",
        framework="none",
        invoke=invoke,
        ainvoke=ainvoke,
        stream=stream,
        astream=astream,
        settings={
            "sync": "one boto3 client",
            "async": "one aiobotocore client per event loop (native async)",
            "max_pool_connections": POOL_SIZE,
        },
        clients_built=lambda: 1 + aio.built,
        aclose=aio.aclose,
    )


# --------------------------------------------------------------------- lean transport


def _lean_settings(endpoint: str) -> Any:
    from bedrock_kit.core.transport.clients import ClientSettings

    return ClientSettings(
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_pool_connections=POOL_SIZE,
        max_retries=2,  # max_attempts 3, as the raw clients
    )


def _lean_clients(endpoint: str) -> tuple[Any, Any]:
    """The lean transport's sync client and async client (one async client for every loop)."""
    from bedrock_kit.core.transport.lean import build_lean_client

    settings = _lean_settings(endpoint)
    return (
        build_lean_client(settings, "bedrock-runtime"),
        build_lean_client(settings, "bedrock-runtime", asynchronous=True),
    )


def make_lean(endpoint: str) -> Driver:
    """The bare lean transport: botocore's signer and credentials over urllib3 / aiohttp."""
    client, aclient = _lean_clients(endpoint)

    def invoke(prompt: str) -> str:
        return _answer_text(client.converse(**_converse_args(prompt)))

    async def ainvoke(prompt: str) -> str:
        return _answer_text(await aclient.converse(**_converse_args(prompt)))

    def stream(prompt: str) -> Iterator[str]:
        for event in client.converse_stream(**_converse_args(prompt))["stream"]:
            text = _event_text(event)
            if text:
                yield text

    async def astream(prompt: str) -> AsyncIterator[str]:
        response = await aclient.converse_stream(**_converse_args(prompt))
        async for event in response["stream"]:
            text = _event_text(event)
            if text:
                yield text

    return Driver(
        name="bedrock-kit lean transport (bare)",
        family="floor",
        framework="none",
        invoke=invoke,
        ainvoke=ainvoke,
        stream=stream,
        astream=astream,
        settings={
            "sync": "lean client (botocore SigV4Auth + urllib3 pools)",
            "async": "lean async client (botocore SigV4Auth + aiohttp), one per process",
            "max_pool_connections": POOL_SIZE,
        },
        clients_built=lambda: 2,
        aclose=aclient.close,
    )


# --------------------------------------------------------------------- framework shapes


def _chunk_text(chunk: Any) -> str:
    # langchain-core 1.x: ``.text`` is a property (a deprecated callable str in some versions).
    return str(chunk.text)


def _langchain_driver(name: str, family: str, model: Any, settings: dict[str, Any]) -> Driver:
    def invoke(prompt: str) -> str:
        return _chunk_text(model.invoke(prompt))

    async def ainvoke(prompt: str) -> str:
        return _chunk_text(await model.ainvoke(prompt))

    def stream(prompt: str) -> Iterator[str]:
        for chunk in model.stream(prompt):
            text = _chunk_text(chunk)
            if text:
                yield text

    async def astream(prompt: str) -> AsyncIterator[str]:
        async for chunk in model.astream(prompt):
            text = _chunk_text(chunk)
            if text:
                yield text

    return Driver(name, family, "langchain", invoke, ainvoke, stream, astream, settings)


def _llama_index_driver(name: str, family: str, llm: Any, settings: dict[str, Any]) -> Driver:
    from llama_index.core.llms import ChatMessage

    def messages(prompt: str) -> list[Any]:
        return [ChatMessage(role="user", content=prompt)]

    def invoke(prompt: str) -> str:
        return str(llm.chat(messages(prompt)).message.content)

    async def ainvoke(prompt: str) -> str:
        return str((await llm.achat(messages(prompt))).message.content)

    def stream(prompt: str) -> Iterator[str]:
        for response in llm.stream_chat(messages(prompt)):
            if response.delta:
                yield response.delta

    async def astream(prompt: str) -> AsyncIterator[str]:
        async for response in await llm.astream_chat(messages(prompt)):
            if response.delta:
                yield response.delta

    return Driver(name, family, "llama-index", invoke, ainvoke, stream, astream, settings)


def make_langchain_floor(endpoint: str) -> Driver:
    """Raw clients behind a minimal ``BaseChatModel``: what langchain-core itself costs."""
    from benchmarks._langchain_floor import MinimalChatModel

    aio = _AioClients(endpoint)
    model = MinimalChatModel(
        model_id=MODEL_ID, max_tokens=MAX_TOKENS, client=_boto3_client(endpoint), aio=aio
    )
    driver = _langchain_driver(
        "langchain-core floor (raw clients in a minimal BaseChatModel)",
        "floor",
        model,
        {
            "sync": "one boto3 client",
            "async": "one aiobotocore client per event loop (native async)",
            "max_pool_connections": POOL_SIZE,
        },
    )
    driver.clients_built = lambda: 1 + aio.built
    driver.aclose = aio.aclose
    return driver


class _OneAsyncClient:
    """The floor's ``aio`` for a lean async client: one client serves every event loop."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def get(self) -> Any:
        return self.client


def make_langchain_floor_lean(endpoint: str) -> Driver:
    """The bare lean transport behind a minimal ``BaseChatModel``.

    What ChatBedrockKit would cost if bedrock-kit added nothing to langchain-core and the
    transport: the difference to ChatBedrockKit is bedrock-kit's own share.
    """
    from benchmarks._langchain_floor import MinimalChatModel

    client, aclient = _lean_clients(endpoint)
    model = MinimalChatModel(
        model_id=MODEL_ID, max_tokens=MAX_TOKENS, client=client, aio=_OneAsyncClient(aclient)
    )
    driver = _langchain_driver(
        "langchain-core floor over the lean transport (minimal BaseChatModel)",
        "floor",
        model,
        {
            "sync": "lean client (urllib3)",
            "async": "lean async client (aiohttp), one per process",
            "max_pool_connections": POOL_SIZE,
        },
    )
    driver.clients_built = lambda: 2
    driver.aclose = aclient.close
    return driver


def make_llama_index_floor_lean(endpoint: str) -> Driver:
    """The bare lean transport behind a minimal llama-index-core ``LLM``.

    What BedrockKitLLM would cost if bedrock-kit added nothing to llama-index-core and the
    transport: the difference to BedrockKitLLM is bedrock-kit's own share.
    """
    from benchmarks._llama_index_floor import MinimalLLM

    client, aclient = _lean_clients(endpoint)
    llm = MinimalLLM(model_id=MODEL_ID, max_tokens=MAX_TOKENS, client=client, aclient=aclient)
    driver = _llama_index_driver(
        "llama-index-core floor over the lean transport (minimal LLM)",
        "floor",
        llm,
        {
            "sync": "lean client (urllib3)",
            "async": "lean async client (aiohttp), one per process",
            "max_pool_connections": POOL_SIZE,
        },
    )
    driver.clients_built = lambda: 2
    driver.aclose = aclient.close
    return driver


# --------------------------------------------------------------------- bedrock-kit


def make_bedrock_kit_langchain(endpoint: str) -> Driver:
    """bedrock-kit's LangChain chat model with its default settings."""
    from bedrock_kit.langchain import ChatBedrockKit

    model = ChatBedrockKit(
        model=MODEL_ID,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_tokens=MAX_TOKENS,
        max_pool_connections=POOL_SIZE,
    )
    settings = model.runtime.pool.settings
    driver = _langchain_driver(
        "bedrock-kit ChatBedrockKit",
        "bedrock-kit",
        model,
        {
            "async": "native: the lean transport (aiohttp), one client per event loop",
            "max_pool_connections": settings.max_pool_connections,
            "retry_mode": settings.retry_mode,
        },
    )
    driver.clients_built = lambda: model.runtime.pool.created
    driver.aclose = model.aclose
    return driver


def make_bedrock_kit_core(endpoint: str) -> Driver:
    """bedrock-kit's framework-free core: build_converse_request + ConverseRuntime."""
    from bedrock_kit.core.chat.converse import build_converse_request
    from bedrock_kit.core.chat.runtime import ConverseRuntime
    from bedrock_kit.core.chat.stream import TextDelta
    from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock
    from bedrock_kit.core.transport.clients import ClientSettings

    runtime = ConverseRuntime(
        ClientSettings(
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            max_pool_connections=POOL_SIZE,
        )
    )

    def request(prompt: str, stream: bool = False) -> dict[str, Any]:
        turns = [Message("user", (TextBlock(prompt),))]
        inference = InferenceConfig(max_tokens=MAX_TOKENS)
        return build_converse_request(MODEL_ID, turns, inference=inference, stream=stream)

    def invoke(prompt: str) -> str:
        return runtime.converse(request(prompt)).text

    async def ainvoke(prompt: str) -> str:
        return (await runtime.aconverse(request(prompt))).text

    def stream(prompt: str) -> Iterator[str]:
        for delta in runtime.stream(request(prompt, stream=True)):
            if isinstance(delta, TextDelta) and delta.text:
                yield delta.text

    async def astream(prompt: str) -> AsyncIterator[str]:
        async for delta in runtime.astream(request(prompt, stream=True)):
            if isinstance(delta, TextDelta) and delta.text:
                yield delta.text

    return Driver(
        name="bedrock-kit core ConverseRuntime",
        family="bedrock-kit",
        framework="none",
        invoke=invoke,
        ainvoke=ainvoke,
        stream=stream,
        astream=astream,
        settings={
            "async": "native: the lean transport (aiohttp), one client per event loop",
            "max_pool_connections": runtime.pool.settings.max_pool_connections,
        },
        clients_built=lambda: runtime.pool.created,
        aclose=runtime.pool.aclose,
    )


def make_bedrock_kit_llama_index(endpoint: str) -> Driver:
    """bedrock-kit's LlamaIndex LLM (skipped when llama-index-core is absent)."""
    from bedrock_kit.llama_index import BedrockKitLLM

    llm = BedrockKitLLM(
        model=MODEL_ID,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_tokens=MAX_TOKENS,
        max_pool_connections=POOL_SIZE,
    )
    runtime = llm.runtime
    driver = _llama_index_driver(
        "bedrock-kit BedrockKitLLM",
        "bedrock-kit",
        llm,
        {
            "async": "native: the lean transport (aiohttp), one client per event loop",
            "max_pool_connections": runtime.pool.settings.max_pool_connections,
        },
    )
    driver.clients_built = lambda: runtime.pool.created
    aclose = getattr(llm, "aclose", None)
    if aclose is None:
        aclose = runtime.pool.aclose
    driver.aclose = aclose
    return driver


# --------------------------------------------------------------------- peers


def make_langchain_aws(endpoint: str) -> Driver:
    """langchain-aws ChatBedrockConverse, given the same pool size as everyone."""
    from langchain_aws import ChatBedrockConverse

    model = ChatBedrockConverse(
        model=MODEL_ID,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_tokens=MAX_TOKENS,
        config=_botocore_config(),
    )
    return _langchain_driver(
        "langchain-aws ChatBedrockConverse",
        "peer",
        model,
        {
            "async": "sync boto3 in the event loop's default thread pool (its own design)",
            "default_executor_threads": _default_executor_threads(),
            "max_pool_connections": POOL_SIZE,
        },
    )


def make_llama_index_bedrock_converse(endpoint: str) -> Driver:
    """llama-index-llms-bedrock-converse BedrockConverse, same pool size as everyone."""
    from llama_index.llms.bedrock_converse import BedrockConverse
    from llama_index.llms.bedrock_converse import utils as converse_utils

    llm = BedrockConverse(
        model=MODEL_ID,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_tokens=MAX_TOKENS,
        botocore_config=_botocore_config(),
    )
    native = bool(getattr(converse_utils, "HAS_AIOBOTO3", False))
    return _llama_index_driver(
        "llama-index BedrockConverse",
        "peer",
        llm,
        {
            "async": "aioboto3, a new client per call"
            if native
            else "asyncio.to_thread over sync boto3 (aioboto3 not installed)",
            "default_executor_threads": _default_executor_threads(),
            "max_pool_connections": POOL_SIZE,
        },
    )


def _default_executor_threads() -> int:
    import os

    # asyncio's default ThreadPoolExecutor size (Python 3.8+).
    return min(32, (os.cpu_count() or 1) + 4)


CONTENDERS: dict[str, Callable[[str], Driver]] = {
    "raw": make_raw,
    "lean": make_lean,
    "langchain-floor": make_langchain_floor,
    "langchain-floor-lean": make_langchain_floor_lean,
    "llama-index-floor-lean": make_llama_index_floor_lean,
    "kit-core": make_bedrock_kit_core,
    "kit-langchain": make_bedrock_kit_langchain,
    "kit-llama-index": make_bedrock_kit_llama_index,
    "langchain-aws": make_langchain_aws,
    "llama-index-converse": make_llama_index_bedrock_converse,
}
"""Registry key -> factory. The first entry is the floor every ratio is taken against."""


def build_all(endpoint: str, only: list[str] | None = None) -> tuple[list[Driver], dict[str, str]]:
    """Every contender that can be built here, and why the others were skipped."""
    drivers: list[Driver] = []
    skipped: dict[str, str] = {}
    for key, make in CONTENDERS.items():
        if only and key not in only:
            continue
        try:
            drivers.append(make(endpoint))
        except ImportError as exc:
            skipped[key] = f"not installed: {exc}"
    return drivers, skipped


def describe(drivers: list[Driver]) -> dict[str, dict[str, Any]]:
    """Family, framework and client settings of each driver, for the results file."""
    return {d.name: {"family": d.family, "framework": d.framework, **d.settings} for d in drivers}


async def aclose_all(drivers: list[Driver]) -> None:
    """Close every driver's async clients on the running loop."""
    for driver in drivers:
        if driver.aclose is not None:
            with contextlib.suppress(Exception):
                await driver.aclose()
