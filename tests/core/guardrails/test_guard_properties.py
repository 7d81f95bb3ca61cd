"""Properties of the stream guard (hypothesis): it never releases what no passed window covered.

For any text split into any chunks (plain str, or pieces tagged with slots, separators
included), any window settings and any failure point of the check sequence (an AWS error, a
malformed or unknown answer, a bare Python exception, a block), the guard:

- releases a character only after a check that contained it passed, in stream order, once,
  to the slot it came from, and never a separator;
- on a failure, raises a typed :mod:`bedrock_kit.errors` error and makes no further check;
- without a failure, releases the whole stream;
- with ``fail_open=True``, counts exactly the released characters no passed check covered.

Two oracles. Text of distinct characters makes every position identifiable, so coverage is a
set inclusion, whatever the slots. Arbitrary text (any unicode) is checked by offsets: a
window starts where the released text ends, so each release must lie inside the window that
passed last.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.guardrails.apply import INTERVENED, GuardrailResult
from bedrock_kit.core.guardrails.stream_guard import TEXT, Piece, StreamGuard
from bedrock_kit.errors import (
    BedrockKitError,
    GuardrailInterventionError,
    MalformedResponseError,
    ModelTimeoutError,
    ThrottlingError,
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = 0x4E00  # CJK ideographs: 20,000 distinct characters, one per stream position
REPLACEMENT = "[removed]"  # ASCII: never one of the stream's characters

FAILURES = (
    "throttled",
    "timeout",
    "malformed",
    "bare-exception",
    "unknown-action",
    "not-a-result",
    "blocked",
)


class CheckFailureError(RuntimeError):
    """A bare exception an injected client might raise."""


@dataclass
class Scripted:
    """A guardrail double: passes every window, except the ``fail_at``-th check."""

    fail_at: int | None
    failure: str
    passed: list[str] = field(default_factory=list)
    calls: int = 0
    before_check: Any = None

    def apply(self, text: str, *, source: str = "INPUT") -> Any:
        self.calls += 1
        if self.before_check is not None:
            self.before_check(text)
        if self.calls != self.fail_at:
            self.passed.append(text)
            return GuardrailResult(action="NONE", source=source, checked_characters=len(text))
        if self.failure == "throttled":
            raise ThrottlingError("slow down", status_code=429)
        if self.failure == "timeout":
            raise ModelTimeoutError("read timed out")
        if self.failure == "malformed":
            raise MalformedResponseError("no action", raw="<html>")
        if self.failure == "bare-exception":
            raise CheckFailureError("a bug below the guard")
        if self.failure == "unknown-action":
            return GuardrailResult(action="ALLOW", source=source)
        if self.failure == "not-a-result":
            return {"action": "NONE"}
        return GuardrailResult(action=INTERVENED, source=source, outputs=("blocked",))

    async def aapply(self, text: str, *, source: str = "INPUT") -> Any:
        await asyncio.sleep(0)
        return self.apply(text, source=source)


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    window = draw(st.one_of(st.integers(1, 120), st.sampled_from([200, 1000])))
    overlap = draw(st.integers(0, window - 1))
    first = draw(st.one_of(st.none(), st.integers(overlap + 1, window)))
    return {"window_size": window, "overlap": overlap, "first_window_size": first}


@st.composite
def tagged_streams(draw: st.DrawFn) -> tuple[list[str | Piece], dict[str, Hashable]]:
    """Chunks over distinct characters; returns them and each character's slot."""
    n = draw(st.integers(0, 1000))
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=40))) | {0, n})
    slots = draw(
        st.lists(
            st.sampled_from([TEXT, ("tool", 0, "args"), ("tool", 1, "name"), None]),
            min_size=len(cuts),
            max_size=len(cuts),
        )
    )
    chunks: list[str | Piece] = []
    slot_of: dict[str, Hashable] = {}
    for (a, b), slot in zip(itertools.pairwise(cuts), slots, strict=False):
        text = "".join(chr(BASE + i) for i in range(a, b))
        for c in text:
            slot_of[c] = slot
        # plain str is the TEXT slot; small pieces split further, empty chunks included
        step = draw(st.integers(0, 30)) or (b - a + 1)
        for i in range(0, max(b - a, 1), step):
            part = text[i : i + step]
            chunks.append(part if slot == TEXT and draw(st.booleans()) else Piece(part, slot))
    return chunks, slot_of


def _failure_point() -> st.SearchStrategy[tuple[int | None, str]]:
    return st.tuples(st.one_of(st.none(), st.integers(1, 40)), st.sampled_from(FAILURES))


def _check_release(
    released: tuple[Piece, ...], double: Scripted, slot_of: dict[str, Hashable], out: list[str]
) -> None:
    covered = {c for window in double.passed for c in window}
    for piece in released:
        assert piece.slot is not None, "a separator was released"
        if piece.text == REPLACEMENT:
            continue
        for c in piece.text:
            assert c in covered, f"released {c!r} before a passed window covered it"
            assert slot_of[c] == piece.slot, "released to the wrong slot"
        out.append(piece.text)


