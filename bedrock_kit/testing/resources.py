"""Reply builders for Bedrock resources: customization jobs, custom models, provisioned
throughput, custom model deployments, managed prompts (GetPrompt); and for the runtime
operations :mod:`bedrock_kit.testing.builders` does not cover: CountTokens, Rerank, InvokeFlow.

Like :mod:`bedrock_kit.testing.builders`, each returns the body Bedrock sends (the members
botocore's service model requires are always there), ready for :meth:`Reply.json
<bedrock_kit.testing.Reply.json>`. ARNs and ids are unique per call unless given, so two
jobs, models or deployments never collide by accident; pass the same ``job_arn`` (or use
:func:`customization_job_progression`) for the successive states of one resource.

Example:
    >>> from bedrock_kit.testing import resources
    >>> states = resources.customization_job_progression("InProgress", "Completed")
    >>> [s["status"] for s in states], states[0]["jobArn"] == states[1]["jobArn"]
    (['InProgress', 'Completed'], True)
    >>> "outputModelArn" in states[1]
    True
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ACCOUNT = "123456789012"
"""The account id the ARNs name."""
REGION = "us-east-1"
"""The region the ARNs name."""
CREATED = "2026-12-01T10:00:00Z"
"""Creation time of every resource built here (timestamps botocore parses)."""
BASE_MODEL = "amazon.titan-text-express-v1:0:8k"
"""The default base model: Titan Text Express, customizable by fine-tuning and pre-training."""

_STAGES = ("validationDetails", "dataProcessingDetails", "trainingDetails")


def _suffix() -> str:
    return uuid.uuid4().hex[:12]


def foundation_model_arn(model_id: str = BASE_MODEL, region: str = REGION) -> str:
    """The ARN of a foundation model (``arn:aws:bedrock:<region>::foundation-model/<id>``)."""
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:{kind}/{name}"


# -- customization jobs


def create_job_reply(job_arn: str | None = None) -> dict[str, Any]:
    """CreateModelCustomizationJob's answer: the new job's ARN (a fresh one when None)."""
    return {"jobArn": job_arn or _arn("model-customization-job", _suffix())}


def _stage_details(status: str, stage: int | None) -> dict[str, Any]:
    """Stage statuses: the first ``stage`` stages Completed, that one ``status``'s image."""
    if status == "Completed":
        return {name: {"status": "Completed"} for name in _STAGES}
    at = 0 if stage is None else stage
    details: dict[str, Any] = {}
    for index, name in enumerate(_STAGES):
        if index < at:
            details[name] = {"status": "Completed"}
        elif index == at:
            details[name] = {"status": "Failed" if status == "Failed" else status}
        else:
            details[name] = {"status": "NotStarted"}
    return details


def customization_job(
    status: str = "InProgress",
    *,
    job_arn: str | None = None,
    job_name: str | None = None,
    custom_model_name: str | None = None,
    base_model_id: str = BASE_MODEL,
    method: str = "FINE_TUNING",
    stage: int | None = None,
    training_loss: float | None = None,
    validation_losses: Sequence[float] = (),
    failure_message: str | None = None,
    output_model_arn: str | None = None,
    hyperparameters: Mapping[str, str] | None = None,
    s3_prefix: str = "s3://bedrock-kit-tests/tuning",
    teacher_model_id: str | None = None,
) -> dict[str, Any]:
    """GetModelCustomizationJob's answer for a job in ``status``.

    Args:
        status: ``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``.
        job_arn: The job's ARN; a fresh one when None.
        job_name: Its name; derived from the ARN when None.
        custom_model_name: Name of the model it makes; ``<job_name>-model`` when None.
        base_model_id: The model customized.
        method: ``customizationType`` (``FINE_TUNING``, ``CONTINUED_PRE_TRAINING``,
            ``DISTILLATION``).
        stage: Index of the stage in progress (0 validation, 1 data processing, 2 training);
            earlier ones are Completed. None: the first; a Completed job completed them all.
        training_loss: ``trainingMetrics.trainingLoss``, when reported.
        validation_losses: ``validationMetrics``, one loss per validator.
        failure_message: ``failureMessage``; a default one for a Failed job when None.
        output_model_arn: The custom model's ARN; a fresh one for a Completed job when None.
        hyperparameters: ``hyperParameters`` as Bedrock echoes them (strings).
        s3_prefix: Where the job's data and output live.
        teacher_model_id: The teacher of a ``DISTILLATION`` job.
    """
    arn = job_arn or _arn("model-customization-job", _suffix())
    name = job_name or arn.rsplit("/", 1)[-1]
    prefix = s3_prefix.rstrip("/")
    body: dict[str, Any] = {
        "jobArn": arn,
        "jobName": name,
        "outputModelName": custom_model_name or f"{name}-model",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/BedrockCustomization",
        "status": status,
        "statusDetails": _stage_details(status, stage),
        "creationTime": CREATED,
        "lastModifiedTime": CREATED,
        "baseModelArn": foundation_model_arn(base_model_id),
        "customizationType": method,
        "hyperParameters": dict(hyperparameters or {"epochCount": "2"}),
        "trainingDataConfig": {"s3Uri": f"{prefix}/{name}/train.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": f"{prefix}/{name}/output/"},
    }
    if training_loss is not None:
        body["trainingMetrics"] = {"trainingLoss": training_loss}
    if validation_losses:
        body["validationMetrics"] = [{"validationLoss": loss} for loss in validation_losses]
    if status == "Completed":
        body["outputModelArn"] = output_model_arn or _arn("custom-model", f"{name}-{_suffix()}")
        body["endTime"] = CREATED
    elif output_model_arn:
        body["outputModelArn"] = output_model_arn
    if status == "Failed":
        body["failureMessage"] = failure_message or "Training data validation failed."
    elif failure_message:
        body["failureMessage"] = failure_message
    if teacher_model_id is not None:
        body["customizationConfig"] = {
            "distillationConfig": {
                "teacherModelConfig": {"teacherModelIdentifier": teacher_model_id}
            }
        }
    return body


