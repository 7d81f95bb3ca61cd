"""``BedrockRerank``: a LlamaIndex node postprocessor over Bedrock's rerankers.

Only converts: nodes -> texts, the core's :class:`~bedrock_kit.core.rerank.wire.RerankResult`
-> nodes ordered best first. Requests, validation, pagination, parsing, errors and budget
charging are the core's (:mod:`bedrock_kit.core.rerank.runtime`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
from pydantic import AliasChoices, Field, PrivateAttr

from bedrock_kit.core.rerank.runtime import RerankResult, RerankRuntime, coerce_options
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._client import BedrockClientArgs
from bedrock_kit.llama_index._tags import LedgerTags

__all__ = ["BedrockRerank", "reranked_nodes"]


def reranked_nodes(nodes: Sequence[NodeWithScore], result: RerankResult) -> list[NodeWithScore]:
    """The returned ``nodes``, best first, scored with the relevance score; each node's
    metadata gets ``original_index`` (its position in ``nodes``) and the ``retrieval_score``
    it had before reranking."""
    out: list[NodeWithScore] = []
    for item in result.results:
        source = nodes[item.index]
        node = source.node.model_copy(deep=True)
        node.metadata["original_index"] = item.index
        node.metadata["retrieval_score"] = source.score
        for key in ("original_index", "retrieval_score"):
            if key not in node.excluded_llm_metadata_keys:
                node.excluded_llm_metadata_keys.append(key)
            if key not in node.excluded_embed_metadata_keys:
                node.excluded_embed_metadata_keys.append(key)
        out.append(NodeWithScore(node=node, score=item.score))
    return out


def _query(query_bundle: QueryBundle | None) -> str:
    if query_bundle is None:
        raise ConfigurationError("BedrockRerank needs the query: pass query_bundle or query_str")
    return query_bundle.query_str


class BedrockRerank(BedrockClientArgs, LedgerTags, BaseNodePostprocessor):
    """Reorders retrieved nodes by relevance with Amazon Rerank or Cohere Rerank 3.5.

    Use it in ``node_postprocessors=[...]`` of a query engine. The nodes come back best
    first, cut to ``top_n``, scored with the reranker's relevance score; the position each
    had (``original_index``) and its earlier score (``retrieval_score``) are in metadata.
    ``api="invoke"`` sends Cohere Rerank 3.5's own InvokeModel body instead of the Rerank
    API. With a ``ledger``, the billed queries are reserved before the call and settled
    after; a reranker the price table lacks follows the ledger's ``on_unknown`` policy.

    Example:
        .. code-block:: python

            from bedrock_kit.llama_index.rerank import BedrockRerank

            engine = index.as_query_engine(
                similarity_top_k=20,
                node_postprocessors=[BedrockRerank(model="amazon.rerank-v1:0", top_n=4)],
            )
    """

    model: str = Field(
        description="amazon.rerank-v1:0 or cohere.rerank-v3-5:0 (or a foundation-model ARN).",
        validation_alias=AliasChoices("model", "model_id"),
    )
    top_n: int | None = Field(default=3, description="Nodes to keep; None keeps all.")
    api: Literal["rerank", "invoke"] = Field(
        default="rerank", description="The Rerank API, or InvokeModel (Cohere Rerank 3.5)."
    )
    additional_model_request_fields: dict[str, Any] | None = Field(
        default=None, description="Model-specific request fields."
    )
    ledger: Any = Field(default=None, exclude=True, description="Budget ledger to charge.")

    _runtime: RerankRuntime = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        options = coerce_options(
            self.model, self.top_n, self.api, self.additional_model_request_fields
        )
        self._runtime = RerankRuntime(
            self.client_settings(),
            options,
            client=self.client,
            async_client=self.async_client,
            ledger=self.ledger,
        )

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex registry name."""
        return "BedrockRerank"

    @property
    def runtime(self) -> RerankRuntime:
        """The core runtime: ``runtime.rerank(query, texts)`` returns the typed result."""
        return self._runtime

    @staticmethod
    def _texts(nodes: list[NodeWithScore]) -> list[str]:
        return [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not nodes:
            return []
        with self._tagged():
            return reranked_nodes(nodes, self.runtime.rerank(query, self._texts(nodes)))

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not nodes:
            return []
        with self._tagged():
            return reranked_nodes(nodes, await self.runtime.arerank(query, self._texts(nodes)))
