"""``BedrockBatchJob``: chat inputs run as Bedrock batch inference jobs, and their handle.

Usage::

    job = BedrockBatchJob.submit(
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        [InvokeInput([Message("user", [TextBlock(t)])]) for t in tickets],
        s3_uri="s3://my-bucket/batches/",
        role_arn="arn:aws:iam::123456789012:role/BedrockBatch",
    )
    job.wait(progress=True)          # or: await job.async_wait()
    answers = job.results()          # input order: ConverseResult or a typed error each
    print(job.cost())                # batch rate, next to the on-demand price

Submitting writes the records as JSONL (one input file per run of records, named by its
record range) under ``<s3_uri><batch id>/input/part-NNN/``, splits them into as many
CreateModelInvocationJob calls as the per-job quotas require (:mod:`.records`), and asks
Bedrock to write under ``<output>/<batch id>/output/part-NNN/``. Below the per-job minimum
it refuses (:class:`~bedrock_kit.errors.BatchJobError`) unless ``below_minimum="online"``,
which sends each record as an InvokeModel call instead (at the on-demand price).

:meth:`BedrockBatchJob.attach` rebuilds the handle from job ARNs after a restart: every
fact it needs (model, S3 locations, record ranges) is read back from Bedrock and S3. Every
method has a native async form (``a`` prefix; ``async_wait``) sharing its implementation.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from bedrock_kit.core.batch import billing
from bedrock_kit.core.batch import outputs as out
from bedrock_kit.core.batch._io import (
    Call,
    Flow,
    Invoke,
    Io,
    List,
    Many,
    Put,
    Read,
    Sleep,
    arun,
    run,
)
from bedrock_kit.core.batch.records import (
    BatchQuotas,
    JobPlan,
    build_records,
    file_name,
    parse_file_name,
    plan_jobs,
    record_id,
)
from bedrock_kit.core.batch.status import WITH_OUTPUT, BatchStatus, JobStatus, parse_job
from bedrock_kit.core.budget.ledger import Reservation
from bedrock_kit.core.budget.pricing import PriceTable
from bedrock_kit.core.chat.invoke import InvokeInput
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.types import ConverseResult
from bedrock_kit.core.progress import progress_bar
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.errors import (
    BatchJobError,
    BedrockKitError,
    BedrockValidationError,
    ConfigurationError,
    MalformedResponseError,
)

__all__ = ["BedrockBatchJob", "parse_s3_uri"]

BelowMinimum = Literal["error", "online"]
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.]){0,40}$")
_ROLE = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix/")`` (folder form).

    Raises:
        ConfigurationError: not an ``s3://bucket[/prefix]`` URI.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= 5:
        raise ConfigurationError(f"expected an s3://bucket/prefix URI, got {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ConfigurationError(f"no bucket in {uri!r}")
    return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _split_object_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _invoke_request(model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "body": json.dumps(body).encode(),
        "contentType": "application/json",
        "accept": "application/json",
    }


class BedrockBatchJob:
    """A batch of chat inputs running as one or more model invocation jobs.

    Build it with :meth:`submit` (or :meth:`asubmit`) or :meth:`attach`; the constructor
    is the plumbing both share.
    """

    def __init__(
        self,
        model_id: str,
        job_arns: Sequence[str],
        io: Io,
        *,
        prices: PriceTable | None = None,
        online: Sequence[out.Outcome] | None = None,
    ) -> None:
        self.model_id = model_id
        """The model every record runs on."""
        self.job_arns = tuple(job_arns)
        """The model invocation jobs, in record order."""
        self.prices = prices
        """Price table for :meth:`cost` (the packaged one when None)."""
        self.online = online is not None
        """True when the inputs ran as online calls (below the per-job minimum)."""
        self._io = io
        self._online = list(online) if online is not None else None
        self.reservation: Reservation | None = None
        """The ledger's hold on the batch's worst case (``ledger=``), settled at the end."""
        self._book: Any = None  # attach(ledger=) with no hold to settle: book the bill there

    # ------------------------------------------------------------------ building

    @staticmethod
    def _clients(
        settings: ClientSettings | None,
        s3_settings: ClientSettings | None,
        clients: Mapping[str, Any],
        runtime: ConverseRuntime | None = None,
    ) -> Io:
        base = settings or ClientSettings()
        bedrock = ClientPool(
            base, "bedrock", client=clients.get("client"), async_client=clients.get("async_client")
        )
        s3 = ClientPool(
            s3_settings or base,
            "s3",
            client=clients.get("s3_client"),
            async_client=clients.get("async_s3_client"),
        )
        return Io(bedrock, s3, runtime)

    @classmethod
    def _prepare(
        cls,
        model_id: str,
        inputs: Sequence[InvokeInput | Mapping[str, Any]],
        kwargs: dict[str, Any],
    ) -> tuple[BedrockBatchJob, Flow[Any]]:
        options = dict(kwargs)
        s3_uri = options.pop("s3_uri")
        role_arn = options.pop("role_arn")
        output_uri = options.pop("output_s3_uri", None) or s3_uri
        name = options.pop("name", None) or "bedrock-kit"
        quotas = options.pop("quotas", None) or BatchQuotas()
        below = options.pop("below_minimum", "error")
        timeout_hours = options.pop("timeout_hours", None)
        tags = options.pop("tags", None)
        prices = options.pop("prices", None)
        runtime = options.pop("runtime", None)
        settings = options.pop("settings", None)
        s3_settings = options.pop("s3_settings", None)
        ledger = billing.check_ledger(options.pop("ledger", None), model_id)
        default_max = options.pop("default_max_tokens", billing.DEFAULT_MAX_TOKENS)
        clients = {
            key: options.pop(key, None)
            for key in ("client", "async_client", "s3_client", "async_s3_client")
        }
        if options:
            raise ConfigurationError(
                f"BedrockBatchJob.submit got unknown arguments {sorted(options)}"
            )
        if isinstance(default_max, bool) or not isinstance(default_max, int) or default_max < 1:
            raise ConfigurationError(
                f"default_max_tokens must be an int >= 1, got {default_max!r}", model_id=model_id
            )
        if below not in ("error", "online"):
            raise ConfigurationError(f"below_minimum must be 'error' or 'online', got {below!r}")
        if not isinstance(role_arn, str) or not _ROLE.match(role_arn):
            raise ConfigurationError(f"role_arn must be an IAM role ARN, got {role_arn!r}")
        if not _NAME.match(name):
            raise ConfigurationError(
                f"name {name!r} must be letters, digits and dashes (at most 41 characters)"
            )
        if timeout_hours is not None and not 24 <= timeout_hours <= 168:
            raise ConfigurationError(f"timeout_hours must be 24..168, got {timeout_hours!r}")
        bucket, prefix = parse_s3_uri(s3_uri)
        out_bucket, out_prefix = parse_s3_uri(output_uri)
        records = build_records(model_id, inputs)
        if len(records) < quotas.min_records and below == "online":
            runtime = runtime or ConverseRuntime(settings or ClientSettings())
            io = cls._clients(settings, s3_settings, clients, runtime)
            job = cls(model_id, (), io, prices=prices, online=())
            bodies = [json.loads(r.line)["modelInput"] for r in records]
            if ledger is not None:
                job.reservation = billing.reserve_batch(
                    ledger, model_id, bodies, online=True, default_max_tokens=default_max
                )
            return job, job._online_flow(bodies)
        if len(records) < quotas.min_records:
            raise BatchJobError(
                f"{len(records)} inputs are below the minimum of {quotas.min_records} records "
                "per batch inference job; pass below_minimum='online' to send them as online "
                "calls, or batch more inputs",
                model_id=model_id,
            )
        plan = plan_jobs(records, quotas)
        io = cls._clients(settings, s3_settings, clients, runtime)
        job = cls(model_id, (), io, prices=prices)
        batch = uuid.uuid4().hex[:12]
        if ledger is not None:  # the whole batch's worst case, before any upload
            bodies = [json.loads(r.line)["modelInput"] for r in records]
            job.reservation = billing.reserve_batch(
                ledger,
                model_id,
                bodies,
                default_max_tokens=default_max,
                hold_id=billing.hold_id(batch),
                lease_seconds=billing.lease_seconds(timeout_hours),
            )
        layout = {
            "bucket": bucket,
            "input": f"{prefix}{batch}/input/",
            "out_bucket": out_bucket,
            "output": f"{out_prefix}{batch}/output/",
            "name": f"{name}-{batch}",
            "role_arn": role_arn,
            "token": batch,
            "timeout_hours": timeout_hours,
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        }
        return job, job._submit_flow(plan, layout)

    @classmethod
    def submit(
        cls, model_id: str, inputs: Sequence[InvokeInput | Mapping[str, Any]], **kwargs: Any
    ) -> BedrockBatchJob:
        """Write ``inputs`` to S3 and start the model invocation jobs they need.

        Args:
            model_id: Model id or inference profile id every record runs on.
            inputs: Neutral chat inputs (:class:`InvokeInput`), or InvokeModel body dicts.
            **kwargs: ``s3_uri`` and ``role_arn`` (required); ``output_s3_uri``, ``name``,
                ``quotas`` (:class:`BatchQuotas`), ``below_minimum`` (``"error"`` or
                ``"online"``), ``timeout_hours`` (24-168), ``tags``, ``prices``;
                ``ledger`` (a :class:`~bedrock_kit.core.budget.ledger.Ledger`: the whole
                batch's worst case is reserved before anything is sent and settled when
                the job ends, see :mod:`.billing`) and ``default_max_tokens`` (reserved
                for a record whose body sets no max tokens, default 4096);
                clients: ``settings``, ``s3_settings``, ``client``, ``async_client``,
                ``s3_client``, ``async_s3_client``, ``runtime`` (the online fallback).

        Raises:
            ConfigurationError: bad arguments or inputs, before anything is written.
            BatchJobError: below the minimum without the online fallback, or a job that
                could not be created (the ARNs of those created are in the message).
            BudgetExceededError: the batch's worst case does not fit the ledger.
        """
        job, flow = cls._prepare(model_id, inputs, kwargs)
        try:
            started = run(flow, job._io)
        except BaseException as exc:
            job._failed(exc)
            raise
        job._started(started)
        return job

    @classmethod
    async def asubmit(
        cls, model_id: str, inputs: Sequence[InvokeInput | Mapping[str, Any]], **kwargs: Any
    ) -> BedrockBatchJob:
        """Async :meth:`submit`."""
        job, flow = cls._prepare(model_id, inputs, kwargs)
        try:
            started = await arun(flow, job._io)
        except BaseException as exc:
            job._failed(exc)
            raise
        job._started(started)
        return job

    def _started(self, arns: Sequence[str] | Sequence[out.Outcome]) -> None:
        if self._online is not None:
            self._online = list(arns)  # type: ignore[arg-type]
            if self.reservation is not None:  # online calls: settled to their usage now
                billing.settle(self.reservation, _manifest_of(self._online))
        else:
            self.job_arns = tuple(arns)  # type: ignore[arg-type]

    def _failed(self, exc: BaseException) -> None:
        if self.reservation is None:
            return
        if self.job_arns:  # some jobs run and bill: charge the worst case, never less
            self.reservation.settle_reserved()
        else:
            self.reservation.release(exc)

    @classmethod
    def attach(cls, *job_arns: str, **kwargs: Any) -> BedrockBatchJob:
        """The handle of jobs started before (after a restart): ARNs from :attr:`job_arns`.

        Args:
            *job_arns: The jobs, in record order.
            **kwargs: ``settings``, ``s3_settings``, ``client``, ``s3_client``,
                ``async_client``, ``async_s3_client``, ``prices``; ``ledger``: the batch
                settles there when it ends (see :mod:`.billing`): the reservation
                ``submit(ledger=...)`` made, found again on the same shared store, or, when
                that ledger never held this batch, its billed tokens are booked.
        """
        job, ledger = cls._attached(job_arns, kwargs)
        job._found(run(job._get(job_arns[0]), job._io), ledger)
        return job

    @classmethod
    async def aattach(cls, *job_arns: str, **kwargs: Any) -> BedrockBatchJob:
        """Async :meth:`attach`."""
        job, ledger = cls._attached(job_arns, kwargs)
        job._found(await arun(job._get(job_arns[0]), job._io), ledger)
        return job

    def _found(self, first: JobStatus, ledger: Any) -> None:
        self.model_id = first.model_id
        if ledger is not None:
            self.reservation, self._book = billing.resume(ledger, first.name, self.model_id)

    @classmethod
    def _attached(
        cls, job_arns: Sequence[str], kwargs: dict[str, Any]
    ) -> tuple[BedrockBatchJob, Any]:
        if not job_arns:
            raise ConfigurationError("attach() needs at least one job ARN")
        options = dict(kwargs)
        ledger = billing.check_ledger(options.pop("ledger", None), job_arns[0])
        prices = options.pop("prices", None)
        settings = options.pop("settings", None)
        s3_settings = options.pop("s3_settings", None)
        clients = {
            key: options.pop(key, None)
            for key in ("client", "async_client", "s3_client", "async_s3_client")
        }
        if options:
            raise ConfigurationError(f"attach() got unknown arguments {sorted(options)}")
        io = cls._clients(settings, s3_settings, clients)
        return cls("", job_arns, io, prices=prices), ledger

    # ------------------------------------------------------------------ flows

    def _submit_flow(
        self, plan: Sequence[JobPlan], layout: Mapping[str, Any]
    ) -> Flow[tuple[str, ...]]:
        uploads = []
        for job in plan:
            folder = f"{layout['input']}part-{job.part:03d}/"
            for records in job.files:
                body = b"".join(r.line for r in records)
                uploads.append(Put(layout["bucket"], folder + file_name(records), body))
        yield Many(tuple(uploads))
        arns: list[str] = []
        for job in plan:
            request: dict[str, Any] = {
                "jobName": f"{layout['name']}-{job.part:03d}",
                "roleArn": layout["role_arn"],
                "clientRequestToken": f"{layout['token']}-{job.part:03d}",
                "modelId": self.model_id,
                "inputDataConfig": {
                    "s3InputDataConfig": {
                        "s3InputFormat": "JSONL",
                        "s3Uri": f"s3://{layout['bucket']}/{layout['input']}part-{job.part:03d}/",
                    }
                },
                "outputDataConfig": {
                    "s3OutputDataConfig": {
                        "s3Uri": f"s3://{layout['out_bucket']}/{layout['output']}part-{job.part:03d}/"
                    }
                },
            }
            if layout["timeout_hours"] is not None:
                request["timeoutDurationInHours"] = layout["timeout_hours"]
            if layout["tags"]:
                request["tags"] = layout["tags"]
            try:
                response = yield Call("create_model_invocation_job", request)
            except BedrockKitError as exc:
                raise BatchJobError(
                    f"job {job.part + 1} of {len(plan)} could not be created ({exc}); "
                    f"already running: {arns or 'none'}",
                    model_id=self.model_id,
                    status_code=exc.status_code,
                    error_code=exc.error_code,
                    request_id=exc.request_id,
                ) from exc
            arn = response.get("jobArn")
            if not isinstance(arn, str) or not arn:
                raise MalformedResponseError(
                    "CreateModelInvocationJob answered no jobArn", raw=repr(response)
                )
            arns.append(arn)
            self.job_arns = tuple(arns)  # known at once, should a later job be refused
        return tuple(arns)

    def _online_flow(self, bodies: Sequence[Mapping[str, Any]]) -> Flow[list[out.Outcome]]:
        answers = yield Many(tuple(Invoke(_invoke_request(self.model_id, b)) for b in bodies))
        return list(answers)

    def _get(self, arn: str) -> Flow[JobStatus]:
        response = yield Call("get_model_invocation_job", {"jobIdentifier": arn})
        return parse_job(response)

    def _status_flow(self) -> Flow[BatchStatus]:
        calls = tuple(Call("get_model_invocation_job", {"jobIdentifier": a}) for a in self.job_arns)
        responses = (yield Many(calls)) if calls else ()
        return BatchStatus(tuple(parse_job(r) for r in responses))

    def _wait_flow(self, poll: float, timeout: float | None, progress: bool) -> Flow[BatchStatus]:
        if poll <= 0:
            raise ConfigurationError(f"poll must be > 0 seconds, got {poll!r}")
        started = time.monotonic()
        bar = None
        try:
            while True:
                status = yield from self._status_flow()
                if progress:
                    total = sum(j.total_records or 0 for j in status.jobs)
                    if bar is None and total:
                        bar = progress_bar(total, f"batch {self.model_id}", progress=True)
                    if bar is not None:
                        bar.update(max(status.processed_records - bar.done, 0))
                        bar.set_status(status.describe())
                if status.done:
                    yield from self._settle_flow()
                    return status
                if self.reservation is not None:  # a process waits: the hold stays open
                    self.reservation.renew()
                if timeout is not None and time.monotonic() - started + poll > timeout:
                    raise BatchJobError(
                        f"batch still {status.state} after {timeout} s ({status.describe()})",
                        state=status.state,
                        model_id=self.model_id,
                    )
                yield Sleep(poll)
        finally:
            if bar is not None:
                bar.close()

    def _stop_flow(self) -> Flow[BatchStatus]:
        status = yield from self._status_flow()
        for job in status.jobs:
            if job.done or job.state == "Stopping":
                continue
            try:
                yield Call("stop_model_invocation_job", {"jobIdentifier": job.job_arn})
            except BedrockValidationError:
                now = yield from self._get(job.job_arn)
                if not now.done:  # not a job that finished meanwhile: a real refusal
                    raise
        return (yield from self._status_flow())

    def _expected_ids(self, job: JobStatus) -> Flow[list[str]]:
        if not job.input_uri:
            return []
        if job.input_uri.endswith(".jsonl"):
            bucket, key = _split_object_uri(job.input_uri)
            keys = [key]
        else:
            bucket, prefix = parse_s3_uri(job.input_uri)
            keys = sorted(k for k in (yield List(bucket, prefix)) if k.endswith(".jsonl"))
        ids: list[str] = []
        for key in keys:
            indices = parse_file_name(key)
            if indices is not None:
                ids += [record_id(i) for i in indices]
                continue
            raw = yield Read(bucket, key)  # not our naming: read the ids from the file
            for text in raw.decode("utf-8", "replace").splitlines():
                if text.strip():
                    found = json.loads(text).get("recordId")
                    if isinstance(found, str):
                        ids.append(found)
        return ids

    def _job_files(self, job: JobStatus) -> Flow[tuple[str, list[str]]]:
        if job.state not in WITH_OUTPUT or not job.output_uri:
            return "", []
        bucket, prefix = parse_s3_uri(job.output_uri)
        keys = yield List(bucket, f"{prefix}{job.job_id}/")
        if not keys:  # some layouts write straight into the output folder
            keys = yield List(bucket, prefix)
        return bucket, list(keys)

    def _results_flow(self) -> Flow[list[out.Outcome]]:
        if self._online is not None:
            return list(self._online)
        status = yield from self._status_flow()
        if not status.done:
            raise BatchJobError(
                f"batch is {status.state} ({status.describe()}): wait() for it first",
                state=status.state,
                model_id=self.model_id,
            )
        found: list[out.Outcome] = []
        for job in status.jobs:
            ids = yield from self._expected_ids(job)
            bucket, keys = yield from self._job_files(job)
            files = [k for k in keys if k.endswith(".jsonl.out")]
            raws = (yield Many(tuple(Read(bucket, k) for k in files))) if files else ()
            outcomes: dict[str, out.Outcome] = {}
            orphans: list[str] = []
            for raw in raws:
                parsed, lost = out.parse_output_file(
                    raw, model_id=self.model_id, job_arn=job.job_arn
                )
                outcomes.update(parsed)
                orphans += lost
            for rid in ids:
                outcome = outcomes.get(rid)
                if outcome is None:
                    outcome = out.missing(
                        rid,
                        job_arn=job.job_arn,
                        state=job.state,
                        message=job.message,
                        orphans=orphans,
                        model_id=self.model_id,
                    )
                found.append(outcome)
        return found

    def _manifests_flow(self) -> Flow[list[tuple[JobStatus, out.BatchManifest | None]]]:
        status = yield from self._status_flow()
        found: list[tuple[JobStatus, out.BatchManifest | None]] = []
        for job in status.jobs:
            bucket, keys = yield from self._job_files(job)
            manifests = [k for k in keys if k.endswith("manifest.json.out")]
            if manifests:
                raw = yield Read(bucket, manifests[0])
                found.append((job, out.parse_manifest(raw, job_arn=job.job_arn)))
            else:
                found.append((job, None))
        return found

    def _manifest_flow(self) -> Flow[out.BatchManifest]:
        if self._online is not None:
            return _manifest_of(self._online)
        total = out.BatchManifest()
        for job, manifest in (yield from self._manifests_flow()):
            total = total + (manifest or _manifest_from_status(job))
        return total

    def _cost_flow(self) -> Flow[out.BatchCost]:
        if self._online is not None:
            online = out.batch_cost(
                self.model_id, _manifest_of(self._online), prices=self.prices, discount=Decimal(1)
            )
            return online  # ran online: the on-demand price, no discount
        total = yield from self._billed_flow()
        return out.batch_cost(self.model_id, total, prices=self.prices)

    def _billed_flow(self) -> Flow[out.BatchManifest]:
        pairs = yield from self._manifests_flow()
        if all(m is not None or j.processed_records == 0 for j, m in pairs):
            return sum((m for _, m in pairs if m is not None), out.BatchManifest())
        # a job without its manifest: count the records' own usage
        return _manifest_of((yield from self._results_flow()))

    def _settle_flow(self) -> Flow[None]:
        if self._book is not None:  # attached to a ledger that never held this batch
            ledger, self._book = self._book, None
            billing.book(ledger, self.model_id, (yield from self._billed_flow()))
            return
        if self.reservation is None or self.reservation.state != "open":
            return
        total = yield from self._billed_flow()
        billing.settle(self.reservation, total)

    # ------------------------------------------------------------------ the handle

    def status(self) -> BatchStatus:
        """Every job's state and counts (GetModelInvocationJob)."""
        return run(self._status_flow(), self._io)

    async def astatus(self) -> BatchStatus:
        """Async :meth:`status`."""
        return await arun(self._status_flow(), self._io)

    def wait(
        self, poll: float = 30.0, timeout: float | None = None, progress: bool = False
    ) -> BatchStatus:
        """Poll until every job is final; returns the final status.

        Args:
            poll: Seconds between polls.
            timeout: Give up after this many seconds (BatchJobError); None waits on.
            progress: Show a progress bar (records processed of total, job states).
        """
        return run(self._wait_flow(poll, timeout, progress), self._io)

    async def async_wait(
        self, poll: float = 30.0, timeout: float | None = None, progress: bool = False
    ) -> BatchStatus:
        """Async :meth:`wait` (``await`` is Python's keyword, so not ``await_``)."""
        return await arun(self._wait_flow(poll, timeout, progress), self._io)

    def stop(self) -> BatchStatus:
        """Stop every job still running (StopModelInvocationJob); returns the status."""
        return run(self._stop_flow(), self._io)

    async def astop(self) -> BatchStatus:
        """Async :meth:`stop`."""
        return await arun(self._stop_flow(), self._io)

    def results(self) -> list[out.Outcome]:
        """One outcome per input, in input order: its ConverseResult or a typed error.

        Raises:
            BatchJobError: a job is not final yet.
        """
        return run(self._results_flow(), self._io)

    async def aresults(self) -> list[out.Outcome]:
        """Async :meth:`results`."""
        return await arun(self._results_flow(), self._io)

    def manifest(self) -> out.BatchManifest:
        """Counts and token totals over every job (``manifest.json.out``; a job without one
        is counted from its status)."""
        return run(self._manifest_flow(), self._io)

    async def amanifest(self) -> out.BatchManifest:
        """Async :meth:`manifest`."""
        return await arun(self._manifest_flow(), self._io)

    def cost(self) -> out.BatchCost:
        """The batch's cost at the batch rate (half of on-demand), and on demand."""
        return run(self._cost_flow(), self._io)

    async def acost(self) -> out.BatchCost:
        """Async :meth:`cost`."""
        return await arun(self._cost_flow(), self._io)

    async def aclose(self) -> None:
        """Close the async clients of the running event loop."""
        await self._io.bedrock.aclose()
        await self._io.s3.aclose()

    def __repr__(self) -> str:
        jobs = "online" if self.online else f"{len(self.job_arns)} job(s)"
        return f"BedrockBatchJob({self.model_id!r}, {jobs})"


def _manifest_from_status(job: JobStatus) -> out.BatchManifest:
    return out.BatchManifest(
        total_records=job.total_records or 0,
        processed_records=job.processed_records,
        success_records=job.success_records,
        error_records=job.error_records,
    )


def _manifest_of(outcomes: Iterable[out.Outcome]) -> out.BatchManifest:
    items = list(outcomes)
    answered = [o for o in items if isinstance(o, ConverseResult)]
    return out.BatchManifest(
        total_records=len(items),
        processed_records=len(items),
        success_records=len(answered),
        error_records=len(items) - len(answered),
        input_tokens=sum(r.usage.total_input_tokens for r in answered),
        output_tokens=sum(r.usage.output_tokens for r in answered),
    )