def customization_job_progression(*statuses: str, **options: Any) -> list[dict[str, Any]]:
    """Successive GetModelCustomizationJob answers of ONE job (same ARN and name).

    Each ``InProgress`` state moves one stage further (validation, data processing,
    training); options are those of :func:`customization_job` (``training_loss`` goes to the
    states from training on).

    Raises:
        ValueError: When no status is given.
    """
    if not statuses:
        raise ValueError("give at least one status")
    options.setdefault("job_arn", _arn("model-customization-job", _suffix()))
    if "Completed" in statuses:
        name = options.get("job_name") or options["job_arn"].rsplit("/", 1)[-1]
        options.setdefault("output_model_arn", _arn("custom-model", f"{name}-{_suffix()}"))
    loss = options.pop("training_loss", None)
    states = []
    for index, status in enumerate(statuses):
        stage = min(index, len(_STAGES) - 1)
        states.append(
            customization_job(
                status,
                stage=stage,
                training_loss=loss if stage == len(_STAGES) - 1 or status == "Completed" else None,
                **options,
            )
        )
    return states


def custom_model(
    *,
    model_arn: str | None = None,
    name: str | None = None,
    base_model_id: str = BASE_MODEL,
    job_arn: str | None = None,
    method: str = "FINE_TUNING",
    status: str = "Active",
    training_loss: float | None = 0.25,
    validation_losses: Sequence[float] = (),
    s3_prefix: str = "s3://bedrock-kit-tests/tuning",
) -> dict[str, Any]:
    """GetCustomModel's answer: a custom model made by a customization job.

    Args:
        model_arn: Its ARN; a fresh one when None (pass a Completed job's ``outputModelArn``).
        name: Its name; derived from the ARN when None.
        base_model_id: The model it was customized from.
        job_arn: The job that made it; a fresh ARN when None.
        method: ``customizationType``.
        status: ``modelStatus``: ``Active``, ``Creating`` or ``Failed``.
        training_loss: ``trainingMetrics.trainingLoss`` (None: not reported).
        validation_losses: ``validationMetrics``.
        s3_prefix: Where its data and output live.
    """
    arn = model_arn or _arn("custom-model", _suffix())
    model_name = name or arn.rsplit("/", 1)[-1]
    prefix = s3_prefix.rstrip("/")
    body: dict[str, Any] = {
        "modelArn": arn,
        "modelName": model_name,
        "jobArn": job_arn or _arn("model-customization-job", _suffix()),
        "baseModelArn": foundation_model_arn(base_model_id),
        "customizationType": method,
        "modelStatus": status,
        "trainingDataConfig": {"s3Uri": f"{prefix}/{model_name}/train.jsonl"},
        "outputDataConfig": {"s3Uri": f"{prefix}/{model_name}/output/"},
        "creationTime": CREATED,
    }
    if training_loss is not None:
        body["trainingMetrics"] = {"trainingLoss": training_loss}
    if validation_losses:
        body["validationMetrics"] = [{"validationLoss": loss} for loss in validation_losses]
    return body


