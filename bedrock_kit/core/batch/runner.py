"""What both adapters' batch modes share: settings, requests to records, a blocking run.

An adapter builds each input's InvokeModel request exactly as its chat model would
(``api="invoke"``), hands the list to :func:`run_batch` (or :func:`arun_batch`), and converts
the outcomes back to its framework's messages. The job is submitted, waited for and read
here, so the two adapters cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bedrock_kit.core.batch.job import BedrockBatchJob, BelowMinimum, parse_s3_uri
from bedrock_kit.core.batch.outputs import Outcome
from bedrock_kit.core.batch.records import BatchQuotas
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError

__all__ = ["BatchSettings", "arun_batch", "body_of", "run_batch"]

_GUARDRAIL_KEYS = ("guardrailIdentifier", "guardrailVersion")


@dataclass(frozen=True)
class BatchSettings:
    """How an adapter's batch mode runs its jobs."""

    s3_uri: str
    """Where input files go (``s3://bucket/prefix/``)."""
    role_arn: str
    """Service role Bedrock assumes to read the input and write the output."""
    output_s3_uri: str | None = None
    """Where Bedrock writes output (default: under ``s3_uri``)."""
    name: str = "bedrock-kit"
    """Job name prefix."""
    quotas: BatchQuotas = field(default_factory=BatchQuotas)
    """Per-job quotas of your account."""
    below_minimum: BelowMinimum = "error"
    """Fewer inputs than a job's minimum: ``"error"`` or ``"online"`` (InvokeModel calls)."""
    poll: float = 30.0
    """Seconds between status polls."""
    timeout: float | None = None
    """Seconds to wait for the jobs (None: as long as they run)."""
    progress: bool = False
    """Show a progress bar while waiting."""
    timeout_hours: int | None = None
    """The jobs' own timeout (24-168 h; Bedrock's default when None)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the jobs."""
    bedrock_endpoint_url: str | None = None
    """Endpoint of the Bedrock control plane, when not the chat model's."""
    s3_endpoint_url: str | None = None
    """Endpoint of S3 (VPC endpoint, a local S3)."""
    s3_client: Any = None
    """An injected boto3 S3 client."""
    async_s3_client: Any = None
    """An injected aiobotocore S3 client."""

    def __post_init__(self) -> None:
        parse_s3_uri(self.s3_uri)
        if self.output_s3_uri is not None:
            parse_s3_uri(self.output_s3_uri)
        if self.below_minimum not in ("error", "online"):
            raise ConfigurationError(
                f"below_minimum must be 'error' or 'online', got {self.below_minimum!r}"
            )
        if self.poll <= 0:
            raise ConfigurationError(f"poll must be > 0 seconds, got {self.poll!r}")

    def submit_kwargs(self, chat: ClientSettings) -> dict[str, Any]:
        """Keyword arguments of :meth:`BedrockBatchJob.submit` for a chat model's settings."""
        bedrock = chat
        if self.bedrock_endpoint_url is not None:
            bedrock = replace(chat, endpoint_url=self.bedrock_endpoint_url)
        return {
            "s3_uri": self.s3_uri,
            "role_arn": self.role_arn,
            "output_s3_uri": self.output_s3_uri,
            "name": self.name,
            "quotas": self.quotas,
            "below_minimum": self.below_minimum,
            "timeout_hours": self.timeout_hours,
            "tags": dict(self.tags),
            "settings": bedrock,
            "s3_settings": replace(chat, endpoint_url=self.s3_endpoint_url),
            "s3_client": self.s3_client,
            "async_s3_client": self.async_s3_client,
        }


def body_of(request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``modelInput`` of an InvokeModel request a chat model built.

    Raises:
        ConfigurationError: the request carries a guardrail (batch jobs take none).
    """
    if any(key in request for key in _GUARDRAIL_KEYS):
        raise ConfigurationError(
            "batch inference jobs apply no guardrail: drop guardrail_config for batch mode, "
            "or check the answers with ApplyGuardrail afterwards"
        )
    body: dict[str, Any] = json.loads(request["body"])
    return body


def run_batch(
    model_id: str,
    requests: Sequence[Mapping[str, Any]],
    settings: BatchSettings,
    chat: ClientSettings,
    **clients: Any,
) -> tuple[BedrockBatchJob, list[Outcome]]:
    """Submit ``requests`` as jobs, wait for them, and read every outcome in input order."""
    bodies = [body_of(request) for request in requests]
    job = BedrockBatchJob.submit(model_id, bodies, **settings.submit_kwargs(chat), **clients)
    job.wait(poll=settings.poll, timeout=settings.timeout, progress=settings.progress)
    return job, job.results()


async def arun_batch(
    model_id: str,
    requests: Sequence[Mapping[str, Any]],
    settings: BatchSettings,
    chat: ClientSettings,
    **clients: Any,
) -> tuple[BedrockBatchJob, list[Outcome]]:
    """Async :func:`run_batch`."""
    bodies = [body_of(request) for request in requests]
    job = await BedrockBatchJob.asubmit(model_id, bodies, **settings.submit_kwargs(chat), **clients)
    try:
        await job.async_wait(
            poll=settings.poll, timeout=settings.timeout, progress=settings.progress
        )
        return job, await job.aresults()
    finally:
        await job.aclose()
