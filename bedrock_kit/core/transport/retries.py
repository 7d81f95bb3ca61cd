"""botocore's retry policy, driven without a botocore client.

The handlers are botocore's own: :func:`botocore.retries.standard.register_retry_handler`
(standard mode: retryable errors, exponential backoff with jitter, max attempts, the retry
quota), :func:`botocore.retries.adaptive.register_retry_handler` (adaptive mode's client-side
rate limiter) and :func:`botocore.retryhandler.create_retry_handler` (legacy mode, from the
``_retry`` data file). They are registered on a private event emitter, and this module emits
the same events a botocore endpoint emits (``request-created``, ``before-send``,
``needs-retry``, ``after-call``), so whatever botocore decides, the lean transport decides.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HTTPStatus:
    """What botocore's retry checkers read of an HTTP response."""

    status_code: int
    """HTTP status."""
    headers: Any
    """Case-insensitive headers (``x-amz-retry-after``, ``date``)."""
    content: bytes = b""
    """Body, when read (legacy mode's CRC32 checker reads it)."""


@dataclass
class _Meta:
    service_model: Any
    config: Any
    events: Any
    region_name: str | None = None


@dataclass
class _Host:
    """The slice of a botocore client that botocore's retry registration functions use."""

    meta: _Meta
    extra: dict[str, Any] = field(default_factory=dict)


