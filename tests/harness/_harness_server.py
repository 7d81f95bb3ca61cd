"""A minimal HTTP server replying with queued raw (status, headers, body) triples.

Stand-in for LocalBedrock in the harness's own tests: it lets the vcr tests record real HTTP
bytes (JSON and event streams) without depending on the server implementation.
"""

from __future__ import annotations

import binascii
import json
import struct
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RawReply = tuple[int, dict[str, str], bytes]


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One event-stream frame, as Bedrock sends it."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 16 + len(headers) + len(body), len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


@contextmanager
def raw_server(replies: list[RawReply]) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """Serve ``replies`` in order; yields (endpoint_url, received [(path, body)])."""
    queue = deque(replies)
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, body))
            status, headers, payload = queue.popleft()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
