"""translate_errors: what botocore and the HTTP stacks raise leaves as a bedrock-kit type."""

from __future__ import annotations

import aiohttp
import pytest
from botocore import exceptions as bx
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from bedrock_kit import errors
from bedrock_kit.errors import translate_errors


def _client_error(status: int, code: str = "") -> bx.ClientError:
    return bx.ClientError(
        {
            "Error": {"Code": code, "Message": "upstream said no"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "r-1"},
        },
        "Converse",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (502, errors.ServiceUnavailableError),
        (503, errors.ServiceUnavailableError),
        (504, errors.ServiceUnavailableError),
        (500, errors.InternalServerError),
        (418, errors.BedrockKitError),
    ],
)
def test_status_without_an_error_code(status, expected):
    with pytest.raises(expected) as info, translate_errors(model_id="m"):
        raise _client_error(status)
    assert type(info.value) is expected
    assert info.value.status_code == status
    assert isinstance(info.value.__cause__, bx.ClientError)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (bx.ProfileNotFound(profile="nope"), errors.ConfigurationError),
        (bx.InvalidRegionError(region_name="mars 1"), errors.ConfigurationError),
        (
            bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET"),
            errors.ConfigurationError,
        ),
        (bx.NoRegionError(), errors.ConfigurationError),
        (bx.NoCredentialsError(), errors.AccessDeniedError),
        (bx.ReadTimeoutError(endpoint_url="http://x"), errors.ModelTimeoutError),
        # A stall while an event stream is read: a timeout like a stalled call, not a
        # broken connection.
        (ReadTimeoutError(None, "/", "Read timed out."), errors.ModelTimeoutError),
        (
            bx.ResponseStreamingError(error=ReadTimeoutError(None, "/", "x")),
            errors.ModelTimeoutError,
        ),
        (
            aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
            errors.ModelTimeoutError,
        ),
        (TimeoutError("timed out"), errors.ModelTimeoutError),
        (ProtocolError("Connection broken"), errors.IncompleteStreamError),
        (aiohttp.ClientPayloadError("payload"), errors.IncompleteStreamError),
        (ConnectionResetError("reset"), errors.BedrockConnectionError),
        (aiohttp.ServerDisconnectedError(), errors.BedrockConnectionError),
        (bx.UnknownServiceError(service_name="x", known_service_names=[]), errors.BedrockKitError),
    ],
)
def test_transport_and_configuration_errors(exc, expected):
    with pytest.raises(errors.BedrockKitError) as info, translate_errors(model_id="m"):
        raise exc
    assert type(info.value) is expected, (type(info.value), exc)
    assert info.value.__cause__ is exc


def test_deadline_exceeded_is_a_model_timeout():
    error = errors.DeadlineExceededError("late", deadline=2.0)
    assert isinstance(error, errors.ModelTimeoutError)
    assert error.deadline == 2.0
    with pytest.raises(errors.DeadlineExceededError) as info, translate_errors():
        raise error
    assert info.value is error


def test_unknown_argument_error_is_a_configuration_error():
    error = errors.UnknownArgumentError("x", argument="a", suggestion="b")
    assert isinstance(error, errors.ConfigurationError)
    assert isinstance(error, TypeError)
    assert (error.argument, error.suggestion) == ("a", "b")
