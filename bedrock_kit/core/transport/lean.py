"""The lean client: botocore's operation interface over the lean transport, sync and async.

:func:`build_lean_client` returns an object with the methods of a boto3 client
(``client.converse(**kwargs)``, ``client.converse_stream(...)["stream"]``,
``client.invoke_model(...)["body"].read()``, ``client.retrieve(...)``...) or, with
``asynchronous=True``, their awaitable twins with aiobotocore's shapes (``async for`` over
event streams, ``async with response["body"]``). Responses are the dicts botocore returns and
errors the exceptions botocore raises (``client.exceptions.ThrottlingException`` is a
``ClientError``), so code written against boto3 runs unchanged.

How a call runs: the request is built and checked by :class:`OperationPlan`, signed by
:class:`Signer`, sent by :class:`SyncHTTP` or :class:`AsyncHTTP`, parsed by
:class:`ResponsePlan`, and retried as :class:`RetryPolicy` (botocore's handlers) decides. All
of that is one sans-I/O :class:`_Call` shared by both modes; the two drivers below only do
the I/O and the sleeping. Configuration is botocore's: a botocore client is built once, as
the oracle for region, endpoint (rulesets, FIPS, dual-stack, ``endpoint_url``,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``), credentials, retry settings, timeouts, proxies, CA
bundle and user agent; it never sends a request.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bedrock_kit.core.transport import telemetry
from bedrock_kit.core.transport.deadline import current_deadline
from bedrock_kit.core.transport.operations import HTTPRequest, OperationPlan, join_url
from bedrock_kit.core.transport.responses import (
    AsyncEventStream,
    AsyncStreamingBody,
    EventParser,
    ResponsePlan,
)
from bedrock_kit.core.transport.retries import HTTPStatus, RetryPolicy, sdk_request_header
from bedrock_kit.core.transport.shapes import ShapeCompiler
from bedrock_kit.core.transport.signing import Signer, SigningRequest, bearer_token_for

__all__ = ["LEAN_SERVICES", "AsyncLeanClient", "LeanClient", "LeanEvents", "build_lean_client"]

LEAN_SERVICES = frozenset({"bedrock", "bedrock-agent", "bedrock-agent-runtime", "bedrock-runtime"})
"""The REST-JSON services the lean transport sends for (others, such as S3, use boto3)."""

_NO_LENGTH = frozenset({"GET", "HEAD", "OPTIONS"})


class _Operation:
    """Everything one operation needs, compiled on first use."""

    __slots__ = (
        "base_headers",
        "model",
        "name",
        "observers",
        "origin",
        "request",
        "response",
        "signer",
        "url_base",
    )

    def __init__(self, core: _Core, name: str) -> None:
        model = core.service_model.operation_model(name)
        self.name = name
        self.model = model
        self.request = OperationPlan(model, core.compiler, core.serializer)
        self.response = ResponsePlan(model, core.compiler, core.parser, core.events)
        endpoint, headers, region, signing_name = core.resolve_endpoint(model)
        self.url_base = endpoint
        parts = urlsplit(endpoint)
        simple = not parts.path.strip("/") and not parts.query and not parts.fragment
        self.origin = f"{parts.scheme}://{parts.netloc}" if simple else ""
        self.base_headers = dict(headers)
        self.signer = Signer(core.credentials, signing_name, region, core.token)
        self.observers = core.hooks.handlers_for(name)


class _Core:
    """Per-client state shared by every call, sync or async.

    Built from a botocore client (the configuration oracle).
    """

    def __init__(self, client: Any, api_key: str | None = None) -> None:
        from botocore.parsers import create_parser

        meta = client.meta
        self.oracle = client
        self.service_model = meta.service_model
        self.service_name: str = self.service_model.service_name
        self.service_id: str = self.service_model.service_id.hyphenize()
        self.hooks = LeanEvents(self)
        self.region: str | None = meta.region_name
        self.config = meta.config
        serializer = getattr(client, "_serializer", None)
        self.serializer = getattr(serializer, "_serializer", serializer)
        if self.serializer is None:
            from botocore.serialize import create_serializer

            self.serializer = create_serializer("rest-json", include_validation=False)
        parser: Any = create_parser(self.service_model.resolved_protocol)
        self.parser = parser
        self.compiler = ShapeCompiler(self.serializer)
        self.events = EventParser(self.compiler, parser._event_stream_parser)
        signer = getattr(client, "_request_signer", None)
        self.credentials = getattr(signer, "_credentials", None)
        self.token = bearer_token_for(self.service_model, api_key, self.config)
        self.user_agent = _user_agent(client)
        self.exceptions = client.exceptions
        retries = dict(self.config.retries or {})
        self.retry = RetryPolicy(
            self.service_model,
            retries.get("mode") or "legacy",
            retries.get("total_max_attempts"),
            loader=getattr(client, "_loader", None),
            read_timeout=self.config.read_timeout,
        )
        self._operations: dict[str, _Operation] = {}
        self._lock = threading.Lock()

    def operation(self, name: str) -> _Operation:
        found = self._operations.get(name)
        if found is None:
            with self._lock:
                found = self._operations.get(name)
                if found is None:
                    found = _Operation(self, name)
                    self._operations[name] = found
        return found

    def resolve_endpoint(self, model: Any) -> tuple[str, dict[str, str], str, str]:
        """(endpoint URL, extra headers, signing region, signing name) for an operation."""
        client = self.oracle
        context: dict[str, Any] = {}
        resolve = getattr(client, "_resolve_endpoint_ruleset", None)
        if resolve is not None:
            url, headers, _ = resolve(model, {}, context)
        else:  # botocore without endpoint rulesets
            url, headers = client.meta.endpoint_url, {}
        signing = context.get("signing") or {}
        region = signing.get("region") or self.region or ""
        name = signing.get("signing_name") or self.service_model.signing_name
        return str(url), dict(headers or {}), str(region), str(name)


class LeanEvents:
    """``client.meta.events`` of a lean client: ``before-parse`` handlers only.

    botocore's other events do not exist here (the lean transport does not run botocore's
    request pipeline), so registering one raises instead of never firing: a client that
    needs botocore's event hooks is injected as ``client=`` / ``async_client=``.
    """

    def __init__(self, core: _Core) -> None:
        self._core = core
        self._handlers: dict[str, tuple[str | None, Any]] = {}  # unique id -> (op, handler)

    def register(
        self, event_name: str, handler: Any, unique_id: str | None = None, **_: Any
    ) -> None:
        """Call ``handler`` as botocore does before each response of the named operation(s)
        is parsed (``before-parse.<service>[.<Operation>]``).

        Raises:
            ConfigurationError: For any other event.
        """
        parts = event_name.split(".")
        core = self._core
        if (
            parts[0] != "before-parse"
            or len(parts) > 3
            or parts[1:2] not in ([], [core.service_id])
        ):
            from bedrock_kit.errors import ConfigurationError

            raise ConfigurationError(
                f"the lean transport emits no botocore {event_name!r} event (only "
                "'before-parse'): inject a boto3 client= (or aiobotocore async_client=) to "
                "use botocore event hooks"
            )
        operation = parts[2] if len(parts) == 3 else None
        key = unique_id or f"{id(handler)}:{event_name}"
        with core._lock:
            if key in self._handlers:
                return  # botocore's unique_id: registered once
            self._handlers[key] = (operation, handler)
            for name, op in core._operations.items():  # compiled already: refresh
                op.observers = self.handlers_for(name)

    register_first = register
    register_last = register

    def handlers_for(self, operation: str) -> tuple[Any, ...]:
        """The handlers registered for ``operation``."""
        return tuple(h for op, h in self._handlers.values() if op is None or op == operation)


def _user_agent(client: Any) -> str:
    creator = getattr(client, "_user_agent_creator", None)
    if creator is not None:
        try:
            return str(creator.to_string())
        except Exception:  # a botocore without the structured user agent
            pass
    import botocore

    return f"Botocore/{botocore.__version__} bedrock-kit"


class _Call:
    """One API call, sans I/O: prepares each attempt, judges each outcome."""

    __slots__ = (
        "_error",
        "attempts",
        "context",
        "core",
        "op",
        "outcome",
        "params",
        "request",
        "url",
    )

    def __init__(self, core: _Core, op: _Operation, params: Mapping[str, Any]) -> None:
        self.core = core
        self.op = op
        self.params = params
        self.request: HTTPRequest = op.request.build(params)
        self.attempts = 1
        self.context: dict[str, Any] = {
            "retries": {"attempt": 1, "invocation-id": str(uuid.uuid4())},
            "has_streaming_input": op.request.streaming_input,
            "client_region": core.region,
        }
        request = self.request
        if op.origin:
            target = request.path + ("?" + request.query if request.query else "")
            self.url = op.origin + target
        else:
            self.url = join_url(op.url_base, request.path, request.query)
        self.outcome: tuple[HTTPStatus, dict[str, Any]] | None = None
        self._error: BaseException | None = None

    def origin_and_target(self) -> tuple[str, str]:
        if self.op.origin:
            return self.op.origin, self.url[len(self.op.origin) :]
        parts = urlsplit(self.url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        return f"{parts.scheme}://{parts.netloc}", target

    def prepare(self, frozen: Any) -> tuple[dict[str, str], bytes | None]:
        """Signed headers and body for the next attempt."""
        core, op, request = self.core, self.op, self.request
        headers = dict(request.headers)
        if op.base_headers:
            headers.update(op.base_headers)
        headers["User-Agent"] = core.user_agent
        core.retry.request_created(op.name, self.context)
        signing = SigningRequest(request.method, self.url, headers, request.body)
        op.signer.sign(signing, frozen)
        headers["amz-sdk-invocation-id"] = self.context["retries"]["invocation-id"]
        headers["amz-sdk-request"] = sdk_request_header(self.context)
        if request.method not in _NO_LENGTH:
            headers["Content-Length"] = str(len(request.body))
        return headers, request.body or None

    def received(
        self, status: int, headers: Any, body: Any, events: Any, stream: Any
    ) -> float | None:
        """Parse a response; returns the retry delay, or None when the call is over."""
        lowered = {k.lower(): v for k, v in headers.items()}
        op = self.op
        plan = op.response
        if op.observers:
            self._observe(status, lowered, body)
        try:
            if status >= 300:
                parsed = plan.parse_error(status, headers, body)
            else:
                parsed = plan.parse(
                    status,
                    headers,
                    lowered,
                    body,
                    events=events,
                    stream=stream,
                    params=self.params,
                )
        except Exception as exc:
            return self.failed(exc)
        http = HTTPStatus(status, lowered, body if isinstance(body, bytes) else b"")
        self.outcome = (http, parsed)
        delay = self.core.retry.needs_retry(
            self.op.model, self.attempts, self.context, self.outcome, None
        )
        return self._next(delay)

    def _observe(self, status: int, lowered: dict[str, str], body: Any) -> None:
        # The before-parse handlers registered on client.meta.events, as botocore calls them.
        response = {
            "headers": lowered,
            "status_code": status,
            "body": body,
            "context": {"operation_name": self.op.name},
        }
        event = f"before-parse.{self.core.service_id}.{self.op.name}"
        for handler in self.op.observers:
            handler(
                operation_model=self.op.model,
                response_dict=response,
                customized_response_dict={},
                event_name=event,
            )

    def failed(self, exc: BaseException) -> float | None:
        """An exception instead of a response: retry delay, or raise it."""
        self.outcome = None
        self._error = exc
        delay = self.core.retry.needs_retry(self.op.model, self.attempts, self.context, None, exc)
        if delay is None:
            raise exc
        return self._next(delay)

    def _next(self, delay: float | None) -> float | None:
        if delay is not None:
            self.attempts += 1
            self.context["retries"]["attempt"] = self.attempts
        return delay

    def result(self) -> dict[str, Any]:
        """The parsed response, or the error botocore would raise."""
        assert self.outcome is not None
        http, parsed = self.outcome
        metadata = parsed.get("ResponseMetadata")
        if isinstance(metadata, dict):
            metadata["RetryAttempts"] = self.attempts - 1
        self.core.retry.after_call(self.op.model, self.context, http, parsed)
        if http.status_code >= 300:
            code = (parsed.get("Error") or {}).get("Code")
            raise self.core.exceptions.from_code(code)(parsed, self.op.name)
        return parsed

    def last_error(self) -> BaseException | None:
        """The error the last attempt would raise (for the deadline's cause)."""
        if self.outcome is None:
            return self._error
        http, parsed = self.outcome
        if http.status_code < 300:
            return None
        code = (parsed.get("Error") or {}).get("Code")
        error: BaseException = self.core.exceptions.from_code(code)(parsed, self.op.name)
        return error

    def discard(self) -> None:
        """Release a response that will be retried."""
        if self.outcome is None:
            return
        for value in self.outcome[1].values():
            close = getattr(value, "close", None)
            if callable(close) and not isinstance(value, dict):
                close()


class _ClientMeta:
    """``client.meta``: what bedrock-kit and users read of a botocore client's meta."""

    def __init__(self, core: _Core) -> None:
        meta = core.oracle.meta
        self.events = core.hooks
        self.service_model = core.service_model
        self.region_name = core.region
        self.endpoint_url = meta.endpoint_url
        self.config = core.config
        self.partition = getattr(meta, "partition", "aws")


class _BaseLeanClient:
    checks_bodies = True
    """Checks every JSON body itself (the body check of ``wire.py``, naming the resource)."""

    def __init__(self, core: _Core, http: Any) -> None:
        self._core = core
        self._http = http
        self.meta = _ClientMeta(core)

    @property
    def exceptions(self) -> Any:
        """The service's modeled exceptions (``ClientError`` subclasses), as botocore's."""
        return self._core.exceptions

    @property
    def uses_bearer_token(self) -> bool:
        """Whether calls carry a Bedrock API key instead of a SigV4 signature."""
        return self._core.token is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._core.service_name!r}, {self._core.region!r})"

    def prepare_request(
        self, operation_name: str, params: Mapping[str, Any]
    ) -> tuple[str, str, dict[str, str], bytes]:
        """The signed request an operation would send: (method, url, headers, body).

        Sans I/O (nothing is sent); the equivalence tests compare it with botocore's.
        """
        op = self._core.operation(operation_name)
        call = _Call(self._core, op, params)
        headers, body = call.prepare(op.signer.frozen_credentials())
        return call.request.method, call.url, headers, body or b""