# -- provisioned throughput and custom model deployments


def create_provisioned_reply(provisioned_model_arn: str | None = None) -> dict[str, Any]:
    """CreateProvisionedModelThroughput's answer (a fresh ARN when None)."""
    return {"provisionedModelArn": provisioned_model_arn or _arn("provisioned-model", _suffix())}


def provisioned_throughput(
    status: str = "InService",
    *,
    provisioned_model_arn: str | None = None,
    name: str = "provisioned",
    model_arn: str | None = None,
    base_model_id: str = BASE_MODEL,
    model_units: int = 1,
    desired_model_units: int | None = None,
    commitment: str | None = None,
    failure_message: str | None = None,
) -> dict[str, Any]:
    """GetProvisionedModelThroughput's answer.

    Args:
        status: ``Creating``, ``InService``, ``Updating`` or ``Failed``.
        provisioned_model_arn: Its ARN; a fresh one when None.
        name: ``provisionedModelName``.
        model_arn: The model served (a custom model); the base model's ARN when None.
        base_model_id: ``foundationModelArn``'s model.
        model_units: Model units in service.
        desired_model_units: Units asked for (an update in progress); ``model_units`` if None.
        commitment: ``OneMonth``, ``SixMonths`` or None (no commitment).
        failure_message: ``failureMessage``; a default one when Failed.
    """
    served = model_arn or foundation_model_arn(base_model_id)
    body: dict[str, Any] = {
        "provisionedModelArn": provisioned_model_arn or _arn("provisioned-model", _suffix()),
        "provisionedModelName": name,
        "modelArn": served,
        "desiredModelArn": served,
        "foundationModelArn": foundation_model_arn(base_model_id),
        "modelUnits": model_units,
        "desiredModelUnits": model_units if desired_model_units is None else desired_model_units,
        "status": status,
        "creationTime": CREATED,
        "lastModifiedTime": CREATED,
    }
    if commitment is not None:
        body["commitmentDuration"] = commitment
        body["commitmentExpirationTime"] = "2027-06-01T10:00:00Z"
    if status == "Failed" or failure_message:
        body["failureMessage"] = failure_message or "Insufficient capacity."
    return body


def create_deployment_reply(deployment_arn: str | None = None) -> dict[str, Any]:
    """CreateCustomModelDeployment's answer (a fresh ARN when None)."""
    return {
        "customModelDeploymentArn": deployment_arn or _arn("custom-model-deployment", _suffix())
    }


def custom_model_deployment(
    status: str = "Active",
    *,
    deployment_arn: str | None = None,
    name: str = "deployment",
    model_arn: str | None = None,
    failure_message: str | None = None,
) -> dict[str, Any]:
    """GetCustomModelDeployment's answer (on-demand deployment of a custom model).

    Args:
        status: ``Creating``, ``Active`` or ``Failed``.
        deployment_arn: Its ARN; a fresh one when None.
        name: ``modelDeploymentName``.
        model_arn: The custom model deployed; a fresh ARN when None.
        failure_message: ``failureMessage``; a default one when Failed.
    """
    body: dict[str, Any] = {
        "customModelDeploymentArn": deployment_arn or _arn("custom-model-deployment", _suffix()),
        "modelDeploymentName": name,
        "modelArn": model_arn or _arn("custom-model", _suffix()),
        "createdAt": CREATED,
        "lastUpdatedAt": CREATED,
        "status": status,
    }
    if status == "Failed" or failure_message:
        body["failureMessage"] = failure_message or "Deployment failed."
    return body


# -- managed prompts and CountTokens


