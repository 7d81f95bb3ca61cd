"""Progress bars, kept for the names callers already import: see :mod:`bedrock_kit.core.progress`.

``progress(items, enabled=...)`` and ``progress_bar(total, desc)`` are the shared helper with
``progress=enabled`` / ``progress=True``: a tqdm bar when tqdm is installed, quiet otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from bedrock_kit.core.progress import Progress, track

T = TypeVar("T")


def progress(
    items: Iterable[T], *, enabled: bool | None, total: int | None = None, desc: str = ""
) -> Iterator[T]:
    """``items`` unchanged, with a progress bar per ``enabled`` (True, False or None: auto)."""
    return track(items, total=total, desc=desc, progress=enabled)


def progress_bar(total: int, desc: str = "") -> Progress:
    """A bar updated by hand (``update()`` per finished item), drawn when tqdm is installed."""
    return Progress(total, desc, progress=True)
