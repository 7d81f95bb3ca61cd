"""Typed Prompt Flow traces: node inputs and outputs, condition results, node actions and
the agent traces of agent nodes.

``flowTraceEvent.trace`` is a union (botocore's ``FlowTrace``); each member becomes one
dataclass. Parsing reads through a :class:`~bedrock_kit.core.transport.wire.WireReader`:
a required member missing or of the wrong type is a ``MalformedResponseError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bedrock_kit.core.agents.traces import AgentStep, parse_trace_event
from bedrock_kit.core.transport.wire import WireReader

__all__ = [
    "FlowConditionTrace",
    "FlowDependencyTrace",
    "FlowNodeActionTrace",
    "FlowNodeInputField",
    "FlowNodeInputTrace",
    "FlowNodeOutputField",
    "FlowNodeOutputTrace",
    "FlowTrace",
    "parse_flow_trace",
]


@dataclass(frozen=True)
class FlowNodeInputField:
    """One input a node received."""

    name: str
    """``nodeInputName``."""
    content: Any
    """The value (``content.document``)."""
    type: str | None = None
    """Data type (``String``, ``Number``, ``Boolean``, ``Object``, ``Array``)."""
    category: str | None = None
    """Loop category (``LoopCondition``, ``ReturnValueToLoopStart``, ``ExitLoop``)."""
    source_node: str | None = None
    """Node whose output fed this input."""
    source_output: str | None = None
    """That node's output field."""
    expression: str | None = None
    """Expression applied to the source output."""
    execution_chain: tuple[tuple[str, str, int | None], ...] = ()
    """``(nodeName, type, index)`` of the iterator or loop nodes around this input."""


@dataclass(frozen=True)
class FlowNodeOutputField:
    """One output a node produced."""

    name: str
    """``nodeOutputName``."""
    content: Any
    """The value (``content.document``)."""
    type: str | None = None
    """Data type."""
    next: tuple[tuple[str, str], ...] = ()
    """``(nodeName, inputFieldName)`` of every input this output feeds."""


@dataclass(frozen=True)
class FlowNodeInputTrace:
    """A node received its inputs (``nodeInputTrace``)."""

    node_name: str
    """The node."""
    timestamp: datetime
    """When."""
    fields: tuple[FlowNodeInputField, ...]
    """Every input."""
    kind: str = "node_input"
    """Discriminator."""


@dataclass(frozen=True)
class FlowNodeOutputTrace:
    """A node produced its outputs (``nodeOutputTrace``)."""

    node_name: str
    """The node."""
    timestamp: datetime
    """When."""
    fields: tuple[FlowNodeOutputField, ...]
    """Every output."""
    kind: str = "node_output"
    """Discriminator."""


@dataclass(frozen=True)
class FlowConditionTrace:
    """A condition node decided (``conditionNodeResultTrace``)."""

    node_name: str
    """The condition node."""
    timestamp: datetime
    """When."""
    satisfied_conditions: tuple[str, ...]
    """Names of the conditions that held, in order."""
    kind: str = "condition"
    """Discriminator."""


@dataclass(frozen=True)
class FlowNodeActionTrace:
    """A node called an AWS service (``nodeActionTrace``)."""

    node_name: str
    """The node."""
    timestamp: datetime
    """When."""
    service_name: str
    """Service called (e.g. ``bedrock-runtime``)."""
    operation_name: str
    """Operation called (e.g. ``Converse``)."""
    request_id: str
    """Request id of that call."""
    operation_request: Any = None
    """What was sent, when traced."""
    operation_response: Any = None
    """What came back, when traced."""
    kind: str = "node_action"
    """Discriminator."""


