"""Local tools for Bedrock Agents: return-of-control execution and Lambda handlers.

Adapters wrap LangChain or LlamaIndex tools into :class:`LocalTool` (a name, a
:class:`ToolSpec` and a sync and/or async callable taking keyword arguments). This module
matches Bedrock's invocation inputs to those tools, runs them (threads for sync tools,
``asyncio.gather`` for async ones), and builds the result dicts Bedrock expects, both for
``returnControlInvocationResults`` and for the action-group Lambda response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from bedrock_kit.core.chat.tools import coerce_arguments
from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "InvocationInput",
    "LocalTool",
    "ResponseState",
    "ToolOutcome",
    "arun_tools",
    "build_invocation_result",
    "build_lambda_handler",
    "handle_lambda_event",
    "parse_invocation_inputs",
    "run_tools",
    "tools_by_name",
]

ResponseState = Literal["FAILURE", "REPROMPT"]
_TOOL_ERROR_STATES = ("FAILURE", "REPROMPT")


@dataclass(frozen=True)
class LocalTool:
    """A tool the caller runs locally when an agent returns control (or in a Lambda)."""

    spec: ToolSpec
    """Name, description and JSON Schema of the arguments."""
    func: Callable[..., Any] | None = None
    """Sync implementation, called with keyword arguments."""
    afunc: Callable[..., Awaitable[Any]] | None = None
    """Async implementation, called with keyword arguments."""

    def __post_init__(self) -> None:
        if self.func is None and self.afunc is None:
            raise ConfigurationError(f"tool {self.spec.name!r} has neither func nor afunc")

    @property
    def name(self) -> str:
        """The tool name (function name or operationId in the action group)."""
        return self.spec.name


@dataclass(frozen=True)
class InvocationInput:
    """One tool call Bedrock asks the caller to make (``invocationInputs[]`` member)."""

    kind: Literal["function", "api"]
    """``function`` (functionSchema) or ``api`` (OpenAPI)."""
    action_group: str
    """Action group of the call."""
    name: str
    """Tool name: the function, or the API path without its leading ``/``."""
    parameters: tuple[Mapping[str, Any], ...] = ()
    """``[{name, type, value}]`` as sent (query/path parameters and body properties)."""
    function: str | None = None
    """``function`` as sent (function form)."""
    api_path: str | None = None
    """``apiPath`` as sent (API form)."""
    http_method: str | None = None
    """``httpMethod`` as sent (API form)."""
    agent_id: str | None = None
    """``agentId`` of the (collaborator) agent asking."""
    invocation_type: str | None = None
    """``actionInvocationType``: ``RESULT``, ``USER_CONFIRMATION`` ..."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The invocation input as Bedrock sent it."""


@dataclass(frozen=True)
class ToolOutcome:
    """The result of running one invocation input locally."""

    call: InvocationInput
    """What Bedrock asked for."""
    output: str
    """Text sent back to the agent (the tool's result, or the error message)."""
    state: ResponseState | None = None
    """None on success, ``FAILURE`` or ``REPROMPT`` on error."""
    error: str | None = None
    """``repr`` of the exception the tool raised, or why the call could not run."""


_RETURN_CONTROL = WireReader("returnControl event")


def _api_properties(
    api: Mapping[str, Any], r: WireReader = _RETURN_CONTROL
) -> list[Mapping[str, Any]]:
    request_body = r.opt_obj(api.get("requestBody"), "requestBody")
    content = r.opt_obj(request_body.get("content"), "requestBody.content")
    body: Any = content.get("application/json") or next(iter(content.values()), {})
    properties = r.opt_items(
        r.opt_obj(body, "requestBody.content[]").get("properties"), "properties"
    )
    return [r.obj(p, "requestBody properties[]") for p in properties]


