"""Bedrock Prompt Management prompts as LangChain templates, and a chat model to run them.

.. code-block:: python

    from bedrock_kit.langchain.prompts import chat_model_for_prompt, load_prompt

    prompt = load_prompt("PROMPT1234", version="3")
    chain = prompt | chat_model_for_prompt(prompt)
    chain.invoke({"topic": "tides"})
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.prompts import (
    AIMessagePromptTemplate,
    BasePromptTemplate,
    ChatPromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    SystemMessagePromptTemplate,
)

from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.prompts.management import (
    Prompt,
    PromptVariant,
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


# -- publishing: the reverse of load_prompt

# LangChain message-template classes -> Bedrock roles.
_TEMPLATE_ROLES: dict[type[Any], Role] = {
    SystemMessagePromptTemplate: "system",
    HumanMessagePromptTemplate: "user",
    AIMessagePromptTemplate: "assistant",
}
_MESSAGE_ROLES: dict[str, Role] = {"system": "system", "human": "user", "ai": "assistant"}


def _chat_parts(template: ChatPromptTemplate, problems: list[str]) -> list[PromptPart]:
    parts: list[PromptPart] = []
    for index, message in enumerate(template.messages):
        where = f"message {index}"
        role = _TEMPLATE_ROLES.get(type(message))
        if isinstance(message, BaseMessage):
            literal = _MESSAGE_ROLES.get(message.type)
            if literal is None or not isinstance(message.content, str):
                problems.append(
                    f"{where}: a {type(message).__name__} with "
                    f"{'non-text content' if literal else 'its role'} has no Bedrock form"
                )
                continue
            parts.append(PromptPart(literal, message.content, "literal"))
        elif role is not None and isinstance(getattr(message, "prompt", None), PromptTemplate):
            prompt: PromptTemplate = getattr(message, "prompt")  # noqa: B009
            if prompt.template_format != "f-string":
                problems.append(
                    f"{where}: template_format={prompt.template_format!r}; only f-string "
                    "templates map to Bedrock's {{var}} syntax"
                )
                continue
            parts.append(PromptPart(role, prompt.template, "format"))
        elif isinstance(message, MessagesPlaceholder):
            problems.append(
                f"{where}: MessagesPlaceholder({message.variable_name!r}) has no Bedrock form "
                "(prompts hold fixed messages with text variables)"
            )
        else:
            problems.append(
                f"{where}: {type(message).__name__} has no Bedrock form (text system, human "
                "and ai message templates only; no images or other content blocks)"
            )
    return parts


def to_prompt_spec(
    template: BasePromptTemplate[Any],
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
    """The framework-neutral form of a LangChain template (see :func:`publish_prompt`).

    Problems (partial variables, message placeholders, non-f-string formats...) are kept
    in ``problems``; publishing raises UnsupportedTemplateError naming them all.
    """
    problems: list[str] = []
    metadata = template.metadata or {}
    if template.partial_variables:
        problems.append(
            f"partial variables {sorted(template.partial_variables)} have no Bedrock form: "
            "format them into the template, or pass them at call time"
        )
    if isinstance(template, ChatPromptTemplate):
        kind: Literal["TEXT", "CHAT"] = "CHAT"
        parts = _chat_parts(template, problems)
    elif isinstance(template, PromptTemplate):
        kind = "TEXT"
        parts = [PromptPart("user", template.template, "format")]
        if template.template_format != "f-string":
            problems.append(
                f"template_format={template.template_format!r}; only f-string templates map "
                "to Bedrock's {{var}} syntax"
            )
    else:
        kind, parts = "TEXT", []
        problems.append(
            f"a {type(template).__name__} has no Bedrock form (PromptTemplate or "
            "ChatPromptTemplate only)"
        )
    inference = dict(metadata.get("inference") or {})
    given = {"temperature": temperature, "max_tokens": max_tokens, "top_p": top_p, "stop": stop}
    settings = {**inference, **{k: v for k, v in given.items() if v is not None}}
    return PromptSpec(
        name=name,
        template_type=kind,
        parts=tuple(parts),
        input_variables=tuple(template.input_variables),
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
    template: BasePromptTemplate[Any],
    name: str,
    prompt_id: str | None = None,
    **arguments: Any,
) -> PublishedPrompt:
    """Publish a LangChain template to Bedrock Prompt Management, versioned.

    Creates the prompt (or updates its DRAFT when the template changed), then creates a
    version; re-publishing an unchanged template creates none and returns the latest
    version. ``{var}`` becomes ``{{var}}``; escaped braces become literal braces. A
    template from :func:`load_prompt` keeps its model and inference settings.

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
    template: BasePromptTemplate[Any],
    name: str,
    prompt_id: str | None = None,
    **arguments: Any,
) -> PublishedPrompt:
    """Async :func:`publish_prompt` over aiobotocore."""
    spec_args, client_args = _split(dict(arguments))
    spec = to_prompt_spec(template, name, **spec_args)
    return await apublish_spec(spec, prompt_id, **client_args)
