"""Build Converse requests and parse Converse responses: pure functions over wire dicts."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bedrock_kit.core.chat import usage as _usage
from bedrock_kit.core.chat.guardrail_config import build_guardrail_config
from bedrock_kit.core.chat.request_fields import (
    check_prompt_request,
    check_request_metadata,
    check_response_field_paths,
    check_service_tier,
    is_prompt_arn,
    prompt_variables_to_wire,
)
from bedrock_kit.core.chat.types import (
    STOP_REASONS,
    CachePointBlock,
    CitationsBlock,
    ContentBlock,
    ConverseResult,
    DocumentBlock,
    GuardContentBlock,
    GuardrailConfig,
    ImageBlock,
    InferenceConfig,
    JsonBlock,
    Message,
    ReasoningBlock,
    SystemBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    assemble,
    inference_config,
)
from bedrock_kit.core.guardrails.assessments import parse_guardrail_trace
from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

# ---------------------------------------------------------------------------- to the wire


def _source(kind: str, data: bytes | None, s3_uri: str | None) -> dict[str, Any]:
    if s3_uri:
        return {"s3Location": {"uri": s3_uri}}
    if not data:  # Bedrock needs one source; empty bytes would be sent as an empty image
        raise ConfigurationError(f"{kind} block has no source: give its bytes or an s3:// uri")
    if not isinstance(data, bytes | bytearray):
        raise ConfigurationError(
            f"{kind} block data must be raw bytes (not base64 text), got {type(data).__name__}"
        )
    return {"bytes": data}


def _text_to_wire(b: TextBlock) -> dict[str, Any]:
    return {"text": b.text}


def _image_to_wire(b: ImageBlock) -> dict[str, Any]:
    return {"image": {"format": b.format, "source": _source("image", b.data, b.s3_uri)}}


def _document_to_wire(b: DocumentBlock) -> dict[str, Any]:
    source = {"text": b.text} if b.text is not None else _source("document", b.data, b.s3_uri)
    doc: dict[str, Any] = {"format": b.format, "name": b.name, "source": source}
    if b.citations:
        doc["citations"] = {"enabled": True}
    return {"document": doc}


def _json_to_wire(b: JsonBlock) -> dict[str, Any]:
    return {"json": b.value}


def _tool_use_to_wire(b: ToolUseBlock) -> dict[str, Any]:
    use: dict[str, Any] = {"toolUseId": b.id, "name": b.name, "input": b.input}
    if b.type:  # server_tool_use: the history says Bedrock ran this call itself
        use["type"] = b.type
    return {"toolUse": use}


def _tool_result_to_wire(b: ToolResultBlock) -> dict[str, Any]:
    result: dict[str, Any] = {
        "toolUseId": b.tool_use_id,
        "content": [block_to_wire(c) for c in b.content],
    }
    if b.status:
        result["status"] = b.status
    if b.type:
        result["type"] = b.type
    return {"toolResult": result}


def _reasoning_to_wire(b: ReasoningBlock) -> dict[str, Any]:
    if b.redacted_content is not None:
        return {"reasoningContent": {"redactedContent": b.redacted_content}}
    text: dict[str, Any] = {"text": b.text}
    if b.signature:
        text["signature"] = b.signature
    return {"reasoningContent": {"reasoningText": text}}


def _cache_point_to_wire(b: CachePointBlock) -> dict[str, Any]:
    point: dict[str, Any] = {"type": b.type}
    if b.ttl:
        point["ttl"] = b.ttl
    return {"cachePoint": point}


def _guard_content_to_wire(b: GuardContentBlock) -> dict[str, Any]:
    text: dict[str, Any] = {"text": b.text}
    if b.qualifiers:
        text["qualifiers"] = list(b.qualifiers)
    return {"guardContent": {"text": text}}


def _citations_to_wire(b: CitationsBlock) -> dict[str, Any]:
    return {
        "citationsContent": {
            "content": [{"text": b.text}],
            "citations": list(b.citations),
        }
    }


def _unknown_to_wire(b: UnknownBlock) -> dict[str, Any]:
    return {b.type: b.raw}


_TO_WIRE: dict[type, Callable[[Any], dict[str, Any]]] = {
    TextBlock: _text_to_wire,
    ImageBlock: _image_to_wire,
    DocumentBlock: _document_to_wire,
    JsonBlock: _json_to_wire,
    ToolUseBlock: _tool_use_to_wire,
    ToolResultBlock: _tool_result_to_wire,
    ReasoningBlock: _reasoning_to_wire,
    CachePointBlock: _cache_point_to_wire,
    GuardContentBlock: _guard_content_to_wire,
    CitationsBlock: _citations_to_wire,
    UnknownBlock: _unknown_to_wire,
}


def block_to_wire(block: ContentBlock) -> dict[str, Any]:
    """Convert one content block to its Converse wire form."""
    try:
        convert = _TO_WIRE[type(block)]
    except KeyError:
        raise ConfigurationError(f"not a content block: {block!r}") from None
    return convert(block)


def merge_turns(messages: Sequence[Message]) -> list[Message]:
    """Merge consecutive same-role turns, as Converse requires alternating roles.

    Tool results from parallel tool calls arrive as separate user turns; Bedrock wants them
    in one. Empty turns are an error rather than silently dropped.
    """
    merged: list[Message] = []
    for i, message in enumerate(messages):
        if message.role not in ("user", "assistant"):
            raise ConfigurationError(
                f"messages[{i}]: role must be 'user' or 'assistant', got {message.role!r}"
            )
        if not message.content:
            raise ConfigurationError(f"messages[{i}]: a {message.role} turn has no content")
        if merged and merged[-1].role == message.role:
            merged[-1] = Message(message.role, merged[-1].content + message.content)
        else:
            merged.append(message)
    return merged


def _check_tool_results(messages: Sequence[Message]) -> None:
    # A toolResult whose toolUseId has no toolUse earlier is rejected by Bedrock with a vague
    # message; name the id before any request is sent.
    seen: set[str] = set()
    for i, message in enumerate(messages):
        for block in message.content:
            if type(block) is TextBlock:  # the usual block: neither of the two below
                continue
            if isinstance(block, ToolUseBlock):
                seen.add(block.id)
            elif isinstance(block, ToolResultBlock) and block.tool_use_id not in seen:
                raise ConfigurationError(
                    f"messages[{i}]: tool result for tool_use_id {block.tool_use_id!r} has no "
                    "matching tool call in an earlier assistant turn"
                )


def inference_to_wire(inference: InferenceConfig) -> dict[str, Any]:
    """Bedrock's inference configuration object (``maxTokens``, ``temperature``, ``topP``,
    ``stopSequences``) of ``inference``, holding only what was set; Converse's
    ``inferenceConfig`` and Prompt Management's text inference configuration alike."""
    config: dict[str, Any] = {}
    if inference.max_tokens is not None:
        config["maxTokens"] = inference.max_tokens
    if inference.temperature is not None:
        config["temperature"] = inference.temperature
    if inference.top_p is not None:
        config["topP"] = inference.top_p
    if inference.stop_sequences:
        config["stopSequences"] = list(inference.stop_sequences)
    return config


