"""LocalBedrock: a Bedrock-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

Real boto3 and aiobotocore clients talk to it unchanged through ``endpoint_url``. Replies are
scripted per botocore operation name (FIFO); faults are replies too (see
:class:`~bedrock_kit.testing.replies.Reply`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import struct
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from bedrock_kit.testing import _routes
from bedrock_kit.testing._defaults import DefaultAnswers, default_reply
from bedrock_kit.testing._prompt_store import PROMPT_OPERATIONS, PromptStore
from bedrock_kit.testing.billing import BilledUsage, billed_usage
from bedrock_kit.testing.replies import Reply, build_frames
from bedrock_kit.testing.rules import LocalRules

REGION = "us-east-1"
"""The region :meth:`LocalBedrock.client_kwargs` names (LocalBedrock answers any)."""
CREDENTIALS = {"aws_access_key_id": "LOCALBEDROCK", "aws_secret_access_key": "local-bedrock"}
"""Dummy credentials: LocalBedrock accepts any signature, but botocore wants something to sign
with, and these keep a developer's real credentials out of offline runs."""
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK_AGENT",
)

_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a TCP RST


@dataclass(frozen=True)
class ReceivedRequest:
    """A request LocalBedrock received, as the client sent it."""

    operation: str
    """botocore operation name, e.g. ``Converse``."""
    path: str
    """Raw request path without the query string (labels still URL-encoded)."""
    path_params: dict[str, str]
    """Decoded path labels, e.g. ``{"modelId": "arn:aws:bedrock:..."}``."""
    headers: dict[str, str]
    """Request headers (last value wins for repeated names)."""
    body: Any
    """Parsed JSON when the body is JSON, else the raw bytes."""
    method: str = "POST"
    """HTTP method."""
    service: str = ""
    """botocore service name (``bedrock-runtime`` or ``bedrock-agent-runtime``)."""
    query: dict[str, list[str]] | None = None
    """Parsed query string, if any."""
    _billing: Callable[[], BilledUsage] | None = field(default=None, repr=False, compare=False)
    _billed_cache: list[BilledUsage] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @property
    def billed(self) -> BilledUsage | None:
        """What LocalBedrock's answer billed (:mod:`bedrock_kit.testing.billing`), read from
        the bytes it sends (computed on first access, off the serving path); None until the
        answer is decided."""
        if self._billing is None:
            return None
        if not self._billed_cache:
            self._billed_cache.append(self._billing())
        return self._billed_cache[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    owner: LocalBedrock

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response are part of the game, not server errors.
        pass


def _parse_body(raw: bytes, content_type: str) -> Any:
    if raw and ("json" in content_type or raw[:1] in (b"{", b"[")):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out in two writes; with Nagle on, the client's delayed ACK adds ~40 ms
    # to every non-streamed reply.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "LocalBedrock"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection)

    def finish(self) -> None:
        self.server.owner._untrack(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    # http.server dispatches on do_<METHOD>; every method takes the same route lookup.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    # -- request

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        owner = self.server.owner
        raw = self._read_body()
        path, _, query = self.path.partition("?")
        found = _routes.resolve(self.command, path)
        if found is None:
            reply = Reply.error(
                404, "UnknownOperationException", f"no operation at {self.command} {path}"
            )
            self._respond(reply, None, {})
            return
        route, params = found
        request = ReceivedRequest(
            operation=route.operation,
            path=path,
            path_params=params,
            headers=dict(self.headers.items()),
            body=_parse_body(raw, self.headers.get("Content-Type", "")),
            method=self.command,
            service=route.service,
            query=parse_qs(query) if query else None,
        )
        index = owner._record(request)
        reply = owner._next_reply(request)
        owner._bill(index, request, functools.partial(_billed, request, reply, route))
        self._respond(reply, route, params)

    # -- response

    def _respond(
        self, reply: Reply, route: _routes.Route | None, params: Mapping[str, str]
    ) -> None:
        owner = self.server.owner
        try:
            if owner._sleep(owner.latency + reply.delay):
                self._abort()
                return
            if reply.kind == "reset":
                self._reset(reply, route, params)
            elif reply.kind == "events":
                self._send_events(reply, route, params, None)
            else:
                self._send_body(reply, None)
        except OSError:
            # The client went away (or a fault cut the line): nothing left to answer.
            self.close_connection = True

    def _start(self, reply: Reply, length: int | None, extra: Mapping[str, str]) -> None:
        self.send_response(reply.status)
        headers = {**extra, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        lowered = {name.lower() for name in headers}
        if "x-amzn-requestid" not in lowered:
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send_body(self, reply: Reply, cut_at: int | None) -> None:
        self._start(reply, len(reply.body), {})
        if cut_at is None:
            self.wfile.write(reply.body)
            return
        self.wfile.write(reply.body[:cut_at])
        self._abort()

    def _send_events(
        self,
        reply: Reply,
        route: _routes.Route | None,
        params: Mapping[str, str],
        cut_at: int | None,
    ) -> None:
        owner = self.server.owner
        frames = build_frames(reply, route.operation_model if route else None)
        self._start(reply, None, _echo_headers(route, params))
        limit = reply.truncate_after
        sent = 0
        for index, frame in enumerate(frames):
            if limit is not None and index >= limit:
                self._abort()
                return
            if index and owner._sleep(reply.delay_between):
                self._abort()
                return
            if cut_at is not None and sent + len(frame) >= cut_at:
                self._chunk(frame[: cut_at - sent])
                self._abort()
                return
            self._chunk(frame)
            sent += len(frame)
        if cut_at is not None or (limit is not None and limit >= len(frames)):
            self._abort()
            return
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _reset(self, reply: Reply, route: _routes.Route | None, params: Mapping[str, str]) -> None:
        if reply.after_bytes is None:
            self._abort()
            return
        cut = reply.cut or Reply.error(500, "InternalServerException", "nothing to cut")
        if cut.kind == "events":
            self._send_events(cut, route, params, reply.after_bytes)
        else:
            self._send_body(cut, reply.after_bytes)

    def _abort(self) -> None:
        """Close the connection with a TCP reset."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        # The read file holds a reference to the socket; both must close for the RST.
        self.rfile.close()
        self.connection.close()


def _billed(request: ReceivedRequest, reply: Reply, route: _routes.Route) -> BilledUsage:
    """What ``reply`` bills as it will go out: faults cut the bytes it bills for."""
    sent, cut_at = reply, None
    if reply.kind == "reset":
        if reply.after_bytes is None or reply.cut is None:
            return BilledUsage(request.operation, status=0, usage_reported=False)
        sent, cut_at = reply.cut, reply.after_bytes
    body, frames = sent.body, []
    if sent.kind == "events":
        body = b""
        frames = build_frames(sent, route.operation_model)
        if sent.truncate_after is not None:
            frames = frames[: sent.truncate_after]
        if cut_at is not None:
            kept, total = [], 0
            for frame in frames:
                total += len(frame)
                if total > cut_at:
                    break
                kept.append(frame)
            frames = kept
    elif cut_at is not None:
        body = body[:cut_at]
    return billed_usage(
        request.operation,
        status=sent.status,
        path_params=request.path_params,
        request_body=request.body,
        headers=sent.headers,
        body=body,
        frames=frames,
    )


ReplySource = Reply | Callable[[ReceivedRequest], Reply]
"""What can be scripted: a Reply, or a function of the request that returns one."""


def _coerce_rules(rules: LocalRules | Mapping[str, Any] | str | Path | None) -> LocalRules:
    if rules is None:
        return LocalRules()
    if isinstance(rules, LocalRules):
        return rules
    if isinstance(rules, Mapping):
        return LocalRules.from_mapping(rules)
    if isinstance(rules, str | Path):
        return LocalRules.from_file(rules)
    raise TypeError(f"rules must be LocalRules, a dict or a file path, got {type(rules).__name__}")


def _check_operation(operation: str) -> None:
    try:
        _routes.route_for(operation)
    except KeyError:
        raise ValueError(
            f"unknown operation {operation!r}: use a botocore operation name of "
            f"{' or '.join(_routes.SERVICES)}, e.g. 'ConverseStream'"
        ) from None


def _check_source(reply: object) -> None:
    if not isinstance(reply, Reply) and not callable(reply):
        raise TypeError(
            f"replies must be Reply objects or functions returning one, got {type(reply).__name__}"
        )


def _materialise(
    source: ReplySource | None, request: ReceivedRequest, answers: DefaultAnswers
) -> Reply:
    if source is None:
        return default_reply(request.operation, request.body, answers, request.path_params)
    if isinstance(source, Reply):
        return source
    try:
        reply = source(request)
    except Exception as exc:
        # Report a broken script to the client instead of killing the handler thread.
        return Reply.error(500, "InternalServerException", f"scripted reply raised {exc!r}")
    if not isinstance(reply, Reply):
        return Reply.error(
            500, "InternalServerException", f"scripted reply returned {type(reply).__name__}"
        )
    return reply


def _echo_headers(route: _routes.Route | None, params: Mapping[str, str]) -> dict[str, str]:
    """Header-bound output members that echo a path label (InvokeAgent's sessionId)."""
    if route is None:
        return {}
    members = _routes.header_members(route.operation_model)
    return {header: params[name] for name, header in members.items() if name in params}


class LocalBedrock:
    """A Bedrock-compatible HTTP server in a background thread.

    Serves every operation of ``bedrock-runtime`` and ``bedrock-agent-runtime``, routed by
    botocore's service models. Converse, ConverseStream, CountTokens and InvokeFlow have
    default echo replies; Prompt Management (CreatePrompt, GetPrompt, UpdatePrompt,
    CreatePromptVersion, ListPrompts, DeletePrompt) is served from :attr:`prompts`;
    ApplyGuardrail, Retrieve, RetrieveAndGenerate(Stream), InvokeAgent, InvokeInlineAgent
    and embedding InvokeModel calls answer by ``rules`` (:mod:`bedrock_kit.testing.rules`);
    other operations answer 500 unless scripted.
    Any credentials are accepted; :meth:`client_kwargs` gives dummy ones.

    Args:
        host: Interface to bind.
        port: TCP port; 0 picks a free one.
        latency: Seconds to wait before every response.
        default_text: Fixed default answer; None echoes ``echo: <last user text>``.
        answer_tokens: Make default answers exactly this many tokens long.
        chunk_tokens: Tokens per delta in default ConverseStream answers.
        rules: How unscripted guardrail, knowledge base, agent and embedding calls are
            answered: :class:`~bedrock_kit.testing.rules.LocalRules`, a parsed rule file
            (dict) or the path of a JSON rule file; None uses the defaults.

    Example:
        >>> with LocalBedrock() as server:  # doctest: +SKIP
        ...     server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
        ...     client = boto3.client("bedrock-runtime", **server.client_kwargs())
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        default_text: str | None = None,
        answer_tokens: int | None = None,
        chunk_tokens: int = 4,
        rules: LocalRules | Mapping[str, Any] | str | Path | None = None,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency!r}")
        self.host = host
        self.latency = float(latency)
        """Seconds to wait before every response (may be changed while running)."""
        self.answers = DefaultAnswers(
            default_text, answer_tokens, chunk_tokens, _coerce_rules(rules)
        )
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._scripts: defaultdict[str, deque[ReplySource]] = defaultdict(deque)
        self._requests: list[ReceivedRequest] = []
        self._connections: set[socket.socket] = set()
        self._defaults: dict[str, ReplySource] = {}
        self.prompts = PromptStore()
        """Prompt Management state: prompts created here are served back (GetPrompt...)."""

    # -- lifecycle

    def start(self) -> LocalBedrock:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("LocalBedrock is already running")
        self._stopping.clear()
        # Load the service models now: handler threads racing to build them is slow.
        _routes.routes()
        server = _Server((self.host, self._requested_port), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"LocalBedrock:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalBedrock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("LocalBedrock is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for boto3's ``endpoint_url``."""
        return f"http://{self.host}:{self.port}"

    def client_kwargs(self) -> dict[str, str]:
        """Endpoint, region and dummy credentials for any bedrock-kit class or boto3 client.

        Every bedrock-kit class that talks to AWS takes these keyword arguments, and so do
        ``ClientSettings`` and ``boto3.client``; nothing is needed from the environment.

        Example:
            >>> llm = ChatBedrockKit(model="m", **server.client_kwargs())  # doctest: +SKIP
            >>> settings = ClientSettings(**server.client_kwargs())  # doctest: +SKIP
        """
        return {"endpoint_url": self.endpoint_url, "region_name": REGION, **CREDENTIALS}

    def environment(self) -> dict[str, str]:
        """Environment variables that send unmodified boto3 code here, with dummy credentials.

        The endpoint variables are botocore's per-service ones (Bedrock runtime, Agents
        runtime, Agents for GetPrompt), so other AWS services are not redirected.
        """
        found = dict.fromkeys(_ENDPOINT_VARIABLES, self.endpoint_url)
        found.update(
            AWS_DEFAULT_REGION=REGION,  # what botocore reads
            AWS_REGION=REGION,  # what other AWS SDKs read
            AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        )
        return found

    # -- scripting

    def script(self, operation: str, *replies: ReplySource) -> None:
        """Queue replies for a botocore operation name; each answers one request, in order.

        Args:
            operation: botocore operation name, e.g. ``ConverseStream`` or ``Retrieve``.
            *replies: Replies, or functions ``(ReceivedRequest) -> Reply`` for answers that
                depend on the request (pagination tokens, echoed ids).

        Raises:
            ValueError: ``operation`` is not an operation of the served services.
        """
        _check_operation(operation)
        for reply in replies:
            _check_source(reply)
        with self._lock:
            self._scripts[operation].extend(replies)

    def set_default(self, operation: str, reply: ReplySource | None) -> None:
        """Answer ``operation`` with ``reply`` whenever its script queue is empty.

        Args:
            operation: botocore operation name.
            reply: A Reply or a function of the request returning one; None restores the
                built-in default (echo answers, or a 500 for operations without one).
        """
        _check_operation(operation)
        if reply is not None:
            _check_source(reply)
        with self._lock:
            if reply is None:
                self._defaults.pop(operation, None)
            else:
                self._defaults[operation] = reply

    def pending(self, operation: str | None = None) -> int:
        """Scripted replies not yet sent (for one operation, or all)."""
        with self._lock:
            if operation is not None:
                return len(self._scripts.get(operation, ()))
            return sum(len(queue) for queue in self._scripts.values())

    @property
    def requests(self) -> list[ReceivedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, operation: str) -> list[ReceivedRequest]:
        """Received requests of one operation."""
        return [request for request in self.requests if request.operation == operation]

    def clear(self) -> None:
        """Forget received requests, unsent scripted replies and stored prompts."""
        with self._lock:
            self._requests.clear()
            self._scripts.clear()
        self.prompts = PromptStore()

    # -- used by the handler threads

    def _record(self, request: ReceivedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            return len(self._requests) - 1

    def _bill(
        self, index: int, request: ReceivedRequest, billing: Callable[[], BilledUsage]
    ) -> None:
        with self._lock:
            # clear() may have run meanwhile: only the same request object is updated.
            if index < len(self._requests) and self._requests[index] is request:
                self._requests[index] = replace(request, _billing=billing)

    def _next_reply(self, request: ReceivedRequest) -> Reply:
        operation = request.operation
        with self._lock:
            queue = self._scripts.get(operation)
            source = queue.popleft() if queue else self._defaults.get(operation)
        if source is None and operation in PROMPT_OPERATIONS:
            source = self.prompts.reply
        reply = _materialise(source, request, self.answers)
        if reply.kind == "reset" and reply.after_bytes is not None and reply.cut is None:
            # A bare reset(after_bytes=N) cuts what the operation would have answered.
            cut = default_reply(operation, request.body, self.answers, request.path_params)
            reply = replace(reply, cut=cut)
        return reply

    def _sleep(self, seconds: float) -> bool:
        """Wait; True when the server is stopping meanwhile."""
        if seconds > 0:
            return self._stopping.wait(seconds)
        return self._stopping.is_set()

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
