"""What LocalBedrock billed per request, read from the bytes it sent.

Every request in :attr:`LocalBedrock.requests <bedrock_kit.testing.LocalBedrock.requests>`
carries a :class:`BilledUsage` (``request.billed``): the usage Amazon Bedrock would bill for
that answer, computed in this one place from the response body and event-stream frames the
server wrote (after faults: a truncated stream bills only the frames that went out, an error
reply bills nothing). Tests price it with a price table and compare with a ledger's report.

What is read, per operation:

* Converse / ConverseStream: ``usage`` (input, output, cache read and write tokens) and the
  guardrail trace's ``invocationMetrics.usage`` per guardrail id, the input assessment and
  every output assessment (one per streamed chunk Bedrock evaluated) once each.
* InvokeModel(WithResponseStream): the ``X-Amzn-Bedrock-*-Token-Count`` headers, else the
  body's (or the stream's ``amazon-bedrock-invocationMetrics``) counts, and the guardrail
  units of the last ``amazon-bedrock-trace`` (``input`` and every ``outputs`` entry); an
  embedding answer's input tokens as ``embedding_input_tokens``; Cohere Rerank's
  ``meta.billed_units``.
* ApplyGuardrail: the answer's ``usage`` per policy, under the guardrail id of the path.
* Rerank: one search unit per 100 documents per query (Bedrock's rule; the answer has no
  usage).
* RetrieveAndGenerate(Stream): the answer reports no model tokens: ``usage_reported`` is
  False (a ledger charges its cap); Retrieve: one ``retrieval_queries``, and with a Bedrock
  reranking model one search unit per 100 results reranked.
* InvokeAgent / InvokeInlineAgent: the model tokens of every ``modelInvocationOutput``
  trace, per foundation model (from the ``modelInvocationInput`` traces).
* InvokeFlow: node transitions, per node the larger of its input and output trace counts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.eventstream import EventStreamBuffer

__all__ = ["GUARDRAIL_POLICY_UNITS", "BilledUsage", "billed_usage", "decode_frames"]

GUARDRAIL_POLICY_UNITS = (
    "contentPolicyUnits",
    "contentPolicyImageUnits",
    "topicPolicyUnits",
    "wordPolicyUnits",
    "sensitiveInformationPolicyUnits",
    "sensitiveInformationPolicyFreeUnits",
    "contextualGroundingPolicyUnits",
    "automatedReasoningPolicyUnits",
)
"""The billed members of a guardrail assessment's usage (ApplyGuardrail and traces)."""

_DOCUMENTS_PER_SEARCH_UNIT = 100
_TOKEN_HEADERS = {
    "input": "x-amzn-bedrock-input-token-count",
    "output": "x-amzn-bedrock-output-token-count",
    "cache_read": "x-amzn-bedrock-cache-read-input-token-count",
    "cache_write": "x-amzn-bedrock-cache-write-input-token-count",
}


