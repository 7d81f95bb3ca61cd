"""Guardrail assessments: one typed description of every guardrail decision.

The same :class:`GuardrailAssessment` is parsed from an ApplyGuardrail response, from
``trace.guardrail`` of Converse / ConverseStream, and from ``amazon-bedrock-trace`` of
InvokeModel, so a user reads every intervention the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class TopicFinding:
    """A denied topic the guardrail evaluated."""

    name: str
    """Topic name as configured."""
    type: str
    """``DENY``."""
    action: str
    """``BLOCKED`` or ``NONE``."""
    detected: bool | None = None
    """Whether the topic was found (None when Bedrock did not say)."""


@dataclass(frozen=True)
class ContentFilterFinding:
    """A content filter (HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT, PROMPT_ATTACK)."""

    type: str
    """Filter category."""
    confidence: str
    """``NONE``, ``LOW``, ``MEDIUM`` or ``HIGH``."""
    action: str
    """``BLOCKED`` or ``NONE``."""
    filter_strength: str | None = None
    """Configured strength of the filter."""
    detected: bool | None = None
    """Whether the filter fired."""


@dataclass(frozen=True)
class WordFinding:
    """A custom or managed word match."""

    match: str
    """The matched text."""
    action: str
    """``BLOCKED`` or ``NONE``."""
    managed_type: str | None = None
    """``PROFANITY`` for managed word lists; None for custom words."""
    detected: bool | None = None
    """Whether the word was found."""


@dataclass(frozen=True)
class PiiFinding:
    """A PII entity or regex match."""

    match: str
    """The matched text (never logged by bedrock-kit)."""
    action: str
    """``BLOCKED``, ``ANONYMIZED`` or ``NONE``."""
    type: str | None = None
    """PII entity type (EMAIL, ADDRESS...), None for regexes."""
    name: str | None = None
    """Regex name, None for PII entities."""
    regex: str | None = None
    """The regex pattern, for regex matches."""
    detected: bool | None = None
    """Whether it was found."""


@dataclass(frozen=True)
class GroundingFinding:
    """A contextual grounding or relevance score against its threshold."""

    type: str
    """``GROUNDING`` or ``RELEVANCE``."""
    score: float
    """Score from 0 to 1."""
    threshold: float
    """Configured threshold; below it the guardrail acts."""
    action: str
    """``BLOCKED`` or ``NONE``."""
    detected: bool | None = None
    """Whether the check fired."""


@dataclass(frozen=True)
class GuardrailUsage:
    """Text units the guardrail billed, per policy."""

    topic_policy_units: int = 0
    """Denied topics."""
    content_policy_units: int = 0
    """Content filters on text."""
    content_policy_image_units: int = 0
    """Content filters on images."""
    word_policy_units: int = 0
    """Word filters."""
    sensitive_information_policy_units: int = 0
    """Sensitive-information filters on PII entity types (billed)."""
    sensitive_information_policy_free_units: int = 0
    """Sensitive-information filters on custom regexes (not billed)."""
    contextual_grounding_policy_units: int = 0
    """Contextual grounding checks."""
    automated_reasoning_policy_units: int = 0
    """Automated reasoning checks."""
    automated_reasoning_policies: int = 0
    """Number of automated reasoning policies evaluated."""

    def __add__(self, other: GuardrailUsage) -> GuardrailUsage:
        return GuardrailUsage(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )


@dataclass(frozen=True)
class GuardrailAssessment:
    """What one guardrail found in one piece of content."""

    topics: tuple[TopicFinding, ...] = ()
    """Denied-topic findings."""
    content_filters: tuple[ContentFilterFinding, ...] = ()
    """Content-filter findings."""
    words: tuple[WordFinding, ...] = ()
    """Custom and managed word findings."""
    pii_entities: tuple[PiiFinding, ...] = ()
    """PII entity findings."""
    regexes: tuple[PiiFinding, ...] = ()
    """Custom regex findings."""
    grounding: tuple[GroundingFinding, ...] = ()
    """Contextual grounding and relevance findings."""
    automated_reasoning: tuple[dict[str, Any], ...] = ()
    """Automated reasoning findings, as sent (their shape varies by finding type)."""
    usage: GuardrailUsage = field(default_factory=GuardrailUsage)
    """Billed text units."""
    processing_latency_ms: int | None = None
    """``guardrailProcessingLatency``."""
    guarded_characters: int | None = None
    """Characters the guardrail evaluated (``guardrailCoverage``)."""
    total_characters: int | None = None
    """Characters in the content."""
    guardrail_id: str | None = None
    """Guardrail id from ``appliedGuardrailDetails``."""
    guardrail_version: str | None = None
    """Guardrail version from ``appliedGuardrailDetails``."""
    guarded_images: int | None = None
    """Images the guardrail evaluated (``guardrailCoverage.images``)."""
    total_images: int | None = None
    """Images in the content."""
    guardrail_arn: str | None = None
    """Guardrail ARN from ``appliedGuardrailDetails``."""

    @property
    def anonymized(self) -> bool:
        """True when a PII entity or regex was masked in the output."""
        return any(f.action == "ANONYMIZED" for f in (*self.pii_entities, *self.regexes))

    @property
    def blocked(self) -> bool:
        """True when any finding blocked the content."""
        return any(f.action == "BLOCKED" for f in self.findings)

    @property
    def findings(self) -> tuple[Any, ...]:
        """Every typed finding, in policy order."""
        return (
            *self.topics,
            *self.content_filters,
            *self.words,
            *self.pii_entities,
            *self.regexes,
            *self.grounding,
        )

    @property
    def intervened(self) -> bool:
        """True when any finding blocked or masked content."""
        return any(f.action in ("BLOCKED", "ANONYMIZED") for f in self.findings)


@dataclass(frozen=True)
class GuardrailTrace:
    """``trace.guardrail`` of a Converse response: input and output assessments."""

    input_assessments: Mapping[str, GuardrailAssessment] = field(default_factory=dict)
    """Assessment of the input, per guardrail id."""
    output_assessments: Mapping[str, tuple[GuardrailAssessment, ...]] = field(default_factory=dict)
    """Assessments of the output, per guardrail id (one per checked chunk when streaming)."""
    model_output: tuple[str, ...] = ()
    """The model's raw output before masking, when trace is ``enabled_full``/sent."""
    action_reason: str | None = None
    """``actionReason``."""
    action: str | None = None
    """``amazon-bedrock-guardrailAction`` of InvokeModel (``INTERVENED``/``NONE``); None
    for Converse, which reports interventions through ``stopReason``."""

    @property
    def assessments(self) -> tuple[GuardrailAssessment, ...]:
        """Every assessment, inputs first."""
        outputs = [a for group in self.output_assessments.values() for a in group]
        return (*self.input_assessments.values(), *outputs)

    @property
    def intervened(self) -> bool:
        """True when any assessment blocked or masked content."""
        return any(a.intervened for a in self.assessments)

    @property
    def usage(self) -> GuardrailUsage:
        """Text units billed over every assessment."""
        total = GuardrailUsage()
        for assessment in self.assessments:
            total = total + assessment.usage
        return total


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _num(value: Any) -> int:
    # InvokeModel traces serialise integers as floats (28.0); Converse as ints.
    return int(value or 0)