def _parameters(
    r: WireReader, wire: Mapping[str, Any], where: str
) -> tuple[Mapping[str, Any], ...]:
    return tuple(
        r.obj(p, f"{where}.parameters[{i}]")
        for i, p in enumerate(r.opt_items(wire.get("parameters"), f"{where}.parameters"))
    )


def parse_invocation_inputs(payload: Mapping[str, Any]) -> tuple[InvocationInput, ...]:
    """Typed calls of a ``returnControl`` event payload, all of them, in order.

    Raises:
        MalformedResponseError: No ``invocationInputs``, or a member that is neither a
            function nor an API call (dropping it would lose a call the agent waits for).
    """
    r = _RETURN_CONTROL
    calls = []
    with r.guard(payload):
        members = r.items(
            r.obj(payload, "returnControl").get("invocationInputs"), "invocationInputs"
        )
        for i, member in enumerate(members):
            where = f"invocationInputs[{i}]"
            member = r.obj(member, where)
            if member.get("functionInvocationInput") is not None:
                where += ".functionInvocationInput"
                wire = r.obj(member["functionInvocationInput"], where)
                function = r.text(wire.get("function"), f"{where}.function", empty=False)
                calls.append(
                    InvocationInput(
                        kind="function",
                        action_group=r.text(wire.get("actionGroup"), f"{where}.actionGroup"),
                        name=function,
                        parameters=_parameters(r, wire, where),
                        function=function,
                        agent_id=r.opt_text(wire.get("agentId"), f"{where}.agentId"),
                        invocation_type=r.opt_text(
                            wire.get("actionInvocationType"), f"{where}.actionInvocationType"
                        ),
                        raw=wire,
                    )
                )
            elif member.get("apiInvocationInput") is not None:
                where += ".apiInvocationInput"
                wire = r.obj(member["apiInvocationInput"], where)
                path = r.text(wire.get("apiPath"), f"{where}.apiPath", empty=False)
                calls.append(
                    InvocationInput(
                        kind="api",
                        action_group=r.text(wire.get("actionGroup"), f"{where}.actionGroup"),
                        name=path.strip("/").rsplit("/", 1)[-1],
                        parameters=(*_parameters(r, wire, where), *_api_properties(wire, r)),
                        api_path=path,
                        http_method=r.opt_text(wire.get("httpMethod"), f"{where}.httpMethod"),
                        agent_id=r.opt_text(wire.get("agentId"), f"{where}.agentId"),
                        invocation_type=r.opt_text(
                            wire.get("actionInvocationType"), f"{where}.actionInvocationType"
                        ),
                        raw=wire,
                    )
                )
            else:
                raise r.malformed(f"{where} is neither a function nor an API call", member)
    return tuple(calls)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def build_invocation_result(outcome: ToolOutcome) -> dict[str, Any]:
    """One ``returnControlInvocationResults`` member (``functionResult`` or ``apiResult``)."""
    call = outcome.call
    body: dict[str, Any] = {"TEXT": {"body": outcome.output}}
    if call.kind == "function":
        result: dict[str, Any] = {
            "actionGroup": call.action_group,
            "function": call.function or call.name,
            "responseBody": body,
        }
        if outcome.state:
            result["responseState"] = outcome.state
        return {"functionResult": result}
    api: dict[str, Any] = {
        "actionGroup": call.action_group,
        "apiPath": call.api_path,
        "httpMethod": call.http_method,
        "httpStatusCode": 200 if outcome.state is None else 500,
        "responseBody": body,
    }
    if outcome.state:
        api["responseState"] = outcome.state
    return {"apiResult": api}


# -- running tools


def _prepare(
    call: InvocationInput, tools: Mapping[str, LocalTool]
) -> tuple[LocalTool, dict[str, Any]] | ToolOutcome:
    """The tool and typed arguments of a call, or the error outcome sent back instead."""
    tool = tools.get(call.name)
    if tool is None:
        known = sorted(tools)
        return ToolOutcome(
            call,
            output=f"Error: unknown tool {call.name!r}; available tools: {known}",
            state="REPROMPT",
            error=f"unknown tool {call.name!r}",
        )
    try:
        return tool, coerce_arguments(tool.spec.input_schema, call.parameters)
    except ConfigurationError as exc:
        # The model sent an unreadable value: let it try again.
        return ToolOutcome(call, output=f"Error: {exc.message}", state="REPROMPT", error=repr(exc))


