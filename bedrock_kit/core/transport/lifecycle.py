"""``close()`` / ``aclose()`` and context managers for every class that owns clients.

A class owns the :class:`~bedrock_kit.core.transport.clients.ClientPool` objects it holds,
directly or through the core objects it built (a runtime, a guardrail client). Objects the
user passed in (another model, a guardrail, a query engine) are the user's to close.

Closing releases connections; it does not break the object: the next call builds new
clients. Injected ``client`` / ``async_client`` objects are never closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar

from bedrock_kit.core.transport.clients import ClientPool

_MAX_DEPTH = 4
_Self = TypeVar("_Self", bound="OwnsClients")


def owned_pools(owner: object) -> list[ClientPool]:
    """The client pools ``owner`` holds: its own, and those of core objects it holds.

    Only attributes (pydantic private attributes included) are searched, and only through
    objects of ``bedrock_kit.core``, so nothing a user passed in (an adapter object, a
    framework object) is reached.
    """
    found: list[ClientPool] = []
    seen: set[int] = {id(owner)}

    def visit(value: Any, depth: int) -> None:
        if id(value) in seen or depth > _MAX_DEPTH:
            return
        seen.add(id(value))
        if isinstance(value, ClientPool):
            found.append(value)
        elif type(value).__module__.startswith("bedrock_kit.core."):
            for child in _attributes(value):
                visit(child, depth + 1)

    for child in _attributes(owner):
        visit(child, 0)
    return found


def _attributes(value: Any) -> Iterator[Any]:
    yield from (getattr(value, "__dict__", None) or {}).values()
    private = getattr(value, "__pydantic_private__", None)
    if isinstance(private, dict):
        yield from private.values()


class OwnsClients:
    """Mixin: ``close()``, ``aclose()``, ``with`` and ``async with`` over the owned clients.

    Example:
        .. code-block:: python

            with ChatBedrockKit(model="amazon.nova-micro-v1:0") as llm:
                llm.invoke("hi")

            async with ChatBedrockKit(model="amazon.nova-micro-v1:0") as llm:
                await llm.ainvoke("hi")
    """

    def close(self) -> None:
        """Close the clients this object built (the next call builds new ones).

        An async client closes on its own event loop (now if that loop is idle).
        """
        for pool in owned_pools(self):
            pool.close()

    async def aclose(self) -> None:
        """Close the clients this object built, awaiting the running loop's async client."""
        for pool in owned_pools(self):
            await pool.aclose()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
