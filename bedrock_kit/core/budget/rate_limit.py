"""Requests and tokens per minute per model, in one process or shared through Redis.

Bedrock's on-demand quotas are per model and per minute (requests, and input plus output
tokens). :class:`RateLimiter` spaces calls so that every worker sharing it stays under them:

* Each model has two schedules (requests, tokens) kept by the generic cell rate algorithm:
  a call of ``c`` tokens moves the token schedule ``c / rate`` seconds on and may start once
  the schedule is no more than ``burst_seconds`` ahead of now; the caller sleeps until then.
  Over any window the admitted tokens stay within ``rate * window`` plus one burst. A call
  books its turn at most ``book_ahead_seconds`` before it comes (further out, it sleeps and
  asks again), so a cut rate applies to waiting calls within that time.
* A call reserves its worst case (the ledger's input count or estimate plus ``maxTokens``)
  and is corrected to its billed usage afterwards (:meth:`Permit.settle`), so the schedule
  follows what Bedrock counts.
* Adaptive: a ``ThrottlingException`` (:meth:`Permit.throttled`) cuts the model's shared
  rate by ``decrease`` (once per second at most, however many workers saw it), and the rate
  climbs back linearly to the configured one over ``recover_seconds``. Workers sharing the
  limiter converge on the account's real quota instead of retrying in a storm.

State lives in this process (:class:`MemoryRates`, monotonic clock) or in Redis
(:class:`~bedrock_kit.core.budget.redis_rates.RedisRates`, the server's clock, one Lua script
per decision), so processes and hosts share one schedule.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.chat.stream import CompletedDelta, StreamDelta
from bedrock_kit.core.chat.types import ConverseResult
from bedrock_kit.errors import ConfigurationError, ThrottlingError

__all__ = ["MemoryRates", "Permit", "Quota", "RateLimiter", "RateState"]

COOLDOWN_SECONDS = 1.0
"""Shortest time between two cuts of one model's rate (one throttle burst, one cut)."""


