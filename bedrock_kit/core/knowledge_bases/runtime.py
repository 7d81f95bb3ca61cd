"""Knowledge Bases: Retrieve and RetrieveAndGenerate(Stream), sync and native async.

Requests are built by the pure functions of :mod:`requests`, responses typed by
:mod:`results`; pagination is one :class:`RetrievePager` and streaming one
:class:`GenerationStreamReducer`, driven by short sync and async loops here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

from bedrock_kit.core.budget.operations import (
    ModelTokenCharge,
    charging_model_tokens,
    charging_retrieve,
)
from bedrock_kit.core.chat.converse import request_id_of
from bedrock_kit.core.chat.types import GuardrailConfig
from bedrock_kit.core.knowledge_bases.filters import OPERATORS, F, Filter, coerce_filter
from bedrock_kit.core.knowledge_bases.requests import (
    GenerationCall,
    GenerationOptions,
    RetrievalOptions,
    RetrievePager,
    build_retrieval_configuration,
    build_retrieve_and_generate_request,
    build_retrieve_request,
    coerce_guardrail,
    model_arn_for,
    page_size_for,
)
from bedrock_kit.core.knowledge_bases.results import (
    Citation,
    GenerationResult,
    KnowledgeBaseLocation,
    MediaSegment,
    RetrievalResult,
    RetrieveResult,
    RowColumn,
    TextSpan,
    parse_citation,
    parse_generation_response,
    parse_location,
    parse_retrieval_result,
)
from bedrock_kit.core.knowledge_bases.sources import (
    ExternalSource,
    Sources,
    coerce_source,
    coerce_sources,
)
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.core.transport.wire_events import (
    aclose_events,
    aread_events,
    event_stream_of,
    read_events,
    released_on_error,
)
from bedrock_kit.errors import IncompleteStreamError, translate_errors

__all__ = [
    "OPERATORS",
    "Citation",
    "ExternalSource",
    "F",
    "Filter",
    "GenerationCall",
    "GenerationCitationDelta",
    "GenerationCompletedDelta",
    "GenerationDelta",
    "GenerationGuardrailDelta",
    "GenerationOptions",
    "GenerationResult",
    "GenerationStreamReducer",
    "GenerationTextDelta",
    "KnowledgeBaseLocation",
    "KnowledgeBaseRuntime",
    "MediaSegment",
    "RetrievalOptions",
    "RetrievalResult",
    "RetrievePager",
    "RetrieveResult",
    "RowColumn",
    "Sources",
    "TextSpan",
    "build_retrieval_configuration",
    "build_retrieve_and_generate_request",
    "build_retrieve_request",
    "coerce_filter",
    "coerce_guardrail",
    "coerce_source",
    "coerce_sources",
    "model_arn_for",
    "parse_citation",
    "parse_generation_response",
    "parse_location",
    "parse_retrieval_result",
]

SERVICE = "bedrock-agent-runtime"
"""botocore service name of Knowledge Bases' runtime API."""


@dataclass(frozen=True)
class GenerationTextDelta:
    """A piece of the generated answer."""

    text: str
    """The new text."""


@dataclass(frozen=True)
class GenerationCitationDelta:
    """A citation for text already streamed."""

    citation: Citation
    """The typed citation."""


@dataclass(frozen=True)
class GenerationGuardrailDelta:
    """The guardrail's verdict on the generation."""

    action: str
    """``INTERVENED`` or ``NONE``."""


@dataclass(frozen=True)
class GenerationCompletedDelta:
    """The stream ended; everything it carried, assembled."""

    result: GenerationResult
    """Text, citations, session id and guardrail action of the whole stream."""


GenerationDelta: TypeAlias = (
    GenerationTextDelta | GenerationCitationDelta | GenerationGuardrailDelta
)


_Handler: TypeAlias = Callable[["GenerationStreamReducer", Mapping[str, Any]], GenerationDelta]


