"""Batch records: JSONL lines in the model's InvokeModel body format, split by the job quotas.

A record is ``{"recordId": ..., "modelInput": <the InvokeModel body>}`` (Bedrock's
"Format and upload your batch inference data"). Record ids are the input's position,
zero-padded to 11 digits (the documented "11 character alphanumeric string"): the same
inputs always get the same ids, and sorting ids restores input order across jobs.

The per-job quotas (Amazon Bedrock service quotas, defaults for most models, 2025):

=========================================================  =========
Minimum number of records per batch inference job          100
Records per batch inference job                            50,000
Records per input file per batch inference job             50,000
Batch inference input file size                            1 GB
Batch inference job size (all input files)                 5 GB
=========================================================  =========

Some are set per model and adjustable (Llama 4 Scout's minimum is 50; Nova Lite and Pro
take larger jobs): pass :class:`BatchQuotas` with your account's values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.chat.invoke import InvokeInput, build_invoke_request
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "BatchQuotas",
    "JobPlan",
    "Record",
    "build_records",
    "file_name",
    "parse_file_name",
    "plan_jobs",
    "record_id",
]

_ID_DIGITS = 11
_FILE_NAME = re.compile(r"records-(\d{11})-(\d{11})\.jsonl$")


@dataclass(frozen=True)
class BatchQuotas:
    """Per-job quotas of batch inference (defaults: the documented ones for most models)."""

    min_records: int = 100
    """Minimum number of records per batch inference job."""
    max_records: int = 50_000
    """Records per batch inference job."""
    max_records_per_file: int = 50_000
    """Records per input file per batch inference job."""
    max_file_bytes: int = 1_000_000_000
    """Batch inference input file size (1 GB)."""
    max_job_bytes: int = 5_000_000_000
    """Batch inference job size, all input files together (5 GB)."""

    def __post_init__(self) -> None:
        for name in ("min_records", "max_records", "max_records_per_file"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.min_records > self.max_records:
            raise ConfigurationError("min_records cannot exceed max_records")
        if self.max_file_bytes < 1 or self.max_job_bytes < self.max_file_bytes:
            raise ConfigurationError("need 1 <= max_file_bytes <= max_job_bytes")


@dataclass(frozen=True)
class Record:
    """One JSONL line of an input file."""

    index: int
    """Position in the batch's inputs."""
    record_id: str
    """``recordId``: the index, zero-padded."""
    line: bytes
    """The encoded line, newline included."""


@dataclass(frozen=True)
class JobPlan:
    """One model invocation job of a batch: its records, in input files."""

    part: int
    """Job number within the batch (0-based)."""
    files: tuple[tuple[Record, ...], ...]
    """Input files, each a run of consecutive records."""

    @property
    def records(self) -> int:
        """Records in the job."""
        return sum(len(f) for f in self.files)

    @property
    def first(self) -> int:
        """Index of the job's first record."""
        return self.files[0][0].index

    @property
    def last(self) -> int:
        """Index of the job's last record."""
        return self.files[-1][-1].index


def record_id(index: int) -> str:
    """The ``recordId`` of the input at ``index``."""
    return f"{index:0{_ID_DIGITS}d}"


def file_name(records: Sequence[Record]) -> str:
    """Input file name for a run of records: it names their index range."""
    return f"records-{records[0].index:0{_ID_DIGITS}d}-{records[-1].index:0{_ID_DIGITS}d}.jsonl"


def parse_file_name(name: str) -> range | None:
    """The index range an input file name made by :func:`file_name` holds, else None."""
    found = _FILE_NAME.search(name)
    if found is None:
        return None
    return range(int(found.group(1)), int(found.group(2)) + 1)


def model_input(model_id: str, item: InvokeInput | Mapping[str, Any]) -> dict[str, Any]:
    """The ``modelInput`` of one input: a codec-built body, or a body given as a dict."""
    if isinstance(item, InvokeInput):
        request = build_invoke_request(model_id, item)
        body: dict[str, Any] = json.loads(request["body"])
        return body
    if isinstance(item, Mapping):
        return dict(item)
    raise ConfigurationError(
        f"batch inputs must be InvokeInput or InvokeModel body dicts, got {type(item).__name__}"
    )


def build_records(model_id: str, inputs: Sequence[InvokeInput | Mapping[str, Any]]) -> list[Record]:
    """Encode every input as a JSONL record (bad input fails here, before any upload)."""
    records = []
    for index, item in enumerate(inputs):
        line = {"recordId": record_id(index), "modelInput": model_input(model_id, item)}
        encoded = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        records.append(Record(index, record_id(index), encoded))
    return records


def _chunks(records: Sequence[Record], quotas: BatchQuotas) -> Iterator[list[Record]]:
    """Consecutive runs of records within one job's record and byte limits."""
    run: list[Record] = []
    size = 0
    for record in records:
        if len(record.line) > quotas.max_file_bytes:
            raise ConfigurationError(
                f"record {record.record_id} is {len(record.line):,} bytes, over the "
                f"{quotas.max_file_bytes:,}-byte input file quota"
            )
        if run and (
            len(run) >= quotas.max_records or size + len(record.line) > quotas.max_job_bytes
        ):
            yield run
            run, size = [], 0
        run.append(record)
        size += len(record.line)
    if run:
        yield run


def _balance(jobs: list[list[Record]], quotas: BatchQuotas) -> list[list[Record]]:
    """Move records from the previous job into a last job below the minimum."""
    if len(jobs) < 2 or len(jobs[-1]) >= quotas.min_records:
        return jobs
    last, before = jobs[-1], jobs[-2]
    wanted = quotas.min_records - len(last)
    if len(before) - wanted < quotas.min_records:
        raise ConfigurationError(
            f"cannot split {sum(map(len, jobs))} records into jobs of at least "
            f"{quotas.min_records} within the size quota; raise max_job_bytes or group inputs"
        )
    moved, kept = before[-wanted:], before[:-wanted]
    if sum(len(r.line) for r in moved + last) > quotas.max_job_bytes:
        raise ConfigurationError(
            f"the last job needs {quotas.min_records} records but they pass the "
            f"{quotas.max_job_bytes:,}-byte job quota"
        )
    return [*jobs[:-2], kept, moved + last]


def _files(records: list[Record], quotas: BatchQuotas) -> tuple[tuple[Record, ...], ...]:
    files: list[tuple[Record, ...]] = []
    run: list[Record] = []
    size = 0
    for record in records:
        full = len(run) >= quotas.max_records_per_file
        if run and (full or size + len(record.line) > quotas.max_file_bytes):
            files.append(tuple(run))
            run, size = [], 0
        run.append(record)
        size += len(record.line)
    files.append(tuple(run))
    return tuple(files)


def plan_jobs(records: Sequence[Record], quotas: BatchQuotas) -> list[JobPlan]:
    """Split records into jobs (record and size quotas) and each job into input files.

    Raises:
        ConfigurationError: fewer records than ``quotas.min_records`` (the caller decides
            whether to refuse or run them online), or a split that cannot respect every
            quota.
    """
    if len(records) < quotas.min_records:
        raise ConfigurationError(
            f"{len(records)} inputs are below the batch inference minimum of "
            f"{quotas.min_records} records per job"
        )
    jobs = _balance(list(_chunks(records, quotas)), quotas)
    return [JobPlan(part, _files(job, quotas)) for part, job in enumerate(jobs)]
