"""LangChain adapters for Bedrock Knowledge Bases: a retriever and a RetrieveAndGenerate runnable.

Both only convert: LangChain arguments -> core options, core results -> Documents. Requests,
pagination, parsing and errors are the core's (:mod:`bedrock_kit.core.knowledge_bases.runtime`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from functools import partial
from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.utils import AddableDict
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from bedrock_kit._strict_arguments import check_call_arguments
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
from bedrock_kit.core.transport.arguments import Arguments
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._serial import LangChainSerializable
from bedrock_kit.langchain._tags import LedgerTags

__all__ = [
    "BedrockKnowledgeBaseRetriever",
    "BedrockRetrieveAndGenerate",
    "KnowledgeBaseRetriever",
    "RetrieveAndGenerate",
    "citation_documents",
    "to_document",
]


_SEARCH_FIELDS = (
    "number_of_results",
    "search_type",
    "filter",
    "implicit_filter_configuration",
    "reranking_configuration",
    "retrieval_config",
)

# Keyword arguments a retriever call (``invoke(query, number_of_results=3)``) may override.
_CALL_KWARGS = Arguments(
    frozenset({"number_of_results", "filter", "max_results", "min_score"}),
    aliases={"min_score_confidence": "min_score"},
)


def to_document(result: RetrievalResult) -> Document:
    """A LangChain Document for one retrieved chunk.

    ``page_content`` is the chunk text (a ``ROW`` as JSON); metadata has ``score``,
    ``source_uri``, ``location_type``, ``location`` (as sent), ``type`` (content type) and
    the knowledge base's own metadata under ``source_metadata``.
    """
    metadata: dict[str, Any] = {
        "score": result.score,
        "source_uri": result.source_uri,
        "location_type": result.location.type if result.location else None,
        "location": result.location.raw if result.location else None,
        "type": result.content_type,
        "source_metadata": result.metadata,
    }
    if result.document_id is not None:
        metadata["document_id"] = result.document_id
    if result.row:
        metadata["row"] = [{"name": c.name, "value": c.value, "type": c.type} for c in result.row]
    if result.byte_content is not None:
        metadata["byte_content"] = result.byte_content
    return Document(page_content=result.page_text, metadata=metadata)


def citation_documents(
    citations: tuple[Citation, ...] | list[Citation], start: int = 0
) -> list[Document]:
    """One Document per cited chunk, with the cited answer text and span in its metadata.

    A citation without references still gives one (empty) Document, so none is lost.
    """
    documents: list[Document] = []
    for index, citation in enumerate(citations, start):
        cited = {
            "citation_index": index,
            "cited_text": citation.text,
            "span": (citation.span.start, citation.span.end) if citation.span else None,
        }
        for reference in citation.references or (None,):
            if reference is None:
                documents.append(Document(page_content="", metadata=cited))
            else:
                document = to_document(reference)
                document.metadata.update(cited)
                documents.append(document)
    return documents


class _ClientArgs(BedrockClientArgs):
    """The client arguments every bedrock-kit LangChain class takes (as ChatBedrockKit)."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    _runtime: KnowledgeBaseRuntime | None = PrivateAttr(default=None)

    def _build_runtime(self) -> None:
        # Built at construction so a bedrock-runtime client passed by mistake fails here.
        self._runtime = KnowledgeBaseRuntime(
            self.client_settings(), client=self.client, async_client=self.async_client
        )

    @property
    def runtime(self) -> KnowledgeBaseRuntime:
        """The core runtime; its clients are built once and reused."""
        if self._runtime is None:
            self._build_runtime()
        assert self._runtime is not None
        return self._runtime


