"""StreamGuard window logic against an in-process guardrail double (no HTTP).

The double implements GuardrailClient's two methods with a tiny policy (block a word, mask
e-mail addresses) and logs every check, so the tests can prove ordering: each piece of text
reaches the consumer only after a check that contained it. Server-backed tests with real
boto3 clients live in test_guardrails_server.py.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bedrock_kit.core.guardrails.apply import GuardrailResult, parse_apply_guardrail_response
from bedrock_kit.core.guardrails.stream_guard import StreamGuard, StreamGuardStats
from bedrock_kit.errors import ConfigurationError, GuardrailInterventionError, ThrottlingError

EMAIL = re.compile(r"[\w.]+@[\w.]+\.com")
BLOCKED_WORD = "FORBIDDEN"


class PolicyDouble:
    """Stands in for GuardrailClient: blocks BLOCKED_WORD, masks e-mails, logs checks."""

    def __init__(self, log: list[tuple[str, str]], fail_on_call: int | None = None) -> None:
        self.log = log
        self.fail_on_call = fail_on_call
        self.calls = 0

    def apply(self, text: str, *, source: str = "INPUT") -> GuardrailResult:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ThrottlingError("Too many requests", status_code=429)
        self.log.append(("check", text))
        return parse_apply_guardrail_response(self._response(text), source=source,
                                              checked_characters=len(text))  # fmt: skip

    async def aapply(self, text: str, *, source: str = "INPUT") -> GuardrailResult:
        return self.apply(text, source=source)

    @staticmethod
    def _response(text: str) -> dict[str, Any]:
        if BLOCKED_WORD in text:
            return {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": [{"text": "[blocked]"}],
                "assessments": [{"wordPolicy": {"customWords": [
                    {"match": BLOCKED_WORD, "action": "BLOCKED"}]}}],
                "usage": {"wordPolicyUnits": math.ceil(len(text) / 1000)},
            }  # fmt: skip
        emails = EMAIL.findall(text)
        if emails:
            return {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": [{"text": EMAIL.sub("{EMAIL}", text)}],
                "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [
                    {"match": e, "type": "EMAIL", "action": "ANONYMIZED"} for e in emails]}}],
                "usage": {"sensitiveInformationPolicyFreeUnits": math.ceil(len(text) / 1000)},
            }  # fmt: skip
        units = math.ceil(len(text) / 1000)
        return {"action": "NONE", "outputs": [], "assessments": [],
                "usage": {"wordPolicyUnits": units}}  # fmt: skip


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _random_chunks(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(0, 40)  # zero-length chunks happen in real streams too
        out.append(text[i : i + n])
        i += n
    return out


def _prose(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["bedrock", "guard", "stream", "window", "token", "text", "unit", "model"]
    out = ""
    while len(out) < n:
        out += rng.choice(words) + " "
    return out[:n]


def _logged(log: list[tuple[str, str]], chunks: Iterator[str]) -> Iterator[str]:
    for text in chunks:
        log.append(("release", text))
        yield text


def _assert_every_release_was_checked_before(log: list[tuple[str, str]]) -> None:
    checked = ""
    for kind, text in log:
        if kind == "check":
            checked = text
        else:
            # released text (unmasked here) is a slice of the check that preceded it
            assert text in checked, f"released {text!r} not in the last checked window"


def test_released_text_equals_input_and_is_checked_first() -> None:
    log: list[tuple[str, str]] = []
    text = _prose(4321)
    guard = StreamGuard(PolicyDouble(log))  # type: ignore[arg-type]
    released = list(_logged(log, guard.guard(_chunks(text, 5))))
    assert "".join(released) == text
    _assert_every_release_was_checked_before(log)
    assert all(len(t) <= 1000 for kind, t in log if kind == "check")
    assert guard.stats.calls == math.ceil((4321 - 50) / 950)
    assert guard.stats.text_units == guard.stats.calls
    assert guard.stats.released_characters == 4321
    assert guard.stats.usage.word_policy_units == guard.stats.calls


@pytest.mark.parametrize("seed", range(25))
def test_random_chunkings_release_exactly_the_checked_text(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(0, 5000)
    text = _prose(n, seed)
    window = rng.choice([100, 400, 1000])
    overlap = rng.choice([0, 20, 50])
    log: list[tuple[str, str]] = []
    stats = StreamGuardStats()
    guard = StreamGuard(PolicyDouble(log), window_size=window, overlap=overlap)  # type: ignore[arg-type]
    released = "".join(_logged(log, guard.guard(_random_chunks(text, rng), stats=stats)))
    assert released == text
    _assert_every_release_was_checked_before(log)
    expected_calls = 0 if n == 0 else max(1, math.ceil((n - overlap) / (window - overlap)))
    assert stats.calls == expected_calls
    # billed units: ceil(n / 1000) for the text itself, plus what re-sent overlaps add
    if n:
        assert stats.checked_characters == n + overlap * (stats.calls - 1)
    assert stats.text_units == sum(math.ceil(len(t) / 1000) for k, t in log if k == "check")


def _blocked_stream(phrase_at: int, n: int = 3000) -> str:
    text = _prose(n, 7)
    return text[:phrase_at] + BLOCKED_WORD + text[phrase_at + len(BLOCKED_WORD) :]


@pytest.mark.parametrize("phrase_at", [10, 995, 1500, 2900])
def test_blocked_window_releases_nothing_of_itself(phrase_at: int) -> None:
    # phrase_at=995 puts the word across the first window boundary: overlap catches it
    text = _blocked_stream(phrase_at)
    log: list[tuple[str, str]] = []
    guard = StreamGuard(PolicyDouble(log))  # type: ignore[arg-type]
    seen = ""
    with pytest.raises(GuardrailInterventionError) as info:
        for piece in guard.guard(_chunks(text, 5)):
            seen += piece
            assert BLOCKED_WORD not in seen  # every prefix the consumer saw
    assert info.value.output_text == "[blocked]"
    assert BLOCKED_WORD[:3] not in seen[phrase_at - 5 :]
    assert text.startswith(seen) and len(seen) <= phrase_at


def test_blocked_window_substitutes_message_when_asked() -> None:
    text = _blocked_stream(2000)
    guard = StreamGuard(PolicyDouble([]), on_block="message", replacement="(removed)")  # type: ignore[arg-type]
    released = list(guard.guard(_chunks(text, 7)))
    assert released[-1] == "(removed)"
    assert BLOCKED_WORD not in "".join(released)
    guard = StreamGuard(PolicyDouble([]), on_block="message")  # type: ignore[arg-type]
    assert list(guard.guard([BLOCKED_WORD]))[-1] == "[blocked]"


def test_masked_text_is_released_in_place_of_the_original() -> None:
    text = _prose(2500, 3)
    # one address inside a window, one across the first window boundary (990..1008): the
    # first check sees only "bob.smith@co", the overlap brings it whole into the second
    text = text[:300] + "ann@example.com" + text[315:990] + "bob.smith@corp.com" + text[1008:]
    log: list[tuple[str, str]] = []
    guard = StreamGuard(PolicyDouble(log))  # type: ignore[arg-type]
    released = "".join(guard.guard(_chunks(text, 5)))
    assert "@" not in released
    assert released.count("{EMAIL}") == 2
    assert released == EMAIL.sub("{EMAIL}", text)
    assert guard.stats.interventions == 2
    assert "bob.smith@corp.com" in log[1][1]  # the second window held the whole address


def test_mask_inside_the_held_back_tail_releases_the_whole_window() -> None:
    text = _prose(1500, 4)
    text = text[:970] + "eve@mail.com" + text[982:]  # inside the tail, not across the edge
    guard = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    pieces = list(guard.guard(_chunks(text, 5)))
    assert "".join(pieces) == EMAIL.sub("{EMAIL}", text)
    assert pieces[0].endswith(EMAIL.sub("{EMAIL}", text[:1000])[-40:])


def test_guardrail_failure_fails_closed() -> None:
    text = _prose(3000)
    guard = StreamGuard(PolicyDouble([], fail_on_call=2))  # type: ignore[arg-type]
    seen = ""
    with pytest.raises(ThrottlingError):
        for piece in guard.guard(_chunks(text, 5)):
            seen += piece
    assert seen == text[:950]  # only the first window, minus its held-back overlap


def test_guardrail_failure_fails_open_only_when_asked() -> None:
    text = _prose(3000)
    guard = StreamGuard(PolicyDouble([], fail_on_call=2), fail_open=True)  # type: ignore[arg-type]
    assert "".join(guard.guard(_chunks(text, 5))) == text
    # [1000, 1900): the first 50 of window 2 were covered by window 1, its tail by window 3
    assert guard.stats.unchecked_characters == 900


def test_upstream_generator_is_closed_when_the_guard_stops() -> None:
    closed = []

    def upstream() -> Iterator[str]:
        try:
            yield from _chunks(_blocked_stream(100), 5)
        finally:
            closed.append(True)

    guard = StreamGuard(PolicyDouble([]), on_block="message")  # type: ignore[arg-type]
    list(guard.guard(upstream()))
    assert closed == [True]


def test_non_str_chunk_and_bad_options_are_configuration_errors() -> None:
    guard = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="str"):
        list(guard.guard([b"bytes"]))  # type: ignore[list-item]
    for kwargs in ({"window_size": 0}, {"overlap": 1000}, {"on_block": "drop"}):
        with pytest.raises(ConfigurationError):
            StreamGuard(PolicyDouble([]), **kwargs)  # type: ignore[arg-type]


async def test_async_guard_matches_sync_and_checks_first() -> None:
    text = _prose(2600, 5)
    log: list[tuple[str, str]] = []

    async def upstream() -> AsyncIterator[str]:
        for chunk in _chunks(text, 5):
            yield chunk

    guard = StreamGuard(PolicyDouble(log))  # type: ignore[arg-type]
    released = []
    async for piece in guard.aguard(upstream()):
        log.append(("release", piece))
        released.append(piece)
    assert "".join(released) == text
    _assert_every_release_was_checked_before(log)
    sync_guard = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    assert list(sync_guard.guard(_chunks(text, 5))) == released


async def test_async_blocked_window_raises_and_releases_nothing_of_it() -> None:
    text = _blocked_stream(1800)
    guard = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    seen = ""
    with pytest.raises(GuardrailInterventionError):
        async for piece in guard.aguard(_chunks(text, 5)):
            seen += piece
    assert BLOCKED_WORD not in seen and len(seen) <= 1800


@pytest.mark.parametrize(("characters", "windowed_calls"), [(8000, 9), (20000, 21)])
def test_cost_windowed_vs_per_chunk(characters: int, windowed_calls: int) -> None:
    """A ~2,000-token (8,000-char) and a 20,000-char answer streamed in 5-char chunks."""
    text = _prose(characters, 11)
    windowed = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    per_chunk = StreamGuard(PolicyDouble([]), window_size=5, overlap=0)  # type: ignore[arg-type]
    assert "".join(windowed.guard(_chunks(text, 5))) == text
    assert "".join(per_chunk.guard(_chunks(text, 5))) == text
    assert (windowed.stats.calls, windowed.stats.text_units) == (windowed_calls, windowed_calls)
    assert (per_chunk.stats.calls, per_chunk.stats.text_units) == (characters // 5,) * 2
    print(
        f"\n{characters} chars in 5-char chunks: per-chunk {per_chunk.stats.calls} calls / "
        f"{per_chunk.stats.text_units} units; windowed {windowed.stats.calls} calls / "
        f"{windowed.stats.text_units} units"
    )


def test_first_window_size_releases_sooner_for_about_one_more_call() -> None:
    text = _prose(5000, 9)
    log: list[tuple[str, str]] = []
    guard = StreamGuard(PolicyDouble(log), first_window_size=200)  # type: ignore[arg-type]
    released = list(_logged(log, guard.guard(_chunks(text, 5))))
    assert "".join(released) == text
    _assert_every_release_was_checked_before(log)
    checks = [t for kind, t in log if kind == "check"]
    assert len(checks[0]) == 200 and released[0] == text[:150]
    assert all(len(t) == 1000 for t in checks[1:-1])
    plain = StreamGuard(PolicyDouble([]))  # type: ignore[arg-type]
    list(plain.guard(_chunks(text, 5)))
    assert guard.stats.calls - plain.stats.calls <= 1
    with pytest.raises(ConfigurationError, match="first_window_size"):
        StreamGuard(PolicyDouble([]), first_window_size=40)  # type: ignore[arg-type]
