"""Small statistics helpers: medians, percentiles, ratios, paired ratios and differences
with bootstrap intervals, and alternating run orders."""

from __future__ import annotations

import cProfile
import math
import pstats
import random
import statistics
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def median(values: Sequence[float]) -> float:
    """Median, or NaN for no values."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, reference: float) -> float:
    """``value / reference``; NaN when the reference is zero or missing."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return math.nan
    return value / reference


def rotations(items: Sequence[T], rounds: int) -> Iterator[tuple[int, list[T]]]:
    """``rounds`` orderings of ``items``, each starting one later: every contender leads once."""
    count = len(items)
    for index in range(rounds):
        start = index % count if count else 0
        yield index, list(items[start:]) + list(items[:start])


def ms(seconds: float) -> float:
    """Seconds to milliseconds, rounded for the results file."""
    return round(seconds * 1000, 4) if not math.isnan(seconds) else math.nan


def python_calls(action: Callable[[], object], repeat: int) -> float:
    """Python function calls per run of ``action``: a CPU-cost proxy that host load can't skew."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        action()
    profile.disable()
    return pstats.Stats(profile).total_calls / repeat  # type: ignore[attr-defined, no-any-return]


def paired(values: Sequence[float], reference: Sequence[float]) -> list[float]:
    """Per-repetition ratios ``values[i] / reference[i]``.

    Repetition ``i`` of every contender runs in the same rotation, minutes apart at most,
    so a ratio taken within it cancels most of the host's drift (CPU frequency, neighbours'
    load) that a ratio of two medians keeps. Pairs with a missing or zero side are left out.
    """
    pairs = zip(values, reference, strict=False)
    return [r for r in (ratio(v, ref) for v, ref in pairs) if not math.isnan(r)]


def interval(
    values: Sequence[float], confidence: float = 0.95, rounds: int = 2000
) -> tuple[float, float]:
    """A bootstrap ``confidence`` interval of the median of ``values`` (NaNs for none).

    Seeded, so one results file always gives the same interval.
    """
    if not values:
        return math.nan, math.nan
    draw = random.Random(0).choices
    medians = sorted(statistics.median(draw(values, k=len(values))) for _ in range(rounds))
    tail = (1 - confidence) / 2
    return (
        percentile(medians, 100 * tail),
        percentile(medians, 100 * (1 - tail)),
    )


def paired_summary(values: Sequence[float], reference: Sequence[float]) -> dict[str, Any]:
    """Median of the per-repetition ratios to ``reference``, its 95% interval, the count."""
    return _summary(paired(values, reference))


def differences(values: Sequence[float], reference: Sequence[float]) -> list[float]:
    """Per-repetition differences ``values[i] - reference[i]``.

    For amounts beyond a floor (time to first token beyond raw): taken within a repetition,
    like :func:`paired`, so the drift between repetitions cancels. Pairs with a missing or
    NaN side are left out.
    """
    pairs = zip(values, reference, strict=False)
    return [v - ref for v, ref in pairs if not (math.isnan(v) or math.isnan(ref))]


def difference_summary(values: Sequence[float], reference: Sequence[float]) -> dict[str, Any]:
    """Median of the per-repetition differences to ``reference``, its 95% interval, the
    count: the shape of :func:`paired_summary`, so the report reads both alike."""
    return _summary(differences(values, reference))


def _summary(found: list[float]) -> dict[str, Any]:
    low, high = interval(found)
    return {
        "median": round(median(found), 4) if found else math.nan,
        "interval": [round(low, 4), round(high, 4)] if found else [math.nan, math.nan],
        "pairs": len(found),
    }
