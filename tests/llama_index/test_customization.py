"""LlamaIndex ChatMessage lists -> Bedrock training records."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from bedrock_kit.core.customization.data import validate_records
from bedrock_kit.core.customization.profiles import find_profile
from bedrock_kit.errors import ConfigurationError, TrainingDataError
from bedrock_kit.llama_index.customization import to_conversation, training_records


def U(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def A(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def test_conversation_records_for_a_conversational_model():
    records = training_records(
        [[ChatMessage(role="system", content="Label it."), U("charged twice"), A("billing")]], HAIKU
    )
    assert records == [
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "Label it."}],
            "messages": [
                {"role": "user", "content": [{"text": "charged twice"}]},
                {"role": "assistant", "content": [{"text": "billing"}]},
            ],
        }
    ]


def test_prompt_completion_records_for_titan():
    records = training_records([[U("charged twice"), A("billing")]], "amazon.titan-text-lite-v1")
    assert records == [{"prompt": "charged twice", "completion": "billing"}]


def test_bad_turn_order_caught_by_the_validator():
    profile = find_profile(HAIKU).with_limits(min_records=1)
    records = training_records([[U("a"), U("b")]], HAIKU)
    with pytest.raises(TrainingDataError, match="line 1: turns 1 and 2 are both 'user'"):
        validate_records(records, profile)


def test_tool_calls_are_not_training_text():
    message = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[ToolCallBlock(tool_call_id="t1", tool_name="f", tool_kwargs={})],
    )
    with pytest.raises(ConfigurationError, match="ToolUseBlock content is not text"):
        training_records([[U("a"), message]], HAIKU)
    assert to_conversation([U("a"), A("b")]).system is None


def test_llm_from_a_custom_model_takes_the_base_context_window():
    from bedrock_kit.core.customization.wire import CustomModel
    from bedrock_kit.llama_index.chat import BedrockKitLLM, context_window_of

    base = "anthropic.claude-3-haiku-20240307-v1:0"
    model = CustomModel(
        arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/x", name="x", base_model_id=base
    )
    llm = BedrockKitLLM.from_custom_model(model, region_name="us-east-1")
    assert llm.model == model.arn
    assert llm.metadata.context_window == context_window_of(base)
    override = BedrockKitLLM.from_custom_model(model, region_name="us-east-1", context_window=99)
    assert override.metadata.context_window == 99