class RetryPolicy:
    """One client's retry state (quota, rate limiter), shared by its sync and async calls.

    Args:
        service_model: botocore service model.
        mode: ``standard``, ``adaptive`` or ``legacy``.
        total_max_attempts: Attempts including the first; None keeps botocore's default.
        loader: botocore data loader (legacy mode reads its ``_retry`` file).
        read_timeout: Read timeout in seconds (botocore's ``ttl`` in ``amz-sdk-request``).
    """

    def __init__(
        self,
        service_model: Any,
        mode: str,
        total_max_attempts: int | None = None,
        *,
        loader: Any = None,
        read_timeout: float = 60,
    ) -> None:
        from botocore.hooks import HierarchicalEmitter

        self.mode = mode
        self.read_timeout = read_timeout
        self.service_id = service_model.service_id.hyphenize()
        self._events = HierarchicalEmitter()
        retries: dict[str, Any] = {"mode": mode}
        if total_max_attempts is not None:
            retries["total_max_attempts"] = total_max_attempts
        host: Any = _Host(_Meta(service_model, _RetryConfig(retries), self._events))
        self._host = host
        self._limiter: Any = None
        if mode in ("standard", "adaptive"):
            from botocore.retries import adaptive, standard

            kwargs: dict[str, Any] = {"client": self._host}
            if total_max_attempts is not None:
                kwargs["max_attempts"] = total_max_attempts
            standard.register_retry_handler(**kwargs)
            if mode == "adaptive":
                self._limiter = adaptive.register_retry_handler(self._host)
        elif mode == "legacy":
            self._register_legacy(service_model, retries, loader)

    def _register_legacy(self, service_model: Any, retries: dict[str, Any], loader: Any) -> None:
        from botocore import retryhandler, translate

        if loader is None:
            from botocore.loaders import create_loader

            loader = create_loader()
        original = loader.load_data("_retry")
        if not original:
            return
        legacy = dict(retries)
        if "total_max_attempts" in legacy:  # botocore's _transform_legacy_retries
            legacy["max_attempts"] = legacy.pop("total_max_attempts") - 1
        prefix = service_model.endpoint_prefix
        config = translate.build_retry_config(
            prefix, original.get("retry", {}), original.get("definitions", {}), legacy
        )
        handler = retryhandler.create_retry_handler(config, prefix)
        self._events.register(
            f"needs-retry.{self.service_id}", handler, unique_id=f"retry-config-{self.service_id}"
        )

    # ------------------------------------------------------------------ events

    def request_created(self, operation: str, context: dict[str, Any]) -> None:
        """Before each attempt: lets botocore seed ``max`` into the retries context."""
        self._events.emit(
            f"request-created.{self.service_id}.{operation}", request=_Request(context)
        )

    def before_send(self, operation: str, context: dict[str, Any]) -> None:
        """Before each attempt (sync): adaptive mode's rate limiter may block here."""
        if self._limiter is not None:
            self._events.emit(f"before-send.{self.service_id}.{operation}", request=None)

    async def abefore_send(self) -> None:
        """Before each attempt (async): adaptive mode's limiter, without blocking the loop."""
        limiter = self._limiter
        if limiter is None or not limiter._enabled:
            return
        from botocore.exceptions import CapacityNotAvailableError

        bucket = limiter._token_bucket
        while True:
            try:
                bucket.acquire(1, block=False)
                return
            except CapacityNotAvailableError:
                await asyncio.sleep(max(0.001, 1.0 / max(bucket.max_rate, 0.5)))

    def needs_retry(
        self,
        operation_model: Any,
        attempts: int,
        context: dict[str, Any],
        response: tuple[HTTPStatus, dict[str, Any]] | None,
        exception: BaseException | None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the call is over.

        Mutates ``response``'s parsed ``ResponseMetadata`` as botocore does
        (``MaxAttemptsReached``, ``RetryQuotaReached``).
        """
        from botocore.hooks import first_non_none_response

        responses = self._events.emit(
            f"needs-retry.{self.service_id}.{operation_model.name}",
            response=response,
            endpoint=None,
            operation=operation_model,
            attempts=attempts,
            caught_exception=exception,
            request_dict={"context": context},
        )
        delay = first_non_none_response(responses)
        if delay is None or delay is False:
            return None
        if response is not None and not context.get("has_streaming_input"):
            _set_ttl(context, response[0], self.read_timeout)
        return float(delay)

    def after_call(
        self,
        operation_model: Any,
        context: dict[str, Any],
        http: HTTPStatus | None,
        parsed: dict[str, Any] | None,
    ) -> None:
        """After the last attempt: returns retry quota on success, as botocore does."""
        if http is None:
            return
        self._events.emit(
            f"after-call.{self.service_id}.{operation_model.name}",
            http_response=http,
            parsed=parsed,
            model=operation_model,
            context=context,
        )

    def sleep(self, delay: float) -> None:
        """Sleep between attempts (sync)."""
        time.sleep(delay)

    async def asleep(self, delay: float) -> None:
        """Sleep between attempts (async)."""
        await asyncio.sleep(delay)


@dataclass(frozen=True)
class _RetryConfig:
    retries: dict[str, Any]


@dataclass(frozen=True)
class _Request:
    context: dict[str, Any]


def sdk_request_header(context: dict[str, Any]) -> str:
    """The ``amz-sdk-request`` value botocore's ``add_retry_headers`` writes."""
    retries = context["retries"]
    return "; ".join(f"{key}={retries[key]}" for key in ("ttl", "attempt", "max") if key in retries)


def _set_ttl(context: dict[str, Any], http: HTTPStatus, read_timeout: float) -> None:
    # botocore's Endpoint._set_ttl: the deadline the server may assume for the retry.
    try:
        from botocore.compat import get_current_datetime
    except ImportError:  # older botocore

        def get_current_datetime(remove_tzinfo: bool = True) -> datetime.datetime:
            return datetime.datetime.utcnow()

    date_header = http.headers.get("date") if http.headers is not None else None
    if not date_header:
        return
    try:
        received = get_current_datetime()
        server = datetime.datetime.strptime(date_header, "%a, %d %b %Y %H:%M:%S %Z")
        ttl = get_current_datetime() + datetime.timedelta(seconds=read_timeout)
        ttl += server - received
        context["retries"]["ttl"] = ttl.strftime("%Y%m%dT%H%M%SZ")
    except (ValueError, TypeError):
        pass
