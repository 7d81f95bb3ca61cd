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

Empty text is not sent: a window of whitespace only is released unchanged without a call
and counted in :attr:`StreamGuardStats.empty_windows` (``stats.not_checked == "empty"`` when
a stream held no text at all), as every guardrail entry point treats empty text.

Fail closed: when a check fails for any reason (throttled, timed out, a malformed or
unknown answer, any exception), nothing past the last passed window is released and a typed
:mod:`bedrock_kit.errors` error is raised. ``fail_open=True`` is the only way around that; it
is explicit, logged as a warning, and every character it releases unchecked is counted in
:attr:`StreamGuardStats.unchecked_characters`. A check a budget ledger refuses
(:class:`~bedrock_kit.errors.BudgetExceededError`, before its request) is never released
unchecked, ``fail_open`` or not: the limit stops the stream there.

Besides plain text, a stream may carry :class:`Piece` objects: text tagged with the *slot*
it belongs to (a tool call's arguments, reasoning, a separator that is checked but never
released). The adapters use them to check tool calls and reasoning in the same windows as
the text and to put each released piece back where it came from.

The window logic is a sans-I/O state machine (:class:`_Run`); the sync and async loops only
feed it chunks and guardrail answers.
"""

from __future__ import annotations

import difflib
import itertools
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Generator,
    Hashable,
    Iterable,
)
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bedrock_kit.core.guardrails.apply import (
    ACTIONS,
    TEXT_UNIT_CHARACTERS,
    GuardrailResult,
    NotChecked,
    intervention_error,
    is_empty_text,
    not_checked_result,
    text_units,
)
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import (
    BedrockKitError,
    BudgetExceededError,
    ConfigurationError,
    GuardrailInterventionError,
    MalformedResponseError,
)

if TYPE_CHECKING:
    from bedrock_kit.core.guardrails.apply import GuardrailClient

ON_BLOCK = ("raise", "message")
TEXT: Hashable = "text"
"""Slot of plain str chunks, and of the replacement of a blocked window."""
_END: Any = object()
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    """A piece of a guarded stream: text and the slot it is released to.

    ``slot`` is any hashable the caller chooses (``TEXT`` for plain text); a piece whose slot
    is None is checked with its window but never released (a separator).
    """

    text: str
    """The text."""
    slot: Hashable = TEXT
    """Where released text goes; None: checked, never released."""


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
    """Characters released that no passed check covered (``fail_open=True``, or tool calls
    passed on with ``check_tool_calls=False``)."""
    interventions: int = 0
    """Windows the guardrail masked or blocked."""
    blocked: int = 0
    """Windows the guardrail blocked (each stopped its stream there)."""
    failures: int = 0
    """Checks that failed (error, malformed or unknown answer)."""
    usage: GuardrailUsage = field(default_factory=GuardrailUsage)
    """Text units Bedrock reported, per policy."""
    empty_windows: int = 0
    """Windows not sent because they held only whitespace (a stream with no text at all
    counts one): released unchanged, never billed."""

    @property
    def not_checked(self) -> NotChecked | None:
        """``"empty"`` when the streams held no text to check, so no call was made."""
        return "empty" if self.empty_windows and not self.calls else None

    def record(self, window: str, result: GuardrailResult | None) -> None:
        """Count one check of ``window`` (``result`` None when the call failed)."""
        if result is not None and result.not_checked is not None:
            self.empty_windows += 1
            return
        self.calls += 1
        self.text_units += text_units(len(window))
        self.checked_characters += len(window)
        if result is None:
            self.failures += 1
        else:
            self.usage = self.usage + result.usage
            self.interventions += int(result.intervened)


def check_failed(exc: BaseException, label: str | None = None) -> BedrockKitError:
    """The typed error for a check that raised ``exc`` (kept as ``__cause__``).

    bedrock-kit errors are returned as they are; any other exception (a bug in an injected
    client, an error botocore did not translate) becomes a :class:`BedrockKitError`, so a
    failed check never escapes untyped.
    """
    if isinstance(exc, BedrockKitError):
        return exc
    error = BedrockKitError(f"guardrail check failed: {type(exc).__name__}: {exc}", model_id=label)
    error.__cause__ = exc
    return error


def checked_result(result: Any, label: str | None = None) -> GuardrailResult:
    """``result`` when it is a GuardrailResult with a documented action, else malformed."""
    if not isinstance(result, GuardrailResult):
        raise MalformedResponseError(
            f"guardrail check returned a {type(result).__name__}, not a GuardrailResult",
            model_id=label,
        )
    if result.action not in ACTIONS:
        raise MalformedResponseError(
            f"guardrail check returned the unknown action {result.action!r}",
            model_id=label,
            request_id=result.request_id,
        )
    return result


class _Run:
    """Window state of one guarded stream (no I/O).

    ``pending`` holds text not yet released; ``runs`` the start offset and slot of each run
    of same-slot pieces in it. Its first ``carried`` characters are the held-back overlap of
    the previous window; the first ``carried_checked`` of those were covered by a passed check
    (all of them after a pass; after a failed check with ``fail_open``, only what an earlier
    passed window still covers).
    """

    def __init__(self, guard: StreamGuard, stats: list[StreamGuardStats]) -> None:
        self.guard = guard
        self.stats = stats
        self.pending = ""
        self.runs: list[tuple[int, Hashable]] = []
        self.carried = 0
        self.carried_checked = 0
        self.done = False
        self.started = False

    def feed(self, chunk: Any) -> None:
        piece = chunk if isinstance(chunk, Piece) else Piece(chunk)
        if not isinstance(piece.text, str):
            raise ConfigurationError(
                f"stream guard chunks must be str, got {type(piece.text).__name__}"
            )
        if not piece.text:
            return
        if not self.runs or self.runs[-1][1] != piece.slot:
            self.runs.append((len(self.pending), piece.slot))
        self.pending += piece.text

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

    def settle(
        self, window: str, hold: int, outcome: GuardrailResult | BedrockKitError
    ) -> tuple[Piece, ...]:
        """Apply the guardrail's answer for ``window``; returns the pieces to release.

        Raises:
            BedrockKitError: The check's error (fail closed), or GuardrailInterventionError
                when the window was blocked and ``on_block="raise"``.
        """
        self.started = True
        result = outcome if isinstance(outcome, GuardrailResult) else None
        for stats in self.stats:
            stats.record(window, result)
        tail = window[len(window) - hold :] if hold else ""
        if isinstance(outcome, GuardrailInterventionError):
            self.done = True
            raise outcome
        if isinstance(outcome, BedrockKitError):
            # A budget refusal is the caller's own stop, not a failed check: never bypassed.
            if not self.guard.fail_open or isinstance(outcome, BudgetExceededError):
                self.done = True
                raise outcome
            return self._release_unchecked(window, tail, outcome)
        if outcome.blocked:
            self.done = True
            for stats in self.stats:
                stats.blocked += 1
            if self.guard.on_block == "raise":
                raise intervention_error(outcome)
            return self._count((Piece(self.guard.replacement or outcome.output_text, TEXT),))
        out = outcome.output_text if outcome.anonymized else window
        # Hold the tail back only when masking left it intact; otherwise the masked text
        # no longer lines up with the original and the whole window is released as checked.
        if tail and len(out) >= len(tail) and out.endswith(tail):
            released = self._take(len(window) - len(tail), out[: len(out) - len(tail)])
            self.carried = self.carried_checked = len(tail)
        else:
            released = self._take(len(window), out)
            self.carried = self.carried_checked = 0
        return self._count(released)

    def _release_unchecked(
        self, window: str, tail: str, error: BedrockKitError
    ) -> tuple[Piece, ...]:
        size = len(window) - len(tail)
        covered = min(self.carried_checked, size)
        unchecked = self._visible(covered, size)
        released = self._take(size, window[:size])
        self.carried, self.carried_checked = len(tail), max(0, self.carried_checked - size)
        _log.warning(
            "guardrail check failed (%s); fail_open released %d characters unchecked",
            type(error).__name__,
            unchecked,
        )
        for stats in self.stats:
            stats.unchecked_characters += unchecked
        return self._count(released)

    def flush(self) -> tuple[Piece, ...]:
        """At the end: release the held-back tail, already checked by the last window."""
        if not self.started and not self.pending:  # a stream without any text
            for stats in self.stats:
                stats.empty_windows += 1
        if self.done or len(self.pending) != self.carried or not self.pending:
            return ()
        unchecked = self._visible(self.carried_checked, len(self.pending))
        released = self._take(len(self.pending), self.pending)
        self.carried = 0
        for stats in self.stats:
            stats.unchecked_characters += unchecked
        return self._count(released)

    def _spans(self) -> list[tuple[int, int, Hashable]]:
        ends = [start for start, _ in self.runs[1:]] + [len(self.pending)]
        return [(start, end, slot) for (start, slot), end in zip(self.runs, ends, strict=True)]

    def _visible(self, a: int, b: int) -> int:
        """Pending characters in ``[a, b)`` that belong to a released slot."""
        return sum(
            max(0, min(b, end) - max(a, start))
            for start, end, slot in self._spans()
            if slot is not None
        )

    def _take(self, size: int, out: str) -> tuple[Piece, ...]:
        """Remove the first ``size`` pending characters; ``out`` is what replaces them."""
        spans = self._spans()
        inside = [(start, slot) for start, _, slot in spans if start < size]
        bounds = [start for start, _ in inside[1:]]
        slots = [slot for _, slot in inside]
        if out == self.pending[:size]:
            cuts = bounds
        elif len(slots) == 1:
            cuts = []
        else:
            cuts = _align(self.pending[:size], out, bounds, slots)
        edges = [0, *cuts, len(out)]
        pieces = tuple(
            Piece(out[a:b], slot)
            for (a, b), slot in zip(itertools.pairwise(edges), slots, strict=True)
            if slot is not None and a < b
        )
        self.pending = self.pending[size:]
        self.runs = [(max(start, size) - size, slot) for start, end, slot in spans if end > size]
        return pieces

    def _count(self, pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
        kept = tuple(p for p in pieces if p.text)
        released = sum(len(p.text) for p in kept)
        for stats in self.stats:
            stats.released_characters += released
        return kept


def _align(original: str, out: str, bounds: list[int], slots: list[Hashable]) -> list[int]:
    """Where each run boundary of ``original`` falls in its masked version ``out``.

    A masked span that crosses a boundary goes whole to the run it starts in (to the next
    run when that one is a separator), so a mask token is never split in two.
    """
    opcodes = difflib.SequenceMatcher(None, original, out, autojunk=False).get_opcodes()
    cuts = []
    for k, bound in enumerate(bounds):
        earlier_is_separator = slots[k] is None
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal" and i1 <= bound <= i2:
                cuts.append(j1 + bound - i1)
                break
            if tag != "equal" and i1 <= bound <= i2:
                inside = i1 < bound < i2
                cuts.append(j1 if bound == i1 or (inside and earlier_is_separator) else j2)
                break
        else:  # pragma: no cover - opcodes always cover the whole of ``original``
            cuts.append(len(out))
    # monotonic, so no piece has a negative length
    for k in range(1, len(cuts)):
        cuts[k] = max(cuts[k], cuts[k - 1])
    return cuts


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
        fail_open: Release a window unchecked when its check fails (any error, a malformed
            or unknown answer), logged as a warning and counted in
            ``stats.unchecked_characters``. Default False: the error is raised and nothing
            past the last passed window is released. A block is never released either way.
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
        if not isinstance(fail_open, bool):
            raise ConfigurationError(f"fail_open must be a bool, got {fail_open!r}")
        self.client = client
        self.window_size = window_size
        self.overlap = overlap
        self.on_block = on_block
        self.replacement = replacement
        self.fail_open = fail_open
        self.first_window_size = first_window_size
        self.stats = StreamGuardStats()
        """Counters over every stream this guard checked."""

    @property
    def _label(self) -> str | None:
        found = getattr(self.client, "guardrail_identifier", None)
        return found if isinstance(found, str) else None

    def _run(self, stats: StreamGuardStats | None) -> _Run:
        return _Run(self, [self.stats] if stats is None else [self.stats, stats])

    def note_unchecked(self, characters: int, stats: StreamGuardStats | None = None) -> None:
        """Count characters an adapter passed on without a check (``check_tool_calls=False``)."""
        for counters in (self.stats, stats):
            if counters is not None:
                counters.unchecked_characters += characters
                counters.released_characters += characters

    def _check(self, window: str) -> GuardrailResult | BedrockKitError:
        if is_empty_text(window):  # nothing to check: released as it is, not sent
            return not_checked_result("OUTPUT", (0,))
        try:
            return checked_result(self.client.apply(window, source="OUTPUT"), self._label)
        except Exception as exc:  # every failure of the check is typed and fails closed
            return check_failed(exc, self._label)

    async def _acheck(self, window: str) -> GuardrailResult | BedrockKitError:
        if is_empty_text(window):
            return not_checked_result("OUTPUT", (0,))
        try:
            return checked_result(await self.client.aapply(window, source="OUTPUT"), self._label)
        except Exception as exc:
            return check_failed(exc, self._label)

    def guard(
        self, chunks: Iterable[str], *, stats: StreamGuardStats | None = None
    ) -> Generator[str, None, None]:
        """Yield the text of ``chunks``, each piece only after its window passed.

        Args:
            chunks: Text chunks (any sync iterable).
            stats: Optional counters for this stream alone.

        Raises:
            GuardrailInterventionError: When a window is blocked (``on_block="raise"``).
            BedrockKitError: When a check fails (unless ``fail_open``): the check's own
                typed error (ThrottlingError, ModelTimeoutError, MalformedResponseError...).
        """
        for released in self.guard_pieces(chunks, stats=stats):
            if text := "".join(p.text for p in released):
                yield text

    async def aguard(
        self, chunks: AsyncIterable[str] | Iterable[str], *, stats: StreamGuardStats | None = None
    ) -> AsyncGenerator[str, None]:
        """Async :meth:`guard`: accepts async or sync iterables, checks with aiobotocore."""
        async for released in self.aguard_pieces(chunks, stats=stats):
            if text := "".join(p.text for p in released):
                yield text

    def guard_pieces(
        self, chunks: Iterable[str | Piece], *, stats: StreamGuardStats | None = None
    ) -> Generator[tuple[Piece, ...], None, None]:
        """Like :meth:`guard` for str or :class:`Piece` chunks: yields what each passed
        window released, as pieces tagged with their slots (never an empty tuple)."""
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
                    if released := run.settle(*step, self._check(step[0])):
                        yield released
                if final:
                    if released := run.flush():
                        yield released
                    return
        finally:
            # Stop the upstream generator (and its model call) when the guard stops early.
            close = getattr(source, "close", None)
            if close is not None:
                close()

    async def aguard_pieces(
        self,
        chunks: AsyncIterable[str | Piece] | Iterable[str | Piece],
        *,
        stats: StreamGuardStats | None = None,
    ) -> AsyncGenerator[tuple[Piece, ...], None]:
        """Async :meth:`guard_pieces`."""
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
                    if released := run.settle(*step, await self._acheck(step[0])):
                        yield released
                if final:
                    if released := run.flush():
                        yield released
                    return
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


async def _from_sync(chunks: Iterable[Any]) -> AsyncIterator[Any]:
    for chunk in chunks:
        yield chunk


def _aiter(chunks: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(chunks, AsyncIterable):
        return aiter(chunks)
    return _from_sync(chunks)
