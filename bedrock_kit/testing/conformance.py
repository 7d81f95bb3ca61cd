"""Load third-party recordings of real AWS Bedrock and replay them over real HTTP.

The conformance set lives outside the project, in ``<repo>/../shared/conformance/cassettes``
(override with the ``BEDROCK_KIT_CONFORMANCE_DIR`` environment variable). Each sub-folder is
one source project; each YAML file is one vcrpy-style recording. This module irons out each
source's quirks so tests see one clean shape:

* pydantic-ai stores JSON bodies as a YAML mapping under ``parsed_body``: turned back into
  JSON bytes.
* ``!!binary`` bodies and header values (bytes) are decoded; headers become one lower-cased
  ``str -> str`` dict.
* openinference strips every header, including Content-Type: a 2xx response of an operation
  whose botocore output is an event stream gets ``application/vnd.amazon.eventstream``,
  anything else ``application/json``.
* Hop-by-hop and stale headers (Content-Length, Transfer-Encoding, Connection, cookies) are
  dropped: the replay server frames the body itself. Stripped headers such as
  ``x-amzn-ErrorType`` (pydantic-ai) stay absent; tests must expect what the bytes say.

Typical use in a conformance test::

    from bedrock_kit.testing.conformance import load_recordings, replay_server

    RECORDINGS = load_recordings()            # [] when ../shared is absent

    @pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.id)
    def test_converse(recording):
        if "Converse" not in recording.operations:
            pytest.skip("not a Converse recording")
        with replay_server(recording) as server:
            client = boto3.client("bedrock-runtime", **server.client_kwargs())
            ...
        expected = recording.interactions[0].response_json

Or skip a whole module cleanly: ``conformance_dir_or_skip()`` calls ``pytest.skip`` when
the folder is missing.

:func:`replay_server` serves a recording's interactions through LocalBedrock, queued by
operation in recorded order, so real boto3 and aiobotocore clients parse AWS's own bytes.
Recorded request bodies are kept (:attr:`Interaction.request_json`) for comparison but are
not used for matching: another client's request never equals the recorded one byte for byte.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from bedrock_kit.testing import _routes

__all__ = [
    "CONFORMANCE_DIR_ENV",
    "EVENT_STREAM_CONTENT_TYPE",
    "Interaction",
    "Recording",
    "StreamEvent",
    "conformance_dir",
    "conformance_dir_or_skip",
    "decode_event_stream",
    "load_recording",
    "load_recordings",
    "operation_for_path",
    "replay_server",
]

CONFORMANCE_DIR_ENV = "BEDROCK_KIT_CONFORMANCE_DIR"
"""Environment variable overriding the location of the conformance cassettes."""
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
"""Content-Type of AWS binary event streams."""

# libyaml's loader is ~15x faster on these files; same safe tag set as SafeLoader.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SERVER_OWN_HEADERS = frozenset({"date", "server"})
_DROPPED_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "set-cookie", "keep-alive"}
)


@dataclass(frozen=True)
class StreamEvent:
    """One decoded frame of an event stream (CRCs already verified)."""

    event_type: str
    """``:event-type`` (e.g. ``contentBlockDelta``), or ``:exception-type`` for exceptions."""
    message_type: str
    """``:message-type``: ``event``, ``exception`` or ``error``."""
    payload: dict[str, Any]
    """The JSON payload parsed (``{}`` when empty); bytes members stay base64 strings."""


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair, cleaned of its source's quirks."""

    operation: str
    """botocore operation name derived from method and path, e.g. ``ConverseStream``."""
    service: str
    """``bedrock-runtime`` or ``bedrock-agent-runtime``."""
    method: str
    """HTTP method."""
    path: str
    """Request path as recorded (labels still percent-encoded)."""
    region: str | None
    """Region in the recorded host, if any."""
    request_json: dict[str, Any] | None
    """The request body parsed, or None when it was empty or not JSON."""
    status: int
    """HTTP status of the response."""
    headers: dict[str, str]
    """Response headers, lower-cased, with Content-Type always present."""
    body_bytes: bytes
    """Exact response body bytes (JSON re-serialized only for ``parsed_body`` sources)."""
    response_json: dict[str, Any] | None
    """The response body parsed, for non-stream responses with a JSON object body."""
    events: tuple[StreamEvent, ...] | None
    """Decoded frames for event-stream responses, else None."""

    @property
    def is_event_stream(self) -> bool:
        """True when the response body is an event stream."""
        return self.events is not None

    @property
    def model_id(self) -> str | None:
        """The ``{modelId}`` path label (percent-decoded) for model operations, else None."""
        match = re.match(r"^/model/([^/]+)/", self.path)
        return unquote(match.group(1)) if match else None


