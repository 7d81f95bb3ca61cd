"""Typed guardrail definitions and the create / update / version calls of the control plane.

A :class:`GuardrailDefinition` describes the policies (denied topics, content filters,
words, sensitive information, contextual grounding) and the blocked messages;
:func:`build_create_guardrail_request` turns it into the ``bedrock`` service's
CreateGuardrail arguments. :class:`GuardrailAdmin` sends them (sync or native async).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError, translate_errors

_SERVICE = "bedrock"
_STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
_BLOCK_ACTIONS = ("BLOCK", "NONE")
_PII_ACTIONS = ("BLOCK", "ANONYMIZE", "NONE")


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


@dataclass(frozen=True)
class DeniedTopic:
    """A topic the guardrail refuses to discuss."""

    name: str
    """Topic name (letters, digits, spaces and ``-_!?.``; up to 100 characters)."""
    definition: str
    """What the topic covers (up to 200 characters)."""
    examples: tuple[str, ...] = ()
    """Up to five example phrases."""
    input_action: str = "BLOCK"
    """``BLOCK`` or ``NONE`` (detect only) for prompts."""
    output_action: str = "BLOCK"
    """``BLOCK`` or ``NONE`` for answers."""

    def to_wire(self) -> dict[str, Any]:
        """The ``topicsConfig`` entry."""
        if len(self.examples) > 5:
            raise ConfigurationError(f"topic {self.name!r}: at most 5 examples")
        return {
            "name": self.name,
            "definition": self.definition,
            "examples": list(self.examples),
            "type": "DENY",
            "inputAction": _one_of(self.input_action, _BLOCK_ACTIONS, "input_action"),
            "outputAction": _one_of(self.output_action, _BLOCK_ACTIONS, "output_action"),
        }


@dataclass(frozen=True)
class ContentFilter:
    """A harmful-content category and how strictly it is filtered."""

    type: str
    """``SEXUAL``, ``VIOLENCE``, ``HATE``, ``INSULTS``, ``MISCONDUCT`` or ``PROMPT_ATTACK``."""
    input_strength: str = "HIGH"
    """``NONE``, ``LOW``, ``MEDIUM`` or ``HIGH`` for prompts."""
    output_strength: str = "HIGH"
    """Strength for answers (``PROMPT_ATTACK`` applies to prompts only: use ``NONE``)."""

    def to_wire(self) -> dict[str, Any]:
        """The ``filtersConfig`` entry."""
        return {
            "type": self.type,
            "inputStrength": _one_of(self.input_strength, _STRENGTHS, "input_strength"),
            "outputStrength": _one_of(self.output_strength, _STRENGTHS, "output_strength"),
        }


@dataclass(frozen=True)
class PiiEntity:
    """A PII entity type and what to do when it is found."""

    type: str
    """Entity type, e.g. ``EMAIL``, ``PHONE``, ``US_SOCIAL_SECURITY_NUMBER``."""
    action: str = "ANONYMIZE"
    """``BLOCK``, ``ANONYMIZE`` (mask as ``{TYPE}``) or ``NONE`` (detect only)."""

    def to_wire(self) -> dict[str, Any]:
        """The ``piiEntitiesConfig`` entry."""
        return {"type": self.type, "action": _one_of(self.action, _PII_ACTIONS, "action")}


@dataclass(frozen=True)
class RegexFilter:
    """A custom sensitive-information pattern."""

    name: str
    """Name shown in assessments."""
    pattern: str
    """The regular expression."""
    action: str = "ANONYMIZE"
    """``BLOCK``, ``ANONYMIZE`` or ``NONE``."""
    description: str | None = None
    """What the pattern matches."""

    def to_wire(self) -> dict[str, Any]:
        """The ``regexesConfig`` entry."""
        wire = {
            "name": self.name,
            "pattern": self.pattern,
            "action": _one_of(self.action, _PII_ACTIONS, "action"),
        }
        if self.description:
            wire["description"] = self.description
        return wire


@dataclass(frozen=True)
class GuardrailDefinition:
    """Everything a guardrail enforces, and what it answers when it blocks."""

    name: str
    """Guardrail name (letters, digits, ``-`` and ``_``; up to 50 characters)."""
    blocked_input_message: str
    """Returned in place of a blocked prompt."""
    blocked_output_message: str
    """Returned in place of a blocked answer."""
    description: str | None = None
    """Free text."""
    topics: tuple[DeniedTopic, ...] = ()
    """Denied topics."""
    content_filters: tuple[ContentFilter, ...] = ()
    """Harmful-content filters."""
    words: tuple[str, ...] = ()
    """Custom blocked words or phrases."""
    profanity: bool = False
    """Block the managed profanity list."""
    pii_entities: tuple[PiiEntity, ...] = ()
    """PII entity types to block or mask."""
    regexes: tuple[RegexFilter, ...] = ()
    """Custom patterns to block or mask."""
    grounding_threshold: float | None = None
    """Contextual grounding: block answers scoring below this (0 to 1)."""
    relevance_threshold: float | None = None
    """Contextual relevance: block answers scoring below this (0 to 1)."""
    kms_key_id: str | None = None
    """Customer-managed KMS key."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Resource tags (create only)."""


