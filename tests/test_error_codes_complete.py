"""Every error the Bedrock service models define leaves as a typed bedrock-kit error.

A code missing from the table fell back to its HTTP status class or to the bare
BedrockKitError: an agent's failed Lambda (424 DependencyFailedException) read as a model
error, a 409 ConflictException from the agent control plane as nothing in particular.
"""

from __future__ import annotations

import botocore.session
import pytest
from botocore import exceptions as bx

from bedrock_kit import errors
from bedrock_kit.core.agents.runtime import AgentRuntime, AgentSession, build_invoke_agent_request
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import translate_errors
from bedrock_kit.testing import LocalBedrock, Reply

SERVICES = ("bedrock-runtime", "bedrock-agent-runtime", "bedrock", "bedrock-agent")


def _modeled_exceptions() -> list[tuple[str, str, int]]:
    session = botocore.session.get_session()
    found = []
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.shape_names:
            shape = model.shape_for(name)
            if shape.metadata.get("exception"):
                status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
                found.append((service, name, status))
    return found


def _client_error(status: int, code: str) -> bx.ClientError:
    return bx.ClientError(
        {
            "Error": {"Code": code, "Message": "upstream said no"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "r-1"},
        },
        "Op",
    )


def test_the_service_models_define_exceptions_at_all() -> None:
    names = {name for _, name, _ in _modeled_exceptions()}
    assert {"ValidationException", "DependencyFailedException", "ConflictException"} <= names


@pytest.mark.parametrize(("service", "code", "status"), _modeled_exceptions())
def test_every_modeled_exception_has_its_own_type(service: str, code: str, status: int) -> None:
    with pytest.raises(errors.BedrockKitError) as info, translate_errors(model_id="m"):
        raise _client_error(status, code)
    assert type(info.value) is not errors.BedrockKitError, f"{service} {code} is untyped"
    assert info.value.error_code == code


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("DependencyFailedException", 424, errors.DependencyFailedError),
        ("BadGatewayException", 502, errors.BadGatewayError),
        ("ConflictException", 409, errors.ConflictError),
        ("ConflictException", 400, errors.ConflictError),
        ("ResourceInUseException", 400, errors.ConflictError),
        ("TooManyTagsException", 400, errors.BedrockValidationError),
    ],
)
def test_codes_that_fell_back_to_their_status(code: str, status: int, expected: type) -> None:
    with pytest.raises(expected) as info, translate_errors(model_id="m"):
        raise _client_error(status, code)
    assert type(info.value) is expected


def test_a_bad_gateway_is_still_a_service_unavailable_error() -> None:
    assert issubclass(errors.BadGatewayError, errors.ServiceUnavailableError)


def test_a_409_without_a_code_is_a_conflict() -> None:
    with pytest.raises(errors.ConflictError), translate_errors(model_id="m"):
        raise _client_error(409, "")


def test_an_agents_failed_dependency_over_http_is_typed(server: LocalBedrock) -> None:
    server.script(
        "InvokeAgent",
        Reply.error(424, "DependencyFailedException", "the action group's Lambda failed"),
    )
    runtime = AgentRuntime(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0)
    )
    request = build_invoke_agent_request(
        "TFMZVIWXR7", "ZT7YYHO8TO", "hi", AgentSession(session_id="sess-1")
    )
    with pytest.raises(errors.DependencyFailedError) as info:
        runtime.invoke(request)
    assert info.value.status_code == 424
    assert "Lambda failed" in str(info.value)
    assert len([r for r in server.requests if r.operation == "InvokeAgent"]) == 1
