"""Provisioned throughput and custom model deployment handles against LocalBedrock."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.customization.serving import (
    CustomModelDeployment,
    ProvisionedThroughput,
    invocation_target,
)
from bedrock_kit.core.customization.wire import CustomModel
from bedrock_kit.errors import ConfigurationError, ModelTimeoutError, ProvisioningFailedError
from bedrock_kit.testing import Reply

BASE = "amazon.titan-text-express-v1:0:8k"
BASE_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{BASE}"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan/tickets"
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt123"
DEP_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep123"
MODEL = CustomModel(arn=MODEL_ARN, name="tickets", base_model_id=BASE)


def pt(status: str, **extra: Any) -> Reply:
    return Reply.json(
        {
            "provisionedModelArn": PT_ARN,
            "provisionedModelName": "tickets-pt",
            "modelArn": MODEL_ARN,
            "desiredModelArn": MODEL_ARN,
            "foundationModelArn": BASE_ARN,
            "modelUnits": 1,
            "desiredModelUnits": 1,
            "status": status,
            "creationTime": "2026-12-01T10:00:00Z",
            "lastModifiedTime": "2026-12-01T10:00:00Z",
            **extra,
        }
    )


def dep(status: str, **extra: Any) -> Reply:
    return Reply.json(
        {
            "customModelDeploymentArn": DEP_ARN,
            "modelDeploymentName": "tickets-od",
            "modelArn": MODEL_ARN,
            "createdAt": "2026-12-01T10:00:00Z",
            "status": status,
            **extra,
        }
    )


def test_provisioned_create_wait_update_delete(local, local_settings):
    local.script("CreateProvisionedModelThroughput", Reply.json({"provisionedModelArn": PT_ARN}))
    local.script("GetProvisionedModelThroughput", pt("Creating"), pt("InService"))
    handle = ProvisionedThroughput.create(
        MODEL, model_units=1, name="tickets-pt", commitment="OneMonth", settings=local_settings
    )
    sleeps: list[float] = []
    state = handle.wait(poll_interval=3, sleep=sleeps.append)
    assert handle.identifier == PT_ARN and sleeps == [3]
    assert state.status == "InService" and state.base_model_id == BASE
    assert state.model_units == 1 and state.model_arn == MODEL_ARN
    body = local.requests_for("CreateProvisionedModelThroughput")[0].body
    assert body["modelId"] == MODEL_ARN and body["modelUnits"] == 1
    assert body["commitmentDuration"] == "OneMonth"
    local.script("UpdateProvisionedModelThroughput", Reply.json({}))
    handle.update(name="renamed")
    update = local.requests_for("UpdateProvisionedModelThroughput")[0]
    assert update.method == "PATCH" and update.body == {"desiredProvisionedModelName": "renamed"}
    assert update.path_params == {"provisionedModelId": PT_ARN}
    local.script("DeleteProvisionedModelThroughput", Reply.json({}))
    handle.delete()
    assert local.requests_for("DeleteProvisionedModelThroughput")[0].method == "DELETE"


def test_provisioned_failed_and_timeout(local, local_settings):
    handle = ProvisionedThroughput.attach(PT_ARN, settings=local_settings)
    local.script("GetProvisionedModelThroughput", pt("Failed", failureMessage="capacity"))
    with pytest.raises(ProvisioningFailedError) as caught:
        handle.wait(poll_interval=0)
    assert caught.value.failure_message == "capacity" and caught.value.resource_arn == PT_ARN
    local.set_default("GetProvisionedModelThroughput", pt("Creating"))
    with pytest.raises(ModelTimeoutError, match="still Creating"):
        handle.wait(poll_interval=0, timeout=0)


def test_provisioned_requests_checked_before_sending():
    with pytest.raises(ConfigurationError, match="model_units"):
        ProvisionedThroughput.build_request(MODEL_ARN, 0, "x", None)
    with pytest.raises(ConfigurationError, match="commitment must be one of"):
        ProvisionedThroughput.build_request(MODEL_ARN, 1, "x", "OneYear")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="base models are sold with"):
        ProvisionedThroughput.build_request(BASE_ARN, 1, "x", None)
    no_commitment = ProvisionedThroughput.build_request(MODEL_ARN, 2, "x", None)
    assert "commitmentDuration" not in no_commitment and no_commitment["modelUnits"] == 2


def test_list_follows_pages(local, local_settings):
    summary = {
        "provisionedModelName": "a",
        "provisionedModelArn": PT_ARN,
        "modelArn": MODEL_ARN,
        "desiredModelArn": MODEL_ARN,
        "foundationModelArn": BASE_ARN,
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService",
        "creationTime": "2026-12-01T10:00:00Z",
        "lastModifiedTime": "2026-12-01T10:00:00Z",
    }
    local.script(
        "ListProvisionedModelThroughputs",
        Reply.json({"provisionedModelSummaries": [summary], "nextToken": "n1"}),
        Reply.json({"provisionedModelSummaries": [{**summary, "provisionedModelName": "b"}]}),
    )
    found = ProvisionedThroughput.list(settings=local_settings)
    assert [s.name for s in found] == ["a", "b"]
    assert local.requests_for("ListProvisionedModelThroughputs")[1].query == {"nextToken": ["n1"]}


def test_deployment_lifecycle(local, local_settings):
    local.script("CreateCustomModelDeployment", Reply.json({"customModelDeploymentArn": DEP_ARN}))
    local.script("GetCustomModelDeployment", dep("Creating"), dep("Active"))
    handle = CustomModelDeployment.create(MODEL, name="tickets-od", settings=local_settings)
    state = handle.wait(poll_interval=0)
    assert state.status == "Active" and state.name == "tickets-od"
    assert local.requests_for("CreateCustomModelDeployment")[0].body["modelArn"] == MODEL_ARN
    assert local.requests_for("GetCustomModelDeployment")[0].path_params == {
        "customModelDeploymentIdentifier": DEP_ARN
    }
    with pytest.raises(ConfigurationError, match="custom model ARN"):
        CustomModelDeployment.build_request(BASE_ARN, "x", None)


async def test_async_deployment_and_provisioned(local, local_settings):
    local.script("CreateCustomModelDeployment", Reply.json({"customModelDeploymentArn": DEP_ARN}))
    local.script("GetCustomModelDeployment", dep("Creating"), dep("Failed", failureMessage="quota"))
    local.script("CreateProvisionedModelThroughput", Reply.json({"provisionedModelArn": PT_ARN}))
    local.script("GetProvisionedModelThroughput", pt("InService"))
    local.script("DeleteProvisionedModelThroughput", Reply.json({}))
    deployment = await CustomModelDeployment.acreate(MODEL, name="od", settings=local_settings)
    provisioned = await ProvisionedThroughput.acreate(
        MODEL, model_units=1, name="pt", settings=local_settings
    )
    try:
        with pytest.raises(ProvisioningFailedError, match="quota"):
            await deployment.await_(poll_interval=0)
        assert (await provisioned.await_(poll_interval=0)).status == "InService"
        await provisioned.adelete()
    finally:
        await deployment.plane.aclose()
        await provisioned.plane.aclose()
    assert len(local.requests_for("DeleteProvisionedModelThroughput")) == 1


def test_invocation_target_keeps_the_base_model(local, local_settings):
    handle = ProvisionedThroughput.attach(PT_ARN, settings=local_settings)
    assert invocation_target(handle) == (PT_ARN, None)
    local.script("GetProvisionedModelThroughput", pt("InService"))
    handle.status()
    assert invocation_target(handle) == (PT_ARN, BASE)
    assert invocation_target(MODEL) == (MODEL_ARN, BASE)
    with pytest.raises(ConfigurationError):
        invocation_target("arn:aws:bedrock:x")
