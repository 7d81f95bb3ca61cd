"""Bedrock Agents traces and citations, parsed into typed steps.

An InvokeAgent ``trace`` event carries one member of the ``Trace`` union
(``preProcessingTrace``, ``orchestrationTrace``, ``postProcessingTrace``, ``guardrailTrace``,
``failureTrace``, ``routingClassifierTrace``, ``customOrchestrationTrace``), itself a union of
model input/output, rationale, invocation input and observation. :func:`parse_trace_event`
maps each to one small dataclass through a lookup table; what has no dedicated type becomes
an :class:`OtherStep` with the wire dict, so nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.guardrails.assessments import GuardrailAssessment, parse_assessment
from bedrock_kit.core.transport.wire import WireReader

__all__ = [
    "ActionGroupInvocationStep",
    "ActionGroupObservationStep",
    "AgentCitation",
    "AgentReference",
    "AgentStep",
    "FailureStep",
    "FinalResponseStep",
    "GuardrailStep",
    "KnowledgeBaseLookupStep",
    "KnowledgeBaseResultStep",
    "ModelInvocationStep",
    "ModelOutputStep",
    "OtherStep",
    "PostProcessingStep",
    "PreProcessingStep",
    "RationaleStep",
    "RepromptStep",
    "TraceMetadata",
    "parse_citations",
    "parse_trace_event",
]


@dataclass(frozen=True)
class TraceMetadata:
    """Timing and usage Bedrock attaches to a step (``Metadata``)."""

    input_tokens: int | None = None
    """Model input tokens of this step, when it invoked a model."""
    output_tokens: int | None = None
    """Model output tokens of this step, when it invoked a model."""
    total_time_ms: int | None = None
    """``totalTimeMs`` (or ``operationTotalTimeMs`` on the final response)."""
    start_time: str | None = None
    """``startTime`` as sent (ISO 8601)."""
    end_time: str | None = None
    """``endTime`` as sent (ISO 8601)."""
    client_request_id: str | None = None
    """``clientRequestId`` of the inner call."""

    @property
    def usage(self) -> Usage | None:
        """Token usage as the core :class:`Usage`, or None when the step used no model."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        inputs, outputs = self.input_tokens or 0, self.output_tokens or 0
        return Usage(input_tokens=inputs, output_tokens=outputs, total_tokens=inputs + outputs)


@dataclass(frozen=True, kw_only=True)
class AgentStep:
    """Fields every trace step has."""

    phase: str
    """Trace member it came from: ``preProcessing``, ``orchestration``, ``postProcessing``,
    ``routingClassifier``, ``guardrail``, ``failure``, ``customOrchestration``."""
    trace_id: str | None = None
    """``traceId`` tying input, output and observation of one model turn together."""
    agent_id: str | None = None
    """Agent that produced the step (a collaborator's id in multi-agent setups)."""
    collaborator_name: str | None = None
    """``collaboratorName`` when a collaborator agent produced the step."""
    event_time: str | None = None
    """``eventTime`` as sent."""
    metadata: TraceMetadata = field(default_factory=TraceMetadata)
    """Timing and token usage, where Bedrock sent them."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The trace member as Bedrock sent it."""


@dataclass(frozen=True, kw_only=True)
class ModelInvocationStep(AgentStep):
    """The prompt the agent sent to its model (``modelInvocationInput``)."""

    prompt_type: str | None = None
    """``PRE_PROCESSING``, ``ORCHESTRATION``, ``POST_PROCESSING``, ..."""
    text: str = ""
    """The full prompt text."""
    foundation_model: str | None = None
    """Model id, when sent."""
    inference_configuration: Mapping[str, Any] = field(default_factory=dict)
    """Temperature, topP, topK, maximumLength and stop sequences."""


@dataclass(frozen=True, kw_only=True)
class ModelOutputStep(AgentStep):
    """The model's raw answer during orchestration (``modelInvocationOutput``)."""

    raw_response: str = ""
    """``rawResponse.content``: the model's reply as Bedrock logged it."""
    reasoning_text: str | None = None
    """``reasoningContent.reasoningText.text`` for reasoning models."""


