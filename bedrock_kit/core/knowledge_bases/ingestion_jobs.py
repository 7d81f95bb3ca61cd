"""Ingestion jobs, typed: statistics, status, the outcome check and the progress display.

Pure parts of :mod:`bedrock_kit.core.knowledge_bases.ingestion`: GetIngestionJob responses
become :class:`IngestionJobStatus`, :func:`job_outcome` raises the typed error of a job that
failed or left documents out, and :class:`JobProgress` shows a job on a tqdm bar.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bedrock_kit.core.knowledge_bases.documents import DocumentStatus
from bedrock_kit.errors import IngestionJobError, MalformedResponseError

__all__ = [
    "IngestionJobStatus",
    "IngestionReport",
    "IngestionStatistics",
    "JobProgress",
    "job_outcome",
    "parse_job",
]

_JOB_DONE = frozenset({"COMPLETE", "FAILED", "STOPPED"})

_STATISTICS = {
    "scanned": "numberOfDocumentsScanned",
    "metadata_scanned": "numberOfMetadataDocumentsScanned",
    "new_indexed": "numberOfNewDocumentsIndexed",
    "modified_indexed": "numberOfModifiedDocumentsIndexed",
    "metadata_modified": "numberOfMetadataDocumentsModified",
    "deleted": "numberOfDocumentsDeleted",
    "failed": "numberOfDocumentsFailed",
    "skipped": "numberOfDocumentsSkipped",
}


@dataclass(frozen=True)
class IngestionStatistics:
    """An ingestion job's ``statistics``."""

    scanned: int = 0
    """Documents scanned."""
    metadata_scanned: int = 0
    """Metadata files scanned."""
    new_indexed: int = 0
    """New documents indexed."""
    modified_indexed: int = 0
    """Changed documents indexed again."""
    metadata_modified: int = 0
    """Documents whose metadata alone changed."""
    deleted: int = 0
    """Documents removed from the index."""
    failed: int = 0
    """Documents that failed (see the job's failure reasons)."""
    skipped: int = 0
    """Documents skipped."""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any] | None) -> IngestionStatistics:
        """From the ``statistics`` object (missing counters are 0)."""
        wire = wire or {}
        return cls(**{name: int(wire.get(key) or 0) for name, key in _STATISTICS.items()})

    def as_wire(self) -> dict[str, int]:
        """Back in Bedrock's names."""
        return {key: getattr(self, name) for name, key in _STATISTICS.items()}


@dataclass(frozen=True)
class IngestionJobStatus:
    """An ingestion job as GetIngestionJob / StartIngestionJob returned it."""

    job_id: str
    """``ingestionJobId``."""
    knowledge_base_id: str
    """The Knowledge Base."""
    data_source_id: str
    """The data source."""
    status: str
    """``STARTING``, ``IN_PROGRESS``, ``COMPLETE``, ``FAILED``, ``STOPPING``, ``STOPPED``."""
    statistics: IngestionStatistics = field(default_factory=IngestionStatistics)
    """What the job did so far."""
    failure_reasons: tuple[str, ...] = ()
    """``failureReasons`` (they name the documents that failed)."""
    started_at: datetime | None = None
    """``startedAt``."""
    updated_at: datetime | None = None
    """``updatedAt``."""

    @property
    def done(self) -> bool:
        """True once the job ended (COMPLETE, FAILED or STOPPED)."""
        return self.status in _JOB_DONE


def parse_job(response: Mapping[str, Any]) -> IngestionJobStatus:
    """Typed ``ingestionJob`` of a Start/GetIngestionJob response.

    Raises:
        MalformedResponseError: The job lacks its ids or status.
    """
    job = response.get("ingestionJob")
    if not isinstance(job, Mapping):
        raise MalformedResponseError("ingestion job response has no ingestionJob object")
    try:
        started, updated = job.get("startedAt"), job.get("updatedAt")
        return IngestionJobStatus(
            job_id=str(job["ingestionJobId"]),
            knowledge_base_id=str(job["knowledgeBaseId"]),
            data_source_id=str(job["dataSourceId"]),
            status=str(job["status"]),
            statistics=IngestionStatistics.from_wire(job.get("statistics")),
            failure_reasons=tuple(str(r) for r in job.get("failureReasons") or ()),
            started_at=started if isinstance(started, datetime) else None,
            updated_at=updated if isinstance(updated, datetime) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponseError(f"ingestionJob lacks {exc} or has a bad counter") from exc


def job_outcome(job: IngestionJobStatus, *, allow_failed_documents: bool = False) -> None:
    """Raise the typed error of a job that failed, stopped, or left documents out.

    Raises:
        IngestionJobError: FAILED or STOPPED, or COMPLETE with failed documents (unless
            ``allow_failed_documents``).
    """
    failed_docs = job.statistics.failed and not allow_failed_documents
    if job.status in ("FAILED", "STOPPED") or (job.status == "COMPLETE" and failed_docs):
        what = (
            f"{job.statistics.failed} document(s) failed"
            if job.status == "COMPLETE"
            else job.status.lower()
        )
        reasons = "; ".join(job.failure_reasons[:5]) or "Bedrock gave no reason"
        raise IngestionJobError(
            f"ingestion job {job.job_id} of data source {job.data_source_id} {what}: {reasons}",
            job_id=job.job_id,
            knowledge_base_id=job.knowledge_base_id,
            data_source_id=job.data_source_id,
            status=job.status,
            failure_reasons=job.failure_reasons,
            statistics=job.statistics.as_wire(),
        )


class JobProgress:
    """Job status and statistics on a tqdm bar (stderr lines when tqdm is missing)."""

    def __init__(self, enabled: bool, job_id: str, expected: int | None) -> None:
        self.history: list[str] = []
        """Every distinct status line seen, in order."""
        self.enabled = enabled
        self.bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=expected, desc=f"ingestion {job_id}", unit="doc")

    def update(self, job: IngestionJobStatus) -> None:
        stats = job.statistics
        line = (
            f"{job.status} scanned={stats.scanned} indexed={stats.new_indexed} "
            f"modified={stats.modified_indexed} deleted={stats.deleted} failed={stats.failed}"
        )
        if self.history and self.history[-1] == line:
            return
        self.history.append(line)
        if self.bar is not None:
            done = stats.new_indexed + stats.modified_indexed + stats.failed + stats.skipped
            if self.bar.total is None or stats.scanned > self.bar.total:
                self.bar.total = stats.scanned or None
            self.bar.n = done
            self.bar.set_postfix_str(line, refresh=True)
        elif self.enabled:
            print(f"ingestion {job.job_id}: {line}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass(frozen=True)
class IngestionReport:
    """What :meth:`KnowledgeBaseIngestion.add_documents` / ``delete_documents`` did."""

    document_ids: tuple[str, ...]
    """The ids of the documents, in the order given (stable across re-runs)."""
    uploaded: int = 0
    """S3 data sources: documents uploaded (new or changed)."""
    unchanged: int = 0
    """S3 data sources: documents already in S3 with the same content and metadata."""
    job: IngestionJobStatus | None = None
    """S3 data sources: the ingestion job's last status."""
    documents: tuple[DocumentStatus, ...] = ()
    """Custom data sources: each document's last status."""
