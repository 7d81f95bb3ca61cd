"""``BedrockRerank``: a LangChain document compressor over Bedrock's rerankers.

Only converts: Documents -> texts, the core's :class:`~bedrock_kit.core.rerank.wire.RerankResult`
-> Documents ordered best first. Requests, validation, pagination, parsing, errors and
budget charging are the core's (:mod:`bedrock_kit.core.rerank.runtime`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, PrivateAttr

from bedrock_kit.core.rerank.runtime import RerankResult, RerankRuntime, coerce_options
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._tags import LedgerTags

__all__ = ["BedrockRerank", "reranked_documents"]


def reranked_documents(documents: Sequence[Document], result: RerankResult) -> list[Document]:
    """Copies of the returned ``documents``, best first, with ``relevance_score`` and
    ``original_index`` (the position in ``documents``) added to their metadata."""
    out: list[Document] = []
    for item in result.results:
        source = documents[item.index]
        metadata = {**source.metadata, "relevance_score": item.score, "original_index": item.index}
        out.append(Document(page_content=source.page_content, metadata=metadata, id=source.id))
    return out


class BedrockRerank(BedrockClientArgs, LedgerTags, BaseDocumentCompressor):
    """Reorders retrieved Documents by relevance with Amazon Rerank or Cohere Rerank 3.5.

    Use it in a ``ContextualCompressionRetriever`` or call :meth:`compress_documents`
    directly. The Documents come back best first, cut to ``top_n``; each carries its
    ``relevance_score`` and ``original_index`` in metadata. ``api="invoke"`` sends Cohere
    Rerank 3.5's own InvokeModel body instead of the Rerank API. With a ``ledger``, the
    billed queries (one per 100 documents) are reserved before the call and settled after;
    a reranker the price table lacks follows the ledger's ``on_unknown`` policy.

    Example:
        .. code-block:: python

            from bedrock_kit.langchain.rerank import BedrockRerank

            reranker = BedrockRerank(model="cohere.rerank-v3-5:0", top_n=3)
            best = reranker.compress_documents(docs, "How do I rotate keys?")
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_id: str = Field(alias="model")
    """``amazon.rerank-v1:0`` or ``cohere.rerank-v3-5:0`` (or a foundation-model ARN)."""
    top_n: int | None = 3
    """Documents to keep, best first; None keeps all, reordered."""
    api: Literal["rerank", "invoke"] = "rerank"
    """``rerank`` (the Rerank API) or ``invoke`` (InvokeModel, Cohere Rerank 3.5 only)."""
    additional_model_request_fields: dict[str, Any] | None = None
    """Model-specific request fields."""
    ledger: Any = Field(default=None, exclude=True)
    """A :class:`~bedrock_kit.Ledger` charged per billed query."""

    _runtime: RerankRuntime | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        options = coerce_options(
            self.model_id, self.top_n, self.api, self.additional_model_request_fields
        )
        self._runtime = RerankRuntime(
            self.client_settings(),
            options,
            client=self.client,
            async_client=self.async_client,
            ledger=self.ledger,
        )

    @property
    def runtime(self) -> RerankRuntime:
        """The core runtime: ``runtime.rerank(query, texts)`` returns the typed result."""
        assert self._runtime is not None  # set in __init__
        return self._runtime

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Rerank ``documents`` for ``query``: best first, at most ``top_n``."""
        if not documents:
            return []
        texts = [d.page_content for d in documents]
        with self._tagged(callbacks):
            return reranked_documents(documents, self.runtime.rerank(query, texts))

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Async :meth:`compress_documents` over aiobotocore."""
        if not documents:
            return []
        texts = [d.page_content for d in documents]
        with self._tagged(callbacks):
            return reranked_documents(documents, await self.runtime.arerank(query, texts))
