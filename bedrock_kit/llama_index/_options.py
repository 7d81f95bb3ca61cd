"""Request members of BedrockKitLLM's calls: the kept frame of an LLM that adds none.

Mirrors :mod:`bedrock_kit.langchain._options`.
"""

from __future__ import annotations

from typing import Any, Protocol

from bedrock_kit.core.chat.converse import ConverseFrame, plain_frame
from bedrock_kit.core.chat.models import checked_model


class _Model(Protocol):
    """The fields of a BedrockKitLLM that its requests' members come from (read only)."""

    api: Any
    model: Any
    region_name: Any
    max_tokens: Any
    temperature: Any
    top_p: Any
    stop: Any
    additional_model_request_fields: Any
    additional_model_response_field_paths: Any
    guardrail_config: Any
    system_tools: Any
    performance_config: Any
    service_tier: Any
    request_metadata: Any
    prompt_variables: Any


def plain_frame_of(llm: _Model) -> ConverseFrame | None:
    """The kept frame of ``llm``'s Converse requests when it sets nothing but the model and
    its inference configuration (what ``build_request`` builds then, member for member),
    else None. Every field that would add a member is read here."""
    if (
        llm.api != "converse"
        or llm.additional_model_request_fields
        or llm.additional_model_response_field_paths
        or llm.guardrail_config is not None
        or llm.system_tools
        or llm.performance_config
        or llm.service_tier is not None
        or llm.request_metadata
        or llm.prompt_variables
    ):
        return None
    model = checked_model(llm.model, llm.region_name)
    return plain_frame(model, llm.max_tokens, llm.temperature, llm.top_p, tuple(llm.stop or ()))
