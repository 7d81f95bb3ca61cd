"""The foundation model behind an application inference profile ARN, found once.

An application inference profile ARN (``arn:aws:bedrock:<region>:<account>:
application-inference-profile/<id>``) names no model, yet pricing, InvokeModel body codecs
and CountTokens need one. :class:`InferenceProfiles` asks the bedrock control plane
(``GetInferenceProfile``) once per ARN and records the answer with
:func:`~bedrock_kit.core.chat.models.remember_profile_base`, after which every lookup by model
id reads the profile as its model. ``base_model_id=`` on the chat models records it without
a request.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.models import (
    is_application_profile,
    profile_base,
    remember_profile_base,
)
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.single_flight import SingleFlight
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError, translate_errors

__all__ = ["InferenceProfiles", "parse_inference_profile"]

_FOUNDATION = ":foundation-model/"


def parse_inference_profile(response: Mapping[str, Any], *, profile_arn: str) -> str:
    """The foundation model id of a ``GetInferenceProfile`` response.

    A profile routes to one model (in one or several regions): every ``models[].modelArn``
    must name the same foundation model.

    Raises:
        MalformedResponseError: No ``models``, or a model ARN that is not a foundation model.
        ConfigurationError: The profile routes to several different models (pass
            ``base_model_id=``).
    """
    r = WireReader("GetInferenceProfile response", model_id=profile_arn)
    with r.guard(response):
        models = r.items(r.obj(response, "the response").get("models"), "models")
        if not models:
            raise r.malformed("models is empty", response)
        found: list[str] = []
        for i, model in enumerate(models):
            arn = r.text(r.obj(model, f"models[{i}]").get("modelArn"), f"models[{i}].modelArn")
            if _FOUNDATION not in arn:
                raise r.malformed(f"models[{i}].modelArn is not a foundation model ARN", arn)
            found.append(arn.split(_FOUNDATION, 1)[1])
    if len(set(found)) > 1:
        raise ConfigurationError(
            f"application inference profile {profile_arn!r} routes to several models "
            f"{sorted(set(found))}; pass base_model_id= to say which one prices and counts"
        )
    return found[0]


class InferenceProfiles:
    """Resolves application inference profile ARNs through ``GetInferenceProfile``.

    Each ARN is asked once per process (the answer is recorded for every model object);
    ids that are not application profile ARNs need no request and resolve to None.

    Args:
        settings: How to reach the bedrock control plane.
        client: Injected boto3 ``bedrock`` client.
        async_client: Injected aiobotocore ``bedrock`` client.
    """

    def __init__(
        self, settings: ClientSettings, *, client: Any = None, async_client: Any = None
    ) -> None:
        self.pool = ClientPool(settings, "bedrock", client=client, async_client=async_client)
        # The calls that start together (threads, or tasks of one loop) ask once: the
        # control-plane quota of GetInferenceProfile is low.
        self._lock = threading.Lock()
        self._asking = SingleFlight()

    def __getstate__(self) -> dict[str, Any]:
        return {"pool": self.pool}  # the lock and the builds in flight stay behind

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.pool = state["pool"]
        self._lock = threading.Lock()
        self._asking = SingleFlight()

    def resolve(self, model_id: str) -> str | None:
        """The foundation model behind ``model_id`` (None: not an application profile).

        Raises:
            BedrockKitError: The typed error of the request (AccessDeniedError without
                ``bedrock:GetInferenceProfile``: pass ``base_model_id=`` instead).
        """
        if not is_application_profile(model_id):
            return None
        known = profile_base(model_id)
        if known is not None:
            return known
        with self._lock:
            known = profile_base(model_id)  # found by the thread that held the lock
            if known is not None:
                return known
            with translate_errors(model_id=model_id, region=self.pool.region):
                client = self.pool.client
                response = client.get_inference_profile(inferenceProfileIdentifier=model_id)
            return self._remember(model_id, response)

    async def aresolve(self, model_id: str) -> str | None:
        """Async :meth:`resolve`."""
        if not is_application_profile(model_id):
            return None
        known = profile_base(model_id)
        if known is not None:
            return known
        return await self._asking.run(model_id, lambda: self._aask(model_id))

    async def _aask(self, model_id: str) -> str:
        with translate_errors(model_id=model_id, region=self.pool.region):
            client = await self.pool.async_client()
            response = await client.get_inference_profile(inferenceProfileIdentifier=model_id)
        return self._remember(model_id, response)

    async def aclose(self) -> None:
        """Close the async clients this object built for the running loop."""
        await self.pool.aclose()

    @staticmethod
    def _remember(model_id: str, response: Mapping[str, Any]) -> str:
        base = parse_inference_profile(response, profile_arn=model_id)
        remember_profile_base(model_id, base)
        return base
