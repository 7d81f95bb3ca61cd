"""translate_errors (a class-based context manager) lets through what it does not translate.

The same exception object leaves the block for anything that is not botocore's or the HTTP
stack's (user code, cancellation), a bedrock-kit error gets the call's context, and a
translated one keeps the original as ``__cause__``.
"""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import ReadTimeoutError

from bedrock_kit import errors
from bedrock_kit.errors import translate_errors


@pytest.mark.parametrize(
    "raised", [ValueError("mine"), KeyboardInterrupt(), asyncio.CancelledError()]
)
def test_other_exceptions_leave_as_they_are(raised: BaseException) -> None:
    with pytest.raises(type(raised)) as info, translate_errors(model_id="m"):
        raise raised
    assert info.value is raised
    assert info.value.__cause__ is None


def test_a_bedrock_kit_error_gets_the_call_context() -> None:
    with pytest.raises(errors.MalformedResponseError) as info:
        with translate_errors(model_id="m-1", region="eu-west-1"):
            raise errors.MalformedResponseError("bad")
    assert (info.value.model_id, info.value.region) == ("m-1", "eu-west-1")


def test_a_translated_error_keeps_the_original_as_cause() -> None:
    original = ReadTimeoutError(endpoint_url="https://x")
    with pytest.raises(errors.ModelTimeoutError) as info:
        with translate_errors(model_id="m-2", region="us-east-1"):
            raise original
    assert info.value.__cause__ is original
    assert (info.value.model_id, info.value.region) == ("m-2", "us-east-1")


def test_nothing_raised_nothing_changed() -> None:
    with translate_errors(model_id="m") as entered:
        value = 42
    assert entered is None and value == 42
