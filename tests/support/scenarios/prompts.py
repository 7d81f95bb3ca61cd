"""Prompt Management scenarios: one managed prompt with a TEXT and a CHAT variant."""

from __future__ import annotations

from typing import Any

PROMPT_ID = "PRMT123456"

TEXT_VARIANT: dict[str, Any] = {
    "name": "text",
    "templateType": "TEXT",
    "templateConfiguration": {
        "text": {
            # JSON braces and an undeclared {{literal}} stay literal text in both frameworks.
            "text": 'Reply as {"topic": "{{topic}}"} about {{topic}}; keep {{literal}}.',
            "inputVariables": [{"name": "topic"}],
        }
    },
    "modelId": "amazon.nova-lite-v1:0",
    "inferenceConfiguration": {"text": {"temperature": 0.2, "maxTokens": 300}},
}

CHAT_VARIANT: dict[str, Any] = {
    "name": "chat",
    "templateType": "CHAT",
    "templateConfiguration": {
        "chat": {
            "system": [{"text": "Be terse about {{topic}}. Sets look like {}."}],
            "messages": [
                {"role": "user", "content": [{"text": "Hi"}]},
                {"role": "assistant", "content": [{"text": "Hello {there}"}]},
                {"role": "user", "content": [{"text": "Explain {{topic}} in {{words}} words"}]},
            ],
            "inputVariables": [{"name": "topic"}, {"name": "words"}],
        }
    },
    "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "inferenceConfiguration": {"text": {"topP": 0.5, "maxTokens": 64}},
}

CHAT_VARIANT_TUNED: dict[str, Any] = {
    **CHAT_VARIANT,
    "inferenceConfiguration": {"text": {"topP": 0.5, "stopSequences": ["END"], "maxTokens": 64}},
    "additionalModelRequestFields": {"top_k": 5},
}
""":data:`CHAT_VARIANT` with stop sequences and model-specific request fields."""


def prompt_body(
    default: str = "chat",
    version: str = "DRAFT",
    variants: tuple[dict[str, Any], ...] = (TEXT_VARIANT, CHAT_VARIANT),
) -> dict[str, Any]:
    """A GetPrompt response for :data:`PROMPT_ID` at ``version``."""
    arn = f"arn:aws:bedrock:us-east-1:123456789012:prompt/{PROMPT_ID}"
    return {
        "id": PROMPT_ID,
        "arn": arn if version == "DRAFT" else f"{arn}:{version}",
        "version": version,
        "name": "explainer",
        "defaultVariant": default,
        "variants": list(variants),
    }
