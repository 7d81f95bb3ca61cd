"""Bedrock's batch inference control plane for :class:`LocalBedrock`, over a real S3 API.

:class:`LocalBatchJobs` answers CreateModelInvocationJob, GetModelInvocationJob,
StopModelInvocationJob and ListModelInvocationJobs on a LocalBedrock server. It reads each
job's JSONL input from S3 (moto's server mode in the tests, or any S3 endpoint), answers
every record, and writes ``<output>/<job id>/<input file>.out`` and ``manifest.json.out``
as Bedrock does. A job moves one state per GetModelInvocationJob poll (Submitted,
Validating, Scheduled, InProgress for as many polls as its records need, then its final
state), so tests see every state without waiting.

Faults are scripted per job with :class:`JobScript`: a job that fails validation, one that
partially completes (record errors), one that expires, malformed output lines; stopping is
StopModelInvocationJob itself.

Example:
    >>> jobs = LocalBatchJobs(server, s3_endpoint_url=moto_url).install()  # doctest: +SKIP
    >>> jobs.script(JobScript(record_errors={3: (400, "bad request")}))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.server import LocalBedrock, ReceivedRequest

__all__ = ["JobScript", "LocalBatchJobs", "RecordFailure", "echo_output"]

Outcome = Literal["completed", "failed", "expired"]
OPERATIONS = (
    "CreateModelInvocationJob",
    "GetModelInvocationJob",
    "StopModelInvocationJob",
    "ListModelInvocationJobs",
)


class RecordFailure(Exception):  # noqa: N818 - a scripted answer, not an error of the server
    """Raise from an answer function to make a record's output line an ``error``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class JobScript:
    """How the next created job behaves."""

    outcome: Outcome = "completed"
    """``completed`` (``PartiallyCompleted`` when a record fails), ``failed`` (at
    validation, with :attr:`message`) or ``expired`` (after :attr:`expire_after`)."""
    message: str = ""
    """The job's ``message`` when it fails or expires."""
    record_errors: Mapping[int, tuple[int, str]] = field(default_factory=dict)
    """Record position in the job -> ``(errorCode, errorMessage)``."""
    malformed: Sequence[int] = ()
    """Record positions whose output line is written cut short (recordId still readable)."""
    garbled: Sequence[int] = ()
    """Record positions whose output line is written as bytes with no recordId."""
    records_per_poll: int | None = None
    """Records processed per poll while InProgress (None: all in one poll)."""
    expire_after: int = 0
    """Records processed before an ``expired`` job expires."""
    no_manifest: bool = False
    """Write no ``manifest.json.out``."""
    reject: tuple[int, str, str] | None = None
    """``(status, errorCode, message)``: refuse the CreateModelInvocationJob itself."""


@dataclass
class _Job:
    arn: str
    name: str
    model_id: str
    role_arn: str
    token: str
    input_uri: str
    output_uri: str
    timeout_hours: int
    script: JobScript
    submitted: datetime
    state: str = "Submitted"
    history: list[str] = field(default_factory=lambda: ["Submitted"])
    message: str = ""
    ended: datetime | None = None
    files: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    lines: dict[int, str] = field(default_factory=dict)
    processed: int = 0
    errors: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0])

    @property
    def job_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def total(self) -> int:
        return sum(len(records) for _, records in self.files)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def echo_output(model_id: str, model_input: Mapping[str, Any]) -> dict[str, Any]:
    """The default answer: ``echo: <last text of the input>`` in the model's response body.

    Raises:
        RecordFailure: no response format is known for the model.
    """
    texts = [t for k, v in model_input.items() if k != "anthropic_version" for t in _texts(v)]
    answer = f"echo: {texts[-1] if texts else ''}"
    used, made = _tokens(" ".join(texts)), _tokens(answer)
    if "anthropic." in model_id:
        return {
            "id": f"msg_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": used, "output_tokens": made},
        }
    if "amazon.nova" in model_id:
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": used, "outputTokens": made, "totalTokens": used + made},
        }
    if "amazon.titan-text" in model_id:
        return {
            "inputTextTokenCount": used,
            "results": [{"tokenCount": made, "outputText": answer, "completionReason": "FINISH"}],
        }
    if "meta.llama" in model_id:
        return {
            "generation": answer,
            "prompt_token_count": used,
            "generation_token_count": made,
            "stop_reason": "stop",
        }
    raise RecordFailure(400, f"LocalBatchJobs has no default answer format for {model_id}")


Answer = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]
"""``(model_id, modelInput) -> modelOutput``; raise :class:`RecordFailure` for an error."""


