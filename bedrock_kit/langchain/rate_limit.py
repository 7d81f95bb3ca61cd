"""bedrock-kit's :class:`~bedrock_kit.core.budget.rate_limit.RateLimiter` as LangChain's
``rate_limiter``.

Given to :class:`~bedrock_kit.langchain.ChatBedrockKit` (``rate_limiter=``), it limits each
call by model, requests *and* tokens (the reservation's worst case, corrected to billed
usage) and slows the shared rate on ThrottlingException. Given to any other LangChain chat
model, it limits requests the way LangChain asks it to (one per call, before the call).

Example:
    .. code-block:: python

        from bedrock_kit.core.budget.rate_limit import RateLimiter
        from bedrock_kit.core.budget.redis_rates import RedisRates
        from bedrock_kit.langchain import BedrockRateLimiter, ChatBedrockKit

        shared = RateLimiter(tokens_per_minute=400_000, state=RedisRates("redis://host/0"))
        llm = ChatBedrockKit(model=MODEL, rate_limiter=BedrockRateLimiter(shared))
"""

from __future__ import annotations

from typing import Any

from langchain_core.rate_limiters import BaseRateLimiter

from bedrock_kit.core.budget.rate_limit import RateLimiter

__all__ = ["BedrockRateLimiter", "core_limiter"]


class BedrockRateLimiter(BaseRateLimiter):
    """A LangChain rate limiter over a bedrock-kit :class:`RateLimiter`.

    Args:
        limiter: The limiter (in-process or Redis-shared); else one built from ``kwargs``.
        model_id: The schedule LangChain's request-only ``acquire`` counts against (``*``:
            the limiter's default quota).
        **kwargs: :class:`RateLimiter` arguments when no ``limiter`` is given.
    """

    def __init__(
        self, limiter: RateLimiter | None = None, *, model_id: str = "*", **kwargs: Any
    ) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter(**kwargs)
        self.model_id = model_id

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take one request (LangChain calls this before each call of other models)."""
        return self.limiter.acquire(self.model_id, 0, blocking=blocking) is not None

    async def aacquire(self, *, blocking: bool = True) -> bool:
        """Async :meth:`acquire`."""
        return await self.limiter.aacquire(self.model_id, 0, blocking=blocking) is not None


def core_limiter(value: Any) -> RateLimiter | None:
    """The bedrock-kit limiter behind a ``rate_limiter`` argument, or None for others."""
    if isinstance(value, BedrockRateLimiter):
        return value.limiter
    if isinstance(value, RateLimiter):
        return value
    return None