@dataclass(frozen=True)
class Recording:
    """One conformance cassette file."""

    source: str
    """Folder name of the source project, e.g. ``pydantic__pydantic-ai``."""
    name: str
    """File name without ``.yaml``."""
    path: Path
    """Absolute path of the YAML file."""
    interactions: tuple[Interaction, ...]
    """Interactions in recorded order."""

    @property
    def id(self) -> str:
        """``source/name``, handy as a pytest parameter id."""
        return f"{self.source}/{self.name}"

    @property
    def operations(self) -> tuple[str, ...]:
        """Operation names of the interactions, in order."""
        return tuple(i.operation for i in self.interactions)


def conformance_dir() -> Path | None:
    """Folder holding the conformance cassettes, or None when it does not exist.

    ``$BEDROCK_KIT_CONFORMANCE_DIR`` when set, else ``<repo>/../shared/conformance/cassettes``
    where ``<repo>`` is the folder containing the ``bedrock_kit`` package.
    """
    override = os.environ.get(CONFORMANCE_DIR_ENV)
    repo = Path(__file__).resolve().parents[2]
    path = Path(override) if override else repo.parent / "shared" / "conformance" / "cassettes"
    return path if path.is_dir() else None


def conformance_dir_or_skip() -> Path:
    """:func:`conformance_dir`, calling ``pytest.skip`` when it is absent."""
    path = conformance_dir()
    if path is None:
        import pytest

        pytest.skip("conformance cassettes not found (../shared is absent)")
    return path


def load_recordings(directory: Path | None = None) -> list[Recording]:
    """Load every ``*.yaml`` recording under ``directory`` (default :func:`conformance_dir`).

    Returns:
        Recordings sorted by source then name; empty when the folder is absent.
    """
    root = directory if directory is not None else conformance_dir()
    if root is None or not root.is_dir():
        return []
    return [load_recording(path) for path in sorted(root.glob("*/*.yaml"))]


def load_recording(path: Path) -> Recording:
    """Load one recording file.

    Raises:
        ValueError: A path matches no bedrock-runtime/bedrock-agent-runtime operation, or
            an event stream fails to decode (bad framing or CRC).
    """
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    interactions = tuple(_interaction(raw) for raw in data.get("interactions") or [])
    return Recording(path.parent.name, path.stem, path.resolve(), interactions)


def operation_for_path(method: str, path: str, host: str = "") -> tuple[str, str, bool]:
    """Map an HTTP method and (percent-encoded) path to a botocore operation.

    Args:
        method: HTTP method.
        path: Request path, without query string.
        host: Recorded host; ``bedrock-agent-runtime`` in it prefers that service.

    Returns:
        (service, operation name, whether its output is an event stream).

    Raises:
        ValueError: No operation of either service matches.
    """
    preferred = "bedrock-agent-runtime" if "bedrock-agent-runtime" in host else "bedrock-runtime"
    candidates = [
        (route.service, route.operation, bool(route.operation_model.has_event_stream_output))
        for route, _ in _routes.matching(method.upper(), path)
    ]
    if not candidates:
        raise ValueError(f"no Bedrock operation for {method} {path}")
    candidates.sort(key=lambda c: c[0] != preferred)  # stable: keeps specificity order
    return candidates[0]