def _policies(d: GuardrailDefinition) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if d.topics:
        wire["topicPolicyConfig"] = {"topicsConfig": [t.to_wire() for t in d.topics]}
    if d.content_filters:
        wire["contentPolicyConfig"] = {"filtersConfig": [f.to_wire() for f in d.content_filters]}
    words: dict[str, Any] = {}
    if d.words:
        words["wordsConfig"] = [{"text": w} for w in d.words]
    if d.profanity:
        words["managedWordListsConfig"] = [{"type": "PROFANITY"}]
    if words:
        wire["wordPolicyConfig"] = words
    sensitive: dict[str, Any] = {}
    if d.pii_entities:
        sensitive["piiEntitiesConfig"] = [p.to_wire() for p in d.pii_entities]
    if d.regexes:
        sensitive["regexesConfig"] = [r.to_wire() for r in d.regexes]
    if sensitive:
        wire["sensitiveInformationPolicyConfig"] = sensitive
    grounding = []
    for kind, threshold in (("GROUNDING", d.grounding_threshold),
                            ("RELEVANCE", d.relevance_threshold)):  # fmt: skip
        if threshold is None:
            continue
        if not 0 <= threshold < 1:
            raise ConfigurationError(f"{kind.lower()}_threshold must be in [0, 1), got {threshold}")
        grounding.append({"type": kind, "threshold": float(threshold)})
    if grounding:
        wire["contextualGroundingPolicyConfig"] = {"filtersConfig": grounding}
    return wire


def build_create_guardrail_request(definition: GuardrailDefinition) -> dict[str, Any]:
    """CreateGuardrail arguments for ``definition``.

    Raises:
        ConfigurationError: For an invalid value or a guardrail with no policy at all.
    """
    for name in ("name", "blocked_input_message", "blocked_output_message"):
        if not getattr(definition, name):
            raise ConfigurationError(f"{name} must not be empty")
    policies = _policies(definition)
    if not policies:
        raise ConfigurationError("a guardrail needs at least one policy")
    wire: dict[str, Any] = {
        "name": definition.name,
        **policies,
        "blockedInputMessaging": definition.blocked_input_message,
        "blockedOutputsMessaging": definition.blocked_output_message,
    }
    if definition.description:
        wire["description"] = definition.description
    if definition.kms_key_id:
        wire["kmsKeyId"] = definition.kms_key_id
    if definition.tags:
        wire["tags"] = [{"key": k, "value": v} for k, v in definition.tags.items()]
    return wire


def build_update_guardrail_request(
    guardrail_identifier: str, definition: GuardrailDefinition
) -> dict[str, Any]:
    """UpdateGuardrail arguments: the whole definition replaces the working draft."""
    if not guardrail_identifier:
        raise ConfigurationError("guardrail_identifier must not be empty")
    wire = build_create_guardrail_request(definition)
    wire.pop("tags", None)  # tags are managed with TagResource, not UpdateGuardrail
    return {"guardrailIdentifier": guardrail_identifier, **wire}


@dataclass(frozen=True)
class GuardrailRef:
    """Identity of a created, updated or versioned guardrail."""

    guardrail_id: str
    """Guardrail id."""
    version: str
    """``DRAFT`` or the version number."""
    arn: str | None = None
    """Guardrail ARN (not returned by CreateGuardrailVersion)."""


def _ref(response: Mapping[str, Any]) -> GuardrailRef:
    return GuardrailRef(
        str(response["guardrailId"]), str(response["version"]), response.get("guardrailArn")
    )


class GuardrailAdmin(OwnsClients):
    """Creates, updates and versions guardrails (the ``bedrock`` control-plane service).

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock`` client.
        async_client: Injected aiobotocore ``bedrock`` client.
    """

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        client: Any = None,
        async_client: Any = None,
    ) -> None:
        self.pool = ClientPool(
            settings or ClientSettings(), _SERVICE, client=client, async_client=async_client
        )

    def _errors(self, guardrail: str | None) -> Any:
        return translate_errors(model_id=guardrail, region=self.pool.region, resource="guardrail")

    def create(self, definition: GuardrailDefinition) -> GuardrailRef:
        """Create a guardrail (its working draft, version ``DRAFT``)."""
        request = build_create_guardrail_request(definition)
        with self._errors(definition.name):
            return _ref(self.pool.client.create_guardrail(**request))

    async def acreate(self, definition: GuardrailDefinition) -> GuardrailRef:
        """Async :meth:`create`."""
        request = build_create_guardrail_request(definition)
        with self._errors(definition.name):
            client = await self.pool.async_client()
            return _ref(await client.create_guardrail(**request))

    def update(self, guardrail_identifier: str, definition: GuardrailDefinition) -> GuardrailRef:
        """Replace the working draft's configuration."""
        request = build_update_guardrail_request(guardrail_identifier, definition)
        with self._errors(guardrail_identifier):
            return _ref(self.pool.client.update_guardrail(**request))

    async def aupdate(
        self, guardrail_identifier: str, definition: GuardrailDefinition
    ) -> GuardrailRef:
        """Async :meth:`update`."""
        request = build_update_guardrail_request(guardrail_identifier, definition)
        with self._errors(guardrail_identifier):
            client = await self.pool.async_client()
            return _ref(await client.update_guardrail(**request))

    def create_version(
        self, guardrail_identifier: str, description: str | None = None
    ) -> GuardrailRef:
        """Snapshot the working draft as a numbered version."""
        request = _version_request(guardrail_identifier, description)
        with self._errors(guardrail_identifier):
            return _ref(self.pool.client.create_guardrail_version(**request))

    async def acreate_version(
        self, guardrail_identifier: str, description: str | None = None
    ) -> GuardrailRef:
        """Async :meth:`create_version`."""
        request = _version_request(guardrail_identifier, description)
        with self._errors(guardrail_identifier):
            client = await self.pool.async_client()
            return _ref(await client.create_guardrail_version(**request))


def _version_request(guardrail_identifier: str, description: str | None) -> dict[str, Any]:
    if not guardrail_identifier:
        raise ConfigurationError("guardrail_identifier must not be empty")
    request = {"guardrailIdentifier": guardrail_identifier}
    if description:
        request["description"] = description
    return request