class LeanClient(_BaseLeanClient):
    """Sync lean client; operation methods are added per service (``converse``...)."""

    enforces_deadline = True
    """Bounds its calls by :func:`~bedrock_kit.core.transport.deadline.current_deadline`."""

    def _make_api_call(self, operation_name: str, params: Mapping[str, Any]) -> Any:
        core = self._core
        op = core.operation(operation_name)
        deadline = current_deadline()
        span = telemetry.start(core, op.name, params)
        try:
            call = _Call(core, op, params)
            origin, target = call.origin_and_target()
            send = self._http.send
            while True:
                if deadline is not None:
                    deadline.check()
                headers, body = call.prepare(op.signer.frozen_credentials())
                core.retry.before_send(op.name, call.context)
                try:
                    status, raw_headers, data = send(
                        call.request.method,
                        origin,
                        target,
                        headers,
                        body,
                        stream=op.request.stream_output,
                        deadline=deadline,
                    )
                except Exception as exc:
                    if deadline is not None and deadline.expired():
                        raise deadline.error() from exc
                    delay = call.failed(exc)
                else:
                    delay = call.received(status, raw_headers, data, _sync_events, _sync_body)
                if delay is None:
                    break
                call.discard()
                if deadline is not None and delay >= deadline.remaining():
                    raise deadline.error() from call.last_error()  # no retry past it
                core.retry.sleep(delay)
            return telemetry.finish(span, call.result(), streaming=op.request.stream_output)
        except BaseException as exc:
            telemetry.fail(span, exc)
            raise

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()