@dataclass(frozen=True)
class BilledUsage:
    """What one request billed, as LocalBedrock's answer to it said."""

    operation: str
    """botocore operation name."""
    model_id: str | None = None
    """Model billed (path ``modelId``, a RetrieveAndGenerate or Rerank ``modelArn``)."""
    input_tokens: int = 0
    """Model input tokens (cache tokens excluded)."""
    output_tokens: int = 0
    """Model output tokens."""
    cache_read_input_tokens: int = 0
    """Input tokens read from the prompt cache."""
    cache_write_input_tokens: int = 0
    """Input tokens written to the prompt cache."""
    guardrail_units: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Guardrail id -> billed usage member (``contentPolicyUnits``...) -> text units."""
    embedding_input_tokens: int = 0
    """Input tokens of an embedding call."""
    search_units: int = 0
    """Rerank search units (a query over up to 100 documents)."""
    agent_tokens: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Agent traces: foundation model -> (input, output) tokens."""
    node_transitions: int = 0
    """Prompt Flow node transitions the traces show."""
    retrieval_queries: int = 0
    """Knowledge base Retrieve queries."""
    usage_reported: bool = True
    """False when the answer does not say what it billed (RetrieveAndGenerate)."""
    status: int = 200
    """HTTP status of the answer (an error answer bills nothing)."""

    def guardrail_total(self, guardrail_id: str | None = None) -> int:
        """Text units of every policy, for one guardrail id or all of them."""
        return sum(
            sum(units.values())
            for gid, units in self.guardrail_units.items()
            if guardrail_id is None or gid == guardrail_id
        )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def decode_frames(frames: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    """``(event type, payload)`` of each well-formed event frame (exceptions skipped)."""
    for frame in frames:
        buffer = EventStreamBuffer()
        buffer.add_data(frame)
        with contextlib.suppress(Exception):  # a corrupted frame: the client gets nothing
            for message in buffer:
                headers: Mapping[str, Any] = getattr(message, "headers", {})
                if headers.get(":message-type") != "event":
                    continue
                yield str(headers.get(":event-type", "")), _json(message.payload)


# -- guardrail usage


def _add_units(found: dict[str, dict[str, int]], gid: str, usage: Any) -> None:
    if not isinstance(usage, Mapping):
        return
    units = found.setdefault(gid, {})
    for name in GUARDRAIL_POLICY_UNITS:
        count = _int(usage.get(name))
        if count:
            units[name] = units.get(name, 0) + count


def _assessment_usage(assessment: Any) -> Any:
    metrics = assessment.get("invocationMetrics") if isinstance(assessment, Mapping) else None
    return metrics.get("usage") if isinstance(metrics, Mapping) else None


def _trace_units(trace: Any, found: dict[str, dict[str, int]]) -> None:
    guardrail = trace.get("guardrail") if isinstance(trace, Mapping) else None
    if not isinstance(guardrail, Mapping):
        return
    inputs = guardrail.get("inputAssessment") or {}
    for gid, assessment in inputs.items() if isinstance(inputs, Mapping) else ():
        _add_units(found, str(gid), _assessment_usage(assessment))
    outputs = guardrail.get("outputAssessments") or {}
    for gid, assessments in outputs.items() if isinstance(outputs, Mapping) else ():
        for assessment in assessments if isinstance(assessments, list) else ():
            _add_units(found, str(gid), _assessment_usage(assessment))
    # InvokeModel's amazon-bedrock-trace: {"input": {id: a}, "outputs": [{id: a}, ...]}
    invoke_input = guardrail.get("input") or {}
    for gid, assessment in invoke_input.items() if isinstance(invoke_input, Mapping) else ():
        _add_units(found, str(gid), _assessment_usage(assessment))
    invoke_outputs = guardrail.get("outputs") or []
    for group in invoke_outputs if isinstance(invoke_outputs, list) else ():
        for gid, assessment in group.items() if isinstance(group, Mapping) else ():
            _add_units(found, str(gid), _assessment_usage(assessment))


# -- per operation


def _converse(
    operation: str, model: str | None, documents: Iterable[Mapping[str, Any]]
) -> BilledUsage:
    tokens = {"input": 0, "output": 0, "read": 0, "write": 0}
    units: dict[str, dict[str, int]] = {}
    for document in documents:
        usage = document.get("usage")
        if isinstance(usage, Mapping):
            tokens["input"] += _int(usage.get("inputTokens"))
            tokens["output"] += _int(usage.get("outputTokens"))
            tokens["read"] += _int(usage.get("cacheReadInputTokens"))
            tokens["write"] += _int(usage.get("cacheWriteInputTokens"))
        _trace_units(document.get("trace"), units)
    return BilledUsage(
        operation,
        model,
        input_tokens=tokens["input"],
        output_tokens=tokens["output"],
        cache_read_input_tokens=tokens["read"],
        cache_write_input_tokens=tokens["write"],
        guardrail_units=units,
    )


def _header_tokens(headers: Mapping[str, str]) -> dict[str, int]:
    lowered = {k.lower(): v for k, v in headers.items()}
    found: dict[str, int] = {}
    for kind, name in _TOKEN_HEADERS.items():
        value = lowered.get(name)
        if value is not None and value.strip().isdigit():
            found[kind] = int(value)
    return found


def _body_tokens(body: Mapping[str, Any]) -> dict[str, int]:
    metrics = body.get("amazon-bedrock-invocationMetrics")
    if isinstance(metrics, Mapping):
        return {
            "input": _int(metrics.get("inputTokenCount")),
            "output": _int(metrics.get("outputTokenCount")),
            "cache_read": _int(metrics.get("cacheReadInputTokenCount")),
            "cache_write": _int(metrics.get("cacheWriteInputTokenCount")),
        }
    usage = body.get("usage")
    if isinstance(usage, Mapping):  # Anthropic and Nova bodies
        return {
            "input": _int(usage.get("input_tokens", usage.get("inputTokens"))),
            "output": _int(usage.get("output_tokens", usage.get("outputTokens"))),
            "cache_read": _int(
                usage.get("cache_read_input_tokens", usage.get("cacheReadInputTokenCount"))
            ),
            "cache_write": _int(
                usage.get("cache_creation_input_tokens", usage.get("cacheWriteInputTokenCount"))
            ),
        }
    if "inputTextTokenCount" in body:
        return {"input": _int(body["inputTextTokenCount"])}
    return {}


def _is_embedding(body: Mapping[str, Any]) -> bool:
    return any(key in body for key in ("embedding", "embeddings", "embeddingsByType"))


def _invoke(
    operation: str,
    model: str | None,
    headers: Mapping[str, str],
    body: Any,
    chunks: list[Mapping[str, Any]],
) -> BilledUsage:
    if isinstance(body, Mapping) and isinstance(body.get("meta"), Mapping):
        billed = body["meta"].get("billed_units") or {}
        if "search_units" in billed:
            return BilledUsage(operation, model, search_units=_int(billed["search_units"]))
    tokens = _header_tokens(headers)
    units: dict[str, dict[str, int]] = {}
    documents = [body, *chunks] if isinstance(body, Mapping) else chunks
    for document in documents:
        for kind, count in _body_tokens(document).items():
            tokens.setdefault(kind, count)  # the headers win: they are what Bedrock bills
    # The last chunk's guardrail trace, read as the client reads it (core/chat/invoke):
    # whether a stream's earlier chunks carry traces of their own is not documented.
    traces = [d["amazon-bedrock-trace"] for d in documents if "amazon-bedrock-trace" in d]
    if traces:
        _trace_units(traces[-1], units)
    if isinstance(body, Mapping) and _is_embedding(body):
        return BilledUsage(operation, model, embedding_input_tokens=tokens.get("input", 0))
    return BilledUsage(
        operation,
        model,
        input_tokens=tokens.get("input", 0),
        output_tokens=tokens.get("output", 0),
        cache_read_input_tokens=tokens.get("cache_read", 0),
        cache_write_input_tokens=tokens.get("cache_write", 0),
        guardrail_units=units,
    )


def _stream_chunks(events: list[tuple[str, Any]]) -> list[Mapping[str, Any]]:
    found = []
    for name, payload in events:
        if name == "chunk" and isinstance(payload, Mapping):
            raw = payload.get("bytes")
            with contextlib.suppress(ValueError, TypeError):
                inner = _json(base64.b64decode(raw)) if isinstance(raw, str) else None
                if isinstance(inner, Mapping):
                    found.append(inner)
    return found


def _walk(value: Any, key: str) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            if name == key and isinstance(inner, Mapping):
                yield inner
            else:
                yield from _walk(inner, key)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, key)


