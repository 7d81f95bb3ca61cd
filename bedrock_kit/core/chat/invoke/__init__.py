"""InvokeModel and InvokeModelWithResponseStream for each provider's native body format.

Codecs (one small module per provider family) turn provider bodies into Converse shapes, so
the Converse parser and the one stream reducer produce the same :class:`ConverseResult` and
deltas for ``api="invoke"`` as for ``api="converse"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bedrock_kit.core.chat.converse import parse_converse_response, request_id_of
from bedrock_kit.core.chat.invoke import ai21, anthropic, cohere, llama, mistral, nova, titan
from bedrock_kit.core.chat.invoke._base import (
    INTERVENED,
    Codec,
    InvokeInput,
    converse_response,
    intervened,
)
from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.chat.types import ConverseResult, GuardrailConfig
from bedrock_kit.core.guardrails.assessments import invoke_trace_as_converse
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "Codec",
    "InvokeInput",
    "InvokeStreamAdapter",
    "build_invoke_request",
    "build_raw_invoke_request",
    "codec_for",
    "known_model",
    "parse_invoke_response",
]

# Model id prefix (after region/ARN stripping) -> codec; first match wins, so longer first.
_CODECS: tuple[tuple[str, Codec], ...] = (
    ("anthropic.", anthropic.CODEC),
    ("amazon.nova", nova.CODEC),
    ("amazon.titan-text", titan.CODEC),
    ("amazon.titan-tg1", titan.CODEC),
    ("meta.llama", llama.CODEC),
    ("mistral.mistral-large", mistral.CHAT_CODEC),
    ("mistral.pixtral", mistral.CHAT_CODEC),
    ("mistral.", mistral.CODEC),
    ("cohere.command-r", cohere.CODEC),
    ("cohere.command", cohere.LEGACY_CODEC),
    ("ai21.jamba", ai21.CODEC),
)
SUPPORTED_PROVIDERS = tuple(sorted({codec.name for _, codec in _CODECS}))


def codec_for(model_id: str) -> Codec:
    """The body codec of ``model_id``; a clear error names the supported providers."""
    base = base_model_id(model_id)
    for prefix, codec in _CODECS:
        if base.startswith(prefix):
            return codec
    raise ConfigurationError(
        f"no InvokeModel body format known for model {model_id!r}; supported providers: "
        f"{', '.join(SUPPORTED_PROVIDERS)}; use api='converse', or send the model's own "
        "request body with body= (raw mode)"
    )


def known_model(model_id: str) -> bool:
    """Whether a codec knows the body format of ``model_id``."""
    base = base_model_id(model_id)
    return any(base.startswith(prefix) for prefix, _ in _CODECS)


def build_raw_invoke_request(
    model_id: str, body: Mapping[str, Any], *, guardrail: GuardrailConfig | None = None
) -> dict[str, Any]:
    """InvokeModel arguments sending ``body`` unchanged (raw mode, for any model id).

    Raises:
        ConfigurationError: ``body`` is not a JSON object.
    """
    if not isinstance(body, Mapping):
        raise ConfigurationError(f"body= must be a dict (the JSON request body), got {body!r}")
    try:
        encoded = json.dumps(body, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"body= is not JSON-serialisable: {exc}") from exc
    return _with_headers(
        {"modelId": model_id, "body": encoded, "contentType": "application/json"}, guardrail
    )


def _with_headers(kwargs: dict[str, Any], guardrail: GuardrailConfig | None) -> dict[str, Any]:
    kwargs["accept"] = "application/json"
    if guardrail is not None:
        # Sent as the X-Amzn-Bedrock-Guardrail* headers by botocore.
        kwargs["guardrailIdentifier"] = guardrail.identifier
        kwargs["guardrailVersion"] = guardrail.version
        kwargs["trace"] = "DISABLED" if guardrail.trace == "disabled" else "ENABLED"
    return kwargs


def build_invoke_request(
    model_id: str, request: InvokeInput, *, guardrail: GuardrailConfig | None = None
) -> dict[str, Any]:
    """Keyword arguments of InvokeModel / InvokeModelWithResponseStream."""
    codec = codec_for(model_id)
    if request.tools and not codec.supports_tools:
        raise ConfigurationError(
            f"{codec.name} InvokeModel bodies have no tools; use api='converse' for tool calling"
        )
    kwargs: dict[str, Any] = {
        "modelId": model_id,
        "body": json.dumps(codec.build_body(request)).encode(),
        "contentType": "application/json",
    }
    return _with_headers(kwargs, guardrail)


def _with_guardrail(shaped: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    trace = invoke_trace_as_converse(body)
    if trace:
        shaped["trace"] = {"guardrail": trace}
    if intervened(body):
        shaped["stopReason"] = INTERVENED
    return shaped


def _header_count(r: WireReader, response: Mapping[str, Any], name: str) -> int | None:
    meta = response.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    value = (
        headers.get(f"x-amzn-bedrock-{name}-token-count") if isinstance(headers, Mapping) else None
    )
    if value is None:
        return None
    if not str(value).strip().isdigit():
        raise r.malformed(f"header x-amzn-bedrock-{name}-token-count is not a count", value)
    return int(value)


def parse_invoke_response(
    response: Mapping[str, Any], raw_body: bytes, *, model_id: str
) -> ConverseResult:
    """Parse an InvokeModel response (its body already read) into a ConverseResult.

    Token counts come from Bedrock's ``X-Amzn-Bedrock-*-Token-Count`` headers (its billed
    counts), else from the body; with neither, the response is malformed (not 0 tokens).

    A model no codec knows (raw mode) gives a result with no content, the stop reason
    ``unknown`` (``guardrail_intervened`` when a guardrail did), the header token counts and
    the body itself in :attr:`ConverseResult.raw_body`.

    Raises:
        MalformedResponseError: The body is not a JSON object, not the provider's
            documented shape, or no token counts came with it.
    """
    raw_mode = not known_model(model_id)
    codec_name = "raw" if raw_mode else codec_for(model_id).name
    r = WireReader(
        f"InvokeModel response ({codec_name})",
        model_id=model_id,
        request_id=request_id_of(response),
        body=raw_body,
    )
    body = r.loads_object(raw_body)
    with r.guard(body):
        # Raw mode: no content, and the counts from the headers.
        parsed = (
            converse_response([], "unknown", None, None)
            if raw_mode
            else codec_for(model_id).parse_body(body)
        )
        shaped = _with_guardrail(parsed, body)
        usage = shaped["usage"]
        # A guardrail that blocked the input: the model never ran, so it billed no tokens.
        unrun = intervened(body) and _input_only(shaped.get("trace", {}).get("guardrail") or {})
        for key, name in (("inputTokens", "input"), ("outputTokens", "output")):
            billed = _header_count(r, response, name)
            usage[key] = billed if billed is not None else usage[key]
            if usage[key] is None and unrun:
                usage[key] = 0
            if usage[key] is None:
                raise r.malformed(
                    f"no {name} token count in the body or the x-amzn-bedrock-{name}-token-count "
                    "header",
                    raw_body,
                )
        usage["totalTokens"] = (
            usage["inputTokens"]
            + usage["outputTokens"]
            + usage["cacheReadInputTokens"]
            + usage["cacheWriteInputTokens"]
        )
        shaped["ResponseMetadata"] = response.get("ResponseMetadata") or {}
    result = parse_converse_response(shaped, model_id=model_id)
    if not raw_mode:
        return result
    unknown = result.stop_reason != INTERVENED
    return replace(
        result,
        stop_reason="unknown" if unknown else result.stop_reason,
        raw_stop_reason="" if unknown else result.raw_stop_reason,
        raw_body=dict(body),
    )


class InvokeStreamAdapter:
    """Decodes InvokeModelWithResponseStream ``chunk`` events into Converse stream events.

    ``messageStop`` is held back until the final metrics chunk so a guardrail action that
    arrives late still decides the stop reason, and ``metadata`` is emitted exactly once.
    A chunk without bytes (what botocore makes of a payload that is not JSON), bytes that
    are not a JSON object, a second stop reason, metrics before any stop reason, or any
    chunk after the metrics is malformed.

    A guardrail that blocks the input ends the stream after one chunk holding its message,
    ``amazon-bedrock-guardrailAction: INTERVENED`` and the trace, with neither a stop reason
    nor invocation metrics: :meth:`end` then completes the answer with the stop reason
    ``guardrail_intervened`` and the token counts the chunks carried (none when the trace
    shows only the input was assessed: the model never ran).
    """

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._codec = codec_for(model_id)
        self._stop: dict[str, Any] | None = None
        self._trace: dict[str, Any] = {}
        self._intervened = False
        self._finished = False
        self._counts: list[int | None] = [None, None]
        self.reader = WireReader(
            f"InvokeModelWithResponseStream ({self._codec.name})", model_id=model_id
        )

    def events(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Converse events for one wire event (``{"chunk": {"bytes": ...}}``)."""
        r = self.reader
        if not isinstance(event, Mapping):
            raise r.malformed("an event is not an object", event)
        if any(k.endswith("Exception") for k in event):
            return [dict(event)]
        if "chunk" not in event:
            return []  # an event type newer than this version
        if self._finished:
            raise r.malformed("a chunk arrived after the final metrics chunk", event)
        chunk_bytes = r.opt_obj(event.get("chunk"), "chunk").get("bytes")
        if not isinstance(chunk_bytes, bytes | bytearray):
            raise r.malformed(
                "a chunk event has no bytes (botocore decodes a payload that is not JSON to "
                "an empty event)",
                event,
            )
        chunk = r.loads_object(chunk_bytes, where="chunk bytes")
        with r.guard(chunk):
            return self._events(chunk)

    def end(self) -> list[dict[str, Any]]:
        """Events still owed when the wire stream ends (only after a guardrail blocked).

        Raises:
            MalformedResponseError: A guardrail intervened, the model ran (its output was
                assessed) and no chunk carried its token counts.
        """
        if self._finished or not self._intervened:
            return []  # complete, or incomplete for the reducer to report
        r = self.reader
        with r.guard(self._trace):
            input_only = _input_only(self._trace.get("guardrail") or {})
            counts = [c if c is not None else (0 if input_only else None) for c in self._counts]
            if None in counts:
                raise r.malformed(
                    "a guardrail intervened after the model ran and no chunk carried its "
                    "token counts",
                    self._trace,
                )
            usage = {
                "inputTokens": counts[0],
                "outputTokens": counts[1],
                "totalTokens": sum(c or 0 for c in counts),
            }
            if self._stop is None:
                self._stop = {"messageStop": {"stopReason": INTERVENED}}
            return self._finish({"metadata": {"usage": usage}}, self._trace)

    def _events(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        guardrail = invoke_trace_as_converse(chunk)
        self._trace = {"guardrail": guardrail} if guardrail else self._trace
        self._intervened |= intervened(chunk)
        if self._codec.chunk_usage is not None:
            for i, count in enumerate(self._codec.chunk_usage(chunk)):
                self._counts[i] = count if count is not None else self._counts[i]
        out: list[dict[str, Any]] = []
        for converse_event in self._codec.chunk_events(chunk):
            if "messageStop" in converse_event:
                if self._stop is not None:
                    raise self.reader.malformed("a second stop reason", chunk)
                self._stop = converse_event
            elif "metadata" in converse_event:
                out += self._finish(converse_event, chunk)
            else:
                out.append(converse_event)
        return out

    def _finish(self, metadata_event: dict[str, Any], chunk: Any) -> list[dict[str, Any]]:
        if self._stop is None and self._intervened:
            self._stop = {"messageStop": {"stopReason": INTERVENED}}
        if self._stop is None:
            raise self.reader.malformed(
                "the final metrics chunk came before any stop reason", chunk
            )
        self._finished = True
        stop = self._stop
        if self._intervened:
            stop = {"messageStop": {**stop["messageStop"], "stopReason": INTERVENED}}
        metadata = dict(metadata_event["metadata"])
        if self._trace:
            metadata["trace"] = {**(metadata.get("trace") or {}), **self._trace}
        return [stop, {"metadata": metadata}]


def _input_only(guardrail: Mapping[str, Any]) -> bool:
    """Whether a (Converse-shaped) guardrail trace assessed the input and nothing else."""
    return bool(guardrail.get("inputAssessment")) and not (
        guardrail.get("outputAssessments") or guardrail.get("modelOutput")
    )
