"""LangChain adapters for bedrock-kit (``pip install 'bedrock-bridge[langchain]'``)."""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "bedrock_kit.langchain needs langchain-core: pip install 'bedrock-bridge[langchain]'"
    ) from exc

from bedrock_kit.langchain._serial import load_mappings
from bedrock_kit.langchain.agents import BedrockAgentRunnable, BedrockAgentTool
from bedrock_kit.langchain.batch import BedrockBatchRunnable
from bedrock_kit.langchain.budget import TokenBudgetCallbackHandler, token_budget
from bedrock_kit.langchain.chat import ChatBedrockKit
from bedrock_kit.langchain.deployment import (
    adelete_agent,
    adeploy_agent,
    delete_agent,
    deploy_agent,
)
from bedrock_kit.langchain.embeddings import BedrockKitEmbeddings
from bedrock_kit.langchain.flows import BedrockFlowRunnable
from bedrock_kit.langchain.guardrails import (
    BedrockGroundingCheck,
    BedrockGuardrail,
    BedrockStreamGuard,
)
from bedrock_kit.langchain.ingestion import BedrockKnowledgeBase
from bedrock_kit.langchain.knowledge_bases import (
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
)
from bedrock_kit.langchain.prompts import (
    aload_prompt,
    apublish_prompt,
    chat_model_for_prompt,
    load_prompt,
    publish_prompt,
)
from bedrock_kit.langchain.rate_limit import BedrockRateLimiter
from bedrock_kit.langchain.rerank import BedrockRerank
from bedrock_kit.langchain.tools import (
    action_group_lambda_handler,
    to_tool_spec,
    tools_to_action_group,
)

LOAD_MAPPINGS = load_mappings(
    ChatBedrockKit,
    BedrockGuardrail,
    BedrockStreamGuard,
    BedrockGroundingCheck,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
    BedrockAgentRunnable,
    BedrockFlowRunnable,
)
"""``loads(..., additional_import_mappings=LOAD_MAPPINGS, valid_namespaces=["bedrock_kit"])``
admits bedrock-kit's serializable runnables (and nothing else of bedrock-kit)."""

__all__ = [
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
]
