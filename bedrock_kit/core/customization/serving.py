"""Serving a custom model: provisioned throughput and on-demand custom model deployments.

:class:`ProvisionedThroughput` (CreateProvisionedModelThroughput / Get / Update / Delete /
List) and :class:`CustomModelDeployment` (CreateCustomModelDeployment / Get / Delete / List)
are small handles with the same shape: ``create``, ``status``, ``wait`` until ready,
``delete``, ``list``, sync and async through one call path. :func:`invocation_target` gives
the id to invoke and the base model behind it, for the chat models of both adapters.

Purchase rules (``/work/shared/facts/bedrock-prices.json`` ``provisioned.commitments``, from
https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html, undated): base
models are bought with a one- or six-month commitment only; custom models may also be
bought without commitment (hourly, at most two per account). Inference profiles cannot use
provisioned throughput (``provisioned.no_inference_profiles``, from
https://docs.aws.amazon.com/bedrock/latest/userguide/cross-region-inference.html).

With ``ledger=`` and ``hourly_rate=``, :meth:`ProvisionedThroughput.create` charges the
purchase to the ledger's recurring charges (:mod:`bedrock_kit.core.customization.charges`):
checked against ``max_cost_per_month`` and held before the request, registered on success,
released on failure, ended by :meth:`ProvisionedThroughput.delete`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.recurring import RecurringCharge, RecurringHold, holding
from bedrock_kit.core.customization.charges import end_charges, provisioned_charge
from bedrock_kit.core.customization.wire import (
    CLIENT_ARGS,
    ControlPlane,
    CustomModel,
    base_model_from_arn,
)
from bedrock_kit.errors import (
    ConfigurationError,
    MalformedResponseError,
    ModelTimeoutError,
    ProvisioningFailedError,
    translate_errors,
)

Commitment = Literal["OneMonth", "SixMonths"]
_COMMITMENTS = ("OneMonth", "SixMonths")
_PROFILE = re.compile(r"^(global|us-gov|us|eu|apac|jp|au|ca)\.|:(application-)?inference-profile/")


@dataclass(frozen=True)
class ServingStatus:
    """A provisioned throughput or a custom model deployment as Get* returned it."""

    arn: str
    """The provisioned model ARN or deployment ARN: what to invoke."""
    name: str
    """Its name."""
    status: str
    """``Creating``/``InService``/``Updating``/``Failed`` (provisioned) or
    ``Creating``/``Active``/``Failed`` (deployment)."""
    model_arn: str | None
    """The model it serves (custom model or foundation model ARN)."""
    base_model_id: str | None = None
    """The foundation model behind it (``foundationModelArn``), where reported."""
    model_units: int | None = None
    """Provisioned model units in service."""
    desired_model_units: int | None = None
    """Model units being moved to."""
    commitment: str | None = None
    """``OneMonth``, ``SixMonths`` or None (no commitment)."""
    commitment_expires: datetime | None = None
    """When the commitment ends."""
    failure_message: str = ""
    """Why it failed, when it did."""


def _parse(response: Mapping[str, Any], arn_key: str, name_key: str) -> ServingStatus:
    try:
        return ServingStatus(
            arn=str(response[arn_key]),
            name=str(response.get(name_key) or response.get("customModelDeploymentName") or ""),
            status=str(response["status"]),
            model_arn=response.get("modelArn"),
            base_model_id=base_model_from_arn(response.get("foundationModelArn")),
            model_units=response.get("modelUnits"),
            desired_model_units=response.get("desiredModelUnits"),
            commitment=response.get("commitmentDuration"),
            commitment_expires=response.get("commitmentExpirationTime"),
            failure_message=str(response.get("failureMessage") or ""),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedResponseError(f"response lacks {exc}", raw=repr(response)) from exc


class _Handle:
    """One call path (sync and async) for the serving handles."""

    _get: ClassVar[str]
    _delete: ClassVar[str]
    _list: ClassVar[str]
    _id_key: ClassVar[str]
    _arn_key: ClassVar[str]
    _name_key: ClassVar[str]
    _ready: ClassVar[str]
    _summaries_key: ClassVar[str]

    def __init__(self, identifier: str, plane: ControlPlane) -> None:
        self.identifier = identifier
        """ARN or name, as the Get/Delete operations take it."""
        self.plane = plane
        self.last: ServingStatus | None = None
        """The most recent status fetched."""
        self.ledger: Ledger | None = None
        """The ledger charged for it (:meth:`delete` ends the charge there)."""

    @classmethod
    def attach(cls, identifier: str, **client_args: Any) -> Any:
        """A handle on an existing resource by ARN or name (no request until used)."""
        if not identifier:
            raise ConfigurationError("identifier must be an ARN or a name")
        return cls(identifier, ControlPlane.from_args(client_args))

    def _call(self, operation: str, **kwargs: Any) -> Any:
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            return getattr(self.plane.bedrock.client, operation)(**kwargs)

    async def _acall(self, operation: str, **kwargs: Any) -> Any:
        with translate_errors(model_id=self.identifier, region=self.plane.region):
            client = await self.plane.bedrock.async_client()
            return await getattr(client, operation)(**kwargs)

    def _seen(self, response: Mapping[str, Any]) -> ServingStatus:
        self.last = _parse(response, self._arn_key, self._name_key)
        return self.last

    def status(self) -> ServingStatus:
        """The resource's current state."""
        return self._seen(self._call(self._get, **{self._id_key: self.identifier}))

    async def astatus(self) -> ServingStatus:
        """Async :meth:`status`."""
        return self._seen(await self._acall(self._get, **{self._id_key: self.identifier}))

    def delete(self) -> None:
        """Delete the resource and end its charge on the ledger (a provisioned throughput
        with a commitment keeps billing, and accruing, to the end of its term)."""
        self._call(self._delete, **{self._id_key: self.identifier})
        end_charges(self.ledger, self.identifier)

    async def adelete(self) -> None:
        """Async :meth:`delete`."""
        await self._acall(self._delete, **{self._id_key: self.identifier})
        end_charges(self.ledger, self.identifier)

    def _settled(self, state: ServingStatus, started: float, timeout: float | None) -> bool:
        if state.status == "Failed":
            end_charges(self.ledger, self.identifier)  # accrued until now; no longer serving
            reason = f": {state.failure_message}" if state.failure_message else ""
            raise ProvisioningFailedError(
                f"{state.name or state.arn} failed{reason}",
                resource_arn=state.arn,
                status=state.status,
                failure_message=state.failure_message,
                model_id=state.model_arn,
            )
        if state.status == self._ready:
            return True
        if timeout is not None and time.monotonic() - started >= timeout:
            raise ModelTimeoutError(
                f"{state.name or state.arn} still {state.status} after {timeout:g} s",
                model_id=state.model_arn,
            )
        return False

    def wait(
        self,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ServingStatus:
        """Poll until ready (``InService`` / ``Active``).

        Raises:
            ProvisioningFailedError: It went ``Failed`` (with Bedrock's message).
            ModelTimeoutError: ``timeout`` passed first.
        """
        started = time.monotonic()
        while not self._settled(state := self.status(), started, timeout):
            sleep(poll_interval)
        return state

    async def await_(
        self, *, poll_interval: float = 30.0, timeout: float | None = None
    ) -> ServingStatus:
        """Async :meth:`wait`."""
        started = time.monotonic()
        while not self._settled(state := await self.astatus(), started, timeout):
            await asyncio.sleep(poll_interval)
        return state

    @classmethod
    def list(cls, **client_args: Any) -> list[ServingStatus]:
        """Every resource of this kind in the account and region (all pages)."""
        plane = ControlPlane.from_args(client_args)
        found: list[ServingStatus] = []
        token: str | None = None
        with translate_errors(region=plane.region):
            while True:
                kwargs = {"nextToken": token} if token else {}
                page = getattr(plane.bedrock.client, cls._list)(**kwargs)
                found += [
                    _parse(s, cls._arn_key, cls._name_key) for s in page.get(cls._summaries_key, [])
                ]
                token = page.get("nextToken")
                if not token:
                    return found


class ProvisionedThroughput(_Handle):
    """Provisioned model units serving a base or custom model."""

    _get = "get_provisioned_model_throughput"
    _delete = "delete_provisioned_model_throughput"
    _list = "list_provisioned_model_throughputs"
    _id_key = "provisionedModelId"
    _arn_key = "provisionedModelArn"
    _name_key = "provisionedModelName"
    _ready = "InService"
    _summaries_key = "provisionedModelSummaries"

    @staticmethod
    def build_request(
        model_id: str, model_units: int, name: str, commitment: Commitment | None
    ) -> dict[str, Any]:
        """CreateProvisionedModelThroughput keyword arguments, checked before any request."""
        if isinstance(model_units, bool) or not isinstance(model_units, int) or model_units < 1:
            raise ConfigurationError(f"model_units must be an int >= 1, got {model_units!r}")
        if commitment is not None and commitment not in _COMMITMENTS:
            raise ConfigurationError(
                f"commitment must be one of {_COMMITMENTS} or None, got {commitment!r}"
            )
        if _PROFILE.search(model_id):
            raise ConfigurationError(
                f"inference profiles cannot use provisioned throughput, got {model_id!r}; "
                "buy it for a foundation model or custom model",
                model_id=model_id,
            )
        if commitment is None and ":custom-model/" not in model_id:
            raise ConfigurationError(
                "base models are sold with a OneMonth or SixMonths commitment only; "
                "no-commitment provisioned throughput is for custom models"
            )
        if not name or len(name) > 63:
            raise ConfigurationError(f"name must be 1 to 63 characters, got {name!r}")
        request: dict[str, Any] = {
            "modelUnits": model_units,
            "provisionedModelName": name,
            "modelId": model_id,
            "clientRequestToken": uuid.uuid4().hex,
        }
        if commitment:
            request["commitmentDuration"] = commitment
        return request

    @classmethod
    def _plan(
        cls,
        model: str | CustomModel,
        *,
        model_units: int,
        name: str,
        commitment: Commitment | None,
        ledger: Ledger | None,
        hourly_rate: Any,
        client_args: Mapping[str, Any],
    ) -> tuple[ProvisionedThroughput, dict[str, Any], RecurringCharge | None]:
        model_id = model.arn if isinstance(model, CustomModel) else model
        request = cls.build_request(model_id, model_units, name, commitment)
        charge = provisioned_charge(
            ledger,
            model,
            model_units=model_units,
            commitment=commitment,
            hourly_rate=hourly_rate,
            name=name,
        )
        handle = cls(name, ControlPlane.from_args(client_args))
        handle.ledger = ledger
        return handle, request, charge

    @staticmethod
    def _created(
        handle: ProvisionedThroughput, response: Mapping[str, Any], hold: RecurringHold | None
    ) -> None:
        try:
            handle.identifier = str(response["provisionedModelArn"])
        except (KeyError, TypeError) as exc:
            # Bedrock answered 200: the purchase went through, so it stays charged (by name).
            if hold is not None:
                hold.commit()
            raise MalformedResponseError(
                f"CreateProvisionedModelThroughput response lacks {exc}", raw=repr(response)
            ) from exc
        if hold is not None:
            hold.commit(resource=handle.identifier)

    @classmethod
    def create(
        cls,
        model: str | CustomModel,
        *,
        model_units: int,
        name: str,
        commitment: Commitment | None = None,
        ledger: Ledger | None = None,
        hourly_rate: Any = None,
        **client_args: Any,
    ) -> ProvisionedThroughput:
        """Buy provisioned throughput for ``model`` (a custom model or its ARN).

        Args:
            model: A custom model, its ARN, or a foundation model id (not an inference
                profile).
            model_units: Model units to buy.
            name: The provisioned model's name.
            commitment: ``OneMonth``, ``SixMonths``, or None (custom models only).
            ledger: Charge it to this ledger's recurring charges (see the module doc).
            hourly_rate: USD per model unit per hour for ``commitment`` (the console's
                price; bedrock-kit has no confirmed one): needed with ``ledger``.
            **client_args: ``settings`` or the client keyword arguments.

        Raises:
            ConfigurationError: Bad arguments, or a ledger without a rate; nothing is sent.
            BudgetExceededError: The purchase does not fit the ledger's ``max_cost_per_month``;
                nothing is sent.
        """
        handle, request, charge = cls._plan(
            model,
            model_units=model_units,
            name=name,
            commitment=commitment,
            ledger=ledger,
            hourly_rate=hourly_rate,
            client_args=client_args,
        )
        with holding(ledger, charge) as hold:
            response = handle._call("create_provisioned_model_throughput", **request)
            cls._created(handle, response, hold)
        return handle

    @classmethod
    async def acreate(
        cls,
        model: str | CustomModel,
        *,
        model_units: int,
        name: str,
        commitment: Commitment | None = None,
        ledger: Ledger | None = None,
        hourly_rate: Any = None,
        **client_args: Any,
    ) -> ProvisionedThroughput:
        """Async :meth:`create`."""
        handle, request, charge = cls._plan(
            model,
            model_units=model_units,
            name=name,
            commitment=commitment,
            ledger=ledger,
            hourly_rate=hourly_rate,
            client_args=client_args,
        )
        with holding(ledger, charge) as hold:
            response = await handle._acall("create_provisioned_model_throughput", **request)
            cls._created(handle, response, hold)
        return handle

    def update(self, *, name: str | None = None, model_id: str | None = None) -> None:
        """Rename it or move it to another custom model of the same base model."""
        request = self._update_request(name, model_id)
        self._call("update_provisioned_model_throughput", **request)

    async def aupdate(self, *, name: str | None = None, model_id: str | None = None) -> None:
        """Async :meth:`update`."""
        request = self._update_request(name, model_id)
        await self._acall("update_provisioned_model_throughput", **request)

    def _update_request(self, name: str | None, model_id: str | None) -> dict[str, Any]:
        if name is None and model_id is None:
            raise ConfigurationError("update needs a new name or a new model_id")
        request: dict[str, Any] = {"provisionedModelId": self.identifier}
        if name is not None:
            request["desiredProvisionedModelName"] = name
        if model_id is not None:
            request["desiredModelId"] = model_id
        return request


class CustomModelDeployment(_Handle):
    """An on-demand deployment of a custom model (billed per token, no model units)."""

    _get = "get_custom_model_deployment"
    _delete = "delete_custom_model_deployment"
    _list = "list_custom_model_deployments"
    _id_key = "customModelDeploymentIdentifier"
    _arn_key = "customModelDeploymentArn"
    _name_key = "modelDeploymentName"
    _ready = "Active"
    _summaries_key = "modelDeploymentSummaries"

    @staticmethod
    def build_request(model_arn: str, name: str, description: str | None) -> dict[str, Any]:
        """CreateCustomModelDeployment keyword arguments."""
        if ":custom-model/" not in model_arn:
            raise ConfigurationError(f"model must be a custom model ARN, got {model_arn!r}")
        if not name or len(name) > 63:
            raise ConfigurationError(f"name must be 1 to 63 characters, got {name!r}")
        request: dict[str, Any] = {
            "modelDeploymentName": name,
            "modelArn": model_arn,
            "clientRequestToken": uuid.uuid4().hex,
        }
        if description:
            request["description"] = description
        return request

    @classmethod
    def create(
        cls,
        model: str | CustomModel,
        *,
        name: str,
        description: str | None = None,
        **client_args: Any,
    ) -> CustomModelDeployment:
        """Deploy ``model`` for on-demand inference."""
        arn = model.arn if isinstance(model, CustomModel) else model
        request = cls.build_request(arn, name, description)
        handle = cls(name, ControlPlane.from_args(client_args))
        response = handle._call("create_custom_model_deployment", **request)
        handle.identifier = str(response["customModelDeploymentArn"])
        return handle

    @classmethod
    async def acreate(
        cls,
        model: str | CustomModel,
        *,
        name: str,
        description: str | None = None,
        **client_args: Any,
    ) -> CustomModelDeployment:
        """Async :meth:`create`."""
        arn = model.arn if isinstance(model, CustomModel) else model
        request = cls.build_request(arn, name, description)
        handle = cls(name, ControlPlane.from_args(client_args))
        response = await handle._acall("create_custom_model_deployment", **request)
        handle.identifier = str(response["customModelDeploymentArn"])
        return handle


def provision(
    model: str | CustomModel,
    *,
    model_units: int,
    name: str,
    commitment: Commitment | None = None,
    ledger: Ledger | None = None,
    hourly_rate: Any = None,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **client_args: Any,
) -> ProvisionedThroughput:
    """:meth:`ProvisionedThroughput.create` then :meth:`~ProvisionedThroughput.wait` until it
    is ``InService`` (a ``Failed`` one ends its charge and raises
    :class:`~bedrock_kit.errors.ProvisioningFailedError`)."""
    handle = ProvisionedThroughput.create(
        model,
        model_units=model_units,
        name=name,
        commitment=commitment,
        ledger=ledger,
        hourly_rate=hourly_rate,
        **client_args,
    )
    handle.wait(poll_interval=poll_interval, timeout=timeout, sleep=sleep)
    return handle


async def aprovision(
    model: str | CustomModel,
    *,
    model_units: int,
    name: str,
    commitment: Commitment | None = None,
    ledger: Ledger | None = None,
    hourly_rate: Any = None,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    **client_args: Any,
) -> ProvisionedThroughput:
    """Async :func:`provision`."""
    handle = await ProvisionedThroughput.acreate(
        model,
        model_units=model_units,
        name=name,
        commitment=commitment,
        ledger=ledger,
        hourly_rate=hourly_rate,
        **client_args,
    )
    await handle.await_(poll_interval=poll_interval, timeout=timeout)
    return handle


def plane_arguments(
    chat_kwargs: Mapping[str, Any], plane_args: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Control-plane client arguments for an adapter helper: ``plane_args`` when given, else
    the client settings among a chat model's keyword arguments (``region_name``,
    ``endpoint_url``, credentials, ``max_retries``, ``timeout``)."""
    if plane_args is not None:
        return dict(plane_args)
    return {k: v for k, v in chat_kwargs.items() if k in CLIENT_ARGS}


def invocation_target(source: Any, base_model_id: str | None = None) -> tuple[str, str | None]:
    """``(model id to invoke, base model id)`` from a serving handle, status or custom model.

    A :class:`CustomModel` is invoked by its ARN only through a deployment or provisioned
    throughput; pass those when you have them.

    Raises:
        ConfigurationError: ``source`` is none of the known kinds.
    """
    if isinstance(source, _Handle):
        state = source.last
        return source.identifier, base_model_id or (state.base_model_id if state else None)
    if isinstance(source, ServingStatus):
        return source.arn, base_model_id or source.base_model_id
    if isinstance(source, CustomModel):
        return source.arn, base_model_id or source.base_model_id
    raise ConfigurationError(
        "expected a ProvisionedThroughput, CustomModelDeployment, ServingStatus or CustomModel, "
        f"got {type(source).__name__}"
    )


__all__ = [
    "Commitment",
    "CustomModelDeployment",
    "ProvisionedThroughput",
    "ServingStatus",
    "aprovision",
    "invocation_target",
    "plane_arguments",
    "provision",
]
