"""Bedrock Prompt Management prompts as LlamaIndex templates.

.. code-block:: python

    from bedrock_kit.llama_index.prompts import load_prompt

    prompt = load_prompt("PROMPT1234", version="3")
    llm = llm_for_prompt(prompt)
    llm.chat(prompt.format_messages(topic="tides"))
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate

from bedrock_kit.core.prompts.management import (
    Prompt,
    afetch_prompt,
    fetch_prompt,
    model_arguments,
    prompt_metadata,
)
from bedrock_kit.llama_index.chat import BedrockKitLLM

# Core roles -> LlamaIndex roles.
_ROLES = {
    "system": MessageRole.SYSTEM,
    "user": MessageRole.USER,
    "assistant": MessageRole.ASSISTANT,
}


def to_template(prompt: Prompt, variant: str | None = None) -> PromptTemplate | ChatPromptTemplate:
    """A LlamaIndex template for one variant of a loaded prompt.

    TEXT variants become a :class:`PromptTemplate`, CHAT variants a
    :class:`ChatPromptTemplate` (system blocks first). Bedrock's ``{{var}}`` becomes
    ``{var}``; literal braces stay as they are, since LlamaIndex's formatter only replaces
    ``{name}`` of the variables it is given. ``metadata`` carries the prompt's id, version,
    variant, model id and inference configuration.

    Raises:
        ConfigurationError: No such variant, or literal text that LlamaIndex would read as
            a variable.
    """
    chosen = prompt.variant(variant)
    metadata = prompt_metadata(prompt, chosen)
    pairs = chosen.format_strings(escape_braces=False)
    template: PromptTemplate | ChatPromptTemplate
    if chosen.template_type == "TEXT":
        ((_, text),) = pairs
        template = PromptTemplate(text, metadata=metadata)
    else:
        messages = [ChatMessage(role=_ROLES[role], content=text) for role, text in pairs]
        template = ChatPromptTemplate(messages, metadata=metadata)
    # LlamaIndex guesses variables from single braces: it would list literal text such as
    # "{{x}}" of an undeclared name and miss hyphenated names. The prompt declares them.
    template.template_vars = list(chosen.input_variables)
    return template


def load_prompt(
    prompt_id: str,
    version: str | int | None = None,
    variant: str | None = None,
    **client_args: Any,
) -> PromptTemplate | ChatPromptTemplate:
    """Load a managed prompt (GetPrompt) as a LlamaIndex template.

    Args:
        prompt_id: Prompt id or ARN.
        version: Version number; None loads the DRAFT.
        variant: Variant name; None takes the prompt's default variant.
        **client_args: ``region_name``, ``endpoint_url``, ``credentials_profile_name``,
            ``aws_*``, ``max_retries``, ``timeout``, ``client`` / ``async_client``
            (``bedrock-agent`` clients).
    """
    return to_template(fetch_prompt(prompt_id, version, **client_args), variant)


async def aload_prompt(
    prompt_id: str,
    version: str | int | None = None,
    variant: str | None = None,
    **client_args: Any,
) -> PromptTemplate | ChatPromptTemplate:
    """Async :func:`load_prompt` over aiobotocore."""
    return to_template(await afetch_prompt(prompt_id, version, **client_args), variant)


def llm_for_prompt(
    prompt: PromptTemplate | ChatPromptTemplate, **client_args: Any
) -> BedrockKitLLM:
    """A :class:`BedrockKitLLM` configured with a loaded prompt's model and inference settings.

    Args:
        prompt: A template from :func:`load_prompt`.
        **client_args: Any BedrockKitLLM argument; these win over the prompt's settings
            (``model=...`` picks another model).

    Raises:
        ConfigurationError: The prompt names no model and ``model`` was not given.
    """
    return BedrockKitLLM(**model_arguments(prompt.metadata, client_args))
