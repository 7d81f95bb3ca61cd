"""Bedrock Agents runtime: InvokeAgent / InvokeInlineAgent, streaming, return of control.

One state machine (:class:`_AgentLoop`) turns the event stream into typed events, keeps every
chunk in order, parses traces into steps (:mod:`traces`), and, when the agent returns
control, asks for the local tools to be run and builds the follow-up request. The sync and
async drivers of :class:`AgentRuntime` are short loops around it; only the transport (boto3
or aiobotocore) and the tool runner (threads or ``asyncio.gather``) differ.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.agents.requests import (
    AgentSession,
    InlineAgentConfig,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.agents.tools import (
    InvocationInput,
    LocalTool,
    ResponseState,
    ToolOutcome,
    arun_tools,
    build_invocation_result,
    parse_invocation_inputs,
    run_tools,
    tools_by_name,
)
from bedrock_kit.core.agents.traces import (
    AgentCitation,
    AgentStep,
    ModelInvocationStep,
    parse_citations,
    parse_trace_event,
)
from bedrock_kit.core.budget.operations import ModelTokenCharge, charging_model_tokens
from bedrock_kit.core.chat.converse import request_id_of
from bedrock_kit.core.chat.types import Usage
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
from bedrock_kit.errors import AgentStepLimitError, ConfigurationError, translate_errors

__all__ = [
    "AgentCompleted",
    "AgentEvent",
    "AgentFiles",
    "AgentResult",
    "AgentReturnControl",
    "AgentRuntime",
    "AgentSession",
    "AgentStepLimitError",
    "AgentTextChunk",
    "AgentToolResult",
    "AgentTraceEvent",
    "InlineAgentConfig",
    "build_inline_agent_request",
    "build_invoke_agent_request",
]

_SERVICE = "bedrock-agent-runtime"
_NEEDS_CONFIRMATION = frozenset({"USER_CONFIRMATION", "USER_CONFIRMATION_AND_RESULT"})
DEFAULT_MAX_STEPS = 10
_NOT_JSON = " (botocore decodes an event payload that is not JSON to an empty event)"


# -- events and result


@dataclass(frozen=True)
class AgentTextChunk:
    """A piece of the answer (``chunk`` event)."""

    text: str
    """Decoded text of the chunk."""
    citations: tuple[AgentCitation, ...] = ()
    """Citations attached to this chunk."""


@dataclass(frozen=True)
class AgentTraceEvent:
    """A typed trace step."""

    step: AgentStep
    """The step."""


@dataclass(frozen=True)
class AgentReturnControl:
    """The agent asks the caller to run tools (``returnControl`` event)."""

    invocation_id: str
    """Id the results must echo."""
    calls: tuple[InvocationInput, ...]
    """Every requested call, in order."""


@dataclass(frozen=True)
class AgentToolResult:
    """A local tool ran (or failed) for a return-of-control call."""

    outcome: ToolOutcome
    """What was sent back."""


@dataclass(frozen=True)
class AgentFiles:
    """Files the agent produced (``files`` event, e.g. code interpreter output)."""

    files: tuple[Mapping[str, Any], ...]
    """``{name, type, bytes}`` per file."""


@dataclass(frozen=True)
class AgentResult:
    """Everything one agent call produced, across all return-of-control rounds."""

    text: str
    """The answer: every chunk, joined in order."""
    session_id: str | None = None
    """Session id to continue the conversation."""
    memory_id: str | None = None
    """Memory id, when the agent uses memory."""
    chunks: tuple[AgentTextChunk, ...] = ()
    """Every chunk, in order."""
    steps: tuple[AgentStep, ...] = ()
    """Every typed trace step, in order."""
    tool_outcomes: tuple[ToolOutcome, ...] = ()
    """Every local tool run sent back to the agent, in order."""
    return_control: AgentReturnControl | None = None
    """Set when the agent returned control and no tools were given to answer it."""
    files: tuple[Mapping[str, Any], ...] = ()
    """Files the agent produced."""
    request_ids: tuple[str, ...] = ()
    """``x-amzn-RequestId`` of every request made."""

    @property
    def citations(self) -> tuple[AgentCitation, ...]:
        """Every citation, in chunk order."""
        return tuple(c for chunk in self.chunks for c in chunk.citations)

    @property
    def usage(self) -> Usage:
        """Model tokens summed over the traced steps (needs ``enable_trace``)."""
        inputs = sum(s.metadata.input_tokens or 0 for s in self.steps)
        outputs = sum(s.metadata.output_tokens or 0 for s in self.steps)
        return Usage(input_tokens=inputs, output_tokens=outputs, total_tokens=inputs + outputs)


@dataclass(frozen=True)
class AgentCompleted:
    """Last event of a stream: the full result."""

    result: AgentResult
    """The result."""


AgentEvent = (
    AgentTextChunk
    | AgentTraceEvent
    | AgentReturnControl
    | AgentToolResult
    | AgentFiles
    | AgentCompleted
)


# -- the shared state machine


class _AgentLoop:
    """State of one agent call across its return-of-control rounds."""

    def __init__(
        self,
        request: Mapping[str, Any],
        tools: Sequence[LocalTool],
        max_steps: int,
        tool_error_state: ResponseState,
    ) -> None:
        if not isinstance(max_steps, int) or max_steps < 0:
            raise ConfigurationError(f"max_steps must be an int >= 0, got {max_steps!r}")
        if tool_error_state not in ("FAILURE", "REPROMPT"):
            raise ConfigurationError(
                f"tool_error_state must be 'FAILURE' or 'REPROMPT', got {tool_error_state!r}"
            )
        self.inline = "foundationModel" in request
        self.method = "invoke_inline_agent" if self.inline else "invoke_agent"
        self.state_key = "inlineSessionState" if self.inline else "sessionState"
        self.request: dict[str, Any] = dict(request)
        self.tools = tools_by_name(tools)
        self.max_steps = max_steps
        self.tool_error_state = tool_error_state
        self.rounds = 0
        self.session_id: str | None = request.get("sessionId")
        self.memory_id: str | None = request.get("memoryId")
        self.chunks: list[AgentTextChunk] = []
        self.steps: list[AgentStep] = []
        self.outcomes: list[ToolOutcome] = []
        self.files: list[Mapping[str, Any]] = []
        self.request_ids: list[str] = []
        self.return_control: AgentReturnControl | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def resource(self) -> str:
        """What errors name: the agent (and alias) or the inline agent's model."""
        if self.inline:
            return str(self.request.get("foundationModel"))
        return f"{self.request.get('agentId')}/{self.request.get('agentAliasId')}"

    @property
    def reader(self) -> WireReader:
        """What errors of this call name: the agent and the last request id."""
        request_id = self.request_ids[-1] if self.request_ids else None
        return WireReader(f"{self.method} response", self.resource, request_id)

    @property
    def resource_kind(self) -> str:
        """How errors label :attr:`resource`: ``model`` for inline agents, else ``agent``."""
        return "model" if self.inline else "agent"

    def begin(self, response: Mapping[str, Any]) -> None:
        """Record the response headers of one round."""
        request_id = request_id_of(response)
        if request_id:
            self.request_ids.append(request_id)
        r = self.reader
        with r.guard(response):
            self.session_id = r.opt_text(response.get("sessionId"), "sessionId") or self.session_id
            self.memory_id = r.opt_text(response.get("memoryId"), "memoryId") or self.memory_id
        self.return_control = None

    def completion(self, response: Mapping[str, Any]) -> Any:
        """The event stream of one round's response."""
        return event_stream_of(response, "completion", self.reader)

    def feed(self, event: Mapping[str, Any]) -> list[AgentEvent]:
        """Typed events of one stream event (exception events raise in botocore already).

        Raises:
            MalformedResponseError: The event is not the documented shape (a ``chunk``
                without ``bytes``, which is what botocore makes of a payload that is not
                JSON, a ``returnControl`` without its invocation, a trace without its part).
        """
        r = self.reader
        with r.guard(event):
            return self._feed(r, r.obj(event, "an event"))

    def _feed(self, r: WireReader, event: Mapping[str, Any]) -> list[AgentEvent]:
        out: list[AgentEvent] = []
        for key in ("chunk", "trace", "returnControl", "files"):
            if key in event and not (isinstance(event[key], Mapping) and event[key]):
                raise r.malformed(f"{key} event has no members{_NOT_JSON}", event)
        if "chunk" in event:
            chunk = event["chunk"]
            data = chunk.get("bytes")
            if not isinstance(data, bytes):
                raise r.malformed("chunk.bytes is missing", event)
            attribution = r.opt_obj(chunk.get("attribution"), "chunk.attribution")
            text = self._decoder.decode(data)
            item = AgentTextChunk(text=text, citations=parse_citations(attribution or None))
            self.chunks.append(item)
            out.append(item)
        if "trace" in event:
            part = event["trace"]
            r.obj(part.get("trace"), "trace.trace")
            for step in parse_trace_event(r.document(part, "trace")):
                self.steps.append(step)
                out.append(AgentTraceEvent(step))
        if "returnControl" in event:
            payload = event["returnControl"]
            self.return_control = AgentReturnControl(
                invocation_id=r.text(
                    payload.get("invocationId"), "returnControl.invocationId", empty=False
                ),
                calls=parse_invocation_inputs(payload),
            )
            out.append(self.return_control)
        if "files" in event:
            files = r.items(event["files"].get("files"), "files.files")
            for i, file in enumerate(files):
                r.obj(file, f"files.files[{i}]")
            self.files.extend(files)
            out.append(AgentFiles(tuple(files)))
        return out

    def end_round(self) -> list[AgentEvent]:
        """Flush a multi-byte character split at the end of the stream."""
        tail = self._decoder.decode(b"", final=True)
        if not tail:
            return []
        item = AgentTextChunk(text=tail)
        self.chunks.append(item)
        return [item]

    def pending_calls(self) -> tuple[InvocationInput, ...] | None:
        """Calls to run now, or None when the call is over.

        A call the agent wants the user to confirm first (``USER_CONFIRMATION...``) is never
        run automatically: the request goes back to the caller in ``result.return_control``.

        Raises:
            AgentStepLimitError: When running them would pass ``max_steps`` rounds.
        """
        if self.return_control is None or not self.tools:
            return None
        if any(c.invocation_type in _NEEDS_CONFIRMATION for c in self.return_control.calls):
            return None
        if self.rounds >= self.max_steps:
            raise AgentStepLimitError(
                f"the agent returned control more than max_steps={self.max_steps} times",
                partial=self.result(),
                model_id=self.resource,
                resource=self.resource_kind,
            )
        return self.return_control.calls

    def resume(self, outcomes: Sequence[ToolOutcome]) -> list[AgentEvent]:
        """Record tool outcomes and build the request that sends them back."""
        assert self.return_control is not None
        self.rounds += 1
        self.outcomes.extend(outcomes)
        state = {
            k: v
            for k, v in (self.request.get(self.state_key) or {}).items()
            if k in ("sessionAttributes", "promptSessionAttributes")
        }
        state["invocationId"] = self.return_control.invocation_id
        state["returnControlInvocationResults"] = [build_invocation_result(o) for o in outcomes]
        self.request = {k: v for k, v in self.request.items() if k != "inputText"}
        self.request[self.state_key] = state
        if self.session_id:
            self.request["sessionId"] = self.session_id
        self.return_control = None
        self._decoder.reset()
        return [AgentToolResult(o) for o in outcomes]

    def result(self) -> AgentResult:
        """The result so far."""
        return AgentResult(
            text="".join(c.text for c in self.chunks),
            session_id=self.session_id,
            memory_id=self.memory_id,
            chunks=tuple(self.chunks),
            steps=tuple(self.steps),
            tool_outcomes=tuple(self.outcomes),
            return_control=self.return_control,
            files=tuple(self.files),
            request_ids=tuple(self.request_ids),
        )


