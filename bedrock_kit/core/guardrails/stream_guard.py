"""Streaming output guard: text reaches the caller only after ApplyGuardrail passed it.

A model streams a few characters at a time. Checking every chunk is leaky (a phrase split
over chunks is never seen whole) and expensive: Bedrock bills each call at least one text
unit (up to 1,000 characters) per policy, so 5-character chunks cost ~200 times more than
needed. :class:`StreamGuard` holds text back in windows of ``window_size`` characters
(default one text unit), checks each window with ApplyGuardrail (source OUTPUT), and only
then releases it, masked when the guardrail anonymized it. The last ``overlap`` characters
of each window are held back and checked again at the start of the next window, so a phrase
of up to ``overlap`` characters split across two windows is still seen whole; each call stays
within one text unit. Cost per stream: ``ceil((n - overlap) / (window_size - overlap))``
calls of one text unit each, against ``n / chunk_size`` calls for a per-chunk guard.

The price is latency: the first text is released after ``window_size`` characters were
generated and checked. ``first_window_size`` makes only the first window smaller (about one
extra call per stream) so the first text arrives sooner; a smaller ``window_size`` trades
text units for latency on every window.

The window logic is a sans-I/O state machine (:class:`_Run`); the sync and async loops only
feed it chunks and guardrail answers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Generator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bedrock_kit.core.guardrails.apply import (
    TEXT_UNIT_CHARACTERS,
    GuardrailResult,
    intervention_error,
    text_units,
)
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import BedrockKitError, ConfigurationError

if TYPE_CHECKING:
    from bedrock_kit.core.guardrails.apply import GuardrailClient

ON_BLOCK = ("raise", "message")
_END: Any = object()


@dataclass
class StreamGuardStats:
    """Live counters of what a stream guard checked, released and was billed."""

    calls: int = 0
    """ApplyGuardrail calls made."""
    text_units: int = 0
    """Text units per policy, ``ceil(characters / 1000)`` summed over calls."""
    checked_characters: int = 0
    """Characters sent to the guardrail (overlap counted each time it was sent)."""
    released_characters: int = 0
    """Characters released to the caller (after masking)."""
    unchecked_characters: int = 0
    """Characters released without a check (only with ``fail_open=True``)."""
    interventions: int = 0
    """Windows the guardrail masked or blocked."""
    usage: GuardrailUsage = field(default_factory=GuardrailUsage)
    """Text units Bedrock reported, per policy."""

    def record(self, window: str, result: GuardrailResult | None) -> None:
        """Count one check of ``window`` (``result`` None when the call failed)."""
        self.calls += 1
        self.text_units += text_units(len(window))
        self.checked_characters += len(window)
        if result is not None:
            self.usage = self.usage + result.usage
            self.interventions += int(result.intervened)


class _Run:
    """Window state of one guarded stream (no I/O).

    ``pending`` holds text not yet released; its first ``carried`` characters were already
    checked (the held-back overlap of the previous window).
    """

    def __init__(self, guard: StreamGuard, stats: list[StreamGuardStats]) -> None:
        self.guard = guard
        self.stats = stats
        self.pending = ""
        self.carried = 0
        self.done = False
        self.started = False

    def feed(self, chunk: Any) -> None:
        if not isinstance(chunk, str):
            raise ConfigurationError(f"stream guard chunks must be str, got {type(chunk).__name__}")
        self.pending += chunk

    def next_window(self, final: bool) -> tuple[str, int] | None:
        """The next window to check and how many of its last characters to hold back."""
        size = self.guard.window_size
        if not self.started and self.guard.first_window_size:
            size = self.guard.first_window_size
        if self.done:
            return None
        if len(self.pending) >= size:
            return self.pending[:size], self.guard.overlap
        if final and len(self.pending) > self.carried:
            return self.pending, 0
        return None

    def settle(self, window: str, hold: int, outcome: GuardrailResult | BedrockKitError) -> str:
        """Apply the guardrail's answer for ``window``; returns the text to release."""
        result = outcome if isinstance(outcome, GuardrailResult) else None
        self.started = True
        for stats in self.stats:
            stats.record(window, result)
        if isinstance(outcome, BedrockKitError):
            if not self.guard.fail_open:
                self.done = True
                raise outcome
            out = window
            for stats in self.stats:
                stats.unchecked_characters += len(window) - self.carried
        elif outcome.blocked:
            self.done = True
            if self.guard.on_block == "raise":
                raise intervention_error(outcome)
            return self._release(self.guard.replacement or outcome.output_text)
        else:
            out = outcome.output_text if outcome.anonymized else window
        rest = self.pending[len(window) :]
        tail = window[len(window) - hold :] if hold else ""
        # Hold the tail back only when masking left it intact; otherwise the masked text
        # no longer lines up with the original and the whole window is released as checked.
        if tail and len(out) >= len(tail) and out.endswith(tail):
            self.pending, self.carried = tail + rest, len(tail)
            return self._release(out[: len(out) - len(tail)])
        self.pending, self.carried = rest, 0
        return self._release(out)

    def flush(self) -> str:
        """At the end: release the held-back tail, already checked by the last window."""
        if self.done or len(self.pending) != self.carried:
            return ""
        out, self.pending, self.carried = self.pending, "", 0
        return self._release(out)

    def _release(self, text: str) -> str:
        for stats in self.stats:
            stats.released_characters += len(text)
        return text


