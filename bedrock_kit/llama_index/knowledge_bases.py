"""LlamaIndex adapters for Bedrock Knowledge Bases: a retriever and a RetrieveAndGenerate
query engine.

Both only convert: LlamaIndex arguments -> core options, core results -> nodes. Requests,
pagination, parsing and errors are the core's (:mod:`bedrock_kit.core.knowledge_bases.runtime`).
The retriever works with nothing but a knowledge base id.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from functools import partial
from typing import Any, Literal

from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import AliasChoices

from bedrock_kit.core.chat.types import GuardrailConfig, InferenceConfig
from bedrock_kit.core.knowledge_bases.filters import Filter
from bedrock_kit.core.knowledge_bases.runtime import (
    Citation,
    GenerationCall,
    GenerationCitationDelta,
    GenerationCompletedDelta,
    GenerationDelta,
    GenerationGuardrailDelta,
    GenerationOptions,
    GenerationResult,
    GenerationTextDelta,
    KnowledgeBaseRuntime,
    RetrievalOptions,
    RetrievalResult,
    RetrievePager,
    coerce_guardrail,
)
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.core.transport.clients import client_settings_from
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._client import BedrockClientArgs
from bedrock_kit.llama_index._tags import LedgerTags

__all__ = [
    "BedrockKnowledgeBaseRetriever",
    "BedrockRetrieveAndGenerateQueryEngine",
    "KnowledgeBaseRetriever",
    "RetrieveAndGenerateQueryEngine",
    "citation_nodes",
    "to_node",
]

# Metadata kept on the node but out of the text the LLM and the embedder see: raw wire
# objects would only add noise (and tokens) to prompts.
_SEARCH_FIELDS = (
    "number_of_results",
    "search_type",
    "filter",
    "implicit_filter_configuration",
    "reranking_configuration",
    "retrieval_config",
)
_HIDDEN_KEYS = ["location", "source_metadata", "row", "byte_content", "span", "citation_index"]


def to_node(result: RetrievalResult, extra: dict[str, Any] | None = None) -> NodeWithScore:
    """A NodeWithScore for one retrieved chunk (metadata keys as the LangChain adapter)."""
    metadata: dict[str, Any] = {
        "source_uri": result.source_uri,
        "location_type": result.location.type if result.location else None,
        "location": result.location.raw if result.location else None,
        "type": result.content_type,
        "source_metadata": result.metadata,
        "score": result.score,
    }
    if result.document_id is not None:
        metadata["document_id"] = result.document_id
    if result.row:
        metadata["row"] = [{"name": c.name, "value": c.value, "type": c.type} for c in result.row]
    if result.byte_content is not None:
        metadata["byte_content"] = result.byte_content
    metadata.update(extra or {})
    node = TextNode(
        text=result.page_text,
        metadata=metadata,
        excluded_llm_metadata_keys=list(_HIDDEN_KEYS),
        excluded_embed_metadata_keys=list(_HIDDEN_KEYS),
    )
    return NodeWithScore(node=node, score=result.score)


def citation_nodes(citations: Sequence[Citation], start: int = 0) -> list[NodeWithScore]:
    """One node per cited chunk, with the cited answer text and span in its metadata.

    A citation without references still gives one (empty) node, so none is lost.
    """
    nodes: list[NodeWithScore] = []
    for index, citation in enumerate(citations, start):
        cited = {
            "citation_index": index,
            "cited_text": citation.text,
            "span": [citation.span.start, citation.span.end] if citation.span else None,
        }
        if not citation.references:
            empty = TextNode(text="", metadata=cited, excluded_llm_metadata_keys=_HIDDEN_KEYS)
            nodes.append(NodeWithScore(node=empty, score=None))
        nodes.extend(to_node(r, cited) for r in citation.references)
    return nodes


class BedrockKnowledgeBaseRetriever(OwnsClients, BaseRetriever):
    """Retriever over a Bedrock Knowledge Base with pagination and native async.

    Args:
        knowledge_base_id: Knowledge base id.
        number_of_results: Results per request (1-100); Bedrock's default is 5.
        search_type: ``HYBRID`` or ``SEMANTIC`` (``overrideSearchType``).
        filter: ``F.eq("year", 2024) & ...`` or a raw ``RetrievalFilter`` dict.
        implicit_filter_configuration: ``implicitFilterConfiguration`` passed through.
        reranking_configuration: ``rerankingConfiguration`` passed through.
        retrieval_config: Raw ``retrievalConfiguration`` merged with the above.
        guardrail_config: Guardrail on the query and results.
        max_results: Follow ``nextToken`` until this many results; None makes one request.
        min_score: Drop results scoring below this.
        ledger: A budget ``Ledger``: each query is reserved before its first request and
            booked under ``retrieve:<knowledge base id>`` (no verified price: reports flag
            it unverified).
        region_name, endpoint_url, credentials_profile_name, aws_access_key_id,
        aws_secret_access_key, aws_session_token, max_retries, retry_mode, timeout,
        client, async_client: The client arguments of every bedrock-kit class.
        callback_manager: LlamaIndex callbacks.
    """

    @strict_keywords
    def __init__(
        self,
        knowledge_base_id: str,
        *,
        number_of_results: int | None = None,
        search_type: Literal["HYBRID", "SEMANTIC"] | None = None,
        filter: Filter | dict[str, Any] | None = None,
        implicit_filter_configuration: dict[str, Any] | None = None,
        reranking_configuration: dict[str, Any] | None = None,
        retrieval_config: dict[str, Any] | None = None,
        guardrail_config: GuardrailConfig | dict[str, Any] | None = None,
        max_results: int | None = None,
        min_score: float | None = None,
        ledger: Any = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        credentials_profile_name: str | None = None,
        aws_access_key_id: SecretStr | str | None = None,
        aws_secret_access_key: SecretStr | str | None = None,
        aws_session_token: SecretStr | str | None = None,
        max_retries: int | None = None,
        retry_mode: Literal["standard", "adaptive", "legacy"] = "standard",
        timeout: float | None = None,
        client: Any = None,
        async_client: Any = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.knowledge_base_id = knowledge_base_id
        self.options = RetrievalOptions(
            number_of_results=number_of_results,
            search_type=search_type,
            filter=filter,
            implicit_filter_configuration=implicit_filter_configuration,
            reranking_configuration=reranking_configuration,
            raw=retrieval_config,
        )
        self.guardrail = coerce_guardrail(guardrail_config, "guardrail_config")
        RetrievePager({}, max_results=max_results, min_score=min_score)  # checks both
        self.max_results = max_results
        self.min_score = min_score
        self.ledger = ledger
        settings = client_settings_from(
            region_name=region_name,
            endpoint_url=endpoint_url,
            credentials_profile_name=credentials_profile_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            max_retries=max_retries,
            retry_mode=retry_mode,
            timeout=timeout,
        )
        self.runtime = KnowledgeBaseRuntime(settings, client=client, async_client=async_client)
        super().__init__(callback_manager=callback_manager)

    def _search(self) -> dict[str, Any]:
        return {
            "guardrail": self.guardrail,
            "max_results": self.max_results,
            "min_score": self.min_score,
            "ledger": self.ledger,
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = self.runtime.retrieve(
            self.knowledge_base_id, query_bundle.query_str, self.options, **self._search()
        )
        return [to_node(r) for r in found.results]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = await self.runtime.aretrieve(
            self.knowledge_base_id, query_bundle.query_str, self.options, **self._search()
        )
        return [to_node(r) for r in found.results]


def _metadata(result: GenerationResult) -> dict[str, Any]:
    return {
        "session_id": result.session_id,
        "citations": list(result.citations),
        "guardrail_action": result.guardrail_action,
        "request_id": result.request_id,
    }


class BedrockRetrieveAndGenerateQueryEngine(CustomQueryEngine, BedrockClientArgs, LedgerTags):
    """RetrieveAndGenerate as a LlamaIndex query engine.

    The Response's ``source_nodes`` are the cited chunks (one node per reference, with
    ``cited_text`` and ``span`` in metadata); ``metadata`` carries ``session_id``, the typed
    ``citations`` and ``guardrail_action``. With ``streaming=True`` the engine returns a
    (Async)StreamingResponse whose ``source_nodes`` fill as citations arrive. With
    ``continue_session=True`` each query continues the previous one's session.

    It answers from a knowledge base (``knowledge_base_id``) or from a document given with
    ``sources`` (``EXTERNAL_SOURCES``: an ExternalSource, an ``s3://`` URI or a dict of
    ExternalSource fields); exactly one of the two.
    """

    knowledge_base_id: str | None = Field(default=None, description="Knowledge base id.")
    sources: Any = Field(
        default=None, description="Document to answer from instead (EXTERNAL_SOURCES)."
    )
    model: str = Field(
        description="Model id or ARN that writes the answer.",
        validation_alias=AliasChoices("model", "model_id"),
    )
    number_of_results: int | None = None
    """Results retrieved per query (1-100); None: Bedrock's default (5)."""
    search_type: Literal["HYBRID", "SEMANTIC"] | None = None
    """``overrideSearchType``: HYBRID or SEMANTIC; None: the knowledge base's default."""
    filter: Any = Field(default=None, description="Filter or raw RetrievalFilter dict.")
    implicit_filter_configuration: dict[str, Any] | None = None
    """``implicitFilterConfiguration`` passed through."""
    reranking_configuration: dict[str, Any] | None = None
    """``rerankingConfiguration`` passed through."""
    retrieval_config: dict[str, Any] | None = None
    """Raw ``retrievalConfiguration``, merged with the options above."""
    prompt_template: str | None = None
    """Generation prompt template (``$search_results$`` is replaced by the retrieved text)."""
    orchestration_prompt_template: str | None = None
    """Orchestration (query rewriting) prompt template."""
    temperature: float | None = None
    """Sampling temperature of the generating model."""
    max_tokens: int | None = None
    """Maximum tokens of the generated answer."""
    top_p: float | None = None
    """Nucleus sampling probability of the generating model."""
    stop: list[str] | None = None
    """Stop sequences of the generating model."""
    guardrail_config: Any = Field(default=None, description="GuardrailConfig or dict.")
    generation_configuration: dict[str, Any] | None = None
    """Raw ``generationConfiguration``, merged with the options above."""
    orchestration_configuration: dict[str, Any] | None = None
    """Raw ``orchestrationConfiguration`` passed through."""
    performance_latency: Literal["standard", "optimized"] | None = None
    """``performanceConfig.latency`` of the generating model."""
    additional_model_request_fields: dict[str, Any] | None = None
    """``additionalModelRequestFields`` of the generating model, passed through."""
    session_id: str | None = Field(default=None, description="Session to send.")
    continue_session: bool = Field(default=False, description="Reuse the last session id.")
    streaming: bool = False
    """Answer with RetrieveAndGenerateStream: a (Async)StreamingResponse."""
    ledger: Any = Field(
        default=None,
        exclude=True,
        description="A bedrock_kit Ledger: each query holds max_tokens_per_invocation "
        "before it is sent and is charged it in full (RetrieveAndGenerate reports no usage).",
    )
    max_tokens_per_invocation: int | None = Field(
        default=None, description="Most model tokens one query may bill; required with ledger."
    )

    def _budget(self) -> dict[str, Any]:
        return {"ledger": self.ledger, "max_tokens_per_invocation": self.max_tokens_per_invocation}

    _runtime: KnowledgeBaseRuntime = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        self._call("probe")
        self._runtime = KnowledgeBaseRuntime(
            self.client_settings(), client=self.client, async_client=self.async_client
        )

    @property
    def runtime(self) -> KnowledgeBaseRuntime:
        """The core runtime; its clients are built once and reused."""
        return self._runtime

    def _retrieval(self) -> RetrievalOptions | None:
        if self.knowledge_base_id is None and self.sources is not None:
            given = [name for name in _SEARCH_FIELDS if getattr(self, name) is not None]
            if given:
                raise ConfigurationError(
                    f"{', '.join(given)} apply to knowledge bases, not to sources "
                    "(EXTERNAL_SOURCES has no retrieval configuration)"
                )
            return None
        return RetrievalOptions(
            number_of_results=self.number_of_results,
            search_type=self.search_type,
            filter=self.filter,
            implicit_filter_configuration=self.implicit_filter_configuration,
            reranking_configuration=self.reranking_configuration,
            raw=self.retrieval_config,
        )

    def _call(self, query: str) -> GenerationCall:
        return GenerationCall(
            query,
            self.model,
            knowledge_base_id=self.knowledge_base_id,
            sources=self.sources,
            retrieval=self._retrieval(),
            generation=GenerationOptions(
                prompt_template=self.prompt_template,
                orchestration_prompt_template=self.orchestration_prompt_template,
                inference=InferenceConfig(
                    max_tokens=self.max_tokens,
                    temperature=self.temperature,
                    top_p=self.top_p,
                    stop_sequences=tuple(self.stop or ()),
                ),
                guardrail=coerce_guardrail(self.guardrail_config, "guardrail_config"),
                generation_configuration=self.generation_configuration,
                orchestration_configuration=self.orchestration_configuration,
                performance_latency=self.performance_latency,
                additional_model_request_fields=self.additional_model_request_fields,
            ),
            session_id=self.session_id,
        )

    def _finish(self, result: GenerationResult) -> None:
        if self.continue_session and result.session_id:
            self.session_id = result.session_id

    def _response(self, result: GenerationResult) -> Response:
        self._finish(result)
        return Response(result.text, citation_nodes(result.citations), _metadata(result))

    def custom_query(self, query_str: str) -> Response | StreamingResponse:
        """Answer ``query_str`` (a StreamingResponse when ``streaming``)."""
        call = self._call(query_str)
        if not self.streaming:
            with self._tagged():
                return self._response(self.runtime.generate(call, **self._budget()))
        response = StreamingResponse(response_gen=_no_text(), metadata={})
        make = partial(self.runtime.stream_generate, call, **self._budget())
        response.response_gen = self._text(self._carry(make), response)
        return response

    async def acustom_query(self, query_str: str) -> Response | AsyncStreamingResponse:
        """Async :meth:`custom_query`, on the native async client."""
        call = self._call(query_str)
        if not self.streaming:
            with self._tagged():
                return self._response(await self.runtime.agenerate(call, **self._budget()))
        response = AsyncStreamingResponse(response_gen=_empty(), metadata={})
        amake = partial(self.runtime.astream_generate, call, **self._budget())
        response.response_gen = self._atext(self._acarry(amake), response)
        return response

    def _take(self, delta: GenerationDelta | GenerationCompletedDelta, response: Any) -> str | None:
        """Text of a text delta; other deltas go into the response's nodes and metadata."""
        if isinstance(delta, GenerationTextDelta):
            return delta.text
        if isinstance(delta, GenerationCitationDelta):
            start = len(response.metadata.setdefault("citations", []))
            response.metadata["citations"].append(delta.citation)
            response.source_nodes.extend(citation_nodes([delta.citation], start))
        elif isinstance(delta, GenerationGuardrailDelta):
            response.metadata["guardrail_action"] = delta.action
        else:
            self._finish(delta.result)
            response.metadata.update(_metadata(delta.result))
        return None

    def _text(
        self, deltas: Iterator[GenerationDelta | GenerationCompletedDelta], response: Any
    ) -> Generator[str]:
        for delta in deltas:
            text = self._take(delta, response)
            if text:
                yield text

    async def _atext(
        self,
        deltas: AsyncGenerator[GenerationDelta | GenerationCompletedDelta] | Any,
        response: Any,
    ) -> AsyncGenerator[str]:
        async for delta in deltas:
            text = self._take(delta, response)
            if text:
                yield text


# Placeholders: a streaming response is built before its generator, which fills it.
def _no_text() -> Generator[str]:
    yield from ()


async def _empty() -> AsyncGenerator[str]:
    empty: tuple[str, ...] = ()
    for text in empty:
        yield text


# The names issue 5 uses.
KnowledgeBaseRetriever = BedrockKnowledgeBaseRetriever
RetrieveAndGenerateQueryEngine = BedrockRetrieveAndGenerateQueryEngine
