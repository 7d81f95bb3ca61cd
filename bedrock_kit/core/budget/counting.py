"""Input tokens for a reservation: Bedrock's CountTokens where it works, else the estimate.

:class:`InputCounter` decides, per request, how the input side of a reservation is known:

1. ``count_tokens=False`` on the ledger, no runtime, an InvokeModel request, or a model
   without CountTokens (:func:`~bedrock_kit.core.chat.models.supports_count_tokens`): the
   documented estimate (:mod:`bedrock_kit.core.chat.token_estimate`).
2. A request identical to one counted before: the cached count (a bounded LRU keyed by a
   SHA-256 of the CountTokens request, bytes included; no prompt text is kept). Concurrent
   identical requests (threads, or tasks of one event loop) wait for the one count in flight
   instead of each asking.
3. Otherwise CountTokens is called (sync or async, like the call it precedes). Bedrock says
   its count matches what the model call bills, so such a reservation is exact.

When CountTokens fails, the estimate is used instead, so a call is never refused or sent
unreserved because counting failed. A refusal that will not change (ValidationException,
AccessDenied, ResourceNotFound: the model, region or role does not allow counting) is
remembered per model and region, so that model is not asked again; a passing failure
(throttling, timeout, connection, a malformed answer) is not remembered. A count below 1 is
taken as malformed: a reservation for no input would let the call overspend.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from bedrock_kit.core.chat.models import base_model_id, supports_count_tokens
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens, estimate_request_tokens
from bedrock_kit.errors import (
    AccessDeniedError,
    BedrockKitError,
    BedrockValidationError,
    ContextWindowExceededError,
    ResourceNotFoundError,
)

__all__ = ["Counted", "InputCounter", "TokenCountingRuntime"]

Source: TypeAlias = Literal["count_tokens", "cache", "estimate", "given"]
DEFAULT_CACHE_SIZE = 1024
"""Distinct requests whose counts are kept."""
_WAIT_SECONDS = 30.0  # a thread waiting for a concurrent identical count gives up after this
# Keys CountTokens reads from a Converse request (ConverseRuntime.count_tokens sends these).
_COUNTED_KEYS = ("modelId", "messages", "system", "toolConfig", "additionalModelRequestFields")


class TokenCountingRuntime(Protocol):
    """What :class:`InputCounter` needs of a runtime (``ConverseRuntime`` has it)."""

    def count_tokens(self, request: Mapping[str, Any]) -> int: ...

    async def acount_tokens(self, request: Mapping[str, Any]) -> int: ...


@dataclass(frozen=True)
class Counted:
    """Input tokens for one reservation, and how they were found."""

    tokens: int
    """Input tokens to reserve."""
    source: Source
    """``count_tokens`` (asked now), ``cache`` (asked before), ``estimate``, or ``given`` by
    the caller."""

    @property
    def exact(self) -> bool:
        """True when Bedrock counted the tokens (the reservation cannot be exceeded)."""
        return self.source != "estimate"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$sha256": hashlib.sha256(value).hexdigest(), "$len": len(value)}
    return str(value)


def request_key(request: Mapping[str, Any]) -> str:
    """A digest identifying what CountTokens would count for ``request``."""
    counted = {k: request[k] for k in _COUNTED_KEYS if k in request}
    counted["modelId"] = base_model_id(str(request.get("modelId", "")))
    text = json.dumps(counted, sort_keys=True, default=_encode, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class InputCounter:
    """Counts the input of requests for reservations; thread- and asyncio-safe.

    Args:
        enabled: Use CountTokens where the model supports it (one extra round trip per
            distinct request; False trades exactness for latency).
        cache_size: Distinct requests whose counts are kept (least recently used dropped).
    """

    def __init__(self, *, enabled: bool = True, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.enabled = enabled
        self.cache_size = max(int(cache_size), 0)
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._refused: set[tuple[str, str | None]] = set()
        # Requests being counted right now, so concurrent identical ones wait for one answer.
        self._threads: dict[str, threading.Event] = {}
        self._tasks: dict[tuple[int, str], asyncio.Future[None]] = {}
        self._lock = threading.Lock()
        self.calls = 0
        """CountTokens calls made."""
        self.hits = 0
        """Reservations served from the cache."""
        self.failures = 0
        """CountTokens calls that failed (the estimate was used instead)."""

    # -- public

    def count(self, runtime: TokenCountingRuntime | None, request: Mapping[str, Any]) -> Counted:
        """Input tokens of ``request``, asking CountTokens on ``runtime`` when it can."""
        key = self._key(runtime, request)
        if key is None:
            return self.estimate(request)
        cached = self._cached(key)
        if cached is not None:
            return cached
        assert runtime is not None  # _key returns None without a runtime
        with self._lock:
            waiting = self._threads.get(key)
            if waiting is None:
                self._threads[key] = threading.Event()
        if waiting is not None:  # the same request is being counted: wait for that answer
            waiting.wait(_WAIT_SECONDS)
            cached = self._cached(key)
            if cached is not None:
                return cached
        try:
            tokens = runtime.count_tokens(request)
        except Exception as exc:
            return self._failed(runtime, request, exc)
        finally:
            if waiting is None:
                with self._lock:
                    self._threads.pop(key).set()
        return self._store(runtime, request, key, tokens)

    async def acount(
        self, runtime: TokenCountingRuntime | None, request: Mapping[str, Any]
    ) -> Counted:
        """Async :meth:`count` (CountTokens over the async client)."""
        key = self._key(runtime, request)
        if key is None:
            return self.estimate(request)
        cached = self._cached(key)
        if cached is not None:
            return cached
        assert runtime is not None
        loop_key = (id(asyncio.get_running_loop()), key)
        with self._lock:
            waiting = self._tasks.get(loop_key)
            if waiting is None:
                self._tasks[loop_key] = asyncio.get_running_loop().create_future()
        if waiting is not None:  # the same request is being counted in this loop: await it
            await asyncio.shield(waiting)
            cached = self._cached(key)
            if cached is not None:
                return cached
        try:
            tokens = await runtime.acount_tokens(request)
        except Exception as exc:
            return self._failed(runtime, request, exc)
        finally:
            if waiting is None:
                with self._lock:
                    self._tasks.pop(loop_key).set_result(None)
        return self._store(runtime, request, key, tokens)

    @staticmethod
    def estimate(request: Mapping[str, Any]) -> Counted:
        """The documented estimate for a Converse or InvokeModel request."""
        if "body" in request:
            return Counted(estimate_invoke_tokens(request["body"]), "estimate")
        return Counted(estimate_request_tokens(request), "estimate")

    def clear(self) -> None:
        """Forget cached counts and remembered refusals."""
        with self._lock:
            self._cache.clear()
            self._refused.clear()

    # -- internals

    def _key(self, runtime: TokenCountingRuntime | None, request: Mapping[str, Any]) -> str | None:
        model_id = str(request.get("modelId", ""))
        if (
            not self.enabled
            or runtime is None
            or "body" in request  # InvokeModel: provider bodies are estimated
            or not supports_count_tokens(model_id)
        ):
            return None
        with self._lock:
            if (base_model_id(model_id), _region(runtime)) in self._refused:
                return None
        return request_key(request)

    def _cached(self, key: str) -> Counted | None:
        with self._lock:
            tokens = self._cache.get(key)
            if tokens is None:
                return None
            self._cache.move_to_end(key)
            self.hits += 1
            return Counted(tokens, "cache")

    def _store(
        self,
        runtime: TokenCountingRuntime,
        request: Mapping[str, Any],
        key: str,
        tokens: Any,
    ) -> Counted:
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            with self._lock:
                self.calls += 1
                self.failures += 1
            return self.estimate(request)
        with self._lock:
            self.calls += 1
            if self.cache_size:
                self._cache[key] = tokens
                self._cache.move_to_end(key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return Counted(tokens, "count_tokens")

    def _failed(
        self, runtime: TokenCountingRuntime, request: Mapping[str, Any], exc: Exception
    ) -> Counted:
        final = isinstance(exc, AccessDeniedError | ResourceNotFoundError) or (
            isinstance(exc, BedrockValidationError)
            and not isinstance(exc, ContextWindowExceededError)
        )
        with self._lock:
            self.calls += 1
            self.failures += 1
            if final:
                self._refused.add(
                    (base_model_id(str(request.get("modelId", ""))), _region(runtime))
                )
        if not isinstance(exc, BedrockKitError | LookupError | TypeError | ValueError):
            raise exc  # not a failure of counting (a bug, KeyboardInterrupt...): surface it
        return self.estimate(request)


def _region(runtime: Any) -> str | None:
    pool = getattr(runtime, "pool", None)
    region = getattr(pool, "region", None)
    return region if isinstance(region, str) else None
