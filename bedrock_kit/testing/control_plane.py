"""A stateful Bedrock Agents control plane for LocalBedrock: Knowledge Bases and Agents.

:class:`LocalControlPlane` installs itself as the default reply of the ``bedrock-agent``
operations bedrock-kit's build side uses, so real boto3 / aiobotocore clients create data
sources, run ingestion jobs, ingest documents and deploy agents against it. Scripted replies
(``server.script(...)``) still come first, so any call can be made to fail once.

State moves like Bedrock's: an ingestion job is ``STARTING``, then ``IN_PROGRESS`` for
``job_steps`` GetIngestionJob calls, then ``COMPLETE`` (or ``FAILED``); a custom document is
``STARTING`` then ``IN_PROGRESS`` for ``document_steps`` reads, then ``INDEXED``; an agent is
``PREPARING`` for ``prepare_steps`` GetAgent calls after PrepareAgent, then ``PREPARED``.
Failures are scripted by name (:attr:`fail_documents`, :attr:`fail_next_job`,
:attr:`fail_preparation`). With ``s3_client`` (a boto3 S3 client, e.g. on moto's server),
ingestion jobs read the data source's bucket and count scanned, new, modified, deleted and
failed documents from what is really there.

Retrieve on a Knowledge Base of the plane searches what its ingestion jobs and custom
documents indexed (ranked like the rule file's documents, by the share of query words);
other Knowledge Base ids keep LocalBedrock's rule-file answer.

Example:
    >>> with LocalBedrock() as server:  # doctest: +SKIP
    ...     plane = LocalControlPlane(server, s3_client=s3)
    ...     kb = plane.add_knowledge_base("docs")
    ...     source = plane.add_data_source(kb, bucket="my-bucket", prefix="kb/")
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bedrock_kit.testing._agent_plane import AgentPlane
from bedrock_kit.testing._defaults import default_reply
from bedrock_kit.testing.builders import retrieve_reply
from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.rules import Document, LocalRules
from bedrock_kit.testing.server import LocalBedrock, ReceivedRequest

__all__ = ["LocalControlPlane"]

ACCOUNT = "123456789012"
_SIDECAR = ".metadata.json"


def now() -> str:
    """An ISO-8601 timestamp, as the service sends them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def not_found(what: str) -> Reply:
    """Bedrock's 404."""
    return Reply.error(404, "ResourceNotFoundException", f"{what} was not found")


