"""Deploy a Bedrock Agent from local tools: create or update, prepare, alias; and clean up.

.. code-block:: python

    definition = AgentDefinition(
        name="support-agent",
        foundation_model="anthropic.claude-3-5-haiku-20241022-v1:0",
        instruction="You answer support questions and look orders up with the tools.",
        role_arn="arn:aws:iam::123456789012:role/AgentRole",
        action_groups=(build_action_group(specs, name="orders"),),
    )
    deployment = AgentDeployer(region_name="us-east-1").deploy(definition)
    deployment.agent_id, deployment.alias_id, deployment.changed

What Bedrock holds is read first (ListAgents, GetAgent, ListAgentActionGroups,
GetAgentActionGroup, ListAgentKnowledgeBases, ListAgentAliases) and diffed against the
definition: only what differs is written. An unchanged definition whose alias already serves
a prepared version makes no write at all; a changed one updates the DRAFT, runs PrepareAgent,
waits for ``PREPARED`` and moves the alias, which makes Bedrock snapshot a new numbered
version. The workflow is written once as steps and runs sync or native async.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.knowledge_bases.data_sources import check_id
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.steps import Call, ControlClients, Sleep, Steps, adrive, drive
from bedrock_kit.errors import (
    AgentPreparationError,
    ConfigurationError,
    MalformedResponseError,
    ModelTimeoutError,
)

__all__ = [
    "AgentDefinition",
    "AgentDeployer",
    "AgentDeployment",
    "KnowledgeBaseLink",
    "build_agent_request",
]

_AGENT = "bedrock-agent"
_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_ROLE = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")
_BUSY = frozenset({"CREATING", "UPDATING", "VERSIONING", "PREPARING"})
_DRAFT = "DRAFT"


@dataclass(frozen=True)
class KnowledgeBaseLink:
    """A Knowledge Base the agent may search."""

    knowledge_base_id: str
    """The Knowledge Base (10 characters)."""
    description: str
    """When the agent should use it (1 to 200 characters; the model reads it)."""

    def __post_init__(self) -> None:
        check_id(self.knowledge_base_id, "knowledge_base_id")
        if not 1 <= len(self.description) <= 200:
            raise ConfigurationError(
                f"description of knowledge base {self.knowledge_base_id} must be 1 to 200 "
                "characters"
            )


@dataclass(frozen=True)
class AgentDefinition:
    """What the agent should be; :meth:`AgentDeployer.deploy` makes Bedrock match it."""

    name: str
    """Agent name (letters, digits, ``_`` and ``-``): the key an existing agent is found by."""
    foundation_model: str
    """Model id, inference profile or ARN."""
    instruction: str
    """What the agent does (40 to 4000 characters)."""
    role_arn: str
    """IAM role the agent runs as."""
    action_groups: tuple[Mapping[str, Any], ...] = ()
    """Action groups (``build_action_group`` output), unique names."""
    knowledge_bases: tuple[KnowledgeBaseLink, ...] = ()
    """Knowledge Bases the agent may search."""
    guardrail: tuple[str, str] | None = None
    """``(guardrail id or ARN, version)`` applied to every turn."""
    description: str | None = None
    """Agent description (1 to 200 characters)."""
    idle_session_ttl: int | None = None
    """Seconds a session lives without activity (60 to 5400); None keeps Bedrock's 600."""
    alias_name: str = "live"
    """The alias created or moved to each new version."""

    def __post_init__(self) -> None:
        for what, value in (("agent name", self.name), ("alias name", self.alias_name)):
            if not isinstance(value, str) or not _NAME.match(value):
                raise ConfigurationError(
                    f"{what} {value!r}: use letters, digits, '_' and '-' (at most 100)"
                )
        if not isinstance(self.instruction, str) or not 40 <= len(self.instruction) <= 4000:
            size = len(self.instruction) if isinstance(self.instruction, str) else None
            raise ConfigurationError(
                f"agent {self.name}: instruction must be 40 to 4000 characters, got {size}"
            )
        if not self.foundation_model:
            raise ConfigurationError(f"agent {self.name}: foundation_model is required")
        if not isinstance(self.role_arn, str) or not _ROLE.match(self.role_arn):
            raise ConfigurationError(f"role_arn {self.role_arn!r} is not an IAM role ARN")
        if self.description is not None and not 1 <= len(self.description) <= 200:
            raise ConfigurationError(f"agent {self.name}: description must be 1 to 200 characters")
        if self.idle_session_ttl is not None and not 60 <= self.idle_session_ttl <= 5400:
            raise ConfigurationError(
                f"idle_session_ttl must be 60 to 5400 seconds, got {self.idle_session_ttl}"
            )
        names = [str(group.get("actionGroupName")) for group in self.action_groups]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"agent {self.name}: action group names repeat: {names}")
        kb_ids = [link.knowledge_base_id for link in self.knowledge_bases]
        if len(set(kb_ids)) != len(kb_ids):
            raise ConfigurationError(f"agent {self.name}: knowledge bases repeat: {kb_ids}")
        if self.guardrail is not None and (len(self.guardrail) != 2 or not all(self.guardrail)):
            raise ConfigurationError("guardrail must be (guardrail id or ARN, version)")


