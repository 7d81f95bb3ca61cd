"""Bedrock Prompt Management prompts as LangChain templates, and a chat model to run them.

.. code-block:: python

    from bedrock_kit.langchain.prompts import chat_model_for_prompt, load_prompt

    prompt = load_prompt("PROMPT1234", version="3")
    chain = prompt | chat_model_for_prompt(prompt)
    chain.invoke({"topic": "tides"})
"""

from __future__ import annotations

from typing import Any

from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate

from bedrock_kit.core.prompts.management import (
    Prompt,
    PromptVariant,
    afetch_prompt,
    fetch_prompt,
    model_arguments,
    prompt_metadata,
)
from bedrock_kit.langchain.chat import ChatBedrockKit

# Core roles -> LangChain message-tuple roles.
_ROLES = {"system": "system", "user": "human", "assistant": "ai"}


def to_template(prompt: Prompt, variant: str | None = None) -> PromptTemplate | ChatPromptTemplate:
    """A LangChain template for one variant of a loaded prompt.

    TEXT variants become a :class:`PromptTemplate`, CHAT variants a
    :class:`ChatPromptTemplate` (system blocks first). Bedrock's ``{{var}}`` becomes
    ``{var}``; literal braces are escaped. ``metadata`` carries the prompt's id, version,
    variant, model id and inference configuration.

    Raises:
        ConfigurationError: No such variant.
    """
    chosen: PromptVariant = prompt.variant(variant)
    metadata = prompt_metadata(prompt, chosen)
    names = list(chosen.input_variables)
    pairs = chosen.format_strings()
    if chosen.template_type == "TEXT":
        ((_, text),) = pairs
        return PromptTemplate(template=text, input_variables=names, metadata=metadata)
    return ChatPromptTemplate(
        [(_ROLES[role], text) for role, text in pairs],
        input_variables=names,
        metadata=metadata,
    )


def load_prompt(
    prompt_id: str,
    version: str | int | None = None,
    variant: str | None = None,
    **client_args: Any,
) -> PromptTemplate | ChatPromptTemplate:
    """Load a managed prompt (GetPrompt) as a LangChain template.

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


def chat_model_for_prompt(prompt: BasePromptTemplate[Any], **client_args: Any) -> ChatBedrockKit:
    """A :class:`ChatBedrockKit` configured with a loaded prompt's model and inference settings.

    Args:
        prompt: A template from :func:`load_prompt`.
        **client_args: Any ChatBedrockKit argument; these win over the prompt's settings
            (``model=...`` picks another model).

    Raises:
        ConfigurationError: The prompt names no model and ``model`` was not given.
    """
    return ChatBedrockKit(**model_arguments(prompt.metadata or {}, client_args))