@dataclass(frozen=True, kw_only=True)
class PreProcessingStep(AgentStep):
    """Pre-processing verdict on the user input (``preProcessingTrace`` output)."""

    is_valid: bool | None = None
    """Whether the agent judged the input valid."""
    rationale: str | None = None
    """Why."""
    raw_response: str = ""
    """The model's raw reply."""


@dataclass(frozen=True, kw_only=True)
class PostProcessingStep(AgentStep):
    """The post-processed final answer (``postProcessingTrace`` output)."""

    text: str = ""
    """``parsedResponse.text``."""
    raw_response: str = ""
    """The model's raw reply."""


@dataclass(frozen=True, kw_only=True)
class RationaleStep(AgentStep):
    """The agent's reasoning before acting (``rationale``)."""

    text: str = ""
    """The rationale."""


@dataclass(frozen=True, kw_only=True)
class ActionGroupInvocationStep(AgentStep):
    """The agent calls an action group (``invocationInput.actionGroupInvocationInput``)."""

    action_group: str = ""
    """``actionGroupName``."""
    function: str | None = None
    """Function name (function-schema action groups)."""
    api_path: str | None = None
    """API path (OpenAPI action groups)."""
    verb: str | None = None
    """HTTP verb (OpenAPI action groups)."""
    parameters: Mapping[str, str] = field(default_factory=dict)
    """Parameters by name, string values as sent."""
    request_body: Mapping[str, Any] = field(default_factory=dict)
    """``requestBody.content`` (OpenAPI action groups)."""
    execution_type: str | None = None
    """``LAMBDA`` or ``RETURN_CONTROL``."""
    invocation_id: str | None = None
    """Id the return-of-control results must echo."""


@dataclass(frozen=True, kw_only=True)
class ActionGroupObservationStep(AgentStep):
    """What the action group returned (``observation.actionGroupInvocationOutput``)."""

    text: str = ""
    """The output text."""


@dataclass(frozen=True, kw_only=True)
class KnowledgeBaseLookupStep(AgentStep):
    """The agent queries a knowledge base (``invocationInput.knowledgeBaseLookupInput``)."""

    knowledge_base_id: str | None = None
    """Knowledge base id."""
    query: str = ""
    """The query text."""


@dataclass(frozen=True)
class AgentReference:
    """One retrieved source (``RetrievedReference``)."""

    text: str = ""
    """``content.text`` (empty for non-text content)."""
    location_type: str | None = None
    """``location.type``: ``S3``, ``WEB``, ``CONFLUENCE``, ``CUSTOM`` ..."""
    uri: str | None = None
    """The location's uri/url/id, whichever the type has."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """``metadata`` as sent."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The reference as Bedrock sent it."""


@dataclass(frozen=True, kw_only=True)
class KnowledgeBaseResultStep(AgentStep):
    """What the knowledge base returned (``observation.knowledgeBaseLookupOutput``)."""

    references: tuple[AgentReference, ...] = ()
    """Retrieved references, in rank order."""


@dataclass(frozen=True, kw_only=True)
class FinalResponseStep(AgentStep):
    """The agent finished (``observation.finalResponse``)."""

    text: str = ""
    """The final answer."""


@dataclass(frozen=True, kw_only=True)
class RepromptStep(AgentStep):
    """The agent re-prompts its model (``observation.repromptResponse``)."""

    text: str = ""
    """Why."""
    source: str | None = None
    """``ACTION_GROUP``, ``KNOWLEDGE_BASE`` or ``PARSER``."""


@dataclass(frozen=True, kw_only=True)
class GuardrailStep(AgentStep):
    """A guardrail check on input or output (``guardrailTrace``)."""

    action: str | None = None
    """``INTERVENED`` or ``NONE``."""
    input_assessments: tuple[GuardrailAssessment, ...] = ()
    """Typed assessments of the input."""
    output_assessments: tuple[GuardrailAssessment, ...] = ()
    """Typed assessments of the output."""

    @property
    def intervened(self) -> bool:
        """True when the guardrail intervened."""
        return self.action == "INTERVENED"


@dataclass(frozen=True, kw_only=True)
class FailureStep(AgentStep):
    """The agent failed (``failureTrace``)."""

    reason: str = ""
    """``failureReason``."""
    code: int | None = None
    """``failureCode``."""


