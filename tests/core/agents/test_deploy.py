"""AgentDeployer on LocalControlPlane: create, prepare, alias; unchanged re-deploys write
nothing; changed tool sets make a new version; preparation failures are typed; cleanup."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.agents.deploy import AgentDefinition, AgentDeployer, KnowledgeBaseLink
from bedrock_kit.core.chat.tools import build_action_group, tool_spec
from bedrock_kit.errors import AgentPreparationError, ConfigurationError, ModelTimeoutError
from bedrock_kit.testing import LocalBedrock, LocalControlPlane

INSTRUCTION = "You answer questions about orders and use the tools to look orders up."
ROLE = "arn:aws:iam::123456789012:role/AgentRole"
READS = {
    "ListAgents",
    "GetAgent",
    "ListAgentActionGroups",
    "GetAgentActionGroup",
    "ListAgentKnowledgeBases",
    "ListAgentAliases",
    "GetAgentAlias",
}

LOOKUP = tool_spec(
    "lookup_order",
    "Look an order up by id.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)
REFUND = tool_spec(
    "refund",
    "Refund an order.",
    {
        "type": "object",
        "properties": {"order": {"type": "object", "properties": {"id": {"type": "string"}}}},
    },
)


def definition(*specs: Any, **overrides: Any) -> AgentDefinition:
    groups = (build_action_group(list(specs or (LOOKUP,)), name="orders"),)
    args: dict[str, Any] = {
        "name": "orders-agent",
        "foundation_model": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "instruction": INSTRUCTION,
        "role_arn": ROLE,
        "action_groups": groups,
    }
    args.update(overrides)
    return AgentDefinition(**args)


def deployer(plane_server: LocalBedrock) -> AgentDeployer:
    return AgentDeployer(**plane_server.client_kwargs(), max_retries=1)


def writes(server: LocalBedrock) -> list[str]:
    return [r.operation for r in server.requests if r.operation not in READS]


def test_first_deploy_creates_prepares_and_aliases(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    kb_id = plane.add_knowledge_base()
    d = definition(knowledge_bases=(KnowledgeBaseLink(kb_id, "Order policies"),))
    deployment = deployer(plane_server).deploy(d, poll_interval=0)
    assert deployment.changed and deployment.agent_version == "1"
    assert writes(plane_server) == [
        "CreateAgent",
        "CreateAgentActionGroup",
        "AssociateAgentKnowledgeBase",
        "PrepareAgent",
        "CreateAgentAlias",
    ]
    group = plane.action_groups[deployment.agent_id]
    (stored,) = group.values()
    assert stored["actionGroupExecutor"] == {"customControl": "RETURN_CONTROL"}
    assert stored["functionSchema"]["functions"][0]["name"] == "lookup_order"
    assert plane.agents[deployment.agent_id]["agentStatus"] == "PREPARED"
    assert deployment.alias_arn.endswith(f"/{deployment.alias_id}")
    assert plane.versions[deployment.agent_id]["1"]["knowledgeBases"][kb_id]["description"] == (
        "Order policies"
    )


def test_unchanged_redeploy_writes_nothing(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    first = deployer(plane_server).deploy(definition(), poll_interval=0)
    plane_server.clear()
    again = deployer(plane_server).deploy(definition(), poll_interval=0)
    assert not again.changed and again.changes == ()
    assert writes(plane_server) == []
    assert (again.agent_id, again.alias_id, again.agent_version) == (
        first.agent_id,
        first.alias_id,
        "1",
    )


def test_changed_tools_make_a_new_version(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    first = deployer(plane_server).deploy(definition(), poll_interval=0)
    plane_server.clear()
    second = deployer(plane_server).deploy(definition(LOOKUP, REFUND), poll_interval=0)
    assert second.changed and second.agent_version == "2"
    assert second.alias_id == first.alias_id
    assert writes(plane_server) == ["UpdateAgentActionGroup", "PrepareAgent", "UpdateAgentAlias"]
    assert any("apiSchema" in line for line in second.changes)  # nested args: OpenAPI form
    (stored,) = plane.action_groups[second.agent_id].values()
    assert "functionSchema" not in stored and "payload" in stored["apiSchema"]
    plane_server.clear()
    third = deployer(plane_server).deploy(
        definition(LOOKUP, REFUND, instruction=INSTRUCTION + " Be brief."), poll_interval=0
    )
    assert third.agent_version == "3"
    assert writes(plane_server)[0] == "UpdateAgent"


def test_removed_groups_are_deleted(plane: LocalControlPlane, plane_server: LocalBedrock) -> None:
    two = (
        build_action_group([LOOKUP], name="orders"),
        build_action_group([REFUND], name="refunds"),
    )
    deployment = deployer(plane_server).deploy(definition(action_groups=two), poll_interval=0)
    assert len(plane.action_groups[deployment.agent_id]) == 2
    redeployed = deployer(plane_server).deploy(definition(), poll_interval=0)
    assert "deleted action group refunds" in redeployed.changes
    assert [g["actionGroupName"] for g in plane.action_groups[deployment.agent_id].values()] == [
        "orders"
    ]


def test_preparation_failure_is_typed(plane: LocalControlPlane, plane_server: LocalBedrock) -> None:
    plane.fail_preparation["orders-agent"] = ["Action group orders: function schema is invalid"]
    with pytest.raises(AgentPreparationError, match="function schema is invalid") as caught:
        deployer(plane_server).deploy(definition(), poll_interval=0)
    error = caught.value
    assert error.status == "FAILED" and error.failure_reasons == (
        "Action group orders: function schema is invalid",
    )
    assert error.agent_id in str(error) and error.recommended_actions
    assert not plane_server.requests_for("CreateAgentAlias")
    # The next deploy prepares again (the agent is not PREPARED) and succeeds.
    fixed = deployer(plane_server).deploy(definition(), poll_interval=0)
    assert fixed.changed and fixed.agent_version == "1"


def test_preparation_timeout(plane: LocalControlPlane, plane_server: LocalBedrock) -> None:
    plane.prepare_steps = 1000
    with pytest.raises(ModelTimeoutError, match="still PREPARING"):
        deployer(plane_server).deploy(definition(), poll_interval=0.01, timeout=0.05)


def test_cleanup_deletes_alias_groups_and_agent(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    deployment = deployer(plane_server).deploy(definition(), poll_interval=0)
    done = deployer(plane_server).delete("orders-agent")
    assert done == [
        f"deleted alias live ({deployment.alias_id})",
        "deleted action group orders",
        f"deleted agent {deployment.agent_id}",
    ]
    assert plane.agents == {}
    assert deployer(plane_server).delete("orders-agent") == []


def test_definitions_are_checked_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="instruction must be 40 to 4000"):
        definition(instruction="too short")
    with pytest.raises(ConfigurationError, match="not an IAM role ARN"):
        definition(role_arn="AgentRole")
    with pytest.raises(ConfigurationError, match="action group names repeat"):
        group = build_action_group([LOOKUP], name="orders")
        definition(action_groups=(group, group))
    with pytest.raises(ConfigurationError, match="idle_session_ttl"):
        definition(idle_session_ttl=10)
    with pytest.raises(ConfigurationError, match="knowledge_base_id"):
        KnowledgeBaseLink("nope", "x")


async def test_async_deploy_and_delete(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    agents = deployer(plane_server)
    first = await agents.adeploy(definition(), poll_interval=0)
    again = await agents.adeploy(definition(), poll_interval=0)
    changed = await agents.adeploy(definition(LOOKUP, REFUND), poll_interval=0)
    assert (first.changed, again.changed, changed.changed) == (True, False, True)
    assert changed.agent_version == "2"
    assert (await agents.adelete(first.agent_id))[-1] == f"deleted agent {first.agent_id}"
    await agents.aclose()
