"""Prompt Flows runtime: InvokeFlow, its event stream as typed events, multi-turn flows.

One state machine (:class:`_FlowCall`) reads the stream: ``flowOutputEvent`` becomes
:class:`FlowOutput`, ``flowTraceEvent`` a typed trace, ``flowMultiTurnInputRequestEvent``
a :class:`FlowInputRequest`, ``flowCompletionEvent`` the completion reason. Nothing is
dropped: an event of a type this version does not know, a stream that ends without its
completion event, or a completion reason other than ``SUCCESS`` / ``INPUT_REQUIRED`` is a
typed error. The sync and async drivers of :class:`FlowRuntime` are short loops around it.

A flow that asks for input ends with ``completion_reason == "INPUT_REQUIRED"``; its
:class:`FlowResult` keeps the execution id, and :meth:`FlowResult.answer` builds the input
that resumes it.

With ``ledger=`` and ``max_node_transitions_per_invocation=``, every call reserves the cap
of node transitions before the request and settles to what the traces show
(:mod:`bedrock_kit.core.flows.billing`).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger, Reservation
from bedrock_kit.core.chat.converse import request_id_of
from bedrock_kit.core.flows import billing
from bedrock_kit.core.flows.requests import MULTI_TURN_INPUT, FlowInput
from bedrock_kit.core.flows.traces import FlowTrace, parse_flow_trace
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.core.transport.wire_events import (
    aclose_events,
    aread_events,
    event_stream_of,
    read_events,
    released_on_error,
)
from bedrock_kit.errors import (
    BedrockKitError,
    FlowExecutionError,
    IncompleteStreamError,
    translate_errors,
)

__all__ = [
    "FlowCompleted",
    "FlowEvent",
    "FlowInputRequest",
    "FlowOutput",
    "FlowResult",
    "FlowRuntime",
    "FlowTraceEvent",
]

_SERVICE = "bedrock-agent-runtime"
SUCCESS = "SUCCESS"
INPUT_REQUIRED = "INPUT_REQUIRED"
# In-stream exception events that mean the flow itself failed (a node's dependency, a
# gateway, a concurrent execution), not the request: they raise FlowExecutionError.
_FLOW_FAILURES = frozenset(
    {"DependencyFailedException", "BadGatewayException", "ConflictException"}
)
_NOT_JSON = " (botocore decodes an event payload that is not JSON to an empty event)"
_UNKNOWN = "__bedrock_kit_unknown_event__"


class _KeepUnknownEvents:
    """Wraps an event stream's parser so an event of an unknown type is not dropped.

    botocore (and aiobotocore) parse an event whose ``:event-type`` the service model does
    not know to ``{}`` and their iterators skip it: a flow's new event type would vanish.
    This parser marks it instead, and :meth:`_FlowCall.feed` refuses it by name.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def parse(self, response: Mapping[str, Any], shape: Any) -> Any:
        parsed = self._inner.parse(response, shape)
        if inspect.isawaitable(parsed):
            return self._aparse(parsed, response)
        return self._mark(parsed, response)

    async def _aparse(self, parsed: Any, response: Mapping[str, Any]) -> Any:
        return self._mark(await parsed, response)

    @staticmethod
    def _mark(parsed: Any, response: Mapping[str, Any]) -> Any:
        if parsed or response.get("status_code") != 200:
            return parsed
        headers = response.get("headers") or {}
        return {_UNKNOWN: {"eventType": str(headers.get(":event-type"))}}


def _keep_unknown_events(events: Any) -> Any:
    # botocore's EventStream and aiobotocore's AioEventStream hold their parser here.
    if hasattr(events, "_parser"):
        events._parser = _KeepUnknownEvents(events._parser)
    return events


@dataclass(frozen=True)
class FlowOutput:
    """An output node produced a value (``flowOutputEvent``)."""

    node_name: str
    """The output node."""
    node_type: str
    """Its type (``FlowOutputNode``)."""
    content: Any
    """The value (``content.document``: text, number, object...)."""


@dataclass(frozen=True)
class FlowInputRequest:
    """A node asks the user for more input (``flowMultiTurnInputRequestEvent``)."""

    node_name: str
    """The node asking (an agent node)."""
    node_type: str
    """Its type."""
    content: Any
    """The question (``content.document``)."""