def text_prompt_variant(
    text: str,
    *,
    name: str = "text",
    variables: Iterable[str] = (),
    model_id: str = "amazon.nova-lite-v1:0",
    inference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A TEXT prompt variant; ``{{name}}`` placeholders are its input variables."""
    return {
        "name": name,
        "templateType": "TEXT",
        "templateConfiguration": {
            "text": {"text": text, "inputVariables": [{"name": v} for v in variables]}
        },
        "modelId": model_id,
        "inferenceConfiguration": {"text": dict(inference or {"maxTokens": 300})},
    }


def chat_prompt_variant(
    messages: Sequence[tuple[str, str]],
    *,
    system: str | None = None,
    name: str = "chat",
    variables: Iterable[str] = (),
    model_id: str = "anthropic.claude-3-haiku-20240307-v1:0",
    inference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A CHAT prompt variant from ``(role, text)`` pairs and an optional system text."""
    chat: dict[str, Any] = {
        "messages": [{"role": role, "content": [{"text": text}]} for role, text in messages],
        "inputVariables": [{"name": v} for v in variables],
    }
    if system is not None:
        chat["system"] = [{"text": system}]
    return {
        "name": name,
        "templateType": "CHAT",
        "templateConfiguration": {"chat": chat},
        "modelId": model_id,
        "inferenceConfiguration": {"text": dict(inference or {"maxTokens": 300})},
    }


def prompt_reply(
    *variants: Mapping[str, Any],
    prompt_id: str | None = None,
    version: str = "DRAFT",
    name: str = "prompt",
    default: str | None = None,
) -> dict[str, Any]:
    """GetPrompt's answer: a managed prompt with ``variants`` at ``version``.

    Args:
        *variants: :func:`text_prompt_variant` / :func:`chat_prompt_variant` dicts.
        prompt_id: The prompt's 10-character id; a fresh one when None.
        version: ``DRAFT`` or a version number (the ARN ends ``:<version>`` then).
        name: The prompt's name.
        default: ``defaultVariant``; the first variant's name when None.

    Raises:
        ValueError: When no variant is given.
    """
    if not variants:
        raise ValueError("a prompt needs at least one variant")
    pid = prompt_id or uuid.uuid4().hex[:10].upper()
    arn = _arn("prompt", pid)
    return {
        "id": pid,
        "arn": arn if version == "DRAFT" else f"{arn}:{version}",
        "version": version,
        "name": name,
        "defaultVariant": default or str(variants[0]["name"]),
        "variants": [dict(v) for v in variants],
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }


def count_tokens_reply(input_tokens: int) -> dict[str, Any]:
    """CountTokens' answer.

    Raises:
        ValueError: For a negative count.
    """
    if input_tokens < 0:
        raise ValueError(f"input_tokens must be >= 0, got {input_tokens}")
    return {"inputTokens": input_tokens}


# -- Rerank and InvokeFlow (bedrock-agent-runtime)


def rerank_reply(
    scores: Sequence[float], *, documents: Sequence[str] | None = None
) -> dict[str, Any]:
    """Rerank's answer: one result per source, best first, ``index`` into the sources sent.

    Args:
        scores: ``relevanceScore`` of each source, in the order they were sent.
        documents: The sources' texts, returned as ``textDocument`` when given (Rerank
            returns them when the request asks for them).

    Raises:
        ValueError: When ``documents`` and ``scores`` differ in length.
    """
    if documents is not None and len(documents) != len(scores):
        raise ValueError("give one document per score")
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    results: list[dict[str, Any]] = []
    for index in order:
        result: dict[str, Any] = {"index": index, "relevanceScore": float(scores[index])}
        if documents is not None:
            result["document"] = {"type": "TEXT", "textDocument": {"text": documents[index]}}
        results.append(result)
    return {"results": results}


def flow_events(
    *outputs: Any,
    node_name: str = "FlowOutputNode",
    traces: Iterable[Mapping[str, Any]] = (),
    input_required: Any = None,
    input_node: str = "FlowInputNode",
) -> list[dict[str, Any]]:
    """InvokeFlow events: traces, one ``flowOutputEvent`` per output, then the completion.

    Args:
        *outputs: Documents the output node returns (any JSON value).
        node_name: The output node's name.
        traces: ``flowTraceEvent`` payloads (``{"trace": {...}}``), sent first.
        input_required: A document asking the caller for more input (multi-turn flows): the
            stream then ends with ``flowMultiTurnInputRequestEvent`` and the completion
            reason ``INPUT_REQUIRED``.
        input_node: The node asking for that input.
    """
    events: list[dict[str, Any]] = [{"flowTraceEvent": dict(t)} for t in traces]
    events += [
        {
            "flowOutputEvent": {
                "nodeName": node_name,
                "nodeType": "FlowOutputNode",
                "content": {"document": output},
            }
        }
        for output in outputs
    ]
    reason = "SUCCESS"
    if input_required is not None:
        events.append(
            {
                "flowMultiTurnInputRequestEvent": {
                    "nodeName": input_node,
                    "nodeType": "FlowInputNode",
                    "content": {"document": input_required},
                }
            }
        )
        reason = "INPUT_REQUIRED"
    events.append({"flowCompletionEvent": {"completionReason": reason}})
    return events
