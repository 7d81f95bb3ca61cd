"""The ingestion and deployment block of bedrock-agent routes: every operation resolves to
itself, PrepareAgent and InvokeInlineAgent stay apart, and real clients reach both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit.testing import LocalBedrock, LocalControlPlane, _routes


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "ID12345678", template)


@pytest.mark.parametrize("operation", sorted(_routes._INGEST_DEPLOY_OPERATIONS))
def test_each_operation_resolves_to_itself(operation: str) -> None:
    route = _routes.route_for(operation)
    assert route.service == "bedrock-agent"
    found = _routes.resolve(route.method, _sample(route.template))
    assert found is not None and found[0].operation == operation


def test_prepare_agent_and_inline_agents_share_a_path_but_not_a_route() -> None:
    prepare = _routes.resolve("POST", "/agents/AGENT00001/")
    inline = _routes.resolve("POST", "/agents/session-1")
    assert prepare is not None and prepare[0].operation == "PrepareAgent"
    assert inline is not None and inline[0].operation == "InvokeInlineAgent"


def test_real_clients_reach_prepare_and_inline_agents(
    server: LocalBedrock, make_client: Callable[..., Any]
) -> None:
    plane = LocalControlPlane(server)
    agents = make_client("bedrock-agent")
    created = agents.create_agent(
        agentName="a1",
        foundationModel="m",
        instruction="x" * 40,
        agentResourceRoleArn="arn:aws:iam::123456789012:role/r",
    )
    agent_id = created["agent"]["agentId"]
    assert agents.prepare_agent(agentId=agent_id)["agentStatus"] == "PREPARING"
    assert plane.prepare_calls == 1
    runtime = make_client("bedrock-agent-runtime")
    response = runtime.invoke_inline_agent(
        sessionId="s1", inputText="hi", foundationModel="m", instruction="x" * 40
    )
    assert "".join(e["chunk"]["bytes"].decode() for e in response["completion"] if "chunk" in e)
    assert [r.operation for r in server.requests] == [
        "CreateAgent",
        "PrepareAgent",
        "InvokeInlineAgent",
    ]
