"""OpenTelemetry GenAI client spans for lean-transport calls; nothing at all without OpenTelemetry.

One ``CLIENT`` span per call (retries included), named ``{gen_ai.operation.name}
{gen_ai.request.model}``, following the GenAI semantic conventions and their AWS Bedrock
page: ``gen_ai.provider.name`` (and the older ``gen_ai.system``) ``aws.bedrock``,
``gen_ai.request.*`` (model, max tokens, temperature, top_p, stop sequences),
``gen_ai.usage.input_tokens`` / ``output_tokens`` / ``cache_read.input_tokens`` /
``cache_creation.input_tokens``, ``gen_ai.response.finish_reasons``,
``aws.bedrock.guardrail.id`` and the guardrail's action, ``aws.bedrock.knowledge_base.id``,
``gen_ai.agent.id``, ``gen_ai.conversation.id``, ``server.address``/``server.port``,
``aws.request_id``, and ``error.type`` with an ERROR status on failure.

Streaming calls keep the span open until the stream ends, fails or is closed (or dropped):
the event stream in the response is wrapped to read usage and stop reasons on the way.
Message content (``gen_ai.input.messages``, ``gen_ai.system_instructions``,
``gen_ai.output.messages``) is recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for it (``true``, ``SPAN_ONLY``,
``SPAN_AND_EVENT``).

OpenTelemetry is imported on the first call, once; when it is not installed every function
here returns at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""Opt-in for message content on spans (the GenAI conventions' variable)."""
_CONTENT_ON = frozenset({"true", "1", "span_only", "span_and_event"})
_PROVIDER = "aws.bedrock"
_OPERATIONS = {
    "Converse": "chat",
    "ConverseStream": "chat",
    "InvokeModel": "chat",
    "InvokeModelWithResponseStream": "chat",
    "InvokeAgent": "invoke_agent",
    "InvokeInlineAgent": "invoke_agent",
    "Retrieve": "retrieval",
}
_TOKEN_HEADERS = (
    ("x-amzn-bedrock-input-token-count", "gen_ai.usage.input_tokens"),
    ("x-amzn-bedrock-output-token-count", "gen_ai.usage.output_tokens"),
    ("x-amzn-bedrock-cache-read-input-token-count", "gen_ai.usage.cache_read.input_tokens"),
    ("x-amzn-bedrock-cache-write-input-token-count", "gen_ai.usage.cache_creation.input_tokens"),
)
_STREAM_KEYS = ("stream", "body", "completion", "responseStream", "optimizedPrompt")

_state: dict[str, Any] = {}


def _tracer() -> Any:
    """The bedrock-kit tracer, or None when opentelemetry-api is not installed."""
    if "tracer" not in _state:
        try:
            from opentelemetry import trace
        except ImportError:
            _state["tracer"] = None
        else:
            _state["trace"] = trace
            _state["tracer"] = trace.get_tracer("bedrock_kit")
    return _state["tracer"]


def capture_content() -> bool:
    """Whether the user opted in to message content on spans."""
    return os.environ.get(CONTENT_ENV, "").strip().lower() in _CONTENT_ON


def operation_name(operation: str, params: Mapping[str, Any]) -> str:
    """``gen_ai.operation.name`` for a Bedrock operation."""
    if operation in ("InvokeModel", "InvokeModelWithResponseStream") and "embed" in str(
        params.get("modelId", "")
    ):
        return "embeddings"
    known = _OPERATIONS.get(operation)
    if known:
        return known
    from botocore import xform_name

    return str(xform_name(operation))


def start(core: Any, operation: str, params: Mapping[str, Any]) -> Any:
    """A started span for one call, or None when tracing is off."""
    tracer = _tracer()
    if tracer is None:
        return None
    trace = _state["trace"]
    name = operation_name(operation, params)
    model = _request_model(params)
    span = tracer.start_span(f"{name} {model}" if model else name, kind=trace.SpanKind.CLIENT)
    if not span.is_recording():
        return span
    span.set_attributes(_request_attributes(core, operation, name, model, params))
    if capture_content():
        _set_input_content(span, params)
    return span


