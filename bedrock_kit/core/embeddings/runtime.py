"""Text embeddings over InvokeModel: Amazon Titan Text Embeddings v2 and Cohere Embed.

Request bodies and response parsing are pure functions over a small model table; the
:class:`EmbeddingsRuntime` only moves requests over the wire. The sync form sends the calls
one after another; the async form sends them concurrently, bounded by a semaphore, through
one reused aiobotocore client. Token usage comes from the body (Titan's
``inputTextTokenCount``) or the ``X-Amzn-Bedrock-Input-Token-Count`` header, and is handed
to an ``on_usage`` hook per call so a budget ledger can record it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.progress import Progress, check_progress, progress_bar
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError, translate_errors

InputType: TypeAlias = Literal["search_document", "search_query", "classification", "clustering"]
INPUT_TYPES: tuple[InputType, ...] = (
    "search_document",
    "search_query",
    "classification",
    "clustering",
)
TRUNCATE_MODES = ("NONE", "START", "END")
DEFAULT_MAX_CONCURRENCY = 8
_SERVICE = "bedrock-runtime"
_TOKEN_HEADER = "x-amzn-bedrock-input-token-count"

UsageHook: TypeAlias = Callable[[str, int], None]
"""Called after each InvokeModel call with ``(model_id, input_tokens)``."""


@dataclass(frozen=True)
class EmbeddingModelSpec:
    """What bedrock-kit knows about one embedding model."""

    family: Literal["titan", "cohere"]
    """Request/response body family."""
    max_batch: int
    """Texts per InvokeModel call (Titan takes one ``inputText``)."""
    dimensions: tuple[int, ...] = ()
    """Output sizes the model accepts; empty when it has one fixed size."""
    default_dimensions: int | None = None
    """Size returned when ``dimensions`` is not given (None: fixed by the model)."""


# Bedrock user guide, "Amazon Titan Text Embeddings" and "Cohere Embed models".
_MODELS: dict[str, EmbeddingModelSpec] = {
    "amazon.titan-embed-text-v2:0": EmbeddingModelSpec("titan", 1, (256, 512, 1024), 1024),
    "cohere.embed-english-v3": EmbeddingModelSpec("cohere", 96),
    "cohere.embed-multilingual-v3": EmbeddingModelSpec("cohere", 96),
    "cohere.embed-v4:0": EmbeddingModelSpec("cohere", 96, (256, 512, 1024, 1536), 1536),
}
SUPPORTED_MODELS: tuple[str, ...] = tuple(_MODELS)
"""Embedding model ids bedrock-kit can build bodies for."""


def embedding_model_spec(model_id: str) -> EmbeddingModelSpec:
    """The spec of ``model_id`` (inference-profile prefixes and ``:0`` suffixes allowed).

    Raises:
        ConfigurationError: The model is not a supported embedding model.
    """
    base = base_model_id(model_id) if isinstance(model_id, str) else ""
    spec = _MODELS.get(base) or _MODELS.get(base.removesuffix(":0"))
    if spec is None:
        raise ConfigurationError(
            f"model {model_id!r} is not a supported embedding model; "
            f"supported: {', '.join(SUPPORTED_MODELS)}"
        )
    return spec


@dataclass(frozen=True)
class EmbeddingOptions:
    """A validated embedding configuration: model plus its body parameters."""

    model_id: str
    """Model id as given (profile id or ARN kept for the request)."""
    dimensions: int | None = None
    """Vector size (Titan v2: 256/512/1024; Cohere v4: 256/512/1024/1536)."""
    normalize: bool | None = None
    """Titan only: unit-length vectors (Bedrock default True)."""
    truncate: str | None = None
    """Cohere only: ``NONE``, ``START`` or ``END`` for texts over the model's limit."""
    input_type: InputType | None = None
    """Cohere: fixed input type; None lets each call choose (documents vs queries)."""
    spec: EmbeddingModelSpec = field(init=False, repr=False, compare=False)
    """The model's spec, looked up from ``model_id``."""

    def __post_init__(self) -> None:
        spec = embedding_model_spec(self.model_id)
        object.__setattr__(self, "spec", spec)
        if self.dimensions is not None and self.dimensions not in spec.dimensions:
            allowed = spec.dimensions or "no choice (the model has a fixed size)"
            raise ConfigurationError(
                f"dimensions={self.dimensions!r} is not valid for {self.model_id}; "
                f"allowed: {allowed}"
            )
        if self.normalize is not None and spec.family != "titan":
            raise ConfigurationError(f"normalize applies to Titan models only, not {self.model_id}")
        if self.truncate is not None:
            if spec.family != "cohere":
                raise ConfigurationError(
                    f"truncate applies to Cohere models only, not {self.model_id}"
                )
            if self.truncate not in TRUNCATE_MODES:
                raise ConfigurationError(
                    f"truncate must be one of {TRUNCATE_MODES}, got {self.truncate!r}"
                )
        if self.input_type is not None:
            check_input_type(self.input_type)


