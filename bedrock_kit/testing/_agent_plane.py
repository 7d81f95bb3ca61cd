"""The agent half of :class:`~bedrock_kit.testing.control_plane.LocalControlPlane`.

Agents, their DRAFT action groups and knowledge bases, PrepareAgent with a PREPARING phase,
numbered versions (a snapshot of the DRAFT taken when an alias is created or updated without
a routing configuration) and aliases.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.server import ReceivedRequest

_ACCOUNT = "123456789012"
_AGENT_FIELDS = (
    "agentName",
    "instruction",
    "foundationModel",
    "description",
    "idleSessionTTLInSeconds",
    "agentResourceRoleArn",
    "guardrailConfiguration",
    "promptOverrideConfiguration",
    "memoryConfiguration",
    "orchestrationType",
    "agentCollaboration",
)
_GROUP_FIELDS = (
    "actionGroupName",
    "description",
    "actionGroupExecutor",
    "apiSchema",
    "functionSchema",
    "actionGroupState",
    "parentActionGroupSignature",
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _missing(what: str) -> Reply:
    return Reply.error(404, "ResourceNotFoundException", f"{what} was not found")


def _body(request: ReceivedRequest) -> dict[str, Any]:
    return dict(request.body) if isinstance(request.body, Mapping) else {}


class AgentPlane:
    """Agents in memory (mixed into LocalControlPlane)."""

    def __init__(self, *, prepare_steps: int = 1) -> None:
        self.prepare_steps = prepare_steps
        self._agent_ids = itertools.count(1)
        self.agents: dict[str, dict[str, Any]] = {}
        """agentId -> the DRAFT agent record."""
        self.action_groups: dict[str, dict[str, dict[str, Any]]] = {}
        """agentId -> actionGroupId -> DRAFT action group."""
        self.agent_knowledge_bases: dict[str, dict[str, dict[str, Any]]] = {}
        """agentId -> knowledgeBaseId -> association."""
        self.versions: dict[str, dict[str, dict[str, Any]]] = {}
        """agentId -> version number -> snapshot (agent, action groups, knowledge bases)."""
        self.aliases: dict[str, dict[str, dict[str, Any]]] = {}
        """agentId -> agentAliasId -> alias."""
        self.fail_preparation: dict[str, list[str]] = {}
        """Agent name or id -> failureReasons: its next PrepareAgent ends FAILED."""
        self.prepare_calls = 0
        """PrepareAgent calls served."""

    def _agent_id(self) -> str:
        return f"AGENT{next(self._agent_ids):05d}"

    def agent_handlers(self) -> dict[str, Callable[[ReceivedRequest], Reply]]:
        """Handlers by operation name."""
        return {
            "CreateAgent": self._create_agent,
            "UpdateAgent": self._update_agent,
            "GetAgent": self._get_agent,
            "ListAgents": self._list_agents,
            "DeleteAgent": self._delete_agent,
            "PrepareAgent": self._prepare_agent,
            "CreateAgentActionGroup": self._create_group,
            "UpdateAgentActionGroup": self._update_group,
            "GetAgentActionGroup": self._get_group,
            "ListAgentActionGroups": self._list_groups,
            "DeleteAgentActionGroup": self._delete_group,
            "AssociateAgentKnowledgeBase": self._associate_kb,
            "DisassociateAgentKnowledgeBase": self._disassociate_kb,
            "ListAgentKnowledgeBases": self._list_kbs,
            "CreateAgentAlias": self._create_alias,
            "UpdateAgentAlias": self._update_alias,
            "GetAgentAlias": self._get_alias,
            "ListAgentAliases": self._list_aliases,
            "DeleteAgentAlias": self._delete_alias,
            "ListAgentVersions": self._list_versions,
        }

    # -- agents

    def _public_agent(self, agent: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in agent.items() if not k.startswith("_")}

    def _touch(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        agent["agentStatus"] = "NOT_PREPARED"
        agent["updatedAt"] = _now()

    def _create_agent(self, request: ReceivedRequest) -> Reply:
        body = _body(request)
        if any(a["agentName"] == body.get("agentName") for a in self.agents.values()):
            return Reply.error(409, "ConflictException", f"agent {body.get('agentName')} exists")
        agent_id = self._agent_id()
        agent = {k: body[k] for k in _AGENT_FIELDS if k in body}
        agent.setdefault("idleSessionTTLInSeconds", 600)
        agent.setdefault("agentResourceRoleArn", f"arn:aws:iam::{_ACCOUNT}:role/agent")
        agent.update(
            agentId=agent_id,
            agentArn=f"arn:aws:bedrock:us-east-1:{_ACCOUNT}:agent/{agent_id}",
            agentVersion="DRAFT",
            agentStatus="NOT_PREPARED",
            createdAt=_now(),
            updatedAt=_now(),
        )
        self.agents[agent_id] = agent
        self.action_groups[agent_id] = {}
        self.agent_knowledge_bases[agent_id] = {}
        self.versions[agent_id] = {}
        self.aliases[agent_id] = {}
        return Reply.json({"agent": self._public_agent(agent)}, status=202)

    def _update_agent(self, request: ReceivedRequest) -> Reply:
        agent = self.agents.get(request.path_params["agentId"])
        if agent is None:
            return _missing("agent")
        body = _body(request)
        for name in _AGENT_FIELDS:
            if name in body:
                agent[name] = body[name]
            elif name not in ("agentName", "foundationModel", "agentResourceRoleArn"):
                agent.pop(name, None)
        agent.pop("failureReasons", None)
        self._touch(agent["agentId"])
        return Reply.json({"agent": self._public_agent(agent)}, status=202)

    def _get_agent(self, request: ReceivedRequest) -> Reply:
        agent = self.agents.get(request.path_params["agentId"])
        if agent is None:
            return _missing("agent")
        if agent["agentStatus"] == "PREPARING":
            agent["_reads"] = agent.get("_reads", 0) + 1
            if agent["_reads"] > self.prepare_steps:
                reasons = self.fail_preparation.pop(agent["agentId"], None)
                reasons = reasons or self.fail_preparation.pop(agent["agentName"], None)
                if reasons:
                    agent.update(agentStatus="FAILED", failureReasons=list(reasons))
                    agent["recommendedActions"] = ["Fix the action groups, then prepare again"]
                else:
                    agent.update(agentStatus="PREPARED", preparedAt=_now())
                    agent.pop("failureReasons", None)
                    agent.pop("recommendedActions", None)
        return Reply.json({"agent": self._public_agent(agent)})

    def _list_agents(self, request: ReceivedRequest) -> Reply:
        body = _body(request)
        names = sorted(self.agents)
        start = int(body.get("nextToken") or 0)
        size = int(body.get("maxResults") or 1000)
        summaries = [
            {
                "agentId": a,
                "agentName": self.agents[a]["agentName"],
                "agentStatus": self.agents[a]["agentStatus"],
                "updatedAt": self.agents[a]["updatedAt"],
            }
            for a in names[start : start + size]
        ]
        reply: dict[str, Any] = {"agentSummaries": summaries}
        if start + size < len(names):
            reply["nextToken"] = str(start + size)
        return Reply.json(reply)

    def _delete_agent(self, request: ReceivedRequest) -> Reply:
        agent_id = request.path_params["agentId"]
        if agent_id not in self.agents:
            return _missing("agent")
        if self.aliases[agent_id] and (request.query or {}).get("skipResourceInUseCheck") != [
            "true"
        ]:
            return Reply.error(409, "ConflictException", f"agent {agent_id} still has aliases")
        self.agents.pop(agent_id)
        for table in (self.action_groups, self.agent_knowledge_bases, self.versions, self.aliases):
            table.pop(agent_id, None)
        return Reply.json({"agentId": agent_id, "agentStatus": "DELETING"}, status=202)

    def _prepare_agent(self, request: ReceivedRequest) -> Reply:
        agent = self.agents.get(request.path_params["agentId"])
        if agent is None:
            return _missing("agent")
        self.prepare_calls += 1
        agent.update(agentStatus="PREPARING", _reads=0)
        return Reply.json(
            {
                "agentId": agent["agentId"],
                "agentStatus": "PREPARING",
                "agentVersion": "DRAFT",
                "preparedAt": _now(),
            },
            status=202,
        )

    # -- action groups

    def _groups(self, request: ReceivedRequest) -> dict[str, dict[str, Any]] | None:
        return self.action_groups.get(request.path_params["agentId"])

    def _create_group(self, request: ReceivedRequest) -> Reply:
        groups = self._groups(request)
        if groups is None:
            return _missing("agent")
        body = _body(request)
        if any(g["actionGroupName"] == body.get("actionGroupName") for g in groups.values()):
            return Reply.error(409, "ConflictException", "action group name exists")
        group_id = self._agent_id().replace("AGENT", "GROUP")
        group = {k: copy.deepcopy(body[k]) for k in _GROUP_FIELDS if k in body}
        group.setdefault("actionGroupState", "ENABLED")
        group.update(
            agentId=request.path_params["agentId"],
            agentVersion="DRAFT",
            actionGroupId=group_id,
            createdAt=_now(),
            updatedAt=_now(),
        )
        groups[group_id] = group
        self._touch(request.path_params["agentId"])
        return Reply.json({"agentActionGroup": group})

    def _update_group(self, request: ReceivedRequest) -> Reply:
        groups = self._groups(request)
        group = (groups or {}).get(request.path_params["actionGroupId"])
        if group is None:
            return _missing("action group")
        body = _body(request)
        for name in _GROUP_FIELDS:
            if name in body:
                group[name] = copy.deepcopy(body[name])
            elif name not in ("actionGroupName", "actionGroupState"):
                group.pop(name, None)
        group["updatedAt"] = _now()
        self._touch(request.path_params["agentId"])
        return Reply.json({"agentActionGroup": group})

    def _version_groups(self, request: ReceivedRequest) -> dict[str, dict[str, Any]] | None:
        agent_id = request.path_params["agentId"]
        version = request.path_params["agentVersion"]
        if version == "DRAFT":
            return self.action_groups.get(agent_id)
        snapshot = self.versions.get(agent_id, {}).get(version)
        return None if snapshot is None else snapshot["actionGroups"]

    def _get_group(self, request: ReceivedRequest) -> Reply:
        group = (self._version_groups(request) or {}).get(request.path_params["actionGroupId"])
        return Reply.json({"agentActionGroup": group}) if group else _missing("action group")

    def _list_groups(self, request: ReceivedRequest) -> Reply:
        groups = self._version_groups(request)
        if groups is None:
            return _missing("agent version")
        summaries = [
            {
                "actionGroupId": g["actionGroupId"],
                "actionGroupName": g["actionGroupName"],
                "actionGroupState": g["actionGroupState"],
                "updatedAt": g["updatedAt"],
                **({"description": g["description"]} if g.get("description") else {}),
            }
            for g in groups.values()
        ]
        return Reply.json({"actionGroupSummaries": summaries})

    def _delete_group(self, request: ReceivedRequest) -> Reply:
        groups = self._groups(request)
        if groups is None or request.path_params["actionGroupId"] not in groups:
            return _missing("action group")
        groups.pop(request.path_params["actionGroupId"])
        self._touch(request.path_params["agentId"])
        # 200, not the modelled 204: a 204 may carry no body, and Reply.json always has one.
        return Reply.json({})

    # -- knowledge bases of an agent

    def _associate_kb(self, request: ReceivedRequest) -> Reply:
        kbs = self.agent_knowledge_bases.get(request.path_params["agentId"])
        if kbs is None:
            return _missing("agent")
        body = _body(request)
        association = {
            "agentId": request.path_params["agentId"],
            "agentVersion": "DRAFT",
            "knowledgeBaseId": body["knowledgeBaseId"],
            "description": body["description"],
            "knowledgeBaseState": body.get("knowledgeBaseState", "ENABLED"),
            "createdAt": _now(),
            "updatedAt": _now(),
        }
        kbs[body["knowledgeBaseId"]] = association
        self._touch(request.path_params["agentId"])
        return Reply.json({"agentKnowledgeBase": association})

    def _disassociate_kb(self, request: ReceivedRequest) -> Reply:
        kbs = self.agent_knowledge_bases.get(request.path_params["agentId"]) or {}
        if kbs.pop(request.path_params["knowledgeBaseId"], None) is None:
            return _missing("agent knowledge base")
        self._touch(request.path_params["agentId"])
        return Reply.json({})

    def _list_kbs(self, request: ReceivedRequest) -> Reply:
        kbs = self.agent_knowledge_bases.get(request.path_params["agentId"])
        if kbs is None:
            return _missing("agent")
        summaries = [
            {
                k: v
                for k, v in a.items()
                if k in ("knowledgeBaseId", "description", "knowledgeBaseState", "updatedAt")
            }
            for a in kbs.values()
        ]
        return Reply.json({"agentKnowledgeBaseSummaries": summaries})

    # -- versions and aliases

    def _snapshot(self, agent_id: str) -> str:
        number = str(len(self.versions[agent_id]) + 1)
        self.versions[agent_id][number] = {
            "agent": copy.deepcopy(self.agents[agent_id]),
            "actionGroups": copy.deepcopy(self.action_groups[agent_id]),
            "knowledgeBases": copy.deepcopy(self.agent_knowledge_bases[agent_id]),
            "createdAt": _now(),
        }
        return number

    def _routing(self, agent_id: str, body: Mapping[str, Any]) -> list[dict[str, Any]] | Reply:
        routing = body.get("routingConfiguration")
        if routing:
            version = routing[0].get("agentVersion")
            if version not in self.versions[agent_id]:
                return _missing(f"agent version {version}")
            return [{"agentVersion": version}]
        if self.agents[agent_id]["agentStatus"] != "PREPARED":
            return Reply.error(
                400, "ValidationException", f"agent {agent_id} is not PREPARED: prepare it first"
            )
        return [{"agentVersion": self._snapshot(agent_id)}]

    def _create_alias(self, request: ReceivedRequest) -> Reply:
        agent_id = request.path_params["agentId"]
        if agent_id not in self.agents:
            return _missing("agent")
        body = _body(request)
        routing = self._routing(agent_id, body)
        if isinstance(routing, Reply):
            return routing
        alias_id = self._agent_id().replace("AGENT", "ALIAS")
        arn = self.agents[agent_id]["agentArn"].replace(":agent/", ":agent-alias/")
        alias = {
            "agentId": agent_id,
            "agentAliasId": alias_id,
            "agentAliasName": body["agentAliasName"],
            "agentAliasArn": f"{arn}/{alias_id}",
            "routingConfiguration": routing,
            "agentAliasStatus": "CREATING",
            "createdAt": _now(),
            "updatedAt": _now(),
        }
        if body.get("description"):
            alias["description"] = body["description"]
        self.aliases[agent_id][alias_id] = alias
        reply = Reply.json({"agentAlias": dict(alias)}, status=202)
        alias["agentAliasStatus"] = "PREPARED"  # the next read sees it ready
        return reply

    def _update_alias(self, request: ReceivedRequest) -> Reply:
        agent_id = request.path_params["agentId"]
        alias = self.aliases.get(agent_id, {}).get(request.path_params["agentAliasId"])
        if alias is None:
            return _missing("agent alias")
        body = _body(request)
        routing = self._routing(agent_id, body)
        if isinstance(routing, Reply):
            return routing
        alias.update(
            agentAliasName=body["agentAliasName"],
            routingConfiguration=routing,
            agentAliasStatus="UPDATING",
            updatedAt=_now(),
        )
        reply = Reply.json({"agentAlias": dict(alias)}, status=202)
        alias["agentAliasStatus"] = "PREPARED"
        return reply

    def _get_alias(self, request: ReceivedRequest) -> Reply:
        alias = self.aliases.get(request.path_params["agentId"], {}).get(
            request.path_params["agentAliasId"]
        )
        return Reply.json({"agentAlias": alias}) if alias else _missing("agent alias")

    def _list_aliases(self, request: ReceivedRequest) -> Reply:
        aliases = self.aliases.get(request.path_params["agentId"])
        if aliases is None:
            return _missing("agent")
        summaries = [
            {
                k: v
                for k, v in a.items()
                if k
                in (
                    "agentAliasId",
                    "agentAliasName",
                    "agentAliasStatus",
                    "routingConfiguration",
                    "description",
                    "createdAt",
                    "updatedAt",
                )
            }
            for a in aliases.values()
        ]
        return Reply.json({"agentAliasSummaries": summaries})

    def _delete_alias(self, request: ReceivedRequest) -> Reply:
        agent_id = request.path_params["agentId"]
        alias_id = request.path_params["agentAliasId"]
        if self.aliases.get(agent_id, {}).pop(alias_id, None) is None:
            return _missing("agent alias")
        return Reply.json(
            {"agentId": agent_id, "agentAliasId": alias_id, "agentAliasStatus": "DELETING"},
            status=202,
        )

    def _list_versions(self, request: ReceivedRequest) -> Reply:
        agent_id = request.path_params["agentId"]
        if agent_id not in self.agents:
            return _missing("agent")
        summaries = [
            {
                "agentName": v["agent"]["agentName"],
                "agentStatus": "PREPARED",
                "agentVersion": number,
                "createdAt": v["createdAt"],
                "updatedAt": v["createdAt"],
            }
            for number, v in self.versions[agent_id].items()
        ]
        return Reply.json({"agentVersionSummaries": summaries})
