"""Small statistics helpers: medians, percentiles, ratios and alternating run orders."""

from __future__ import annotations

import cProfile
import math
import pstats
import statistics
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

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