@dataclass(frozen=True)
class FlowDependencyTrace:
    """What a node's dependency did (``nodeDependencyTrace``): an agent node's steps."""

    node_name: str
    """The node."""
    timestamp: datetime
    """When."""
    agent_steps: tuple[AgentStep, ...] = ()
    """Typed agent trace steps (as InvokeAgent's traces parse)."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """``traceElements`` as botocore decoded them."""
    kind: str = "dependency"
    """Discriminator."""


FlowTrace = (
    FlowNodeInputTrace
    | FlowNodeOutputTrace
    | FlowConditionTrace
    | FlowNodeActionTrace
    | FlowDependencyTrace
)


def _timestamp(r: WireReader, value: Any, where: str) -> datetime:
    if not isinstance(value, datetime):
        problem = "is missing" if value is None else "is not a timestamp"
        raise r.malformed(f"{where} {problem}", value)
    return value


def _document(r: WireReader, content: Any, where: str) -> Any:
    body = r.obj(content, where)
    if "document" not in body:
        raise r.malformed(f"{where} has no document", body)
    return r.document(body["document"], f"{where}.document")


def _input_field(r: WireReader, wire: Any, where: str) -> FlowNodeInputField:
    item = r.obj(wire, where)
    source = r.opt_obj(item.get("source"), f"{where}.source")
    chain = []
    for i, link in enumerate(r.opt_items(item.get("executionChain"), f"{where}.executionChain")):
        link = r.obj(link, f"{where}.executionChain[{i}]")
        index = link.get("index")
        chain.append(
            (
                r.text(link.get("nodeName"), f"{where}.executionChain[{i}].nodeName"),
                r.text(link.get("type"), f"{where}.executionChain[{i}].type"),
                None if index is None else r.count(index, f"{where}.executionChain[{i}].index"),
            )
        )
    return FlowNodeInputField(
        name=r.text(item.get("nodeInputName"), f"{where}.nodeInputName", empty=False),
        content=_document(r, item.get("content"), f"{where}.content"),
        type=r.opt_text(item.get("type"), f"{where}.type"),
        category=r.opt_text(item.get("category"), f"{where}.category"),
        source_node=r.opt_text(source.get("nodeName"), f"{where}.source.nodeName"),
        source_output=r.opt_text(source.get("outputFieldName"), f"{where}.source.outputFieldName"),
        expression=r.opt_text(source.get("expression"), f"{where}.source.expression"),
        execution_chain=tuple(chain),
    )


def _output_field(r: WireReader, wire: Any, where: str) -> FlowNodeOutputField:
    item = r.obj(wire, where)
    nexts = []
    for i, link in enumerate(r.opt_items(item.get("next"), f"{where}.next")):
        link = r.obj(link, f"{where}.next[{i}]")
        nexts.append(
            (
                r.text(link.get("nodeName"), f"{where}.next[{i}].nodeName"),
                r.text(link.get("inputFieldName"), f"{where}.next[{i}].inputFieldName"),
            )
        )
    return FlowNodeOutputField(
        name=r.text(item.get("nodeOutputName"), f"{where}.nodeOutputName", empty=False),
        content=_document(r, item.get("content"), f"{where}.content"),
        type=r.opt_text(item.get("type"), f"{where}.type"),
        next=tuple(nexts),
    )


def _node(r: WireReader, wire: Mapping[str, Any], where: str) -> tuple[str, datetime]:
    return (
        r.text(wire.get("nodeName"), f"{where}.nodeName", empty=False),
        _timestamp(r, wire.get("timestamp"), f"{where}.timestamp"),
    )


def _node_input(r: WireReader, wire: Mapping[str, Any], where: str) -> FlowTrace:
    name, when = _node(r, wire, where)
    items = r.items(wire.get("fields"), f"{where}.fields")
    fields = tuple(_input_field(r, f, f"{where}.fields[{i}]") for i, f in enumerate(items))
    return FlowNodeInputTrace(node_name=name, timestamp=when, fields=fields)


def _node_output(r: WireReader, wire: Mapping[str, Any], where: str) -> FlowTrace:
    name, when = _node(r, wire, where)
    items = r.items(wire.get("fields"), f"{where}.fields")
    fields = tuple(_output_field(r, f, f"{where}.fields[{i}]") for i, f in enumerate(items))
    return FlowNodeOutputTrace(node_name=name, timestamp=when, fields=fields)


def _condition(r: WireReader, wire: Mapping[str, Any], where: str) -> FlowTrace:
    name, when = _node(r, wire, where)
    items = r.items(wire.get("satisfiedConditions"), f"{where}.satisfiedConditions")
    names = tuple(
        r.text(
            r.obj(c, f"{where}.satisfiedConditions[{i}]").get("conditionName"),
            f"{where}.satisfiedConditions[{i}].conditionName",
        )
        for i, c in enumerate(items)
    )
    return FlowConditionTrace(node_name=name, timestamp=when, satisfied_conditions=names)


def _action(r: WireReader, wire: Mapping[str, Any], where: str) -> FlowTrace:
    name, when = _node(r, wire, where)
    return FlowNodeActionTrace(
        node_name=name,
        timestamp=when,
        service_name=r.text(wire.get("serviceName"), f"{where}.serviceName"),
        operation_name=r.text(wire.get("operationName"), f"{where}.operationName"),
        request_id=r.text(wire.get("requestId"), f"{where}.requestId"),
        operation_request=r.document(wire.get("operationRequest"), f"{where}.operationRequest"),
        operation_response=r.document(wire.get("operationResponse"), f"{where}.operationResponse"),
    )


def _dependency(r: WireReader, wire: Mapping[str, Any], where: str) -> FlowTrace:
    name, when = _node(r, wire, where)
    elements = r.obj(wire.get("traceElements"), f"{where}.traceElements")
    steps: list[AgentStep] = []
    agent_traces = r.opt_items(elements.get("agentTraces"), f"{where}.traceElements.agentTraces")
    for i, part in enumerate(agent_traces):
        steps.extend(parse_trace_event(r.obj(part, f"{where}.traceElements.agentTraces[{i}]")))
    return FlowDependencyTrace(
        node_name=name, timestamp=when, agent_steps=tuple(steps), raw=dict(elements)
    )


_TRACES: dict[str, Callable[[WireReader, Mapping[str, Any], str], FlowTrace]] = {
    "nodeInputTrace": _node_input,
    "nodeOutputTrace": _node_output,
    "conditionNodeResultTrace": _condition,
    "nodeActionTrace": _action,
    "nodeDependencyTrace": _dependency,
}


def parse_flow_trace(r: WireReader, event: Mapping[str, Any]) -> FlowTrace:
    """The typed trace of one ``flowTraceEvent``.

    Raises:
        MalformedResponseError: The trace has no member, several, or one this version does
            not know, or a member is not the documented shape.
    """
    trace = r.obj(event.get("trace"), "flowTraceEvent.trace")
    present = [key for key, value in trace.items() if value is not None]
    if len(present) != 1:
        raise r.malformed(f"flowTraceEvent.trace must have exactly one member, has {present}")
    (member,) = present
    parse = _TRACES.get(member)
    if parse is None:
        raise r.malformed(f"flowTraceEvent.trace.{member} is not a trace this version knows")
    where = f"flowTraceEvent.trace.{member}"
    return parse(r, r.obj(trace[member], where), where)