def decode_event_stream(body: bytes) -> tuple[StreamEvent, ...]:
    """Decode an event-stream body with botocore, verifying every frame's CRCs.

    Raises:
        ValueError: Bad framing, a CRC mismatch, trailing bytes, or a non-JSON payload.
    """
    from botocore.eventstream import EventStreamBuffer, ParserError

    buffer = EventStreamBuffer()
    buffer.add_data(body)
    events = []
    consumed = 0
    try:
        for raw_message in buffer:
            message: Any = raw_message  # botocore-stubs mistypes EventStreamMessage
            headers = message.headers
            message_type = str(headers.get(":message-type", "event"))
            kind = headers.get(":event-type") or headers.get(":exception-type") or ""
            payload = json.loads(message.payload) if message.payload else {}
            events.append(StreamEvent(str(kind), message_type, payload))
            consumed += int(message.prelude.total_length)
    except (ParserError, ValueError) as exc:
        raise ValueError(f"invalid event stream: {exc}") from exc
    if consumed != len(body):
        raise ValueError(f"invalid event stream: {len(body) - consumed} trailing bytes")
    return tuple(events)


@contextmanager
def replay_server(recording: Recording) -> Iterator[Any]:
    """Run LocalBedrock scripted with a recording's responses, byte for byte.

    Each interaction's reply is queued on its operation in recorded order, so a client
    making the same calls gets AWS's own status, headers and body bytes back (Content-Length
    is recomputed; Date and Server are the server's own).

    Args:
        recording: What to serve.

    Yields:
        The running ``LocalBedrock`` (``.endpoint_url``, ``.requests``).
    """
    from bedrock_kit.testing.replies import Reply
    from bedrock_kit.testing.server import LocalBedrock

    with LocalBedrock() as server:
        for interaction in recording.interactions:
            # The server writes its own Date and Server; a recorded copy would duplicate them.
            headers = {k: v for k, v in interaction.headers.items() if k not in _SERVER_OWN_HEADERS}
            reply = Reply.raw(interaction.status, headers, interaction.body_bytes)
            server.script(interaction.operation, reply)
        yield server


def _interaction(raw: dict[str, Any]) -> Interaction:
    request, response = raw["request"], raw["response"]
    method = str(request["method"]).upper()
    parts = urlsplit(request["uri"])
    service, operation, streams = operation_for_path(method, parts.path, parts.hostname or "")
    status = int(response["status"]["code"])
    headers = _headers(response.get("headers") or {})
    body = _response_body(response)
    if "content-type" not in headers:
        streamed = streams and 200 <= status < 300
        headers["content-type"] = EVENT_STREAM_CONTENT_TYPE if streamed else "application/json"
    is_stream = EVENT_STREAM_CONTENT_TYPE in headers["content-type"]
    return Interaction(
        operation=operation,
        service=service,
        method=method,
        path=parts.path,
        region=_region(parts.hostname or ""),
        request_json=_json_object(_to_bytes(request.get("body"))),
        status=status,
        headers=headers,
        body_bytes=body,
        response_json=None if is_stream else _json_object(body),
        events=decode_event_stream(body) if is_stream else None,
    )


def _response_body(response: dict[str, Any]) -> bytes:
    if "parsed_body" in response:  # pydantic-ai
        return json.dumps(response["parsed_body"]).encode("utf-8")
    body = response.get("body")
    if isinstance(body, dict):
        return _to_bytes(body.get("string"))
    return _to_bytes(body)


def _headers(raw: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if name.lower() in _DROPPED_HEADERS:
            continue
        values = value if isinstance(value, list) else [value]
        headers[name.lower()] = ", ".join(_to_bytes(v).decode("utf-8") for v in values)
    return headers


def _to_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _region(host: str) -> str | None:
    match = re.search(r"bedrock(?:-agent)?-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws", host)
    return match.group(1) if match else None
