"""Progress of long work, shared by every feature: a tqdm bar when tqdm is installed, quiet
otherwise.

Long operations (guardrail test runs, customization waits, embeddings of many texts, batch
jobs, ingestion) take one ``progress`` argument with three values:

- ``None`` (the default): a bar when tqdm is installed and stderr is a terminal, so a script
  run by hand shows one while tests, CI logs and piped output stay quiet;
- ``True``: a bar whenever tqdm is installed (what a notebook passes); without tqdm the work
  runs quietly and one log record says how to get a bar (``pip install
  'bedrock-bridge[progress]'``);
- ``False``: never a bar.

.. code-block:: python

    from bedrock_kit.core.progress import progress_bar, track

    for item in track(items, desc="embedding", progress=progress):  # an iterable
        ...
    with progress_bar(total=3, desc="job tickets-1", progress=progress) as bar:  # by hand
        bar.update()                    # one step done
        bar.set_status("InProgress")    # text after the bar

Whether or not a bar is drawn, :class:`Progress` counts what was done (``done``, ``status``),
so callers and tests read the same figures the bar shows.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from bedrock_kit.errors import ConfigurationError

T = TypeVar("T")

INSTALL_HINT = "pip install 'bedrock-bridge[progress]'"
"""How to get progress bars (the ``progress`` extra installs tqdm)."""

_log = logging.getLogger(__name__)
_hinted: list[bool] = []  # the "install tqdm" record is logged once per process


def _tqdm() -> Any:
    with warnings.catch_warnings():
        # tqdm.auto warns in a notebook without ipywidgets, then draws a text bar: fine here.
        warnings.simplefilter("ignore")
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
    return tqdm


def check_progress(progress: object) -> bool | None:
    """Validate a ``progress`` argument (``None``, ``True`` or ``False``).

    Raises:
        ConfigurationError: For any other value.
    """
    if progress is not None and not isinstance(progress, bool):
        raise ConfigurationError(f"progress must be True, False or None, got {progress!r}")
    return progress


def wants_bar(progress: bool | None) -> bool:
    """True when ``progress`` asks for a bar and one can be drawn (see the module docs)."""
    check_progress(progress)
    if progress is False:
        return False
    if progress is None and not _on_terminal():
        return False  # decided without importing tqdm
    if _tqdm() is None:
        if progress and not _hinted:
            _hinted.append(True)
            _log.warning("no progress bar: tqdm is not installed (%s)", INSTALL_HINT)
        return False
    return True


def _on_terminal() -> bool:
    stream = sys.stderr
    return bool(stream is not None and getattr(stream, "isatty", lambda: False)())


class Progress:
    """Steps done of some long work, drawn as a tqdm bar when one was asked for.

    Args:
        total: Steps expected (None when unknown).
        desc: Label in front of the bar.
        progress: ``None`` (bar on a terminal), ``True`` (bar when tqdm is installed) or
            ``False``.
    """

    def __init__(self, total: int | None = None, desc: str = "", *, progress: bool | None = None):
        self.total = total
        """Steps expected (None when unknown)."""
        self.desc = desc
        """The label."""
        self.done = 0
        """Steps done so far."""
        self.status = ""
        """The last status text (shown after the bar)."""
        self.bar: Any = _tqdm()(total=total, desc=desc) if wants_bar(progress) else None
        """The tqdm bar, or None when quiet."""

    @property
    def enabled(self) -> bool:
        """True when a bar is drawn."""
        return self.bar is not None

    def update(self, steps: int = 1) -> None:
        """Count ``steps`` more steps done."""
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)

    def set_status(self, text: str) -> None:
        """Show ``text`` after the bar (status changes, metrics)."""
        self.status = text
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)

    # tqdm's spelling, so code written against a tqdm bar works unchanged
    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        """Same as :meth:`set_status` (tqdm's name)."""
        self.set_status(text)

    def close(self) -> None:
        """Close the bar (the counts stay readable)."""
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    total: int | None = None, desc: str = "", *, progress: bool | None = None
) -> Progress:
    """A :class:`Progress` to update by hand (callbacks, polling loops, async work)."""
    return Progress(total, desc, progress=progress)


def track(
    items: Iterable[T], *, total: int | None = None, desc: str = "", progress: bool | None = None
) -> Iterator[T]:
    """``items`` unchanged, one step counted (and drawn) per item."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, desc, progress=progress) as bar:
        for item in items:
            yield item
            bar.update()


__all__ = ["INSTALL_HINT", "Progress", "check_progress", "progress_bar", "track", "wants_bar"]