@dataclass(frozen=True)
class FlowTraceEvent:
    """A typed trace (``flowTraceEvent``)."""

    trace: FlowTrace
    """The trace."""


@dataclass(frozen=True)
class FlowResult:
    """Everything one InvokeFlow call produced."""

    outputs: tuple[FlowOutput, ...]
    """Every output event, in order."""
    completion_reason: str | None
    """``SUCCESS`` or ``INPUT_REQUIRED`` (None only in a partial result)."""
    execution_id: str | None = None
    """The execution id; send it back to resume a flow waiting for input."""
    traces: tuple[FlowTrace, ...] = ()
    """Every typed trace, in order (needs ``enable_trace``)."""
    input_request: FlowInputRequest | None = None
    """What the flow asks, when ``completion_reason`` is ``INPUT_REQUIRED``."""
    request_id: str | None = None
    """``x-amzn-RequestId`` of the call."""
    flow: str | None = None
    """``flowId/aliasId`` the call addressed."""

    @property
    def output(self) -> Any:
        """The content of the last output event (None when there was none)."""
        return self.outputs[-1].content if self.outputs else None

    @property
    def needs_input(self) -> bool:
        """True when the flow waits for the user's answer (see :meth:`answer`)."""
        return self.completion_reason == INPUT_REQUIRED

    def answer(self, content: Any, *, node_input_name: str = MULTI_TURN_INPUT) -> FlowInput:
        """The input that answers :attr:`input_request`; send it with :attr:`execution_id`.

        Raises:
            FlowExecutionError: The flow is not waiting for input.
        """
        if self.input_request is None:
            raise FlowExecutionError(
                "this flow result asks for no input (completion reason "
                f"{self.completion_reason}); nothing to answer",
                partial=self,
                completion_reason=self.completion_reason,
                execution_id=self.execution_id,
                model_id=self.flow,
                resource="flow",
            )
        return FlowInput(
            content=content,
            node_name=self.input_request.node_name,
            node_output_name=None,
            node_input_name=node_input_name,
        )


@dataclass(frozen=True)
class FlowCompleted:
    """Last event of a stream: the full result."""

    result: FlowResult
    """The result."""


FlowEvent = FlowOutput | FlowInputRequest | FlowTraceEvent | FlowCompleted


