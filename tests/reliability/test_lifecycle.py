"""Client lifecycle: no client outlives its event loop; every owner closes what it built.

- A plain ``asyncio.run(chain.ainvoke(...))`` script prints nothing at exit (it printed
  "Unclosed client session" for every loop before), checked in a subprocess.
- 100 sequential ``asyncio.run`` calls leave file descriptors and RSS flat (before: one
  client per run kept forever, fds 9 -> 129 and +9 MB per run).
- A long-lived loop (Jupyter) keeps one client; its shutdown closes it.
- Every class that owns clients has ``close()`` / ``aclose()`` and is a sync and an async
  context manager; closing never breaks the object, never closes an injected client.

All calls go to LocalBedrock over real HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from bedrock_kit import ClientSettings
from bedrock_kit.core.transport.clients import ClientPool
from bedrock_kit.core.transport.lifecycle import OwnsClients, owned_pools
from bedrock_kit.testing import LocalBedrock
from tests.support.catalogue import CASES, Case, serve

ROOT = Path(__file__).resolve().parents[2]
OWNERS = [pytest.param(c, id=c.name) for c in CASES if c.owns_clients]

PRELUDE = """
import asyncio, json, os, sys
from bedrock_kit.testing import LocalBedrock
KEYS = dict(region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", max_retries=0)
"""


def _run_script(body: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter, ResourceWarnings shown (they go to stderr)."""
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", code],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}


# -- asyncio.run scripts (subprocesses)


def test_plain_asyncio_run_scripts_print_nothing_at_exit() -> None:
    result = _run_script(
        """
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from bedrock_kit.langchain import ChatBedrockKit
        from bedrock_kit.llama_index import BedrockKitLLM

        with LocalBedrock() as server:
            args = dict(KEYS, endpoint_url=server.endpoint_url)
            llm = ChatBedrockKit(model="amazon.nova-micro-v1:0", **args)
            chain = ChatPromptTemplate.from_template("Say {x}") | llm | StrOutputParser()
            print(asyncio.run(chain.ainvoke({"x": "hi"})))

            async def stream():
                return "".join([p async for p in chain.astream({"x": "streamed"})])

            print(asyncio.run(stream()))
            li = BedrockKitLLM(model="amazon.nova-micro-v1:0", **args)
            print(asyncio.run(li.acomplete("indexed")).text)
            print(llm.runtime.pool.created, llm.runtime.pool.open_async_clients)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "Unclosed client session", no ResourceWarning
    lines = result.stdout.split("\n")
    assert lines[:3] == ["echo: Say hi", "echo: Say streamed", "echo: indexed"]
    assert lines[3] == "2 0"  # one client per loop, each closed with its loop


def test_every_class_leaves_no_open_session_after_asyncio_run_in_a_script() -> None:
    result = _run_script(
        """
        import gc
        import aiohttp
        from tests.support.catalogue import CASES, serve

        def open_sessions():
            gc.collect()
            return sum(isinstance(o, aiohttp.ClientSession) and not o.closed
                       for o in gc.get_objects())

        left, kept = {}, []
        for case in CASES:
            with serve(case) as (server, args):
                obj = case.build(dict(KEYS, **args))
                asyncio.run(case.acall(obj))
                asyncio.run(case.acall(obj))
                kept.append(obj)  # alive: only the loop's end may have closed its client
                left[case.name] = [len(server.requests), open_sessions()]
        print(json.dumps(left))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    left = json.loads(result.stdout)
    assert set(left) == {c.name for c in CASES}
    for name, (requests, open_sessions) in left.items():
        assert requests >= 2 and open_sessions == 0, (name, requests, open_sessions)


SOAK = """
import gc, psutil
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
with LocalBedrock() as server:
    args = dict(KEYS, endpoint_url=server.endpoint_url)
    lc = ChatBedrockKit(model="amazon.nova-micro-v1:0", **args)
    li = BedrockKitLLM(model="amazon.nova-micro-v1:0", **args)

    async def both():
        await lc.ainvoke("a")
        await li.acomplete("b")

    process = psutil.Process()
    samples = []
    for run in range(1, RUNS + 1):
        asyncio.run(both())
        if run in (1, 10, 25, 50, 75, RUNS):
            gc.collect()
            samples.append([run, process.num_fds(), process.memory_info().rss])
    pools = [lc.runtime.pool, li.runtime.pool]
    print(json.dumps({"samples": samples, "created": [p.created for p in pools],
                      "open": [p.open_async_clients for p in pools]}))
"""


def test_one_hundred_asyncio_runs_leave_fds_and_rss_flat() -> None:
    result = _run_script(SOAK)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["created"] == [100, 100]  # one client per loop, as before
    assert report["open"] == [0, 0]  # but none is left open
    by_run = {run: (fds, rss) for run, fds, rss in report["samples"]}
    fds_10, rss_10 = by_run[10]
    fds_100, rss_100 = by_run[100]
    growth = (rss_100 - rss_10) / 2**20
    figures = f"fds {fds_10} -> {fds_100}, RSS +{growth:.1f} MB over runs 10-100: {report}"
    assert fds_100 <= fds_10, figures  # before: +2 fds per run and model
    # Before: +9 MB per run and model (about 1.6 GB here); after, the allocator settles.
    assert growth < 25, figures
    print(figures)


# -- a long-lived loop (Jupyter's)


def test_a_long_lived_loop_keeps_one_client_until_it_shuts_down() -> None:
    from bedrock_kit.langchain import ChatBedrockKit

    with LocalBedrock() as server:
        llm = ChatBedrockKit(
            model="amazon.nova-micro-v1:0",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
        )
        loop = asyncio.new_event_loop()  # what a notebook kernel keeps for its lifetime
        try:
            for _ in range(5):  # one cell after another
                loop.run_until_complete(llm.ainvoke("cell"))

            async def concurrent() -> None:
                await asyncio.gather(*(llm.ainvoke(f"q{i}") for i in range(10)))

            loop.run_until_complete(concurrent())
            pool = llm.runtime.pool
            assert (pool.created, pool.open_async_clients) == (1, 1)
            client = loop.run_until_complete(pool.async_client())
            assert _is_open(client)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())  # the kernel's shutdown
            loop.close()
        assert pool.open_async_clients == 0
        assert not _is_open(client)
        assert len(server.requests) == 15


def _is_open(client: Any) -> bool:
    closed = getattr(client, "closed", None)  # the lean client (the default)
    if isinstance(closed, bool):
        return not closed
    # aiobotocore's AIOHTTPSession keeps its aiohttp sessions in a dict until it is exited.
    return client._endpoint.http_session._sessions is not None


def test_concurrent_first_calls_on_a_fresh_loop_build_one_client() -> None:
    from bedrock_kit.llama_index import BedrockKitLLM

    with LocalBedrock() as server:
        args = {"region_name": "us-east-1", "endpoint_url": server.endpoint_url}
        llm = BedrockKitLLM(model="amazon.nova-micro-v1:0", **args)

        async def many() -> list[str]:
            done = await asyncio.gather(*(llm.acomplete(f"q{i}") for i in range(20)))
            return [r.text for r in done]

        texts = asyncio.run(many())
        assert texts == [f"echo: q{i}" for i in range(20)]
        assert llm.runtime.pool.created == 1
        assert llm.runtime.pool.open_async_clients == 0


def test_a_pool_dropped_while_its_loop_runs_closes_its_client() -> None:
    with LocalBedrock() as server:
        settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)

        async def main() -> bool:
            pool = ClientPool(settings, "bedrock-runtime")
            client = await pool.async_client()
            assert _is_open(client)
            del pool
            gc.collect()  # the loop's finalizer hook schedules the close
            for _ in range(5):
                await asyncio.sleep(0.01)
            return _is_open(client)

        assert asyncio.run(main()) is False