def _failed(call: InvocationInput, exc: BaseException, state: ResponseState) -> ToolOutcome:
    return ToolOutcome(
        call, output=f"Error: {type(exc).__name__}: {exc}", state=state, error=repr(exc)
    )


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


def _run_sync(
    tool: LocalTool, call: InvocationInput, arguments: dict[str, Any], state: ResponseState
) -> ToolOutcome:
    try:
        if tool.func is not None:
            value = tool.func(**arguments)
        else:
            assert tool.afunc is not None
            value = asyncio.run(_awaited(tool.afunc(**arguments)))
    except Exception as exc:  # a tool's failure is reported to the agent, never raised
        return _failed(call, exc, state)
    return ToolOutcome(call, output=_text(value))


async def _run_async(
    tool: LocalTool, call: InvocationInput, arguments: dict[str, Any], state: ResponseState
) -> ToolOutcome:
    try:
        if tool.afunc is not None:
            value = await tool.afunc(**arguments)
        else:
            # A sync tool must not block the event loop; it runs in a worker thread.
            assert tool.func is not None
            value = await asyncio.to_thread(tool.func, **arguments)
    except Exception as exc:
        return _failed(call, exc, state)
    return ToolOutcome(call, output=_text(value))


def _check_state(tool_error_state: str) -> ResponseState:
    if tool_error_state not in _TOOL_ERROR_STATES:
        raise ConfigurationError(
            f"tool_error_state must be 'FAILURE' or 'REPROMPT', got {tool_error_state!r}"
        )
    return tool_error_state  # type: ignore[return-value]


def run_tools(
    calls: Sequence[InvocationInput],
    tools: Mapping[str, LocalTool],
    *,
    tool_error_state: ResponseState = "FAILURE",
    max_workers: int | None = None,
) -> list[ToolOutcome]:
    """Run every call (in parallel threads when there are several); outcomes in call order.

    An unknown tool or unreadable argument yields a ``REPROMPT`` outcome, a tool that raises
    yields ``tool_error_state``; nothing here raises for a tool's sake.
    """
    state = _check_state(tool_error_state)
    prepared = [_prepare(call, tools) for call in calls]
    jobs = [(i, p) for i, p in enumerate(prepared) if not isinstance(p, ToolOutcome)]
    outcomes: list[ToolOutcome | None] = [
        p if isinstance(p, ToolOutcome) else None for p in prepared
    ]
    if len(jobs) == 1:
        index, (tool, arguments) = jobs[0]
        outcomes[index] = _run_sync(tool, calls[index], arguments, state)
    elif jobs:
        with ThreadPoolExecutor(max_workers=max_workers or len(jobs)) as pool:
            futures = {
                index: pool.submit(_run_sync, tool, calls[index], arguments, state)
                for index, (tool, arguments) in jobs
            }
            for index, future in futures.items():
                outcomes[index] = future.result()
    return [o for o in outcomes if o is not None]


async def arun_tools(
    calls: Sequence[InvocationInput],
    tools: Mapping[str, LocalTool],
    *,
    tool_error_state: ResponseState = "FAILURE",
) -> list[ToolOutcome]:
    """Async :func:`run_tools`: every call concurrently with ``asyncio.gather``."""
    state = _check_state(tool_error_state)
    prepared = [_prepare(call, tools) for call in calls]

    async def one(index: int) -> ToolOutcome:
        item = prepared[index]
        if isinstance(item, ToolOutcome):
            return item
        tool, arguments = item
        return await _run_async(tool, calls[index], arguments, state)

    return list(await asyncio.gather(*(one(i) for i in range(len(calls)))))


