"""CustomizationJob: validate, upload to S3, CreateModelCustomizationJob, follow it to the end.

.. code-block:: python

    job = CustomizationJob.start(
        base_model_id="amazon.titan-text-express-v1:0:8k",
        training_data=records,                      # dicts, JSONL bytes or a file path
        s3_prefix="s3://my-bucket/tuning",
        role_arn="arn:aws:iam::123456789012:role/BedrockCustomization",
        job_name="tickets-1", custom_model_name="tickets-titan",
        hyperparameters={"epochCount": 2},
    )
    model = job.wait(progress=True)                 # CustomModel, or CustomizationJobError

Nothing is uploaded until the data passed
:func:`~bedrock_kit.core.customization.data.validate_records` and the hyperparameters their
documented ranges. Uploads go through boto3's transfer
manager (multipart above ``multipart_threshold``; files stream from disk). The async forms
share the request building and the status handling with the sync ones; the upload itself
runs boto3's transfer manager in a worker thread (aiobotocore has none).
"""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.customization.charges import charge_storage, storage_charge
from bedrock_kit.core.customization.counting import RecordTokenCounter
from bedrock_kit.core.customization.data import (
    TokenCounter,
    parse_jsonl,
    to_jsonl,
    validate_records,
)
from bedrock_kit.core.customization.profiles import (
    CustomizationProfile,
    Method,
    check_hyperparameters,
    check_teacher,
    find_profile,
)
from bedrock_kit.core.customization.wire import (
    ControlPlane,
    CustomModel,
    JobDescription,
    parse_custom_model,
    parse_job,
    split_s3_uri,
)
from bedrock_kit.core.progress import progress_bar
from bedrock_kit.errors import (
    ConfigurationError,
    CustomizationJobError,
    ModelTimeoutError,
    translate_errors,
)

TrainingData = Sequence[Mapping[str, Any]] | bytes | str | os.PathLike[str]
"""Records (dicts), JSONL bytes, a local JSONL file path, or an ``s3://`` URI."""

DEFAULT_MULTIPART_THRESHOLD = 8 * 1024 * 1024
_STAGES = ("validationDetails", "dataProcessingDetails", "trainingDetails")


@dataclass(frozen=True)
class _Upload:
    """One dataset ready to go to S3: validated bytes or a validated file."""

    s3_uri: str
    data: bytes | None = None
    path: Path | None = None


def _prepare(
    data: TrainingData,
    uri: str,
    profile: CustomizationProfile,
    *,
    validation: bool,
    count_tokens: TokenCounter | None,
    assume_valid: bool,
) -> _Upload | None:
    """Validate ``data``; None when it is already in S3 (``uri`` is then unused)."""
    if isinstance(data, str) and data.startswith("s3://"):
        if not assume_valid:
            raise ConfigurationError(
                f"{data} is already in S3 and cannot be validated here: pass the records or "
                "the file, or assume_valid=True to use it unchecked"
            )
        return None
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise ConfigurationError(f"training data file {str(path)!r} does not exist")
        validate_records(
            parse_jsonl(path.read_bytes()),
            profile,
            validation=validation,
            count_tokens=count_tokens,
        )
        return _Upload(uri, path=path)
    if isinstance(data, bytes | bytearray):
        payload = bytes(data)
        validate_records(
            parse_jsonl(payload), profile, validation=validation, count_tokens=count_tokens
        )
        return _Upload(uri, data=payload)
    validate_records(data, profile, validation=validation, count_tokens=count_tokens)
    return _Upload(uri, data=to_jsonl(data))


def _counter(
    count_tokens: TokenCounter | bool | None, base_model_id: str, plane: ControlPlane
) -> TokenCounter | None:
    """``True``: CountTokens through a ``bedrock-runtime`` client on the plane's settings
    (the estimate where the base model has no CountTokens, and the report says so)."""
    if count_tokens is True:
        return RecordTokenCounter.from_settings(base_model_id, plane.settings)
    if count_tokens is False or count_tokens is None:
        return None
    if not callable(count_tokens):
        raise ConfigurationError(
            "count_tokens must be True, False, None or a text -> tokens callable, "
            f"got {count_tokens!r}"
        )
    return count_tokens


def _upload(s3: Any, upload: _Upload, threshold: int) -> None:
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold)
    bucket, key = split_s3_uri(upload.s3_uri)
    with translate_errors(model_id=upload.s3_uri):
        if upload.path is not None:
            s3.upload_file(str(upload.path), bucket, key, Config=config)
        else:
            s3.upload_fileobj(io.BytesIO(upload.data or b""), bucket, key, Config=config)