def _agent(operation: str, events: list[tuple[str, Any]]) -> BilledUsage:
    per_model: dict[str, tuple[int, int]] = {}
    model = ""
    for name, payload in events:
        if name != "trace":
            continue
        for invocation in _walk(payload, "modelInvocationInput"):
            model = str(invocation.get("foundationModel") or model)
        for output in _walk(payload, "modelInvocationOutput"):
            usage = (output.get("metadata") or {}).get("usage") or {}
            seen = per_model.get(model, (0, 0))
            per_model[model] = (
                seen[0] + _int(usage.get("inputTokens")),
                seen[1] + _int(usage.get("outputTokens")),
            )
    return BilledUsage(operation, model or None, agent_tokens=per_model)


def _flow(operation: str, events: list[tuple[str, Any]]) -> BilledUsage:
    inputs: dict[str, int] = {}
    outputs: dict[str, int] = {}
    for name, payload in events:
        if name != "flowTraceEvent" or not isinstance(payload, Mapping):
            continue
        trace = payload.get("trace") or {}
        for kind, counts in (("nodeInputTrace", inputs), ("nodeOutputTrace", outputs)):
            node = trace.get(kind)
            if isinstance(node, Mapping):
                key = str(node.get("nodeName", ""))
                counts[key] = counts.get(key, 0) + 1
    nodes = {*inputs, *outputs}
    return BilledUsage(
        operation, node_transitions=sum(max(inputs.get(n, 0), outputs.get(n, 0)) for n in nodes)
    )


