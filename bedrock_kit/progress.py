"""Progress bars for long batch work, shown only when asked (``tqdm``, an optional extra)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from bedrock_kit.errors import ConfigurationError

T = TypeVar("T")


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ConfigurationError(
            "progress bars need tqdm: pip install 'bedrock-bridge[progress]'"
        ) from None
    return tqdm


def progress(
    items: Iterable[T], *, enabled: bool, total: int | None = None, desc: str = ""
) -> Iterator[T]:
    """``items`` unchanged, with a progress bar when ``enabled``."""
    if not enabled:
        yield from items
        return
    with _tqdm()(items, total=total, desc=desc) as bar:
        yield from bar


def progress_bar(total: int, desc: str = "") -> Any:
    """A manual ``tqdm`` bar (``update()`` per finished item), for callbacks and async work."""
    return _tqdm()(total=total, desc=desc)
