"""Embeddings over InvokeModel: Amazon Titan Text (v1, v2), Titan Multimodal and Cohere Embed.

Models and options are :mod:`.models`, request bodies and response parsing :mod:`.bodies`
(pure functions); the :class:`EmbeddingsRuntime` only moves requests over the wire. The
sync form sends the calls one after another; the async form sends them concurrently,
bounded by a semaphore, through one reused aiobotocore client. Token usage comes from the
body (Titan's ``inputTextTokenCount``) or the ``X-Amzn-Bedrock-Input-Token-Count`` header,
and is handed to an ``on_usage`` hook per call. With a ``ledger``, each call's input is
reserved before it is sent (estimated from its texts; images at
:data:`IMAGE_TOKEN_ESTIMATE` tokens each) and settled to the reported count after it; a call
whose count Bedrock did not report is charged its whole reservation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.chat.token_estimate import estimate_tokens
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.embeddings.bodies import (
    EmbeddingBatch,
    EmbeddingResult,
    batched,
    build_cohere_body,
    build_embed_requests,
    build_image_requests,
    build_titan_body,
    combine_batches,
    parse_embedding_response,
    request_count,
)
from bedrock_kit.core.embeddings.models import (
    INPUT_TYPES,
    SUPPORTED_MODELS,
    TRUNCATE_MODES,
    EmbeddingModelSpec,
    EmbeddingOptions,
    InputType,
    check_images,
    check_input_type,
    check_texts,
    embedding_model_spec,
    image_format,
)
from bedrock_kit.core.progress import Progress, check_progress, progress_bar
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError, MalformedResponseError, translate_errors

if TYPE_CHECKING:
    from bedrock_kit.core.budget.ledger import Reservation

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "IMAGE_TOKEN_ESTIMATE",
    "INPUT_TYPES",
    "SUPPORTED_MODELS",
    "TRUNCATE_MODES",
    "EmbeddingBatch",
    "EmbeddingModelSpec",
    "EmbeddingOptions",
    "EmbeddingResult",
    "EmbeddingsRuntime",
    "InputType",
    "UsageHook",
    "batched",
    "build_cohere_body",
    "build_embed_requests",
    "build_image_requests",
    "build_titan_body",
    "check_images",
    "check_input_type",
    "check_texts",
    "combine_batches",
    "embedding_model_spec",
    "image_format",
    "parse_embedding_response",
]

DEFAULT_MAX_CONCURRENCY = 8
IMAGE_TOKEN_ESTIMATE = 1000
"""Input tokens reserved per image (an estimate; the ledger counts overruns)."""
_SERVICE = "bedrock-runtime"

UsageHook: TypeAlias = Callable[[str, int], None]
"""Called after each InvokeModel call with ``(model_id, input_tokens)``."""


def _reserve_tokens(request: Mapping[str, Any]) -> int:
    body = json.loads(request["body"])
    texts = list(body.get("texts") or [])
    texts += [body["inputText"]] if isinstance(body.get("inputText"), str) else []
    images = len(body.get("images") or []) + int("inputImage" in body)
    for item in body.get("inputs") or []:
        for part in item.get("content") or []:
            texts += [part["text"]] if part.get("type") == "text" else []
            images += part.get("type") == "image_url"
    tokens = estimate_tokens(texts, messages=1) if texts else 0
    return tokens + images * IMAGE_TOKEN_ESTIMATE


class EmbeddingsRuntime(OwnsClients):
    """Sends embedding requests, sync and native async.

    Args:
        settings: How to reach Bedrock.
        options: Model and body parameters.
        client: Injected boto3 ``bedrock-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-runtime`` client.
        on_usage: Called with ``(model_id, input_tokens)`` after each call that reported
            its token count.
        max_concurrency: Async calls in flight at once.
        ledger: Budget ledger: each call is reserved before and settled after (see the
            module doc); :class:`~bedrock_kit.errors.BudgetExceededError` before a call
            that does not fit.
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
        ledger: Ledger | None = None,
        progress: bool | None = None,
    ) -> None:
        self.progress = check_progress(progress)
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigurationError(
                f"max_concurrency must be an int >= 1, got {max_concurrency!r}"
            )
        if on_usage is not None and not callable(on_usage):
            raise ConfigurationError(f"on_usage must be callable, got {type(on_usage).__name__}")
        if ledger is not None and not isinstance(ledger, Ledger):
            raise ConfigurationError(
                f"ledger must be a bedrock_kit.Ledger, got {type(ledger).__name__}"
            )
        self.options = options
        self.on_usage = on_usage
        self.max_concurrency = max_concurrency
        self.ledger = ledger
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)

    def _errors(self) -> Any:
        return translate_errors(model_id=self.options.model_id, region=self.pool.region)

    def _reserve(self, request: Mapping[str, Any]) -> Reservation | None:
        if self.ledger is None:
            return None
        return self.ledger.reserve(self.options.model_id, _reserve_tokens(request), 0)

    def _finish(
        self,
        request: Mapping[str, Any],
        response: Any,
        raw: bytes,
        reservation: Reservation | None,
    ) -> EmbeddingBatch:
        try:
            batch = parse_embedding_response(
                self.options.spec,
                response,
                raw,
                request_count(request),
                model_id=self.options.model_id,
                embedding_types=self.options.embedding_types,
            )
        except MalformedResponseError:
            if reservation is not None:  # billed, answer unreadable: charge it whole
                reservation.settle_reserved()
            raise
        if reservation is not None:
            if batch.input_tokens is None:
                reservation.settle_reserved()
            else:
                tokens = batch.input_tokens
                reservation.settle(Usage(input_tokens=tokens, total_tokens=tokens))
        if self.on_usage is not None and batch.input_tokens is not None:
            self.on_usage(self.options.model_id, batch.input_tokens)
        return batch

    def _send(self, requests: list[dict[str, Any]], images: int) -> EmbeddingResult:
        batches = []
        with self._errors(), self._bar(requests) as bar:
            for request in requests:
                reservation = self._reserve(request)
                try:
                    response = self.pool.client.invoke_model(**request)
                    raw = response["body"].read()
                except BaseException as exc:
                    if reservation is not None:
                        reservation.release(exc)
                    raise
                batches.append(self._finish(request, response, raw, reservation))
                bar.update(request_count(request))
        return combine_batches(self.options.model_id, batches, images=images)

    def _bar(self, requests: Sequence[Mapping[str, Any]]) -> Progress:
        """Progress over the vectors asked for, drawn only when the call takes several
        requests."""
        wanted = self.progress if len(requests) > 1 else False
        total = sum(request_count(request) for request in requests)
        return progress_bar(total, f"embedding {self.options.model_id}", progress=wanted)

    async def _asend(self, requests: list[dict[str, Any]], images: int) -> EmbeddingResult:
        if not requests:
            return combine_batches(self.options.model_id, [])
        semaphore = asyncio.Semaphore(self.max_concurrency)
        with self._errors(), self._bar(requests) as bar:
            client = await self.pool.async_client()

            async def one(request: Mapping[str, Any]) -> EmbeddingBatch:
                async with semaphore:
                    with self._errors():
                        reservation = self._reserve(request)
                        try:
                            response = await client.invoke_model(**request)
                            async with response["body"] as body:
                                raw = await body.read()
                        except BaseException as exc:
                            if reservation is not None:
                                reservation.release(exc)
                            raise
                        done = self._finish(request, response, raw, reservation)
                        bar.update(request_count(request))
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
        return combine_batches(self.options.model_id, list(batches), images=images)

    def embed(
        self, texts: Sequence[str], input_type: InputType = "search_document"
    ) -> EmbeddingResult:
        """Embed ``texts`` (one call per Titan text, per 96 Cohere texts), in order."""
        return self._send(build_embed_requests(self.options, texts, input_type), 0)

    async def aembed(
        self, texts: Sequence[str], input_type: InputType = "search_document"
    ) -> EmbeddingResult:
        """Async :meth:`embed`: the calls run concurrently, at most ``max_concurrency``."""
        return await self._asend(build_embed_requests(self.options, texts, input_type), 0)

    def embed_images(
        self,
        images: Sequence[bytes],
        texts: Sequence[str] | None = None,
        input_type: InputType = "search_document",
    ) -> EmbeddingResult:
        """Embed images (PNG/JPEG bytes...), each optionally with a text, in order.

        Args:
            images: Image file bytes.
            texts: One text per image, embedded with it into one vector (Titan Multimodal,
                Cohere Embed v4); None embeds the images alone.
            input_type: Cohere Embed v4 input type (v3 always uses ``image``).
        """
        requests = build_image_requests(self.options, images, texts, input_type)
        return self._send(requests, len(images))

    async def aembed_images(
        self,
        images: Sequence[bytes],
        texts: Sequence[str] | None = None,
        input_type: InputType = "search_document",
    ) -> EmbeddingResult:
        """Async :meth:`embed_images`."""
        requests = build_image_requests(self.options, images, texts, input_type)
        return await self._asend(requests, len(images))
