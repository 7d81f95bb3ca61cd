"""A hostile HTTP server on 127.0.0.1: sends what Bedrock (and LocalBedrock) never would.

LocalBedrock answers like Bedrock, faults included. This server answers with whatever bytes a
test scripts: HTML from a captive proxy, an empty 200, JSON of the wrong shape, event-stream
frames whose payload is not JSON, a body trickled one byte at a time, a connection cut half
way. It records every request, so a test can prove that validation stopped a call before
anything was sent (``server.requests == []``).

Example::

    with HostileServer() as server:
        server.push(Script(body=b"<html>login</html>", headers={"content-type": "text/html"}))
        llm = ChatBedrockKit(model=..., endpoint_url=server.url, **DUMMY_KEYS)
        with pytest.raises(MalformedResponseError):
            llm.invoke("hi")
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bedrock_kit.testing.eventstream import encode_event, encode_exception, encode_message

DUMMY_KEYS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "AKIAHOSTILETEST00000",
    "aws_secret_access_key": "hostile-test-secret-key-0000000000000000",
}
"""Client arguments that sign requests without reaching AWS."""

EVENT_STREAM = "application/vnd.amazon.eventstream"


@dataclass
class Script:
    """One scripted response: status, headers and body, sent as the test says.

    ``body`` is sent as given (bytes; str is UTF-8 encoded; a dict or list is JSON-encoded).
    ``chunks`` (instead of ``body``) sends pieces one after another, each after its delay:
    ``[(b"...", 0.0), (b"...", 0.5)]``. ``cut_after`` closes the socket after that many body
    bytes, without finishing the response. ``delay`` waits before the status line.
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | str | Mapping[str, Any] | Sequence[Any] = b""
    chunks: Sequence[tuple[bytes, float]] | None = None
    cut_after: int | None = None
    delay: float = 0.0
    operation: str | None = None
    """Only answer requests whose path ends with this operation (``converse``,
    ``converse-stream``, ``apply``, ``retrieve``...); None answers any request."""

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


def json_reply(
    payload: Any, status: int = 200, operation: str | None = None, **headers: str
) -> Script:
    """A JSON body (any value, even one of the wrong shape)."""
    return Script(
        status=status,
        operation=operation,
        headers={"content-type": "application/json", **headers},
        body=json.dumps(payload).encode("utf-8"),
    )


def stream_reply(
    frames: Iterable[bytes], *, delay_between: float = 0.0, cut_after: int | None = None
) -> Script:
    """An event-stream body from raw frames (see :func:`event`, :func:`raw_event`)."""
    return Script(
        headers={"content-type": EVENT_STREAM},
        chunks=[(frame, delay_between) for frame in frames],
        cut_after=cut_after,
    )


def event(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """A well-formed event frame with a JSON payload."""
    return encode_event(event_type, payload)


def raw_event(event_type: str, payload: bytes) -> bytes:
    """A frame with correct CRCs whose payload is whatever bytes the test gives."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, payload)


def exception_event(exception_type: str, message: str) -> bytes:
    """An in-stream exception frame (``throttlingException``...)."""
    return encode_exception(exception_type, message)


@dataclass(frozen=True)
class Received:
    """One request as the server read it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner._record(Received(self.command, self.path, dict(self.headers), body))
        script = self.server.owner._next(self.path)
        if script is None:
            payload = b'{"message": "HostileServer: nothing scripted"}'
            self.send_response(599)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if script.delay:
            time.sleep(script.delay)
        pieces = list(script.chunks) if script.chunks is not None else [(script.body_bytes(), 0.0)]
        total = sum(len(p) for p, _ in pieces)
        self.send_response(script.status)
        headers = {"x-amzn-requestid": "hostile-request-1", **script.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(total))
        self.end_headers()
        self.wfile.flush()
        sent = 0
        for piece, wait in pieces:
            if wait:
                time.sleep(wait)
            if script.cut_after is not None and sent + len(piece) >= script.cut_after:
                self.wfile.write(piece[: script.cut_after - sent])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(piece)
            self.wfile.flush()
            sent += len(piece)

    do_POST = _handle  # noqa: N815 (http.server names)
    do_GET = _handle  # noqa: N815
    do_PUT = _handle  # noqa: N815
    do_DELETE = _handle  # noqa: N815


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-trickle (a deadline, a timeout) is the expected case.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class HostileServer:
    """Scripted raw HTTP replies on 127.0.0.1, in a background thread; records requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: collections.deque[Script] = collections.deque()
        self._sticky: Script | None = None
        self.requests: list[Received] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *scripts: Script) -> HostileServer:
        """Queue replies, answered in order (first matching ``operation``)."""
        with self._lock:
            self._scripts.extend(scripts)
        return self

    def always(self, script: Script) -> HostileServer:
        """Answer every request that finds no queued reply with ``script``."""
        self._sticky = script
        return self

    def _next(self, path: str) -> Script | None:
        with self._lock:
            for script in self._scripts:
                if script.operation is None or path.rstrip("/").endswith(script.operation):
                    self._scripts.remove(script)
                    return script
            return self._sticky

    def _record(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
