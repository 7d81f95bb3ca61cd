"""to_dict / from_dict (and to_json / from_json) of bedrock-kit's LlamaIndex components:
configuration round-trips, credentials are never in the output."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from bedrock_kit.llama_index import (
    BedrockGuardrail,
    BedrockGuardrailNodePostprocessor,
    BedrockKitEmbedding,
    BedrockKitLLM,
)
from bedrock_kit.testing import LocalBedrock, ScriptedModel

SECRETS = {
    "aws_access_key_id": "AKIAEXAMPLESECRET01",
    "aws_secret_access_key": "very-secret-access-key-000",
    "aws_session_token": "session-token-secret-000",
}
CLIENT = {"region_name": "us-west-2", "max_retries": 3, "timeout": 12.5}


def _guardrail() -> BedrockGuardrail:
    return BedrockGuardrail(guardrail_id="gr-1", guardrail_version="2", **CLIENT, **SECRETS)


COMPONENTS = {
    "llm": lambda: BedrockKitLLM(
        model="us.anthropic.claude-sonnet-4-20250514-v1:0",
        temperature=0.2,
        max_tokens=300,
        guardrail_config={"guardrailIdentifier": "gr-1", "guardrailVersion": "2"},
        additional_model_request_fields={"top_k": 5},
        **CLIENT,
        **SECRETS,
    ),
    "embedding": lambda: BedrockKitEmbedding(
        model="amazon.titan-embed-text-v2:0", dimensions=256, **CLIENT, **SECRETS
    ),
    "node-postprocessor": lambda: BedrockGuardrailNodePostprocessor(
        guardrail=_guardrail(), on_block="drop"
    ),
}


def _no_secrets(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


def _config(component: Any) -> dict[str, Any]:
    data = component.to_dict()
    data.pop("class_name")
    return data


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_to_dict_from_dict_round_trips_without_credentials(name):
    component = COMPONENTS[name]()
    data = component.to_dict()
    _no_secrets(json.dumps(data, default=str))
    assert data["class_name"] == component.class_name()
    back = type(component).from_dict(data)
    assert _config(back) == _config(component)
    again = type(component).from_json(component.to_json())
    assert _config(again) == _config(component)
    _no_secrets(component.to_json())
    _no_secrets(str(pickle.dumps(component)))


def test_a_reloaded_llm_answers_like_the_original():
    with LocalBedrock() as server:
        ScriptedModel().install(server)
        llm = BedrockKitLLM(
            model="us.anthropic.claude-sonnet-4-20250514-v1:0",
            endpoint_url=server.endpoint_url,
            **CLIENT,
        )
        back = BedrockKitLLM.from_dict(llm.to_dict())
        assert back.complete("ping").text == llm.complete("ping").text == "echo: ping"