class AsyncLeanClient(_BaseLeanClient):
    """Async lean client; ``await client.converse(...)``, aiobotocore's shapes."""

    async def _make_api_call(self, operation_name: str, params: Mapping[str, Any]) -> Any:
        self._closed = False
        core = self._core
        op = core.operation(operation_name)
        span = telemetry.start(core, op.name, params)
        try:
            call = _Call(core, op, params)
            origin, target = call.origin_and_target()
            send = self._http.send
            while True:
                headers, body = call.prepare(await op.signer.afrozen_credentials())
                await core.retry.abefore_send()
                try:
                    status, raw_headers, data = await send(
                        call.request.method,
                        origin,
                        target,
                        headers,
                        body,
                        stream=op.request.stream_output,
                    )
                except Exception as exc:
                    delay = call.failed(exc)
                else:
                    delay = call.received(status, raw_headers, data, AsyncEventStream, _async_body)
                if delay is None:
                    break
                call.discard()
                await core.retry.asleep(delay)
            return telemetry.finish(span, call.result(), streaming=op.request.stream_output)
        except BaseException as exc:
            telemetry.fail(span, exc)
            raise

    _closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran and no call opened a connection since."""
        return self._closed

    async def close(self) -> None:
        """Close the running loop's aiohttp sessions (a later call opens new ones)."""
        self._closed = True
        await self._http.close()

    async def __aenter__(self) -> AsyncLeanClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _sync_events(raw: Any, shape: Any, parser: EventParser, name: str) -> Any:
    from bedrock_kit.core.transport.event_stream import LeanEventStream

    events: Any = parser  # duck-typed: botocore's EventStream only calls parser.parse
    return LeanEventStream(raw, shape, events, name)