class _FlowCall:
    """State of one InvokeFlow call."""

    def __init__(self, request: Mapping[str, Any], region: str | None = None) -> None:
        self.request = dict(request)
        self.region = region
        self.flow = f"{request.get('flowIdentifier')}/{request.get('flowAliasIdentifier')}"
        self.execution_id: str | None = request.get("executionId")
        self.request_id: str | None = None
        self.outputs: list[FlowOutput] = []
        self.traces: list[FlowTrace] = []
        self.input_request: FlowInputRequest | None = None
        self.completion_reason: str | None = None

    @property
    def reader(self) -> WireReader:
        return WireReader("InvokeFlow response", self.flow, self.request_id)

    def begin(self, response: Mapping[str, Any]) -> Any:
        """Record the response headers; the event stream."""
        self.request_id = request_id_of(response)
        r = self.reader
        with r.guard(response):
            found = r.opt_text(response.get("executionId"), "executionId")
        self.execution_id = found or self.execution_id
        return _keep_unknown_events(event_stream_of(response, "responseStream", r))

    def feed(self, event: Mapping[str, Any]) -> list[FlowEvent]:
        """Typed events of one stream event (exception events raise in botocore already).

        Raises:
            MalformedResponseError: The event is of no type this version knows (botocore
                decodes those to an empty event), or not the documented shape.
        """
        r = self.reader
        with r.guard(event):
            event = r.obj(event, "an event")
            if not event:
                raise r.malformed(
                    "an event of a type this version does not know (botocore decodes it to "
                    "an empty event); nothing can be dropped silently"
                )
            out: list[FlowEvent] = []
            for key, body in event.items():
                if key == _UNKNOWN:
                    raise r.malformed(
                        f"event type {body.get('eventType')!r} is not one this version "
                        "knows; it cannot be dropped silently"
                    )
                handler = _HANDLERS.get(key)
                if handler is None:
                    raise r.malformed(f"unknown event type {key!r}", event)
                if not isinstance(body, Mapping) or not body:
                    raise r.malformed(f"{key} has no members{_NOT_JSON}", event)
                if self.completion_reason is not None:
                    raise r.malformed(f"{key} after flowCompletionEvent", event)
                item = handler(self, r, body)
                if item is not None:
                    out.append(item)
            return out

    def _output(self, r: WireReader, body: Mapping[str, Any]) -> FlowEvent:
        item = FlowOutput(
            node_name=r.text(body.get("nodeName"), "flowOutputEvent.nodeName", empty=False),
            node_type=r.text(body.get("nodeType"), "flowOutputEvent.nodeType", empty=False),
            content=_content(r, body.get("content"), "flowOutputEvent.content"),
        )
        self.outputs.append(item)
        return item

    def _input_request(self, r: WireReader, body: Mapping[str, Any]) -> FlowEvent:
        where = "flowMultiTurnInputRequestEvent"
        item = FlowInputRequest(
            node_name=r.text(body.get("nodeName"), f"{where}.nodeName", empty=False),
            node_type=r.text(body.get("nodeType"), f"{where}.nodeType", empty=False),
            content=_content(r, body.get("content"), f"{where}.content"),
        )
        self.input_request = item
        return item

    def _trace(self, r: WireReader, body: Mapping[str, Any]) -> FlowEvent:
        trace = parse_flow_trace(r, body)
        self.traces.append(trace)
        return FlowTraceEvent(trace)

    def _completion(self, r: WireReader, body: Mapping[str, Any]) -> None:
        reason = r.text(
            body.get("completionReason"), "flowCompletionEvent.completionReason", empty=False
        )
        self.completion_reason = reason

    def result(self) -> FlowResult:
        """The result so far."""
        return FlowResult(
            outputs=tuple(self.outputs),
            completion_reason=self.completion_reason,
            execution_id=self.execution_id,
            traces=tuple(self.traces),
            input_request=self.input_request,
            request_id=self.request_id,
            flow=self.flow,
        )

    def finish(self) -> FlowCompleted:
        """The completed result, or the typed error of a stream that did not complete.

        Raises:
            IncompleteStreamError: No ``flowCompletionEvent``.
            FlowExecutionError: A completion reason other than ``SUCCESS`` or
                ``INPUT_REQUIRED``.
            MalformedResponseError: ``INPUT_REQUIRED`` without the input request.
        """
        context = {
            "model_id": self.flow,
            "resource": "flow",
            "region": self.region,
            "request_id": self.request_id,
        }
        if self.completion_reason is None:
            raise IncompleteStreamError(
                "the flow's event stream ended without flowCompletionEvent: the result is "
                f"partial ({len(self.outputs)} outputs)",
                partial_text=repr([o.content for o in self.outputs])[:2000],
                **context,
            )
        if self.completion_reason == INPUT_REQUIRED and self.input_request is None:
            raise self.reader.malformed(
                "completionReason INPUT_REQUIRED without a flowMultiTurnInputRequestEvent"
            )
        if self.completion_reason not in (SUCCESS, INPUT_REQUIRED):
            raise FlowExecutionError(
                f"the flow completed with reason {self.completion_reason!r}",
                partial=self.result(),
                completion_reason=self.completion_reason,
                execution_id=self.execution_id,
                **context,
            )
        return FlowCompleted(self.result())

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Translate errors; the flow's own failure events become FlowExecutionError."""
        try:
            with translate_errors(model_id=self.flow, region=self.region, resource="flow"):
                yield
        except FlowExecutionError:
            raise
        except BedrockKitError as exc:
            if exc.model_id == self.flow and exc.resource == "model":
                exc.resource = "flow"  # raised by a WireReader, which names no resource kind
            if exc.error_code not in _FLOW_FAILURES:
                raise
            raise FlowExecutionError(
                f"the flow failed ({exc.error_code}): {exc.message}",
                partial=self.result(),
                execution_id=self.execution_id,
                model_id=self.flow,
                region=self.region,
                error_code=exc.error_code,
                request_id=self.request_id or exc.request_id,
                resource="flow",
            ) from exc


def _content(r: WireReader, value: Any, where: str) -> Any:
    body = r.obj(value, where)
    if "document" not in body:
        raise r.malformed(f"{where} has no document", body)
    return r.document(body["document"], f"{where}.document")


