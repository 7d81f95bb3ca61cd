"""Pure InvokeModel bodies and response parsing for every embedding model bedrock-kit knows.

Titan takes one input per call (a text, an image, or both for Titan Multimodal); Cohere
takes up to 96 texts (or images) per call. Responses are checked against what was asked:
the number of vectors, one size per type, finite numbers, integers for the integer types.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.embeddings.models import (
    EmbeddingOptions,
    InputType,
    check_images,
    check_input_type,
    check_texts,
    data_uri,
)
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

_TOKEN_HEADER = "x-amzn-bedrock-input-token-count"
_INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "binary": (-128, 127), "ubinary": (0, 255)}


def batched(texts: Sequence[Any], size: int) -> list[list[Any]]:
    """Split ``texts`` into consecutive batches of at most ``size``."""
    return [list(texts[start : start + size]) for start in range(0, len(texts), size)]


def _titan_config(body: dict[str, Any], options: EmbeddingOptions) -> dict[str, Any]:
    variant = options.spec.variant
    if variant == "image-v1":
        if options.dimensions is not None:
            body["embeddingConfig"] = {"outputEmbeddingLength": options.dimensions}
        return body
    if options.dimensions is not None:
        body["dimensions"] = options.dimensions
    if options.normalize is not None:
        body["normalize"] = options.normalize
    if options.embedding_types:
        body["embeddingTypes"] = list(options.embedding_types)
    return body


def build_titan_body(text: str, options: EmbeddingOptions) -> dict[str, Any]:
    """Titan body for one text (Text v1, Text v2, or Multimodal's text-only form)."""
    return _titan_config({"inputText": text}, options)


def _cohere_config(body: dict[str, Any], options: EmbeddingOptions) -> dict[str, Any]:
    if options.truncate is not None:
        body["truncate"] = options.truncate
    types = list(options.embedding_types)
    if options.spec.variant == "v4" and not types:
        types = ["float"]  # v4: ask for floats explicitly, with the chosen size
    if types:
        body["embedding_types"] = types
    if options.spec.variant == "v4" and options.dimensions is not None:
        body["output_dimension"] = options.dimensions
    return body


def build_cohere_body(
    texts: Sequence[str], options: EmbeddingOptions, input_type: InputType
) -> dict[str, Any]:
    """Cohere Embed body for one batch of texts."""
    return _cohere_config({"texts": list(texts), "input_type": input_type}, options)


def _request(options: EmbeddingOptions, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "modelId": options.model_id,
        "body": json.dumps(body),
        "contentType": "application/json",
        "accept": "application/json",
    }


def build_embed_requests(
    options: EmbeddingOptions, texts: Sequence[str], input_type: InputType = "search_document"
) -> list[dict[str, Any]]:
    """InvokeModel keyword arguments, one per call, covering ``texts`` in order.

    Args:
        options: Model and body parameters.
        texts: Non-blank texts.
        input_type: Cohere input type for this call; ``options.input_type`` wins when set.
            Titan has no input type and ignores it.
    """
    texts = check_texts(texts, max_chars=options.spec.max_text_chars)
    chosen = options.input_type or check_input_type(input_type)
    if options.spec.family == "titan":
        bodies = [build_titan_body(text, options) for text in texts]
    else:
        bodies = [
            build_cohere_body(batch, options, chosen)
            for batch in batched(texts, options.spec.max_batch)
        ]
    return [_request(options, body) for body in bodies]


def build_image_requests(
    options: EmbeddingOptions,
    images: Sequence[bytes],
    texts: Sequence[str] | None = None,
    input_type: InputType = "search_document",
) -> list[dict[str, Any]]:
    """InvokeModel keyword arguments embedding ``images`` (optionally each with a text).

    Titan Multimodal sends one image per call (``inputImage``, with ``inputText`` when a
    text is paired: one vector for both). Cohere Embed v3 sends one image per call with
    input type ``image`` (no texts). Cohere Embed v4 sends up to 96 per call: ``images``,
    or ``inputs`` of text and image content when texts are paired.

    Raises:
        ConfigurationError: A text-only model, a bad image, texts the model cannot pair,
            or texts and images of different lengths.
    """
    spec = options.spec
    images = check_images(images, spec, options.model_id)
    paired: list[str | None] = [None] * len(images)
    if texts is not None:
        if spec.text_only:
            raise ConfigurationError(
                f"{options.model_id} embeds an image alone; pass texts to embed() instead"
            )
        paired = list(check_texts(texts, max_chars=spec.max_text_chars))
        if len(paired) != len(images):
            raise ConfigurationError(
                f"texts has {len(paired)} items and images {len(images)}: pair one text per image"
            )
    if spec.family == "titan":
        bodies = []
        for image, text in zip(images, paired, strict=True):
            body: dict[str, Any] = {"inputImage": base64.b64encode(image).decode()}
            if text is not None:
                body["inputText"] = text
            bodies.append(_titan_config(body, options))
        return [_request(options, b) for b in bodies]
    if spec.variant == "v3":
        chosen: InputType = "image"
    else:
        chosen = options.input_type or check_input_type(input_type)
    requests = []
    for start in range(0, len(images), spec.max_images):
        chunk = images[start : start + spec.max_images]
        texts_chunk = paired[start : start + spec.max_images]
        body = {"input_type": chosen}
        if texts is None:
            body["images"] = [data_uri(image) for image in chunk]
        else:
            body["inputs"] = [
                {
                    "content": [
                        {"type": "text", "text": text},
                        {"type": "image_url", "image_url": data_uri(image)},
                    ]
                }
                for image, text in zip(chunk, texts_chunk, strict=True)
            ]
        requests.append(_request(options, _cohere_config(body, options)))
    return requests


def request_count(request: Mapping[str, Any]) -> int:
    """How many vectors one request asks for."""
    body = json.loads(request["body"])
    for key in ("texts", "images", "inputs"):
        if key in body:
            return len(body[key])
    return 1


# -- responses


@dataclass(frozen=True)
class EmbeddingBatch:
    """What one InvokeModel call returned."""

    vectors: list[list[float]]
    """One vector per input, in order (the primary type: floats unless not requested)."""
    input_tokens: int | None
    """Input tokens billed, or None when neither the body nor the headers said."""
    request_id: str | None = None
    """``x-amzn-RequestId`` of the call."""
    by_type: dict[str, list[list[float]]] = field(default_factory=dict, compare=False)
    """Every requested vector type (``float``, ``int8``, ``binary``...) -> its vectors."""


def _header(response: Mapping[str, Any], name: str) -> str | None:
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def _vector(r: WireReader, vector: Any, kind: str, where: str) -> list[float]:
    values = r.items(vector, where)
    if not values:
        raise r.malformed(f"{where} is empty")
    if kind == "float":
        return [r.number(x, f"{where}[{i}]") for i, x in enumerate(values)]
    low, high = _INT_RANGES[kind]
    out: list[float] = []
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int) or not low <= x <= high:
            raise r.malformed(f"{where}[{i}] is not a {kind} value ({low}..{high})", x)
        out.append(x)
    return out