def _data_uri(data: TrainingData, prefix: str, job_name: str, name: str) -> str:
    if isinstance(data, str) and data.startswith("s3://"):
        return data
    return f"{prefix.rstrip('/')}/{job_name}/{name}"


def build_create_request(
    *,
    base_model_id: str,
    role_arn: str,
    job_name: str,
    custom_model_name: str,
    training_uri: str,
    output_uri: str,
    method: Method,
    hyperparameters: Mapping[str, str],
    validation_uri: str | None = None,
    client_request_token: str | None = None,
    teacher_model_id: str | None = None,
    max_response_length: int | None = None,
) -> dict[str, Any]:
    """CreateModelCustomizationJob keyword arguments.

    A ``DISTILLATION`` job names its teacher in ``customizationConfig.distillationConfig``
    (``teacherModelConfig``: ``teacherModelIdentifier`` and, when given,
    ``maxResponseLengthForInference``, the longest answer the teacher writes per prompt).

    Raises:
        ConfigurationError: A bad role ARN or name, a distillation without a teacher, or a
            teacher (or response length) for another method.
    """
    if not role_arn or not role_arn.startswith("arn:"):
        raise ConfigurationError(f"role_arn must be an IAM role ARN, got {role_arn!r}")
    for name, value in (("job_name", job_name), ("custom_model_name", custom_model_name)):
        if not value or not 1 <= len(value) <= 63:
            raise ConfigurationError(f"{name} must be 1 to 63 characters, got {value!r}")
    request: dict[str, Any] = {
        "jobName": job_name,
        "customModelName": custom_model_name,
        "roleArn": role_arn,
        "baseModelIdentifier": base_model_id,
        "customizationType": method,
        "trainingDataConfig": {"s3Uri": training_uri},
        "outputDataConfig": {"s3Uri": output_uri},
        "hyperParameters": dict(hyperparameters),
        "clientRequestToken": client_request_token or uuid.uuid4().hex,
    }
    if validation_uri:
        request["validationDataConfig"] = {"validators": [{"s3Uri": validation_uri}]}
    if method == "DISTILLATION":
        if not teacher_model_id:
            raise ConfigurationError("a DISTILLATION job needs teacher_model_id")
        teacher: dict[str, Any] = {"teacherModelIdentifier": teacher_model_id}
        if max_response_length is not None:
            if (
                isinstance(max_response_length, bool)
                or not isinstance(max_response_length, int)
                or max_response_length < 1
            ):
                raise ConfigurationError(
                    f"max_response_length must be an int >= 1, got {max_response_length!r}"
                )
            teacher["maxResponseLengthForInference"] = max_response_length
        request["customizationConfig"] = {"distillationConfig": {"teacherModelConfig": teacher}}
        if not hyperparameters:
            del request["hyperParameters"]
    elif teacher_model_id is not None or max_response_length is not None:
        raise ConfigurationError(
            f"teacher_model_id and max_response_length are for DISTILLATION jobs, not {method}"
        )
    return request


def outcome(job: JobDescription) -> None:
    """Raise the typed error of a job that ended without a model.

    Raises:
        CustomizationJobError: The job is Failed or Stopped (with Bedrock's failure message).
    """
    if job.status in ("Failed", "Stopped"):
        reason = f": {job.failure_message}" if job.failure_message else ""
        raise CustomizationJobError(
            f"customization job {job.job_name or job.job_arn} {job.status.lower()}{reason}",
            job_arn=job.job_arn,
            status=job.status,
            failure_message=job.failure_message,
            model_id=job.base_model_id,
        )


class _Progress:
    """Status changes and training metrics on a tqdm bar, one tick per finished stage."""

    def __init__(self, enabled: bool | None, name: str) -> None:
        self.bar = progress_bar(len(_STAGES), f"customization {name}", progress=enabled)
        self.finished = 0
        self.history: list[str] = []
        """Every distinct status line seen, in order (for callers and tests)."""

    def update(self, job: JobDescription) -> None:
        stages = ", ".join(f"{k.removesuffix('Details')}={v}" for k, v in job.stages.items())
        line = job.status + (f" ({stages})" if stages else "")
        if job.training_loss is not None:
            line += f" trainingLoss={job.training_loss:g}"
        if not self.history or self.history[-1] != line:
            self.history.append(line)
        done = sum(1 for k in _STAGES if job.stages.get(k) == "Completed")
        if job.status == "Completed":
            done = len(_STAGES)
        if done > self.finished:
            self.bar.update(done - self.finished)
        self.bar.set_status(line)
        self.finished = max(self.finished, done)

    def close(self) -> None:
        self.bar.close()