@dataclass(frozen=True, kw_only=True)
class OtherStep(AgentStep):
    """A step without a dedicated type (code interpreter, collaborator, routing, custom)."""

    kind: str = ""
    """The wire member name (``codeInterpreterInvocationInput``, ...)."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """That member as sent."""


# -- parsing

_TRACE = WireReader("InvokeAgent trace")


def _metadata(wire: Mapping[str, Any] | None) -> TraceMetadata:
    wire = wire or {}
    usage = wire.get("usage") or {}
    total = wire.get("totalTimeMs", wire.get("operationTotalTimeMs"))
    return TraceMetadata(
        input_tokens=usage.get("inputTokens"),
        output_tokens=usage.get("outputTokens"),
        total_time_ms=None if total is None else int(total),
        start_time=None if wire.get("startTime") is None else str(wire["startTime"]),
        end_time=None if wire.get("endTime") is None else str(wire["endTime"]),
        client_request_id=wire.get("clientRequestId"),
    )


def _reference(wire: Mapping[str, Any]) -> AgentReference:
    location = wire.get("location") or {}
    uri = None
    for key, value in location.items():
        if key != "type" and isinstance(value, Mapping):
            uri = value.get("uri") or value.get("url") or value.get("id") or value.get("query")
    return AgentReference(
        text=str((wire.get("content") or {}).get("text") or ""),
        location_type=location.get("type"),
        uri=uri,
        metadata=dict(wire.get("metadata") or {}),
        raw=wire,
    )


def _model_input(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    return ModelInvocationStep(
        **base,
        prompt_type=wire.get("type"),
        text=str(wire.get("text") or ""),
        foundation_model=wire.get("foundationModel"),
        inference_configuration={
            k: v for k, v in (wire.get("inferenceConfiguration") or {}).items() if k != "__type"
        },
    )


def _raw_response(wire: Mapping[str, Any]) -> str:
    return str((wire.get("rawResponse") or {}).get("content") or "")


def _model_output(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    phase = base["phase"]
    parsed = wire.get("parsedResponse") or {}
    if phase == "preProcessing":
        return PreProcessingStep(
            **base,
            is_valid=parsed.get("isValid"),
            rationale=parsed.get("rationale"),
            raw_response=_raw_response(wire),
        )
    if phase == "postProcessing":
        return PostProcessingStep(
            **base, text=str(parsed.get("text") or ""), raw_response=_raw_response(wire)
        )
    reasoning = (wire.get("reasoningContent") or {}).get("reasoningText") or {}
    return ModelOutputStep(
        **base, raw_response=_raw_response(wire), reasoning_text=reasoning.get("text")
    )


def _invocation_input(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    if "actionGroupInvocationInput" in wire:
        call = wire["actionGroupInvocationInput"]
        return ActionGroupInvocationStep(
            **base,
            action_group=str(call.get("actionGroupName") or ""),
            function=call.get("function"),
            api_path=call.get("apiPath"),
            verb=call.get("verb"),
            parameters={str(p.get("name")): p.get("value") for p in call.get("parameters") or ()},
            request_body=dict((call.get("requestBody") or {}).get("content") or {}),
            execution_type=call.get("executionType"),
            invocation_id=call.get("invocationId"),
        )
    if "knowledgeBaseLookupInput" in wire:
        lookup = wire["knowledgeBaseLookupInput"]
        return KnowledgeBaseLookupStep(
            **base, knowledge_base_id=lookup.get("knowledgeBaseId"), query=lookup.get("text") or ""
        )
    return _other(wire, base)


def _observation(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    if "actionGroupInvocationOutput" in wire:
        output = wire["actionGroupInvocationOutput"]
        base["metadata"] = _metadata(output.get("metadata"))
        return ActionGroupObservationStep(**base, text=str(output.get("text") or ""))
    if "knowledgeBaseLookupOutput" in wire:
        output = wire["knowledgeBaseLookupOutput"]
        base["metadata"] = _metadata(output.get("metadata"))
        refs = tuple(_reference(r) for r in output.get("retrievedReferences") or ())
        return KnowledgeBaseResultStep(**base, references=refs)
    if "finalResponse" in wire:
        final = wire["finalResponse"]
        base["metadata"] = _metadata(final.get("metadata"))
        return FinalResponseStep(**base, text=str(final.get("text") or ""))
    if "repromptResponse" in wire:
        reprompt = wire["repromptResponse"]
        return RepromptStep(
            **base, text=str(reprompt.get("text") or ""), source=reprompt.get("source")
        )
    return _other(wire, base)


def _other(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    kinds = [k for k in wire if k not in ("traceId", "type", "invocationType")]
    return OtherStep(**base, kind=kinds[0] if kinds else str(wire.get("type") or ""), data=wire)


_MEMBERS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], AgentStep]] = {
    "modelInvocationInput": _model_input,
    "modelInvocationOutput": _model_output,
    "rationale": lambda w, b: RationaleStep(**b, text=str(w.get("text") or "")),
    "invocationInput": _invocation_input,
    "observation": _observation,
}


def _guardrail(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    # An unknown or missing action is never read as "the guardrail let it through".
    action = _TRACE.one_of(wire.get("action"), ("INTERVENED", "NONE"), "guardrailTrace.action")
    return GuardrailStep(
        **base,
        action=action,
        input_assessments=tuple(parse_assessment(a) for a in wire.get("inputAssessments") or ()),
        output_assessments=tuple(parse_assessment(a) for a in wire.get("outputAssessments") or ()),
    )


def _failure(wire: Mapping[str, Any], base: dict[str, Any]) -> AgentStep:
    code = wire.get("failureCode")
    return FailureStep(
        **base,
        reason=str(wire.get("failureReason") or ""),
        code=None if code is None else int(code),
    )


def _trace_base(phase: str, wire: Mapping[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "phase": phase,
        "trace_id": wire.get("traceId"),
        "agent_id": part.get("agentId"),
        "collaborator_name": part.get("collaboratorName"),
        "event_time": None if part.get("eventTime") is None else str(part["eventTime"]),
        "metadata": _metadata(wire.get("metadata")),
        "raw": wire,
    }


def parse_trace_event(part: Mapping[str, Any]) -> list[AgentStep]:
    """Typed steps of one ``trace`` event (a ``TracePart``); usually exactly one."""
    trace = part.get("trace") or {}
    steps: list[AgentStep] = []
    for member, wire in trace.items():
        phase = member.removesuffix("Trace")
        if member == "guardrailTrace":
            steps.append(_guardrail(wire, _trace_base(phase, wire, part)))
        elif member == "failureTrace":
            steps.append(_failure(wire, _trace_base(phase, wire, part)))
        elif member == "customOrchestrationTrace" or not isinstance(wire, Mapping):
            steps.append(OtherStep(phase=phase, kind=member, data=wire, raw=wire))
        else:
            # preProcessing / orchestration / postProcessing / routingClassifier: one union
            for kind, inner in wire.items():
                parse = _MEMBERS.get(kind)
                base = _trace_base(phase, inner, part)
                if parse is None:
                    steps.append(OtherStep(**base, kind=kind, data=inner))
                else:
                    steps.append(parse(inner, base))
    return steps


@dataclass(frozen=True)
class AgentCitation:
    """A span of the answer and the sources behind it (``attribution.citations[]``)."""

    text: str = ""
    """The cited part of the answer."""
    start: int | None = None
    """Start offset of the span in the answer chunk."""
    end: int | None = None
    """End offset of the span in the answer chunk."""
    references: tuple[AgentReference, ...] = ()
    """Sources of that span."""


def parse_citations(attribution: Mapping[str, Any] | None) -> tuple[AgentCitation, ...]:
    """Citations of a ``chunk`` event's ``attribution``."""
    citations = []
    for wire in (attribution or {}).get("citations") or ():
        part = (wire.get("generatedResponsePart") or {}).get("textResponsePart") or {}
        span = part.get("span") or {}
        citations.append(
            AgentCitation(
                text=str(part.get("text") or ""),
                start=span.get("start"),
                end=span.get("end"),
                references=tuple(_reference(r) for r in wire.get("retrievedReferences") or ()),
            )
        )
    return tuple(citations)
