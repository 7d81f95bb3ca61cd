"""The adapters' and the testing package's public names, pinned (the core's: test_architecture).

A name users import from ``bedrock_kit.langchain``, ``bedrock_kit.llama_index`` or
``bedrock_kit.testing`` stays there: adding one is a deliberate change to this file, removing
one is a breaking change to announce in the CHANGELOG.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API = {
    "bedrock_kit.langchain": {
        "LOAD_MAPPINGS",
        "BedrockAgentRunnable",
        "BedrockAgentTool",
        "BedrockBatchRunnable",
        "BedrockFlowRunnable",
        "BedrockGroundingCheck",
        "BedrockGuardrail",
        "BedrockKitEmbeddings",
        "BedrockKnowledgeBase",
        "BedrockKnowledgeBaseRetriever",
        "BedrockRateLimiter",
        "BedrockRerank",
        "BedrockRetrieveAndGenerate",
        "BedrockStreamGuard",
        "ChatBedrockKit",
        "TokenBudgetCallbackHandler",
        "action_group_lambda_handler",
        "adelete_agent",
        "adeploy_agent",
        "aload_prompt",
        "apublish_prompt",
        "chat_model_for_prompt",
        "delete_agent",
        "deploy_agent",
        "load_prompt",
        "publish_prompt",
        "to_tool_spec",
        "token_budget",
        "tools_to_action_group",
    },
    "bedrock_kit.llama_index": {
        "BedrockAgentQueryEngine",
        "BedrockBatchLLM",
        "BedrockFlow",
        "BedrockFlowWorkflow",
        "BedrockGuardrail",
        "BedrockGuardrailNodePostprocessor",
        "BedrockKitEmbedding",
        "BedrockKitLLM",
        "BedrockKnowledgeBaseIndex",
        "BedrockKnowledgeBaseRetriever",
        "BedrockKnowledgeBaseWriter",
        "BedrockRateLimiter",
        "BedrockRerank",
        "BedrockRetrieveAndGenerateQueryEngine",
        "BudgetEventHandler",
        "FlowQuestionEvent",
        "FlowStreamEvent",
        "GuardedQueryEngine",
        "TokenBudgetHandler",
        "ToolCallMissingError",
        "action_group_lambda_handler",
        "adelete_agent",
        "adeploy_agent",
        "aload_prompt",
        "delete_agent",
        "deploy_agent",
        "apublish_prompt",
        "llm_for_prompt",
        "load_prompt",
        "publish_prompt",
        "to_tool_spec",
        "tools_to_action_group",
    },
    "bedrock_kit.testing": {
        "BilledUsage",
        "ScriptedModel",
        "JobScript",
        "LocalBatchJobs",
        "LocalBedrock",
        "LocalControlPlane",
        "ReceivedRequest",
        "Reply",
        "ReplySource",
        "build_frames",
        "build_usage",
        "converse_reply",
        "converse_stream_events",
        "invoke_agent_events",
        "tool_use",
    },
}


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_public_api_is_pinned(package: str) -> None:
    exported = importlib.import_module(package).__all__
    assert len(exported) == len(set(exported)), f"{package}.__all__ repeats a name"
    assert set(exported) == PUBLIC_API[package]


@pytest.mark.parametrize(
    ("package", "name"),
    sorted((package, name) for package, names in PUBLIC_API.items() for name in names),
)
def test_every_public_name_is_importable(package: str, name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import {name}", namespace)
    assert namespace[name] is getattr(importlib.import_module(package), name)