@dataclass(frozen=True)
class AgentDeployment:
    """Where a deployed agent is, and what the deployment changed."""

    agent_id: str
    """The agent."""
    agent_arn: str
    """Its ARN."""
    alias_id: str
    """The alias serving the deployed version."""
    alias_arn: str
    """The alias ARN."""
    agent_version: str
    """The numbered version the alias routes to."""
    changed: bool
    """False when Bedrock already matched the definition (nothing was written)."""
    changes: tuple[str, ...] = ()
    """What was written, one line per change, in order."""


def build_agent_request(definition: AgentDefinition) -> dict[str, Any]:
    """CreateAgent / UpdateAgent keyword arguments (without ``agentId``)."""
    request: dict[str, Any] = {
        "agentName": definition.name,
        "foundationModel": definition.foundation_model,
        "instruction": definition.instruction,
        "agentResourceRoleArn": definition.role_arn,
    }
    if definition.description is not None:
        request["description"] = definition.description
    if definition.idle_session_ttl is not None:
        request["idleSessionTTLInSeconds"] = definition.idle_session_ttl
    if definition.guardrail is not None:
        identifier, version = definition.guardrail
        request["guardrailConfiguration"] = {
            "guardrailIdentifier": identifier,
            "guardrailVersion": str(version),
        }
    return request


def _agent_differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    fields = ["foundationModel", "instruction", "agentResourceRoleArn", "description"]
    fields += [f for f in ("idleSessionTTLInSeconds", "guardrailConfiguration") if f in wanted]
    differ = [f for f in fields if current.get(f) != wanted.get(f)]
    if "guardrailConfiguration" not in wanted and current.get("guardrailConfiguration"):
        differ.append("guardrailConfiguration")
    return differ


def _function_view(schema: Mapping[str, Any] | None) -> Any:
    # Compare only what bedrock-kit sets; Bedrock may add fields (requireConfirmation...).
    functions = []
    for function in (schema or {}).get("functions") or ():
        parameters = {
            name: {k: p.get(k) for k in ("type", "required", "description")}
            for name, p in (function.get("parameters") or {}).items()
        }
        functions.append((function.get("name"), function.get("description"), parameters))
    return sorted(functions, key=lambda f: str(f[0]))


def _api_view(schema: Mapping[str, Any] | None) -> Any:
    payload = (schema or {}).get("payload")
    if payload is None:
        return (schema or {}).get("s3")
    try:
        return json.loads(payload) if isinstance(payload, str) else payload
    except ValueError:
        return payload


def _group_differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    differ = []
    if current.get("actionGroupExecutor") != wanted.get("actionGroupExecutor"):
        differ.append("executor")
    if current.get("description") != wanted.get("description"):
        differ.append("description")
    if current.get("actionGroupState", "ENABLED") != "ENABLED":
        differ.append("state")
    if _function_view(current.get("functionSchema")) != _function_view(
        wanted.get("functionSchema")
    ):
        differ.append("functionSchema")
    if _api_view(current.get("apiSchema")) != _api_view(wanted.get("apiSchema")):
        differ.append("apiSchema")
    return differ


def _token() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


def _get(response: Mapping[str, Any], key: str, what: str) -> Mapping[str, Any]:
    value = response.get(key)
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"{what} response has no {key} object")
    return value


