"""Bedrock Prompt Management prompts as LlamaIndex templates.

.. code-block:: python

    from bedrock_kit.llama_index.prompts import load_prompt

    prompt = load_prompt("PROMPT1234", version="3")
    llm = llm_for_prompt(prompt)
    llm.chat(prompt.format_messages(topic="tides"))
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate

from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.prompts.management import (
    Prompt,
    Role,
    afetch_prompt,
    fetch_prompt,
    model_arguments,
    prompt_metadata,
)
from bedrock_kit.core.prompts.publish import (
    PromptPart,
    PromptSpec,
    PublishedPrompt,
    apublish_spec,
    publish_spec,
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


# -- publishing: the reverse of load_prompt

_BEDROCK_ROLES: dict[MessageRole, Role] = {
    MessageRole.SYSTEM: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
}


def _template_problems(template: Any) -> list[str]:
    problems: list[str] = []
    if template.kwargs:
        problems.append(
            f"partial variables {sorted(template.kwargs)} (partial_format) have no Bedrock "
            "form: format them into the template, or pass them at call time"
        )
    if template.function_mappings:
        problems.append(
            f"function_mappings {sorted(template.function_mappings)} have no Bedrock form"
        )
    if template.template_var_mappings:
        problems.append(
            f"template_var_mappings {dict(template.template_var_mappings)} have no Bedrock "
            "form: rename the variables in the template"
        )
    if template.output_parser is not None:
        problems.append("an output_parser cannot be stored in a Bedrock prompt")
    return problems


def _chat_parts(template: ChatPromptTemplate, problems: list[str]) -> list[PromptPart]:
    parts: list[PromptPart] = []
    for index, message in enumerate(template.message_templates):
        role = _BEDROCK_ROLES.get(message.role)
        if role is None:
            problems.append(f"message {index}: role {message.role.value!r} has no Bedrock form")
            continue
        if any(not isinstance(block, TextBlock) for block in message.blocks):
            kinds = sorted({type(block).__name__ for block in message.blocks})
            problems.append(
                f"message {index}: content blocks {kinds} have no Bedrock form (text only)"
            )
            continue
        parts.append(PromptPart(role, message.content or "", "llama_index"))
    return parts


def to_prompt_spec(
    template: PromptTemplate | ChatPromptTemplate,
    name: str,
    *,
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    top_p: float | None = None,
    stop: list[str] | None = None,
    additional_model_request_fields: dict[str, Any] | None = None,
    description: str | None = None,
    variant: str = "default",
) -> PromptSpec:
    """The framework-neutral form of a LlamaIndex template (see :func:`publish_prompt`).

    Problems (partial variables, function or variable mappings, non-text blocks, other
    roles) are kept in ``problems``; publishing raises UnsupportedTemplateError naming
    them all.
    """
    kind: Literal["TEXT", "CHAT"]
    if isinstance(template, ChatPromptTemplate):
        problems = _template_problems(template)
        kind, parts = "CHAT", _chat_parts(template, problems)
    elif isinstance(template, PromptTemplate):
        problems = _template_problems(template)
        kind, parts = "TEXT", [PromptPart("user", template.template, "llama_index")]
    else:
        problems = [
            f"a {type(template).__name__} has no Bedrock form (PromptTemplate or "
            "ChatPromptTemplate only)"
        ]
        kind, parts = "TEXT", []
    metadata = getattr(template, "metadata", None) or {}
    inference = dict(metadata.get("inference") or {})
    given = {"temperature": temperature, "max_tokens": max_tokens, "top_p": top_p, "stop": stop}
    settings = {**inference, **{k: v for k, v in given.items() if v is not None}}
    return PromptSpec(
        name=name,
        template_type=kind,
        parts=tuple(parts),
        input_variables=tuple(getattr(template, "template_vars", None) or ()),
        model_id=model or metadata.get("model_id"),
        inference=InferenceConfig(
            max_tokens=settings.get("max_tokens"),
            temperature=settings.get("temperature"),
            top_p=settings.get("top_p"),
            stop_sequences=tuple(settings.get("stop") or settings.get("stop_sequences") or ()),
        ),
        additional_model_request_fields=dict(
            additional_model_request_fields or metadata.get("additional_model_request_fields") or {}
        ),
        description=description,
        variant_name=variant,
        problems=tuple(problems),
    )


_SPEC_ARGS = frozenset(
    {
        "model",
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "additional_model_request_fields",
        "description",
        "variant",
    }
)


def _split(arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = {k: arguments.pop(k) for k in list(arguments) if k in _SPEC_ARGS}
    return spec, arguments


def publish_prompt(
    template: PromptTemplate | ChatPromptTemplate,
    name: str,
    prompt_id: str | None = None,
    **arguments: Any,
) -> PublishedPrompt:
    """Publish a LlamaIndex template to Bedrock Prompt Management, versioned.

    Creates the prompt (or updates its DRAFT when the template changed), then creates a
    version; re-publishing an unchanged template creates none and returns the latest
    version. ``{var}`` of the template's variables becomes ``{{var}}``; other braces stay
    literal, as LlamaIndex's formatter leaves them. A template from :func:`load_prompt`
    keeps its model and inference settings.

    Args:
        template: A ``PromptTemplate`` (TEXT) or ``ChatPromptTemplate`` (CHAT).
        name: Prompt name; finds the prompt to update when ``prompt_id`` is None.
        prompt_id: The prompt to update.
        **arguments: ``model``, ``temperature``, ``max_tokens``, ``top_p``, ``stop``,
            ``additional_model_request_fields``, ``description``, ``variant``, and the
            client arguments (``region_name``, ``endpoint_url``, ``aws_*``,
            ``client`` / ``async_client`` for ``bedrock-agent``).

    Raises:
        UnsupportedTemplateError: The template cannot be represented; nothing was sent.
    """
    spec_args, client_args = _split(dict(arguments))
    return publish_spec(to_prompt_spec(template, name, **spec_args), prompt_id, **client_args)


async def apublish_prompt(
    template: PromptTemplate | ChatPromptTemplate,
    name: str,
    prompt_id: str | None = None,
    **arguments: Any,
) -> PublishedPrompt:
    """Async :func:`publish_prompt` over aiobotocore."""
    spec_args, client_args = _split(dict(arguments))
    spec = to_prompt_spec(template, name, **spec_args)
    return await apublish_spec(spec, prompt_id, **client_args)