def tools_by_name(tools: Sequence[LocalTool]) -> dict[str, LocalTool]:
    """Tools keyed by name; duplicate names are a configuration error."""
    found: dict[str, LocalTool] = {}
    for tool in tools:
        if not isinstance(tool, LocalTool):
            raise ConfigurationError(
                f"tools must be LocalTool instances, got {type(tool).__name__}"
            )
        if tool.name in found:
            raise ConfigurationError(f"tools: two tools are named {tool.name!r}")
        found[tool.name] = tool
    return found


# -- Lambda


_LAMBDA = WireReader("action-group Lambda event")


def _lambda_call(event: Mapping[str, Any]) -> InvocationInput:
    r = _LAMBDA
    with r.guard(event):
        event = r.obj(event, "the event")
        agent = r.opt_obj(event.get("agent"), "agent")
        agent_id = r.opt_text(agent.get("id"), "agent.id")
        if event.get("apiPath"):
            path = r.text(event["apiPath"], "apiPath")
            return InvocationInput(
                kind="api",
                action_group=r.opt_text(event.get("actionGroup"), "actionGroup") or "",
                name=path.strip("/").rsplit("/", 1)[-1],
                parameters=(*_parameters(r, event, "event"), *_api_properties(event, r)),
                api_path=path,
                http_method=r.opt_text(event.get("httpMethod"), "httpMethod"),
                agent_id=agent_id,
                raw=event,
            )
        if event.get("function"):
            function = r.text(event["function"], "function")
            return InvocationInput(
                kind="function",
                action_group=r.opt_text(event.get("actionGroup"), "actionGroup") or "",
                name=function,
                parameters=_parameters(r, event, "event"),
                function=function,
                agent_id=agent_id,
                raw=event,
            )
    raise ConfigurationError("not a Bedrock Agents action group event: no 'function' or 'apiPath'")


def handle_lambda_event(
    event: Mapping[str, Any],
    tools: Mapping[str, LocalTool],
    *,
    tool_error_state: ResponseState = "FAILURE",
) -> dict[str, Any]:
    """The documented Lambda response for one action-group event (function or API form).

    Session and prompt session attributes are passed back unchanged so the session keeps
    them. Tool errors are reported in the response (``responseState`` for functions, an
    HTTP error status for APIs), never raised, so the agent can react to them.
    """
    call = _lambda_call(event)
    outcome = run_tools([call], tools, tool_error_state=tool_error_state)[0]
    if call.kind == "function":
        function_response: dict[str, Any] = {"responseBody": {"TEXT": {"body": outcome.output}}}
        if outcome.state:
            function_response["responseState"] = outcome.state
        response: dict[str, Any] = {
            "actionGroup": call.action_group,
            "function": call.function,
            "functionResponse": function_response,
        }
    else:
        status = 200
        if outcome.state is not None:
            status = 400 if outcome.state == "REPROMPT" else 500
        response = {
            "actionGroup": call.action_group,
            "apiPath": call.api_path,
            "httpMethod": call.http_method,
            "httpStatusCode": status,
            "responseBody": {"application/json": {"body": outcome.output}},
        }
    return {
        "messageVersion": str(event.get("messageVersion") or "1.0"),
        "response": response,
        "sessionAttributes": dict(event.get("sessionAttributes") or {}),
        "promptSessionAttributes": dict(event.get("promptSessionAttributes") or {}),
    }


def build_lambda_handler(
    tools: Sequence[LocalTool], *, tool_error_state: ResponseState = "FAILURE"
) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
    """An AWS Lambda handler ``(event, context) -> response`` serving ``tools``.

    Raises:
        ConfigurationError: At build time, on duplicate names or a bad error state.
    """
    table = tools_by_name(tools)
    _check_state(tool_error_state)

    def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        return handle_lambda_event(event, table, tool_error_state=tool_error_state)

    return handler
