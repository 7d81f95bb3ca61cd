"""BedrockKitLLM.metadata (read by llama-index on every call) is built from one validated
sample and is the validated LLMMetadata: equal, same dump, same fields set."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import LLMMetadata

from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.llama_index import chat as li_chat

KEYS = {"aws_access_key_id": "AKIDMETADATA", "aws_secret_access_key": "s" * 40}


@pytest.mark.parametrize(
    "settings",
    [
        {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0"},
        {"model": "amazon.nova-pro-v1:0", "max_tokens": 512},
        {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "context_window": 1000},
        {
            "model": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc1",
            "base_model_id": "anthropic.claude-haiku-4-5-20251001-v1:0",
        },
    ],
)
def test_metadata_is_the_validated_one(settings, monkeypatch):
    llm = BedrockKitLLM(region_name="us-east-1", **KEYS, **settings)
    assert li_chat._METADATA is not None
    fast = llm.metadata
    monkeypatch.setattr(li_chat, "_METADATA", None)
    slow = llm.metadata
    assert type(fast) is LLMMetadata
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert llm.metadata is not slow  # a new object each read


def test_each_read_is_a_new_object():
    llm = BedrockKitLLM(model="amazon.nova-pro-v1:0", region_name="us-east-1", **KEYS)
    first = llm.metadata
    first.context_window = 1
    assert llm.metadata.context_window != 1