class GenerationStreamReducer:
    """Turns RetrieveAndGenerateStream events into deltas and the final result.

    Events must be the documented shape: an ``output`` event without its ``text`` (what
    botocore makes of a payload that is not JSON), a citation of the wrong shape, or a
    guardrail event without a known ``action`` raises MalformedResponseError.
    """

    def __init__(self, session_id: str | None, request_id: str | None = None) -> None:
        self.session_id = session_id
        self.request_id = request_id
        self.text: list[str] = []
        self.citations: list[Citation] = []
        self.guardrail_action: str | None = None
        self.unknown_events: list[dict[str, Any]] = []
        """Events this version does not know, kept rather than dropped."""
        self.reader = WireReader("RetrieveAndGenerateStream", request_id=request_id)

    def _output(self, body: Mapping[str, Any]) -> GenerationDelta:
        text = self.reader.text(body.get("text"), "output.text")
        self.text.append(text)
        return GenerationTextDelta(text)

    def _citation(self, body: Mapping[str, Any]) -> GenerationDelta:
        citation = parse_citation(body, self.reader)
        self.citations.append(citation)
        return GenerationCitationDelta(citation)

    def _guardrail(self, body: Mapping[str, Any]) -> GenerationDelta:
        action = self.reader.one_of(body.get("action"), ("INTERVENED", "NONE"), "guardrail.action")
        if self.guardrail_action != "INTERVENED":
            self.guardrail_action = action
        return GenerationGuardrailDelta(action)

    _HANDLERS: dict[str, _Handler] = {
        "output": _output,
        "citation": _citation,
        "guardrail": _guardrail,
    }

    def handle(self, event: Mapping[str, Any]) -> list[GenerationDelta]:
        """Deltas for one event (botocore raises in-stream exceptions itself).

        Raises:
            MalformedResponseError: The event is not the documented shape.
        """
        r = self.reader
        deltas: list[GenerationDelta] = []
        with r.guard(event):
            for name, body in r.obj(event, "an event").items():
                handler = self._HANDLERS.get(name)
                if handler is None:
                    self.unknown_events.append({name: body})
                elif not isinstance(body, Mapping) or not body:
                    raise r.malformed(
                        f"{name} event has no members (botocore decodes an event payload that "
                        "is not JSON to an empty event)",
                        event,
                    )
                else:
                    deltas.append(handler(self, body))
        return deltas

    def finish(self) -> GenerationCompletedDelta:
        """The completed result."""
        return GenerationCompletedDelta(
            GenerationResult(
                text="".join(self.text),
                citations=tuple(self.citations),
                session_id=self.session_id,
                guardrail_action=self.guardrail_action,
                request_id=self.request_id,
            )
        )


def _stream_reducer(response: Mapping[str, Any]) -> GenerationStreamReducer:
    r = WireReader("RetrieveAndGenerateStream response", request_id=request_id_of(response))
    with released_on_error(response):
        event_stream_of(response, "stream", r)
        session = r.text(response.get("sessionId"), "sessionId", empty=False)
    return GenerationStreamReducer(session, r.request_id)


@contextmanager
def _keep_partial(reducer: GenerationStreamReducer, errors: Any) -> Iterator[None]:
    """Translate errors while reading a stream, attaching the text received so far to an
    IncompleteStreamError (for diagnostics; the answer is still partial)."""
    try:
        with errors:
            yield
    except IncompleteStreamError as exc:
        exc.partial_text = "".join(reducer.text)
        raise


def _region_of(client: Any) -> str | None:
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return str(region) if region else None


