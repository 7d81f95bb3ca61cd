"""LlamaIndex tools -> bedrock-kit tool specs, Bedrock Agents action groups and Lambda handlers.

LlamaIndex produces the JSON Schema (``tool.metadata.get_parameters_dict()``); the core does
every Bedrock-specific step. Mirrors :mod:`bedrock_kit.langchain.tools`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from llama_index.core.tools import BaseTool, FunctionTool

from bedrock_kit.core.agents.tools import LocalTool, ResponseState, build_lambda_handler
from bedrock_kit.core.chat.tools import build_action_group, schema_from_function, tool_spec
from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "action_group_lambda_handler",
    "to_local_tool",
    "to_tool_spec",
    "tools_to_action_group",
]


class _ToolReportedError(Exception):
    """A LlamaIndex tool returned ``is_error`` without an exception; caught by the core."""


def _as_base_tool(tool: Any) -> BaseTool:
    if isinstance(tool, BaseTool):
        return tool
    if callable(tool) and not isinstance(tool, type):
        return FunctionTool.from_defaults(tool)
    raise ConfigurationError(
        f"expected a LlamaIndex BaseTool or a typed function, got {type(tool).__name__}"
    )


def to_tool_spec(tool: BaseTool | Callable[..., Any] | ToolSpec) -> ToolSpec:
    """A validated core :class:`ToolSpec` from a LlamaIndex tool or a typed function.

    Raises:
        ConfigurationError: When the tool has no name or breaks Bedrock's rules.
    """
    if isinstance(tool, ToolSpec):
        return tool_spec(tool.name, tool.description, tool.input_schema, strict=tool.strict)
    if not isinstance(tool, BaseTool) and callable(tool):
        doc = (getattr(tool, "__doc__", None) or "").strip()
        return tool_spec(getattr(tool, "__name__", ""), doc, schema_from_function(tool))
    base = _as_base_tool(tool)
    metadata = base.metadata
    if not metadata.name:
        raise ConfigurationError(f"LlamaIndex tool {tool!r} has no name")
    try:
        parameters = metadata.get_parameters_dict()
    except Exception as exc:  # pydantic errors for unresolvable annotations, mostly
        raise ConfigurationError(
            f"cannot build the argument schema of tool {metadata.name!r}: {exc}"
        ) from exc
    return tool_spec(metadata.name, metadata.description, parameters)


def _content(output: Any) -> Any:
    if getattr(output, "is_error", False):
        exception = getattr(output, "exception", None)
        if isinstance(exception, BaseException):
            raise exception
        raise _ToolReportedError(str(getattr(output, "content", "tool error")))
    return getattr(output, "raw_output", None) if output.content is None else output.content


def to_local_tool(tool: BaseTool | Callable[..., Any]) -> LocalTool:
    """A core :class:`LocalTool` running the LlamaIndex tool (``call`` / ``acall``)."""
    base = _as_base_tool(tool)
    spec = to_tool_spec(base)

    def run(**arguments: Any) -> Any:
        return _content(base(**arguments))

    acall = getattr(base, "acall", None)
    if isinstance(base, FunctionTool) and acall is not None:

        async def arun(**arguments: Any) -> Any:
            return _content(await base.acall(**arguments))

        return LocalTool(spec=spec, func=run, afunc=arun)
    # Other tools have no native async form; the core runs them in a worker thread.
    return LocalTool(spec=spec, func=run)


def tools_to_action_group(
    tools: Sequence[BaseTool | Callable[..., Any] | ToolSpec],
    *,
    name: str,
    description: str | None = None,
    lambda_arn: str | None = None,
    schema: Literal["auto", "function", "openapi"] = "auto",
) -> dict[str, Any]:
    """``create_agent_action_group`` / inline-agent action group arguments for LlamaIndex tools.

    Args:
        tools: LlamaIndex tools or typed functions.
        name: Action group name.
        description: Action group description (at most 200 characters).
        lambda_arn: Lambda function running the tools (see
            :func:`action_group_lambda_handler`); None returns control to the caller.
        schema: ``auto`` (functionSchema when flat, OpenAPI when nested), ``function`` or
            ``openapi``.
    """
    specs = [to_tool_spec(t) for t in tools]
    return build_action_group(
        specs, name=name, description=description, lambda_arn=lambda_arn, schema=schema
    )


def action_group_lambda_handler(
    tools: Sequence[BaseTool | Callable[..., Any]],
    *,
    tool_error_state: ResponseState = "FAILURE",
) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
    """An AWS Lambda handler serving LlamaIndex tools as a Bedrock Agents action group."""
    return build_lambda_handler(
        [to_local_tool(t) for t in tools], tool_error_state=tool_error_state
    )