def _vectors(r: WireReader, wire: Any, kind: str, expected: int, where: str) -> list[list[float]]:
    items = r.items(wire, where)
    if len(items) != expected:
        raise r.malformed(f"expected {expected} {kind} embedding(s), got {len(items)}")
    parsed = [_vector(r, v, kind, f"{where}[{i}]") for i, v in enumerate(items)]
    for i, vector in enumerate(parsed):  # one response, one vector size
        if len(vector) != len(parsed[0]):
            raise r.malformed(
                f"{where}[{i}] has {len(vector)} dimensions, {where}[0] {len(parsed[0])}"
            )
    return parsed


def _titan_vectors(
    r: WireReader, body: Mapping[str, Any], wanted: Sequence[str]
) -> dict[str, list[list[float]]]:
    by_type = body.get("embeddingsByType")
    if by_type is None and body.get("embedding") is None:
        message = body.get("message")
        why = f" (message: {message})" if message else ""
        raise r.malformed(f"no embedding in the response{why}")
    found: dict[str, Any] = {}
    if by_type is not None:
        found.update(r.obj(by_type, "embeddingsByType"))
    if body.get("embedding") is not None:
        found.setdefault("float", body["embedding"])
    out = {}
    for kind in wanted:
        if kind not in found:
            raise r.malformed(f"no {kind} embedding in the response")
        out[kind] = [_vector(r, found[kind], kind, f"embeddingsByType.{kind}")]
    return out


