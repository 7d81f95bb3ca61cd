"""bedrock-kit: Amazon Bedrock's managed features for LangChain and LlamaIndex.

The public core API is listed in ``__all__`` (pinned by a test); framework adapters live in
:mod:`bedrock_kit.langchain` and :mod:`bedrock_kit.llama_index`.
"""

from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.budget.ledger import Ledger, Limits, Reservation
from bedrock_kit.core.budget.pricing import PriceEntry, RetiredModelWarning, load_prices
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.core.budget.report import BudgetReport
from bedrock_kit.core.budget.summary import CostSummary, summarize
from bedrock_kit.core.budget.tags import tagged
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.types import (
    CachePointBlock,
    ConverseResult,
    DocumentBlock,
    GuardContentBlock,
    GuardrailConfig,
    ImageBlock,
    InferenceConfig,
    Message,
    ReasoningBlock,
    SystemTool,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from bedrock_kit.core.embeddings.runtime import EmbeddingOptions, EmbeddingResult
from bedrock_kit.core.guardrails.assessments import (
    GuardrailAssessment,
    GuardrailTrace,
    GuardrailUsage,
)
from bedrock_kit.core.knowledge_bases.requests import GenerationOptions
from bedrock_kit.core.knowledge_bases.results import Citation, GenerationResult
from bedrock_kit.core.knowledge_bases.sources import ExternalSource
from bedrock_kit.core.rerank.wire import RerankedDocument, RerankOptions, RerankResult
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockKitError,
    BudgetExceededError,
    GuardrailInterventionError,
    IncompleteStreamError,
    ThrottlingError,
)

__version__ = "0.1.0"

__all__ = [
    "BedrockBatchJob",
    "BedrockKitError",
    "BudgetExceededError",
    "BudgetReport",
    "CachePointBlock",
    "Citation",
    "ClientSettings",
    "ConverseResult",
    "ConverseRuntime",
    "CostSummary",
    "DocumentBlock",
    "EmbeddingOptions",
    "EmbeddingResult",
    "ExternalSource",
    "GenerationOptions",
    "GenerationResult",
    "GuardContentBlock",
    "GuardrailAssessment",
    "GuardrailConfig",
    "GuardrailInterventionError",
    "GuardrailTrace",
    "GuardrailUsage",
    "ImageBlock",
    "IncompleteStreamError",
    "InferenceConfig",
    "Ledger",
    "Limits",
    "Message",
    "PriceEntry",
    "RateLimiter",
    "ReasoningBlock",
    "RerankOptions",
    "RerankResult",
    "RerankedDocument",
    "Reservation",
    "RetiredModelWarning",
    "SystemTool",
    "TextBlock",
    "ThrottlingError",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "Usage",
    "__version__",
    "load_prices",
    "summarize",
    "tagged",
]
