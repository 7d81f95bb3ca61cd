"""One run of an async build per key and event loop, shared by the calls that wait for it.

The calls that start together on a fresh object (a service's first burst) all need the same
thing built first: a client, a TLS context, an inference profile's base model. Each building
its own repeats slow work (256 TLS contexts took 18 s on the default executor) or floods a
control-plane API with low quotas. With :class:`SingleFlight` the first caller starts the
build and the others await it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


def _observe(task: asyncio.Task[Any]) -> None:
    # Every waiter may have been cancelled: the task's outcome is still read, so asyncio
    # never logs "exception was never retrieved" for it.
    if not task.cancelled():
        task.exception()


class SingleFlight:
    """Shares one in-flight build per ``key`` among the callers of one event loop.

    The build runs as a task: shielded, so a caller cancelled (a deadline) does not cancel
    it for the others. A build that fails fails every caller waiting for it, and is
    forgotten, so the next call starts a new one; one that succeeds is forgotten too (the
    caller keeps the result where it belongs).
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Task[Any]] = {}

    async def run(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        """``await build()``, or the result of the same key's build already running here."""
        loop = asyncio.get_running_loop()
        slot = (loop, key)
        pending = self._pending.get(slot)
        if pending is None:
            pending = loop.create_task(_awaited(build))
            pending.add_done_callback(_observe)
            self._pending[slot] = pending
        try:
            return await asyncio.shield(pending)
        finally:
            if pending.done() and self._pending.get(slot) is pending:
                del self._pending[slot]

    def forget_closed_loops(self) -> None:
        """Drop the builds of loops that closed before they ended."""
        for slot in [s for s in self._pending if s[0].is_closed()]:
            self._pending.pop(slot, None)


async def _awaited(build: Callable[[], Awaitable[T]]) -> T:
    return await build()
