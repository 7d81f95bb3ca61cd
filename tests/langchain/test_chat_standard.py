"""LangChain's own standard test suites for chat models."""

from __future__ import annotations

import os

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from bedrock_kit.langchain import ChatBedrockKit


class TestChatBedrockKitUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatBedrockKit]:
        return ChatBedrockKit

    @property
    def chat_model_params(self) -> dict:
        return {
            "model": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "region_name": "us-east-1",
            "temperature": 0,
        }

    @property
    def init_from_env_params(self) -> tuple[dict, dict, dict]:
        return (
            {"AWS_REGION": "us-west-2"},
            {"model": "amazon.nova-micro-v1:0"},
            {},
        )

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @pytest.mark.xfail(
        reason=(
            "the suite reloads with load(allowed_objects='all'), which admits only the partner "
            "classes on langchain-core's own mapping; bedrock-kit's are admitted with "
            "additional_import_mappings=LOAD_MAPPINGS (round trips: test_serialization.py)"
        ),
        raises=ValueError,
        strict=True,
    )
    def test_serdes(self, model, snapshot) -> None:  # type: ignore[no-untyped-def]
        super().test_serdes(model, snapshot)


_LIVE = (
    bool(os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"))
    and os.environ.get("BEDROCK_KIT_LIVE") == "1"
)


@pytest.mark.live
@pytest.mark.skipif(
    not _LIVE, reason="live Bedrock tests need AWS credentials and BEDROCK_KIT_LIVE=1"
)
class TestChatBedrockKitIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatBedrockKit]:
        return ChatBedrockKit

    @property
    def chat_model_params(self) -> dict:
        return {
            "model": os.environ.get(
                "BEDROCK_KIT_LIVE_MODEL", "us.anthropic.claude-3-5-haiku-20241022-v1:0"
            ),
            "temperature": 0,
        }

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True
