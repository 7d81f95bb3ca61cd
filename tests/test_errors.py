"""botocore errors map once, at the boundary, to bedrock_kit.errors types."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from bedrock_kit import errors
from bedrock_kit.errors import translate_errors


def _client_error(code: str, status: int, message: str = "msg") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "rid", "RetryAttempts": 2},
        },
        "Converse",
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 429, errors.ThrottlingError),
        ("ValidationException", 400, errors.BedrockValidationError),
        ("AccessDeniedException", 403, errors.AccessDeniedError),
        ("ExpiredTokenException", 403, errors.AccessDeniedError),
        ("ModelTimeoutException", 408, errors.ModelTimeoutError),
        ("ModelNotReadyException", 429, errors.ModelNotReadyError),
        ("ModelErrorException", 424, errors.ModelError),
        ("ServiceUnavailableException", 503, errors.ServiceUnavailableError),
        ("InternalServerException", 500, errors.InternalServerError),
        ("ResourceNotFoundException", 404, errors.ResourceNotFoundError),
        ("ServiceQuotaExceededException", 400, errors.ServiceQuotaExceededError),
        ("throttlingException", 200, errors.ThrottlingError),  # in-stream event name
        (
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            400,
            errors.BedrockValidationError,
        ),
        ("", 503, errors.ServiceUnavailableError),  # recorder stripped the code
        ("", 400, errors.BedrockValidationError),
    ],
)
def test_codes_and_statuses_map_to_types(code, status, expected):
    with pytest.raises(expected) as info, translate_errors(model_id="m", region="us-east-1"):
        raise _client_error(code, status)
    error = info.value
    assert type(error) is expected
    assert (error.model_id, error.region, error.status_code, error.request_id) == (
        "m",
        "us-east-1",
        status,
        "rid",
    )
    assert error.retry_attempts == 2
    assert "request_id=rid" in str(error)


@pytest.mark.parametrize(
    "message",
    [
        "Input is too long for requested model.",
        "prompt is too long: 210000 tokens > 200000 maximum",
        "The model returned the following errors: too many input tokens",
    ],
)
def test_context_window_validation_errors_are_specific(message):
    with pytest.raises(errors.ContextWindowExceededError), translate_errors():
        raise _client_error("ValidationException", 400, message)


def test_plain_validation_error_is_not_context_window():
    with pytest.raises(errors.BedrockValidationError) as info, translate_errors():
        raise _client_error("ValidationException", 400, "The provided model identifier is invalid.")
    assert not isinstance(info.value, errors.ContextWindowExceededError)


def test_transport_errors():
    with pytest.raises(errors.ModelTimeoutError), translate_errors():
        raise ReadTimeoutError(endpoint_url="http://x")
    with pytest.raises(errors.BedrockConnectionError), translate_errors():
        raise EndpointConnectionError(endpoint_url="http://x")


def test_own_errors_pass_through_unchanged():
    original = errors.IncompleteStreamError("x", partial_text="p")
    with pytest.raises(errors.IncompleteStreamError) as info, translate_errors():
        raise original
    assert info.value is original


def test_every_error_is_a_bedrock_kit_error():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.BedrockKitError)
