"""LocalBedrock serves bedrock-agent GetPrompt without shadowing any runtime route."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from bedrock_kit.testing import LocalBedrock, Reply, _routes

PROMPT = {
    "id": "PRMT123456",
    "arn": "arn:aws:bedrock:us-east-1:123456789012:prompt/PRMT123456",
    "version": "DRAFT",
    "name": "p",
    "variants": [],
}


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "ID12345678", template)


def test_only_listed_operations_are_served_from_bedrock_agent() -> None:
    served = {r.operation for r in _routes.routes() if r.service == "bedrock-agent"}
    assert served == _routes._ONLY_OPERATIONS["bedrock-agent"]
    assert {"GetPrompt", "CreatePrompt", "UpdatePrompt", "CreatePromptVersion"} <= served
    route, params = _routes.resolve("GET", "/prompts/arn%3Aaws%3Abedrock%3Aus-east-1/") or (
        None,
        None,
    )
    assert route is not None and route.operation == "GetPrompt"
    assert params == {"promptIdentifier": "arn:aws:bedrock:us-east-1"}


def test_every_runtime_operation_still_resolves_to_itself() -> None:
    for route in _routes.routes():
        if route.service == "bedrock-agent":
            continue
        found = _routes.resolve(route.method, _sample(route.template))
        assert found is not None, route.operation
        assert (found[0].service, found[0].operation) == (route.service, route.operation)


def test_the_whole_control_plane_would_shadow_a_runtime_route() -> None:
    # Why _routes restricts bedrock-agent: PrepareAgent's route takes InvokeInlineAgent's path.
    model = botocore.session.get_session().get_service_model("bedrock-agent")
    prepare = model.operation_model("PrepareAgent").http
    inline = _routes.route_for("InvokeInlineAgent")
    assert prepare["method"] == inline.method
    pattern = _routes._compile(prepare["requestUri"])
    assert pattern.fullmatch(_sample(inline.template))


def test_get_prompt_over_http(server: LocalBedrock, make_client: Callable[..., Any]) -> None:
    server.script("GetPrompt", Reply.json(PROMPT))
    agent = make_client("bedrock-agent")
    response = agent.get_prompt(promptIdentifier="PRMT123456", promptVersion="2")
    assert response["id"] == "PRMT123456"
    (request,) = server.requests
    assert (request.operation, request.path_params) == (
        "GetPrompt",
        {"promptIdentifier": "PRMT123456"},
    )
    assert request.query == {"promptVersion": ["2"]}
    # Unscripted, LocalBedrock's prompt store answers: no such prompt, by id.
    with pytest.raises(agent.exceptions.ResourceNotFoundException, match="PRMT123456"):
        agent.get_prompt(promptIdentifier="PRMT123456")


async def test_get_prompt_over_aiobotocore(
    server: LocalBedrock, make_aio_client: Callable[..., Any]
) -> None:
    server.script("GetPrompt", Reply.json(PROMPT))
    async with make_aio_client("bedrock-agent") as agent:
        response = await agent.get_prompt(promptIdentifier="PRMT123456")
    assert response["arn"] == PROMPT["arn"]
    assert server.requests[0].query is None
