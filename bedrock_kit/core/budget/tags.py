"""Tags on ledger charges: a tenant, a feature, a pipeline step, set per call or per chain.

``with tagged(ledger, tenant="acme", feature="search"):`` charges every call made inside the
block (any operation, any class with ``ledger=``, any budget callback) to one ledger scope
per tag as well, named ``tag:<key>=<value>``: a tag can carry limits of its own
(``limits={"tenant": {"max_cost": "0.10"}}``), and :func:`tag_reports` (or
:func:`~bedrock_kit.core.budget.summary.summarize`) gives each tag's totals. Tags follow the
ledger's scope rules: asyncio tasks inherit them, plain threads start without them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

from bedrock_kit.core.budget.ledger import BudgetReport, Ledger
from bedrock_kit.errors import ConfigurationError

__all__ = ["TAG_PREFIX", "tag_reports", "tag_scope", "tagged", "tags_of"]

TAG_PREFIX = "tag:"
"""Scope names of tags start with this."""

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