@dataclass(frozen=True)
class Quota:
    """Per-minute quota of one model; None means unlimited."""

    requests_per_minute: float | None = None
    """Requests per minute."""
    tokens_per_minute: float | None = None
    """Input plus output tokens per minute."""

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ConfigurationError(f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Tuning:
    """How the schedule bursts and adapts (the same for every model of a limiter)."""

    burst_seconds: float
    adaptive: bool
    decrease: float
    recover_seconds: float
    min_fraction: float


class RateState(Protocol):
    """Where the schedules live; every method is atomic and returns seconds."""

    def reserve(
        self, key: str, quota: Quota, tokens: int, tuning: Tuning, max_wait: float
    ) -> tuple[bool, float, float]:
        """Book one request of ``tokens`` if it may start within ``max_wait`` seconds.

        Returns:
            ``(booked, wait, now)``: whether it was booked, the wait before it may start
            (booked or not), and the state clock's now.
        """
        ...

    def correct(self, key: str, quota: Quota, tokens: int, tuning: Tuning) -> None:
        """Add ``tokens`` (negative: give back) to the token schedule."""
        ...

    def throttled(self, key: str, tuning: Tuning, booked_at: float) -> float:
        """Cut the rate after a throttle of a call booked at ``booked_at`` (state clock);
        returns the rate fraction now in force.

        A call booked before the last cut was paced by the old rate: its throttle says
        nothing about the new one, so it cuts nothing (one cut per congestion event, as TCP
        does). Nor does any throttle within a second of the last cut.
        """
        ...

    def fraction(self, key: str, tuning: Tuning) -> float:
        """The fraction of the configured rate in force for ``key``."""
        ...


@dataclass
class _Cell:
    requests_at: float = 0.0
    tokens_at: float = 0.0
    fraction: float = 1.0
    cut_at: float = -math.inf


def effective_fraction(cell_fraction: float, cut_at: float, now: float, tuning: Tuning) -> float:
    """The rate fraction after linear recovery since the last cut."""
    if not tuning.adaptive or cell_fraction >= 1.0:
        return 1.0
    return min(1.0, cell_fraction + (now - cut_at) / tuning.recover_seconds)


class MemoryRates:
    """Schedules in this process, on :func:`time.monotonic` (threads and tasks share them)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cells: dict[str, _Cell] = {}

    def __getstate__(self) -> dict[str, Any]:
        # A copy in another process starts its own schedules (monotonic clocks differ).
        return {"clock": self._clock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["clock"])  # type: ignore[misc]

    def _cell(self, key: str, now: float) -> _Cell:
        found = self._cells.get(key)
        if found is None:
            found = self._cells[key] = _Cell(now, now)
        return found

    def reserve(
        self, key: str, quota: Quota, tokens: int, tuning: Tuning, max_wait: float
    ) -> tuple[bool, float, float]:
        """See :meth:`RateState.reserve`."""
        with self._lock:
            now = self._clock()
            cell = self._cell(key, now)
            fraction = effective_fraction(cell.fraction, cell.cut_at, now, tuning)
            start = now
            if quota.requests_per_minute:
                start = max(start, max(cell.requests_at, now) - tuning.burst_seconds)
            if quota.tokens_per_minute:
                start = max(start, max(cell.tokens_at, now) - tuning.burst_seconds)
            if start - now > max_wait:
                return False, start - now, now
            if quota.requests_per_minute:
                rate = quota.requests_per_minute / 60 * fraction
                cell.requests_at = max(cell.requests_at, start) + 1 / rate
            if quota.tokens_per_minute:
                rate = quota.tokens_per_minute / 60 * fraction
                cell.tokens_at = max(cell.tokens_at, start) + tokens / rate
            return True, start - now, now

    def correct(self, key: str, quota: Quota, tokens: int, tuning: Tuning) -> None:
        """See :meth:`RateState.correct`."""
        if not quota.tokens_per_minute or not tokens:
            return
        with self._lock:
            now = self._clock()
            cell = self._cell(key, now)
            fraction = effective_fraction(cell.fraction, cell.cut_at, now, tuning)
            cell.tokens_at += tokens / (quota.tokens_per_minute / 60 * fraction)

    def throttled(self, key: str, tuning: Tuning, booked_at: float) -> float:
        """See :meth:`RateState.throttled`."""
        with self._lock:
            now = self._clock()
            cell = self._cell(key, now)
            fraction = effective_fraction(cell.fraction, cell.cut_at, now, tuning)
            fresh = booked_at >= cell.cut_at and now - cell.cut_at >= COOLDOWN_SECONDS
            if tuning.adaptive and fresh:
                fraction = max(tuning.min_fraction, fraction * tuning.decrease)
                cell.fraction, cell.cut_at = fraction, now
            return fraction

    def fraction(self, key: str, tuning: Tuning) -> float:
        """See :meth:`RateState.fraction`."""
        with self._lock:
            now = self._clock()
            cell = self._cell(key, now)
            return effective_fraction(cell.fraction, cell.cut_at, now, tuning)


class Permit:
    """One admitted call: correct it to billed usage, or report a throttle."""

    def __init__(
        self, limiter: RateLimiter, key: str, tokens: int, waited: float, booked_at: float
    ) -> None:
        self.limiter = limiter
        self.key = key
        """The schedule the call was admitted on (the model id, or ``*``)."""
        self.tokens = tokens
        """Tokens reserved."""
        self.waited = waited
        """Seconds the call waited for its turn."""
        self.booked_at = booked_at
        """When it was booked, on the limiter state's clock."""
        self._settled = False

    def settle(self, billed_tokens: int) -> None:
        """Correct the token schedule to what the call billed (once)."""
        if self._settled:
            return
        self._settled = True
        self.limiter._correct(self.key, int(billed_tokens) - self.tokens)

    def settle_result(self, result: ConverseResult) -> None:
        """:meth:`settle` to a result's billed input (cache included) plus output tokens."""
        usage = result.usage
        if usage.total_input_tokens > 0:  # no usage: keep the worst case
            self.settle(usage.total_input_tokens + usage.output_tokens)

    def throttled(self) -> float:
        """Bedrock throttled the call: cut the shared rate (adaptive); the fraction now."""
        self._settled = True
        return self.limiter.state.throttled(self.key, self.limiter.tuning, self.booked_at)

    def failed(self, error: BaseException) -> None:
        """The call failed: a throttle cuts the rate; other failures keep the reservation."""
        if isinstance(error, ThrottlingError):
            self.throttled()

    def watch(self, deltas: Iterable[StreamDelta]) -> Iterator[StreamDelta]:
        """Pass stream deltas through, settling on the result or reporting a throttle."""
        try:
            for delta in deltas:
                if isinstance(delta, CompletedDelta):
                    self.settle_result(delta.result)
                yield delta
        except Exception as exc:
            self.failed(exc)
            raise

    async def awatch(self, deltas: AsyncIterable[StreamDelta]) -> AsyncIterator[StreamDelta]:
        """Async :meth:`watch`."""
        try:
            async for delta in deltas:
                if isinstance(delta, CompletedDelta):
                    self.settle_result(delta.result)
                yield delta
        except Exception as exc:
            self.failed(exc)
            raise


class RateLimiter:
    """Requests and tokens per minute, per model, for every worker that shares it.

    Args:
        requests_per_minute: Default requests per minute of any model.
        tokens_per_minute: Default input plus output tokens per minute of any model.
        models: Quotas per model id (as called, or its foundation model id), overriding the
            defaults.
        state: Where schedules live: this process (default) or
            :class:`~bedrock_kit.core.budget.redis_rates.RedisRates` (shared).
        burst_seconds: How far ahead of the rate calls may run at once.
        adaptive: Cut the shared rate on ThrottlingException and let it recover.
        decrease: Factor a throttle multiplies the rate by.
        recover_seconds: Time for a rate cut to 0 to climb back to the full rate.
        min_fraction: Lowest fraction of the configured rate a cut goes to.
        max_wait: Longest wait a blocking acquire accepts (ThrottlingError beyond it);
            None waits as long as it takes.
        book_ahead_seconds: How long before its turn a waiting call books it.

    Raises:
        ConfigurationError: A non-positive quota or tuning value.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        models: Mapping[str, Quota] | None = None,
        state: RateState | None = None,
        burst_seconds: float = 1.0,
        adaptive: bool = True,
        decrease: float = 0.7,
        recover_seconds: float = 60.0,
        min_fraction: float = 0.05,
        max_wait: float | None = 300.0,
        book_ahead_seconds: float = 1.0,
    ) -> None:
        self.default = Quota(requests_per_minute, tokens_per_minute)
        """Quota of models not in :attr:`models`."""
        self.models = dict(models or {})
        """Quota per model id."""
        checks = (
            ("burst_seconds", burst_seconds, burst_seconds >= 0),
            ("decrease", decrease, 0 < decrease <= 1),
            ("recover_seconds", recover_seconds, recover_seconds > 0),
            ("min_fraction", min_fraction, 0 < min_fraction <= 1),
            ("book_ahead_seconds", book_ahead_seconds, book_ahead_seconds > 0),
        )
        for name, value, valid in checks:
            if not valid:
                raise ConfigurationError(f"{name}={value!r} is out of range")
        if max_wait is not None and max_wait < 0:
            raise ConfigurationError(f"max_wait must be >= 0 or None, got {max_wait!r}")
        self.tuning = Tuning(
            float(burst_seconds), bool(adaptive), decrease, recover_seconds, min_fraction
        )
        self.state: RateState = state if state is not None else MemoryRates()
        self.max_wait = max_wait
        self.book_ahead = float(book_ahead_seconds)

    def quota(self, model_id: str) -> Quota:
        """The quota that applies to ``model_id``."""
        found = self.models.get(model_id)
        return (
            found if found is not None else self.models.get(base_model_id(model_id), self.default)
        )

    def _step(
        self, model_id: str, tokens: int, blocking: bool, waited: float
    ) -> tuple[Permit | None, float, bool]:
        """One decision: ``(permit, seconds to sleep, done)``; one implementation for the
        sync and async acquire."""
        if tokens < 0:
            raise ConfigurationError(f"tokens must be >= 0, got {tokens}")
        quota = self.quota(model_id)
        if quota.requests_per_minute is None and quota.tokens_per_minute is None:
            return Permit(self, model_id, tokens, 0.0, math.inf), 0.0, True
        ahead = self.book_ahead if blocking else 0.0
        booked, wait, now = self.state.reserve(model_id, quota, tokens, self.tuning, ahead)
        if booked:
            return Permit(self, model_id, tokens, waited + wait, now), wait, True
        if not blocking:
            return None, 0.0, True
        if self.max_wait is not None and waited + wait > self.max_wait:
            raise ThrottlingError(
                f"rate limiter: {model_id}'s next turn is {waited + wait:.1f} s away, past "
                f"max_wait={self.max_wait} s; not sent",
                model_id=model_id,
            )
        return None, max(wait - ahead, 0.001), False

    def acquire(
        self, model_id: str = "*", tokens: int = 0, *, blocking: bool = True
    ) -> Permit | None:
        """Wait for the turn of one call of ``tokens`` to ``model_id``.

        Returns:
            The permit, or None when ``blocking`` is False and the call would have to wait.

        Raises:
            ThrottlingError: the wait would pass ``max_wait`` (nothing is taken).
        """
        waited = 0.0
        while True:
            permit, pause, done = self._step(model_id, tokens, blocking, waited)
            if pause > 0:
                time.sleep(pause)
                waited += pause
            if done:
                return permit

    async def aacquire(
        self, model_id: str = "*", tokens: int = 0, *, blocking: bool = True
    ) -> Permit | None:
        """Async :meth:`acquire` (sleeps with asyncio)."""
        waited = 0.0
        while True:
            permit, pause, done = self._step(model_id, tokens, blocking, waited)
            if pause > 0:
                await asyncio.sleep(pause)
                waited += pause
            if done:
                return permit

    def _correct(self, key: str, tokens: int) -> None:
        if tokens:
            self.state.correct(key, self.quota(key), tokens, self.tuning)

    def fraction(self, model_id: str) -> float:
        """The fraction of the configured rate now in force for ``model_id`` (1.0 unless a
        throttle cut it)."""
        return self.state.fraction(model_id, self.tuning)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(default={self.default}, models={sorted(self.models)}, "
            f"state={type(self.state).__name__})"
        )
