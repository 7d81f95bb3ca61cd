"""ChatBedrockKit on an application inference profile ARN: the base model is resolved once
with GetInferenceProfile when a call needs it (ledger pricing, InvokeModel body codec), or
given as ``base_model_id`` (no request)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage

from bedrock_kit import Ledger
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import inference_profile_reply

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _arn() -> str:
    return (
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
        + uuid.uuid4().hex[:12]
    )


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _model(server: LocalBedrock, model: str, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=model, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def test_a_ledger_call_resolves_the_profile_once_and_prices_it(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    ledger = Ledger()
    llm = _model(server, arn, ledger=ledger)
    llm.invoke("hi")
    llm.invoke("again")
    operations = [r.operation for r in server.requests]
    assert operations.count("GetInferenceProfile") == 1
    assert operations[0] == "GetInferenceProfile"
    counted = server.requests_for("CountTokens")
    assert counted and counted[0].path_params["modelId"] == HAIKU  # the foundation model
    assert server.requests_for("Converse")[0].path_params["modelId"] == arn
    assert ledger.spent() > 0  # priced as the base model, not an unknown ARN


async def test_the_async_path_resolves_over_the_async_client(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    llm = _model(server, arn, ledger=Ledger())
    chunks = [c async for c in llm.astream("hi")]
    assert chunks
    assert len(server.requests_for("GetInferenceProfile")) == 1
    assert llm.profiles.pool._client is None
    await llm.aclose()


def test_base_model_id_needs_no_request(server):
    arn = _arn()
    llm = _model(server, arn, base_model_id=HAIKU, ledger=Ledger())
    llm.invoke("hi")
    assert server.requests_for("GetInferenceProfile") == []
    assert llm.invoke("hi").response_metadata["model_name"] == HAIKU


def test_invoke_model_body_codec_follows_the_resolved_base_model(server):
    arn = _arn()
    llm = _model(server, arn, base_model_id=HAIKU, api="invoke", max_tokens=10)
    body = llm.build_request([HumanMessage("hi")])["body"]
    assert b"anthropic_version" in body  # the Anthropic Messages body, chosen by the base


def test_a_plain_converse_call_asks_nothing(server):
    arn = _arn()
    _model(server, arn).invoke("hi")
    assert server.requests_for("GetInferenceProfile") == []