def finish(span: Any, parsed: Any, *, streaming: bool) -> Any:
    """End ``span`` with what the response says (streams: when they end); returns ``parsed``."""
    if span is None:
        return parsed
    if not span.is_recording():
        span.end()
        return parsed
    _set_response_attributes(span, parsed)
    if streaming:
        for key in _STREAM_KEYS:
            stream = parsed.get(key)
            iterable = hasattr(stream, "__iter__") or hasattr(stream, "__aiter__")
            if stream is not None and iterable:
                if hasattr(stream, "read"):
                    break  # InvokeModel's body: the call is over once the headers are in
                parsed[key] = _TracedStream(stream, span)
                return parsed
    span.end()
    return parsed


def fail(span: Any, exc: BaseException) -> None:
    """End ``span`` with the error."""
    if span is None:
        return
    if span.is_recording():
        _record_error(span, exc)
    span.end()


# ------------------------------------------------------------------ injected botocore clients


class _ClientView:
    """What the span attributes read of a client (the lean client's core has the same)."""

    def __init__(self, client: Any) -> None:
        meta = client.meta
        self.service_name = meta.service_model.service_name
        self.region = meta.region_name
        self.oracle = client


def instrumented(client: Any) -> bool:
    """Whether OpenTelemetry's botocore (or aiobotocore) instrumentation wraps ``client``'s calls.

    The instrumentors wrap ``_make_api_call`` of the client class with ``wrapt`` (botocore's
    own decorator leaves a ``__wrapped__`` too, so that is not the sign); the class of
    ``client`` is asked, so an aiobotocore client is not mistaken for a botocore one.
    """
    wrapt = sys.modules.get("wrapt")  # imported by any instrumentor that is active
    if wrapt is None:
        return False
    method = None
    for klass in type(client).__mro__:
        if "_make_api_call" in vars(klass):
            method = vars(klass)["_make_api_call"]
            break
    return isinstance(method, wrapt.FunctionWrapper)


