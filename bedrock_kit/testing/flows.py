"""Reply builders for Prompt Flows (InvokeFlow event streams).

Each event builder returns one ``{eventName: members}`` mapping shaped like botocore's
``FlowResponseStream``; :func:`flow_reply` wraps a list of them in an event-stream
:class:`~bedrock_kit.testing.Reply` with the ``x-amz-bedrock-flow-execution-id`` header.
Ids Bedrock makes up (execution ids, node action request ids) are unique per call unless
given.

Example:
    >>> from bedrock_kit.testing import flows
    >>> events = flows.flow_events(flows.flow_output_event("Tides rise twice a day."))
    >>> [next(iter(e)) for e in events]
    ['flowOutputEvent', 'flowCompletionEvent']
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from bedrock_kit.testing.replies import Reply

EXECUTION_ID_HEADER = "x-amz-bedrock-flow-execution-id"
"""Response header carrying InvokeFlow's ``executionId``."""


def new_execution_id() -> str:
    """A fresh flow execution id (a UUID4, as Bedrock makes them)."""
    return str(uuid.uuid4())


def _timestamp(when: datetime | None) -> str:
    when = when or datetime.now(timezone.utc)
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def flow_output_event(
    content: Any, *, node_name: str = "FlowOutputNode", node_type: str = "FlowOutputNode"
) -> dict[str, Any]:
    """A ``flowOutputEvent``: an output node's value (any JSON document)."""
    return {
        "flowOutputEvent": {
            "nodeName": node_name,
            "nodeType": node_type,
            "content": {"document": content},
        }
    }


def flow_completion_event(reason: str = "SUCCESS") -> dict[str, Any]:
    """A ``flowCompletionEvent`` (``SUCCESS`` or ``INPUT_REQUIRED``)."""
    return {"flowCompletionEvent": {"completionReason": reason}}


def flow_input_request_event(
    question: Any, *, node_name: str = "AgentsNode_1", node_type: str = "AgentNode"
) -> dict[str, Any]:
    """A ``flowMultiTurnInputRequestEvent``: an agent node asks the user for more input."""
    return {
        "flowMultiTurnInputRequestEvent": {
            "nodeName": node_name,
            "nodeType": node_type,
            "content": {"document": question},
        }
    }


def _trace(member: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"flowTraceEvent": {"trace": {member: dict(body)}}}


def node_input_trace(
    node_name: str,
    fields: Mapping[str, Any],
    *,
    source: tuple[str, str] | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    """A ``nodeInputTrace``: ``fields`` maps each input name to its value; ``source`` is
    ``(nodeName, outputFieldName)`` of the node that fed them."""
    items = []
    for name, value in fields.items():
        item: dict[str, Any] = {
            "nodeInputName": name,
            "content": {"document": value},
            "type": _io_type(value),
        }
        if source is not None:
            item["source"] = {
                "nodeName": source[0],
                "outputFieldName": source[1],
                "expression": "$.data",
            }
        items.append(item)
    return _trace(
        "nodeInputTrace", {"nodeName": node_name, "timestamp": _timestamp(when), "fields": items}
    )


def node_output_trace(
    node_name: str,
    fields: Mapping[str, Any],
    *,
    next_nodes: Sequence[tuple[str, str]] = (),
    when: datetime | None = None,
) -> dict[str, Any]:
    """A ``nodeOutputTrace``: ``fields`` maps each output name to its value; every output
    feeds ``next_nodes`` (``(nodeName, inputFieldName)`` pairs)."""
    items = [
        {
            "nodeOutputName": name,
            "content": {"document": value},
            "type": _io_type(value),
            "next": [{"nodeName": n, "inputFieldName": f} for n, f in next_nodes],
        }
        for name, value in fields.items()
    ]
    return _trace(
        "nodeOutputTrace", {"nodeName": node_name, "timestamp": _timestamp(when), "fields": items}
    )


def condition_trace(
    node_name: str, *conditions: str, when: datetime | None = None
) -> dict[str, Any]:
    """A ``conditionNodeResultTrace`` naming the conditions that held."""
    return _trace(
        "conditionNodeResultTrace",
        {
            "nodeName": node_name,
            "timestamp": _timestamp(when),
            "satisfiedConditions": [{"conditionName": c} for c in conditions],
        },
    )


def node_action_trace(
    node_name: str,
    *,
    service_name: str = "bedrock-runtime",
    operation_name: str = "Converse",
    request: Any = None,
    response: Any = None,
    request_id: str | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    """A ``nodeActionTrace``: the node called an AWS operation (a unique request id)."""
    body: dict[str, Any] = {
        "nodeName": node_name,
        "timestamp": _timestamp(when),
        "serviceName": service_name,
        "operationName": operation_name,
        "requestId": request_id or str(uuid.uuid4()),
    }
    if request is not None:
        body["operationRequest"] = request
    if response is not None:
        body["operationResponse"] = response
    return _trace("nodeActionTrace", body)


def _io_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, Mapping):
        return "Object"
    if isinstance(value, list | tuple):
        return "Array"
    return "String"


def flow_events(
    *outputs: Mapping[str, Any],
    traces: Iterable[Mapping[str, Any]] = (),
    input_request: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """A whole InvokeFlow stream: traces, outputs, the input request, then completion.

    Args:
        *outputs: Output events (:func:`flow_output_event`); plain values are wrapped.
        traces: Trace events, sent first.
        input_request: A :func:`flow_input_request_event`; the reason then defaults to
            ``INPUT_REQUIRED``.
        reason: The completion reason; None means ``SUCCESS`` (or ``INPUT_REQUIRED``).
    """
    events: list[dict[str, Any]] = [dict(t) for t in traces]
    for output in outputs:
        is_event = isinstance(output, Mapping) and "flowOutputEvent" in output
        events.append(dict(output) if is_event else flow_output_event(output))
    if input_request is not None:
        events.append(dict(input_request))
    events.append(
        flow_completion_event(reason or ("INPUT_REQUIRED" if input_request else "SUCCESS"))
    )
    return events


def flow_reply(
    events: Sequence[Mapping[str, Any]], *, execution_id: str | None = None, **options: Any
) -> Reply:
    """An InvokeFlow event-stream reply with its execution id header (a fresh one if None).

    ``options`` are :meth:`Reply.events` options (``truncate_after``, ``exception_at``...).
    """
    headers = {EXECUTION_ID_HEADER: execution_id or new_execution_id()}
    return Reply.events(events, headers=headers, **options)


def echo_flow_reply(body: Mapping[str, Any]) -> Reply:
    """LocalBedrock's unscripted InvokeFlow answer: the input document, echoed by
    ``FlowOutputNode``, then ``SUCCESS``; the request's execution id is kept."""
    inputs = body.get("inputs") or [{}]
    document = ((inputs[0] or {}).get("content") or {}).get("document")
    return flow_reply(
        flow_events(flow_output_event(document)), execution_id=body.get("executionId")
    )
