"""Settle a streamed call's reservation by what its stream did (the ledger's settle rules).

:class:`StreamMeter` holds the decisions; :func:`metered` and :func:`ametered` only feed it
deltas, so the sync and async paths cannot drift apart:

* a ``CompletedDelta`` settles to the billed usage (or to the full reservation when the
  result carries no usage);
* an exception after output started (a cut connection, a malformed event, an in-stream
  error) settles to the reserved input plus the output received, estimated from its
  characters, flagged partial; before any output it releases;
* an exception after ``messageStop`` (the output is complete, its usage is missing or
  malformed) charges the full reservation, flagged ``usage_missing``;
* a stream that ends without a result is settled by the same two rules;
* a consumer that stops early (``GeneratorExit``, ``CancelledError``) is charged the
  reserved input plus one token per piece received, once any piece arrived.

Every path settles or releases exactly once (the reservation's first settle wins).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from decimal import Decimal
from typing import Protocol

from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    StopDelta,
    StreamDelta,
    TextDelta,
    ToolCallDelta,
)
from bedrock_kit.core.chat.token_estimate import estimate_text_tokens
from bedrock_kit.core.chat.types import ConverseResult

__all__ = ["StreamMeter", "ametered", "metered"]


class Reservation(Protocol):
    """What a meter needs of a ledger reservation."""

    def settle_result(self, result: ConverseResult) -> Decimal: ...

    def settle_partial(self, output_tokens: int) -> Decimal: ...

    def settle_reserved(self) -> Decimal: ...

    def abandon(self, output_tokens: int = 0) -> Decimal: ...

    def release(self, error: BaseException | bool | None = None) -> None: ...


class StreamMeter:
    """Watches one stream's deltas and settles its reservation when the stream stops."""

    def __init__(self, reservation: Reservation) -> None:
        self.reservation = reservation
        self.pieces = 0
        """Text, tool-call and reasoning deltas received."""
        self.stopped = False
        """``messageStop`` arrived: the output is complete, only its usage may be missing."""
        self._received: list[str] = []

    @property
    def received_text(self) -> str:
        """Every character of output received: text, tool names and arguments, reasoning."""
        return "".join(self._received)

    def see(self, delta: StreamDelta) -> None:
        """Account for one delta (settles on the completed result)."""
        if isinstance(delta, TextDelta):
            self._received.append(delta.text)
        elif isinstance(delta, ToolCallDelta):
            self._received.append((delta.name or "") + delta.arguments)
        elif isinstance(delta, ReasoningDelta):
            self._received.append(delta.text)
        elif isinstance(delta, CompletedDelta):
            self.reservation.settle_result(delta.result)
            return
        else:
            self.stopped = self.stopped or isinstance(delta, StopDelta)
            return
        self.pieces += 1

    def output_estimate(self) -> int:
        """Output tokens of what was received, erring high (one per piece at least)."""
        return max(estimate_text_tokens(self.received_text), self.pieces)

    def failed(self, error: BaseException | None = None) -> None:
        """The stream raised (or ended without a result): charge by the module's rules."""
        if self.stopped:
            self.reservation.settle_reserved()
        elif self.pieces:
            self.reservation.settle_partial(self.output_estimate())
        else:
            self.reservation.release(error if error is not None else True)

    def ended(self) -> None:
        """The stream ended; without a result it is charged like a failure (no-op after one)."""
        self.failed()

    def dropped(self) -> None:
        """The consumer stopped reading (abandoned, as before the settle rules)."""
        # Once a piece arrived the request was certainly sent and billed; before that it may
        # not have been, so nothing is charged (the error is still counted).
        if self.pieces:
            self.reservation.abandon(self.pieces)
        else:
            self.reservation.release(True)


def metered(reservation: Reservation, deltas: Iterable[StreamDelta]) -> Iterator[StreamDelta]:
    """Pass ``deltas`` through, settling ``reservation`` by the module's rules."""
    meter = StreamMeter(reservation)
    try:
        for delta in deltas:
            meter.see(delta)
            yield delta
    except GeneratorExit:
        meter.dropped()
        raise
    except BaseException as exc:
        meter.failed(exc)
        raise
    meter.ended()


async def ametered(
    reservation: Reservation, deltas: AsyncIterable[StreamDelta]
) -> AsyncIterator[StreamDelta]:
    """Async :func:`metered`."""
    meter = StreamMeter(reservation)
    try:
        async for delta in deltas:
            meter.see(delta)
            yield delta
    except (GeneratorExit, asyncio.CancelledError):
        meter.dropped()
        raise
    except BaseException as exc:
        meter.failed(exc)
        raise
    meter.ended()
