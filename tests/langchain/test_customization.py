"""LangChain message lists -> Bedrock training records."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from bedrock_kit.core.customization.data import validate_records
from bedrock_kit.core.customization.profiles import find_profile
from bedrock_kit.errors import ConfigurationError, TrainingDataError
from bedrock_kit.langchain.customization import to_conversation, training_records

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def test_conversation_records_for_a_conversational_model():
    records = training_records(
        [[SystemMessage("Label it."), HumanMessage("charged twice"), AIMessage("billing")]], HAIKU
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
    records = training_records(
        [[HumanMessage("charged twice"), AIMessage("billing")]], "amazon.titan-text-lite-v1"
    )
    assert records == [{"prompt": "charged twice", "completion": "billing"}]


def test_bad_turn_order_caught_by_the_validator():
    profile = find_profile(HAIKU).with_limits(min_records=1)
    records = training_records([[HumanMessage("a"), HumanMessage("b")]], HAIKU)
    with pytest.raises(TrainingDataError, match="line 1: turns 1 and 2 are both 'user'"):
        validate_records(records, profile)


def test_tool_calls_are_not_training_text():
    message = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "t1"}])
    with pytest.raises(ConfigurationError, match="ToolUseBlock content is not text"):
        training_records([[HumanMessage("a"), message]], HAIKU)
    assert to_conversation([HumanMessage("a"), AIMessage("b")]).system is None


def test_chat_model_from_a_provisioned_throughput():
    from bedrock_kit.core.customization.serving import ServingStatus
    from bedrock_kit.langchain.chat import ChatBedrockKit

    state = ServingStatus(
        arn="arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt1",
        name="pt",
        status="InService",
        model_arn=None,
        base_model_id="amazon.titan-text-express-v1:0:8k",
    )
    llm = ChatBedrockKit.from_custom_model(state, region_name="us-east-1", temperature=0.1)
    assert llm.model_id == state.arn and llm.temperature == 0.1
    assert llm.metadata == {"bedrock_base_model_id": "amazon.titan-text-express-v1:0:8k"}