def test_a_loop_closed_by_hand_without_shutdown_is_dropped_from_the_pool() -> None:
    with LocalBedrock() as server:
        pool = ClientPool(
            ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url),
            "bedrock-runtime",
        )
        loop = asyncio.new_event_loop()
        loop.run_until_complete(pool.async_client())
        loop.close()  # no shutdown_asyncgens(): nothing could close the client there
        assert pool.open_async_clients == 1
        asyncio.run(pool.async_client())  # the next loop lets the dead one go
        assert pool.open_async_clients == 0
        assert pool.created == 2


# -- close(), aclose(), with, async with: every owner


def _pools(obj: Any) -> list[ClientPool]:
    pools = owned_pools(obj)
    assert pools, "the call built no client this object owns"
    return pools


@pytest.mark.parametrize("case", OWNERS)
def test_owner_is_a_sync_context_manager_that_closes_what_it_built(case: Case) -> None:
    with serve(case) as (server, args):
        with case.build(args) as obj:
            assert isinstance(obj, OwnsClients)
            case.call(obj)
            clients = [p._client for p in _pools(obj)]
            assert all(c is not None for c in clients)
        assert all(p._client is None and p.open_async_clients == 0 for p in _pools(obj))
        sent = len(server.requests)
        case.call(obj)  # closed is not broken: the next call builds a new client
        assert len(server.requests) > sent
        assert sum(p.created for p in _pools(obj)) == 2 * len(clients)


