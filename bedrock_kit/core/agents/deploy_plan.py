"""From framework tools to an :class:`~bedrock_kit.core.agents.deploy.AgentDefinition`.

What both adapters' ``deploy_agent`` share: tool sets (one action group each) from a list or
a ``{group: tools}`` mapping, knowledge bases and guardrails in their accepted forms, and the
split of the caller's client arguments between the control plane (``bedrock-agent``) and the
runtime object returned (the agent runnable or query engine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bedrock_kit.core.agents.deploy import AgentDefinition, AgentDeployer, KnowledgeBaseLink
from bedrock_kit.core.chat.tools import build_action_group
from bedrock_kit.core.chat.types import ToolSpec
from bedrock_kit.core.transport.steps import split_control_args
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "definition_from_tools",
    "plan_deployment",
    "specs_of",
    "split_deploy_args",
    "tool_sets",
]


def _links(knowledge_bases: Any) -> tuple[KnowledgeBaseLink, ...]:
    if knowledge_bases is None:
        return ()
    items = knowledge_bases.items() if isinstance(knowledge_bases, Mapping) else knowledge_bases
    links = []
    for item in items:
        if isinstance(item, KnowledgeBaseLink):
            links.append(item)
        elif isinstance(item, tuple) and len(item) == 2:
            links.append(KnowledgeBaseLink(str(item[0]), str(item[1])))
        else:
            raise ConfigurationError(
                f"knowledge base {item!r}: give (knowledge_base_id, description) pairs or a "
                "{id: description} mapping (the agent reads the description to decide when "
                "to search it)"
            )
    return tuple(links)


def _guardrail(guardrail: Any) -> tuple[str, str] | None:
    if guardrail is None:
        return None
    if isinstance(guardrail, Mapping):
        identifier = guardrail.get("guardrailIdentifier") or guardrail.get("guardrailId")
        return (str(identifier), str(guardrail.get("guardrailVersion")))
    identifier = getattr(guardrail, "identifier", None)
    if identifier is not None:  # a core GuardrailConfig
        return (str(identifier), str(guardrail.version))
    if isinstance(guardrail, tuple) and len(guardrail) == 2:
        return (str(guardrail[0]), str(guardrail[1]))
    raise ConfigurationError(
        f"guardrail {guardrail!r}: give (guardrail id, version), a GuardrailConfig or a "
        "{'guardrailIdentifier', 'guardrailVersion'} dict"
    )


def definition_from_tools(
    *,
    name: str,
    foundation_model: str,
    instruction: str,
    role_arn: str,
    tool_sets: Mapping[str, Sequence[Any]],
    lambda_arn: str | None = None,
    schema: Any = "auto",
    knowledge_bases: Any = None,
    guardrail: Any = None,
    description: str | None = None,
    idle_session_ttl: int | None = None,
    alias_name: str = "live",
) -> AgentDefinition:
    """An :class:`AgentDefinition` with one action group per tool set (core ``ToolSpec``s).

    Args:
        name: Agent name.
        foundation_model: Model id.
        instruction: 40 to 4000 characters.
        role_arn: The agent's IAM role.
        tool_sets: Action group name -> the tool specs of that group.
        lambda_arn: Run the tools in this Lambda; None returns control to the caller.
        schema: ``auto``, ``function`` or ``openapi`` (see ``build_action_group``).
        knowledge_bases: ``{id: description}`` or ``(id, description)`` pairs.
        guardrail: ``(id, version)``, a ``GuardrailConfig`` or a guardrail dict.
        description: Agent description.
        idle_session_ttl: Session idle timeout in seconds.
        alias_name: The alias to create or move.

    Raises:
        ConfigurationError: Anything Bedrock would refuse, by name, before any request.
    """
    groups = tuple(
        build_action_group(list(specs), name=group, lambda_arn=lambda_arn, schema=schema)
        for group, specs in tool_sets.items()
    )
    return AgentDefinition(
        name=name,
        foundation_model=foundation_model,
        instruction=instruction,
        role_arn=role_arn,
        action_groups=groups,
        knowledge_bases=_links(knowledge_bases),
        guardrail=_guardrail(guardrail),
        description=description,
        idle_session_ttl=idle_session_ttl,
        alias_name=alias_name,
    )


def tool_sets(
    tools: Sequence[Any] | Mapping[str, Sequence[Any]], default_group: str
) -> dict[str, list[Any]]:
    """``{action group name: tools}``: a mapping as given, a plain list as one group.

    Raises:
        ConfigurationError: No tools, or an empty group.
    """
    sets = (
        {str(k): list(v) for k, v in tools.items()}
        if isinstance(tools, Mapping)
        else {default_group: list(tools)}
    )
    empty = [name for name, items in sets.items() if not items]
    if not sets or empty:
        raise ConfigurationError(
            f"deploy_agent: every action group needs at least one tool (empty: {empty or 'all'})"
        )
    return sets


def split_deploy_args(
    client_args: Mapping[str, Any], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(AgentDeployer arguments, runtime arguments): injected runtime ``client`` /
    ``async_client`` go to the runtime object only (see :func:`split_control_args`)."""
    args = dict(client_args)
    injected = {k: args.pop(k) for k in ("client", "async_client") if args.get(k) is not None}
    args.pop("client", None)
    args.pop("async_client", None)
    control, runtime = split_control_args(args, what)
    return control, {**runtime, **injected}


def specs_of(
    sets: Mapping[str, Sequence[Any]], to_spec: Callable[[Any], ToolSpec]
) -> dict[str, list[ToolSpec]]:
    """The tool specs of every set, converted by the adapter's ``to_spec``."""
    return {name: [to_spec(tool) for tool in tools] for name, tools in sets.items()}


def plan_deployment(
    name: str,
    model: str,
    instruction: str,
    tools: Sequence[Any] | Mapping[str, Sequence[Any]],
    options: dict[str, Any],
    *,
    to_spec: Callable[[Any], ToolSpec],
) -> tuple[AgentDefinition, AgentDeployer, dict[str, Any], list[Any]]:
    """What both adapters' ``deploy_agent`` do before deploying, with their tool converter.

    ``options`` holds ``client_args``, ``action_group_name`` and the definition's other
    fields. Returns the definition, the deployer (control plane), the runtime client
    arguments, and the tools to run locally (none when a Lambda runs them).
    """
    client_args = options.pop("client_args")
    control, runtime = split_deploy_args(client_args, "deploy_agent")
    sets = tool_sets(tools, options.pop("action_group_name"))
    definition = definition_from_tools(
        name=name,
        foundation_model=model,
        instruction=instruction,
        tool_sets=specs_of(sets, to_spec),
        **options,
    )
    local = [] if options.get("lambda_arn") else [t for group in sets.values() for t in group]
    return definition, AgentDeployer(**control), runtime, local