class AgentRuntime(OwnsClients):
    """Calls InvokeAgent / InvokeInlineAgent and runs the return-of-control loop.

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-agent-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-agent-runtime`` client.
    """

    def __init__(
        self, settings: ClientSettings, *, client: Any = None, async_client: Any = None
    ) -> None:
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)

    def stream(
        self,
        request: Mapping[str, Any],
        *,
        tools: Sequence[LocalTool] = (),
        max_steps: int = DEFAULT_MAX_STEPS,
        tool_error_state: ResponseState = "FAILURE",
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
        budget_model_id: str | None = None,
    ) -> Iterator[AgentEvent]:
        """Run an agent call; yields typed events and ends with :class:`AgentCompleted`.

        Args:
            request: From :func:`build_invoke_agent_request` or
                :func:`build_inline_agent_request`.
            tools: Local tools answering return of control; with none, a returnControl
                event ends the call (``AgentResult.return_control`` says what was asked).
            max_steps: Most return-of-control rounds to run before raising
                :class:`AgentStepLimitError`.
            tool_error_state: ``responseState`` sent when a tool raises.
            ledger: A budget Ledger: the call holds ``max_tokens_per_invocation`` before its
                first request (refused with BudgetExceededError when it could cross a
                limit; ConfigurationError without a cap) and settles to the model tokens of
                its traces (``enable_trace``), else the whole cap.
            max_tokens_per_invocation: Most model tokens the call may bill (all rounds).
            budget_model_id: Model the agent runs, to price the hold (an inline agent's
                ``foundationModel`` by default; else the table's fallback, with a warning).
        """
        loop = _AgentLoop(request, tools, max_steps, tool_error_state)
        with charging_model_tokens(
            ledger,
            _agent_row(request, budget_model_id, loop.resource),
            max_tokens_per_invocation,
            what=f"{loop.resource_kind} {loop.resource}",
        ) as charge:
            while True:
                with translate_errors(
                    model_id=loop.resource, region=self.pool.region, resource=loop.resource_kind
                ):
                    response = getattr(self.pool.client, loop.method)(**loop.request)
                    _sent(charge)
                    with released_on_error(response):
                        loop.begin(response)
                        events = loop.completion(response)
                    try:
                        for event in read_events(events, loop.reader):
                            yield from loop.feed(event)
                    finally:
                        events.close()
                yield from loop.end_round()
                calls = loop.pending_calls()
                if calls is None:
                    yield AgentCompleted(_settled(charge, loop.result()))
                    return
                outcomes = run_tools(calls, loop.tools, tool_error_state=tool_error_state)
                yield from loop.resume(outcomes)

    async def astream(
        self,
        request: Mapping[str, Any],
        *,
        tools: Sequence[LocalTool] = (),
        max_steps: int = DEFAULT_MAX_STEPS,
        tool_error_state: ResponseState = "FAILURE",
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
        budget_model_id: str | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """Async :meth:`stream` (aiobotocore; tools run concurrently with asyncio.gather)."""
        loop = _AgentLoop(request, tools, max_steps, tool_error_state)
        with charging_model_tokens(
            ledger,
            _agent_row(request, budget_model_id, loop.resource),
            max_tokens_per_invocation,
            what=f"{loop.resource_kind} {loop.resource}",
        ) as charge:
            while True:
                with translate_errors(
                    model_id=loop.resource, region=self.pool.region, resource=loop.resource_kind
                ):
                    client = await self.pool.async_client()
                    response = await getattr(client, loop.method)(**loop.request)
                    _sent(charge)
                    with released_on_error(response):
                        loop.begin(response)
                        events = loop.completion(response)
                    try:
                        async for event in aread_events(events, loop.reader):
                            for item in loop.feed(event):
                                yield item
                    finally:
                        await aclose_events(events)
                for item in loop.end_round():
                    yield item
                calls = loop.pending_calls()
                if calls is None:
                    yield AgentCompleted(_settled(charge, loop.result()))
                    return
                outcomes = await arun_tools(calls, loop.tools, tool_error_state=tool_error_state)
                for item in loop.resume(outcomes):
                    yield item

    def invoke(
        self,
        request: Mapping[str, Any],
        *,
        tools: Sequence[LocalTool] = (),
        max_steps: int = DEFAULT_MAX_STEPS,
        tool_error_state: ResponseState = "FAILURE",
        **budget: Any,
    ) -> AgentResult:
        """Run an agent call to the end; see :meth:`stream` (``budget``: its ``ledger``,
        ``max_tokens_per_invocation`` and ``budget_model_id``)."""
        for event in self.stream(
            request, tools=tools, max_steps=max_steps, tool_error_state=tool_error_state, **budget
        ):
            if isinstance(event, AgentCompleted):
                return event.result
        raise AssertionError("agent stream ended without AgentCompleted")  # pragma: no cover

    async def ainvoke(
        self,
        request: Mapping[str, Any],
        *,
        tools: Sequence[LocalTool] = (),
        max_steps: int = DEFAULT_MAX_STEPS,
        tool_error_state: ResponseState = "FAILURE",
        **budget: Any,
    ) -> AgentResult:
        """Async :meth:`invoke`."""
        async for event in self.astream(
            request, tools=tools, max_steps=max_steps, tool_error_state=tool_error_state, **budget
        ):
            if isinstance(event, AgentCompleted):
                return event.result
        raise AssertionError("agent stream ended without AgentCompleted")  # pragma: no cover


def _agent_row(request: Mapping[str, Any], budget_model_id: str | None, resource: str) -> str:
    model = budget_model_id or request.get("foundationModel") or resource
    return f"agent:{model}"


def _sent(charge: ModelTokenCharge | None) -> None:
    if charge is not None:
        charge.sent()


def _settled(charge: ModelTokenCharge | None, result: AgentResult) -> AgentResult:
    """Settle the call's hold to the model tokens its traces reported."""
    if charge is not None:
        usage = result.usage
        models = [
            s.foundation_model
            for s in result.steps
            if isinstance(s, ModelInvocationStep) and s.foundation_model
        ]
        charge.settle(
            usage if usage.total_input_tokens + usage.output_tokens else None,
            result.request_ids[0] if result.request_ids else None,
            model_id=f"agent:{models[0]}" if models else None,
        )
    return result