_Handler = Callable[[_FlowCall, WireReader, Mapping[str, Any]], FlowEvent | None]
_HANDLERS: dict[str, _Handler] = {
    "flowOutputEvent": _FlowCall._output,
    "flowMultiTurnInputRequestEvent": _FlowCall._input_request,
    "flowTraceEvent": _FlowCall._trace,
    "flowCompletionEvent": _FlowCall._completion,
}


class FlowRuntime(OwnsClients):
    """Calls InvokeFlow, sync or native async, and reads its stream into typed events.

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-agent-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-agent-runtime`` client.
        ledger: Budget ledger charged per node transition (needs the cap below).
        max_node_transitions_per_invocation: Node transitions one call may bill, reserved
            before each call (see :mod:`bedrock_kit.core.flows.billing`).

    Raises:
        ConfigurationError: ``ledger`` is not a Ledger, or given without the cap.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        client: Any = None,
        async_client: Any = None,
        ledger: Ledger | None = None,
        max_node_transitions_per_invocation: int | None = None,
    ) -> None:
        self.ledger, self.max_node_transitions_per_invocation = billing.check_flow_budget(
            ledger, max_node_transitions_per_invocation
        )
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)

    def _reserve(self, call: _FlowCall) -> Reservation | None:
        if self.ledger is None or self.max_node_transitions_per_invocation is None:
            return None
        return billing.reserve_flow(
            self.ledger, call.flow, self.max_node_transitions_per_invocation
        )

    @staticmethod
    def _settle(
        call: _FlowCall, reservation: Reservation | None, error: BaseException | None = None
    ) -> None:
        if reservation is None:
            return
        billing.settle_flow(
            reservation,
            sent=call.request_id is not None,
            traced=bool(call.request.get("enableTrace")),
            traces=call.traces,
            error=error,
        )

    def stream(self, request: Mapping[str, Any]) -> Iterator[FlowEvent]:
        """Run a flow; yields typed events as they arrive, then :class:`FlowCompleted`.

        Args:
            request: From :func:`~bedrock_kit.core.flows.requests.build_invoke_flow_request`.

        Raises:
            FlowExecutionError: The flow failed (a failure event, a bad completion reason).
            IncompleteStreamError: The stream ended or broke before its completion event.
            MalformedResponseError: An event of an unknown type or shape.
        """
        call = _FlowCall(request, self.pool.region)
        reservation = self._reserve(call)
        try:
            with call.failures():
                response = self.pool.client.invoke_flow(**call.request)
                with released_on_error(response):
                    events = call.begin(response)
                try:
                    for event in read_events(events, call.reader):
                        yield from call.feed(event)
                finally:
                    events.close()
                completed = call.finish()
        except BaseException as exc:
            self._settle(call, reservation, exc)
            raise
        self._settle(call, reservation)
        yield completed

    async def astream(self, request: Mapping[str, Any]) -> AsyncIterator[FlowEvent]:
        """Async :meth:`stream` over aiobotocore."""
        call = _FlowCall(request, self.pool.region)
        reservation = self._reserve(call)
        try:
            with call.failures():
                client = await self.pool.async_client()
                response = await client.invoke_flow(**call.request)
                with released_on_error(response):
                    events = call.begin(response)
                try:
                    async for event in aread_events(events, call.reader):
                        for item in call.feed(event):
                            yield item
                finally:
                    await aclose_events(events)
                completed = call.finish()
        except BaseException as exc:
            self._settle(call, reservation, exc)
            raise
        self._settle(call, reservation)
        yield completed

    def invoke(self, request: Mapping[str, Any]) -> FlowResult:
        """Run a flow to the end; see :meth:`stream`."""
        for event in self.stream(request):
            if isinstance(event, FlowCompleted):
                return event.result
        raise AssertionError("flow stream ended without FlowCompleted")  # pragma: no cover

    async def ainvoke(self, request: Mapping[str, Any]) -> FlowResult:
        """Async :meth:`invoke`."""
        async for event in self.astream(request):
            if isinstance(event, FlowCompleted):
                return event.result
        raise AssertionError("flow stream ended without FlowCompleted")  # pragma: no cover
