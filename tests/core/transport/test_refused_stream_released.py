"""A streaming response refused on its headers closes its connection at once.

A captive proxy answers ConverseStream, InvokeAgent or InvokeFlow with ``200 text/html``
and keeps the connection open. The kit refuses it before reading (MalformedResponseError);
the connection must close then, not when the garbage collector finds the response (GC is
disabled in these tests, so only an explicit close reaches the server).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bedrock_kit.core.agents.runtime import AgentRuntime, AgentSession, build_invoke_agent_request
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.flows.requests import build_invoke_flow_request
from bedrock_kit.core.flows.runtime import FlowRuntime
from bedrock_kit.core.knowledge_bases.runtime import KnowledgeBaseRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import MalformedResponseError

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n"
    b"x-amzn-RequestId: r-1\r\n\r\n<html><body>Sign in to the network"
)


class _Portal:
    """Answers every request with the start of an HTML page and holds the connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closed_by_client = threading.Event()
        self.served = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(15)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += conn.recv(65536)
        self.served += 1  # before the reply: the client may be done before this thread runs on
        conn.sendall(HEAD)
        try:
            if conn.recv(1) == b"":
                self.closed_by_client.set()
        except OSError:
            self.closed_by_client.set()
        finally:
            conn.close()

    def settings(self) -> ClientSettings:
        return ClientSettings(
            region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{self.port}", max_retries=0
        )


@pytest.fixture
def portal() -> Iterator[_Portal]:
    gc.disable()
    server = _Portal()
    try:
        yield server
    finally:
        gc.enable()
        server.sock.close()


CONVERSE = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def _assert_released(portal: _Portal, kept: Any) -> None:
    assert portal.served == 1
    assert portal.closed_by_client.wait(5), "the refused stream's connection stayed open"
    del kept


def test_converse_stream(portal: _Portal) -> None:
    runtime = ConverseRuntime(portal.settings())
    with pytest.raises(MalformedResponseError, match="text/html") as info:
        list(runtime.stream(CONVERSE))
    _assert_released(portal, info)


def test_async_converse_stream(portal: _Portal) -> None:
    async def main() -> None:
        runtime = ConverseRuntime(portal.settings())
        with pytest.raises(MalformedResponseError, match="text/html"):
            async for _ in runtime.astream(CONVERSE):
                pass
        await asyncio.to_thread(_assert_released, portal, runtime)
        await runtime.aclose()

    asyncio.run(main())


def test_invoke_agent(portal: _Portal) -> None:
    runtime = AgentRuntime(portal.settings())
    request = build_invoke_agent_request(
        "TFMZVIWXR7", "ZT7YYHO8TO", "hi", AgentSession(session_id="s-1")
    )
    with pytest.raises(MalformedResponseError, match="text/html") as info:
        runtime.invoke(request)
    _assert_released(portal, info)


def test_invoke_flow(portal: _Portal) -> None:
    runtime = FlowRuntime(portal.settings())
    request = build_invoke_flow_request("FLOW123456", "TSTALIASID", "hi")
    with pytest.raises(MalformedResponseError, match="text/html") as info:
        runtime.invoke(request)
    _assert_released(portal, info)


def test_retrieve_and_generate_stream(portal: _Portal) -> None:
    runtime = KnowledgeBaseRuntime(portal.settings())
    with pytest.raises(MalformedResponseError, match="text/html") as info:
        list(
            runtime.stream_retrieve_and_generate(
                "q",
                model="anthropic.claude-haiku-4-5-20251001-v1:0",
                knowledge_base_id="KB12345678",
            )
        )
    _assert_released(portal, info)
