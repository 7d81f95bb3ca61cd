"""ApplyGuardrail: check text and images against a guardrail without calling a model.

Request building and response parsing are pure functions; :class:`GuardrailClient` only moves
requests over the wire, with one sync and one native async method per operation around the
same code. The contextual grounding check (answer vs. retrieved sources and the query) is one
ApplyGuardrail call with qualified content, so it lives here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bedrock_kit.core.guardrails.assessments import (
    GroundingFinding,
    GuardrailAssessment,
    GuardrailUsage,
    parse_assessment,
    parse_guardrail_usage,
)
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.errors import ConfigurationError, GuardrailInterventionError, translate_errors

_SERVICE = "bedrock-runtime"

GuardrailSource = Literal["INPUT", "OUTPUT"]
"""Whether the content is a user prompt (``INPUT``) or a model answer (``OUTPUT``)."""

SOURCES: tuple[str, ...] = ("INPUT", "OUTPUT")
QUALIFIERS: tuple[str, ...] = ("grounding_source", "query", "guard_content")
IMAGE_FORMATS: tuple[str, ...] = ("png", "jpeg")
OUTPUT_SCOPES: tuple[str, ...] = ("INTERVENTIONS", "FULL")

TEXT_UNIT_CHARACTERS = 1000
"""Bedrock bills guardrails per text unit of up to 1,000 characters, rounded up per call."""

INTERVENED = "GUARDRAIL_INTERVENED"


def text_units(characters: int) -> int:
    """Text units one ApplyGuardrail call on ``characters`` characters is billed per policy."""
    return math.ceil(characters / TEXT_UNIT_CHARACTERS) if characters > 0 else 0


@dataclass(frozen=True)
class GuardrailText:
    """A piece of text to check."""

    text: str
    """The text."""
    qualifiers: tuple[str, ...] = ()
    """``grounding_source``, ``query`` or ``guard_content`` (contextual grounding checks)."""


@dataclass(frozen=True)
class GuardrailImage:
    """An image to check (content filters only)."""

    data: bytes
    """Raw image bytes (not base64: botocore encodes them)."""
    format: str
    """``png`` or ``jpeg``."""


GuardrailContent = GuardrailText | GuardrailImage
"""One block of content sent to ApplyGuardrail."""


@dataclass(frozen=True)
class GuardrailResult:
    """The typed answer of one ApplyGuardrail call."""

    action: str
    """``NONE`` or ``GUARDRAIL_INTERVENED``."""
    source: str
    """``INPUT`` or ``OUTPUT``, as sent."""
    outputs: tuple[str, ...] = ()
    """Texts Bedrock returned: the masked text or the blocked message (empty when NONE)."""
    assessments: tuple[GuardrailAssessment, ...] = ()
    """Per-guardrail findings."""
    usage: GuardrailUsage = field(default_factory=GuardrailUsage)
    """Text units billed, per policy."""
    action_reason: str | None = None
    """``actionReason`` (e.g. ``Guardrail blocked.``)."""
    guarded_characters: int | None = None
    """Characters the guardrail evaluated (``guardrailCoverage``)."""
    total_characters: int | None = None
    """Characters sent."""
    guarded_images: int | None = None
    """Images the guardrail evaluated."""
    total_images: int | None = None
    """Images sent."""
    checked_characters: int = 0
    """Characters of text this call sent, counted locally (for :attr:`text_units`)."""
    request_id: str | None = None
    """``x-amzn-RequestId`` of the call."""

    @property
    def intervened(self) -> bool:
        """True when the guardrail blocked or masked something."""
        return self.action == INTERVENED

    @property
    def blocked(self) -> bool:
        """True when the content must not be used (a policy blocked it).

        An intervention without any BLOCKED finding is a masking; an intervention that says
        neither (no findings at all) counts as blocked, so unknown cases fail closed.
        """
        if not self.intervened:
            return False
        if any(a.blocked for a in self.assessments):
            return True
        return not any(a.anonymized for a in self.assessments)

    @property
    def anonymized(self) -> bool:
        """True when the guardrail only masked PII: :attr:`output_text` is the masked text."""
        return self.intervened and not self.blocked

    @property
    def output_text(self) -> str:
        """The returned texts joined: masked text, or the blocked message."""
        return "".join(self.outputs)

    @property
    def text_units(self) -> int:
        """Text units of this call per policy, from the characters sent."""
        return text_units(self.checked_characters)

    @property
    def assessment(self) -> GuardrailAssessment:
        """The first assessment (one per guardrail; ApplyGuardrail applies one)."""
        return self.assessments[0] if self.assessments else GuardrailAssessment()

    def released_text(self, original: str) -> str:
        """What may be shown for ``original``: itself, or the masked text.

        Raises:
            GuardrailInterventionError: When the content was blocked.
        """
        if self.blocked:
            raise intervention_error(self)
        return self.output_text if self.anonymized else original


@dataclass(frozen=True)
class GroundingResult:
    """Scores of a contextual grounding check against their thresholds."""

    grounding: GroundingFinding | None
    """Is the answer supported by the sources? None when the guardrail did not score it."""
    relevance: GroundingFinding | None
    """Does the answer address the query? None when no query was sent."""
    result: GuardrailResult
    """The full ApplyGuardrail result."""

    @property
    def passed(self) -> bool:
        """True when every score reached its threshold and nothing blocked."""
        findings = [f for f in (self.grounding, self.relevance) if f is not None]
        return not self.result.blocked and all(f.score >= f.threshold for f in findings)


def _content_block(item: str | GuardrailContent, index: int) -> dict[str, Any]:
    if isinstance(item, str):
        item = GuardrailText(item)
    if isinstance(item, GuardrailText):
        if not isinstance(item.text, str):
            raise ConfigurationError(f"content[{index}].text must be a str")
        bad = [q for q in item.qualifiers if q not in QUALIFIERS]
        if bad:
            raise ConfigurationError(
                f"content[{index}].qualifiers: {bad} not in {list(QUALIFIERS)}"
            )
        text: dict[str, Any] = {"text": item.text}
        if item.qualifiers:
            text["qualifiers"] = list(item.qualifiers)
        return {"text": text}
    if isinstance(item, GuardrailImage):
        if item.format not in IMAGE_FORMATS:
            raise ConfigurationError(
                f"content[{index}].format must be one of {list(IMAGE_FORMATS)}, got {item.format!r}"
            )
        if not isinstance(item.data, bytes | bytearray) or not item.data:
            raise ConfigurationError(f"content[{index}].data must be non-empty bytes")
        return {"image": {"format": item.format, "source": {"bytes": bytes(item.data)}}}
    raise ConfigurationError(
        f"content[{index}] must be a str, GuardrailText or GuardrailImage, "
        f"got {type(item).__name__}"
    )


def check_version(guardrail_version: str | int) -> str:
    """``DRAFT`` or a version number, as the string Bedrock expects."""
    version = str(guardrail_version)
    if version != "DRAFT" and not version.isdigit():
        raise ConfigurationError(
            f"guardrail_version must be 'DRAFT' or a version number, got {guardrail_version!r}"
        )
    return version


def build_apply_guardrail_request(
    guardrail_identifier: str,
    guardrail_version: str | int,
    content: str | GuardrailContent | Sequence[str | GuardrailContent],
    *,
    source: str = "INPUT",
    output_scope: str | None = None,
) -> dict[str, Any]:
    """ApplyGuardrail arguments (botocore names) for ``content``.

    Args:
        guardrail_identifier: Guardrail id or ARN.
        guardrail_version: ``DRAFT`` or a version number.
        content: Text, images, or text with grounding qualifiers.
        source: ``INPUT`` (prompt) or ``OUTPUT`` (model answer).
        output_scope: ``FULL`` also reports findings that did not act (scores, NONE
            filters); ``INTERVENTIONS`` (Bedrock's default) only the ones that did.

    Raises:
        ConfigurationError: For an invalid argument, before any request.
    """
    if not guardrail_identifier or not isinstance(guardrail_identifier, str):
        raise ConfigurationError("guardrail_identifier must be a non-empty str")
    if source not in SOURCES:
        raise ConfigurationError(f"source must be one of {list(SOURCES)}, got {source!r}")
    if output_scope is not None and output_scope not in OUTPUT_SCOPES:
        raise ConfigurationError(
            f"output_scope must be one of {list(OUTPUT_SCOPES)}, got {output_scope!r}"
        )
    items = [content] if isinstance(content, str | GuardrailText | GuardrailImage) else content
    if not items:
        raise ConfigurationError("content must not be empty")
    request: dict[str, Any] = {
        "guardrailIdentifier": guardrail_identifier,
        "guardrailVersion": check_version(guardrail_version),
        "source": source,
        "content": [_content_block(item, i) for i, item in enumerate(items)],
    }
    if output_scope is not None:
        request["outputScope"] = output_scope
    return request


def request_characters(request: Mapping[str, Any]) -> int:
    """Characters of text in an ApplyGuardrail request (what text units are counted on)."""
    return sum(len((b.get("text") or {}).get("text", "")) for b in request.get("content", ()))


def parse_apply_guardrail_response(
    response: Mapping[str, Any], *, source: str = "INPUT", checked_characters: int = 0
) -> GuardrailResult:
    """Parse an ApplyGuardrail response (botocore dict or recorded JSON) into a result."""
    outputs = response.get("outputs")
    if outputs is None:  # older responses (and recordings) also carry the singular key
        outputs = response.get("output") or ()
    coverage = response.get("guardrailCoverage") or {}
    chars = coverage.get("textCharacters") or {}
    images = coverage.get("images") or {}
    meta = response.get("ResponseMetadata") or {}
    return GuardrailResult(
        action=str(response.get("action") or "NONE"),
        source=source,
        outputs=tuple(str(o.get("text", "")) for o in outputs if o is not None),
        assessments=tuple(parse_assessment(a) for a in response.get("assessments") or ()),
        usage=parse_guardrail_usage(response.get("usage")),
        action_reason=response.get("actionReason"),
        guarded_characters=_opt_int(chars.get("guarded")),
        total_characters=_opt_int(chars.get("total")),
        guarded_images=_opt_int(images.get("guarded")),
        total_images=_opt_int(images.get("total")),
        checked_characters=checked_characters,
        request_id=meta.get("RequestId"),
    )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def intervention_error(result: GuardrailResult) -> GuardrailInterventionError:
    """The error raised when ``result`` blocked content."""
    reason = result.action_reason or "Guardrail blocked."
    policies = sorted(
        {
            type(f).__name__.removesuffix("Finding")
            for a in result.assessments
            for f in a.findings
            if f.action == "BLOCKED"
        }
    )
    detail = f" ({', '.join(policies)})" if policies else ""
    return GuardrailInterventionError(
        f"guardrail blocked the {result.source.lower()}: {reason}{detail}",
        assessment=result.assessment,
        output_text=result.output_text,
        model_id=result.assessment.guardrail_id,
        resource="guardrail",
        request_id=result.request_id,
    )


def build_grounding_content(
    answer: str, grounding_source: str | Sequence[str], query: str | None = None
) -> list[GuardrailText]:
    """Content of a contextual grounding check: sources, the query, then the answer."""
    sources = [grounding_source] if isinstance(grounding_source, str) else list(grounding_source)
    if not sources or not all(isinstance(s, str) and s for s in sources):
        raise ConfigurationError("grounding_source must be a non-empty str or list of str")
    if not isinstance(answer, str) or not answer:
        raise ConfigurationError("answer must be a non-empty str")
    content = [GuardrailText(s, ("grounding_source",)) for s in sources]
    if query:
        content.append(GuardrailText(query, ("query",)))
    content.append(GuardrailText(answer, ("guard_content",)))
    return content


def parse_grounding(result: GuardrailResult) -> GroundingResult:
    """Pick the grounding and relevance scores out of an ApplyGuardrail result."""
    found = {g.type: g for a in result.assessments for g in a.grounding}
    return GroundingResult(found.get("GROUNDING"), found.get("RELEVANCE"), result)


class GuardrailClient:
    """Calls ApplyGuardrail for one guardrail version, sync or natively async.

    Args:
        guardrail_identifier: Guardrail id or ARN.
        guardrail_version: ``DRAFT`` or a version number.
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-runtime`` client.
        output_scope: Default ``outputScope`` of every call (``FULL`` or ``INTERVENTIONS``).
    """

    def __init__(
        self,
        guardrail_identifier: str,
        guardrail_version: str | int = "DRAFT",
        *,
        settings: ClientSettings | None = None,
        client: Any = None,
        async_client: Any = None,
        output_scope: str | None = None,
    ) -> None:
        # Validate everything now, so a bad argument fails at construction.
        build_apply_guardrail_request(
            guardrail_identifier, guardrail_version, "x", output_scope=output_scope
        )
        self.guardrail_identifier = guardrail_identifier
        self.guardrail_version = check_version(guardrail_version)
        self.output_scope = output_scope
        self.pool = ClientPool(
            settings or ClientSettings(), _SERVICE, client=client, async_client=async_client
        )

    def __repr__(self) -> str:
        return (
            f"GuardrailClient({self.guardrail_identifier!r}, {self.guardrail_version!r}, "
            f"settings={self.pool.settings!r})"
        )

    def build_request(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> dict[str, Any]:
        """The ApplyGuardrail arguments this client would send."""
        return build_apply_guardrail_request(
            self.guardrail_identifier,
            self.guardrail_version,
            content,
            source=source,
            output_scope=output_scope or self.output_scope,
        )

    def _errors(self) -> Any:
        return translate_errors(
            model_id=self.guardrail_identifier, region=self.pool.region, resource="guardrail"
        )

    def _parse(self, request: Mapping[str, Any], response: Mapping[str, Any]) -> GuardrailResult:
        return parse_apply_guardrail_response(
            response, source=request["source"], checked_characters=request_characters(request)
        )

    def apply(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> GuardrailResult:
        """Check ``content``; never raises on an intervention (read ``result.blocked``).

        Raises:
            ConfigurationError: For invalid content or arguments, before any request.
            BedrockKitError: When the call fails (translated AWS error).
        """
        request = self.build_request(content, source=source, output_scope=output_scope)
        with self._errors():
            return self._parse(request, self.pool.client.apply_guardrail(**request))

    async def aapply(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> GuardrailResult:
        """Async :meth:`apply` (aiobotocore, no threads)."""
        request = self.build_request(content, source=source, output_scope=output_scope)
        with self._errors():
            client = await self.pool.async_client()
            return self._parse(request, await client.apply_guardrail(**request))

    def check_grounding(
        self, answer: str, grounding_source: str | Sequence[str], query: str | None = None
    ) -> GroundingResult:
        """Score ``answer`` against the retrieved sources and the query.

        Sends outputScope FULL so passing scores are reported too.

        Raises:
            ConfigurationError: When the guardrail has no contextual grounding policy (no
                score came back), or for empty arguments.
        """
        content = build_grounding_content(answer, grounding_source, query)
        return self._grounding(self.apply(content, source="OUTPUT", output_scope="FULL"))

    async def acheck_grounding(
        self, answer: str, grounding_source: str | Sequence[str], query: str | None = None
    ) -> GroundingResult:
        """Async :meth:`check_grounding`."""
        content = build_grounding_content(answer, grounding_source, query)
        return self._grounding(await self.aapply(content, source="OUTPUT", output_scope="FULL"))

    def _grounding(self, result: GuardrailResult) -> GroundingResult:
        grounding = parse_grounding(result)
        if grounding.grounding is None and grounding.relevance is None:
            raise ConfigurationError(
                f"guardrail {self.guardrail_identifier} version {self.guardrail_version} "
                "returned no contextual grounding scores: enable its contextual grounding policy"
            )
        return grounding

    async def aclose(self) -> None:
        """Close the async client of the running loop."""
        await self.pool.aclose()
