"""BedrockKitLLM on an application inference profile ARN: the base model is resolved once
with GetInferenceProfile when a call needs it (ledger pricing, InvokeModel body codec), or
given as ``base_model_id`` (no request)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage

from bedrock_kit import Ledger
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import inference_profile_reply

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
HI = [ChatMessage(role="user", content="hi")]


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


def _llm(server: LocalBedrock, model: str, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=model, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def test_a_ledger_call_resolves_the_profile_once(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    ledger = Ledger()
    llm = _llm(server, arn, ledger=ledger)
    llm.chat(HI)
    list(llm.stream_chat(HI))
    assert len(server.requests_for("GetInferenceProfile")) == 1
    assert server.requests_for("CountTokens")[0].path_params["modelId"] == HAIKU
    assert ledger.spent() > 0
    assert llm.metadata.context_window == 200_000  # the Claude window, from the base model


async def test_the_async_path_resolves_over_the_async_client(server):
    arn = _arn()
    server.script("GetInferenceProfile", Reply.json(inference_profile_reply(arn, HAIKU)))
    llm = _llm(server, arn, ledger=Ledger())
    await llm.achat(HI)
    assert len(server.requests_for("GetInferenceProfile")) == 1
    assert llm.profiles.pool._client is None
    await llm.aclose()


def test_base_model_id_needs_no_request(server):
    arn = _arn()
    _llm(server, arn, base_model_id=HAIKU, ledger=Ledger()).chat(HI)
    assert server.requests_for("GetInferenceProfile") == []


def test_invoke_model_body_codec_follows_the_base_model(server):
    arn = _arn()
    llm = _llm(server, arn, base_model_id=HAIKU, api="invoke", max_tokens=10)
    assert b"anthropic_version" in llm.build_request(HI)["body"]
