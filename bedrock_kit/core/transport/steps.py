"""Control-plane work written once, run sync or native async (sans-IO steps).

A multi-call workflow (upload documents then start an ingestion job, deploy an agent then
wait until it is prepared) is a generator that yields :class:`Call` and :class:`Sleep`
steps and receives each call's response. :func:`drive` runs it with boto3 clients and
``time.sleep``; :func:`adrive` with aiobotocore clients and ``asyncio.sleep``. The logic
(what to call, what the answer means, when to stop) exists once; only these two loops differ.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bedrock_kit.core.transport.arguments import unknown_argument_error
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings, client_settings_from
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import translate_errors

__all__ = [
    "CLIENT_ARGS",
    "FRAMEWORK_CONTROL_ARGS",
    "Call",
    "ControlClients",
    "Sleep",
    "Steps",
    "adrive",
    "drive",
    "split_control_args",
]

R = TypeVar("R")


@dataclass(frozen=True)
class Call:
    """One API call of a workflow."""

    service: str
    """botocore service name (``bedrock-agent``, ``s3``)."""
    method: str
    """The client method, e.g. ``start_ingestion_job``."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments of the call."""
    resource_id: str | None = None
    """The id errors name (knowledge base, agent, S3 URI)."""
    resource: str = "knowledge_base"
    """What ``resource_id`` is (``knowledge_base``, ``agent``, ``s3``)."""


@dataclass(frozen=True)
class Sleep:
    """Wait before the next step."""

    seconds: float
    """How long."""


Steps = Generator[Call | Sleep, Any, R]
"""A workflow: yields steps, receives call responses (None after a sleep), returns R."""

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
_INJECTED = {
    "client": "bedrock-agent",
    "async_client": "bedrock-agent",
    "s3_client": "s3",
    "async_s3_client": "s3",
}


class ControlClients(OwnsClients):
    """The ``bedrock-agent`` and ``s3`` clients of one control-plane object.

    Args:
        settings: How to reach AWS (in tests one endpoint may serve ``bedrock-agent`` and
            another ``s3``: pass ``s3_settings``).
        s3_settings: Settings for S3 when they differ; None uses ``settings``.
        client: Injected boto3 ``bedrock-agent`` client.
        async_client: Injected aiobotocore ``bedrock-agent`` client.
        s3_client: Injected boto3 ``s3`` client.
        async_s3_client: Injected aiobotocore ``s3`` client.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        s3_settings: ClientSettings | None = None,
        client: Any = None,
        async_client: Any = None,
        s3_client: Any = None,
        async_s3_client: Any = None,
    ) -> None:
        self.settings = settings
        # Attributes, not a dict: close() / aclose() find pools among attributes only.
        self.agent_pool = ClientPool(
            settings, "bedrock-agent", client=client, async_client=async_client
        )
        self.s3_pool = ClientPool(
            s3_settings or settings, "s3", client=s3_client, async_client=async_s3_client
        )

    @property
    def pools(self) -> dict[str, ClientPool]:
        """The pools by service name."""
        return {"bedrock-agent": self.agent_pool, "s3": self.s3_pool}

    @classmethod
    def from_args(cls, client_args: Mapping[str, Any], what: str) -> ControlClients:
        """From the client keyword arguments every bedrock-kit class takes, plus
        ``settings``, ``s3_settings`` and the injected clients.

        Raises:
            ConfigurationError: An argument is unknown or invalid.
        """
        args = dict(client_args)
        allowed = CLIENT_ARGS | {"settings", "s3_settings", *_INJECTED}
        unknown = sorted(set(args) - allowed)
        if unknown:
            raise unknown_argument_error(what, unknown, allowed)
        injected = {name: args.pop(name) for name in _INJECTED if name in args}
        s3_settings = args.pop("s3_settings", None)
        settings = args.pop("settings", None) or client_settings_from(**args)
        return cls(settings, s3_settings=s3_settings, **injected)

    @property
    def region(self) -> str | None:
        """Region of the ``bedrock-agent`` client."""
        return self.pools["bedrock-agent"].region


def drive(
    steps: Steps[R], clients: ControlClients, sleep: Callable[[float], None] = time.sleep
) -> R:
    """Run a workflow with boto3 clients; its return value.

    A call's error is translated and thrown into the workflow, which may handle it.

    Raises:
        BedrockKitError: What a call raised and the workflow did not handle.
    """
    try:
        step = steps.send(None)
        while True:
            if isinstance(step, Sleep):
                sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                with translate_errors(
                    model_id=step.resource_id, region=clients.region, resource=step.resource
                ):
                    client = clients.pools[step.service].client
                    answer = getattr(client, step.method)(**step.kwargs)
            except Exception as exc:
                step = steps.throw(exc)
                continue
            step = steps.send(answer)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def adrive(steps: Steps[R], clients: ControlClients) -> R:
    """Async :func:`drive` (aiobotocore clients, ``asyncio.sleep``)."""
    try:
        step = steps.send(None)
        while True:
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                with translate_errors(
                    model_id=step.resource_id, region=clients.region, resource=step.resource
                ):
                    client = await clients.pools[step.service].async_client()
                    answer = await getattr(client, step.method)(**step.kwargs)
            except Exception as exc:
                step = steps.throw(exc)
                continue
            step = steps.send(answer)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


FRAMEWORK_CONTROL_ARGS = frozenset(
    {"s3_endpoint_url", "control_client", "async_control_client", "s3_client", "async_s3_client"}
)
"""Arguments the adapters' control-plane helpers take besides :data:`CLIENT_ARGS`."""


def split_control_args(
    client_args: Mapping[str, Any], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Adapter arguments -> (:meth:`ControlClients.from_args` arguments, runtime arguments).

    The client keyword arguments every bedrock-kit class takes go to both: the control plane
    (``bedrock-agent``, ``s3``) and the runtime object the adapter returns (a retriever, an
    agent runnable). ``s3_endpoint_url`` points S3 elsewhere (MinIO, moto); ``control_client``
    / ``async_control_client`` inject ``bedrock-agent`` clients, ``s3_client`` /
    ``async_s3_client`` S3 ones.

    Raises:
        ConfigurationError: An unknown argument, naming it.
    """
    unknown = sorted(set(client_args) - CLIENT_ARGS - FRAMEWORK_CONTROL_ARGS)
    if unknown:
        raise unknown_argument_error(what, unknown, CLIENT_ARGS | FRAMEWORK_CONTROL_ARGS)
    common = {k: v for k, v in client_args.items() if k in CLIENT_ARGS and v is not None}
    control: dict[str, Any] = dict(common)
    if client_args.get("s3_endpoint_url"):
        control["s3_settings"] = client_settings_from(
            **dict(common, endpoint_url=client_args["s3_endpoint_url"])
        )
    for given, name in (
        ("control_client", "client"),
        ("async_control_client", "async_client"),
        ("s3_client", "s3_client"),
        ("async_s3_client", "async_s3_client"),
    ):
        if client_args.get(given) is not None:
            control[name] = client_args[given]
    return control, common