class KnowledgeBaseRuntime(OwnsClients):
    """Calls the Knowledge Bases runtime API (``bedrock-agent-runtime``).

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-agent-runtime`` client (a ``bedrock-runtime``
            client is rejected here, not at the first call).
        async_client: Injected aiobotocore ``bedrock-agent-runtime`` client.
    """

    def __init__(
        self, settings: ClientSettings, *, client: Any = None, async_client: Any = None
    ) -> None:
        self.pool = ClientPool(settings, SERVICE, client=client, async_client=async_client)

    def _errors(self, resource: str | None, kind: str = "knowledge_base") -> Any:
        return translate_errors(model_id=resource, region=self.pool.region, resource=kind)

    # -- Retrieve

    @staticmethod
    def _pager(
        knowledge_base_id: str,
        query: str,
        options: RetrievalOptions | None,
        *,
        guardrail: GuardrailConfig | Mapping[str, Any] | None,
        max_results: int | None,
        min_score: float | None,
        next_token: str | None,
    ) -> RetrievePager:
        request = build_retrieve_request(
            knowledge_base_id,
            query,
            options,
            guardrail=guardrail,
            next_token=next_token,
            number_of_results=page_size_for(options, max_results),
        )
        return RetrievePager(request, max_results=max_results, min_score=min_score)

    def retrieve(
        self,
        knowledge_base_id: str,
        query: str,
        options: RetrievalOptions | None = None,
        *,
        guardrail: GuardrailConfig | Mapping[str, Any] | None = None,
        max_results: int | None = None,
        min_score: float | None = None,
        next_token: str | None = None,
        ledger: Any = None,
    ) -> RetrieveResult:
        """Search a knowledge base.

        Args:
            knowledge_base_id: Knowledge base id or ARN.
            query: Query text.
            options: Search options (page size, search type, filter, reranking...).
            guardrail: Guardrail applied to the query and results.
            max_results: Follow ``nextToken`` until this many results are collected;
                None makes a single request.
            min_score: Drop results scoring below this.
            next_token: Resume from an earlier result's ``next_token``.
            ledger: Budget ledger: the query is reserved before the first request and
                settled to the requests sent (:func:`~bedrock_kit.core.budget.operations.
                charging_retrieve`; unpriced, so reports flag it unverified).

        Raises:
            ConfigurationError: Bad arguments, before any request.
            BedrockKitError: The typed error of a failed call.
        """
        pager = self._pager(
            knowledge_base_id,
            query,
            options,
            guardrail=guardrail,
            max_results=max_results,
            min_score=min_score,
            next_token=next_token,
        )
        with (
            charging_retrieve(
                ledger, knowledge_base_id, reranker=_reranker(pager.request)
            ) as charge,
            self._errors(knowledge_base_id),
        ):
            while (request := pager.next_request()) is not None:
                _sent(charge)
                pager.add_page(self.pool.client.retrieve(**request))
        return pager.result()

    async def aretrieve(
        self,
        knowledge_base_id: str,
        query: str,
        options: RetrievalOptions | None = None,
        *,
        guardrail: GuardrailConfig | Mapping[str, Any] | None = None,
        max_results: int | None = None,
        min_score: float | None = None,
        next_token: str | None = None,
        ledger: Any = None,
    ) -> RetrieveResult:
        """Async :meth:`retrieve`."""
        pager = self._pager(
            knowledge_base_id,
            query,
            options,
            guardrail=guardrail,
            max_results=max_results,
            min_score=min_score,
            next_token=next_token,
        )
        with (
            charging_retrieve(
                ledger, knowledge_base_id, reranker=_reranker(pager.request)
            ) as charge,
            self._errors(knowledge_base_id),
        ):
            client = await self.pool.async_client()
            while (request := pager.next_request()) is not None:
                _sent(charge)
                pager.add_page(await client.retrieve(**request))
        return pager.result()

    # -- RetrieveAndGenerate

    def retrieve_and_generate(
        self,
        query: str,
        *,
        model: str,
        knowledge_base_id: str | None = None,
        sources: Sources | None = None,
        retrieval: RetrievalOptions | None = None,
        generation: GenerationOptions | None = None,
        session_id: str | None = None,
    ) -> GenerationResult:
        """Answer ``query`` from a knowledge base (or external sources), with citations.

        Args:
            query: The user's question.
            model: Model id or ARN that writes the answer.
            knowledge_base_id: Knowledge base to search.
            sources: Documents to read instead of a knowledge base.
            retrieval: Search options (knowledge bases only).
            generation: Prompt template, inference, guardrail, passthrough configuration.
            session_id: ``session_id`` of an earlier result, to continue that conversation.

        Raises:
            ConfigurationError: Bad arguments, before any request.
            BedrockKitError: The typed error of a failed call.
        """
        return self.generate(
            GenerationCall(
                query, model, knowledge_base_id, sources, retrieval, generation, session_id
            )
        )

    async def aretrieve_and_generate(
        self,
        query: str,
        *,
        model: str,
        knowledge_base_id: str | None = None,
        sources: Sources | None = None,
        retrieval: RetrievalOptions | None = None,
        generation: GenerationOptions | None = None,
        session_id: str | None = None,
    ) -> GenerationResult:
        """Async :meth:`retrieve_and_generate`."""
        return await self.agenerate(
            GenerationCall(
                query, model, knowledge_base_id, sources, retrieval, generation, session_id
            )
        )

    def stream_retrieve_and_generate(
        self,
        query: str,
        *,
        model: str,
        knowledge_base_id: str | None = None,
        sources: Sources | None = None,
        retrieval: RetrievalOptions | None = None,
        generation: GenerationOptions | None = None,
        session_id: str | None = None,
    ) -> Iterator[GenerationDelta | GenerationCompletedDelta]:
        """Stream the answer: text, citation and guardrail deltas, then a
        :class:`GenerationCompletedDelta`. Arguments are those of :meth:`retrieve_and_generate`.
        """
        return self.stream_generate(
            GenerationCall(
                query, model, knowledge_base_id, sources, retrieval, generation, session_id
            )
        )

    def astream_retrieve_and_generate(
        self,
        query: str,
        *,
        model: str,
        knowledge_base_id: str | None = None,
        sources: Sources | None = None,
        retrieval: RetrievalOptions | None = None,
        generation: GenerationOptions | None = None,
        session_id: str | None = None,
    ) -> AsyncIterator[GenerationDelta | GenerationCompletedDelta]:
        """Async :meth:`stream_retrieve_and_generate`."""
        return self.astream_generate(
            GenerationCall(
                query, model, knowledge_base_id, sources, retrieval, generation, session_id
            )
        )

    # -- the same, for a prepared GenerationCall (what adapters hold)

    def _call_errors(self, call: GenerationCall) -> Any:
        if call.knowledge_base_id:
            return self._errors(call.knowledge_base_id)
        return self._errors(call.model, "model")  # external sources: no knowledge base

    def _charging(
        self, call: GenerationCall, ledger: Any, max_tokens_per_invocation: int | None
    ) -> Any:
        what = f"RetrieveAndGenerate on {call.knowledge_base_id or 'external sources'}"
        return charging_model_tokens(
            ledger, f"retrieval:{call.model}", max_tokens_per_invocation, what=what
        )

    def generate(
        self,
        call: GenerationCall,
        *,
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
    ) -> GenerationResult:
        """Send one RetrieveAndGenerate request.

        With a ``ledger``, ``max_tokens_per_invocation`` (the most model tokens the call may
        bill: query, retrieved passages and answer) is held before the request and charged
        in full after it, since RetrieveAndGenerate reports no token usage (counted in the
        report's ``no usage`` column). Without a cap, a ledger refuses the call
        (ConfigurationError).
        """
        with self._charging(call, ledger, max_tokens_per_invocation) as charge:
            with self._call_errors(call):
                client = self.pool.client
                request = call.to_request(_region_of(client))
                result = parse_generation_response(client.retrieve_and_generate(**request))
            return _charged(charge, result)

    async def agenerate(
        self,
        call: GenerationCall,
        *,
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
    ) -> GenerationResult:
        """Async :meth:`generate`."""
        with self._charging(call, ledger, max_tokens_per_invocation) as charge:
            with self._call_errors(call):
                client = await self.pool.async_client()
                request = call.to_request(_region_of(client))
                response = await client.retrieve_and_generate(**request)
                result = parse_generation_response(response)
            return _charged(charge, result)

    def stream_generate(
        self,
        call: GenerationCall,
        *,
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
    ) -> Iterator[GenerationDelta | GenerationCompletedDelta]:
        """Send one RetrieveAndGenerateStream request; yield its deltas (``ledger``: as
        :meth:`generate`)."""
        with (
            self._charging(call, ledger, max_tokens_per_invocation) as charge,
            self._call_errors(call),
        ):
            client = self.pool.client
            response = client.retrieve_and_generate_stream(**call.to_request(_region_of(client)))
            _sent(charge)
            reducer = _stream_reducer(response)
            events = response["stream"]
            try:
                with _keep_partial(reducer, self._call_errors(call)):
                    for event in read_events(events, reducer.reader):
                        yield from reducer.handle(event)
            finally:
                events.close()
            final = reducer.finish()
            _charged(charge, final.result)
            yield final

    async def astream_generate(
        self,
        call: GenerationCall,
        *,
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
    ) -> AsyncIterator[GenerationDelta | GenerationCompletedDelta]:
        """Async :meth:`stream_generate`."""
        with (
            self._charging(call, ledger, max_tokens_per_invocation) as charge,
            self._call_errors(call),
        ):
            client = await self.pool.async_client()
            request = call.to_request(_region_of(client))
            response = await client.retrieve_and_generate_stream(**request)
            _sent(charge)
            reducer = _stream_reducer(response)
            events = response["stream"]
            try:
                with _keep_partial(reducer, self._call_errors(call)):
                    async for event in aread_events(events, reducer.reader):
                        for delta in reducer.handle(event):
                            yield delta
            finally:
                await aclose_events(events)
            final = reducer.finish()
            _charged(charge, final.result)
            yield final


def _reranker(request: Mapping[str, Any]) -> str | None:
    """The model id of a Retrieve request's Bedrock reranking model (it bills per query)."""
    vector = (request.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration")
    reranking = (vector or {}).get("rerankingConfiguration") or {}
    config = reranking.get("bedrockRerankingConfiguration") or {}
    arn = (config.get("modelConfiguration") or {}).get("modelArn")
    return str(arn).rsplit("foundation-model/", 1)[-1] if arn else None


def _sent(charge: ModelTokenCharge | None) -> None:
    if charge is not None:
        charge.sent()


def _charged(charge: ModelTokenCharge | None, result: GenerationResult) -> GenerationResult:
    """Charge the hold: RetrieveAndGenerate reports no tokens, so the whole cap is billed."""
    if charge is not None:
        charge.sent()
        charge.settle(None, result.request_id)
    return result
