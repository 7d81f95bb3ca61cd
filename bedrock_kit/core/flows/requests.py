"""Prompt Flows requests: InvokeFlow arguments, validated before any request.

Pure builders keeping Bedrock's camelCase wire shape. Inputs go to a node by name: a flow's
input node is ``FlowInputNode`` with output ``document`` unless the flow renamed it; an
answer to a multi-turn question goes to the node that asked, on its input
``agentInputText``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.transport.wire import MAX_JSON_DEPTH, document_too_deep
from bedrock_kit.errors import ConfigurationError

__all__ = ["FlowInput", "build_invoke_flow_request", "flow_inputs"]

DEFAULT_INPUT_NODE = "FlowInputNode"
"""The input node every flow starts with, unless renamed."""
DEFAULT_INPUT_OUTPUT = "document"
"""The input node's output name."""
MULTI_TURN_INPUT = "agentInputText"
"""The input an agent node takes the user's answer on in a multi-turn flow."""

# botocore's service model patterns (bedrock-agent-runtime InvokeFlow).
_FLOW_ID = re.compile(
    r"^(arn:aws:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:flow/[0-9a-zA-Z]{10}|[0-9a-zA-Z]{10})$"
)
_ALIAS_ID = re.compile(
    r"^(arn:aws:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:flow/[0-9a-zA-Z]{10}/alias/[0-9a-zA-Z]{10}"
    r"|TSTALIASID|[0-9a-zA-Z]+)$"
)
_EXECUTION_ID = re.compile(r"^[0-9a-zA-Z._:-]{2,100}$")
_NODE_NAME = re.compile(r"^[a-zA-Z]([_]?[0-9a-zA-Z]){0,99}$")
_LATENCY = ("standard", "optimized")


@dataclass(frozen=True)
class FlowInput:
    """One input of an InvokeFlow call: content for a node, by name."""

    content: Any
    """The document sent (text, number, boolean, list or object: any JSON value)."""
    node_name: str = DEFAULT_INPUT_NODE
    """Name of the node the input goes to."""
    node_output_name: str | None = DEFAULT_INPUT_OUTPUT
    """Output of the input node carrying the content (``document``); None for inputs
    that name ``node_input_name`` instead."""
    node_input_name: str | None = None
    """Input of the node receiving the content (``agentInputText`` when answering a
    multi-turn question)."""

    def wire(self) -> dict[str, Any]:
        """The ``inputs[]`` entry, validated.

        Raises:
            ConfigurationError: A name is not a node name Bedrock accepts, or the content
                is not a JSON value.
        """
        _check_name(self.node_name, "node_name")
        entry: dict[str, Any] = {
            "nodeName": self.node_name,
            "content": {"document": _check_document(self.content, self.node_name)},
        }
        if self.node_output_name is not None:
            _check_name(self.node_output_name, "node_output_name")
            entry["nodeOutputName"] = self.node_output_name
        if self.node_input_name is not None:
            _check_name(self.node_input_name, "node_input_name")
            entry["nodeInputName"] = self.node_input_name
        return entry


def _check_name(value: Any, what: str) -> None:
    if not isinstance(value, str) or not _NODE_NAME.fullmatch(value):
        raise ConfigurationError(
            f"{what}={value!r} is not a flow node name (a letter, then letters, digits and "
            "single underscores, at most 100 characters)"
        )


def _check_document(value: Any, node: str, path: str = "content") -> Any:
    if document_too_deep(value):
        raise ConfigurationError(
            f"flow input for {node}: {path} nests deeper than {MAX_JSON_DEPTH}"
        )
    _check_json(value, node, path)
    return value


def _check_json(value: Any, node: str, path: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigurationError(f"flow input for {node}: {path} is {value}, not JSON")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigurationError(
                    f"flow input for {node}: {path} has key {key!r}; JSON keys are strings"
                )
            _check_json(item, node, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, node, f"{path}[{index}]")
        return
    raise ConfigurationError(
        f"flow input for {node}: {path} is a {type(value).__name__}, not a JSON value"
    )


def flow_inputs(inputs: Any) -> list[FlowInput]:
    """Normalise what callers pass as flow inputs.

    Args:
        inputs: A :class:`FlowInput` (or a one-item list of them) for a node by name; any
            other JSON value (text, a dict...) is the document sent to ``FlowInputNode``
            on its output ``document``.

    Raises:
        ConfigurationError: Not exactly one input (InvokeFlow takes one per call).
    """
    if isinstance(inputs, FlowInput):
        return [inputs]
    if isinstance(inputs, list | tuple) and any(isinstance(item, FlowInput) for item in inputs):
        if len(inputs) != 1 or not isinstance(inputs[0], FlowInput):
            # botocore's model: InvokeFlow's inputs list holds exactly one item.
            raise ConfigurationError(
                f"InvokeFlow takes exactly one FlowInput per call, got {len(inputs)} items"
            )
        return [inputs[0]]
    return [FlowInput(content=inputs)]


def build_invoke_flow_request(
    flow_id: str,
    flow_alias_id: str,
    inputs: Any,
    *,
    execution_id: str | None = None,
    enable_trace: bool = True,
    latency: str | None = None,
) -> dict[str, Any]:
    """InvokeFlow keyword arguments, validated before any request.

    Args:
        flow_id: Flow id (10 characters) or ARN.
        flow_alias_id: Alias id, alias ARN, or ``TSTALIASID`` (the draft).
        inputs: See :func:`flow_inputs`.
        execution_id: Resume this execution (a multi-turn flow waiting for input).
        enable_trace: Ask for trace events.
        latency: ``standard`` or ``optimized`` model performance.

    Raises:
        ConfigurationError: A bad id, input or option.
    """
    if not isinstance(flow_id, str) or not _FLOW_ID.fullmatch(flow_id):
        raise ConfigurationError(f"flow_id must be a 10-character flow id or ARN, got {flow_id!r}")
    if not isinstance(flow_alias_id, str) or not _ALIAS_ID.fullmatch(flow_alias_id):
        raise ConfigurationError(
            f"flow_alias_id must be an alias id, an alias ARN or TSTALIASID, got {flow_alias_id!r}"
        )
    request: dict[str, Any] = {
        "flowIdentifier": flow_id,
        "flowAliasIdentifier": flow_alias_id,
        "inputs": [item.wire() for item in flow_inputs(inputs)],
        "enableTrace": bool(enable_trace),
    }
    if execution_id is not None:
        if not isinstance(execution_id, str) or not _EXECUTION_ID.fullmatch(execution_id):
            raise ConfigurationError(
                f"execution_id must be 2-100 of [0-9a-zA-Z._:-], got {execution_id!r}"
            )
        request["executionId"] = execution_id
    if latency is not None:
        if latency not in _LATENCY:
            raise ConfigurationError(f"latency must be one of {_LATENCY}, got {latency!r}")
        request["modelPerformanceConfiguration"] = {"performanceConfig": {"latency": latency}}
    return request
