"""Rate-limiter schedules in Redis: every process and host shares one per model.

The same algorithm as :class:`~bedrock_kit.core.budget.rate_limit.MemoryRates`, as one Lua
script per decision, on the Redis server's clock (``TIME``), so workers on hosts whose clocks
differ still share one schedule. A model's state is one hash (``requests``, ``tokens``: the
schedules' next free instants; ``fraction``, ``cut``: the adaptive cut), expiring when unused
for an hour.

Usage::

    from bedrock_kit.core.budget.rate_limit import RateLimiter
    from bedrock_kit.core.budget.redis_rates import RedisRates

    limiter = RateLimiter(tokens_per_minute=400_000, state=RedisRates("redis://host:6379/0"))
"""

from __future__ import annotations

from typing import Any

from bedrock_kit.core.budget.rate_limit import COOLDOWN_SECONDS, Quota, Tuning
from bedrock_kit.core.budget.redis_store import (
    BudgetStoreError,
    redis_client,
    url_of_client,
    without_password,
)
from bedrock_kit.errors import ConfigurationError

__all__ = ["RedisRates"]

_COMMON = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'requests', 'tokens', 'fraction', 'cut')
local requests_at = tonumber(state[1]) or now
local tokens_at = tonumber(state[2]) or now
local fraction = tonumber(state[3]) or 1
local cut = tonumber(state[4]) or -1e18
local adaptive, recover = ARGV[1] == '1', tonumber(ARGV[2])
local function effective()
  if not adaptive or fraction >= 1 then return 1 end
  return math.min(1, fraction + (now - cut) / recover)
end
"""

_RESERVE = (
    _COMMON
    + """
-- ARGV[3..]: rpm (0: none), tpm (0: none), tokens, burst seconds, longest wait to book
local rpm, tpm, tokens = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local burst, max_wait = tonumber(ARGV[6]), tonumber(ARGV[7])
local f = effective()
local start = now
if rpm > 0 then start = math.max(start, math.max(requests_at, now) - burst) end
if tpm > 0 then start = math.max(start, math.max(tokens_at, now) - burst) end
if start - now > max_wait then return {0, tostring(start - now), tostring(now)} end
if rpm > 0 then requests_at = math.max(requests_at, start) + 1 / (rpm / 60 * f) end
if tpm > 0 then tokens_at = math.max(tokens_at, start) + tokens / (tpm / 60 * f) end
redis.call('HSET', key, 'requests', tostring(requests_at), 'tokens', tostring(tokens_at))
redis.call('EXPIRE', key, 3600)
return {1, tostring(start - now), tostring(now)}
"""
)

_CORRECT = (
    _COMMON
    + """
-- ARGV[3..]: tpm, tokens to add (negative gives back)
local tpm, tokens = tonumber(ARGV[3]), tonumber(ARGV[4])
if state[2] then
  tokens_at = tokens_at + tokens / (tpm / 60 * effective())
  redis.call('HSET', key, 'tokens', tostring(tokens_at))
end
return 1
"""
)

_THROTTLED = (
    _COMMON
    + """
-- ARGV[3..]: decrease, min fraction, cooldown seconds, when the throttled call was booked
local f = effective()
if adaptive and tonumber(ARGV[6]) >= cut and now - cut >= tonumber(ARGV[5]) then
  f = math.max(tonumber(ARGV[4]), f * tonumber(ARGV[3]))
  redis.call('HSET', key, 'fraction', tostring(f), 'cut', tostring(now))
  redis.call('EXPIRE', key, 3600)
end
return tostring(f)
"""
)

_FRACTION = _COMMON + "\nreturn tostring(effective())\n"


class RedisRates:
    """Schedules in Redis, shared by every :class:`RateLimiter` on the same Redis and name.

    Args:
        url: ``redis://host:port/db``.
        name: Limiters with the same Redis and name share their schedules.
        client: A ``redis.Redis`` instead of ``url``.
        prefix: First part of every key.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        name: str = "default",
        client: Any = None,
        prefix: str = "bedrock-kit",
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigurationError("RedisRates needs exactly one of url or client")
        self.url = url if url is not None else url_of_client(client)
        self.name = name
        self.prefix = prefix
        self._client = client if client is not None else redis_client(url)  # type: ignore[arg-type]
        self._prefix = f"{prefix}:rates:{{{name}}}:"
        self._scripts = {
            name: self._client.register_script(text)
            for name, text in (
                ("reserve", _RESERVE),
                ("correct", _CORRECT),
                ("throttled", _THROTTLED),
                ("fraction", _FRACTION),
            )
        }

    def _run(self, script: str, key: str, tuning: Tuning, *args: Any) -> Any:
        head = ["1" if tuning.adaptive else "0", repr(tuning.recover_seconds)]
        try:
            return self._scripts[script](keys=[self._prefix + key], args=[*head, *args])
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):
                raise BudgetStoreError(f"rate-limit store {self!r} failed: {exc}") from exc
            raise

    def reserve(
        self, key: str, quota: Quota, tokens: int, tuning: Tuning, max_wait: float
    ) -> tuple[bool, float, float]:
        """See :meth:`~bedrock_kit.core.budget.rate_limit.RateState.reserve`."""
        booked, wait, now = self._run(
            "reserve",
            key,
            tuning,
            repr(float(quota.requests_per_minute or 0)),
            repr(float(quota.tokens_per_minute or 0)),
            int(tokens),
            repr(tuning.burst_seconds),
            repr(float(max_wait)),
        )
        return int(booked) == 1, max(float(wait), 0.0), float(now)

    def correct(self, key: str, quota: Quota, tokens: int, tuning: Tuning) -> None:
        """See :meth:`~bedrock_kit.core.budget.rate_limit.RateState.correct`."""
        if quota.tokens_per_minute and tokens:
            self._run("correct", key, tuning, repr(float(quota.tokens_per_minute)), int(tokens))

    def throttled(self, key: str, tuning: Tuning, booked_at: float) -> float:
        """See :meth:`~bedrock_kit.core.budget.rate_limit.RateState.throttled`."""
        args = (
            repr(tuning.decrease),
            repr(tuning.min_fraction),
            repr(COOLDOWN_SECONDS),
            repr(float(booked_at)),
        )
        return float(self._run("throttled", key, tuning, *args))

    def fraction(self, key: str, tuning: Tuning) -> float:
        """See :meth:`~bedrock_kit.core.budget.rate_limit.RateState.fraction`."""
        return float(self._run("fraction", key, tuning))

    def clear(self) -> int:
        """Delete every schedule of this name; returns how many."""
        keys = list(self._client.scan_iter(match=f"{self._prefix}*", count=1000))
        return int(self._client.delete(*keys)) if keys else 0

    def __getstate__(self) -> dict[str, Any]:
        # Reconnects by URL in the new process; a password never travels in a pickle.
        return {"url": without_password(self.url), "name": self.name, "prefix": self.prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], name=state["name"], prefix=state["prefix"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"RedisRates({without_password(self.url)!r}, name={self.name!r})"
