"""Routing is derived from botocore's service models: every operation is reachable."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing._routes import resolve, routes

ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku"


def _fill(template: str) -> str:
    # Encode sample labels the way botocore does: non-greedy labels escape '/' and ':'.
    return re.sub(
        r"\{(\w+)(\+?)\}",
        lambda m: quote(f"{m.group(1)}:v/1", safe="/" if m.group(2) else ""),
        template,
    )


@pytest.mark.parametrize("route", routes(), ids=lambda r: r.operation)
def test_every_operation_resolves_to_itself(route: Any) -> None:
    found = resolve(route.method, _fill(route.template))
    assert found is not None
    assert found[0].operation == route.operation
    assert all(value.endswith(":v/1") for value in found[1].values())


def test_both_services_are_served() -> None:
    names = {route.operation for route in routes()}
    assert {"Converse", "ConverseStream", "CountTokens", "ApplyGuardrail"} <= names
    assert {"Retrieve", "RetrieveAndGenerate", "InvokeAgent", "InvokeInlineAgent"} <= names


def test_unknown_path_is_not_routed() -> None:
    assert resolve("POST", "/nothing/here") is None
    assert resolve("GET", "/model/m/converse") is None


def test_arn_model_id_routes_through_boto3(server: LocalBedrock, client: Any) -> None:
    client.converse(modelId=ARN, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    (request,) = server.requests
    assert request.operation == "Converse"
    assert request.path_params == {"modelId": ARN}
    assert "%3A" in request.path  # the label arrived URL-encoded, as botocore sends it


def test_script_rejects_unknown_operation(server: LocalBedrock) -> None:
    with pytest.raises(ValueError, match="unknown operation 'Convers'"):
        server.script("Convers", Reply.json({}))


def test_script_rejects_non_reply(server: LocalBedrock) -> None:
    with pytest.raises(TypeError):
        server.script("Converse", {"output": {}})  # type: ignore[arg-type]
