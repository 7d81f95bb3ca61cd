"""Guardrail assessments: one typed description of every guardrail decision.

The same :class:`GuardrailAssessment` is parsed from an ApplyGuardrail response, from
``trace.guardrail`` of Converse / ConverseStream, and from ``amazon-bedrock-trace`` of
InvokeModel, so a user reads every intervention the same way. What is not of the documented
type raises :class:`~bedrock_kit.errors.MalformedResponseError`, never a bare Python error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bedrock_kit.core.guardrails import _wire as _w


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


def _topics(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    found = []
    for i, t in enumerate(_w.objects(policy.get("topics"), f"{path}.topics")):
        at = f"{path}.topics[{i}]"
        found.append(
            TopicFinding(
                _w.text(t.get("name"), f"{at}.name"),
                _w.text(t.get("type"), f"{at}.type"),
                _w.text(t.get("action"), f"{at}.action"),
                _w.opt_bool(t.get("detected"), f"{at}.detected"),
            )
        )
    return {"topics": tuple(found)}


def _content(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    found = []
    for i, f in enumerate(_w.objects(policy.get("filters"), f"{path}.filters")):
        at = f"{path}.filters[{i}]"
        found.append(
            ContentFilterFinding(
                _w.text(f.get("type"), f"{at}.type"),
                _w.text(f.get("confidence"), f"{at}.confidence"),
                _w.text(f.get("action"), f"{at}.action"),
                _w.opt_str(f.get("filterStrength"), f"{at}.filterStrength"),
                _w.opt_bool(f.get("detected"), f"{at}.detected"),
            )
        )
    return {"content_filters": tuple(found)}


def _word(w: Mapping[str, Any], at: str, managed: bool) -> WordFinding:
    return WordFinding(
        _w.text(w.get("match"), f"{at}.match"),
        _w.text(w.get("action"), f"{at}.action"),
        _w.opt_str(w.get("type"), f"{at}.type") if managed else None,
        _w.opt_bool(w.get("detected"), f"{at}.detected"),
    )


def _words(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    custom = [
        _word(w, f"{path}.customWords[{i}]", False)
        for i, w in enumerate(_w.objects(policy.get("customWords"), f"{path}.customWords"))
    ]
    managed = [
        _word(w, f"{path}.managedWordLists[{i}]", True)
        for i, w in enumerate(
            _w.objects(policy.get("managedWordLists"), f"{path}.managedWordLists")
        )
    ]
    return {"words": (*custom, *managed)}


def _pii(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    entities = []
    for i, e in enumerate(_w.objects(policy.get("piiEntities"), f"{path}.piiEntities")):
        at = f"{path}.piiEntities[{i}]"
        entities.append(
            PiiFinding(
                _w.text(e.get("match"), f"{at}.match"),
                _w.text(e.get("action"), f"{at}.action"),
                type=_w.opt_str(e.get("type"), f"{at}.type"),
                detected=_w.opt_bool(e.get("detected"), f"{at}.detected"),
            )
        )
    regexes = []
    for i, r in enumerate(_w.objects(policy.get("regexes"), f"{path}.regexes")):
        at = f"{path}.regexes[{i}]"
        regexes.append(
            PiiFinding(
                _w.text(r.get("match"), f"{at}.match"),
                _w.text(r.get("action"), f"{at}.action"),
                name=_w.opt_str(r.get("name"), f"{at}.name"),
                regex=_w.opt_str(r.get("regex"), f"{at}.regex"),
                detected=_w.opt_bool(r.get("detected"), f"{at}.detected"),
            )
        )
    return {"pii_entities": tuple(entities), "regexes": tuple(regexes)}


def _grounding(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    found = []
    for i, g in enumerate(_w.objects(policy.get("filters"), f"{path}.filters")):
        at = f"{path}.filters[{i}]"
        found.append(
            GroundingFinding(
                _w.text(g.get("type"), f"{at}.type"),
                _w.score(g.get("score"), f"{at}.score"),
                _w.score(g.get("threshold"), f"{at}.threshold"),
                _w.text(g.get("action"), f"{at}.action"),
                _w.opt_bool(g.get("detected"), f"{at}.detected"),
            )
        )
    return {"grounding": tuple(found)}


def _reasoning(policy: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    findings = _w.objects(policy.get("findings"), f"{path}.findings")
    return {"automated_reasoning": tuple(dict(f) for f in findings)}


_POLICIES: dict[str, Callable[[Mapping[str, Any], str], dict[str, tuple[Any, ...]]]] = {
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


def _usage(value: Any, path: str) -> GuardrailUsage:
    usage = _w.obj(value, path)
    return GuardrailUsage(
        **{
            ours: _w.count(usage.get(wire), f"{path}.{wire}")
            for wire, ours in _USAGE_FIELDS.items()
        }
    )


def _assessment(value: Any, path: str) -> GuardrailAssessment:
    wire = _w.obj(value, path)
    fields: dict[str, Any] = {}
    for key, parse in _POLICIES.items():
        policy = _w.obj(wire.get(key), f"{path}.{key}")
        if policy:
            fields.update(parse(policy, f"{path}.{key}"))
    metrics = _w.obj(wire.get("invocationMetrics"), f"{path}.invocationMetrics")
    at = f"{path}.invocationMetrics.guardrailCoverage"
    coverage = _w.obj(metrics.get("guardrailCoverage"), at)
    chars = _w.obj(coverage.get("textCharacters"), f"{at}.textCharacters")
    images = _w.obj(coverage.get("images"), f"{at}.images")
    details = _w.obj(wire.get("appliedGuardrailDetails"), f"{path}.appliedGuardrailDetails")
    at_details = f"{path}.appliedGuardrailDetails"
    return GuardrailAssessment(
        **fields,
        usage=_usage(metrics.get("usage"), f"{path}.invocationMetrics.usage"),
        processing_latency_ms=_w.opt_count(
            metrics.get("guardrailProcessingLatency"),
            f"{path}.invocationMetrics.guardrailProcessingLatency",
        ),
        guarded_characters=_w.opt_count(chars.get("guarded"), f"{at}.textCharacters.guarded"),
        total_characters=_w.opt_count(chars.get("total"), f"{at}.textCharacters.total"),
        guardrail_id=_w.opt_str(details.get("guardrailId"), f"{at_details}.guardrailId"),
        guardrail_version=_w.opt_str(
            details.get("guardrailVersion"), f"{at_details}.guardrailVersion"
        ),
        guarded_images=_w.opt_count(images.get("guarded"), f"{at}.images.guarded"),
        total_images=_w.opt_count(images.get("total"), f"{at}.images.total"),
        guardrail_arn=_w.opt_str(details.get("guardrailArn"), f"{at_details}.guardrailArn"),
    )


def parse_guardrail_usage(usage: Mapping[str, Any] | None) -> GuardrailUsage:
    """Parse a guardrail ``usage`` object (text units per policy).

    Raises:
        MalformedResponseError: When it is not an object of counts.
    """
    with _w.malformed("guardrail usage", raw=usage):
        return _usage(usage, "usage")


def parse_assessment(wire: Mapping[str, Any]) -> GuardrailAssessment:
    """Parse one ``GuardrailAssessment`` wire object (nulls and missing policies allowed).

    Raises:
        MalformedResponseError: When a member is not of its documented type.
    """
    with _w.malformed("guardrail assessment", raw=wire):
        return _assessment(wire, "assessment")


def _assessment_map(value: Any, path: str) -> dict[str, Any]:
    found = _w.obj(value, path)
    for key in found:
        if not isinstance(key, str):
            raise _w.WireShapeError(path, "an object keyed by guardrail id", value)
    return dict(found)


def _trace(wire: Mapping[str, Any]) -> GuardrailTrace:
    inputs = _assessment_map(wire.get("inputAssessment"), "guardrail.inputAssessment")
    outputs = _assessment_map(wire.get("outputAssessments"), "guardrail.outputAssessments")
    output_assessments: dict[str, tuple[GuardrailAssessment, ...]] = {}
    for gid, group in outputs.items():
        at = f"guardrail.outputAssessments.{gid}"
        output_assessments[gid] = tuple(
            _assessment(a, f"{at}[{i}]") for i, a in enumerate(_w.objects(group, at))
        )
    return GuardrailTrace(
        input_assessments={
            gid: _assessment(a, f"guardrail.inputAssessment.{gid}") for gid, a in inputs.items()
        },
        output_assessments=output_assessments,
        model_output=_w.strings(wire.get("modelOutput"), "guardrail.modelOutput"),
        action_reason=_w.opt_str(wire.get("actionReason"), "guardrail.actionReason"),
    )


def parse_guardrail_trace(wire: Mapping[str, Any] | None) -> GuardrailTrace | None:
    """Parse ``trace.guardrail`` of a Converse response or ConverseStream metadata event.

    Raises:
        MalformedResponseError: When the trace or a member is not of its documented type.
    """
    if wire is None:
        return None
    with _w.malformed("guardrail trace", raw=wire):
        shaped = _w.obj(wire, "guardrail")
        return _trace(shaped) if shaped else None


def _invoke_trace(body: Any) -> dict[str, Any]:
    trace = _w.obj(_w.obj(body, "body").get("amazon-bedrock-trace"), "amazon-bedrock-trace")
    wire = _w.obj(trace.get("guardrail"), "amazon-bedrock-trace.guardrail")
    if not wire:
        return {}
    outputs: dict[str, list[Any]] = {}
    path = "amazon-bedrock-trace.guardrail.outputs"
    for i, group in enumerate(_w.objects(wire.get("outputs"), path)):
        for gid, assessment in _assessment_map(group, f"{path}[{i}]").items():
            outputs.setdefault(gid, []).append(assessment)
    shaped: dict[str, Any] = {
        "inputAssessment": _assessment_map(
            wire.get("input"), "amazon-bedrock-trace.guardrail.input"
        ),
        "outputAssessments": outputs,
        "modelOutput": list(
            _w.strings(wire.get("modelOutput"), "amazon-bedrock-trace.guardrail.modelOutput")
        ),
    }
    if "actionReason" in wire:
        shaped["actionReason"] = _w.opt_str(
            wire["actionReason"], "amazon-bedrock-trace.guardrail.actionReason"
        )
    return shaped


def invoke_trace_as_converse(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """``amazon-bedrock-trace`` of an InvokeModel body in Converse's ``trace.guardrail`` shape.

    InvokeModel names the parts ``input`` and ``outputs`` (a list of ``{guardrailId:
    assessment}``) where Converse says ``inputAssessment`` and ``outputAssessments``.
    Returns ``{}`` when the body has no guardrail trace.

    Raises:
        MalformedResponseError: When the body or its trace is not of the documented shape.
    """
    with _w.malformed("InvokeModel guardrail trace", raw=body):
        return _invoke_trace(body)


def parse_invoke_model_trace(body: Mapping[str, Any] | None) -> GuardrailTrace | None:
    """Parse the guardrail fields of an InvokeModel (or last stream chunk) response body.

    ``amazon-bedrock-guardrailAction`` and ``amazon-bedrock-trace`` sit beside the model's
    own fields; numbers may arrive as floats (``28.0``).

    Returns:
        The trace, or None when the body carries neither field.

    Raises:
        MalformedResponseError: When the body or its trace is not of the documented shape.
    """
    with _w.malformed("InvokeModel guardrail trace", raw=body):
        action = _w.opt_str(
            _w.obj(body, "body").get("amazon-bedrock-guardrailAction"),
            "amazon-bedrock-guardrailAction",
        )
        shaped = _invoke_trace(body)
        if action is None and not shaped:
            return None
        trace = _trace(shaped) if shaped else GuardrailTrace()
        return replace(trace, action=action)
