"""Deploy a Bedrock Agent from LangChain tools; get back the ready ``BedrockAgentRunnable``.

Thin: LangChain tools become core tool specs (the existing schema converter); diffing,
PrepareAgent, versions and aliases live in :mod:`bedrock_kit.core.agents.deploy`. Mirrors
:mod:`bedrock_kit.llama_index.deployment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from bedrock_kit.core.agents.deploy import AgentDeployer, AgentDeployment
from bedrock_kit.core.agents.deploy_plan import plan_deployment, split_deploy_args
from bedrock_kit.langchain.agents import BedrockAgentRunnable
from bedrock_kit.langchain.tools import to_tool_spec

__all__ = ["adelete_agent", "adeploy_agent", "delete_agent", "deploy_agent"]


def _plan(
    name: str,
    model: str,
    instruction: str,
    tools: Sequence[Any] | Mapping[str, Sequence[Any]],
    options: dict[str, Any],
) -> tuple[Any, AgentDeployer, dict[str, Any], list[Any]]:
    return plan_deployment(name, model, instruction, tools, options, to_spec=to_tool_spec)


def _runnable(
    deployment: AgentDeployment, runtime: dict[str, Any], local: list[Any], extra: Mapping[str, Any]
) -> BedrockAgentRunnable:
    return BedrockAgentRunnable(
        agent_id=deployment.agent_id,
        agent_alias_id=deployment.alias_id,
        tools=local,
        deployment=deployment,
        **runtime,
        **dict(extra),
    )


def deploy_agent(
    name: str,
    model: str,
    instruction: str,
    tools: Sequence[Any] | Mapping[str, Sequence[Any]],
    *,
    role_arn: str,
    knowledge_bases: Any = None,
    guardrail: Any = None,
    lambda_arn: str | None = None,
    schema: Literal["auto", "function", "openapi"] = "auto",
    action_group_name: str = "tools",
    description: str | None = None,
    alias_name: str = "live",
    idle_session_ttl: int | None = None,
    poll_interval: float = 2.0,
    wait_timeout: float = 600.0,
    runnable_options: Mapping[str, Any] | None = None,
    **client_args: Any,
) -> BedrockAgentRunnable:
    """Create or update a Bedrock Agent from LangChain tools, prepare it, alias it.

    Re-deploying an unchanged definition writes nothing; a changed one updates the DRAFT,
    prepares it and moves the alias to a new version. Without ``lambda_arn`` the action
    groups return control, and the runnable returned runs ``tools`` locally.

    Args:
        name: Agent name (the key an existing agent is found by).
        model: Foundation model id or inference profile.
        instruction: What the agent does (40 to 4000 characters).
        tools: LangChain tools (one action group named ``action_group_name``), or
            ``{action group name: tools}``.
        role_arn: The agent's IAM role.
        knowledge_bases: ``{knowledge base id: description}`` or ``(id, description)`` pairs.
        guardrail: ``(guardrail id, version)``, a ``GuardrailConfig`` or a guardrail dict.
        lambda_arn: Run the tools in this Lambda instead of locally.
        schema: ``auto`` (functionSchema when flat, OpenAPI when nested), ``function``,
            ``openapi``.
        action_group_name: Group name when ``tools`` is a list.
        description: Agent description.
        alias_name: The alias created or moved.
        idle_session_ttl: Session idle timeout (60 to 5400 seconds).
        poll_interval: Seconds between status calls.
        wait_timeout: Give up waiting for PREPARED after this many seconds (``timeout`` is
            the read timeout of each call, as everywhere).
        runnable_options: More :class:`BedrockAgentRunnable` fields (``max_steps``...).
        **client_args: The client keyword arguments every bedrock-kit class takes (for both
            the control plane and the runnable), ``control_client`` /
            ``async_control_client`` (``bedrock-agent``), ``client`` / ``async_client``
            (``bedrock-agent-runtime``, the runnable's).

    Returns:
        The runnable on the deployed alias; ``runnable.deployment`` says what changed.

    Raises:
        ConfigurationError: Anything Bedrock would refuse, before any request.
        AgentPreparationError: PrepareAgent ended FAILED (Bedrock's reasons attached).
        ModelTimeoutError: Not PREPARED within ``wait_timeout``.
    """
    definition, deployer, runtime, local = _plan(
        name,
        model,
        instruction,
        tools,
        {
            "client_args": client_args,
            "action_group_name": action_group_name,
            "role_arn": role_arn,
            "knowledge_bases": knowledge_bases,
            "guardrail": guardrail,
            "lambda_arn": lambda_arn,
            "schema": schema,
            "description": description,
            "alias_name": alias_name,
            "idle_session_ttl": idle_session_ttl,
        },
    )
    with deployer:
        deployment = deployer.deploy(definition, poll_interval=poll_interval, timeout=wait_timeout)
    return _runnable(deployment, runtime, local, runnable_options or {})


async def adeploy_agent(
    name: str,
    model: str,
    instruction: str,
    tools: Sequence[Any] | Mapping[str, Sequence[Any]],
    *,
    role_arn: str,
    knowledge_bases: Any = None,
    guardrail: Any = None,
    lambda_arn: str | None = None,
    schema: Literal["auto", "function", "openapi"] = "auto",
    action_group_name: str = "tools",
    description: str | None = None,
    alias_name: str = "live",
    idle_session_ttl: int | None = None,
    poll_interval: float = 2.0,
    wait_timeout: float = 600.0,
    runnable_options: Mapping[str, Any] | None = None,
    **client_args: Any,
) -> BedrockAgentRunnable:
    """Async :func:`deploy_agent` (native aiobotocore calls)."""
    definition, deployer, runtime, local = _plan(
        name,
        model,
        instruction,
        tools,
        {
            "client_args": client_args,
            "action_group_name": action_group_name,
            "role_arn": role_arn,
            "knowledge_bases": knowledge_bases,
            "guardrail": guardrail,
            "lambda_arn": lambda_arn,
            "schema": schema,
            "description": description,
            "alias_name": alias_name,
            "idle_session_ttl": idle_session_ttl,
        },
    )
    async with deployer:
        deployment = await deployer.adeploy(
            definition, poll_interval=poll_interval, timeout=wait_timeout
        )
    return _runnable(deployment, runtime, local, runnable_options or {})


def delete_agent(agent: str, **client_args: Any) -> list[str]:
    """Delete an agent by name or id: aliases, action groups, then the agent.

    Returns:
        What was deleted, one line each (empty when there was no such agent).
    """
    control, _ = split_deploy_args(client_args, "delete_agent")
    with AgentDeployer(**control) as deployer:
        return deployer.delete(agent)


async def adelete_agent(agent: str, **client_args: Any) -> list[str]:
    """Async :func:`delete_agent`."""
    control, _ = split_deploy_args(client_args, "delete_agent")
    async with AgentDeployer(**control) as deployer:
        return await deployer.adelete(agent)
