"""A Knowledge Base as a LlamaIndex index-like object, and an ingestion pipeline step.

Thin: LlamaIndex nodes and documents become core :class:`SourceDocument`s; uploading,
ingestion jobs, document statuses and every wire shape live in
:mod:`bedrock_kit.core.knowledge_bases.ingestion`. Mirrors
:mod:`bedrock_kit.langchain.ingestion`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.schema import BaseNode, MetadataMode, TransformComponent
from pydantic import ConfigDict, PrivateAttr

from bedrock_kit.core.knowledge_bases.data_sources import DataSource
from bedrock_kit.core.knowledge_bases.documents import SourceDocument, source_document
from bedrock_kit.core.knowledge_bases.ingestion import IngestionReport, KnowledgeBaseIngestion
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.steps import split_control_args
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.knowledge_bases import BedrockKnowledgeBaseRetriever

__all__ = ["BedrockKnowledgeBaseIndex", "BedrockKnowledgeBaseWriter"]


_HANDLE_OPTIONS = (
    "prefix",
    "id_key",
    "use_node_ids",
    "metadata_keys",
    "poll_interval",
    "wait_timeout",
    "progress",
)


class BedrockKnowledgeBaseIndex(OwnsClients):
    """One data source of a Knowledge Base, written to like a LlamaIndex index.

    ``insert_nodes`` / ``insert`` ingest nodes or documents (S3 data source: uploaded with
    their metadata sidecars, then an ingestion job run to the end; custom data source: sent
    directly, each document's status followed until indexed) and return their ids;
    ``delete_nodes`` / ``delete_ref_doc`` remove them; ``as_retriever`` returns the existing
    :class:`~bedrock_kit.llama_index.BedrockKnowledgeBaseRetriever`.

    Ids are stable: the ``id_key`` metadata value, else a hash of the content (LlamaIndex's
    random node ids would duplicate documents on every re-run); ``use_node_ids=True`` uses
    ``node.node_id`` instead, for loaders that set deterministic ids.

    Args:
        knowledge_base_id: The Knowledge Base.
        data_source_id: Its ``S3`` or ``CUSTOM`` data source.
        prefix: S3: where documents go (default: the data source's inclusion prefix).
        id_key: Metadata key holding each document's id.
        use_node_ids: Use ``node.node_id`` as the document id.
        metadata_keys: Metadata keys sent to Bedrock; None sends all (values Bedrock cannot
            filter on are refused by name).
        poll_interval: Seconds between status calls while waiting.
        wait_timeout: Give up waiting after this many seconds (``timeout`` is the read
            timeout of each call, as everywhere).
        progress: Show a progress bar while an ingestion job runs.
        **client_args: The client keyword arguments every bedrock-kit class takes, plus
            ``s3_endpoint_url``, ``control_client`` / ``async_control_client``
            (``bedrock-agent``) and ``s3_client`` / ``async_s3_client``.
    """

    def __init__(
        self,
        knowledge_base_id: str,
        data_source_id: str,
        *,
        prefix: str | None = None,
        id_key: str | None = None,
        use_node_ids: bool = False,
        metadata_keys: Sequence[str] | None = None,
        poll_interval: float = 5.0,
        wait_timeout: float | None = None,
        progress: bool = False,
        **client_args: Any,
    ) -> None:
        control, self._runtime_args = split_control_args(client_args, "BedrockKnowledgeBaseIndex")
        self.ingestion = KnowledgeBaseIngestion(
            knowledge_base_id, data_source_id, prefix=prefix, id_key=id_key, **control
        )
        self.use_node_ids = use_node_ids
        self.metadata_keys = metadata_keys
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.progress = progress
        self.last_report: IngestionReport | None = None
        """What the last insert or delete did (job statistics or document statuses)."""

    @classmethod
    def create_data_source(
        cls,
        knowledge_base_id: str,
        name: str,
        configuration: Mapping[str, Any],
        *,
        chunking: Mapping[str, Any] | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> BedrockKnowledgeBaseIndex:
        """CreateDataSource (``s3_data_source(...)`` / ``custom_data_source()`` and a chunking
        builder, checked before the call), then an index writing to it."""
        options = {k: kwargs.pop(k) for k in _HANDLE_OPTIONS if k in kwargs}
        control, _ = split_control_args(kwargs, "BedrockKnowledgeBaseIndex")
        made = KnowledgeBaseIngestion.create_data_source(
            knowledge_base_id=knowledge_base_id,
            name=name,
            configuration=configuration,
            chunking=chunking,
            description=description,
            **control,
        )
        handle = cls(made.knowledge_base_id, made.data_source_id, **options, **kwargs)
        made.prefix, made.id_key = handle.ingestion.prefix, handle.ingestion.id_key
        handle.ingestion = made  # already knows its data source: no GetDataSource
        return handle

    @property
    def knowledge_base_id(self) -> str:
        """The Knowledge Base."""
        return self.ingestion.knowledge_base_id

    @property
    def data_source_id(self) -> str:
        """The data source."""
        return self.ingestion.data_source_id

    def data_source(self) -> DataSource:
        """The data source, as GetDataSource describes it."""
        return self.ingestion.data_source()

    def _sources(self, nodes: Sequence[BaseNode]) -> list[SourceDocument]:
        return [
            source_document(
                node.get_content(metadata_mode=MetadataMode.NONE),
                node.metadata,
                id=node.node_id if self.use_node_ids else None,
                metadata_keys=self.metadata_keys,
            )
            for node in nodes
        ]

    def _options(self, wait: bool, allow_failed_documents: bool) -> dict[str, Any]:
        return {
            "wait": wait,
            "poll_interval": self.poll_interval,
            "timeout": self.wait_timeout,
            "progress": self.progress,
            "allow_failed_documents": allow_failed_documents,
        }

    def insert_nodes(
        self, nodes: Sequence[BaseNode], *, wait: bool = True, allow_failed_documents: bool = False
    ) -> list[str]:
        """Ingest nodes; their document ids.

        Raises:
            ConfigurationError: A node Bedrock would refuse (nothing is sent).
            IngestionJobError: S3: the job failed, stopped, or failed documents.
            DocumentIngestionError: Custom: documents that were not indexed.
        """
        report = self.ingestion.add_documents(
            self._sources(nodes), **self._options(wait, allow_failed_documents)
        )
        self.last_report = report
        return list(report.document_ids)

    async def ainsert_nodes(
        self, nodes: Sequence[BaseNode], *, wait: bool = True, allow_failed_documents: bool = False
    ) -> list[str]:
        """Async :meth:`insert_nodes`."""
        report = await self.ingestion.aadd_documents(
            self._sources(nodes), **self._options(wait, allow_failed_documents)
        )
        self.last_report = report
        return list(report.document_ids)

    def insert(self, document: BaseNode, *, wait: bool = True) -> list[str]:
        """Ingest one document (Bedrock chunks it); its id, in a list."""
        return self.insert_nodes([document], wait=wait)

    async def ainsert(self, document: BaseNode, *, wait: bool = True) -> list[str]:
        """Async :meth:`insert`."""
        return await self.ainsert_nodes([document], wait=wait)

    def delete_nodes(self, node_ids: Sequence[str], *, wait: bool = True) -> None:
        """Remove documents by the ids ``insert_nodes`` returned.

        Raises:
            ConfigurationError: No ids given.
        """
        if not node_ids:
            raise ConfigurationError("delete_nodes: give the ids of the documents to remove")
        self.last_report = self.ingestion.delete_documents(
            list(node_ids), wait=wait, poll_interval=self.poll_interval, timeout=self.wait_timeout
        )

    async def adelete_nodes(self, node_ids: Sequence[str], *, wait: bool = True) -> None:
        """Async :meth:`delete_nodes`."""
        if not node_ids:
            raise ConfigurationError("delete_nodes: give the ids of the documents to remove")
        self.last_report = await self.ingestion.adelete_documents(
            list(node_ids), wait=wait, poll_interval=self.poll_interval, timeout=self.wait_timeout
        )

    def delete_ref_doc(self, ref_doc_id: str, *, wait: bool = True) -> None:
        """Remove one document by id."""
        self.delete_nodes([ref_doc_id], wait=wait)

    async def adelete_ref_doc(self, ref_doc_id: str, *, wait: bool = True) -> None:
        """Async :meth:`delete_ref_doc`."""
        await self.adelete_nodes([ref_doc_id], wait=wait)

    def as_retriever(self, **kwargs: Any) -> BedrockKnowledgeBaseRetriever:
        """The Knowledge Base's retriever (same region and credentials); ``kwargs`` are its
        search options (``number_of_results``, ``filter``, ``max_results``...)."""
        return BedrockKnowledgeBaseRetriever(self.knowledge_base_id, **self._runtime_args, **kwargs)


class BedrockKnowledgeBaseWriter(TransformComponent):
    """An ``IngestionPipeline`` step that ingests the nodes it sees and passes them on.

    Put it last in ``IngestionPipeline(transformations=[...])``; each node's
    ``metadata["bedrock_document_id"]`` is set to the id it was stored under.

    Example:
        .. code-block:: python

            index = BedrockKnowledgeBaseIndex("KB12345678", "DS12345678")
            pipeline = IngestionPipeline(transformations=[BedrockKnowledgeBaseWriter(index)])
            pipeline.run(documents=SimpleDirectoryReader("docs/").load_data())
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    _index: BedrockKnowledgeBaseIndex = PrivateAttr()

    def __init__(self, index: BedrockKnowledgeBaseIndex, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._index = index

    @property
    def index(self) -> BedrockKnowledgeBaseIndex:
        """The index written to."""
        return self._index

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        ids = self._index.insert_nodes(nodes)
        return _tagged(nodes, ids)

    async def acall(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        ids = await self._index.ainsert_nodes(nodes)
        return _tagged(nodes, ids)


def _tagged(nodes: Sequence[BaseNode], ids: Sequence[str]) -> list[BaseNode]:
    for node, identifier in zip(nodes, ids, strict=True):
        node.metadata["bedrock_document_id"] = identifier
        node.excluded_embed_metadata_keys = [
            *node.excluded_embed_metadata_keys,
            "bedrock_document_id",
        ]
    return list(nodes)
