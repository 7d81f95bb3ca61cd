"""A Knowledge Base as a LangChain vector-store-like object: ``add_documents`` / ``delete``.

Thin: LangChain ``Document``s become core :class:`SourceDocument`s; uploading, ingestion
jobs, document statuses and every wire shape live in
:mod:`bedrock_kit.core.knowledge_bases.ingestion`. Mirrors
:mod:`bedrock_kit.llama_index.ingestion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langchain_core.documents import Document

from bedrock_kit.core.knowledge_bases.data_sources import DataSource
from bedrock_kit.core.knowledge_bases.documents import SourceDocument, source_document
from bedrock_kit.core.knowledge_bases.ingestion import IngestionReport, KnowledgeBaseIngestion
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.steps import split_control_args
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.knowledge_bases import BedrockKnowledgeBaseRetriever

__all__ = ["BedrockKnowledgeBase"]


_HANDLE_OPTIONS = ("prefix", "id_key", "metadata_keys", "poll_interval", "wait_timeout", "progress")


class BedrockKnowledgeBase(OwnsClients):
    """One data source of a Knowledge Base, written to like a vector store.

    ``add_documents`` ingests LangChain documents (S3 data source: uploaded with their
    metadata sidecars, then an ingestion job is run to the end; custom data source: sent
    directly, each document's status followed until indexed) and returns their ids;
    ``delete`` removes them; ``as_retriever`` returns the existing
    :class:`~bedrock_kit.langchain.BedrockKnowledgeBaseRetriever`.

    Ids are stable: an explicit ``ids`` list, else the ``id_key`` metadata value, else a hash
    of the content, so re-running the same load replaces documents instead of duplicating
    them (LangChain's own ``Document.id`` is used when set).

    Args:
        knowledge_base_id: The Knowledge Base.
        data_source_id: Its ``S3`` or ``CUSTOM`` data source.
        prefix: S3: where documents go (default: the data source's inclusion prefix).
        id_key: Metadata key holding each document's id.
        metadata_keys: Metadata keys sent to Bedrock; None sends all (values Bedrock cannot
            filter on are refused by name).
        poll_interval: Seconds between status calls while waiting.
        wait_timeout: Give up waiting after this many seconds (``timeout`` is the read
            timeout of each call, as everywhere).
        progress: Show a progress bar while an ingestion job runs.
        **client_args: The client keyword arguments every bedrock-kit class takes, plus
            ``s3_endpoint_url``, ``control_client`` / ``async_control_client``
            (``bedrock-agent``) and ``s3_client`` / ``async_s3_client``.

    Example:
        .. code-block:: python

            kb = BedrockKnowledgeBase("KB12345678", "DS12345678", id_key="source")
            ids = kb.add_documents(DirectoryLoader("docs/").load())
            kb.as_retriever(number_of_results=4).invoke("How do refunds work?")
    """

    def __init__(
        self,
        knowledge_base_id: str,
        data_source_id: str,
        *,
        prefix: str | None = None,
        id_key: str | None = None,
        metadata_keys: Sequence[str] | None = None,
        poll_interval: float = 5.0,
        wait_timeout: float | None = None,
        progress: bool = False,
        **client_args: Any,
    ) -> None:
        control, self._runtime_args = split_control_args(client_args, "BedrockKnowledgeBase")
        self.ingestion = KnowledgeBaseIngestion(
            knowledge_base_id, data_source_id, prefix=prefix, id_key=id_key, **control
        )
        self.metadata_keys = metadata_keys
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.progress = progress
        self.last_report: IngestionReport | None = None
        """What the last add or delete did (job statistics or document statuses)."""

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
    ) -> BedrockKnowledgeBase:
        """CreateDataSource (``s3_data_source(...)`` / ``custom_data_source()`` and a chunking
        builder, checked before the call), then an object writing to it."""
        options = {k: kwargs.pop(k) for k in _HANDLE_OPTIONS if k in kwargs}
        control, _ = split_control_args(kwargs, "BedrockKnowledgeBase")
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

    def _sources(
        self, documents: Sequence[Document], ids: Sequence[str] | None
    ) -> list[SourceDocument]:
        if ids is not None and len(ids) != len(documents):
            raise ConfigurationError(f"{len(ids)} ids for {len(documents)} documents")
        return [
            source_document(
                doc.page_content,
                doc.metadata,
                id=ids[i] if ids is not None else doc.id,
                metadata_keys=self.metadata_keys,
            )
            for i, doc in enumerate(documents)
        ]

    def _wait_options(self, wait: bool, allow_failed_documents: bool) -> dict[str, Any]:
        return {
            "wait": wait,
            "poll_interval": self.poll_interval,
            "timeout": self.wait_timeout,
            "progress": self.progress,
            "allow_failed_documents": allow_failed_documents,
        }

    def add_documents(
        self,
        documents: Sequence[Document],
        *,
        ids: Sequence[str] | None = None,
        wait: bool = True,
        allow_failed_documents: bool = False,
    ) -> list[str]:
        """Ingest documents; their ids.

        Raises:
            ConfigurationError: A document Bedrock would refuse (nothing is sent).
            IngestionJobError: S3: the job failed, stopped, or failed documents.
            DocumentIngestionError: Custom: documents that were not indexed.
        """
        sources = self._sources(documents, ids)
        options = self._wait_options(wait, allow_failed_documents)
        self.last_report = self.ingestion.add_documents(sources, **options)
        return list(self.last_report.document_ids)

    async def aadd_documents(
        self,
        documents: Sequence[Document],
        *,
        ids: Sequence[str] | None = None,
        wait: bool = True,
        allow_failed_documents: bool = False,
    ) -> list[str]:
        """Async :meth:`add_documents`."""
        sources = self._sources(documents, ids)
        options = self._wait_options(wait, allow_failed_documents)
        self.last_report = await self.ingestion.aadd_documents(sources, **options)
        return list(self.last_report.document_ids)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        *,
        ids: Sequence[str] | None = None,
        wait: bool = True,
    ) -> list[str]:
        """Ingest texts (with optional metadata); their ids."""
        return self.add_documents(_documents(texts, metadatas), ids=ids, wait=wait)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        *,
        ids: Sequence[str] | None = None,
        wait: bool = True,
    ) -> list[str]:
        """Async :meth:`add_texts`."""
        return await self.aadd_documents(_documents(texts, metadatas), ids=ids, wait=wait)

    def delete(self, ids: Sequence[str] | None = None, *, wait: bool = True) -> bool:
        """Remove documents by id; True once Bedrock no longer holds them.

        Raises:
            ConfigurationError: No ids given (deleting everything is not offered).
        """
        if not ids:
            raise ConfigurationError("delete: give the ids of the documents to remove")
        self.last_report = self.ingestion.delete_documents(
            list(ids), wait=wait, poll_interval=self.poll_interval, timeout=self.wait_timeout
        )
        return True

    async def adelete(self, ids: Sequence[str] | None = None, *, wait: bool = True) -> bool:
        """Async :meth:`delete`."""
        if not ids:
            raise ConfigurationError("delete: give the ids of the documents to remove")
        self.last_report = await self.ingestion.adelete_documents(
            list(ids), wait=wait, poll_interval=self.poll_interval, timeout=self.wait_timeout
        )
        return True

    def as_retriever(self, **kwargs: Any) -> BedrockKnowledgeBaseRetriever:
        """The Knowledge Base's retriever (same region and credentials); ``kwargs`` are its
        search options (``number_of_results``, ``filter``, ``max_results``...)."""
        return BedrockKnowledgeBaseRetriever(
            knowledge_base_id=self.knowledge_base_id, **self._runtime_args, **kwargs
        )


def _documents(
    texts: Iterable[str], metadatas: Sequence[Mapping[str, Any]] | None
) -> list[Document]:
    texts = list(texts)
    if metadatas is not None and len(metadatas) != len(texts):
        raise ConfigurationError(f"{len(metadatas)} metadatas for {len(texts)} texts")
    return [
        Document(page_content=text, metadata=dict(metadatas[i]) if metadatas else {})
        for i, text in enumerate(texts)
    ]
