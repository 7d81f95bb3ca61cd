"""Tags on ledger charges: a tenant, a feature, a pipeline step, set per call or per chain.

``with tagged(ledger, tenant="acme", feature="search"):`` charges every call made inside the
block (any operation, any class with ``ledger=``, any budget callback) to one ledger scope
per tag as well, named ``tag:<key>=<value>``: a tag can carry limits of its own
(``limits={"tenant": {"max_cost": "0.10"}}``), and :func:`tag_reports` (or
:func:`~bedrock_kit.core.budget.summary.summarize`) gives each tag's totals. Tags follow the
ledger's scope rules: asyncio tasks inherit them, plain threads start without them.

Per-call and per-instance tags (``ledger_tags=`` on every class that takes ``ledger=``, a
``bedrock_kit_tags`` metadata key in a LangChain ``RunnableConfig``, a ``ledger_tags=``
keyword on LlamaIndex calls) go through :func:`check_tags` when they are given, so a bad tag
is a :class:`~bedrock_kit.errors.ConfigurationError` before any request, and through
:func:`tags_applied` / :func:`carry_tags` when the call runs: a stream carries its tags into
every step, so a stream consumed later, or on another thread, still charges them. A
reservation keeps the scopes it was made in, so its settlement (from any thread or callback)
charges the same tags. Tags already active (an enclosing :func:`tagged` block) are not
charged twice; a per-call tag replaces a per-instance tag of the same key (:func:`merge_tags`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, TypeVar

from bedrock_kit.core.budget.ledger import BudgetReport, Ledger
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "TAG_PREFIX",
    "acarry_tags",
    "active_tags",
    "carry_tags",
    "check_tags",
    "merge_tags",
    "tag_reports",
    "tag_scope",
    "tagged",
    "tags_applied",
    "tags_of",
]

TAG_PREFIX = "tag:"
"""Scope names of tags start with this."""

T = TypeVar("T")

_lock = threading.Lock()
_known: weakref.WeakKeyDictionary[Ledger, dict[str, None]] = weakref.WeakKeyDictionary()


def tag_scope(key: str, value: object) -> str:
    """The ledger scope name of one tag (``tag:tenant=acme``).

    Raises:
        ConfigurationError: an empty key, or a key holding ``=``.
    """
    if not isinstance(key, str) or not key or "=" in key:
        raise ConfigurationError(f"a tag key must be a non-empty str without '=', got {key!r}")
    return f"{TAG_PREFIX}{key}={value}"


@contextmanager
def tagged(
    ledger: Ledger,
    tags: Mapping[str, object] | None = None,
    *,
    limits: Mapping[str, Mapping[str, Any]] | None = None,
    **more: object,
) -> Iterator[Ledger]:
    """Charge every call made inside the block to each tag too (see the module doc).

    Args:
        ledger: The ledger.
        tags: ``{key: value}`` tags (or give them as keyword arguments).
        limits: Per tag key, limits of that tag's scope (``{"tenant": {"max_cost": "1"}}``).
        **more: More tags.
    """
    given = {**(tags or {}), **more}
    unknown = set(limits or {}) - set(given)
    if unknown:
        raise ConfigurationError(f"limits for tags not given: {sorted(unknown)}")
    names = [(tag_scope(k, v), dict((limits or {}).get(k) or {})) for k, v in given.items()]
    with _lock:
        known = _known.setdefault(ledger, {})
        known.update((name, None) for name, _ in names)
    with ExitStack() as stack:
        for name, scope_limits in names:
            stack.enter_context(ledger.scope(name, **scope_limits))
        yield ledger


def tags_of(ledger: Ledger) -> list[str]:
    """Scope names of every tag used on ``ledger``, in first-use order."""
    with _lock:
        return list(_known.get(ledger, {}))


def tag_reports(ledger: Ledger) -> dict[str, BudgetReport]:
    """Each tag's report, keyed ``key=value``."""
    return {name.removeprefix(TAG_PREFIX): ledger.report(name) for name in tags_of(ledger)}