class _SearchArgs(BaseModel):
    """Search options shared by the retriever and RetrieveAndGenerate."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    number_of_results: int | None = None
    """Results per request (1-100)."""
    search_type: Literal["HYBRID", "SEMANTIC"] | None = None
    """``overrideSearchType``."""
    filter: Filter | dict[str, Any] | None = None
    """Metadata filter: ``F.eq("year", 2024) & ...`` or a raw ``RetrievalFilter`` dict."""
    implicit_filter_configuration: dict[str, Any] | None = None
    """``implicitFilterConfiguration`` passed through."""
    reranking_configuration: dict[str, Any] | None = None
    """``rerankingConfiguration`` passed through."""
    retrieval_config: dict[str, Any] | None = None
    """Raw ``retrievalConfiguration`` (langchain-aws's argument), merged with the above."""

    def _search_fields_set(self) -> list[str]:
        return [name for name in _SEARCH_FIELDS if getattr(self, name) is not None]

    def _retrieval_options(self) -> RetrievalOptions:
        return RetrievalOptions(
            number_of_results=self.number_of_results,
            search_type=self.search_type,
            filter=self.filter,
            implicit_filter_configuration=self.implicit_filter_configuration,
            reranking_configuration=self.reranking_configuration,
            raw=self.retrieval_config,
        )


class BedrockKnowledgeBaseRetriever(LangChainSerializable, _ClientArgs, _SearchArgs, BaseRetriever):
    """Retriever over a Bedrock Knowledge Base with pagination and native async.

    Arguments match langchain-aws's ``AmazonKnowledgeBasesRetriever`` where they overlap
    (``knowledge_base_id``, ``retrieval_config``, ``guardrail_config``,
    ``min_score_confidence`` and the client arguments).

    Example:
        .. code-block:: python

            retriever = BedrockKnowledgeBaseRetriever(
                knowledge_base_id="KB12345678",
                filter=F.eq("year", 2024) & F.in_("tag", ["faq"]),
                max_results=20,
            )
            docs = retriever.invoke("How do I rotate keys?")
    """

    knowledge_base_id: str
    """Knowledge base id."""
    guardrail_config: GuardrailConfig | dict[str, Any] | None = None
    """Guardrail on the query and results (``guardrailId``/``guardrailVersion`` dict)."""
    max_results: int | None = None
    """Follow ``nextToken`` until this many results; None makes one request."""
    min_score_confidence: float | None = Field(default=None, alias="min_score")
    """Drop results scoring below this."""
    ledger: Any = Field(default=None, exclude=True)
    """A budget ``Ledger``: each query is reserved before its first request and booked under
    ``retrieve:<knowledge base id>`` (no verified price: reports flag it unverified)."""

    _options: RetrievalOptions = PrivateAttr(default_factory=RetrievalOptions)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        self._options = self._retrieval_options()
        coerce_guardrail(self.guardrail_config, "guardrail_config")
        RetrievePager({}, max_results=self.max_results, min_score=self.min_score_confidence)
        self._build_runtime()

    def _search(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Per-call overrides (``number_of_results``, ``filter``, ``max_results``,
        ``min_score``) on top of the constructor's options; anything else is an error."""
        kwargs = check_call_arguments(f"{type(self).__name__} call", kwargs, _CALL_KWARGS)
        options = self._options
        overrides = {k: kwargs[k] for k in ("number_of_results", "filter") if k in kwargs}
        if overrides:
            options = replace(options, **overrides)
        return {
            "options": options,
            "guardrail": self.guardrail_config,
            "max_results": kwargs.get("max_results", self.max_results),
            "min_score": kwargs.get("min_score", self.min_score_confidence),
            "ledger": self.ledger,
        }

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        found = self.runtime.retrieve(self.knowledge_base_id, query, **self._search(kwargs))
        return [to_document(r) for r in found.results]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        found = await self.runtime.aretrieve(self.knowledge_base_id, query, **self._search(kwargs))
        return [to_document(r) for r in found.results]


def _query_and_session(value: Any, default_session: str | None) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, default_session
    if isinstance(value, Mapping):
        for key in ("input", "query", "question"):
            if isinstance(value.get(key), str):
                return value[key], value.get("session_id", default_session)
    raise ConfigurationError(
        "RetrieveAndGenerate input must be a string or a dict with 'input' (or 'query' / "
        f"'question') and optionally 'session_id', got {value!r}"
    )


def _output(result: GenerationResult) -> dict[str, Any]:
    return {
        "answer": result.text,
        "citations": citation_documents(result.citations),
        "session_id": result.session_id,
        "guardrail_action": result.guardrail_action,
    }


class BedrockRetrieveAndGenerate(
    LangChainSerializable,
    _ClientArgs,
    _SearchArgs,
    LedgerTags,
    RunnableSerializable[Any, dict[str, Any]],
):
    """RetrieveAndGenerate as a Runnable: question in, answer with citations out.

    It answers from a knowledge base (``knowledge_base_id``) or from a document given with
    ``sources`` (``EXTERNAL_SOURCES``: an S3 URI or bytes, see
    :class:`~bedrock_kit.core.knowledge_bases.requests.ExternalSource`); exactly one of the
    two. Citations have the same Documents either way.

    Input is a string or ``{"input": ..., "session_id": ...}``. Output is
    ``{"answer", "citations" (Documents), "session_id", "guardrail_action"}``; pass the
    ``session_id`` back to continue the conversation. ``stream`` yields ``{"answer": delta}``
    chunks, then ``{"citations": [...]}`` chunks, then the session id; the chunks add up to
    the ``invoke`` output.
    """

    model: str = Field(alias="model_id")
    """Model id or ARN that writes the answer (an id becomes a foundation-model ARN)."""
    knowledge_base_id: str | None = None
    """Knowledge base to answer from (``KNOWLEDGE_BASE``)."""
    sources: Any = None
    """Document to answer from instead (``EXTERNAL_SOURCES``): an ExternalSource, an
    ``s3://`` URI, a dict of ExternalSource fields, or a list of one of those."""
    prompt_template: str | None = None
    """Generation prompt template (``$search_results$``...)."""
    orchestration_prompt_template: str | None = None
    """Orchestration prompt template."""
    temperature: float | None = None
    """Sampling temperature of the generation."""
    max_tokens: int | None = None
    """Maximum output tokens of the generation."""
    top_p: float | None = None
    """Nucleus sampling mass."""
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences."""
    guardrail_config: GuardrailConfig | dict[str, Any] | None = None
    """Guardrail on the generation."""
    generation_configuration: dict[str, Any] | None = None
    """Raw ``generationConfiguration`` passed through (merged with the above)."""
    orchestration_configuration: dict[str, Any] | None = None
    """Raw ``orchestrationConfiguration`` passed through."""
    performance_latency: Literal["standard", "optimized"] | None = None
    """``performanceConfig.latency`` of the generation."""
    additional_model_request_fields: dict[str, Any] | None = None
    """``additionalModelRequestFields`` for the generating model."""
    session_id: str | None = None
    """Session used when the input names none."""
    ledger: Any = Field(default=None, exclude=True)
    """A bedrock_kit Ledger: each call holds ``max_tokens_per_invocation`` before it is sent
    and is charged it in full after (RetrieveAndGenerate reports no token usage)."""
    max_tokens_per_invocation: int | None = None
    """Most model tokens one call may bill (query, passages, answer); required with
    ``ledger``."""

    def _budget(self) -> dict[str, Any]:
        return {"ledger": self.ledger, "max_tokens_per_invocation": self.max_tokens_per_invocation}

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        self._call("probe", self.session_id)
        self._build_runtime()

    def _retrieval(self) -> RetrievalOptions | None:
        if self.knowledge_base_id is not None or self.sources is None:
            return self._retrieval_options()
        given = self._search_fields_set()
        if given:
            raise ConfigurationError(
                f"{', '.join(given)} apply to knowledge bases, not to sources "
                "(EXTERNAL_SOURCES has no retrieval configuration)"
            )
        return None

    def _call(self, query: str, session_id: str | None) -> GenerationCall:
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
            session_id=session_id,
        )

    def _prepare(self, value: Any) -> GenerationCall:
        return self._call(*_query_and_session(value, self.session_id))

    def _invoke(self, value: Any) -> dict[str, Any]:
        with self._tagged():
            return _output(self.runtime.generate(self._prepare(value), **self._budget()))

    async def _ainvoke(self, value: Any) -> dict[str, Any]:
        with self._tagged():
            return _output(await self.runtime.agenerate(self._prepare(value), **self._budget()))

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Answer one question."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)
        return self._call_with_config(self._invoke, input, config, run_type="chain")

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Answer one question with the async client."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)
        return await self._acall_with_config(self._ainvoke, input, config, run_type="chain")

    def _transform(self, inputs: Iterator[Any]) -> Iterator[AddableDict]:
        for value in inputs:
            chunker = _Chunker()
            call = self._prepare(value)
            make = partial(self.runtime.stream_generate, call, **self._budget())
            for delta in self._carry(None, make):
                yield chunker(delta)

    async def _atransform(self, inputs: AsyncIterator[Any]) -> AsyncIterator[AddableDict]:
        async for value in inputs:
            chunker = _Chunker()
            call = self._prepare(value)
            amake = partial(self.runtime.astream_generate, call, **self._budget())
            async for delta in self._acarry(None, amake):
                yield chunker(delta)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Stream the answer: text deltas, then citations, then the session id."""
        check_call_arguments(f"{type(self).__name__}.stream", kwargs)
        yield from self._transform_stream_with_config(iter([input]), self._transform, config)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`stream`."""
        check_call_arguments(f"{type(self).__name__}.astream", kwargs)

        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self._atransform_stream_with_config(one(), self._atransform, config):
            yield chunk


class _Chunker:
    """Stream deltas -> addable output chunks, numbering citations across the stream."""

    def __init__(self) -> None:
        self.citations = 0

    def __call__(self, delta: GenerationDelta | GenerationCompletedDelta) -> AddableDict:
        if isinstance(delta, GenerationTextDelta):
            return AddableDict(answer=delta.text)
        if isinstance(delta, GenerationCitationDelta):
            self.citations += 1
            return AddableDict(citations=citation_documents([delta.citation], self.citations - 1))
        if isinstance(delta, GenerationGuardrailDelta):
            return AddableDict(guardrail_action=delta.action)
        return AddableDict(session_id=delta.result.session_id)


# The names issue 5 uses.
KnowledgeBaseRetriever = BedrockKnowledgeBaseRetriever
RetrieveAndGenerate = BedrockRetrieveAndGenerate
