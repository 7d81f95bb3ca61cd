"""bedrock-kit: Amazon Bedrock's managed features for LangChain and LlamaIndex.

The public core API is listed in ``__all__`` (pinned by a test); framework adapters live in
:mod:`bedrock_kit.langchain` and :mod:`bedrock_kit.llama_index`.

Names are loaded on first use (PEP 562), so ``import bedrock_kit`` costs almost nothing and
``from bedrock_kit import Ledger`` imports only what ``Ledger`` needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bedrock_kit.core.batch.job import BedrockBatchJob
    from bedrock_kit.core.budget.ledger import Ledger, Limits, Reservation
    from bedrock_kit.core.budget.pricing import PriceEntry, RetiredModelWarning, load_prices
    from bedrock_kit.core.budget.rate_limit import RateLimiter
    from bedrock_kit.core.budget.recurring import (
        Forecast,
        RecurringCharge,
        RecurringCharges,
        recurring_charges,
    )
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

_EXPORTS: dict[str, str] = {
    "BedrockBatchJob": "bedrock_kit.core.batch.job",
    "BedrockKitError": "bedrock_kit.errors",
    "BudgetExceededError": "bedrock_kit.errors",
    "BudgetReport": "bedrock_kit.core.budget.report",
    "CachePointBlock": "bedrock_kit.core.chat.types",
    "Citation": "bedrock_kit.core.knowledge_bases.results",
    "ClientSettings": "bedrock_kit.core.transport.clients",
    "ConverseResult": "bedrock_kit.core.chat.types",
    "ConverseRuntime": "bedrock_kit.core.chat.runtime",
    "CostSummary": "bedrock_kit.core.budget.summary",
    "DocumentBlock": "bedrock_kit.core.chat.types",
    "EmbeddingOptions": "bedrock_kit.core.embeddings.runtime",
    "EmbeddingResult": "bedrock_kit.core.embeddings.runtime",
    "ExternalSource": "bedrock_kit.core.knowledge_bases.sources",
    "Forecast": "bedrock_kit.core.budget.recurring",
    "GenerationOptions": "bedrock_kit.core.knowledge_bases.requests",
    "GenerationResult": "bedrock_kit.core.knowledge_bases.results",
    "GuardContentBlock": "bedrock_kit.core.chat.types",
    "GuardrailAssessment": "bedrock_kit.core.guardrails.assessments",
    "GuardrailConfig": "bedrock_kit.core.chat.types",
    "GuardrailInterventionError": "bedrock_kit.errors",
    "GuardrailTrace": "bedrock_kit.core.guardrails.assessments",
    "GuardrailUsage": "bedrock_kit.core.guardrails.assessments",
    "ImageBlock": "bedrock_kit.core.chat.types",
    "IncompleteStreamError": "bedrock_kit.errors",
    "InferenceConfig": "bedrock_kit.core.chat.types",
    "Ledger": "bedrock_kit.core.budget.ledger",
    "Limits": "bedrock_kit.core.budget.ledger",
    "Message": "bedrock_kit.core.chat.types",
    "PriceEntry": "bedrock_kit.core.budget.pricing",
    "RateLimiter": "bedrock_kit.core.budget.rate_limit",
    "ReasoningBlock": "bedrock_kit.core.chat.types",
    "RecurringCharge": "bedrock_kit.core.budget.recurring",
    "RecurringCharges": "bedrock_kit.core.budget.recurring",
    "RerankOptions": "bedrock_kit.core.rerank.wire",
    "RerankResult": "bedrock_kit.core.rerank.wire",
    "RerankedDocument": "bedrock_kit.core.rerank.wire",
    "Reservation": "bedrock_kit.core.budget.ledger",
    "RetiredModelWarning": "bedrock_kit.core.budget.pricing",
    "SystemTool": "bedrock_kit.core.chat.types",
    "TextBlock": "bedrock_kit.core.chat.types",
    "ThrottlingError": "bedrock_kit.errors",
    "ToolResultBlock": "bedrock_kit.core.chat.types",
    "ToolSpec": "bedrock_kit.core.chat.types",
    "ToolUseBlock": "bedrock_kit.core.chat.types",
    "Usage": "bedrock_kit.core.chat.types",
    "load_prices": "bedrock_kit.core.budget.pricing",
    "recurring_charges": "bedrock_kit.core.budget.recurring",
    "summarize": "bedrock_kit.core.budget.summary",
    "tagged": "bedrock_kit.core.budget.tags",
}
"""Where each public name is defined (imported by :func:`__getattr__` on first use)."""

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
    "Forecast",
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
    "RecurringCharge",
    "RecurringCharges",
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
    "recurring_charges",
    "summarize",
    "tagged",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bedrock_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