class LocalControlPlane(AgentPlane):
    """Knowledge Bases, data sources, ingestion jobs, documents and agents, in memory.

    Args:
        server: The LocalBedrock to serve from (its defaults are set; scripts still win).
        s3_client: A boto3 S3 client reading the buckets of S3 data sources (moto); None
            makes ingestion jobs count nothing unless :attr:`job_statistics` is set.
        job_steps: GetIngestionJob calls a job stays ``IN_PROGRESS``.
        document_steps: GetKnowledgeBaseDocuments calls a document stays ``IN_PROGRESS``.
        prepare_steps: GetAgent calls an agent stays ``PREPARING`` after PrepareAgent.
    """

    def __init__(
        self,
        server: LocalBedrock,
        *,
        s3_client: Any = None,
        job_steps: int = 1,
        document_steps: int = 1,
        prepare_steps: int = 1,
    ) -> None:
        super().__init__(prepare_steps=prepare_steps)
        self.server = server
        self.s3 = s3_client
        self.job_steps = job_steps
        self.document_steps = document_steps
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self.knowledge_bases: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[tuple[str, str], dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.documents: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        """Custom documents per (knowledge base, data source): id -> record."""
        self.indexed: dict[tuple[str, str], dict[str, str]] = {}
        """S3 data sources: key -> ETag of what the last job indexed (metadata files too)."""
        self.fail_documents: dict[str, str] = {}
        """Document id or S3 key -> the reason it fails to ingest."""
        self.fail_next_job: list[str] | None = None
        """failureReasons of the next ingestion job, which ends FAILED (then reset)."""
        self.job_statistics: dict[str, int] | None = None
        """Statistics every job reports instead of counting S3 (None counts)."""
        self.corpus: dict[tuple[str, str], dict[str, Document]] = {}
        """What Retrieve searches, per (knowledge base, data source): S3 key or document id
        -> the indexed text, its URI and metadata."""
        for operation, handler in self._handlers().items():
            server.set_default(operation, self._guarded(handler))

    # -- helpers for tests

    def new_id(self) -> str:
        """A fresh 10-character id."""
        return f"LOCAL{next(self._ids):05d}"

    def add_knowledge_base(self, name: str = "kb") -> str:
        """Create a Knowledge Base record; its id."""
        kb_id = self.new_id()
        self.knowledge_bases[kb_id] = {
            "knowledgeBaseId": kb_id,
            "name": name,
            "knowledgeBaseArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:knowledge-base/{kb_id}",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/kb",
            "knowledgeBaseConfiguration": {"type": "VECTOR"},
            "status": "ACTIVE",
            "createdAt": now(),
            "updatedAt": now(),
        }
        return kb_id

    def add_data_source(
        self,
        knowledge_base_id: str,
        *,
        name: str = "source",
        bucket: str | None = None,
        prefix: str | None = None,
    ) -> str:
        """Create an S3 (``bucket`` given) or CUSTOM data source; its id."""
        if bucket is not None:
            s3: dict[str, Any] = {"bucketArn": f"arn:aws:s3:::{bucket}"}
            if prefix:
                s3["inclusionPrefixes"] = [prefix]
            config: dict[str, Any] = {"type": "S3", "s3Configuration": s3}
        else:
            config = {"type": "CUSTOM"}
        return self._create_source(
            knowledge_base_id, {"name": name, "dataSourceConfiguration": config}
        )

    # -- plumbing

    def _handlers(self) -> dict[str, Callable[[ReceivedRequest], Reply]]:
        return {
            "GetKnowledgeBase": self._get_knowledge_base,
            "CreateDataSource": self._create_data_source,
            "GetDataSource": self._get_data_source,
            "ListDataSources": self._list_data_sources,
            "StartIngestionJob": self._start_job,
            "GetIngestionJob": self._get_job,
            "IngestKnowledgeBaseDocuments": self._ingest_documents,
            "DeleteKnowledgeBaseDocuments": self._delete_documents,
            "GetKnowledgeBaseDocuments": self._get_documents,
            "ListKnowledgeBaseDocuments": self._list_documents,
            "Retrieve": self._retrieve,
            **self.agent_handlers(),
        }

    def _guarded(
        self, handler: Callable[[ReceivedRequest], Reply]
    ) -> Callable[[ReceivedRequest], Reply]:
        def serve(request: ReceivedRequest) -> Reply:
            with self.lock:
                return handler(request)

        return serve

    @staticmethod
    def body(request: ReceivedRequest) -> dict[str, Any]:
        """The request's JSON body (empty when there is none)."""
        return dict(request.body) if isinstance(request.body, Mapping) else {}

    # -- knowledge bases and data sources

    def _get_knowledge_base(self, request: ReceivedRequest) -> Reply:
        kb = self.knowledge_bases.get(request.path_params["knowledgeBaseId"])
        return Reply.json({"knowledgeBase": kb}) if kb else not_found("knowledge base")

    def _create_source(self, kb_id: str, body: Mapping[str, Any]) -> str:
        ds_id = self.new_id()
        record = {
            "knowledgeBaseId": kb_id,
            "dataSourceId": ds_id,
            "name": body["name"],
            "status": "AVAILABLE",
            "dataSourceConfiguration": body["dataSourceConfiguration"],
            "createdAt": now(),
            "updatedAt": now(),
        }
        for optional in ("description", "vectorIngestionConfiguration", "dataDeletionPolicy"):
            if optional in body:
                record[optional] = body[optional]
        self.data_sources[(kb_id, ds_id)] = record
        self.documents[(kb_id, ds_id)] = {}
        self.indexed[(kb_id, ds_id)] = {}
        self.corpus[(kb_id, ds_id)] = {}
        return ds_id

    def _create_data_source(self, request: ReceivedRequest) -> Reply:
        kb_id = request.path_params["knowledgeBaseId"]
        if kb_id not in self.knowledge_bases:
            return not_found(f"knowledge base {kb_id}")
        ds_id = self._create_source(kb_id, self.body(request))
        return Reply.json({"dataSource": self.data_sources[(kb_id, ds_id)]})

    def _source(self, request: ReceivedRequest) -> dict[str, Any] | None:
        params = request.path_params
        return self.data_sources.get((params["knowledgeBaseId"], params["dataSourceId"]))

    def _get_data_source(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        return Reply.json({"dataSource": source}) if source else not_found("data source")

    def _list_data_sources(self, request: ReceivedRequest) -> Reply:
        kb_id = request.path_params["knowledgeBaseId"]
        found = [
            {
                k: v
                for k, v in ds.items()
                if k in ("knowledgeBaseId", "dataSourceId", "name", "status", "updatedAt")
            }
            for (kb, _), ds in self.data_sources.items()
            if kb == kb_id
        ]
        return Reply.json({"dataSourceSummaries": found})

    # -- ingestion jobs

    def _start_job(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        if source is None:
            return not_found("data source")
        job_id = self.new_id()
        job = {
            "knowledgeBaseId": source["knowledgeBaseId"],
            "dataSourceId": source["dataSourceId"],
            "ingestionJobId": job_id,
            "status": "STARTING",
            "statistics": {},
            "startedAt": now(),
            "updatedAt": now(),
            "_polls": 0,
        }
        description = self.body(request).get("description")
        if description:
            job["description"] = description
        self.jobs[job_id] = job
        return Reply.json({"ingestionJob": _public(job)}, status=202)

    def _get_job(self, request: ReceivedRequest) -> Reply:
        job = self.jobs.get(request.path_params["ingestionJobId"])
        if job is None:
            return not_found("ingestion job")
        if job["status"] not in ("COMPLETE", "FAILED", "STOPPED"):
            job["_polls"] += 1
            if job["_polls"] <= self.job_steps:
                job["status"] = "IN_PROGRESS"
            else:
                self._finish_job(job)
            job["updatedAt"] = now()
        return Reply.json({"ingestionJob": _public(job)})

    def _finish_job(self, job: dict[str, Any]) -> None:
        if self.fail_next_job is not None:
            job["status"] = "FAILED"
            job["failureReasons"] = list(self.fail_next_job)
            self.fail_next_job = None
            return
        source = self.data_sources[(job["knowledgeBaseId"], job["dataSourceId"])]
        stats, reasons = self._count(source)
        job["status"] = "COMPLETE"
        job["statistics"] = stats if self.job_statistics is None else dict(self.job_statistics)
        if reasons:
            job["failureReasons"] = reasons

    def _count(self, source: Mapping[str, Any]) -> tuple[dict[str, int], list[str]]:
        """Statistics of a sync: what is in the bucket now against what was indexed."""
        s3 = (source["dataSourceConfiguration"].get("s3Configuration")) or {}
        key = (source["knowledgeBaseId"], source["dataSourceId"])
        if self.s3 is None or not s3:
            return {}, []
        bucket = s3["bucketArn"].split(":::", 1)[1]
        prefix = (s3.get("inclusionPrefixes") or [""])[0]
        now_there: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            now_there.update({o["Key"]: o["ETag"] for o in page.get("Contents") or ()})
        before = self.indexed[key]
        stats = dict.fromkeys(
            (
                "numberOfDocumentsScanned",
                "numberOfMetadataDocumentsScanned",
                "numberOfNewDocumentsIndexed",
                "numberOfModifiedDocumentsIndexed",
                "numberOfMetadataDocumentsModified",
                "numberOfDocumentsDeleted",
                "numberOfDocumentsFailed",
                "numberOfDocumentsSkipped",
            ),
            0,
        )
        reasons: list[str] = []
        indexed: dict[str, str] = {}
        for name, etag in sorted(now_there.items()):
            if name.endswith(_SIDECAR):
                stats["numberOfMetadataDocumentsScanned"] += 1
                if name[: -len(_SIDECAR)] in now_there:
                    indexed[name] = etag
                    if (
                        before.get(name) not in (None, etag)
                        and before.get(name[: -len(_SIDECAR)]) == now_there[name[: -len(_SIDECAR)]]
                    ):
                        stats["numberOfMetadataDocumentsModified"] += 1
                continue
            stats["numberOfDocumentsScanned"] += 1
            reason = self._failure_for(name)
            if reason is not None:
                stats["numberOfDocumentsFailed"] += 1
                reasons.append(
                    f"Encountered error: s3://{bucket}/{name} failed to ingest: {reason}"
                )
                continue
            if name not in before:
                stats["numberOfNewDocumentsIndexed"] += 1
            elif before[name] != etag:
                stats["numberOfModifiedDocumentsIndexed"] += 1
            indexed[name] = etag
        stats["numberOfDocumentsDeleted"] = sum(
            1 for name in before if not name.endswith(_SIDECAR) and name not in now_there
        )
        self.indexed[key] = indexed
        self.corpus[key] = {
            name: self._s3_document(bucket, name, now_there)
            for name in indexed
            if not name.endswith(_SIDECAR)
        }
        return stats, reasons

    def _s3_document(self, bucket: str, name: str, present: Mapping[str, str]) -> Document:
        text = self.s3.get_object(Bucket=bucket, Key=name)["Body"].read().decode()
        metadata: Mapping[str, Any] = {}
        if name + _SIDECAR in present:
            sidecar = self.s3.get_object(Bucket=bucket, Key=name + _SIDECAR)["Body"].read()
            metadata = json.loads(sidecar).get("metadataAttributes") or {}
        return Document(text, f"s3://{bucket}/{name}", metadata)

    def _failure_for(self, name: str) -> str | None:
        for pattern, reason in self.fail_documents.items():
            if pattern == name or name.rsplit("/", 1)[-1].startswith(pattern):
                return reason
        return None

    # -- custom documents

    def _ingest_documents(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        if source is None:
            return not_found("data source")
        store = self.documents[(source["knowledgeBaseId"], source["dataSourceId"])]
        details = []
        for entry in self.body(request).get("documents") or ():
            custom = entry["content"]["custom"]
            doc_id = custom["customDocumentIdentifier"]["id"]
            store[doc_id] = {
                "content": custom,
                "metadata": entry.get("metadata"),
                "status": "STARTING",
                "reads": 0,
                "updatedAt": now(),
                "goal": "INDEXED",
            }
            details.append(self._detail(source, doc_id, store[doc_id]))
        return Reply.json({"documentDetails": details}, status=202)

    def _delete_documents(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        if source is None:
            return not_found("data source")
        store = self.documents[(source["knowledgeBaseId"], source["dataSourceId"])]
        details = []
        for ident in self.body(request).get("documentIdentifiers") or ():
            doc_id = ident["custom"]["id"]
            record = store.get(doc_id)
            if record is None:
                record = {
                    "status": "NOT_FOUND",
                    "reads": 0,
                    "updatedAt": now(),
                    "goal": "NOT_FOUND",
                }
            else:
                record.update(status="DELETING", reads=0, goal="NOT_FOUND", updatedAt=now())
            details.append(self._detail(source, doc_id, record))
        return Reply.json({"documentDetails": details}, status=202)

    def _advance(self, store: dict[str, dict[str, Any]], doc_id: str) -> dict[str, Any]:
        record = store.get(doc_id) or {"status": "NOT_FOUND", "updatedAt": now()}
        if record.get("goal") is None or record["status"] in ("INDEXED", "FAILED", "NOT_FOUND"):
            return record
        record["reads"] += 1
        if record["reads"] <= self.document_steps:
            record["status"] = (
                "IN_PROGRESS" if record["goal"] == "INDEXED" else "DELETE_IN_PROGRESS"
            )
        elif record["goal"] == "NOT_FOUND":
            store.pop(doc_id, None)
            record = {"status": "NOT_FOUND", "updatedAt": now()}
        else:
            reason = self._failure_for(doc_id)
            record["status"] = "INDEXED" if reason is None else "FAILED"
            if reason is not None:
                record["statusReason"] = reason
        record["updatedAt"] = now()
        return record

    def _index_custom(self, key: tuple[str, str], doc_id: str, record: Mapping[str, Any]) -> None:
        corpus = self.corpus[key]
        inline = (record.get("content") or {}).get("inlineContent") or {}
        text = (inline.get("textContent") or {}).get("data")
        if record["status"] == "INDEXED" and isinstance(text, str):
            attributes = (record.get("metadata") or {}).get("inlineAttributes") or ()
            metadata = {a["key"]: _attribute_value(a["value"]) for a in attributes}
            corpus[doc_id] = Document(text, f"custom://{doc_id}", metadata)
        elif record["status"] in ("NOT_FOUND", "FAILED"):
            corpus.pop(doc_id, None)

    # -- retrieval over what was indexed

    def _retrieve(self, request: ReceivedRequest) -> Reply:
        kb_id = request.path_params.get("knowledgeBaseId", "")
        if kb_id not in self.knowledge_bases:
            return default_reply("Retrieve", request.body, self.server.answers, request.path_params)
        found = tuple(
            doc for (kb, _), docs in self.corpus.items() if kb == kb_id for doc in docs.values()
        )
        body = self.body(request)
        query = str((body.get("retrievalQuery") or {}).get("text") or "")
        search = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
        wanted = search.get("numberOfResults")
        limit = wanted if isinstance(wanted, int) and wanted > 0 else 5
        return Reply.json(retrieve_reply(*LocalRules(documents=found).search(query, limit)))

    def _get_documents(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        if source is None:
            return not_found("data source")
        store = self.documents[(source["knowledgeBaseId"], source["dataSourceId"])]
        details = []
        key = (source["knowledgeBaseId"], source["dataSourceId"])
        for ident in self.body(request).get("documentIdentifiers") or ():
            doc_id = ident["custom"]["id"]
            record = self._advance(store, doc_id)
            self._index_custom(key, doc_id, record)
            details.append(self._detail(source, doc_id, record))
        return Reply.json({"documentDetails": details})

    def _list_documents(self, request: ReceivedRequest) -> Reply:
        source = self._source(request)
        if source is None:
            return not_found("data source")
        store = self.documents[(source["knowledgeBaseId"], source["dataSourceId"])]
        body = self.body(request)
        names = sorted(store)
        start = int(body.get("nextToken") or 0)
        size = int(body.get("maxResults") or 1000)
        page = names[start : start + size]
        reply: dict[str, Any] = {
            "documentDetails": [self._detail(source, n, store[n]) for n in page]
        }
        if start + size < len(names):
            reply["nextToken"] = str(start + size)
        return Reply.json(reply)

    @staticmethod
    def _detail(
        source: Mapping[str, Any], doc_id: str, record: Mapping[str, Any]
    ) -> dict[str, Any]:
        detail = {
            "knowledgeBaseId": source["knowledgeBaseId"],
            "dataSourceId": source["dataSourceId"],
            "status": record["status"],
            "identifier": {"dataSourceType": "CUSTOM", "custom": {"id": doc_id}},
            "updatedAt": record["updatedAt"],
        }
        if record.get("statusReason"):
            detail["statusReason"] = record["statusReason"]
        return detail

    def document_text(self, knowledge_base_id: str, data_source_id: str, doc_id: str) -> str | None:
        """The inline text a custom document was ingested with (None if absent)."""
        record = self.documents[(knowledge_base_id, data_source_id)].get(doc_id)
        if record is None:
            return None
        inline = record["content"].get("inlineContent") or {}
        return (inline.get("textContent") or {}).get("data")

    def document_metadata(self, knowledge_base_id: str, data_source_id: str, doc_id: str) -> Any:
        """The metadata a custom document was ingested with, as sent."""
        record = self.documents[(knowledge_base_id, data_source_id)].get(doc_id)
        return json.loads(json.dumps(record["metadata"])) if record else None


def _attribute_value(value: Mapping[str, Any]) -> Any:
    """The plain value of a typed inline attribute (``{"type": "STRING", ...}``)."""
    for member in ("stringValue", "numberValue", "booleanValue", "stringListValue"):
        if member in value:
            return value[member]
    return None


def _public(job: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}