def _opt_num(value: Any) -> int | None:
    return None if value is None else int(value)


def _topics(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        "topics": tuple(
            TopicFinding(
                t.get("name", ""), t.get("type", ""), t.get("action", ""), _bool(t.get("detected"))
            )
            for t in policy.get("topics") or ()
            if t
        )
    }


def _content(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        "content_filters": tuple(
            ContentFilterFinding(
                f.get("type", ""),
                f.get("confidence", ""),
                f.get("action", ""),
                f.get("filterStrength"),
                _bool(f.get("detected")),
            )
            for f in policy.get("filters") or ()
            if f
        )
    }


def _words(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    custom = [
        WordFinding(w.get("match", ""), w.get("action", ""), None, _bool(w.get("detected")))
        for w in policy.get("customWords") or ()
        if w
    ]
    managed = [
        WordFinding(
            w.get("match", ""), w.get("action", ""), w.get("type"), _bool(w.get("detected"))
        )
        for w in policy.get("managedWordLists") or ()
        if w
    ]
    return {"words": (*custom, *managed)}


def _pii(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        "pii_entities": tuple(
            PiiFinding(
                e.get("match", ""),
                e.get("action", ""),
                type=e.get("type"),
                detected=_bool(e.get("detected")),
            )
            for e in policy.get("piiEntities") or ()
            if e
        ),
        "regexes": tuple(
            PiiFinding(
                r.get("match", ""),
                r.get("action", ""),
                name=r.get("name"),
                regex=r.get("regex"),
                detected=_bool(r.get("detected")),
            )
            for r in policy.get("regexes") or ()
            if r
        ),
    }


def _grounding(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        "grounding": tuple(
            GroundingFinding(
                g.get("type", ""),
                float(g.get("score") or 0.0),
                float(g.get("threshold") or 0.0),
                g.get("action", ""),
                _bool(g.get("detected")),
            )
            for g in policy.get("filters") or ()
            if g
        )
    }


def _reasoning(policy: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {"automated_reasoning": tuple(policy.get("findings") or ())}


_POLICIES: dict[str, Callable[[Mapping[str, Any]], dict[str, tuple[Any, ...]]]] = {
    "topicPolicy": _topics,
    "contentPolicy": _content,
    "wordPolicy": _words,
    "sensitiveInformationPolicy": _pii,
    "contextualGroundingPolicy": _grounding,
    "automatedReasoningPolicy": _reasoning,
}

_USAGE_FIELDS = {
    "topicPolicyUnits": "topic_policy_units",
    "contentPolicyUnits": "content_policy_units",
    "contentPolicyImageUnits": "content_policy_image_units",
    "wordPolicyUnits": "word_policy_units",
    "sensitiveInformationPolicyUnits": "sensitive_information_policy_units",
    "sensitiveInformationPolicyFreeUnits": "sensitive_information_policy_free_units",
    "contextualGroundingPolicyUnits": "contextual_grounding_policy_units",
    "automatedReasoningPolicyUnits": "automated_reasoning_policy_units",
    "automatedReasoningPolicies": "automated_reasoning_policies",
}


def parse_guardrail_usage(usage: Mapping[str, Any] | None) -> GuardrailUsage:
    """Parse a guardrail ``usage`` object (text units per policy)."""
    usage = usage or {}
    return GuardrailUsage(**{ours: _num(usage.get(wire)) for wire, ours in _USAGE_FIELDS.items()})


def parse_assessment(wire: Mapping[str, Any]) -> GuardrailAssessment:
    """Parse one ``GuardrailAssessment`` wire object (nulls and missing policies allowed)."""
    fields: dict[str, Any] = {}
    for key, parse in _POLICIES.items():
        if wire.get(key):
            fields.update(parse(wire[key]))
    metrics = wire.get("invocationMetrics") or {}
    coverage = (metrics.get("guardrailCoverage") or {}).get("textCharacters") or {}
    images = (metrics.get("guardrailCoverage") or {}).get("images") or {}
    details = wire.get("appliedGuardrailDetails") or {}
    latency = metrics.get("guardrailProcessingLatency")
    return GuardrailAssessment(
        **fields,
        usage=parse_guardrail_usage(metrics.get("usage")),
        processing_latency_ms=None if latency is None else int(latency),
        guarded_characters=_opt_num(coverage.get("guarded")),
        total_characters=_opt_num(coverage.get("total")),
        guardrail_id=details.get("guardrailId"),
        guardrail_version=details.get("guardrailVersion"),
        guarded_images=_opt_num(images.get("guarded")),
        total_images=_opt_num(images.get("total")),
        guardrail_arn=details.get("guardrailArn"),
    )


def parse_guardrail_trace(wire: Mapping[str, Any] | None) -> GuardrailTrace | None:
    """Parse ``trace.guardrail`` of a Converse response or ConverseStream metadata event."""
    if not wire:
        return None
    outputs = wire.get("outputAssessments") or {}
    return GuardrailTrace(
        input_assessments={
            gid: parse_assessment(a) for gid, a in (wire.get("inputAssessment") or {}).items()
        },
        output_assessments={
            gid: tuple(parse_assessment(a) for a in group) for gid, group in outputs.items()
        },
        model_output=tuple(wire.get("modelOutput") or ()),
        action_reason=wire.get("actionReason"),
    )


def invoke_trace_as_converse(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """``amazon-bedrock-trace`` of an InvokeModel body in Converse's ``trace.guardrail`` shape.

    InvokeModel names the parts ``input`` and ``outputs`` (a list of ``{guardrailId:
    assessment}``) where Converse says ``inputAssessment`` and ``outputAssessments``.
    Returns ``{}`` when the body has no guardrail trace.
    """
    wire = ((body or {}).get("amazon-bedrock-trace") or {}).get("guardrail") or {}
    if not wire:
        return {}
    outputs: dict[str, list[Any]] = {}
    for group in wire.get("outputs") or ():
        for gid, assessment in (group or {}).items():
            outputs.setdefault(gid, []).append(assessment)
    shaped = {
        "inputAssessment": wire.get("input") or {},
        "outputAssessments": outputs,
        "modelOutput": wire.get("modelOutput") or [],
    }
    if "actionReason" in wire:
        shaped["actionReason"] = wire["actionReason"]
    return shaped


def parse_invoke_model_trace(body: Mapping[str, Any] | None) -> GuardrailTrace | None:
    """Parse the guardrail fields of an InvokeModel (or last stream chunk) response body.

    ``amazon-bedrock-guardrailAction`` and ``amazon-bedrock-trace`` sit beside the model's
    own fields; numbers may arrive as floats (``28.0``).

    Returns:
        The trace, or None when the body carries neither field.
    """
    action = (body or {}).get("amazon-bedrock-guardrailAction")
    shaped = invoke_trace_as_converse(body)
    if action is None and not shaped:
        return None
    trace = parse_guardrail_trace(shaped) or GuardrailTrace()
    return replace(trace, action=action)
