"""Job states: every state Bedrock documents, per job and for a batch of jobs.

``ModelInvocationJobStatus`` (botocore's service model): Submitted, Validating, Scheduled,
InProgress, Stopping are on the way; Completed, PartiallyCompleted, Failed, Stopped,
Expired are final. A state outside this list is a typed error, never taken for either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_kit.errors import MalformedResponseError

__all__ = ["FINAL", "RUNNING", "BatchStatus", "JobStatus", "parse_job"]

RUNNING = ("Submitted", "Validating", "Scheduled", "InProgress", "Stopping")
"""States on the way, least advanced first."""
FINAL = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
"""Final states."""
WITH_OUTPUT = frozenset({"Completed", "PartiallyCompleted", "Stopped", "Expired"})
"""Final states after which Bedrock may have written output for processed records."""


@dataclass(frozen=True)
class JobStatus:
    """One model invocation job, as GetModelInvocationJob describes it."""

    job_arn: str
    """The job's ARN."""
    name: str
    """``jobName``."""
    state: str
    """One of :data:`RUNNING` or :data:`FINAL`."""
    model_id: str
    """The model the job runs."""
    message: str = ""
    """Bedrock's message (why it failed, for instance)."""
    total_records: int | None = None
    """Records in the job, once Bedrock counted them."""
    processed_records: int = 0
    """Records processed so far."""
    success_records: int = 0
    """Records answered so far."""
    error_records: int = 0
    """Records that failed so far."""
    input_uri: str = ""
    """The job's input folder or file."""
    output_uri: str = ""
    """The job's output folder."""

    @property
    def done(self) -> bool:
        """True in a final state."""
        return self.state in FINAL

    @property
    def job_id(self) -> str:
        """The last part of the ARN (Bedrock names the output folder after it)."""
        return self.job_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class BatchStatus:
    """The jobs of one batch, and their combined state."""

    jobs: tuple[JobStatus, ...]
    """One status per job, in job order."""

    @property
    def state(self) -> str:
        """The least advanced running state; once all are final, their common state, or
        ``PartiallyCompleted`` when they ended differently (``Completed`` for no jobs)."""
        running = [job.state for job in self.jobs if not job.done]
        if running:
            return min(running, key=RUNNING.index)
        ended = {job.state for job in self.jobs}
        if not ended:
            return "Completed"
        return ended.pop() if len(ended) == 1 else "PartiallyCompleted"

    @property
    def done(self) -> bool:
        """True when every job is final."""
        return all(job.done for job in self.jobs)

    @property
    def processed_records(self) -> int:
        """Records processed across jobs."""
        return sum(job.processed_records for job in self.jobs)

    def counts(self) -> dict[str, int]:
        """Jobs per state."""
        found: dict[str, int] = {}
        for job in self.jobs:
            found[job.state] = found.get(job.state, 0) + 1
        return found

    def describe(self) -> str:
        """``InProgress 2, Completed 1`` (for progress bars and logs)."""
        return ", ".join(f"{state} {count}" for state, count in self.counts().items())


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_job(response: Mapping[str, Any]) -> JobStatus:
    """A :class:`JobStatus` from a GetModelInvocationJob response (or a list summary).

    Raises:
        MalformedResponseError: no ARN, or a state Bedrock does not document.
    """
    arn = response.get("jobArn")
    state = response.get("status")
    if not isinstance(arn, str) or not arn:
        raise MalformedResponseError("model invocation job without jobArn", raw=repr(response))
    if state not in RUNNING and state not in FINAL:
        raise MalformedResponseError(
            f"job {arn} is in state {state!r}, which Bedrock does not document; expected one "
            f"of {RUNNING + FINAL}",
            raw=repr(state),
        )
    inputs = ((response.get("inputDataConfig") or {}).get("s3InputDataConfig") or {}).get("s3Uri")
    outputs = ((response.get("outputDataConfig") or {}).get("s3OutputDataConfig") or {}).get(
        "s3Uri"
    )
    return JobStatus(
        job_arn=arn,
        name=str(response.get("jobName") or ""),
        state=str(state),
        model_id=str(response.get("modelId") or ""),
        message=str(response.get("message") or ""),
        total_records=_count(response.get("totalRecordCount")),
        processed_records=_count(response.get("processedRecordCount")) or 0,
        success_records=_count(response.get("successRecordCount")) or 0,
        error_records=_count(response.get("errorRecordCount")) or 0,
        input_uri=str(inputs or ""),
        output_uri=str(outputs or ""),
    )
