"""Clients and typed results of the ``bedrock`` control plane used for customization.

:class:`ControlPlane` holds the ``bedrock`` and ``s3`` client pools every customization
handle shares (built from the project's :class:`ClientSettings`); the ``parse_*`` functions
turn GetModelCustomizationJob and GetCustomModel responses into small dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bedrock_kit.core.transport.clients import ClientPool, ClientSettings, client_settings_from
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

CLIENT_ARGS = frozenset(
    {
        "region_name",
        "endpoint_url",
        "credentials_profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "max_retries",
        "retry_mode",
        "timeout",
    }
)
_INJECTED = ("client", "async_client", "s3_client", "async_s3_client")


class ControlPlane:
    """The ``bedrock`` and ``s3`` clients of one customization handle.

    Args:
        settings: How to reach AWS (one ``endpoint_url`` serves both in tests).
        client: Injected boto3 ``bedrock`` client.
        async_client: Injected aiobotocore ``bedrock`` client.
        s3_client: Injected boto3 ``s3`` client.
        async_s3_client: Injected aiobotocore ``s3`` client.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        client: Any = None,
        async_client: Any = None,
        s3_client: Any = None,
        async_s3_client: Any = None,
    ) -> None:
        self.settings = settings
        self.bedrock = ClientPool(settings, "bedrock", client=client, async_client=async_client)
        self.s3 = ClientPool(settings, "s3", client=s3_client, async_client=async_s3_client)

    @classmethod
    def from_args(cls, client_args: Mapping[str, Any]) -> ControlPlane:
        """From the client keyword arguments every bedrock-kit class takes (plus
        ``settings`` and the injected clients).

        Raises:
            ConfigurationError: An argument is unknown or invalid.
        """
        args = dict(client_args)
        unknown = sorted(set(args) - CLIENT_ARGS - {"settings", *_INJECTED})
        if unknown:
            raise ConfigurationError(
                f"unknown client argument(s) {unknown}; expected some of "
                f"{sorted(CLIENT_ARGS | {'settings', *_INJECTED})}"
            )
        injected = {name: args.pop(name) for name in _INJECTED if name in args}
        settings = args.pop("settings", None) or client_settings_from(**args)
        return cls(settings, **injected)

    @property
    def region(self) -> str | None:
        """Region of the ``bedrock`` client."""
        return self.bedrock.region

    async def aclose(self) -> None:
        """Close the async clients of the running loop (injected ones stay open)."""
        await self.bedrock.aclose()
        await self.s3.aclose()


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://bucket/key`` URI.

    Raises:
        ConfigurationError: Not an ``s3://`` URI with a bucket.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ConfigurationError(f"expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ConfigurationError(f"the S3 URI {uri!r} names no bucket")
    return bucket, key


def base_model_from_arn(arn: str | None) -> str | None:
    """``amazon.titan-text-express-v1:0:8k`` from a foundation-model ARN (or the id as is)."""
    if not arn:
        return None
    return arn.rsplit("/", 1)[1] if "/" in arn else arn


@dataclass(frozen=True)
class JobDescription:
    """A model customization job as GetModelCustomizationJob returned it."""

    job_arn: str
    """The job's ARN."""
    job_name: str
    """The job's name."""
    status: str
    """``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``."""
    base_model_id: str | None
    """Base model id (from ``baseModelArn``)."""
    custom_model_name: str | None
    """``outputModelName``."""
    custom_model_arn: str | None
    """``outputModelArn`` (set once the model exists)."""
    customization_type: str | None
    """``FINE_TUNING``, ``CONTINUED_PRE_TRAINING``, ``DISTILLATION``..."""
    failure_message: str = ""
    """Why the job failed, when it did."""
    output_s3_uri: str | None = None
    """Where Bedrock writes training metrics (``outputDataConfig.s3Uri``)."""
    hyperparameters: dict[str, str] = field(default_factory=dict)
    """The hyperparameters the job runs with."""
    training_loss: float | None = None
    """``trainingMetrics.trainingLoss``, when reported."""
    validation_losses: tuple[float, ...] = ()
    """``validationMetrics[].validationLoss``, one per validation set."""
    stages: dict[str, str] = field(default_factory=dict)
    """``statusDetails``: stage (``validationDetails``...) -> its status."""
    creation_time: datetime | None = None
    """When the job was created."""
    end_time: datetime | None = None
    """When it ended."""

    @property
    def done(self) -> bool:
        """True once the job is Completed, Failed or Stopped."""
        return self.status in ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class CustomModel:
    """A custom model as GetCustomModel returned it: what to invoke and what it came from."""

    arn: str
    """``modelArn``: what provisioned throughput and deployments take."""
    name: str
    """``modelName``."""
    base_model_id: str | None
    """The base model (from ``baseModelArn``): codecs, CountTokens and pricing use it."""
    job_arn: str | None = None
    """The job that produced it."""
    customization_type: str | None = None
    """How it was customized."""
    status: str | None = None
    """``modelStatus`` (``Active``, ``Creating``, ``Failed``) where reported."""
    output_s3_uri: str | None = None
    """Where the job wrote its metrics."""
    training_loss: float | None = None
    """Final training loss, when reported."""
    validation_losses: tuple[float, ...] = ()
    """Final validation losses, when reported."""


def _loss(metrics: Any, key: str) -> float | None:
    value = metrics.get(key) if isinstance(metrics, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def _losses(metrics: Any) -> tuple[float, ...]:
    found = (_loss(m, "validationLoss") for m in metrics or ())
    return tuple(v for v in found if v is not None)


def parse_job(response: Mapping[str, Any]) -> JobDescription:
    """A :class:`JobDescription` from a GetModelCustomizationJob response."""
    try:
        details = response.get("statusDetails") or {}
        return JobDescription(
            job_arn=str(response["jobArn"]),
            job_name=str(response.get("jobName") or ""),
            status=str(response["status"]),
            base_model_id=base_model_from_arn(response.get("baseModelArn")),
            custom_model_name=response.get("outputModelName"),
            custom_model_arn=response.get("outputModelArn"),
            customization_type=response.get("customizationType"),
            failure_message=str(response.get("failureMessage") or ""),
            output_s3_uri=(response.get("outputDataConfig") or {}).get("s3Uri"),
            hyperparameters=dict(response.get("hyperParameters") or {}),
            training_loss=_loss(response.get("trainingMetrics"), "trainingLoss"),
            validation_losses=_losses(response.get("validationMetrics")),
            stages={
                name: str(stage.get("status"))
                for name, stage in details.items()
                if isinstance(stage, Mapping) and stage.get("status")
            },
            creation_time=response.get("creationTime"),
            end_time=response.get("endTime"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedResponseError(
            f"GetModelCustomizationJob response lacks {exc}", raw=repr(response)
        ) from exc


def parse_custom_model(response: Mapping[str, Any]) -> CustomModel:
    """A :class:`CustomModel` from a GetCustomModel response."""
    try:
        return CustomModel(
            arn=str(response["modelArn"]),
            name=str(response["modelName"]),
            base_model_id=base_model_from_arn(response.get("baseModelArn")),
            job_arn=response.get("jobArn"),
            customization_type=response.get("customizationType"),
            status=response.get("modelStatus"),
            output_s3_uri=(response.get("outputDataConfig") or {}).get("s3Uri"),
            training_loss=_loss(response.get("trainingMetrics"), "trainingLoss"),
            validation_losses=_losses(response.get("validationMetrics")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedResponseError(
            f"GetCustomModel response lacks {exc}", raw=repr(response)
        ) from exc