def _rerank(operation: str, request: Any) -> BilledUsage:
    body = request if isinstance(request, Mapping) else {}
    documents = len(body.get("sources") or [])
    queries = len(body.get("queries") or [])
    config = (body.get("rerankingConfiguration") or {}).get("bedrockRerankingConfiguration") or {}
    model = (config.get("modelConfiguration") or {}).get("modelArn")
    units = queries * math.ceil(documents / _DOCUMENTS_PER_SEARCH_UNIT) if documents else 0
    return BilledUsage(operation, model, search_units=units)


def _retrieve(operation: str, request: Any) -> BilledUsage:
    """One query; a Bedrock reranking model also bills a search unit per 100 results."""
    body = request if isinstance(request, Mapping) else {}
    vector = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
    reranking = (vector.get("rerankingConfiguration") or {}).get("bedrockRerankingConfiguration")
    model = ((reranking or {}).get("modelConfiguration") or {}).get("modelArn")
    if not model:
        return BilledUsage(operation, retrieval_queries=1)
    results = _int(vector.get("numberOfResults")) or 5  # Bedrock's default
    units = math.ceil(results / _DOCUMENTS_PER_SEARCH_UNIT)
    return BilledUsage(operation, str(model), retrieval_queries=1, search_units=units)


def _rag_model(request: Any) -> str | None:
    body = request if isinstance(request, Mapping) else {}
    config = body.get("retrieveAndGenerateConfiguration") or {}
    for key in ("knowledgeBaseConfiguration", "externalSourcesConfiguration"):
        model = (config.get(key) or {}).get("modelArn")
        if model:
            return str(model)
    return None


def billed_usage(
    operation: str,
    *,
    status: int,
    path_params: Mapping[str, str],
    request_body: Any,
    headers: Mapping[str, str],
    body: bytes = b"",
    frames: Iterable[bytes] = (),
) -> BilledUsage:
    """The usage an answer bills, from the bytes sent (see the module doc).

    Args:
        operation: botocore operation name.
        status: HTTP status sent.
        path_params: The request's decoded path labels.
        request_body: The parsed request body.
        headers: Response headers sent.
        body: Response body sent (JSON replies).
        frames: Event-stream frames sent, in order.
    """
    model = path_params.get("modelId")
    if status >= 300:
        return BilledUsage(operation, model, status=status, usage_reported=False)
    events = list(decode_frames(frames))
    document = _json(body) if body else None
    if operation in ("Converse", "ConverseStream"):
        documents = [p for _, p in events if isinstance(p, Mapping)]
        if isinstance(document, Mapping):
            documents.append(document)
        return _converse(operation, model, documents)
    if operation in ("InvokeModel", "InvokeModelWithResponseStream"):
        return _invoke(operation, model, headers, document, _stream_chunks(events))
    if operation == "ApplyGuardrail":
        units: dict[str, dict[str, int]] = {}
        if isinstance(document, Mapping):
            _add_units(units, path_params.get("guardrailIdentifier", ""), document.get("usage"))
        return BilledUsage(operation, guardrail_units=units)
    if operation == "Rerank":
        return _rerank(operation, request_body)
    if operation in ("RetrieveAndGenerate", "RetrieveAndGenerateStream"):
        return BilledUsage(operation, _rag_model(request_body), usage_reported=False)
    if operation == "Retrieve":
        return _retrieve(operation, request_body)
    if operation in ("InvokeAgent", "InvokeInlineAgent"):
        return _agent(operation, events)
    if operation == "InvokeFlow":
        return _flow(operation, events)
    return BilledUsage(operation, model)