class StreamGuard:
    """Guards a stream of text chunks with ApplyGuardrail (source OUTPUT), window by window.

    Args:
        client: The guardrail to apply.
        window_size: Characters per check, held-back overlap included. The default, 1,000,
            is one Bedrock text unit: each call is billed exactly one unit per policy.
        overlap: Characters at the end of each window held back and checked again with the
            next window, so phrases split over a window boundary are caught.
        on_block: ``raise`` a GuardrailInterventionError (default) or yield a ``message``
            (``replacement``, or the guardrail's own blocked message) and stop.
        replacement: Text yielded in place of a blocked window when ``on_block="message"``.
        fail_open: Release a window unchecked when the guardrail call fails. Default False:
            the error is raised and nothing of the window is released.
        first_window_size: A smaller first window, so the first text is released sooner
            (at the cost of about one more call); None uses ``window_size``.
    """

    def __init__(
        self,
        client: GuardrailClient,
        *,
        window_size: int = TEXT_UNIT_CHARACTERS,
        overlap: int = 50,
        on_block: str = "raise",
        replacement: str | None = None,
        fail_open: bool = False,
        first_window_size: int | None = None,
    ) -> None:
        if not isinstance(window_size, int) or window_size < 1:
            raise ConfigurationError(f"window_size must be an int >= 1, got {window_size!r}")
        if not isinstance(overlap, int) or not 0 <= overlap < window_size:
            raise ConfigurationError(
                f"overlap must be an int with 0 <= overlap < window_size, got {overlap!r}"
            )
        if first_window_size is not None and (
            not isinstance(first_window_size, int) or not overlap < first_window_size <= window_size
        ):
            raise ConfigurationError(
                "first_window_size must be an int with overlap < first_window_size <= "
                f"window_size, got {first_window_size!r}"
            )
        if on_block not in ON_BLOCK:
            raise ConfigurationError(f"on_block must be one of {ON_BLOCK}, got {on_block!r}")
        self.client = client
        self.window_size = window_size
        self.overlap = overlap
        self.on_block = on_block
        self.replacement = replacement
        self.fail_open = fail_open
        self.first_window_size = first_window_size
        self.stats = StreamGuardStats()
        """Counters over every stream this guard checked."""

    def _run(self, stats: StreamGuardStats | None) -> _Run:
        return _Run(self, [self.stats] if stats is None else [self.stats, stats])

    def _check(self, window: str) -> GuardrailResult | BedrockKitError:
        try:
            return self.client.apply(window, source="OUTPUT")
        except BedrockKitError as exc:
            return exc

    async def _acheck(self, window: str) -> GuardrailResult | BedrockKitError:
        try:
            return await self.client.aapply(window, source="OUTPUT")
        except BedrockKitError as exc:
            return exc

    def guard(
        self, chunks: Iterable[str], *, stats: StreamGuardStats | None = None
    ) -> Generator[str, None, None]:
        """Yield the text of ``chunks``, each piece only after its window passed.

        Args:
            chunks: Text chunks (any sync iterable).
            stats: Optional counters for this stream alone.

        Raises:
            GuardrailInterventionError: When a window is blocked (``on_block="raise"``).
            BedrockKitError: When a guardrail call fails (unless ``fail_open``).
        """
        run = self._run(stats)
        source = iter(chunks)
        try:
            final = False
            while not run.done:
                chunk = next(source, _END)
                final = chunk is _END
                if not final:
                    run.feed(chunk)
                while (step := run.next_window(final)) is not None:
                    if text := run.settle(*step, self._check(step[0])):
                        yield text
                if final:
                    if text := run.flush():
                        yield text
                    return
        finally:
            # Stop the upstream generator (and its model call) when the guard stops early.
            close = getattr(source, "close", None)
            if close is not None:
                close()

    async def aguard(
        self, chunks: AsyncIterable[str] | Iterable[str], *, stats: StreamGuardStats | None = None
    ) -> AsyncGenerator[str, None]:
        """Async :meth:`guard`: accepts async or sync iterables, checks with aiobotocore."""
        run = self._run(stats)
        source = _aiter(chunks)
        try:
            final = False
            while not run.done:
                chunk = await anext(source, _END)
                final = chunk is _END
                if not final:
                    run.feed(chunk)
                while (step := run.next_window(final)) is not None:
                    if text := run.settle(*step, await self._acheck(step[0])):
                        yield text
                if final:
                    if text := run.flush():
                        yield text
                    return
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


async def _from_sync(chunks: Iterable[str]) -> AsyncIterator[str]:
    for chunk in chunks:
        yield chunk


def _aiter(chunks: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(chunks, AsyncIterable):
        return aiter(chunks)
    return _from_sync(chunks)
