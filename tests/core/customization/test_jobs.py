"""CustomizationJob against a real S3 API (moto server) and the bedrock control plane
(moto for the operations it implements, LocalBedrock for scripted state progressions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit.core.customization.data import build_records, to_jsonl
from bedrock_kit.core.customization.jobs import CustomizationJob
from bedrock_kit.core.customization.profiles import find_profile
from bedrock_kit.errors import (
    ConfigurationError,
    CustomizationJobError,
    ModelTimeoutError,
    ResourceNotFoundError,
    TrainingDataError,
)
from bedrock_kit.testing import Reply

from .conftest import BUCKET, ROLE

TITAN = "amazon.titan-text-express-v1:0:8k"
BASE_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN}"
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan/abc123"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan/tickets"


def records(n: int = 12) -> list[dict[str, Any]]:
    pairs = [(f"ticket {i}: charged twice", f"billing {i}") for i in range(n)]
    return build_records(pairs, find_profile(TITAN))


def job_reply(status: str, **extra: Any) -> Reply:
    body = {
        "jobArn": JOB_ARN,
        "jobName": "tickets-1",
        "outputModelName": "tickets",
        "roleArn": ROLE,
        "status": status,
        "baseModelArn": BASE_ARN,
        "customizationType": "FINE_TUNING",
        "hyperParameters": {"epochCount": "2"},
        "trainingDataConfig": {"s3Uri": f"s3://{BUCKET}/t/tickets-1/train.jsonl"},
        "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/t/tickets-1/output/"},
        "creationTime": "2026-12-01T10:00:00Z",
        **extra,
    }
    return Reply.json(body)


MODEL_REPLY = Reply.json(
    {
        "modelArn": MODEL_ARN,
        "modelName": "tickets",
        "jobArn": JOB_ARN,
        "baseModelArn": BASE_ARN,
        "customizationType": "FINE_TUNING",
        "modelStatus": "Active",
        "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/t/tickets-1/output/"},
        "trainingDataConfig": {"s3Uri": f"s3://{BUCKET}/t/tickets-1/train.jsonl"},
        "trainingMetrics": {"trainingLoss": 0.25},
        "validationMetrics": [{"validationLoss": 0.5}],
        "creationTime": "2026-12-01T11:00:00Z",
    }
)


def start(settings: Any, **overrides: Any) -> CustomizationJob:
    args: dict[str, Any] = {
        "base_model_id": TITAN,
        "training_data": records(),
        "s3_prefix": f"s3://{BUCKET}/t",
        "role_arn": ROLE,
        "job_name": "tickets-1",
        "custom_model_name": "tickets",
        "hyperparameters": {"epochCount": 2},
        "settings": settings,
    }
    args.update(overrides)
    return CustomizationJob.start(**args)


# -- moto: S3 and the control plane operations it implements


def test_start_uploads_validated_data_and_creates_the_job(moto_settings, s3):
    data = records()
    valid = records(3)
    job = start(moto_settings, training_data=data, validation_data=valid)
    body = s3.get_object(Bucket=BUCKET, Key="t/tickets-1/train.jsonl")["Body"].read()
    assert body == to_jsonl(data)
    assert s3.get_object(Bucket=BUCKET, Key="t/tickets-1/validation.jsonl")["Body"].read() == (
        to_jsonl(valid)
    )
    status = job.status()
    assert status.status == "InProgress"
    assert status.base_model_id == TITAN
    assert status.hyperparameters == {"epochCount": "2"}
    assert status.output_s3_uri == f"s3://{BUCKET}/t/tickets-1/output/"


def test_bad_data_uploads_nothing_and_creates_no_job(moto_settings, s3):
    bad = [*records(), {"prompt": "", "completion": "x"}, records()[0]]
    with pytest.raises(TrainingDataError) as caught:
        start(moto_settings, training_data=bad)
    assert [line for line, _ in caught.value.problems] == [13, 14]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    with pytest.raises(ResourceNotFoundError):
        CustomizationJob.attach("tickets-1", settings=moto_settings).status()


def test_bad_hyperparameters_refused_before_upload(moto_settings, s3):
    with pytest.raises(ConfigurationError, match=r"epochCount: 0 is outside \[1, 10\]"):
        start(moto_settings, hyperparameters={"epochCount": 0})
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_stop_then_wait_raises_stopped_and_attach_by_name(moto_settings, s3):
    job = start(moto_settings, job_name="tickets-stop", custom_model_name="tickets-stop")
    job.stop()
    attached = CustomizationJob.attach("tickets-stop", settings=moto_settings)
    with pytest.raises(CustomizationJobError) as caught:
        attached.wait(poll_interval=0)
    assert caught.value.status == "Stopped"
    assert caught.value.job_arn.endswith("model-customization-job/tickets-stop")


def test_large_files_stream_from_disk_in_multipart(moto_settings, s3, tmp_path: Path):
    data = [{"prompt": f"{i} " + "ticket text " * 170, "completion": "c"} for i in range(5500)]
    path = tmp_path / "train.jsonl"
    path.write_bytes(to_jsonl(data))
    # An exact counter stands in for the estimate: this test is about the upload.
    start(
        moto_settings,
        training_data=path,
        count_tokens=lambda text: 1,
        multipart_threshold=5 * 1024 * 1024,
    )
    head = s3.head_object(Bucket=BUCKET, Key="t/tickets-1/train.jsonl")
    assert head["ContentLength"] == path.stat().st_size > 10 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-3")  # three parts: a multipart upload


def test_s3_data_needs_an_explicit_assumption(moto_settings, s3):
    with pytest.raises(ConfigurationError, match="cannot be validated here"):
        start(moto_settings, training_data=f"s3://{BUCKET}/elsewhere.jsonl")
    job = start(moto_settings, training_data=f"s3://{BUCKET}/elsewhere.jsonl", assume_valid=True)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert job.status().status == "InProgress"


# -- LocalBedrock: scripted progressions and failures


def local_job(local, local_settings, s3) -> CustomizationJob:
    local.script("CreateModelCustomizationJob", Reply.json({"jobArn": JOB_ARN}))
    return start(local_settings, s3_client=s3)


def test_wait_follows_stages_to_the_custom_model(local, local_settings, s3):
    job = local_job(local, local_settings, s3)
    local.script(
        "GetModelCustomizationJob",
        job_reply("InProgress", statusDetails={"validationDetails": {"status": "InProgress"}}),
        job_reply(
            "InProgress",
            statusDetails={
                "validationDetails": {"status": "Completed"},
                "dataProcessingDetails": {"status": "Completed"},
                "trainingDetails": {"status": "InProgress"},
            },
            trainingMetrics={"trainingLoss": 1.5},
        ),
        job_reply("Completed", outputModelArn=MODEL_ARN, trainingMetrics={"trainingLoss": 0.25}),
    )
    local.script("GetCustomModel", MODEL_REPLY)
    sleeps: list[float] = []
    model = job.wait(poll_interval=5, sleep=sleeps.append, progress=True)
    assert sleeps == [5, 5]
    assert model.arn == MODEL_ARN and model.base_model_id == TITAN
    assert model.training_loss == 0.25 and model.validation_losses == (0.5,)
    assert model.output_s3_uri == f"s3://{BUCKET}/t/tickets-1/output/"
    assert job.progress_history[0] == "InProgress (validation=InProgress)"
    assert "trainingLoss=1.5" in job.progress_history[1]
    assert job.progress_history[-1].startswith("Completed")
    create = local.requests_for("CreateModelCustomizationJob")[0].body
    assert create["customizationType"] == "FINE_TUNING"
    assert create["hyperParameters"] == {"epochCount": "2"}
    assert create["trainingDataConfig"] == {"s3Uri": f"s3://{BUCKET}/t/tickets-1/train.jsonl"}
    assert local.requests_for("GetCustomModel")[0].path_params["modelIdentifier"] == MODEL_ARN


def test_failed_job_raises_with_the_failure_message(local, local_settings, s3):
    job = local_job(local, local_settings, s3)
    local.script(
        "GetModelCustomizationJob",
        job_reply("InProgress"),
        job_reply("Failed", failureMessage="Maximum input token count 4919 exceeds limit of 4096"),
    )
    with pytest.raises(CustomizationJobError) as caught:
        job.wait(poll_interval=0)
    assert caught.value.status == "Failed"
    assert "4919 exceeds limit of 4096" in caught.value.failure_message
    assert "4919" in str(caught.value) and caught.value.model_id == TITAN
    assert local.pending("GetCustomModel") == 0 and not local.requests_for("GetCustomModel")


def test_wait_times_out_with_a_typed_error(local, local_settings, s3):
    job = local_job(local, local_settings, s3)
    local.set_default("GetModelCustomizationJob", job_reply("InProgress"))
    with pytest.raises(ModelTimeoutError, match="still InProgress"):
        job.wait(poll_interval=0, timeout=0)


def test_attach_by_arn_and_throttling_translated(local, local_settings):
    local.script(
        "GetModelCustomizationJob",
        Reply.error(429, "ThrottlingException", "slow down"),
    )
    job = CustomizationJob.attach(JOB_ARN, settings=local_settings)
    from bedrock_kit.errors import ThrottlingError

    with pytest.raises(ThrottlingError):
        job.status()
    assert local.requests_for("GetModelCustomizationJob")[0].path_params == {
        "jobIdentifier": JOB_ARN
    }


async def test_async_start_and_wait(local, local_settings, s3):
    local.script("CreateModelCustomizationJob", Reply.json({"jobArn": JOB_ARN}))
    job = await CustomizationJob.astart(
        base_model_id=TITAN,
        training_data=records(),
        s3_prefix=f"s3://{BUCKET}/t",
        role_arn=ROLE,
        job_name="tickets-1",
        custom_model_name="tickets",
        settings=local_settings,
        s3_client=s3,
    )
    local.script(
        "GetModelCustomizationJob",
        job_reply("InProgress"),
        job_reply("Stopping"),
        job_reply("Completed", outputModelArn=MODEL_ARN),
    )
    local.script("GetCustomModel", MODEL_REPLY)
    try:
        model = await job.await_(poll_interval=0)
    finally:
        await job.plane.aclose()
    assert model.name == "tickets"
    assert [h.split()[0] for h in job.progress_history] == ["InProgress", "Stopping", "Completed"]
    assert (
        json.loads(
            s3.get_object(Bucket=BUCKET, Key="t/tickets-1/train.jsonl")["Body"]
            .read()
            .splitlines()[0]
        )
        == records()[0]
    )


async def test_async_failed_and_stop(local, local_settings):
    job = CustomizationJob.attach(JOB_ARN, settings=local_settings)
    local.script("StopModelCustomizationJob", Reply.json({}))
    local.script("GetModelCustomizationJob", job_reply("Stopped"))
    try:
        await job.astop()
        with pytest.raises(CustomizationJobError, match="stopped"):
            await job.await_(poll_interval=0)
    finally:
        await job.plane.aclose()
    assert local.requests_for("StopModelCustomizationJob")[0].method == "POST"
