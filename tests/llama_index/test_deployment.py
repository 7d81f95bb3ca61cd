"""deploy_agent from LlamaIndex FunctionTools on LocalControlPlane: the returned
BedrockAgentQueryEngine runs the tools locally through return of control; re-deploys diff;
failures typed."""

from __future__ import annotations

import json

import pytest
from llama_index.core.tools import FunctionTool

from bedrock_kit.errors import AgentPreparationError, ConfigurationError
from bedrock_kit.llama_index import (
    BedrockAgentQueryEngine,
    adelete_agent,
    adeploy_agent,
    delete_agent,
    deploy_agent,
)
from bedrock_kit.testing import LocalBedrock, LocalControlPlane, Reply
from bedrock_kit.testing.builders import agent_events, function_call

ROLE = "arn:aws:iam::123456789012:role/AgentRole"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
INSTRUCTION = "Answer order questions; look orders up with the lookup_order tool."
CALLS: list[str] = []


def _lookup(order_id: str) -> str:
    """Look an order up by its id."""
    CALLS.append(order_id)
    return f"order {order_id}: shipped"


async def _alookup(order_id: str) -> str:
    """Look an order up by its id."""
    CALLS.append(order_id)
    return f"order {order_id}: shipped"


def _cancel(order_id: str, reason: str = "") -> str:
    """Cancel an order."""
    return f"order {order_id}: cancelled"


lookup_order = FunctionTool.from_defaults(fn=_lookup, async_fn=_alookup, name="lookup_order")
cancel_order = FunctionTool.from_defaults(fn=_cancel, name="cancel_order")


def test_deploy_then_invoke_runs_tools_locally(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    CALLS.clear()
    agent = deploy_agent(
        "orders",
        MODEL,
        INSTRUCTION,
        [lookup_order],
        role_arn=ROLE,
        guardrail=("gr-1234", "2"),
        poll_interval=0,
        **plane_server.client_kwargs(),
    )
    assert isinstance(agent, BedrockAgentQueryEngine)
    deployment = agent.deployment
    assert deployment.changed and agent.agent_alias_id == deployment.alias_id
    stored = plane.agents[deployment.agent_id]
    assert stored["guardrailConfiguration"] == {
        "guardrailIdentifier": "gr-1234",
        "guardrailVersion": "2",
    }
    (group,) = plane.action_groups[deployment.agent_id].values()
    assert group["actionGroupName"] == "tools"
    assert group["actionGroupExecutor"] == {"customControl": "RETURN_CONTROL"}
    assert group["functionSchema"]["functions"][0]["parameters"]["order_id"]["required"] is True
    plane_server.script(
        "InvokeAgent",
        Reply.events(agent_events(calls=[function_call("lookup_order", "tools", order_id="A7")])),
    )
    answer = agent.query("Where is order A7?")
    assert CALLS == ["A7"]
    assert str(answer) == "tool results: order A7: shipped"
    invoke = plane_server.requests_for("InvokeAgent")[0]
    assert invoke.path_params["agentId"] == deployment.agent_id
    assert invoke.path_params["agentAliasId"] == deployment.alias_id


def test_redeploy_unchanged_then_changed(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    kwargs = {"role_arn": ROLE, "poll_interval": 0, **plane_server.client_kwargs()}
    first = deploy_agent("orders", MODEL, INSTRUCTION, [lookup_order], **kwargs).deployment
    same = deploy_agent("orders", MODEL, INSTRUCTION, [lookup_order], **kwargs).deployment
    assert not same.changed and same.agent_version == first.agent_version == "1"
    groups = {"lookup": [lookup_order], "cancel": [cancel_order]}
    changed = deploy_agent("orders", MODEL, INSTRUCTION, groups, **kwargs).deployment
    assert changed.changed and changed.agent_version == "2"
    assert sorted(g["actionGroupName"] for g in plane.action_groups[changed.agent_id].values()) == [
        "cancel",
        "lookup",
    ]
    assert "deleted action group tools" in changed.changes


def test_lambda_arn_and_openapi(plane: LocalControlPlane, plane_server: LocalBedrock) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
    agent = deploy_agent(
        "orders",
        MODEL,
        INSTRUCTION,
        [lookup_order],
        role_arn=ROLE,
        lambda_arn=arn,
        schema="openapi",
        poll_interval=0,
        **plane_server.client_kwargs(),
    )
    (group,) = plane.action_groups[agent.deployment.agent_id].values()
    assert group["actionGroupExecutor"] == {"lambda": arn}
    assert "/lookup_order" in json.loads(group["apiSchema"]["payload"])["paths"]
    assert agent.local_tools == []  # the Lambda runs them


def test_preparation_failure_and_bad_input(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    plane.fail_preparation["orders"] = ["Model not enabled in this account"]
    with pytest.raises(AgentPreparationError, match="Model not enabled") as caught:
        deploy_agent(
            "orders",
            MODEL,
            INSTRUCTION,
            [lookup_order],
            role_arn=ROLE,
            poll_interval=0,
            **plane_server.client_kwargs(),
        )
    assert caught.value.failure_reasons == ("Model not enabled in this account",)
    before = len(plane_server.requests)
    with pytest.raises(ConfigurationError, match="knowledge base 'KB12345678'"):
        deploy_agent(
            "orders",
            MODEL,
            INSTRUCTION,
            [lookup_order],
            role_arn=ROLE,
            knowledge_bases=["KB12345678"],
            **plane_server.client_kwargs(),
        )
    with pytest.raises(ConfigurationError, match="at least one tool"):
        deploy_agent("orders", MODEL, INSTRUCTION, [], role_arn=ROLE)
    assert len(plane_server.requests) == before


async def test_async_deploy_invoke_and_delete(
    plane: LocalControlPlane, plane_server: LocalBedrock
) -> None:
    CALLS.clear()
    kb_id = plane.add_knowledge_base()
    agent = await adeploy_agent(
        "orders",
        MODEL,
        INSTRUCTION,
        [lookup_order],
        role_arn=ROLE,
        knowledge_bases={kb_id: "Order policies and FAQ"},
        poll_interval=0,
        **plane_server.client_kwargs(),
    )
    assert list(plane.agent_knowledge_bases[agent.deployment.agent_id]) == [kb_id]
    plane_server.script(
        "InvokeAgent",
        Reply.events(agent_events(calls=[function_call("lookup_order", "tools", order_id="B2")])),
    )
    answer = await agent.aquery("Where is B2?")
    assert str(answer) == "tool results: order B2: shipped" and CALLS == ["B2"]
    done = await adelete_agent("orders", **plane_server.client_kwargs())
    assert done[-1] == f"deleted agent {agent.deployment.agent_id}"
    assert delete_agent("orders", **plane_server.client_kwargs()) == []