def _sync_body(raw: Any, length: Any) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(raw, length)


def _async_body(raw: Any, length: Any) -> Any:
    return AsyncStreamingBody(raw, length)


_CLASSES: dict[tuple[str, bool], type] = {}


def _client_class(service_model: Any, asynchronous: bool) -> type:
    """A client class with one method per operation, as botocore generates them."""
    from botocore import xform_name

    key = (service_model.service_name, asynchronous)
    found = _CLASSES.get(key)
    if found is not None:
        return found
    methods: dict[str, Any] = {}
    for name in service_model.operation_names:
        model = service_model.operation_model(name)
        if model.has_event_stream_input:
            continue  # bidirectional streams need HTTP/2
        methods[xform_name(name)] = _method(name, asynchronous)
    base = AsyncLeanClient if asynchronous else LeanClient
    title = "".join(part.capitalize() for part in service_model.service_name.split("-"))
    found = type(f"{'Async' if asynchronous else ''}Lean{title}Client", (base,), methods)
    _CLASSES[key] = found
    return found


def _method(operation_name: str, asynchronous: bool) -> Any:
    if asynchronous:

        async def acall(self: AsyncLeanClient, **kwargs: Any) -> Any:
            return await self._make_api_call(operation_name, kwargs)

        acall.__doc__ = f"Async ``{operation_name}``; the arguments and response of boto3's."
        return acall

    def call(self: LeanClient, **kwargs: Any) -> Any:
        return self._make_api_call(operation_name, kwargs)

    call.__doc__ = f"``{operation_name}``; the arguments and response of boto3's."
    return call