def build_converse_request(
    model_id: str,
    messages: Sequence[Message],
    *,
    system: Sequence[SystemBlock] = (),
    inference: InferenceConfig | None = None,
    tool_config: Mapping[str, Any] | None = None,
    guardrail: GuardrailConfig | None = None,
    additional_model_request_fields: Mapping[str, Any] | None = None,
    additional_model_response_field_paths: Sequence[str] = (),
    request_metadata: Mapping[str, str] | None = None,
    performance_latency: str | None = None,
    output_config: Mapping[str, Any] | None = None,
    service_tier: str | None = None,
    prompt_variables: Mapping[str, Any] | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """Build the keyword arguments of a Converse / ConverseStream call.

    With a Prompt Management ARN as ``model_id``, ``prompt_variables`` fill the prompt and
    ``messages`` may be empty (they are appended to the prompt's own).
    """
    if not model_id:
        raise ConfigurationError("model id is empty")
    wire = converse_messages(model_id, messages)
    frame = converse_frame(
        model_id,
        system=system,
        inference=inference,
        tool_config=tool_config,
        guardrail=guardrail,
        additional_model_request_fields=additional_model_request_fields,
        additional_model_response_field_paths=additional_model_response_field_paths,
        request_metadata=request_metadata,
        performance_latency=performance_latency,
        output_config=output_config,
        service_tier=service_tier,
        prompt_variables=prompt_variables,
        stream=stream,
    )
    return frame.join(wire)


def converse_messages(model_id: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """A Converse request's ``messages``: the turns merged, checked and in wire form, every
    text in them checked (the rest of the request is its :class:`ConverseFrame`'s)."""
    turns = merge_turns(messages)
    if not turns and not is_prompt_arn(model_id):
        raise ConfigurationError("messages is empty: Converse needs at least one user turn")
    if turns and turns[0].role != "user":
        raise ConfigurationError(
            "messages[0] must be a user turn: Bedrock conversations start with one"
        )
    _check_tool_results(turns)
    wire = [
        {
            "role": m.role,
            # A text block, the usual one, as _text_to_wire writes it, without the dispatch.
            "content": [
                {"text": b.text} if type(b) is TextBlock else block_to_wire(b) for b in m.content
            ],
        }
        for m in turns
    ]
    check_text(wire, "request.messages")  # prompts, tool results, documents
    return wire


@dataclass(frozen=True)
class ConverseFrame:
    """Every member of a Converse request but its ``messages``, built and checked.

    ``members`` are in request order (they follow ``modelId`` and ``messages``). A
    ``shared`` frame serves many requests (:func:`plain_frame`): each request gets its own
    copy of the members, so changing one request's ``inferenceConfig`` changes no other.
    """

    model_id: str
    members: Mapping[str, Any]
    shared: bool = False

    def join(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The request of these wire ``messages`` (from :func:`converse_messages`)."""
        members = self.members
        if self.shared:
            members = {key: _fresh(value) for key, value in members.items()}
        request = {"modelId": self.model_id, "messages": messages, **members}
        if ":prompt/" in self.model_id:  # what a prompt ARN holds; other ids: nothing to check
            check_prompt_request(request)
        return request

    def request(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The Converse request of ``messages`` in this frame."""
        return self.join(converse_messages(self.model_id, messages))


def _fresh(value: Any) -> Any:
    # A copy of a member's wire form down to its leaves (plain dicts and lists).
    if type(value) is dict:
        return {key: _fresh(item) for key, item in value.items()}
    if type(value) is list:
        return [_fresh(item) for item in value]
    return value


def converse_frame(
    model_id: str,
    *,
    system: Sequence[SystemBlock] = (),
    inference: InferenceConfig | None = None,
    tool_config: Mapping[str, Any] | None = None,
    guardrail: GuardrailConfig | None = None,
    additional_model_request_fields: Mapping[str, Any] | None = None,
    additional_model_response_field_paths: Sequence[str] = (),
    request_metadata: Mapping[str, str] | None = None,
    performance_latency: str | None = None,
    output_config: Mapping[str, Any] | None = None,
    service_tier: str | None = None,
    prompt_variables: Mapping[str, Any] | None = None,
    stream: bool = False,
    shared: bool = False,
) -> ConverseFrame:
    """The :class:`ConverseFrame` of these arguments (those of :func:`build_converse_request`).

    Raises:
        ConfigurationError: A member Bedrock would refuse, a text with an unpaired surrogate.
    """
    if not model_id:
        raise ConfigurationError("model id is empty")
    request: dict[str, Any] = {}
    if system:
        request["system"] = [block_to_wire(b) for b in system]
    if inference is not None:
        config = inference_to_wire(inference)
        if config:
            request["inferenceConfig"] = config
    if tool_config:
        request["toolConfig"] = dict(tool_config)
    if guardrail is not None:
        request["guardrailConfig"] = build_guardrail_config(guardrail, stream=stream)
    if additional_model_request_fields:
        request["additionalModelRequestFields"] = dict(additional_model_request_fields)
    if additional_model_response_field_paths:
        paths = check_response_field_paths(additional_model_response_field_paths)
        if paths:
            request["additionalModelResponseFieldPaths"] = paths
    if request_metadata:
        metadata = check_request_metadata(request_metadata)
        if metadata:
            request["requestMetadata"] = metadata
    if prompt_variables:
        variables = prompt_variables_to_wire(model_id, prompt_variables)
        if variables:
            request["promptVariables"] = variables
    if performance_latency:
        request["performanceConfig"] = {"latency": performance_latency}
    if output_config:
        request["outputConfig"] = dict(output_config)
    if service_tier is not None and check_service_tier(service_tier):
        request["serviceTier"] = {"type": service_tier}
    # Every other text the request carries (system, schemas, fields), named as in it.
    check_text({"modelId": model_id, **request}, "request")
    return ConverseFrame(model_id, request, shared)


def plain_frame(
    model_id: str,
    max_tokens: Any,
    temperature: Any,
    top_p: Any,
    stop_sequences: tuple[str, ...] = (),
) -> ConverseFrame:
    """The shared frame of a request that sets nothing but its (checked) model and
    inference configuration: what nearly every call of a chat model sends.

    One frame is kept per value set, told apart as the request would tell them apart:
    ``1``, ``1.0`` and ``True`` are three, and so are ``0.0`` and ``-0.0`` (equal, and
    hashed alike). A refusal raises every time (it is not kept).

    Raises:
        ConfigurationError: As :func:`~bedrock_kit.core.chat.types.inference_config` does.
    """
    signs = (_negative_zero(temperature), _negative_zero(top_p))
    return _kept_frame(
        model_id, max_tokens, temperature, top_p, stop_sequences=stop_sequences, signs=signs
    )


def _negative_zero(value: Any) -> bool:
    return type(value) is float and value == 0.0 and math.copysign(1.0, value) < 0


@lru_cache(maxsize=256, typed=True)
def _kept_frame(
    model_id: str,
    max_tokens: Any,
    temperature: Any,
    top_p: Any,
    *,
    stop_sequences: tuple[str, ...],
    signs: tuple[bool, bool],
) -> ConverseFrame:
    inference = inference_config(max_tokens, temperature, top_p, stop_sequences)
    return converse_frame(model_id, inference=inference, shared=True)


# -------------------------------------------------------------------------- from the wire
#
# Every reader below takes the WireReader of the response it reads: what is not the
# documented shape raises MalformedResponseError naming the path, never a bare error.

_CONTENT_BLOCK = WireReader("Converse content block")
_RESPONSE = WireReader("Converse response")
# Members read, None: merged under a response (its usage), each is read without a call.
_RESPONSE_MEMBERS = dict.fromkeys(["output", "stopReason", "trace", "usage", "metrics"])
_RESPONSE_MEMBERS["additionalModelResponseFields"] = None


def _s3_uri(r: WireReader, source: Mapping[str, Any], where: str) -> str | None:
    location = r.opt_obj(source.get("s3Location"), f"{where}.s3Location")
    return r.opt_text(location.get("uri"), f"{where}.s3Location.uri")


def _blob(r: WireReader, value: Any, where: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    raise r.malformed(f"{where} is not bytes", value)


def _image_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    src = r.obj(v.get("source"), f"{where}.source")
    return ImageBlock(
        r.text(v.get("format"), f"{where}.format"),
        _blob(r, src.get("bytes"), f"{where}.source.bytes"),
        _s3_uri(r, src, f"{where}.source"),
    )


def _document_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    src = r.obj(v.get("source"), f"{where}.source")
    citations = r.opt_obj(v.get("citations"), f"{where}.citations")
    return DocumentBlock(
        r.opt_text(v.get("format"), f"{where}.format") or "",
        r.text(v.get("name"), f"{where}.name"),
        _blob(r, src.get("bytes"), f"{where}.source.bytes"),
        r.opt_text(src.get("text"), f"{where}.source.text"),
        _s3_uri(r, src, f"{where}.source"),
        bool(citations.get("enabled")),
    )


def _tool_use_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    name = r.text(v.get("name"), f"{where}.name", empty=False)
    arguments = v.get("input")
    if not isinstance(arguments, dict):
        raise r.malformed(f"tool call {name!r} has no JSON object input ({where}.input)", arguments)
    return ToolUseBlock(
        r.text(v.get("toolUseId"), f"{where}.toolUseId", empty=False),
        name,
        r.document(arguments, f"{where}.input"),
        r.opt_text(v.get("type"), f"{where}.type") or None,
    )


def _tool_result_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    content = tuple(
        _block(r, c, f"{where}.content[{i}]")
        for i, c in enumerate(r.items(v.get("content"), f"{where}.content"))
    )
    status = r.opt_text(v.get("status"), f"{where}.status")
    kind = r.opt_text(v.get("type"), f"{where}.type") or None
    return ToolResultBlock(r.text(v.get("toolUseId"), f"{where}.toolUseId"), content, status, kind)  # type: ignore[arg-type]


def _reasoning_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    if v.get("redactedContent") is not None:
        return ReasoningBlock(
            redacted_content=_blob(r, v["redactedContent"], f"{where}.redactedContent")
        )
    text = r.obj(v.get("reasoningText"), f"{where}.reasoningText")
    return ReasoningBlock(
        r.text(text.get("text"), f"{where}.reasoningText.text"),
        r.opt_text(text.get("signature"), f"{where}.reasoningText.signature"),
    )


def _citations_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    parts = r.opt_items(v.get("content"), f"{where}.content")
    text = "".join(
        r.opt_text(r.obj(c, f"{where}.content[{i}]").get("text"), f"{where}.content[{i}].text")
        or ""
        for i, c in enumerate(parts)
    )
    citations = r.opt_items(v.get("citations"), f"{where}.citations")
    for i, citation in enumerate(citations):
        r.obj(citation, f"{where}.citations[{i}]")
    return CitationsBlock(text, tuple(r.document(list(citations), f"{where}.citations")))


def _guard_content_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    text = r.obj(v.get("text"), f"{where}.text")
    qualifiers = r.opt_items(text.get("qualifiers"), f"{where}.text.qualifiers")
    return GuardContentBlock(
        r.text(text.get("text"), f"{where}.text.text"),
        tuple(r.text(q, f"{where}.text.qualifiers[]") for q in qualifiers),
    )


def _cache_point_from_wire(r: WireReader, v: Mapping[str, Any], where: str) -> ContentBlock:
    return CachePointBlock(
        r.opt_text(v.get("type"), f"{where}.type") or "default",
        r.opt_text(v.get("ttl"), f"{where}.ttl"),
    )


_FROM_WIRE: dict[str, Callable[[WireReader, Mapping[str, Any], str], ContentBlock]] = {
    "image": _image_from_wire,
    "document": _document_from_wire,
    "toolUse": _tool_use_from_wire,
    "toolResult": _tool_result_from_wire,
    "reasoningContent": _reasoning_from_wire,
    "citationsContent": _citations_from_wire,
    "cachePoint": _cache_point_from_wire,
    "guardContent": _guard_content_from_wire,
}


def document_fields(value: Any) -> dict[str, Any]:
    """A free-form document member as a dict; a non-object document is kept under ``value``."""
    if value is None:
        return {}
    return dict(value) if isinstance(value, Mapping) else {"value": value}


def _block(r: WireReader, wire: Any, where: str) -> ContentBlock:
    block = r.obj(wire, where)
    if not block:
        raise r.malformed(f"{where} has no member (a content block has exactly one)", wire)
    (key, value), *_ = block.items()  # the first (and only) member
    if key == "text":
        return TextBlock(r.text(value, f"{where}.text"))
    if key == "json":
        return JsonBlock(r.document(value, f"{where}.json"))
    parse = _FROM_WIRE.get(key)
    if parse is not None:
        return parse(r, r.obj(value, f"{where}.{key}"), f"{where}.{key}")
    if key == "SDK_UNKNOWN_MEMBER":  # botocore keeps only the name of members it lacks
        return UnknownBlock(str(r.opt_obj(value, where).get("name", "")), None)
    return UnknownBlock(key, r.document(value, f"{where}.{key}"))


def block_from_wire(wire: Mapping[str, Any]) -> ContentBlock:
    """Parse one Converse content block; unknown types are kept as :class:`UnknownBlock`.

    Raises:
        MalformedResponseError: The block is not the documented shape.
    """
    with _CONTENT_BLOCK.guard(wire):
        return _block(_CONTENT_BLOCK, wire, "block")


parse_usage = _usage.parse_usage  # where the stream reducer (and callers) find them
parse_latency = _usage.parse_latency


def parse_trace(r: WireReader, value: Any, where: str = "trace") -> tuple[dict[str, Any], Any]:
    """The ``trace`` object as sent, and its parsed ``guardrail`` part."""
    if value is None:  # no trace asked for: nothing to read (parsed, {} gives the same)
        return {}, None
    trace = dict(r.opt_obj(value, where))
    guardrail = r.opt_obj(trace.get("guardrail"), f"{where}.guardrail")
    with r.guard(guardrail):  # the guardrail trace parser reads assessments by key
        return dict(r.document(trace, where)), parse_guardrail_trace(guardrail)


def request_id_of(response: Any) -> str | None:
    """``x-amzn-RequestId`` from botocore's ``ResponseMetadata`` (None when absent)."""
    is_map = type(response) is dict or isinstance(response, Mapping)
    meta = response.get("ResponseMetadata") if is_map else None
    if type(meta) is not dict and not isinstance(meta, Mapping):
        return None
    found = meta.get("RequestId")
    if not found:
        headers = meta.get("HTTPHeaders")
        found = headers.get("x-amzn-requestid") if isinstance(headers, Mapping) else None
    return str(found) if found else None


_PLAIN_RESPONSE = frozenset(["ResponseMetadata", "output", "stopReason", "usage", "metrics"])


def _plain_result(response: Any, model_id: str) -> ConverseResult | None:
    """The result of the usual answer, read without a reader call: text blocks only, a
    stop reason, plain counts, a latency or none. None for anything else (extra members, a
    block of another kind, a count that is not an int...): the reader then reads it, and
    names what is malformed. What this returns equals what the reader would return."""
    if type(response) is not dict or not response.keys() <= _PLAIN_RESPONSE:
        return None
    output, raw_stop, usage = (
        response.get("output"),
        response.get("stopReason"),
        response.get("usage"),
    )
    if type(output) is not dict or type(raw_stop) is not str or not raw_stop:
        return None
    message = output.get("message")
    content = message.get("content") if type(message) is dict else None
    if type(content) is not list:
        return None
    blocks = []
    for block in content:
        text = block.get("text") if type(block) is dict and len(block) == 1 else None
        if type(text) is not str:
            return None
        blocks.append(TextBlock(text))
    counts = _usage.plain_usage(usage)
    metrics = response.get("metrics")
    if counts is None or (metrics is not None and type(metrics) is not dict):
        return None
    latency = None if metrics is None else metrics.get("latencyMs")
    if latency is not None and not (type(latency) is int and latency >= 0):
        return None
    return assemble(  # the fields of parse_converse_response's result, in order
        ConverseResult,
        {
            "message": Message("assistant", tuple(blocks)),
            "stop_reason": STOP_REASONS.get(raw_stop, "unknown"),
            "raw_stop_reason": raw_stop,
            "usage": counts,
            "model_id": model_id,
            "latency_ms": latency,
            "guardrail": None,
            "request_id": request_id_of(response),
            "additional_model_response_fields": {},
            "trace": {},
            "raw_body": None,
        },
    )


def parse_converse_response(response: Mapping[str, Any], *, model_id: str) -> ConverseResult:
    """Parse a Converse response (botocore's decoded dict) into a :class:`ConverseResult`.

    Raises:
        MalformedResponseError: The response is not the documented shape (no
            ``output.message``, no ``stopReason``, no ``usage``...).
    """
    plain = _plain_result(response, model_id)
    if plain is not None:
        return plain
    r = _RESPONSE  # one reader for every response: the guard names the call in its errors
    request_id = request_id_of(response)
    with r.guard(response, model_id=model_id, request_id=request_id):
        body = {**_RESPONSE_MEMBERS, **r.obj(response, "the response")}  # by subscript
        message = r.obj(r.obj(body["output"], "output").get("message"), "output.message")
        content = r.items(message.get("content"), "output.message.content")
        raw_stop = r.text(body["stopReason"], "stopReason", empty=False)
        trace, guardrail = ({}, None) if body["trace"] is None else parse_trace(r, body["trace"])
        blocks = [
            TextBlock(b["text"])  # a text block, the usual answer: read without a call
            if type(b) is dict and len(b) == 1 and type(b.get("text")) is str
            else _block(r, b, f"output.message.content[{i}]")
            for i, b in enumerate(content)
        ]
        extra = body["additionalModelResponseFields"]
        where = "additionalModelResponseFields"
        return assemble(  # every field, in order: ConverseResult(...) without the __init__
            ConverseResult,
            {
                "message": Message("assistant", tuple(blocks)),
                "stop_reason": STOP_REASONS.get(raw_stop, "unknown"),  # parse_stop_reason
                "raw_stop_reason": raw_stop,
                "usage": parse_usage(body["usage"], r),
                "model_id": model_id,
                "latency_ms": parse_latency(r, body["metrics"]),
                "guardrail": guardrail,
                "request_id": request_id,
                "additional_model_response_fields": (
                    {} if extra is None else document_fields(r.document(extra, where))
                ),
                "trace": trace,
                "raw_body": None,
            },
        )