def install_botocore_spans(client: Any) -> Any:
    """Emit bedrock-kit's span for each call of an injected boto3 or aiobotocore client.

    Through botocore's own events (``before-parameter-build`` keeps the arguments,
    ``before-call`` starts the span, ``after-call`` / ``after-call-error`` end it), so the
    user's other hooks run as before. A call that OpenTelemetry's botocore instrumentation
    already traces gets no second span. Idempotent; returns ``client``.
    """
    meta: Any = getattr(client, "meta", None)
    events = getattr(meta, "events", None)
    model = getattr(meta, "service_model", None)
    if events is None or model is None:
        return client
    service_id = model.service_id.hyphenize()
    view = _ClientView(client)

    def keep_params(params: Any = None, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and _tracer() is not None:
            context["bedrock_kit.params"] = params

    def before_call(model: Any = None, context: Any = None, **_: Any) -> None:
        if not isinstance(context, dict) or "bedrock_kit.params" not in context:
            return
        if instrumented(client):
            return  # botocore's instrumentation has this call
        params = context.pop("bedrock_kit.params")
        span = start(view, model.name, params if isinstance(params, Mapping) else {})
        if span is not None:
            context["bedrock_kit.span"] = span

    def after_call(parsed: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
        span = context.pop("bedrock_kit.span", None) if isinstance(context, dict) else None
        if span is None:
            return
        error = (parsed.get("Error") or {}).get("Code") if isinstance(parsed, Mapping) else None
        if error:
            fail(span, _ParsedError(parsed))
            return
        streaming = bool(model.has_event_stream_output or model.has_streaming_output)
        finish(span, parsed, streaming=streaming)

    def after_call_error(exception: Any = None, context: Any = None, **_: Any) -> None:
        span = context.pop("bedrock_kit.span", None) if isinstance(context, dict) else None
        if span is not None:
            fail(span, exception)

    for event, handler in (
        ("before-parameter-build", keep_params),
        ("before-call", before_call),
        ("after-call", after_call),
        ("after-call-error", after_call_error),
    ):
        events.register(f"{event}.{service_id}", handler, unique_id=f"bedrock-kit-otel-{event}")
    return client


class _ParsedError(Exception):
    """An error response botocore is about to raise, as :func:`fail` reads it."""

    def __init__(self, parsed: Mapping[str, Any]) -> None:
        error = parsed.get("Error") or {}
        super().__init__(str(error.get("Message") or error.get("Code")))
        self.response = parsed


# ------------------------------------------------------------------ attributes


def _request_model(params: Mapping[str, Any]) -> str | None:
    for key in ("modelId", "guardrailIdentifier", "knowledgeBaseId", "agentId", "flowIdentifier"):
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    config = params.get("retrieveAndGenerateConfiguration")
    if isinstance(config, Mapping):
        kb = config.get("knowledgeBaseConfiguration") or config.get("externalSourcesConfiguration")
        if isinstance(kb, Mapping) and isinstance(kb.get("modelArn"), str):
            return str(kb["modelArn"])
    return None


def _request_attributes(
    core: Any, operation: str, name: str, model: str | None, params: Mapping[str, Any]
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": name,
        "gen_ai.provider.name": _PROVIDER,
        "gen_ai.system": _PROVIDER,
        "rpc.system": "aws-api",
        "rpc.service": str(getattr(core, "service_name", "")),
        "rpc.method": operation,
    }
    if model and "modelId" in params:
        attributes["gen_ai.request.model"] = model
    region = getattr(core, "region", None)
    if region:
        attributes["cloud.region"] = region
    endpoint = getattr(getattr(core, "oracle", None), "meta", None)
    url = getattr(endpoint, "endpoint_url", None)
    if url:
        parts = urlsplit(str(url))
        if parts.hostname:
            attributes["server.address"] = parts.hostname
        attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    inference = params.get("inferenceConfig")
    if isinstance(inference, Mapping):
        for key, attribute in (
            ("maxTokens", "gen_ai.request.max_tokens"),
            ("temperature", "gen_ai.request.temperature"),
            ("topP", "gen_ai.request.top_p"),
        ):
            if isinstance(inference.get(key), int | float):
                attributes[attribute] = inference[key]
        stops = inference.get("stopSequences")
        if isinstance(stops, list | tuple) and all(isinstance(s, str) for s in stops):
            attributes["gen_ai.request.stop_sequences"] = list(stops)
    guardrail = params.get("guardrailConfig")
    guardrail_id = (
        guardrail.get("guardrailIdentifier")
        if isinstance(guardrail, Mapping)
        else params.get("guardrailIdentifier")
    )
    if isinstance(guardrail_id, str) and guardrail_id:
        attributes["aws.bedrock.guardrail.id"] = guardrail_id
    kb_id = params.get("knowledgeBaseId") or _rag_knowledge_base(params)
    if isinstance(kb_id, str) and kb_id:
        attributes["aws.bedrock.knowledge_base.id"] = kb_id
        attributes["gen_ai.data_source.id"] = kb_id
    for key, attribute in (("agentId", "gen_ai.agent.id"), ("sessionId", "gen_ai.conversation.id")):
        if isinstance(params.get(key), str):
            attributes[attribute] = params[key]
    return attributes


def _rag_knowledge_base(params: Mapping[str, Any]) -> Any:
    config = params.get("retrieveAndGenerateConfiguration")
    if isinstance(config, Mapping):
        kb = config.get("knowledgeBaseConfiguration")
        if isinstance(kb, Mapping):
            return kb.get("knowledgeBaseId")
    return None


def _set_response_attributes(span: Any, parsed: Mapping[str, Any]) -> None:
    meta = parsed.get("ResponseMetadata") or {}
    if meta.get("RequestId"):
        span.set_attribute("aws.request_id", meta["RequestId"])
    headers = meta.get("HTTPHeaders") or {}
    for header, attribute in _TOKEN_HEADERS:
        value = headers.get(header)
        if value is not None and str(value).isdigit():
            span.set_attribute(attribute, int(value))
    _set_usage(span, parsed.get("usage"))
    stop = parsed.get("stopReason")
    if isinstance(stop, str):
        span.set_attribute("gen_ai.response.finish_reasons", [stop])
    action = parsed.get("action") or parsed.get("guardrailAction")
    if isinstance(action, str):
        span.set_attribute("aws.bedrock.guardrail.action", action)
    elif stop == "guardrail_intervened":
        span.set_attribute("aws.bedrock.guardrail.action", "GUARDRAIL_INTERVENED")
    if isinstance(parsed.get("inputTokens"), int):  # CountTokens
        span.set_attribute("gen_ai.usage.input_tokens", parsed["inputTokens"])
    if capture_content():
        _set_output_content(span, parsed)


def _set_usage(span: Any, usage: Any) -> None:
    if not isinstance(usage, Mapping):
        return
    for key, attribute in (
        ("inputTokens", "gen_ai.usage.input_tokens"),
        ("outputTokens", "gen_ai.usage.output_tokens"),
        ("cacheReadInputTokens", "gen_ai.usage.cache_read.input_tokens"),
        ("cacheWriteInputTokens", "gen_ai.usage.cache_creation.input_tokens"),
    ):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            span.set_attribute(attribute, value)


def _record_error(span: Any, exc: BaseException) -> None:
    trace = _state["trace"]
    response = getattr(exc, "response", None)
    code = None
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
    error_type = str(code) if code else type(exc).__qualname__
    span.set_attribute("error.type", error_type)
    span.set_status(trace.Status(trace.StatusCode.ERROR, f"{error_type}: {exc}"[:500]))


# ------------------------------------------------------------------ content (opt-in)


def _parts(blocks: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, list | tuple) else ():
        if not isinstance(block, Mapping):
            continue
        if "text" in block:
            parts.append({"type": "text", "content": block["text"]})
        elif isinstance(block.get("toolUse"), Mapping):
            use = block["toolUse"]
            parts.append(
                {
                    "type": "tool_call",
                    "id": use.get("toolUseId"),
                    "name": use.get("name"),
                    "arguments": use.get("input"),
                }
            )
        elif isinstance(block.get("toolResult"), Mapping):
            result = block["toolResult"]
            parts.append(
                {
                    "type": "tool_call_response",
                    "id": result.get("toolUseId"),
                    "response": _parts(result.get("content")),
                }
            )
        else:
            parts.append({"type": next(iter(block), "unknown")})
    return parts


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda o: f"<{type(o).__name__}>", ensure_ascii=False)


def _set_input_content(span: Any, params: Mapping[str, Any]) -> None:
    messages = params.get("messages")
    if isinstance(messages, list | tuple):
        converted = [
            {"role": m.get("role"), "parts": _parts(m.get("content"))}
            for m in messages
            if isinstance(m, Mapping)
        ]
        span.set_attribute("gen_ai.input.messages", _json(converted))
    system = params.get("system")
    if isinstance(system, list | tuple):
        span.set_attribute("gen_ai.system_instructions", _json(_parts(system)))
    query = params.get("input") or params.get("retrievalQuery") or params.get("inputText")
    if query is not None and not isinstance(messages, list | tuple):
        span.set_attribute("gen_ai.input.messages", _json(query))


def _set_output_content(span: Any, parsed: Mapping[str, Any]) -> None:
    output = parsed.get("output")
    message = output.get("message") if isinstance(output, Mapping) else None
    if isinstance(message, Mapping):
        entry: dict[str, Any] = {
            "role": message.get("role"),
            "parts": _parts(message.get("content")),
        }
        if isinstance(parsed.get("stopReason"), str):
            entry["finish_reason"] = parsed["stopReason"]
        span.set_attribute("gen_ai.output.messages", _json([entry]))
    elif isinstance(output, Mapping) and isinstance(output.get("text"), str):
        text = {"type": "text", "content": output["text"]}
        span.set_attribute(
            "gen_ai.output.messages", _json([{"role": "assistant", "parts": [text]}])
        )


# ------------------------------------------------------------------ streams


_OWN = frozenset({"_stream", "_span", "_open", "_usage", "_stops", "_text", "_content"})


class _TracedStream:
    """An event stream that ends its call's span when it is exhausted, fails or is closed."""

    def __init__(self, stream: Any, span: Any) -> None:
        self._stream = stream
        self._span = span
        self._open = True
        self._usage: dict[str, Any] = {}
        self._stops: list[str] = []
        self._text: list[str] = []
        self._content = capture_content()

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not set yet: __init__ failed
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # Anything but our own state goes to the stream itself (a caller replacing its
        # ``_parser``, as the flows runtime does, must reach the stream that parses).
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self._stream, name, value)

    def __iter__(self) -> Iterator[Any]:
        try:
            for event in self._stream:
                self._observe(event)
                yield event
        except BaseException as exc:
            self._end(exc)
            raise
        self._end(None)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Any]:
        try:
            async for event in self._stream:
                self._observe(event)
                yield event
        except BaseException as exc:
            self._end(exc)
            raise
        self._end(None)

    def close(self) -> Any:
        """Close the stream (an abandoned stream ends its span here)."""
        self._end(None)
        close = getattr(self._stream, "close", None)
        if close is None:
            close = self._stream._raw_stream.close
        return close()

    def __del__(self) -> None:
        if self._open:
            self._end(None)

    def _observe(self, event: Any) -> None:
        if type(event) is dict and "contentBlockDelta" in event and not self._content:
            return  # the bulk of a stream carries nothing the span records
        if not isinstance(event, Mapping):
            return
        metadata = event.get("metadata")
        if isinstance(metadata, Mapping):
            self._usage.update(metadata.get("usage") or {})
        stop = event.get("messageStop")
        if isinstance(stop, Mapping) and isinstance(stop.get("stopReason"), str):
            self._stops.append(stop["stopReason"])
        chunk = event.get("chunk")
        if isinstance(chunk, Mapping):
            data = chunk.get("bytes")
            if isinstance(data, bytes) and b"amazon-bedrock-invocationMetrics" in data:
                self._invocation_metrics(data)
        if self._content:
            delta = event.get("contentBlockDelta")
            piece = (delta.get("delta") or {}).get("text") if isinstance(delta, Mapping) else None
            if isinstance(piece, str):
                self._text.append(piece)

    def _invocation_metrics(self, data: bytes) -> None:
        try:
            metrics = json.loads(data).get("amazon-bedrock-invocationMetrics") or {}
        except (ValueError, AttributeError):
            return
        for key, name in (("inputTokenCount", "inputTokens"), ("outputTokenCount", "outputTokens")):
            if isinstance(metrics.get(key), int):
                self._usage[name] = metrics[key]

    def _end(self, exc: BaseException | None) -> None:
        if not self._open:
            return
        self._open = False
        span = self._span
        if span.is_recording():
            _set_usage(span, self._usage)
            if self._stops:
                span.set_attribute("gen_ai.response.finish_reasons", self._stops)
                if "guardrail_intervened" in self._stops:
                    span.set_attribute("aws.bedrock.guardrail.action", "GUARDRAIL_INTERVENED")
            if exc is not None and not isinstance(exc, GeneratorExit):
                _record_error(span, exc)
            if self._content and self._text:
                entry: dict[str, Any] = {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "".join(self._text)}],
                }
                if self._stops:
                    entry["finish_reason"] = self._stops[-1]
                span.set_attribute("gen_ai.output.messages", _json([entry]))
        span.end()