@pytest.mark.parametrize("case", OWNERS)
def test_owner_is_an_async_context_manager_that_closes_what_it_built(case: Case) -> None:
    async def main() -> tuple[Any, list[Any]]:
        async with case.build(args) as obj:
            await case.acall(obj)
            case.call(obj)  # a sync client too: aclose closes both
            clients = [await p.async_client() for p in _pools(obj)]
            assert all(_is_open(c) for c in clients)
        return obj, clients

    with serve(case) as (_, args):
        obj, clients = asyncio.run(main())
        assert not any(_is_open(c) for c in clients)
        assert all(p._client is None and p.open_async_clients == 0 for p in _pools(obj))


@pytest.mark.parametrize("case", OWNERS)
def test_sync_close_reaches_an_idle_loops_client(case: Case) -> None:
    with serve(case) as (_, args):
        obj = case.build(args)
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(case.acall(obj))
            clients = [loop.run_until_complete(p.async_client()) for p in _pools(obj)]
            obj.close()  # from sync code, while that loop is idle
            assert not any(_is_open(c) for c in clients)
            assert all(p.open_async_clients == 0 for p in _pools(obj))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def test_closing_never_closes_injected_clients() -> None:
    from bedrock_kit.langchain import ChatBedrockKit

    with LocalBedrock() as server:
        args = {"region_name": "us-east-1", "endpoint_url": server.endpoint_url}
        injected = boto3.client("bedrock-runtime", **args)
        with ChatBedrockKit(model="amazon.nova-micro-v1:0", client=injected, **args) as llm:
            llm.invoke("one")
        assert llm.runtime.pool._client is injected  # kept, not dropped
        llm.invoke("two")  # and still usable through the model
        response = injected.converse(
            modelId="amazon.nova-micro-v1:0",
            messages=[{"role": "user", "content": [{"text": "direct"}]}],
        )
        assert response["output"]["message"]["content"][0]["text"] == "echo: direct"
        assert llm.runtime.pool.created == 0


def test_wrappers_do_not_close_what_the_user_passed_in() -> None:
    from bedrock_kit import llama_index as li

    with LocalBedrock() as server:
        args = {"region_name": "us-east-1", "endpoint_url": server.endpoint_url}
        guardrail = li.BedrockGuardrail(guardrail_id="gr12345678", **args)
        post = li.BedrockGuardrailNodePostprocessor(guardrail=guardrail)
        assert owned_pools(post) == []  # the guardrail is the user's, not the wrapper's
        assert len(owned_pools(guardrail)) == 1
