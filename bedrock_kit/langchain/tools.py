"""LangChain tools -> bedrock-kit tool specs, Bedrock Agents action groups and Lambda handlers.

LangChain produces the JSON Schema (``convert_to_openai_tool`` reads a tool's
``tool_call_schema``); the core does every Bedrock-specific step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from langchain_core.tools import tool as as_langchain_tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from bedrock_kit.core.agents.tools import LocalTool, ResponseState, build_lambda_handler
from bedrock_kit.core.chat.tools import build_action_group, tool_spec
from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "action_group_lambda_handler",
    "to_local_tool",
    "to_tool_spec",
    "tools_to_action_group",
]

ToolLike = BaseTool | Callable[..., Any] | type | Mapping[str, Any] | ToolSpec


def to_tool_spec(tool: ToolLike) -> ToolSpec:
    """A validated core :class:`ToolSpec` from a LangChain tool, pydantic model, typed
    function, OpenAI-style tool dict or JSON Schema dict (with ``title``/``name``).

    Raises:
        ConfigurationError: When the tool cannot be described or breaks Bedrock's rules.
    """
    if isinstance(tool, ToolSpec):
        return tool_spec(tool.name, tool.description, tool.input_schema, strict=tool.strict)
    try:
        function = convert_to_openai_tool(tool)["function"]
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot describe {tool!r} as a tool: {exc}") from exc
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return tool_spec(function["name"], function.get("description"), parameters)


def _as_base_tool(tool: BaseTool | Callable[..., Any]) -> BaseTool:
    if isinstance(tool, BaseTool):
        return tool
    if callable(tool) and not isinstance(tool, type):
        return as_langchain_tool(tool)
    raise ConfigurationError(
        f"expected a LangChain BaseTool or a typed function, got {type(tool).__name__}"
    )


def to_local_tool(tool: BaseTool | Callable[..., Any]) -> LocalTool:
    """A core :class:`LocalTool` running the LangChain tool (``invoke`` / ``ainvoke``)."""
    base = _as_base_tool(tool)
    spec = to_tool_spec(base)

    def run(**arguments: Any) -> Any:
        return base.invoke(arguments)

    async def arun(**arguments: Any) -> Any:
        return await base.ainvoke(arguments)

    return LocalTool(spec=spec, func=run, afunc=arun)


def tools_to_action_group(
    tools: Sequence[ToolLike],
    *,
    name: str,
    description: str | None = None,
    lambda_arn: str | None = None,
    schema: Literal["auto", "function", "openapi"] = "auto",
) -> dict[str, Any]:
    """``create_agent_action_group`` / inline-agent action group arguments for LangChain tools.

    Args:
        tools: LangChain tools (or anything :func:`to_tool_spec` takes).
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
    """An AWS Lambda handler serving LangChain tools as a Bedrock Agents action group.

    Example:
        .. code-block:: python

            handler = action_group_lambda_handler([get_weather, book_flight])
            # deploy with the Lambda handler setting ``module.handler``
    """
    return build_lambda_handler(
        [to_local_tool(t) for t in tools], tool_error_state=tool_error_state
    )
