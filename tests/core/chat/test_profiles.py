"""Application inference profile ARNs: the foundation model behind one, resolved once with
GetInferenceProfile (served by LocalBedrock on the bedrock control plane) or given as
``base_model_id``, then used for pricing, InvokeModel body codecs and CountTokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bedrock_kit.core.budget.pricing import normalise_model_id
from bedrock_kit.core.chat.invoke import codec_for
from bedrock_kit.core.chat.models import (
    base_model_id,
    is_application_profile,
    profile_base,
    remember_profile_base,
    supports_count_tokens,
)
from bedrock_kit.core.chat.profiles import InferenceProfiles, parse_inference_profile
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import AccessDeniedError, ConfigurationError, MalformedResponseError
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import inference_profile_reply

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _arn() -> str:
    # A fresh profile per test: the answer is recorded for the whole process.
    return (
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
        + uuid.uuid4().hex[:12]
    )


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        yield local


def _profiles(server: LocalBedrock) -> InferenceProfiles:
    return InferenceProfiles(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    )


def test_application_profile_arns_are_recognised():
    assert is_application_profile(_arn())
    assert not is_application_profile(HAIKU)
    assert not is_application_profile(
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3"
    )


def test_a_recorded_profile_reads_as_its_model_everywhere():
    arn = _arn()
    assert supports_count_tokens(arn) is False  # unknown yet: an ARN naming no model
    remember_profile_base(arn, HAIKU)
    assert profile_base(arn) == HAIKU
    assert base_model_id(arn) == HAIKU
    assert supports_count_tokens(arn) is True
    assert codec_for(arn).name == codec_for(HAIKU).name
    assert normalise_model_id(arn) == normalise_model_id(HAIKU)


def test_a_profile_cannot_be_recorded_with_two_models():
    arn = _arn()
    remember_profile_base(arn, HAIKU)
    remember_profile_base(arn, HAIKU)  # the same answer again is fine
    with pytest.raises(ConfigurationError, match="routes to"):
        remember_profile_base(arn, "amazon.nova-micro-v1:0")


def test_parse_takes_the_model_of_every_region():
    arn = _arn()
    body = inference_profile_reply(arn, HAIKU, regions=("us-east-1", "us-west-2"))
    assert parse_inference_profile(body, profile_arn=arn) == HAIKU


def test_parse_refuses_a_profile_of_several_models():
    arn = _arn()
    body = inference_profile_reply(arn, HAIKU)
    body["models"].append({"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/x.y-v1"})
    with pytest.raises(ConfigurationError, match="base_model_id"):
        parse_inference_profile(body, profile_arn=arn)


@pytest.mark.parametrize(
    "models", [[], None, [{"modelArn": "arn:aws:bedrock:us-east-1:1:custom-model/x"}], [{}]]
)
def test_parse_refuses_malformed_answers(models):
    arn = _arn()
    body = {**inference_profile_reply(arn, HAIKU), "models": models}
    with pytest.raises(MalformedResponseError):
        parse_inference_profile(body, profile_arn=arn)


def test_resolve_asks_once_and_remembers(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    profiles = _profiles(server)
    assert profiles.resolve(arn) == HAIKU
    assert profiles.resolve(arn) == HAIKU
    assert _profiles(server).resolve(arn) == HAIKU  # another object: still no new request
    asked = server.requests_for("GetInferenceProfile")
    assert len(asked) == 1
    assert asked[0].method == "GET"
    assert asked[0].path_params["inferenceProfileIdentifier"] == arn


async def test_aresolve_asks_once_over_the_async_client(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    profiles = _profiles(server)
    assert await profiles.aresolve(arn) == HAIKU
    assert await profiles.aresolve(arn) == HAIKU
    assert len(server.requests_for("GetInferenceProfile")) == 1
    assert profiles.pool._client is None  # the async path built no sync client
    await profiles.aclose()


def test_ids_that_are_not_application_profiles_need_no_request(server):
    assert _profiles(server).resolve(HAIKU) is None
    assert server.requests == []


def test_a_refused_lookup_is_the_typed_error_naming_the_profile(server):
    arn = _arn()
    server.script(
        "GetInferenceProfile", Reply.error(403, "AccessDeniedException", "not authorized")
    )
    with pytest.raises(AccessDeniedError) as caught:
        _profiles(server).resolve(arn)
    assert caught.value.model_id == arn
    assert profile_base(arn) is None
