"""Rerank calls, sync and native async, with budget ledger charging.

:class:`RerankRuntime` sends what :mod:`.wire` builds over the Rerank API
(``bedrock-agent-runtime``) or InvokeModel (``bedrock-runtime``) and returns a typed
:class:`~bedrock_kit.core.rerank.wire.RerankResult`. With a ``ledger``, each call's queries
(one per 100 documents) are reserved before the request and settled after it; prices for
rerankers are per 1,000 queries, booked as the entry's ``input`` rate over ``input_tokens``
= queries. A reranker the price table lacks (Cohere Rerank 3.5 in the packaged one) follows
the ledger's unknown-price policy by name: ``"warn"`` warns and charges the dearest reranker
in the table, ``"error"`` refuses before the request
(:class:`~bedrock_kit.errors.ConfigurationError`), a given PriceEntry is used; it is never
silently free.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.core.rerank.wire import (
    SUPPORTED_MODELS,
    Document,
    RerankedDocument,
    RerankModelSpec,
    RerankOptions,
    RerankPager,
    RerankResult,
    billed_queries,
    build_invoke_request,
    build_rerank_request,
    check_documents,
    check_query,
    parse_invoke_response,
    rerank_model_spec,
)
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError, MalformedResponseError, translate_errors

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bedrock_kit.core.budget.ledger import Reservation

__all__ = [
    "SUPPORTED_MODELS",
    "Document",
    "RerankModelSpec",
    "RerankOptions",
    "RerankResult",
    "RerankRuntime",
    "RerankedDocument",
    "billed_queries",
    "build_invoke_request",
    "build_rerank_request",
    "check_documents",
    "check_query",
    "parse_invoke_response",
    "rerank_model_spec",
]

_SERVICES = {"rerank": "bedrock-agent-runtime", "invoke": "bedrock-runtime"}


class RerankRuntime(OwnsClients):
    """Reranks documents with a Bedrock reranker model.

    Args:
        settings: How to reach Bedrock.
        options: Model, ``top_n`` and wire form.
        client: Injected boto3 client: ``bedrock-agent-runtime`` for ``api="rerank"``,
            ``bedrock-runtime`` for ``api="invoke"``.
        async_client: Injected aiobotocore client of the same service.
        ledger: Budget ledger charged per billed query (see the module doc).
    """

    def __init__(
        self,
        settings: ClientSettings,
        options: RerankOptions,
        *,
        client: Any = None,
        async_client: Any = None,
        ledger: Ledger | None = None,
    ) -> None:
        if ledger is not None and not isinstance(ledger, Ledger):
            raise ConfigurationError(
                f"ledger must be a bedrock_kit.Ledger, got {type(ledger).__name__}"
            )
        self.options = options
        self.ledger = ledger
        service = _SERVICES[options.api]
        self.pool = ClientPool(settings, service, client=client, async_client=async_client)

    def _errors(self) -> Any:
        return translate_errors(model_id=self.options.model_id, region=self.pool.region)

    def _checked(self, query: str, documents: Sequence[Document]) -> list[Document]:
        check_query(query)
        return check_documents(documents, self.options.spec)

    # -- ledger

    def _reserve(self, documents: int) -> Reservation | None:
        ledger = self.ledger
        if ledger is None:
            return None
        return ledger.reserve(self.options.model_id, billed_queries(documents), 0)

    @contextmanager
    def _charged(self, reservation: Reservation | None) -> Iterator[None]:
        try:
            yield
        except MalformedResponseError:
            # The request went out and was billed; its answer is unreadable: charge it whole.
            if reservation is not None:
                reservation.settle_reserved()
            raise
        except BaseException as exc:
            if reservation is not None:
                reservation.release(exc)
            raise

    @staticmethod
    def _settle(reservation: Reservation | None, result: RerankResult) -> RerankResult:
        if reservation is not None:
            reservation.settle(Usage(input_tokens=result.queries, total_tokens=result.queries))
        return result

    # -- calls

    def rerank(self, query: str, documents: Sequence[Document]) -> RerankResult:
        """Order ``documents`` by relevance to ``query``, best first.

        Raises:
            ConfigurationError: Bad query or documents, before any request.
            BudgetExceededError: The ledger refuses the call, before any request.
            BedrockKitError: The typed error of a failed call.
        """
        documents = self._checked(query, documents)
        reservation = self._reserve(len(documents))
        with self._charged(reservation), self._errors():
            client = self.pool.client
            if self.options.api == "invoke":
                request = build_invoke_request(self.options, query, documents)
                response = client.invoke_model(**request)
                raw = response["body"].read()
                result = parse_invoke_response(self.options, documents, response, raw)
            else:
                pager = RerankPager(self.options, documents)
                region = _region_of(client) or self.pool.region
                while True:
                    request = build_rerank_request(
                        self.options, query, documents, region=region, next_token=pager.next_token
                    )
                    if not pager.add_page(client.rerank(**request)):
                        break
                result = pager.result()
        return self._settle(reservation, result)

    async def arerank(self, query: str, documents: Sequence[Document]) -> RerankResult:
        """Async :meth:`rerank` over one reused aiobotocore client."""
        documents = self._checked(query, documents)
        reservation = self._reserve(len(documents))
        with self._charged(reservation), self._errors():
            client = await self.pool.async_client()
            if self.options.api == "invoke":
                request = build_invoke_request(self.options, query, documents)
                response = await client.invoke_model(**request)
                async with response["body"] as body:
                    raw = await body.read()
                result = parse_invoke_response(self.options, documents, response, raw)
            else:
                pager = RerankPager(self.options, documents)
                region = _region_of(client) or self.pool.region
                while True:
                    request = build_rerank_request(
                        self.options, query, documents, region=region, next_token=pager.next_token
                    )
                    if not pager.add_page(await client.rerank(**request)):
                        break
                result = pager.result()
        return self._settle(reservation, result)


def _region_of(client: Any) -> str | None:
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return str(region) if region else None


def coerce_options(model_id: str, top_n: int | None, api: str, extra: Any) -> RerankOptions:
    """:class:`RerankOptions` from adapter arguments (``api`` checked by name)."""
    if api not in ("rerank", "invoke"):
        raise ConfigurationError(f"api must be 'rerank' or 'invoke', got {api!r}")
    return RerankOptions(model_id, top_n, api, extra)  # type: ignore[arg-type]