def check_input_type(input_type: object) -> InputType:
    """Validate an ``input_type`` argument."""
    if input_type not in INPUT_TYPES:
        raise ConfigurationError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")
    return input_type


def check_texts(texts: object, argument: str = "texts") -> list[str]:
    """Validate a list of non-blank strings (Bedrock rejects empty inputs), naming the argument."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ConfigurationError(
            f"{argument} must be a list of strings, got {type(texts).__name__}"
        )
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigurationError(
                f"{argument}[{index}] must be a string, got {type(text).__name__}"
            )
        if not text.strip():
            raise ConfigurationError(f"{argument}[{index}] is empty; Bedrock rejects empty texts")
        check_text(text, f"{argument}[{index}]")
    return list(texts)


# -- pure request building


def build_titan_body(text: str, options: EmbeddingOptions) -> dict[str, Any]:
    """Titan Text Embeddings v2 body for one text."""
    body: dict[str, Any] = {"inputText": text}
    if options.dimensions is not None:
        body["dimensions"] = options.dimensions
    if options.normalize is not None:
        body["normalize"] = options.normalize
    return body


def build_cohere_body(
    texts: Sequence[str], options: EmbeddingOptions, input_type: InputType
) -> dict[str, Any]:
    """Cohere Embed body for one batch of texts."""
    body: dict[str, Any] = {"texts": list(texts), "input_type": input_type}
    if options.truncate is not None:
        body["truncate"] = options.truncate
    if options.spec.dimensions:  # v4: ask for floats explicitly, with the chosen size
        body["embedding_types"] = ["float"]
        if options.dimensions is not None:
            body["output_dimension"] = options.dimensions
    return body


def batched(texts: Sequence[str], size: int) -> list[list[str]]:
    """Split ``texts`` into consecutive batches of at most ``size``."""
    return [list(texts[start : start + size]) for start in range(0, len(texts), size)]


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
    texts = check_texts(texts)
    chosen = options.input_type or check_input_type(input_type)
    if options.spec.family == "titan":
        bodies = [build_titan_body(text, options) for text in texts]
    else:
        bodies = [
            build_cohere_body(batch, options, chosen)
            for batch in batched(texts, options.spec.max_batch)
        ]
    return [
        {
            "modelId": options.model_id,
            "body": json.dumps(body),
            "contentType": "application/json",
            "accept": "application/json",
        }
        for body in bodies
    ]


# -- pure response parsing


@dataclass(frozen=True)
class EmbeddingBatch:
    """What one InvokeModel call returned."""

    vectors: list[list[float]]
    """One vector per input text, in order."""
    input_tokens: int | None
    """Input tokens billed, or None when neither the body nor the headers said."""
    request_id: str | None = None
    """``x-amzn-RequestId`` of the call."""


def _header(response: Mapping[str, Any], name: str) -> str | None:
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def _floats(r: WireReader, vector: Any, where: str) -> list[float]:
    values = r.items(vector, where)
    if not values:
        raise r.malformed(f"{where} is empty")
    return [r.number(x, f"{where}[{i}]") for i, x in enumerate(values)]


def parse_embedding_response(
    spec: EmbeddingModelSpec,
    response: Mapping[str, Any],
    raw: bytes,
    expected: int,
    *,
    model_id: str | None = None,
) -> EmbeddingBatch:
    """Vectors and token usage from an InvokeModel response.

    Args:
        spec: The model's spec.
        response: The botocore response (for headers and request id).
        raw: The body bytes.
        expected: How many texts the call sent.
        model_id: The model called, for errors.

    Raises:
        MalformedResponseError: The body is not a JSON object, lacks the vectors, has the
            wrong number of them, or a vector that is not a list of finite numbers of the
            same size.
    """
    meta = response.get("ResponseMetadata") or {}
    request_id = meta.get("RequestId") or _header(response, "x-amzn-requestid")
    r = WireReader("embedding response", model_id=model_id, request_id=request_id, body=raw)
    body = r.loads_object(raw)
    with r.guard(body):
        vectors: Any
        if spec.family == "titan":
            vectors = [body.get("embedding")]
            tokens = r.opt_count(body.get("inputTextTokenCount"), "inputTextTokenCount")
        else:
            found = body.get("embeddings")
            vectors = found.get("float") if isinstance(found, dict) else found
            tokens = None
        vectors = r.items(vectors, "embeddings")
        if len(vectors) != expected:
            raise r.malformed(f"expected {expected} embedding(s), got {len(vectors)}", raw)
        parsed = [_floats(r, vector, f"embeddings[{i}]") for i, vector in enumerate(vectors)]
        for i, vector in enumerate(parsed):  # one response, one vector size
            if len(vector) != len(parsed[0]):
                raise r.malformed(
                    f"embeddings[{i}] has {len(vector)} dimensions, embeddings[0] {len(parsed[0])}"
                )
        if tokens is None:
            header = _header(response, _TOKEN_HEADER)
            if header is not None and not header.strip().isdigit():
                raise r.malformed(f"header {_TOKEN_HEADER} is not a count", header)
            tokens = int(header) if header is not None else None
    return EmbeddingBatch(parsed, tokens, request_id)


@dataclass(frozen=True)
class EmbeddingResult:
    """Vectors for a list of texts, with what the calls cost."""

    model_id: str
    """The model that embedded the texts."""
    vectors: list[list[float]]
    """One vector per input text, in input order."""
    usage: Usage
    """Input tokens summed over every call that reported them."""
    calls: int
    """InvokeModel calls made."""
    unreported_calls: int = 0
    """Calls whose token count Bedrock did not report (not in ``usage``)."""
    request_ids: tuple[str, ...] = ()
    """Request ids of the calls, in order."""


def combine_batches(model_id: str, batches: Sequence[EmbeddingBatch]) -> EmbeddingResult:
    """One :class:`EmbeddingResult` from the calls' results, in request order."""
    tokens = sum(b.input_tokens or 0 for b in batches)
    return EmbeddingResult(
        model_id=model_id,
        vectors=[vector for b in batches for vector in b.vectors],
        usage=Usage(input_tokens=tokens, total_tokens=tokens),
        calls=len(batches),
        unreported_calls=sum(b.input_tokens is None for b in batches),
        request_ids=tuple(b.request_id for b in batches if b.request_id),
    )