class LocalBatchJobs:
    """Model invocation jobs served by a LocalBedrock, reading and writing a real S3.

    Args:
        server: The LocalBedrock to serve the four job operations on.
        s3_endpoint_url: The S3 API jobs read input from and write output to.
        answer: Makes each record's ``modelOutput`` (default :func:`echo_output`).
        min_records: Records a job needs to pass validation (Bedrock's quota: 100).
        region: Region in job ARNs.
        account: Account in job ARNs.
    """

    def __init__(
        self,
        server: LocalBedrock,
        *,
        s3_endpoint_url: str,
        answer: Answer = echo_output,
        min_records: int = 100,
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        import boto3

        self.server = server
        self.answer = answer
        self.min_records = min_records
        self.region = region
        self.account = account
        self._s3 = boto3.client(
            "s3",
            endpoint_url=s3_endpoint_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # moto's fixed test credentials
        )
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._scripts: deque[JobScript] = deque()

    def install(self) -> LocalBatchJobs:
        """Answer the job operations on the server; returns self."""
        handlers = {
            "CreateModelInvocationJob": self._create,
            "GetModelInvocationJob": self._get,
            "StopModelInvocationJob": self._stop,
            "ListModelInvocationJobs": self._list,
        }
        for operation, handler in handlers.items():
            self.server.set_default(operation, handler)
        return self

    def script(self, *scripts: JobScript) -> None:
        """Queue how the next created jobs behave (one script per job, in order)."""
        with self._lock:
            self._scripts.extend(scripts)

    @property
    def jobs(self) -> list[str]:
        """ARNs of the jobs created, in creation order."""
        with self._lock:
            return list(self._jobs)

    def state(self, arn: str) -> str:
        """A job's state, without advancing it."""
        with self._lock:
            return self._jobs[arn].state

    def history(self, arn: str) -> list[str]:
        """Every state a job has been in, in order."""
        with self._lock:
            return list(self._jobs[arn].history)

    # -- operations

    def _find(self, request: ReceivedRequest) -> _Job | Reply:
        ident = request.path_params.get("jobIdentifier", "")
        for arn, job in self._jobs.items():
            if ident in (arn, job.job_id):
                return job
        return Reply.error(404, "ResourceNotFoundException", f"no job {ident!r}")

    def _create(self, request: ReceivedRequest) -> Reply:
        body = request.body if isinstance(request.body, Mapping) else {}
        try:
            input_uri = body["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
            output_uri = body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
            name, model_id, role = body["jobName"], body["modelId"], body["roleArn"]
        except (KeyError, TypeError) as exc:
            return Reply.error(400, "ValidationException", f"missing parameter {exc}")
        token = str(body.get("clientRequestToken") or "")
        with self._lock:
            for job in self._jobs.values():
                if token and job.token == token:  # idempotent retry: the same job
                    return Reply.json({"jobArn": job.arn})
            if any(job.name == name for job in self._jobs.values()):
                return Reply.error(409, "ConflictException", f"a job named {name} exists")
            script = self._scripts.popleft() if self._scripts else JobScript()
            if script.reject is not None:
                return Reply.error(*script.reject)
            job_id = uuid.uuid4().hex[:12]
            arn = f"arn:aws:bedrock:{self.region}:{self.account}:model-invocation-job/{job_id}"
            self._jobs[arn] = _Job(
                arn=arn,
                name=name,
                model_id=model_id,
                role_arn=role,
                token=token,
                input_uri=input_uri,
                output_uri=output_uri,
                timeout_hours=int(body.get("timeoutDurationInHours") or 24),
                script=script,
                submitted=datetime.now(timezone.utc),
            )
        return Reply.json({"jobArn": arn})

    def _get(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            job = self._find(request)
            if isinstance(job, Reply):
                return job
            self._advance(job)
            return Reply.json(self._describe(job))

    def _stop(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            job = self._find(request)
            if isinstance(job, Reply):
                return job
            if job.state not in ("Submitted", "Validating", "Scheduled", "InProgress"):
                return Reply.error(
                    400, "ValidationException", f"job {job.arn} is {job.state}; cannot stop it"
                )
            self._enter(job, "Stopping")
            return Reply.json({})

    def _list(self, request: ReceivedRequest) -> Reply:
        query = request.query or {}
        wanted = (query.get("statusEquals") or [""])[0] or None
        contains = (query.get("nameContains") or [""])[0]
        size = int((query.get("maxResults") or ["1000"])[0])
        start = int((query.get("nextToken") or ["0"])[0])
        with self._lock:
            jobs = [
                self._describe(job)
                for job in sorted(self._jobs.values(), key=lambda j: j.submitted, reverse=True)
                if (wanted is None or job.state == wanted) and contains in job.name
            ]
        page: dict[str, Any] = {"invocationJobSummaries": jobs[start : start + size]}
        if start + size < len(jobs):
            page["nextToken"] = str(start + size)
        return Reply.json(page)

    # -- the state machine (one step per poll)

    def _advance(self, job: _Job) -> None:
        step = {
            "Submitted": lambda: self._enter(job, "Validating"),
            "Validating": lambda: self._validate(job),
            "Scheduled": lambda: self._enter(job, "InProgress"),
            "InProgress": lambda: self._work(job),
            "Stopping": lambda: self._finish(job, "Stopped", "Stopped by request"),
        }.get(job.state)
        if step is not None:
            step()

    def _read_inputs(self, job: _Job) -> None:
        bucket, _, prefix = job.input_uri[5:].partition("/")
        if prefix.endswith(".jsonl"):
            keys = [prefix]
        else:
            listed = self._s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents") or ()
            keys = sorted(item["Key"] for item in listed if item["Key"].endswith(".jsonl"))
        for key in keys:
            text = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
            job.files.append((key.rsplit("/", 1)[-1], records))

    def _validate(self, job: _Job) -> None:
        if job.script.outcome == "failed":
            self._finish(job, "Failed", job.script.message or "Validation failed")
            return
        try:
            self._read_inputs(job)
        except Exception as exc:
            self._finish(job, "Failed", f"could not read the input: {exc}")
            return
        if job.total < self.min_records:
            self._finish(
                job,
                "Failed",
                f"The job has {job.total} records; the minimum is {self.min_records}",
            )
            return
        self._enter(job, "Scheduled")

    def _enter(self, job: _Job, state: str) -> None:
        job.state = state
        job.history.append(state)

    def _records(self, job: _Job) -> list[tuple[int, str, dict[str, Any]]]:
        pairs = [(name, record) for name, records in job.files for record in records]
        return [(position, name, record) for position, (name, record) in enumerate(pairs)]

    def _work(self, job: _Job) -> None:
        script = job.script
        records = self._records(job)
        todo = records[job.processed : job.processed + (script.records_per_poll or len(records))]
        for position, _, record in todo:
            if script.outcome == "expired" and job.processed >= script.expire_after:
                self._finish(job, "Expired", script.message or "The job timed out")
                return
            job.lines[position] = self._line(job, position, record)
            job.processed += 1
        if job.processed < len(records):
            return
        if script.outcome == "expired":
            self._finish(job, "Expired", script.message or "The job timed out")
        elif job.errors:
            self._finish(job, "PartiallyCompleted", f"{job.errors} records failed")
        else:
            self._finish(job, "Completed", "")

    def _line(self, job: _Job, position: int, record: Mapping[str, Any]) -> str:
        script = job.script
        out: dict[str, Any] = {
            "recordId": record.get("recordId"),
            "modelInput": record["modelInput"],
        }
        failure = script.record_errors.get(position)
        try:
            if failure is not None:
                raise RecordFailure(*failure)
            output = dict(self.answer(job.model_id, record["modelInput"]))
            out["modelOutput"] = output
            usage = _usage_of(output)
            job.tokens[0] += usage[0]
            job.tokens[1] += usage[1]
        except RecordFailure as fail:
            out["error"] = {"errorCode": fail.code, "errorMessage": fail.message}
            job.errors += 1
        text = json.dumps(out)
        if position in script.malformed:
            return text[: len(text) // 2]
        if position in script.garbled:
            return "\x00not json at all"
        return text

    def _finish(self, job: _Job, state: str, message: str) -> None:
        self._enter(job, state)
        job.message = message
        job.ended = datetime.now(timezone.utc)
        if state == "Failed":
            return
        bucket, _, prefix = job.output_uri[5:].partition("/")
        folder = f"{prefix}{'' if not prefix or prefix.endswith('/') else '/'}{job.job_id}/"
        position = 0
        for name, records in job.files:
            lines = [
                job.lines[p] for p in range(position, position + len(records)) if p in job.lines
            ]
            position += len(records)
            body = ("\n".join(lines) + "\n").encode() if lines else b""
            self._s3.put_object(Bucket=bucket, Key=f"{folder}{name}.out", Body=body)
        if not job.script.no_manifest:
            manifest = {
                "totalRecordCount": job.total,
                "processedRecordCount": job.processed,
                "successRecordCount": job.processed - job.errors,
                "errorRecordCount": job.errors,
                "inputTokenCount": job.tokens[0],
                "outputTokenCount": job.tokens[1],
            }
            self._s3.put_object(
                Bucket=bucket, Key=f"{folder}manifest.json.out", Body=json.dumps(manifest).encode()
            )

    def _describe(self, job: _Job) -> dict[str, Any]:
        described: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "modelId": job.model_id,
            "clientRequestToken": job.token,
            "roleArn": job.role_arn,
            "status": job.state,
            "submitTime": _iso(job.submitted),
            "lastModifiedTime": _iso(job.ended or job.submitted),
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": job.input_uri}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": job.output_uri}},
            "timeoutDurationInHours": job.timeout_hours,
            "processedRecordCount": job.processed,
            "successRecordCount": job.processed - job.errors,
            "errorRecordCount": job.errors,
        }
        if job.files:
            described["totalRecordCount"] = job.total
        if job.message:
            described["message"] = job.message
        if job.ended is not None:
            described["endTime"] = _iso(job.ended)
        return described


def _usage_of(output: Mapping[str, Any]) -> tuple[int, int]:
    usage = output.get("usage") or {}
    if "input_tokens" in usage:
        return int(usage["input_tokens"]), int(usage.get("output_tokens") or 0)
    if "inputTokens" in usage:
        return int(usage["inputTokens"]), int(usage.get("outputTokens") or 0)
    if "inputTextTokenCount" in output:
        results = output.get("results") or [{}]
        return int(output["inputTextTokenCount"]), int(results[0].get("tokenCount") or 0)
    if "prompt_token_count" in output:
        return int(output["prompt_token_count"]), int(output.get("generation_token_count") or 0)
    return 0, 0
