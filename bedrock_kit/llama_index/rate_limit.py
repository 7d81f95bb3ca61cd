"""bedrock-kit's :class:`~bedrock_kit.core.budget.rate_limit.RateLimiter` as LlamaIndex's
``rate_limiter``.

Given to :class:`~bedrock_kit.llama_index.BedrockKitLLM` (``rate_limiter=``), it limits each
call by model, requests *and* tokens (the reservation's worst case, corrected to billed
usage) and slows the shared rate on ThrottlingException. Given to any other LlamaIndex LLM
or embedding model, it limits what LlamaIndex asks it to (one request per call, with the
token count LlamaIndex passes, if any).

Example:
    .. code-block:: python

        from bedrock_kit.core.budget.rate_limit import RateLimiter
        from bedrock_kit.core.budget.redis_rates import RedisRates
        from bedrock_kit.llama_index import BedrockKitLLM, BedrockRateLimiter

        shared = RateLimiter(tokens_per_minute=400_000, state=RedisRates("redis://host/0"))
        llm = BedrockKitLLM(model=MODEL, rate_limiter=BedrockRateLimiter(shared))
"""

from __future__ import annotations

from typing import Any

from llama_index.core.rate_limiter import BaseRateLimiter

from bedrock_kit.core.budget.rate_limit import RateLimiter

__all__ = ["BedrockRateLimiter", "core_limiter"]


class BedrockRateLimiter(BaseRateLimiter):
    """A LlamaIndex rate limiter over a bedrock-kit :class:`RateLimiter`.

    Args:
        limiter: The limiter (in-process or Redis-shared); else one built from ``kwargs``.
        model_id: The schedule LlamaIndex's ``acquire`` counts against (``*``: the
            limiter's default quota).
        **kwargs: :class:`RateLimiter` arguments when no ``limiter`` is given.
    """

    def __init__(
        self, limiter: RateLimiter | None = None, *, model_id: str = "*", **kwargs: Any
    ) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter(**kwargs)
        self.model_id = model_id

    def acquire(self, num_tokens: int = 0) -> None:
        """Wait for one request of ``num_tokens`` (LlamaIndex calls this before each call)."""
        self.limiter.acquire(self.model_id, max(int(num_tokens), 0))

    async def async_acquire(self, num_tokens: int = 0) -> None:
        """Async :meth:`acquire`."""
        await self.limiter.aacquire(self.model_id, max(int(num_tokens), 0))


def core_limiter(value: Any) -> RateLimiter | None:
    """The bedrock-kit limiter behind a ``rate_limiter`` argument, or None for others."""
    if isinstance(value, BedrockRateLimiter):
        return value.limiter
    if isinstance(value, RateLimiter):
        return value
    return None