class AgentDeployer(OwnsClients):
    """Deploys and deletes agents over ``bedrock-agent``, sync and native async.

    Args:
        **client_args: ``settings``, the client keyword arguments every bedrock-kit class
            takes, and injected ``client`` / ``async_client`` (``bedrock-agent``).

    Raises:
        ConfigurationError: An unknown or invalid client argument.
    """

    def __init__(self, **client_args: Any) -> None:
        self.clients = ControlClients.from_args(client_args, "AgentDeployer")

    def deploy(
        self, definition: AgentDefinition, *, poll_interval: float = 2.0, timeout: float = 600.0
    ) -> AgentDeployment:
        """Make Bedrock's agent match ``definition``; where it is served.

        Raises:
            AgentPreparationError: PrepareAgent ended FAILED (with Bedrock's reasons), or
                the alias failed.
            ModelTimeoutError: The agent or alias was still busy after ``timeout`` seconds.
        """
        return drive(self._deploy(definition, poll_interval, timeout), self.clients)

    async def adeploy(
        self, definition: AgentDefinition, *, poll_interval: float = 2.0, timeout: float = 600.0
    ) -> AgentDeployment:
        """Async :meth:`deploy`."""
        return await adrive(self._deploy(definition, poll_interval, timeout), self.clients)

    def delete(self, agent: str) -> list[str]:
        """Delete an agent (by name or id): its aliases, action groups, then the agent.

        Returns:
            What was deleted, one line each (empty when no such agent exists).
        """
        return drive(self._delete(agent), self.clients)

    async def adelete(self, agent: str) -> list[str]:
        """Async :meth:`delete`."""
        return await adrive(self._delete(agent), self.clients)

    # -- steps

    @staticmethod
    def _call(method: str, agent_id: str | None = None, **kwargs: Any) -> Call:
        if agent_id is not None:
            kwargs["agentId"] = agent_id
        return Call(_AGENT, method, kwargs, agent_id or kwargs.get("agentName"), "agent")

    def _pages(
        self, method: str, key: str, agent_id: str | None = None, **kwargs: Any
    ) -> Steps[list[Any]]:
        found: list[Any] = []
        token: str | None = None
        while True:
            args = dict(kwargs, maxResults=100)
            if token:
                args["nextToken"] = token
            response = yield self._call(method, agent_id, **args)
            found += list(response.get(key) or ())
            token = response.get("nextToken")
            if not token:
                return found

    def _find(self, name: str, *, by_id: bool = False) -> Steps[str | None]:
        summaries = yield from self._pages("list_agents", "agentSummaries")
        for summary in summaries:
            if summary.get("agentName") == name:
                return str(summary["agentId"])
        for summary in summaries if by_id else ():
            if summary.get("agentId") == name:
                return str(summary["agentId"])
        return None

    def _settle_agent(self, agent_id: str, poll: float, timeout: float) -> Steps[Mapping[str, Any]]:
        started = time.monotonic()
        while True:
            agent = _get((yield self._call("get_agent", agent_id)), "agent", "GetAgent")
            status = str(agent.get("agentStatus"))
            if status not in _BUSY:
                return agent
            if time.monotonic() - started >= timeout:
                raise ModelTimeoutError(
                    f"agent {agent_id} still {status} after {timeout:g} s",
                    model_id=agent_id,
                    resource="agent",
                )
            yield Sleep(poll)

    def _deploy(self, d: AgentDefinition, poll: float, timeout: float) -> Steps[AgentDeployment]:
        changes: list[str] = []
        wanted = build_agent_request(d)
        agent_id = yield from self._find(d.name)
        if agent_id is None:
            created = yield self._call("create_agent", None, clientToken=_token(), **wanted)
            agent_id = str(_get(created, "agent", "CreateAgent")["agentId"])
            changes.append(f"created agent {d.name} ({agent_id})")
        agent = yield from self._settle_agent(agent_id, poll, timeout)
        differ = _agent_differences(agent, wanted)
        if differ and changes:
            differ = []  # just created from this very definition
        if differ:
            yield self._call("update_agent", agent_id, **wanted)
            changes.append(f"updated agent {agent_id}: {', '.join(differ)}")
            agent = yield from self._settle_agent(agent_id, poll, timeout)
        yield from self._sync_groups(agent_id, d, changes)
        yield from self._sync_knowledge_bases(agent_id, d, changes)
        aliases = yield from self._pages("list_agent_aliases", "agentAliasSummaries", agent_id)
        alias = next((a for a in aliases if a.get("agentAliasName") == d.alias_name), None)
        if not changes and alias is not None and agent.get("agentStatus") == "PREPARED":
            version = _alias_version(alias)
            if version is not None and (yield from self._version_matches(agent_id, version, d)):
                return self._deployment(agent, alias, version, changed=False, changes=changes)
        yield self._call("prepare_agent", agent_id)
        changes.append(f"prepared agent {agent_id}")
        agent = yield from self._settle_agent(agent_id, poll, timeout)
        if agent.get("agentStatus") != "PREPARED":
            reasons = tuple(str(r) for r in agent.get("failureReasons") or ())
            raise AgentPreparationError(
                f"agent {agent_id} ({d.name}) is {agent.get('agentStatus')} after PrepareAgent: "
                + ("; ".join(reasons) or "Bedrock gave no reason"),
                agent_id=agent_id,
                status=str(agent.get("agentStatus")),
                failure_reasons=reasons,
                recommended_actions=tuple(str(r) for r in agent.get("recommendedActions") or ()),
            )
        if alias is None:
            made = yield self._call(
                "create_agent_alias", agent_id, agentAliasName=d.alias_name, clientToken=_token()
            )
            alias_id = str(_get(made, "agentAlias", "CreateAgentAlias")["agentAliasId"])
            changes.append(f"created alias {d.alias_name} ({alias_id})")
        else:
            alias_id = str(alias["agentAliasId"])
            yield self._call(
                "update_agent_alias", agent_id, agentAliasId=alias_id, agentAliasName=d.alias_name
            )
            changes.append(f"moved alias {d.alias_name} ({alias_id}) to a new version")
        ready = yield from self._settle_alias(agent_id, alias_id, poll, timeout)
        version = _alias_version(ready)
        if version is None:
            raise MalformedResponseError(f"alias {alias_id} of agent {agent_id} routes nowhere")
        return self._deployment(agent, ready, version, changed=True, changes=changes)

    @staticmethod
    def _deployment(
        agent: Mapping[str, Any],
        alias: Mapping[str, Any],
        version: str,
        *,
        changed: bool,
        changes: list[str],
    ) -> AgentDeployment:
        agent_arn = str(agent.get("agentArn", ""))
        alias_arn = str(alias.get("agentAliasArn") or "")
        if not alias_arn and agent_arn:
            alias_arn = agent_arn.replace(":agent/", ":agent-alias/") + f"/{alias['agentAliasId']}"
        return AgentDeployment(
            agent_id=str(agent["agentId"]),
            agent_arn=agent_arn,
            alias_id=str(alias["agentAliasId"]),
            alias_arn=alias_arn,
            agent_version=version,
            changed=changed,
            changes=tuple(changes),
        )

    def _sync_groups(self, agent_id: str, d: AgentDefinition, changes: list[str]) -> Steps[None]:
        summaries = yield from self._pages(
            "list_agent_action_groups", "actionGroupSummaries", agent_id, agentVersion=_DRAFT
        )
        existing = {str(s["actionGroupName"]): str(s["actionGroupId"]) for s in summaries}
        for group in d.action_groups:
            name = str(group["actionGroupName"])
            group_id = existing.pop(name, None)
            if group_id is None:
                yield self._call(
                    "create_agent_action_group",
                    agent_id,
                    agentVersion=_DRAFT,
                    clientToken=_token(),
                    **group,
                )
                changes.append(f"created action group {name}")
                continue
            current = yield self._call(
                "get_agent_action_group", agent_id, agentVersion=_DRAFT, actionGroupId=group_id
            )
            differ = _group_differences(
                _get(current, "agentActionGroup", "GetAgentActionGroup"), group
            )
            if differ:
                yield self._call(
                    "update_agent_action_group",
                    agent_id,
                    agentVersion=_DRAFT,
                    actionGroupId=group_id,
                    actionGroupState="ENABLED",
                    **group,
                )
                changes.append(f"updated action group {name}: {', '.join(differ)}")
        for name, group_id in existing.items():
            yield self._call(
                "delete_agent_action_group",
                agent_id,
                agentVersion=_DRAFT,
                actionGroupId=group_id,
                skipResourceInUseCheck=True,
            )
            changes.append(f"deleted action group {name}")

    def _sync_knowledge_bases(
        self, agent_id: str, d: AgentDefinition, changes: list[str]
    ) -> Steps[None]:
        summaries = yield from self._pages(
            "list_agent_knowledge_bases",
            "agentKnowledgeBaseSummaries",
            agent_id,
            agentVersion=_DRAFT,
        )
        existing = {str(s["knowledgeBaseId"]): s for s in summaries}
        for link in d.knowledge_bases:
            current = existing.pop(link.knowledge_base_id, None)
            if current is not None and current.get("description") == link.description:
                continue
            if current is not None:
                yield self._call(
                    "disassociate_agent_knowledge_base",
                    agent_id,
                    agentVersion=_DRAFT,
                    knowledgeBaseId=link.knowledge_base_id,
                )
            yield self._call(
                "associate_agent_knowledge_base",
                agent_id,
                agentVersion=_DRAFT,
                knowledgeBaseId=link.knowledge_base_id,
                description=link.description,
                knowledgeBaseState="ENABLED",
            )
            changes.append(f"associated knowledge base {link.knowledge_base_id}")
        for kb_id in existing:
            yield self._call(
                "disassociate_agent_knowledge_base",
                agent_id,
                agentVersion=_DRAFT,
                knowledgeBaseId=kb_id,
            )
            changes.append(f"disassociated knowledge base {kb_id}")

    def _version_matches(self, agent_id: str, version: str, d: AgentDefinition) -> Steps[bool]:
        """The alias's version holds the definition's action groups (same names)."""
        summaries = yield from self._pages(
            "list_agent_action_groups", "actionGroupSummaries", agent_id, agentVersion=version
        )
        served = {str(s["actionGroupName"]) for s in summaries}
        return served == {str(g["actionGroupName"]) for g in d.action_groups}

    def _settle_alias(
        self, agent_id: str, alias_id: str, poll: float, timeout: float
    ) -> Steps[Mapping[str, Any]]:
        started = time.monotonic()
        while True:
            response = yield self._call("get_agent_alias", agent_id, agentAliasId=alias_id)
            alias = _get(response, "agentAlias", "GetAgentAlias")
            status = str(alias.get("agentAliasStatus"))
            if status == "PREPARED":
                return alias
            if status == "FAILED":
                reasons = tuple(str(r) for r in alias.get("failureReasons") or ())
                raise AgentPreparationError(
                    f"alias {alias_id} of agent {agent_id} FAILED: "
                    + ("; ".join(reasons) or "Bedrock gave no reason"),
                    agent_id=agent_id,
                    status=status,
                    failure_reasons=reasons,
                )
            if time.monotonic() - started >= timeout:
                raise ModelTimeoutError(
                    f"alias {alias_id} of agent {agent_id} still {status} after {timeout:g} s",
                    model_id=agent_id,
                    resource="agent",
                )
            yield Sleep(poll)

    def _delete(self, agent: str) -> Steps[list[str]]:
        agent_id = yield from self._find(agent, by_id=True)
        if agent_id is None:
            return []
        done: list[str] = []
        aliases = yield from self._pages("list_agent_aliases", "agentAliasSummaries", agent_id)
        for alias in aliases:
            if alias.get("agentAliasId") == "TSTALIASID":
                continue  # the draft's test alias goes with the agent
            yield self._call("delete_agent_alias", agent_id, agentAliasId=alias["agentAliasId"])
            done.append(f"deleted alias {alias.get('agentAliasName')} ({alias['agentAliasId']})")
        groups = yield from self._pages(
            "list_agent_action_groups", "actionGroupSummaries", agent_id, agentVersion=_DRAFT
        )
        for group in groups:
            yield self._call(
                "delete_agent_action_group",
                agent_id,
                agentVersion=_DRAFT,
                actionGroupId=group["actionGroupId"],
                skipResourceInUseCheck=True,
            )
            done.append(f"deleted action group {group.get('actionGroupName')}")
        yield self._call("delete_agent", agent_id, skipResourceInUseCheck=True)
        done.append(f"deleted agent {agent_id}")
        return done


def _alias_version(alias: Mapping[str, Any]) -> str | None:
    routing: Sequence[Mapping[str, Any]] = alias.get("routingConfiguration") or ()
    version = routing[0].get("agentVersion") if routing else None
    return str(version) if version else None
