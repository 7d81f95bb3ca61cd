"""Bedrock Prompt Management: load a prompt (``bedrock-agent`` GetPrompt) into typed form.

Parsing is pure (:func:`parse_prompt`); :class:`PromptManagement` only calls GetPrompt, sync
or native async. :func:`to_format_string` maps Bedrock's ``{{variable}}`` syntax to the
``str.format`` syntax LangChain and LlamaIndex templates share, escaping literal braces, so
both adapters build their templates from the same strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.transport.arguments import unknown_argument_error
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings, client_settings_from
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError, MalformedResponseError, translate_errors

_SERVICE = "bedrock-agent"
# Bedrock's PromptInputVariable name pattern is ([0-9a-zA-Z][_-]?){1,100}.
_VARIABLE = re.compile(r"\{\{\s*([0-9A-Za-z][0-9A-Za-z_-]*)\s*\}\}")
_SINGLE = re.compile(r"\{([^{}]+)\}")
_IDENTIFIER = re.compile(r"^([0-9a-zA-Z]{10}|arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:prompt/.+)$")
_VERSION = re.compile(r"^(DRAFT|[0-9]{1,5})$")

Role = Literal["system", "user", "assistant"]


def to_format_string(
    template: str, variables: Iterable[str] | None = None, *, escape_braces: bool = True
) -> str:
    """Bedrock ``{{name}}`` template -> single-brace template (``{name}``).

    Args:
        template: Bedrock template text.
        variables: Names to map; any other ``{{...}}`` stays literal text. None maps all.
        escape_braces: Double literal braces, as ``str.format`` (and LangChain's f-string
            templates) need. False leaves them as they are, for formatters that only
            replace ``{name}`` of known names and have no escape (LlamaIndex's).

    Raises:
        ConfigurationError: With ``escape_braces=False``, literal text holds ``{name}`` of
            a variable: such a formatter would replace it, so it cannot stay literal. With
            ``escape_braces=True``, a variable name is all digits (``str.format`` would
            read it as a position).

    Example:
        ``to_format_string('JSON {"a": {{x}}}', ["x"])`` -> ``'JSON {{"a": {x}}}'``
    """
    wanted = set(variables) if variables is not None else None
    out: list[str] = []
    position = 0

    def literal(text: str) -> str:
        if escape_braces:
            return text.replace("{", "{{").replace("}", "}}")
        for clash in _SINGLE.finditer(text):
            if wanted is None or clash.group(1) in wanted:
                raise ConfigurationError(
                    f"literal text {clash.group(0)!r} would be read as a variable of the "
                    "same name; this template cannot be expressed without brace escapes"
                )
        return text

    for found in _VARIABLE.finditer(template):
        name = found.group(1)
        if wanted is not None and name not in wanted:
            continue
        if escape_braces and name.isdigit():
            # str.format reads {12} as positional argument 12, never as a name.
            raise ConfigurationError(
                f"variable {{{{{name}}}}} is all digits, which str.format templates cannot name"
            )
        out.append(literal(template[position : found.start()]))
        out.append("{" + name + "}")
        position = found.end()
    out.append(literal(template[position:]))
    return "".join(out)


def template_variables(template: str) -> list[str]:
    """Names of the ``{{name}}`` variables in a Bedrock template, first occurrence first."""
    return list(dict.fromkeys(found.group(1) for found in _VARIABLE.finditer(template)))


@dataclass(frozen=True)
class PromptMessage:
    """One message of a CHAT template."""

    role: Role
    """``user`` or ``assistant`` (``system`` for the variant's system blocks)."""
    text: str
    """The message text, Bedrock ``{{variable}}`` syntax kept."""


@dataclass(frozen=True)
class PromptVariant:
    """One variant of a managed prompt."""

    name: str
    """Variant name."""
    template_type: Literal["TEXT", "CHAT"]
    """``TEXT`` (one template string) or ``CHAT`` (messages plus system)."""
    input_variables: tuple[str, ...]
    """Declared variable names (derived from the template when none are declared)."""
    text: str | None = None
    """TEXT template, Bedrock syntax."""
    messages: tuple[PromptMessage, ...] = ()
    """CHAT messages, in order."""
    system: tuple[str, ...] = ()
    """CHAT system blocks, in order."""
    model_id: str | None = None
    """Model the prompt was written for."""
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    """The variant's text inference configuration."""
    additional_model_request_fields: dict[str, Any] = field(default_factory=dict)
    """Provider-specific request fields."""
    tool_configuration: dict[str, Any] | None = None
    """CHAT ``toolConfiguration`` as Bedrock returned it (tools, toolChoice)."""
    cache_points: tuple[str, ...] = ()
    """Where the template sets prompt-cache checkpoints: ``text``, ``system[i]``,
    ``messages[i]`` (after that block)."""
    metadata: dict[str, str] = field(default_factory=dict)
    """The variant's key/value metadata."""
    agent_identifier: str | None = None
    """``genAiResource.agent.agentIdentifier`` when the variant targets an agent."""

    def format_strings(self, *, escape_braces: bool = True) -> list[tuple[Role, str]]:
        """``(role, single-brace template)`` per system block and message (CHAT), or the
        single ``("user", template)`` (TEXT); see :func:`to_format_string`."""
        texts: list[tuple[Role, str]] = (
            [("user", self.text or "")]
            if self.template_type == "TEXT"
            else [("system", s) for s in self.system] + [(m.role, m.text) for m in self.messages]
        )
        names = self.input_variables
        return [
            (role, to_format_string(text, names, escape_braces=escape_braces))
            for role, text in texts
        ]


@dataclass(frozen=True)
class Prompt:
    """A managed prompt as GetPrompt returned it."""

    id: str
    """Prompt id (10 characters)."""
    arn: str
    """Prompt ARN (with ``:version`` for a version)."""
    version: str
    """``DRAFT`` or a version number."""
    name: str
    """Prompt name."""
    variants: tuple[PromptVariant, ...]
    """Every variant."""
    default_variant: str | None = None
    """Name of the variant used when none is asked for."""
    description: str | None = None
    """Prompt description."""
    created_at: datetime | None = None
    """When the prompt (version) was created."""
    updated_at: datetime | None = None
    """When it was last updated."""

    def variant(self, name: str | None = None) -> PromptVariant:
        """The named variant, else the default one (or the only one).

        Raises:
            ConfigurationError: No such variant; the message names the ones there are.
        """
        wanted = name or self.default_variant
        if wanted is None and len(self.variants) == 1:
            return self.variants[0]
        for variant in self.variants:
            if variant.name == wanted:
                return variant
        names = [v.name for v in self.variants]
        raise ConfigurationError(
            f"variant={wanted!r} is not a variant of prompt {self.id}; variants: {names}"
        )


def prompt_metadata(prompt: Prompt, variant: PromptVariant) -> dict[str, Any]:
    """Plain-JSON description of where a template came from and how to run it.

    Both adapters put this in their template's ``metadata``; ``model_id`` and
    ``inference`` (snake_case, None left out) are what a chat model needs.
    """
    inference = variant.inference
    settings = {
        "max_tokens": inference.max_tokens,
        "temperature": inference.temperature,
        "top_p": inference.top_p,
        "stop_sequences": list(inference.stop_sequences) or None,
    }
    return {
        "bedrock_prompt_id": prompt.id,
        "bedrock_prompt_arn": prompt.arn,
        "bedrock_prompt_version": prompt.version,
        "bedrock_prompt_name": prompt.name,
        "bedrock_prompt_variant": variant.name,
        "model_id": variant.model_id,
        "inference": {k: v for k, v in settings.items() if v is not None},
        "additional_model_request_fields": dict(variant.additional_model_request_fields),
    }


# prompt_metadata "inference" key -> the chat model argument both adapters name alike.
_MODEL_ARGUMENTS = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "stop_sequences": "stop",
}


def model_arguments(metadata: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Chat-model constructor arguments from :func:`prompt_metadata`, ``overrides`` winning.

    Both adapters' chat models (ChatBedrockKit, BedrockKitLLM) take ``model``,
    ``temperature``, ``max_tokens``, ``top_p``, ``stop`` and
    ``additional_model_request_fields``.

    Raises:
        ConfigurationError: The prompt names no model and ``overrides`` has no ``model``.
    """
    arguments: dict[str, Any] = {}
    if metadata.get("model_id"):
        arguments["model"] = metadata["model_id"]
    for key, value in (metadata.get("inference") or {}).items():
        arguments[_MODEL_ARGUMENTS[key]] = value
    if metadata.get("additional_model_request_fields"):
        arguments["additional_model_request_fields"] = dict(
            metadata["additional_model_request_fields"]
        )
    arguments.update(overrides)
    if "model_id" in arguments:  # ChatBedrockKit's field name for the same thing
        arguments["model"] = arguments.pop("model_id")
    if not arguments.get("model"):
        raise ConfigurationError(
            "the prompt names no model (its variant has no modelId): pass model=..."
        )
    return arguments


# -- parsing


def _text_blocks(
    blocks: Iterable[Mapping[str, Any]], where: str, cache_points: list[str]
) -> list[str]:
    texts: list[str] = []
    for index, block in enumerate(blocks):
        if "text" in block:
            texts.append(str(block["text"]))
        elif "cachePoint" in block:
            cache_points.append(f"{where}[{index}]")
        else:
            raise MalformedResponseError(
                f"{where}[{index}]: unsupported prompt content block {sorted(block)}",
                raw=repr(dict(block)),
            )
    return texts


def _parse_inference(wire: Mapping[str, Any] | None) -> InferenceConfig:
    text = (wire or {}).get("text") or {}
    return InferenceConfig(
        max_tokens=text.get("maxTokens"),
        temperature=text.get("temperature"),
        top_p=text.get("topP"),
        stop_sequences=tuple(text.get("stopSequences") or ()),
    )


def parse_variant(wire: Mapping[str, Any]) -> PromptVariant:
    """One ``variants[]`` entry of GetPrompt."""
    template_type = wire.get("templateType")
    config = wire.get("templateConfiguration") or {}
    cache_points: list[str] = []
    text: str | None = None
    system: list[str] = []
    messages: list[PromptMessage] = []
    tool_configuration: dict[str, Any] | None = None
    if template_type == "TEXT":
        section = config.get("text") or {}
        text = str(section.get("text") or "")
        if section.get("cachePoint"):
            cache_points.append("text")
        found = template_variables(text)
    elif template_type == "CHAT":
        section = config.get("chat") or {}
        system = _text_blocks(section.get("system") or (), "system", cache_points)
        for index, message in enumerate(section.get("messages") or ()):
            where = f"messages[{index}]"
            parts = _text_blocks(message.get("content") or (), where, cache_points)
            messages.append(PromptMessage(message["role"], "".join(parts)))
        if section.get("toolConfiguration"):
            tool_configuration = dict(section["toolConfiguration"])
        found = [n for t in (*system, *(m.text for m in messages)) for n in template_variables(t)]
    else:
        raise MalformedResponseError(
            f"variant {wire.get('name')!r} has unsupported templateType {template_type!r}",
            raw=repr(dict(wire)),
        )
    declared = [str(v["name"]) for v in section.get("inputVariables") or ()]
    agent = ((wire.get("genAiResource") or {}).get("agent") or {}).get("agentIdentifier")
    return PromptVariant(
        name=str(wire.get("name") or ""),
        template_type=template_type,
        input_variables=tuple(declared or dict.fromkeys(found)),
        text=text,
        messages=tuple(messages),
        system=tuple(system),
        model_id=wire.get("modelId"),
        inference=_parse_inference(wire.get("inferenceConfiguration")),
        additional_model_request_fields=dict(wire.get("additionalModelRequestFields") or {}),
        tool_configuration=tool_configuration,
        cache_points=tuple(cache_points),
        metadata={str(m["key"]): str(m["value"]) for m in wire.get("metadata") or ()},
        agent_identifier=agent,
    )


def parse_prompt(response: Mapping[str, Any]) -> Prompt:
    """A :class:`Prompt` from a GetPrompt response."""
    try:
        return Prompt(
            id=str(response["id"]),
            arn=str(response["arn"]),
            version=str(response["version"]),
            name=str(response["name"]),
            variants=tuple(parse_variant(v) for v in response.get("variants") or ()),
            default_variant=response.get("defaultVariant"),
            description=response.get("description"),
            created_at=response.get("createdAt"),
            updated_at=response.get("updatedAt"),
        )
    except (KeyError, TypeError) as exc:
        raise MalformedResponseError(f"GetPrompt response lacks {exc}", raw=repr(response)) from exc


def build_get_prompt_request(identifier: str, version: str | int | None = None) -> dict[str, Any]:
    """GetPrompt keyword arguments, validated before any request."""
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        raise ConfigurationError(
            f"prompt_id must be a 10-character prompt id or a prompt ARN, got {identifier!r}"
        )
    request: dict[str, Any] = {"promptIdentifier": identifier}
    if version is not None:
        version = str(version)
        if not _VERSION.match(version):
            raise ConfigurationError(f"version must be 'DRAFT' or a number, got {version!r}")
        request["promptVersion"] = version
    return request


class PromptManagement(OwnsClients):
    """Loads managed prompts over ``bedrock-agent`` GetPrompt, sync and native async.

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-agent`` client.
        async_client: Injected aiobotocore ``bedrock-agent`` client.
    """

    def __init__(
        self, settings: ClientSettings, *, client: Any = None, async_client: Any = None
    ) -> None:
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)

    def get_prompt(self, identifier: str, version: str | int | None = None) -> Prompt:
        """Load a prompt by id or ARN; ``version`` None loads the DRAFT."""
        request = build_get_prompt_request(identifier, version)
        with translate_errors(model_id=identifier, region=self.pool.region, resource="prompt"):
            return parse_prompt(self.pool.client.get_prompt(**request))

    async def aget_prompt(self, identifier: str, version: str | int | None = None) -> Prompt:
        """Async :meth:`get_prompt`."""
        request = build_get_prompt_request(identifier, version)
        with translate_errors(model_id=identifier, region=self.pool.region, resource="prompt"):
            client = await self.pool.async_client()
            return parse_prompt(await client.get_prompt(**request))


_CLIENT_ARGS = frozenset(
    {
        "region_name",
        "endpoint_url",
        "credentials_profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "max_retries",
        "retry_mode",
        "timeout",
        "client",
        "async_client",
    }
)


def prompt_management(**client_args: Any) -> PromptManagement:
    """A :class:`PromptManagement` from the client arguments every bedrock-kit class takes.

    Raises:
        ConfigurationError: An argument is unknown or invalid.
    """
    unknown = sorted(set(client_args) - _CLIENT_ARGS)
    if unknown:
        raise unknown_argument_error("prompt management", unknown, _CLIENT_ARGS)
    clients = {
        name: client_args.pop(name) for name in ("client", "async_client") if name in client_args
    }
    settings = client_settings_from(**client_args)
    return PromptManagement(settings, **clients)


def fetch_prompt(prompt_id: str, version: str | int | None = None, **client_args: Any) -> Prompt:
    """GetPrompt with the client arguments every bedrock-kit class takes."""
    return prompt_management(**client_args).get_prompt(prompt_id, version)


async def afetch_prompt(
    prompt_id: str, version: str | int | None = None, **client_args: Any
) -> Prompt:
    """Async :func:`fetch_prompt`; the one-off async client is closed afterwards."""
    management = prompt_management(**client_args)
    try:
        return await management.aget_prompt(prompt_id, version)
    finally:
        await management.pool.aclose()
