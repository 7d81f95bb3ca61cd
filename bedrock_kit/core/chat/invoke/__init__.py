"""InvokeModel and InvokeModelWithResponseStream for each provider's native body format.

Codecs (one small module per provider family) turn provider bodies into Converse shapes, so
the Converse parser and the one stream reducer produce the same :class:`ConverseResult` and
deltas for ``api="invoke"`` as for ``api="converse"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.converse import parse_converse_response, request_id_of
from bedrock_kit.core.chat.invoke import ai21, anthropic, cohere, llama, mistral, nova, titan
from bedrock_kit.core.chat.invoke._base import Codec, InvokeInput
from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.chat.types import ConverseResult, GuardrailConfig
from bedrock_kit.core.guardrails.assessments import invoke_trace_as_converse
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

__all__ = [
    "Codec",
    "InvokeInput",
    "InvokeStreamAdapter",
    "build_invoke_request",
    "codec_for",
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
        f"{', '.join(SUPPORTED_PROVIDERS)} (or use api='converse')"
    )


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
        "accept": "application/json",
    }
    if guardrail is not None:
        # Sent as the X-Amzn-Bedrock-Guardrail* headers by botocore.
        kwargs["guardrailIdentifier"] = guardrail.identifier
        kwargs["guardrailVersion"] = guardrail.version
        kwargs["trace"] = "DISABLED" if guardrail.trace == "disabled" else "ENABLED"
    return kwargs


def _with_guardrail(shaped: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    trace = invoke_trace_as_converse(body)
    if trace:
        shaped["trace"] = {"guardrail": trace}
    if body.get("amazon-bedrock-guardrailAction") == "INTERVENED":
        shaped["stopReason"] = "guardrail_intervened"
    return shaped


def _header_tokens(response: Mapping[str, Any], name: str) -> int:
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return int(headers.get(f"x-amzn-bedrock-{name}-token-count") or 0)


def parse_invoke_response(
    response: Mapping[str, Any], raw_body: bytes, *, model_id: str
) -> ConverseResult:
    """Parse an InvokeModel response (its body already read) into a ConverseResult."""
    try:
        body = json.loads(raw_body)
    except ValueError as exc:
        raise MalformedResponseError(
            f"InvokeModel returned a body that is not JSON: {exc}",
            raw=raw_body.decode(errors="replace"),
            model_id=model_id,
            request_id=request_id_of(response),
        ) from exc
    shaped = _with_guardrail(codec_for(model_id).parse_body(body), body)
    usage = shaped["usage"]
    # Headers are Bedrock's billed counts; bodies of some providers carry none.
    usage["inputTokens"] = _header_tokens(response, "input") or usage["inputTokens"]
    usage["outputTokens"] = _header_tokens(response, "output") or usage["outputTokens"]
    usage["totalTokens"] = (
        usage["inputTokens"]
        + usage["outputTokens"]
        + usage["cacheReadInputTokens"]
        + usage["cacheWriteInputTokens"]
    )
    shaped["ResponseMetadata"] = response.get("ResponseMetadata") or {}
    return parse_converse_response(shaped, model_id=model_id)


class InvokeStreamAdapter:
    """Decodes InvokeModelWithResponseStream ``chunk`` events into Converse stream events.

    ``messageStop`` is held back until the final metrics chunk so a guardrail action that
    arrives late still decides the stop reason, and ``metadata`` is emitted exactly once.
    """

    def __init__(self, model_id: str) -> None:
        self._codec = codec_for(model_id)
        self._stop: dict[str, Any] | None = None
        self._trace: dict[str, Any] = {}
        self._intervened = False

    def events(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Converse events for one wire event (``{"chunk": {"bytes": ...}}``)."""
        chunk_bytes = (event.get("chunk") or {}).get("bytes")
        if chunk_bytes is None:
            return [dict(event)] if any(k.endswith("Exception") for k in event) else []
        try:
            chunk = json.loads(chunk_bytes)
        except ValueError as exc:
            raise MalformedResponseError(
                f"stream chunk is not JSON: {exc}", raw=chunk_bytes.decode(errors="replace")
            ) from exc
        guardrail = invoke_trace_as_converse(chunk)
        self._trace = {"guardrail": guardrail} if guardrail else self._trace
        self._intervened |= chunk.get("amazon-bedrock-guardrailAction") == "INTERVENED"
        out: list[dict[str, Any]] = []
        for converse_event in self._codec.chunk_events(chunk):
            if "messageStop" in converse_event:
                self._stop = converse_event
            elif "metadata" in converse_event:
                out += self._finish(converse_event)
            else:
                out.append(converse_event)
        return out

    def _finish(self, metadata_event: dict[str, Any]) -> list[dict[str, Any]]:
        stop = self._stop or {"messageStop": {"stopReason": ""}}
        if self._intervened:
            stop = {"messageStop": {**stop["messageStop"], "stopReason": "guardrail_intervened"}}
        metadata = dict(metadata_event["metadata"])
        if self._trace:
            metadata["trace"] = {**(metadata.get("trace") or {}), **self._trace}
        return [stop, {"metadata": metadata}]
