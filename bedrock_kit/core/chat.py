"""One chat request, sent over Converse or InvokeModel: what both adapters call.

``api="converse"`` (default) uses the Converse API; ``api="invoke"`` uses InvokeModel with
the provider's native body. Either way the result is a :class:`ConverseResult` and streams
yield the same deltas, so behaviour and usage reporting do not depend on the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.converse import build_converse_request, build_tool_config, merge_turns
from bedrock_kit.core.invoke import InvokeInput, build_invoke_request
from bedrock_kit.core.runtime import ConverseRuntime
from bedrock_kit.core.stream import StreamDelta
from bedrock_kit.core.types import (
    ConverseResult,
    GuardrailConfig,
    InferenceConfig,
    Message,
    SystemBlock,
    ToolSpec,
)
from bedrock_kit.errors import ConfigurationError

Api: TypeAlias = Literal["converse", "invoke"]
APIS: tuple[Api, ...] = ("converse", "invoke")


def check_api(api: object) -> Api:
    """Validate the ``api`` argument."""
    if api not in APIS:
        raise ConfigurationError(f"api must be one of {APIS}, got {api!r}")
    return api


def build_chat_request(
    api: Api,
    model_id: str,
    messages: Sequence[Message],
    *,
    system: Sequence[SystemBlock] = (),
    inference: InferenceConfig | None = None,
    tools: Sequence[ToolSpec] = (),
    tool_choice: str | None = None,
    guardrail: GuardrailConfig | None = None,
    additional_model_request_fields: Mapping[str, Any] | None = None,
    additional_model_response_field_paths: Sequence[str] = (),
    output_config: Mapping[str, Any] | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of the Converse or InvokeModel call for one chat turn."""
    tool_config = build_tool_config(tools, tool_choice)
    if check_api(api) == "converse":
        return build_converse_request(
            model_id,
            messages,
            system=system,
            inference=inference,
            tool_config=tool_config,
            guardrail=guardrail,
            additional_model_request_fields=additional_model_request_fields,
            additional_model_response_field_paths=additional_model_response_field_paths,
            output_config=output_config,
            stream=stream,
        )
    if output_config:
        raise ConfigurationError("json_schema structured output needs api='converse'")
    # Same validation as Converse (roles, first turn, tool results) before any request.
    turns = merge_turns(messages)
    build_converse_request(model_id, turns)
    invoke_input = InvokeInput(
        turns,
        tuple(system),
        inference or InferenceConfig(),
        tuple(tools),
        tool_choice,
        dict(additional_model_request_fields or {}),
    )
    return build_invoke_request(model_id, invoke_input, guardrail=guardrail)


def send(runtime: ConverseRuntime, api: Api, request: Mapping[str, Any]) -> ConverseResult:
    """Send a request built by :func:`build_chat_request`."""
    return runtime.converse(request) if api == "converse" else runtime.invoke(request)


async def asend(runtime: ConverseRuntime, api: Api, request: Mapping[str, Any]) -> ConverseResult:
    """Async :func:`send`."""
    if api == "converse":
        return await runtime.aconverse(request)
    return await runtime.ainvoke(request)


def send_stream(
    runtime: ConverseRuntime, api: Api, request: Mapping[str, Any]
) -> Iterator[StreamDelta]:
    """Stream a request built with ``stream=True``."""
    return runtime.stream(request) if api == "converse" else runtime.invoke_stream(request)


def asend_stream(
    runtime: ConverseRuntime, api: Api, request: Mapping[str, Any]
) -> AsyncIterator[StreamDelta]:
    """Async :func:`send_stream`."""
    return runtime.astream(request) if api == "converse" else runtime.ainvoke_stream(request)