def _check_outcome(
    error: BaseException | None,
    double: Scripted,
    out: list[str],
    slot_of: dict[str, Hashable],
    fail_at: int | None,
) -> None:
    visible = "".join(c for c, slot in sorted(slot_of.items()) if slot is not None)
    released = "".join(out)
    assert visible.startswith(released), "released out of order or twice"
    if error is None:
        assert fail_at is None or double.calls < fail_at
        assert released == visible, "a stream without failure was not released whole"
        return
    assert isinstance(error, BedrockKitError), f"untyped {type(error).__name__}"
    assert double.calls == fail_at, "checked on after a failure"


def _guard(double: Scripted, options: dict[str, Any], failure: str) -> StreamGuard:
    on_block = "message" if failure == "blocked" and options["overlap"] % 2 else "raise"
    return StreamGuard(double, on_block=on_block, replacement=REPLACEMENT, **options)  # type: ignore[arg-type]


@PROPERTY
@given(stream=tagged_streams(), options=windows(), point=_failure_point())
def test_never_releases_an_unchecked_character(
    stream: tuple[list[str | Piece], dict[str, Hashable]],
    options: dict[str, Any],
    point: tuple[int | None, str],
) -> None:
    chunks, slot_of = stream
    fail_at, failure = point
    double = Scripted(fail_at, failure)
    guard = _guard(double, options, failure)
    out: list[str] = []
    error: BaseException | None = None
    try:
        for released in guard.guard_pieces(chunks):
            _check_release(released, double, slot_of, out)
    except Exception as exc:
        error = exc
    if error is None and guard.on_block == "message" and double.calls == fail_at:
        error = GuardrailInterventionError("replaced")  # the block was released as a message
    _check_outcome(error, double, out, slot_of, fail_at)
    assert guard.stats.unchecked_characters == 0


@FEWER
@given(stream=tagged_streams(), options=windows(), point=_failure_point())
def test_async_never_releases_an_unchecked_character(
    stream: tuple[list[str | Piece], dict[str, Hashable]],
    options: dict[str, Any],
    point: tuple[int | None, str],
) -> None:
    chunks, slot_of = stream
    fail_at, failure = point
    double = Scripted(fail_at, failure)
    guard = _guard(double, options, failure)
    out: list[str] = []

    async def consume() -> BaseException | None:
        try:
            async for released in guard.aguard_pieces(chunks):
                _check_release(released, double, slot_of, out)
        except Exception as exc:
            return exc
        return None

    error = asyncio.run(consume())
    if error is None and guard.on_block == "message" and double.calls == fail_at:
        error = GuardrailInterventionError("replaced")
    _check_outcome(error, double, out, slot_of, fail_at)


@PROPERTY
@given(
    chunks=st.lists(st.text(max_size=40), max_size=60),
    options=windows(),
    point=_failure_point(),
)
def test_any_text_is_released_inside_the_window_that_passed_last(
    chunks: list[str], options: dict[str, Any], point: tuple[int | None, str]
) -> None:
    full = "".join(chunks)
    fail_at, failure = point
    released: list[str] = []
    passed: list[tuple[int, int]] = []  # (offset, length) of each passed window

    def before_check(window: str) -> None:
        offset = sum(map(len, released))  # a window starts where the released text ends
        assert full[offset : offset + len(window)] == window
        passed.append((offset, len(window)))

    double = Scripted(fail_at, failure, before_check=before_check)
    guard = StreamGuard(double, **options)  # type: ignore[arg-type]
    error: BaseException | None = None
    try:
        for text in guard.guard(chunks):
            start = sum(map(len, released))
            if double.calls == fail_at:  # the failing check was recorded too: drop it
                raise AssertionError("released after the failed check")
            if text.strip():  # whitespace-only windows are released without a check
                offset, length = passed[-1]
                assert offset <= start and start + len(text) <= offset + length
            released.append(text)
    except BedrockKitError as exc:
        error = exc
    assert full.startswith("".join(released))
    if error is None:
        assert "".join(released) == full
    else:
        assert double.calls == fail_at


@PROPERTY
@given(stream=tagged_streams(), options=windows(), point=_failure_point())
def test_fail_open_counts_exactly_what_no_passed_check_covered(
    stream: tuple[list[str | Piece], dict[str, Hashable]],
    options: dict[str, Any],
    point: tuple[int | None, str],
) -> None:
    chunks, slot_of = stream
    fail_at, failure = point
    double = Scripted(fail_at, failure)
    guard = StreamGuard(double, fail_open=True, **options)  # type: ignore[arg-type]
    out: list[str] = []
    try:
        for released in guard.guard_pieces(chunks):
            out.extend(p.text for p in released)
    except GuardrailInterventionError:
        assert failure == "blocked"  # fail_open never releases a block
    covered = {c for window in double.passed for c in window}
    released = "".join(out)
    assert guard.stats.unchecked_characters == sum(c not in covered for c in released)
    assert guard.stats.released_characters == len(released)
    if failure != "blocked":
        assert released == "".join(c for c, s in sorted(slot_of.items()) if s is not None)
