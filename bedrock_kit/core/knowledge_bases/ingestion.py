"""Knowledge Base ingestion: S3 data sources (upload + ingestion job) and custom data sources.

.. code-block:: python

    kb = KnowledgeBaseIngestion("KB12345678", "DS12345678", region_name="us-east-1")
    report = kb.add_documents([SourceDocument("Refunds take 5 days.", {"team": "billing"})])
    report.job.statistics.new_indexed        # S3 data source: the ingestion job's statistics
    report.documents                          # custom data source: each document's status

For an ``S3`` data source each document becomes ``{prefix}{id}.txt`` plus its
``.metadata.json`` sidecar (unchanged objects are not uploaded again), then StartIngestionJob
runs and :meth:`IngestionJob.wait` follows it to the end. For a ``CUSTOM`` data source the
documents go through IngestKnowledgeBaseDocuments, ten per call, and their statuses are
polled until each is indexed or failed. Either way, documents that did not make it raise a
typed error that names them. Every workflow is written once as steps
(:mod:`bedrock_kit.core.transport.steps`) and runs sync or native async.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_kit.core.knowledge_bases.data_sources import (
    DataSource,
    build_create_data_source_request,
    check_id,
    parse_data_source,
)
from bedrock_kit.core.knowledge_bases.documents import (
    DocumentStatus,
    SourceDocument,
    batches,
    build_custom_document,
    custom_identifier,
    document_id,
    metadata_sidecar,
    object_key,
    parse_document_statuses,
)
from bedrock_kit.core.knowledge_bases.ingestion_jobs import (
    IngestionJobStatus,
    IngestionReport,
    IngestionStatistics,
    JobProgress,
    job_outcome,
    parse_job,
)
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.steps import Call, ControlClients, Sleep, Steps, adrive, drive
from bedrock_kit.errors import (
    ConfigurationError,
    DocumentIngestionError,
    MalformedResponseError,
    ModelTimeoutError,
)

__all__ = [
    "IngestionJob",
    "IngestionJobStatus",
    "IngestionReport",
    "IngestionStatistics",
    "KnowledgeBaseIngestion",
]

_AGENT = "bedrock-agent"
# Document states that no longer change by themselves.
_DOC_SETTLED = frozenset(
    {
        "INDEXED",
        "PARTIALLY_INDEXED",
        "FAILED",
        "METADATA_PARTIALLY_INDEXED",
        "METADATA_UPDATE_FAILED",
        "IGNORED",
        "NOT_FOUND",
    }
)


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def _token() -> str:
    # clientToken is 33 to 256 characters: one uuid4 hex is 32.
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


class KnowledgeBaseIngestion(OwnsClients):
    """Puts documents into one data source of a Knowledge Base, and takes them out.

    Args:
        knowledge_base_id: The Knowledge Base (10 characters).
        data_source_id: The data source (10 characters); ``S3`` or ``CUSTOM``.
        prefix: S3 data sources: where documents go (default: the data source's inclusion
            prefix, else the bucket root); must lie inside the inclusion prefix.
        id_key: Metadata key holding each document's id; None hashes the content.
        **client_args: ``settings`` (and ``s3_settings``), client keyword arguments, and
            injected ``client`` / ``async_client`` (``bedrock-agent``) and ``s3_client`` /
            ``async_s3_client``.

    Raises:
        ConfigurationError: A bad id or client argument.
    """

    def __init__(
        self,
        knowledge_base_id: str,
        data_source_id: str,
        *,
        prefix: str | None = None,
        id_key: str | None = None,
        **client_args: Any,
    ) -> None:
        self.knowledge_base_id = check_id(knowledge_base_id, "knowledge_base_id")
        self.data_source_id = check_id(data_source_id, "data_source_id")
        self.prefix = prefix
        self.id_key = id_key
        self.clients = ControlClients.from_args(client_args, "KnowledgeBaseIngestion")
        self._source: DataSource | None = None
        self.progress_history: list[str] = []
        """Status lines seen by the last job wait."""

    # -- creating a data source

    @classmethod
    def create_data_source(
        cls, *, knowledge_base_id: str, name: str, configuration: Mapping[str, Any], **kwargs: Any
    ) -> KnowledgeBaseIngestion:
        """CreateDataSource, then a handle on it (see :func:`build_create_data_source_request`
        for ``chunking``, ``description``, ``data_deletion_policy``).

        Raises:
            ConfigurationError: A bad configuration, refused before any request.
        """
        options, client_args = _split_create(kwargs)
        request = build_create_data_source_request(
            knowledge_base_id=knowledge_base_id, name=name, configuration=configuration, **options
        )
        clients = ControlClients.from_args(client_args, "KnowledgeBaseIngestion")
        source = drive(_create_steps(request), clients)
        return cls._from_source(source, clients)

    @classmethod
    async def acreate_data_source(
        cls, *, knowledge_base_id: str, name: str, configuration: Mapping[str, Any], **kwargs: Any
    ) -> KnowledgeBaseIngestion:
        """Async :meth:`create_data_source`."""
        options, client_args = _split_create(kwargs)
        request = build_create_data_source_request(
            knowledge_base_id=knowledge_base_id, name=name, configuration=configuration, **options
        )
        clients = ControlClients.from_args(client_args, "KnowledgeBaseIngestion")
        source = await adrive(_create_steps(request), clients)
        return cls._from_source(source, clients)

    @classmethod
    def _from_source(cls, source: DataSource, clients: ControlClients) -> KnowledgeBaseIngestion:
        made = cls.__new__(cls)
        made.knowledge_base_id = source.knowledge_base_id
        made.data_source_id = source.data_source_id
        made.prefix = None
        made.id_key = None
        made.clients = clients
        made._source = source
        made.progress_history = []
        return made

    # -- the data source

    def data_source(self) -> DataSource:
        """GetDataSource (fetched once, then cached)."""
        if self._source is None:
            self._source = drive(self._get_source(), self.clients)
        return self._source

    async def adata_source(self) -> DataSource:
        """Async :meth:`data_source`."""
        if self._source is None:
            self._source = await adrive(self._get_source(), self.clients)
        return self._source

    def _get_source(self) -> Steps[DataSource]:
        response = yield Call(
            _AGENT,
            "get_data_source",
            {"knowledgeBaseId": self.knowledge_base_id, "dataSourceId": self.data_source_id},
            self.knowledge_base_id,
        )
        return parse_data_source(response)

    # -- adding and deleting documents

    def add_documents(
        self,
        documents: Sequence[SourceDocument],
        *,
        wait: bool = True,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
        allow_failed_documents: bool = False,
    ) -> IngestionReport:
        """Ingest documents; with ``wait``, return once every one is indexed.

        Args:
            documents: The documents (ids from ``id``, ``id_key`` or their content).
            wait: Follow the ingestion job (S3) or the document statuses (custom) to the end.
            poll_interval: Seconds between status calls.
            timeout: Give up waiting after this many seconds (the work goes on in Bedrock).
            progress: Show a progress bar (tqdm when installed, else lines on stderr).
            allow_failed_documents: Report failed documents instead of raising.

        Raises:
            ConfigurationError: A document or its metadata Bedrock would refuse (nothing
                is sent), or a data source type other than S3 and CUSTOM.
            IngestionJobError: S3: the job failed, stopped, or failed documents.
            DocumentIngestionError: Custom: documents that ended other than INDEXED.
            ModelTimeoutError: ``timeout`` passed first.
        """
        source = self.data_source()
        steps = self._add_steps(
            source,
            documents,
            wait=wait,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            allow_failed=allow_failed_documents,
        )
        return drive(steps, self.clients)

    async def aadd_documents(
        self,
        documents: Sequence[SourceDocument],
        *,
        wait: bool = True,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
        allow_failed_documents: bool = False,
    ) -> IngestionReport:
        """Async :meth:`add_documents`."""
        source = await self.adata_source()
        steps = self._add_steps(
            source,
            documents,
            wait=wait,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            allow_failed=allow_failed_documents,
        )
        return await adrive(steps, self.clients)

    def delete_documents(
        self,
        ids: Sequence[str],
        *,
        wait: bool = True,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
    ) -> IngestionReport:
        """Remove documents by id (S3: delete the objects, then sync with a job).

        Raises:
            IngestionJobError: S3: the sync job failed.
            DocumentIngestionError: Custom: documents still present after deletion.
            ModelTimeoutError: ``timeout`` passed first.
        """
        source = self.data_source()
        steps = self._delete_steps(
            source, ids, wait=wait, poll_interval=poll_interval, timeout=timeout, progress=progress
        )
        return drive(steps, self.clients)

    async def adelete_documents(
        self,
        ids: Sequence[str],
        *,
        wait: bool = True,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
    ) -> IngestionReport:
        """Async :meth:`delete_documents`."""
        source = await self.adata_source()
        steps = self._delete_steps(
            source, ids, wait=wait, poll_interval=poll_interval, timeout=timeout, progress=progress
        )
        return await adrive(steps, self.clients)

    def list_documents(self) -> list[DocumentStatus]:
        """ListKnowledgeBaseDocuments, every page."""
        return drive(self._list_steps(), self.clients)

    async def alist_documents(self) -> list[DocumentStatus]:
        """Async :meth:`list_documents`."""
        return await adrive(self._list_steps(), self.clients)

    def get_documents(self, ids: Sequence[str]) -> list[DocumentStatus]:
        """GetKnowledgeBaseDocuments for custom document ids (ten per call)."""
        return drive(self._get_steps(list(ids)), self.clients)

    async def aget_documents(self, ids: Sequence[str]) -> list[DocumentStatus]:
        """Async :meth:`get_documents`."""
        return await adrive(self._get_steps(list(ids)), self.clients)

    # -- ingestion jobs

    def start_ingestion_job(self, description: str | None = None) -> IngestionJob:
        """StartIngestionJob (S3 data sources): a handle to follow it."""
        status = drive(self._start_steps(description), self.clients)
        return IngestionJob(self, status)

    async def astart_ingestion_job(self, description: str | None = None) -> IngestionJob:
        """Async :meth:`start_ingestion_job`."""
        status = await adrive(self._start_steps(description), self.clients)
        return IngestionJob(self, status)

    # -- the workflows (steps), shared by sync and async

    def _ids(self, documents: Sequence[SourceDocument]) -> list[str]:
        ids = [document_id(d, self.id_key) for d in documents]
        counts: dict[str, int] = {}
        for identifier in ids:
            counts[identifier] = counts.get(identifier, 0) + 1
        repeated = sorted(i for i, n in counts.items() if n > 1)
        if repeated:
            raise ConfigurationError(
                f"documents repeat the id(s) {repeated[:5]}: ids must be unique"
            )
        return ids

    def _add_steps(
        self,
        source: DataSource,
        documents: Sequence[SourceDocument],
        *,
        wait: bool,
        poll_interval: float,
        timeout: float | None,
        progress: bool,
        allow_failed: bool,
    ) -> Steps[IngestionReport]:
        ids = self._ids(documents)
        if source.type == "S3":
            planned = self._s3_plan(source, documents, ids)  # checks everything first
            uploaded, unchanged = yield from self._upload(source, planned)
            job = yield from self._start_steps("bedrock-kit add_documents")
            if wait:
                job = yield from self._wait_steps(
                    job,
                    poll_interval=poll_interval,
                    timeout=timeout,
                    progress=progress,
                    expected=len(ids),
                    allow_failed=allow_failed,
                )
            return IngestionReport(tuple(ids), uploaded, unchanged, job=job)
        if source.type == "CUSTOM":
            entries = [build_custom_document(d, i) for d, i in zip(documents, ids, strict=True)]
            statuses: list[DocumentStatus] = []
            for batch in batches(entries):
                response = yield self._call(
                    "ingest_knowledge_base_documents", documents=batch, clientToken=_token()
                )
                statuses += parse_document_statuses(response)
            if wait:
                statuses = yield from self._settle(ids, poll_interval, timeout)
                self._check_documents(statuses, allow_failed, "indexed")
            return IngestionReport(tuple(ids), documents=tuple(statuses))
        raise ConfigurationError(
            f"data source {source.data_source_id} is {source.type}: documents can be added to "
            "S3 and CUSTOM data sources only"
        )

    def _delete_steps(
        self,
        source: DataSource,
        ids: Sequence[str],
        *,
        wait: bool,
        poll_interval: float,
        timeout: float | None,
        progress: bool,
    ) -> Steps[IngestionReport]:
        ids = list(ids)
        if not ids:
            raise ConfigurationError("delete_documents: give at least one id")
        if source.type == "S3":
            bucket, prefix = self._location(source)
            keys = [object_key(prefix, i) for i in ids]
            objects = [{"Key": k} for k in keys] + [{"Key": k + ".metadata.json"} for k in keys]
            for chunk in batches(objects, 1000):
                yield Call(
                    "s3",
                    "delete_objects",
                    {"Bucket": bucket, "Delete": {"Objects": chunk, "Quiet": True}},
                    f"s3://{bucket}/{prefix}",
                    "s3",
                )
            job = yield from self._start_steps("bedrock-kit delete_documents")
            if wait:
                job = yield from self._wait_steps(
                    job,
                    poll_interval=poll_interval,
                    timeout=timeout,
                    progress=progress,
                    expected=None,
                    allow_failed=False,
                )
            return IngestionReport(tuple(ids), job=job)
        statuses: list[DocumentStatus] = []
        for batch in batches(ids):
            response = yield self._call(
                "delete_knowledge_base_documents",
                documentIdentifiers=[custom_identifier(i) for i in batch],
                clientToken=_token(),
            )
            statuses += parse_document_statuses(response)
        if wait:
            statuses = yield from self._settle(ids, poll_interval, timeout)
            self._check_documents(statuses, False, "deleted")
        return IngestionReport(tuple(ids), documents=tuple(statuses))

    def _call(self, method: str, **kwargs: Any) -> Call:
        kwargs.update(knowledgeBaseId=self.knowledge_base_id, dataSourceId=self.data_source_id)
        return Call(_AGENT, method, kwargs, self.knowledge_base_id)

    def _location(self, source: DataSource) -> tuple[str, str]:
        if not source.bucket:
            raise MalformedResponseError(f"S3 data source {source.data_source_id} has no bucket")
        prefix = self.prefix if self.prefix is not None else (source.prefix or "")
        if source.prefix and not prefix.startswith(source.prefix):
            raise ConfigurationError(
                f"prefix {prefix!r} is outside data source {source.data_source_id}'s inclusion "
                f"prefix {source.prefix!r}: Bedrock would never see those documents"
            )
        return source.bucket, prefix

    def _s3_plan(
        self, source: DataSource, documents: Sequence[SourceDocument], ids: Sequence[str]
    ) -> list[tuple[str, str, bytes, bytes]]:
        bucket, prefix = self._location(source)
        planned = []
        for document, identifier in zip(documents, ids, strict=True):
            if document.text is None:
                raise ConfigurationError(
                    f"document {identifier!r} is an S3 reference: S3 data sources read their "
                    "own bucket; give its text, or use a CUSTOM data source"
                )
            key = object_key(prefix, identifier)
            planned.append(
                (bucket, key, document.text.encode(), metadata_sidecar(document.metadata))
            )
        return planned

    def _upload(
        self, source: DataSource, planned: list[tuple[str, str, bytes, bytes]]
    ) -> Steps[tuple[int, int]]:
        bucket, prefix = self._location(source)
        where = f"s3://{bucket}/{prefix}"
        existing: dict[str, str] = {}
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                args["ContinuationToken"] = token
            page = yield Call("s3", "list_objects_v2", args, where, "s3")
            existing.update({o["Key"]: o.get("ETag", "") for o in page.get("Contents") or ()})
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                break
        uploaded = unchanged = 0
        for bucket_name, key, body, sidecar in planned:
            sidecar_key = key + ".metadata.json"
            if existing.get(key) == _etag(body) and existing.get(sidecar_key) == _etag(sidecar):
                unchanged += 1
                continue
            for name, data, kind in (
                (key, body, "text/plain"),
                (sidecar_key, sidecar, "application/json"),
            ):
                yield Call(
                    "s3",
                    "put_object",
                    {"Bucket": bucket_name, "Key": name, "Body": data, "ContentType": kind},
                    f"s3://{bucket_name}/{name}",
                    "s3",
                )
            uploaded += 1
        return uploaded, unchanged

    def _start_steps(self, description: str | None) -> Steps[IngestionJobStatus]:
        kwargs: dict[str, Any] = {"clientToken": _token()}
        if description:
            kwargs["description"] = description[:200]
        return parse_job((yield self._call("start_ingestion_job", **kwargs)))

    def _wait_steps(
        self,
        job: IngestionJobStatus,
        *,
        poll_interval: float,
        timeout: float | None,
        progress: bool,
        expected: int | None,
        allow_failed: bool,
    ) -> Steps[IngestionJobStatus]:
        bar = JobProgress(progress, job.job_id, expected)
        self.progress_history = bar.history
        started = time.monotonic()
        try:
            bar.update(job)
            while not job.done:
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise ModelTimeoutError(
                        f"ingestion job {job.job_id} still {job.status} after {timeout:g} s "
                        "(it keeps running; wait again)",
                        model_id=self.knowledge_base_id,
                        resource="knowledge_base",
                    )
                yield Sleep(poll_interval)
                job = parse_job((yield self._call("get_ingestion_job", ingestionJobId=job.job_id)))
                bar.update(job)
        finally:
            bar.close()
        job_outcome(job, allow_failed_documents=allow_failed)
        return job

    def _get_steps(self, ids: list[str]) -> Steps[list[DocumentStatus]]:
        found: list[DocumentStatus] = []
        for batch in batches(ids):
            response = yield self._call(
                "get_knowledge_base_documents",
                documentIdentifiers=[custom_identifier(i) for i in batch],
            )
            found += parse_document_statuses(response)
        return found

    def _list_steps(self) -> Steps[list[DocumentStatus]]:
        found: list[DocumentStatus] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            response = yield self._call("list_knowledge_base_documents", **kwargs)
            found += parse_document_statuses(response)
            token = response.get("nextToken")
            if not token:
                return found

    def _settle(
        self, ids: list[str], poll_interval: float, timeout: float | None
    ) -> Steps[list[DocumentStatus]]:
        started = time.monotonic()
        latest: dict[str, DocumentStatus] = {}
        pending = list(ids)
        while pending:
            yield Sleep(poll_interval)
            for status in (yield from self._get_steps(pending)):
                latest[status.identifier] = status
            pending = [
                i for i in pending if i not in latest or latest[i].status not in _DOC_SETTLED
            ]
            if pending and timeout is not None and time.monotonic() - started >= timeout:
                raise ModelTimeoutError(
                    f"{len(pending)} document(s) of data source {self.data_source_id} still not "
                    f"settled after {timeout:g} s: {pending[:5]}",
                    model_id=self.knowledge_base_id,
                    resource="knowledge_base",
                )
        return [latest[i] for i in ids]

    def _check_documents(
        self, statuses: Sequence[DocumentStatus], allow_failed: bool, goal: str
    ) -> None:
        wanted = "INDEXED" if goal == "indexed" else "NOT_FOUND"
        failed = tuple((s.identifier, s.status, s.reason) for s in statuses if s.status != wanted)
        if failed and not allow_failed:
            shown = "; ".join(f"{i} {st}: {r or 'no reason given'}" for i, st, r in failed[:5])
            raise DocumentIngestionError(
                f"{len(failed)} of {len(statuses)} document(s) of data source "
                f"{self.data_source_id} were not {goal}: {shown}",
                knowledge_base_id=self.knowledge_base_id,
                data_source_id=self.data_source_id,
                failed=failed,
                indexed=tuple(s.identifier for s in statuses if s.status == wanted),
            )


class IngestionJob:
    """A handle on one ingestion job: its status, and waiting for its end."""

    def __init__(self, owner: KnowledgeBaseIngestion, status: IngestionJobStatus) -> None:
        self.owner = owner
        self.job_id = status.job_id
        """``ingestionJobId``."""
        self.last = status
        """The most recent status fetched."""

    def status(self) -> IngestionJobStatus:
        """GetIngestionJob, typed."""
        self.last = drive(self._status(), self.owner.clients)
        return self.last

    async def astatus(self) -> IngestionJobStatus:
        """Async :meth:`status`."""
        self.last = await adrive(self._status(), self.owner.clients)
        return self.last

    def _status(self) -> Steps[IngestionJobStatus]:
        call = self.owner._call("get_ingestion_job", ingestionJobId=self.job_id)
        return parse_job((yield call))

    def wait(
        self,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
        allow_failed_documents: bool = False,
    ) -> IngestionJobStatus:
        """Poll until the job ends; its final status (statistics included).

        Raises:
            IngestionJobError: FAILED, STOPPED, or failed documents.
            ModelTimeoutError: ``timeout`` passed first.
        """
        steps = self.owner._wait_steps(
            self.last,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            expected=None,
            allow_failed=allow_failed_documents,
        )
        self.last = drive(steps, self.owner.clients)
        return self.last

    async def await_(
        self,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        progress: bool = False,
        allow_failed_documents: bool = False,
    ) -> IngestionJobStatus:
        """Async :meth:`wait` (``await job.await_()``)."""
        steps = self.owner._wait_steps(
            self.last,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            expected=None,
            allow_failed=allow_failed_documents,
        )
        self.last = await adrive(steps, self.owner.clients)
        return self.last


_CREATE_OPTIONS = ("chunking", "description", "data_deletion_policy", "client_token")


def _split_create(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    options = {k: v for k, v in kwargs.items() if k in _CREATE_OPTIONS}
    return options, {k: v for k, v in kwargs.items() if k not in _CREATE_OPTIONS}


def _create_steps(request: Mapping[str, Any]) -> Steps[DataSource]:
    response = yield Call(_AGENT, "create_data_source", request, request["knowledgeBaseId"])
    return parse_data_source(response)