def lean_client_from_botocore(
    client: Any, *, asynchronous: bool = False, api_key: str | None = None
) -> Any:
    """A lean client configured as the botocore ``client`` (which it never uses to send).

    Args:
        client: A boto3/botocore client of a REST-JSON service.
        asynchronous: Build the async twin (aiohttp) instead of the sync client (urllib3).
        api_key: A Bedrock API key to send instead of SigV4 signatures.
    """
    from bedrock_kit.core.transport.sync_http import SyncHTTP

    core = _Core(client, api_key)
    session = client._endpoint.http_session
    if asynchronous:
        core.user_agent += " md/http#aiohttp"  # botocore's metadata syntax: says how it went
        from bedrock_kit.core.transport.async_http import AsyncHTTP

        http: Any = AsyncHTTP(session)
    else:
        http = SyncHTTP(session)
    return _client_class(core.service_model, asynchronous)(core, http)


def build_lean_client(
    settings: Any, service: str, *, asynchronous: bool = False, api_key: str | None = None
) -> Any:
    """A lean client for ``service`` built from bedrock-kit's ``ClientSettings``.

    Args:
        settings: A :class:`~bedrock_kit.core.transport.clients.ClientSettings`.
        service: botocore service name (``bedrock-runtime``, ``bedrock-agent-runtime``...).
        asynchronous: Build the async client (aiohttp); aiobotocore is not needed.
        api_key: A Bedrock API key (default: ``settings.bearer_token`` when present, else
            ``AWS_BEARER_TOKEN_BEDROCK``).

    Raises:
        botocore.exceptions.NoRegionError: No region could be resolved.
    """
    key = api_key or getattr(settings, "bearer_token", None)
    getter = getattr(key, "get_secret_value", None)
    if callable(getter):
        key = getter()
    oracle = settings.create_client(service)
    return lean_client_from_botocore(oracle, asynchronous=asynchronous, api_key=key)