def check_tags(tags: object, *, where: str = "ledger_tags") -> dict[str, str]:
    """Validate per-call or per-instance tags; returns them as ``{key: str(value)}``.

    Args:
        tags: A mapping of non-empty str keys (no ``=``) to str, int or float values, or
            None (no tags).
        where: What the tags were given as, for the error message.

    Raises:
        ConfigurationError: ``tags`` is not a mapping, a key is not a non-empty str or holds
            ``=``, or a value is not a str, int or float.
    """
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise ConfigurationError(
            f"{where} must be a mapping of tag keys to values, got {type(tags).__name__}"
        )
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise ConfigurationError(
                f"{where}: a tag key must be a non-empty str without '=', got {key!r}"
            )
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigurationError(
                f"{where}: the value of tag {key!r} must be a str, int or float, "
                f"got {type(value).__name__}"
            )
        checked[key] = str(value)
    return checked


def merge_tags(*layers: Mapping[str, str] | None) -> dict[str, str]:
    """Merge checked tag layers; a later layer's value wins for the same key."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer or {})
    return merged


def active_tags(ledger: Ledger | None) -> dict[str, str]:
    """Tags active on ``ledger`` in this context (enclosing :func:`tagged` blocks)."""
    if ledger is None:
        return {}
    found: dict[str, str] = {}
    for name in ledger.active_scopes():
        if name.startswith(TAG_PREFIX):
            key, _, value = name.removeprefix(TAG_PREFIX).partition("=")
            found[key] = value
    return found


class _NoTags:
    """The block :func:`tags_applied` gives when there is nothing to tag (entered on every
    call: a class, not a generator)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_TAGS = _NoTags()


def tags_applied(
    ledger: Ledger | None, tags: Mapping[str, str] | None
) -> AbstractContextManager[None]:
    """:func:`tagged` for checked tags, skipping tags already active; nothing without a
    ledger or tags."""
    if ledger is None or not tags:
        return _NO_TAGS
    return _tags_applied(ledger, tags)


@contextmanager
def _tags_applied(ledger: Ledger, tags: Mapping[str, str]) -> Iterator[None]:
    active = set(ledger.active_scopes())
    fresh = {k: v for k, v in tags.items() if tag_scope(k, v) not in active}
    if not fresh:
        yield
        return
    with tagged(ledger, fresh):
        yield


def carry_tags(
    ledger: Ledger | None,
    tags: Mapping[str, str] | None,
    make: Callable[[], Iterable[T]],
    *,
    ambient: Mapping[str, str] | None = None,
) -> Generator[T, None, None]:
    """Iterate ``make()`` with ``tags`` applied to every step (and to closing it).

    The tags are active only while the stream computes a step, never while the consumer
    holds an item, so a stream consumed later, elsewhere, or on another thread charges the
    tags it was created with and leaks them to no one. ``ambient``: the :func:`active_tags`
    when the stream was created, charged as well (an enclosing block the stream outlives).
    """
    if ledger is None or not (tags or ambient):
        yield from make()
        return
    iterator: Iterator[T] | None = None
    try:
        while True:
            with tags_applied(ledger, ambient), tags_applied(ledger, tags):
                if iterator is None:
                    iterator = iter(make())
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with tags_applied(ledger, ambient), tags_applied(ledger, tags):
                close()


async def acarry_tags(
    ledger: Ledger | None,
    tags: Mapping[str, str] | None,
    make: Callable[[], AsyncIterable[T]],
    *,
    ambient: Mapping[str, str] | None = None,
) -> AsyncGenerator[T, None]:
    """Async :func:`carry_tags`."""
    if ledger is None or not (tags or ambient):
        async for item in make():
            yield item
        return
    iterator: AsyncIterator[T] | None = None
    try:
        while True:
            with tags_applied(ledger, ambient), tags_applied(ledger, tags):
                if iterator is None:
                    iterator = aiter(make())
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    return
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with tags_applied(ledger, ambient), tags_applied(ledger, tags):
                await aclose()