class CustomizationJob:
    """A model customization job: start it, follow it, stop it, get the custom model.

    Build one with :meth:`start` (validate, upload, create) or :meth:`attach` (an existing
    job); both take ``settings`` or the client keyword arguments every bedrock-kit class
    takes, plus injected ``client`` / ``async_client`` (``bedrock``) and ``s3_client`` /
    ``async_s3_client``.
    """

    def __init__(self, identifier: str, plane: ControlPlane, *, base_model_id: str | None = None):
        self.identifier = identifier
        """Job name or ARN, as the control plane operations take it."""
        self.plane = plane
        self.base_model_id = base_model_id
        """The base model, when known before the first status."""
        self.last: JobDescription | None = None
        """The most recent status fetched."""
        self.progress_history: list[str] = []
        """Status lines seen by the last :meth:`wait`."""

    # -- construction

    @classmethod
    def _plan(
        cls,
        *,
        base_model_id: str,
        training_data: TrainingData,
        s3_prefix: str,
        role_arn: str,
        job_name: str,
        custom_model_name: str,
        method: Method,
        validation_data: TrainingData | None,
        output_s3_uri: str | None,
        hyperparameters: Mapping[str, Any] | None,
        profile: CustomizationProfile | None,
        count_tokens: TokenCounter | None,
        assume_valid: bool,
        teacher_model_id: str | None = None,
        max_response_length: int | None = None,
    ) -> tuple[list[_Upload], dict[str, Any]]:
        profile = profile or find_profile(base_model_id, method)
        if profile.method != method:
            raise ConfigurationError(f"profile {profile.name!r} is not for {method}")
        check_teacher(profile, teacher_model_id)
        split_s3_uri(s3_prefix)
        wire_hp = check_hyperparameters(profile, hyperparameters or {})
        train_uri = _data_uri(training_data, s3_prefix, job_name, "train.jsonl")
        uploads = [
            _prepare(
                training_data,
                train_uri,
                profile,
                validation=False,
                count_tokens=count_tokens,
                assume_valid=assume_valid,
            )
        ]
        valid_uri = None
        if validation_data is not None:
            if profile.max_validation_records == 0:
                raise ConfigurationError(f"{profile.name} takes no validation data")
            valid_uri = _data_uri(validation_data, s3_prefix, job_name, "validation.jsonl")
            uploads.append(
                _prepare(
                    validation_data,
                    valid_uri,
                    profile,
                    validation=True,
                    count_tokens=count_tokens,
                    assume_valid=assume_valid,
                )
            )
        request = build_create_request(
            base_model_id=base_model_id,
            role_arn=role_arn,
            job_name=job_name,
            custom_model_name=custom_model_name,
            training_uri=train_uri,
            output_uri=output_s3_uri or f"{s3_prefix.rstrip('/')}/{job_name}/output/",
            method=method,
            hyperparameters=wire_hp,
            validation_uri=valid_uri,
            teacher_model_id=teacher_model_id,
            max_response_length=max_response_length,
        )
        return [u for u in uploads if u is not None], request

    @classmethod
    def start(
        cls,
        *,
        base_model_id: str,
        training_data: TrainingData,
        s3_prefix: str,
        role_arn: str,
        job_name: str,
        custom_model_name: str,
        method: Method = "FINE_TUNING",
        validation_data: TrainingData | None = None,
        output_s3_uri: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        profile: CustomizationProfile | None = None,
        count_tokens: TokenCounter | bool | None = None,
        assume_valid: bool = False,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        teacher_model_id: str | None = None,
        max_response_length: int | None = None,
        **client_args: Any,
    ) -> CustomizationJob:
        """Validate the data and hyperparameters, upload, and create the job.

        Args:
            base_model_id: The model to customize (chooses the profile: format, limits).
            training_data: Records, JSONL bytes, a JSONL file, or (``assume_valid``) an
                ``s3://`` URI.
            s3_prefix: ``s3://bucket/prefix`` under which ``{job_name}/train.jsonl``,
                ``validation.jsonl`` and ``output/`` go.
            role_arn: The IAM role Bedrock assumes to read and write S3.
            job_name: Job name (1 to 63 characters, unique in the account).
            custom_model_name: Name of the resulting custom model.
            method: ``FINE_TUNING``, ``CONTINUED_PRE_TRAINING`` or ``DISTILLATION``.
            validation_data: Optional validation set, in the same forms.
            output_s3_uri: Where Bedrock writes metrics (default ``{prefix}/{job}/output/``).
            hyperparameters: Checked against the profile's ranges.
            profile: Override the profile (raised quotas, a model not listed).
            count_tokens: Token counts for the validator: True asks CountTokens through a
                ``bedrock-runtime`` client on the same settings (the estimate where the base
                model has no CountTokens; errors say which), a ``text -> tokens`` callable,
                or None / False for the core estimate (errs high).
            assume_valid: Accept ``s3://`` data that cannot be validated here.
            multipart_threshold: Bytes above which uploads are multipart (>= 5 MiB).
            teacher_model_id: ``DISTILLATION`` only: the teacher model (checked against the
                student's profile); the training data are then prompts, answers optional.
            max_response_length: ``DISTILLATION`` only: longest teacher answer, in tokens.
            **client_args: ``settings`` or client keyword arguments, and injected clients.

        Raises:
            TrainingDataError: The data failed validation; nothing was uploaded.
            ConfigurationError: Bad hyperparameters, names, URIs or arguments.
        """
        plane = ControlPlane.from_args(client_args)
        counter = _counter(count_tokens, base_model_id, plane)
        uploads, request = cls._plan(
            base_model_id=base_model_id,
            training_data=training_data,
            s3_prefix=s3_prefix,
            role_arn=role_arn,
            job_name=job_name,
            custom_model_name=custom_model_name,
            method=method,
            validation_data=validation_data,
            output_s3_uri=output_s3_uri,
            hyperparameters=hyperparameters,
            profile=profile,
            count_tokens=counter,
            assume_valid=assume_valid,
            teacher_model_id=teacher_model_id,
            max_response_length=max_response_length,
        )
        for upload in uploads:
            _upload(plane.s3.client, upload, multipart_threshold)
        with translate_errors(model_id=base_model_id, region=plane.region):
            plane.bedrock.client.create_model_customization_job(**request)
        return cls(job_name, plane, base_model_id=base_model_id)

    @classmethod
    async def astart(
        cls,
        *,
        base_model_id: str,
        training_data: TrainingData,
        s3_prefix: str,
        role_arn: str,
        job_name: str,
        custom_model_name: str,
        method: Method = "FINE_TUNING",
        validation_data: TrainingData | None = None,
        output_s3_uri: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        profile: CustomizationProfile | None = None,
        count_tokens: TokenCounter | bool | None = None,
        assume_valid: bool = False,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        teacher_model_id: str | None = None,
        max_response_length: int | None = None,
        **client_args: Any,
    ) -> CustomizationJob:
        """Async :meth:`start` (the upload runs boto3's transfer manager in a thread)."""
        plane = ControlPlane.from_args(client_args)
        counter = _counter(count_tokens, base_model_id, plane)
        uploads, request = cls._plan(
            base_model_id=base_model_id,
            training_data=training_data,
            s3_prefix=s3_prefix,
            role_arn=role_arn,
            job_name=job_name,
            custom_model_name=custom_model_name,
            method=method,
            validation_data=validation_data,
            output_s3_uri=output_s3_uri,
            hyperparameters=hyperparameters,
            profile=profile,
            count_tokens=counter,
            assume_valid=assume_valid,
            teacher_model_id=teacher_model_id,
            max_response_length=max_response_length,
        )
        for upload in uploads:
            await asyncio.to_thread(_upload, plane.s3.client, upload, multipart_threshold)
        with translate_errors(model_id=base_model_id, region=plane.region):
            client = await plane.bedrock.async_client()
            await client.create_model_customization_job(**request)
        return cls(job_name, plane, base_model_id=base_model_id)

    @classmethod
    def attach(cls, job_identifier: str, **client_args: Any) -> CustomizationJob:
        """A handle on an existing job, by ARN or name (no request until used)."""
        if not job_identifier:
            raise ConfigurationError("job_identifier must be a job ARN or name")
        return cls(job_identifier, ControlPlane.from_args(client_args))

    # -- status

    def _seen(self, response: Mapping[str, Any]) -> JobDescription:
        job = parse_job(response)
        self.last = job
        self.base_model_id = job.base_model_id or self.base_model_id
        return job

    def status(self) -> JobDescription:
        """GetModelCustomizationJob, typed."""
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            response = self.plane.bedrock.client.get_model_customization_job(
                jobIdentifier=self.identifier
            )
        return self._seen(response)

    async def astatus(self) -> JobDescription:
        """Async :meth:`status`."""
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            client = await self.plane.bedrock.async_client()
            response = await client.get_model_customization_job(jobIdentifier=self.identifier)
        return self._seen(response)

    def stop(self) -> None:
        """StopModelCustomizationJob (the job goes Stopping, then Stopped)."""
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            self.plane.bedrock.client.stop_model_customization_job(jobIdentifier=self.identifier)

    async def astop(self) -> None:
        """Async :meth:`stop`."""
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            client = await self.plane.bedrock.async_client()
            await client.stop_model_customization_job(jobIdentifier=self.identifier)

    def custom_model(self) -> CustomModel:
        """GetCustomModel of the job's output model.

        Raises:
            CustomizationJobError: The job failed or was stopped.
            ConfigurationError: The job has no output model yet.
        """
        job = self.last or self.status()
        outcome(job)
        identifier = self._model_identifier(job)
        with translate_errors(model_id=identifier, region=self.plane.region):
            return parse_custom_model(
                self.plane.bedrock.client.get_custom_model(modelIdentifier=identifier)
            )

    async def acustom_model(self) -> CustomModel:
        """Async :meth:`custom_model`."""
        job = self.last or await self.astatus()
        outcome(job)
        identifier = self._model_identifier(job)
        with translate_errors(model_id=identifier, region=self.plane.region):
            client = await self.plane.bedrock.async_client()
            return parse_custom_model(await client.get_custom_model(modelIdentifier=identifier))

    @staticmethod
    def _model_identifier(job: JobDescription) -> str:
        identifier = job.custom_model_arn or job.custom_model_name
        if not identifier:
            raise ConfigurationError(f"job {job.job_name} ({job.status}) has no custom model yet")
        return identifier

    # -- waiting

    def _check_deadline(self, started: float, timeout: float | None, job: JobDescription) -> None:
        if timeout is not None and time.monotonic() - started >= timeout:
            raise ModelTimeoutError(
                f"customization job {job.job_name or job.job_arn} still {job.status} after "
                f"{timeout:g} s (it keeps running; wait again or stop() it)",
                model_id=job.base_model_id,
            )

    def wait(
        self,
        *,
        poll_interval: float = 60.0,
        timeout: float | None = None,
        progress: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
        storage_rate: Any = None,
    ) -> CustomModel:
        """Poll until the job ends; the custom model when it Completed.

        Args:
            poll_interval: Seconds between GetModelCustomizationJob calls.
            timeout: Give up (the job keeps running) after this many seconds.
            progress: A bar of stages finished, status and training loss: None (default)
                on a terminal, True whenever tqdm is installed, False never
                (:mod:`bedrock_kit.core.progress`).
            sleep: Sleep function (tests pass a fake).
            ledger: Record the custom model's monthly storage on this ledger's recurring
                charges (:func:`~bedrock_kit.core.customization.charges.charge_storage`).
            storage_rate: USD per month of storage (the console's; none is confirmed):
                needed with ``ledger``, checked before the first poll.

        Raises:
            CustomizationJobError: The job ended Failed or Stopped.
            ModelTimeoutError: ``timeout`` passed first.
            ConfigurationError: A ledger without a storage rate (before any request).
        """
        storage_charge(ledger, self.base_model_id, storage_rate, what=self.identifier)
        bar = _Progress(progress, self.identifier)
        self.progress_history = bar.history
        started = time.monotonic()
        try:
            while True:
                job = self.status()
                bar.update(job)
                if job.done:
                    break
                self._check_deadline(started, timeout, job)
                sleep(poll_interval)
        finally:
            bar.close()
        return self._stored(self.custom_model(), ledger, storage_rate)

    async def await_(
        self,
        *,
        poll_interval: float = 60.0,
        timeout: float | None = None,
        progress: bool | None = None,
        ledger: Ledger | None = None,
        storage_rate: Any = None,
    ) -> CustomModel:
        """Async :meth:`wait` (``await job.await_()``)."""
        storage_charge(ledger, self.base_model_id, storage_rate, what=self.identifier)
        bar = _Progress(progress, self.identifier)
        self.progress_history = bar.history
        started = time.monotonic()
        try:
            while True:
                job = await self.astatus()
                bar.update(job)
                if job.done:
                    break
                self._check_deadline(started, timeout, job)
                await asyncio.sleep(poll_interval)
        finally:
            bar.close()
        return self._stored(await self.acustom_model(), ledger, storage_rate)

    @staticmethod
    def _stored(model: CustomModel, ledger: Ledger | None, storage_rate: Any) -> CustomModel:
        if ledger is not None:
            charge_storage(ledger, model, monthly_rate=storage_rate)
        return model


__all__ = ["CustomizationJob", "TrainingData", "build_create_request", "outcome"]