def _cohere_vectors(
    r: WireReader, body: Mapping[str, Any], wanted: Sequence[str], expected: int
) -> dict[str, list[list[float]]]:
    found = body.get("embeddings")
    if not isinstance(found, Mapping):
        if list(wanted) != ["float"]:
            raise r.malformed(f"embeddings is a plain list, but {list(wanted)} were asked for")
        return {"float": _vectors(r, found, "float", expected, "embeddings")}
    out = {}
    for kind in wanted:
        if found.get(kind) is None:
            raise r.malformed(f"no {kind} embeddings in the response")
        out[kind] = _vectors(r, found[kind], kind, expected, f"embeddings.{kind}")
    return out


def parse_embedding_response(
    spec: Any,
    response: Mapping[str, Any],
    raw: bytes,
    expected: int,
    *,
    model_id: str | None = None,
    embedding_types: Sequence[str] = (),
) -> EmbeddingBatch:
    """Vectors and token usage from an InvokeModel response.

    Args:
        spec: The model's :class:`~bedrock_kit.core.embeddings.models.EmbeddingModelSpec`.
        response: The botocore response (for headers and request id).
        raw: The body bytes.
        expected: How many inputs the call sent.
        model_id: The model called, for errors.
        embedding_types: The types asked for (empty: floats).

    Raises:
        MalformedResponseError: The body is not a JSON object, lacks the vectors of a type
            asked for, has the wrong number of them, or a vector that is not a list of
            finite numbers (integers in range for the integer types) of the same size.
    """
    meta = response.get("ResponseMetadata") or {}
    request_id = meta.get("RequestId") or _header(response, "x-amzn-requestid")
    r = WireReader("embedding response", model_id=model_id, request_id=request_id, body=raw)
    body = r.loads_object(raw)
    wanted = list(embedding_types) or ["float"]
    primary = "float" if "float" in wanted else wanted[0]
    with r.guard(body):
        if spec.family == "titan":
            if expected != 1:
                raise r.malformed(f"Titan embeds one input per call, {expected} were counted")
            by_type = _titan_vectors(r, body, wanted)
            tokens = r.opt_count(body.get("inputTextTokenCount"), "inputTextTokenCount")
        else:
            by_type = _cohere_vectors(r, body, wanted, expected)
            tokens = None
        if tokens is None:
            header = _header(response, _TOKEN_HEADER)
            if header is not None and not header.strip().isdigit():
                raise r.malformed(f"header {_TOKEN_HEADER} is not a count", header)
            tokens = int(header) if header is not None else None
    return EmbeddingBatch(by_type[primary], tokens, request_id, by_type)


@dataclass(frozen=True)
class EmbeddingResult:
    """Vectors for a list of inputs, with what the calls cost."""

    model_id: str
    """The model that embedded the inputs."""
    vectors: list[list[float]]
    """One vector per input, in input order (floats unless another type was asked for)."""
    usage: Usage
    """Input tokens summed over every call that reported them."""
    calls: int
    """InvokeModel calls made."""
    unreported_calls: int = 0
    """Calls whose token count Bedrock did not report (not in ``usage``)."""
    request_ids: tuple[str, ...] = ()
    """Request ids of the calls, in order."""
    by_type: dict[str, list[list[float]]] = field(default_factory=dict)
    """Every requested vector type -> its vectors, in input order."""
    images: int = 0
    """Images embedded (Bedrock bills images apart from tokens)."""


def combine_batches(
    model_id: str, batches: Sequence[EmbeddingBatch], *, images: int = 0
) -> EmbeddingResult:
    """One :class:`EmbeddingResult` from the calls' results, in request order."""
    tokens = sum(b.input_tokens or 0 for b in batches)
    kinds = list(batches[0].by_type) if batches else []
    return EmbeddingResult(
        model_id=model_id,
        vectors=[vector for b in batches for vector in b.vectors],
        usage=Usage(input_tokens=tokens, total_tokens=tokens),
        calls=len(batches),
        unreported_calls=sum(b.input_tokens is None for b in batches),
        request_ids=tuple(b.request_id for b in batches if b.request_id),
        by_type={k: [v for b in batches for v in b.by_type.get(k, [])] for k in kinds},
        images=images,
    )