def _count(request: Mapping[str, Any]) -> int:
    body = json.loads(request["body"])
    return len(body["texts"]) if "texts" in body else 1


class EmbeddingsRuntime(OwnsClients):
    """Sends embedding requests, sync and native async.

    Args:
        settings: How to reach Bedrock.
        options: Model and body parameters.
        client: Injected boto3 ``bedrock-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-runtime`` client.
        on_usage: Called with ``(model_id, input_tokens)`` after each call that reported
            its token count (a budget ledger subscribes here).
        max_concurrency: Async calls in flight at once.
        progress: A bar of texts embedded when a call needs more than one request: None
            (default) on a terminal, True whenever tqdm is installed, False never
            (:mod:`bedrock_kit.core.progress`).
    """

    def __init__(
        self,
        settings: ClientSettings,
        options: EmbeddingOptions,
        *,
        client: Any = None,
        async_client: Any = None,
        on_usage: UsageHook | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        progress: bool | None = None,
    ) -> None:
        self.progress = check_progress(progress)
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigurationError(
                f"max_concurrency must be an int >= 1, got {max_concurrency!r}"
            )
        self.options = options
        self.on_usage = on_usage
        self.max_concurrency = max_concurrency
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)

    def _errors(self) -> Any:
        return translate_errors(model_id=self.options.model_id, region=self.pool.region)

    def _finish(self, request: Mapping[str, Any], response: Any, raw: bytes) -> EmbeddingBatch:
        batch = parse_embedding_response(
            self.options.spec,
            response,
            raw,
            _count(request),
            model_id=self.options.model_id,
        )
        if self.on_usage is not None and batch.input_tokens is not None:
            self.on_usage(self.options.model_id, batch.input_tokens)
        return batch

    def embed(
        self, texts: Sequence[str], input_type: InputType = "search_document"
    ) -> EmbeddingResult:
        """Embed ``texts`` (one call per Titan text, per 96 Cohere texts), in order."""
        requests = build_embed_requests(self.options, texts, input_type)
        batches = []
        with self._errors(), self._bar(requests, texts) as bar:
            for request in requests:
                response = self.pool.client.invoke_model(**request)
                batches.append(self._finish(request, response, response["body"].read()))
                bar.update(_count(request))
        return combine_batches(self.options.model_id, batches)

    def _bar(self, requests: Sequence[Any], texts: Sequence[str]) -> Progress:
        """Progress over the texts, drawn only when the call takes several requests."""
        wanted = self.progress if len(requests) > 1 else False
        return progress_bar(len(texts), f"embedding {self.options.model_id}", progress=wanted)

    async def aembed(
        self, texts: Sequence[str], input_type: InputType = "search_document"
    ) -> EmbeddingResult:
        """Async :meth:`embed`: the calls run concurrently, at most ``max_concurrency``."""
        requests = build_embed_requests(self.options, texts, input_type)
        if not requests:
            return combine_batches(self.options.model_id, [])
        semaphore = asyncio.Semaphore(self.max_concurrency)
        with self._errors(), self._bar(requests, texts) as bar:
            client = await self.pool.async_client()

            async def one(request: Mapping[str, Any]) -> EmbeddingBatch:
                async with semaphore:
                    with self._errors():
                        response = await client.invoke_model(**request)
                        async with response["body"] as body:
                            raw = await body.read()
                        done = self._finish(request, response, raw)
                        bar.update(_count(request))
                        return done

            tasks = [asyncio.ensure_future(one(request)) for request in requests]
            try:
                batches = await asyncio.gather(*tasks)
            except BaseException:
                # One failed call fails the whole embed: stop the others instead of leaving
                # them running (and billing) with nobody waiting for them.
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        return combine_batches(self.options.model_id, list(batches))
