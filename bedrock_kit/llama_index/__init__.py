"""LlamaIndex adapter: ``BedrockKitLLM`` on bedrock-kit's framework-neutral core.

Needs the ``llama-index`` extra: ``pip install 'bedrock-bridge[llama-index]'``.
"""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "bedrock_kit.llama_index needs llama-index-core: pip install 'bedrock-bridge[llama-index]'"
    ) from exc

from bedrock_kit.llama_index._tools import ToolCallMissingError
from bedrock_kit.llama_index.agents import BedrockAgentQueryEngine
from bedrock_kit.llama_index.batch import BedrockBatchLLM
from bedrock_kit.llama_index.budget import BudgetEventHandler, TokenBudgetHandler
from bedrock_kit.llama_index.chat import BedrockKitLLM
from bedrock_kit.llama_index.deployment import (
    adelete_agent,
    adeploy_agent,
    delete_agent,
    deploy_agent,
)
from bedrock_kit.llama_index.embeddings import BedrockKitEmbedding
from bedrock_kit.llama_index.flows import (
    BedrockFlow,
    BedrockFlowWorkflow,
    FlowQuestionEvent,
    FlowStreamEvent,
)
from bedrock_kit.llama_index.guardrails import (
    BedrockGuardrail,
    BedrockGuardrailNodePostprocessor,
    GuardedQueryEngine,
)
from bedrock_kit.llama_index.ingestion import BedrockKnowledgeBaseIndex, BedrockKnowledgeBaseWriter
from bedrock_kit.llama_index.knowledge_bases import (
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerateQueryEngine,
)
from bedrock_kit.llama_index.prompts import (
    aload_prompt,
    apublish_prompt,
    llm_for_prompt,
    load_prompt,
    publish_prompt,
)
from bedrock_kit.llama_index.rate_limit import BedrockRateLimiter
from bedrock_kit.llama_index.rerank import BedrockRerank
from bedrock_kit.llama_index.tools import (
    action_group_lambda_handler,
    to_tool_spec,
    tools_to_action_group,
)

__all__ = [
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
    "apublish_prompt",
    "delete_agent",
    "deploy_agent",
    "llm_for_prompt",
    "load_prompt",
    "publish_prompt",
    "to_tool_spec",
    "tools_to_action_group",
]
